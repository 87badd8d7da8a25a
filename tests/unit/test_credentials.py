"""Credential schemes: which header carries which secret, and SigV4 over the final request."""

from __future__ import annotations

import json

import pytest

from ext_proc.credentials.gcp import service_account_credentials
from ext_proc.credentials.schemes import UnknownScheme, build_auth, scheme_for
from ext_proc.credentials.sigv4 import parse_aws_credentials

AWS = json.dumps({"access_key_id": "AKIDEXAMPLE", "secret_access_key": "secret",
                  "session_token": "session"})


@pytest.mark.parametrize(
    ("provider", "header"),
    [("openai", ("authorization", "Bearer k")), ("mistral", ("authorization", "Bearer k")),
     ("azure", ("api-key", "k")), ("anthropic", ("x-api-key", "k")),
     ("gemini", ("x-goog-api-key", "k"))],
)
def test_static_headers_per_provider(provider: str, header: tuple[str, str]) -> None:
    assert build_auth(provider, "k", {}, {}).static_headers() == (header,)


def test_azure_entra_token_goes_as_bearer() -> None:
    auth = build_auth("azure", "eyJ-token", {"auth": "entra"}, {})
    assert auth.static_headers() == (("authorization", "Bearer eyJ-token"),)


def test_no_secret_no_headers() -> None:
    assert build_auth("anthropic", "", {}, {}).static_headers() == ()


def test_unknown_provider_fails_loudly() -> None:
    with pytest.raises(UnknownScheme):
        scheme_for("nope")


async def test_sigv4_signs_the_final_request() -> None:
    auth = build_auth("bedrock", AWS, {"region": "eu-west-1"}, {})
    assert auth.static_headers() == ()  # nothing static: every attempt is signed
    headers = dict(await auth.headers(
        method="POST", url="https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse",
        headers={"content-type": "application/json"}, body=b'{"messages":[]}'))
    authorization = headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/bedrock/aws4_request" in authorization
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token" in authorization
    assert headers["x-amz-security-token"] == "session"
    other = dict(await auth.headers(
        method="POST", url="https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse",
        headers={"content-type": "application/json"}, body=b'{"messages":[1]}'))
    if other["x-amz-date"] == headers["x-amz-date"]:
        assert other["authorization"] != authorization, "the body is part of the signature"


@pytest.mark.parametrize("secret", ["not json", "[]", '{"access_key_id": "a"}'])
def test_bad_aws_credentials_are_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        parse_aws_credentials(secret)


def test_bad_service_account_is_refused() -> None:
    with pytest.raises(ValueError):
        service_account_credentials("not json")


def test_gcp_token_sources_are_shared_across_config_versions() -> None:
    from tests.integration.providers import service_account_json

    tokens: dict[str, object] = {}
    secret = service_account_json("http://127.0.0.1:9/token")
    first = build_auth("vertex", secret, {}, tokens)  # type: ignore[arg-type]
    second = build_auth("vertex", secret, {}, tokens)  # type: ignore[arg-type]
    assert first.tokens is second.tokens and len(tokens) == 1
