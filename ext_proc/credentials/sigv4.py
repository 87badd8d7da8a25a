"""AWS Signature Version 4 over the final request (botocore does the signing)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNED_HEADERS_OUT = ("authorization", "x-amz-date", "x-amz-security-token")


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str = ""


def parse_aws_credentials(secret: str) -> AwsCredentials:
    """The stored credential: JSON with access_key_id, secret_access_key[, session_token]."""
    try:
        data = orjson.loads(secret)
    except orjson.JSONDecodeError:
        raise ValueError("AWS credential must be JSON with access_key_id and "
                         "secret_access_key") from None
    if not isinstance(data, dict) or not data.get("access_key_id") or not data.get(
        "secret_access_key"
    ):
        raise ValueError("AWS credential needs access_key_id and secret_access_key")
    return AwsCredentials(
        str(data["access_key_id"]), str(data["secret_access_key"]),
        str(data.get("session_token") or ""),
    )


def sigv4_headers(
    creds: AwsCredentials, *, region: str, service: str, method: str, url: str,
    headers: dict[str, str], body: bytes,
) -> tuple[tuple[str, str], ...]:
    """Headers that sign exactly this method, URL, header set and body."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    token = creds.session_token or None
    SigV4Auth(Credentials(creds.access_key_id, creds.secret_access_key, token), service,
              region).add_auth(request)
    return tuple(
        (name, request.headers[name]) for name in SIGNED_HEADERS_OUT if name in request.headers
    )
