"""Fake Google OAuth 2.0 token endpoint for service-account JWT grants (RFC 7523).

google-auth posts `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>` to
the key's `token_uri`; this checks the JWT's shape and claims (not its signature) and answers
like Google: `{"access_token", "expires_in", "token_type"}`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs

import orjson

from fake_providers.asgi import FakeRequest, Reply

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REQUIRED_CLAIMS = ("iss", "aud", "iat", "exp")
ISSUED_PREFIX = "ya29.fake-"


def _segment(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    decoded = orjson.loads(base64.urlsafe_b64decode(padded))
    if not isinstance(decoded, dict):
        raise ValueError("not a JSON object")
    return decoded


def invalid_grant(message: str) -> Reply:
    return Reply(400, {"error": "invalid_grant", "error_description": message})


def claims_problem(claims: dict[str, Any]) -> str | None:
    missing = [c for c in REQUIRED_CLAIMS if c not in claims]
    if missing:
        return f"Missing required claims: {', '.join(missing)}"
    if not claims.get("scope"):
        return "Missing scope"
    if claims["exp"] < time.time():
        return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
    return None


def token_reply(request: FakeRequest) -> Reply:
    form = {k: v[-1] for k, v in parse_qs(request.body.decode("latin-1")).items()}
    if form.get("grant_type") != JWT_BEARER:
        return Reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid"})
    parts = form.get("assertion", "").split(".")
    if len(parts) != 3:
        return invalid_grant("Invalid JWT: malformed")
    try:
        header, claims = _segment(parts[0]), _segment(parts[1])
    except ValueError:
        return invalid_grant("Invalid JWT: not base64url JSON")
    if header.get("alg") != "RS256":
        return invalid_grant("Invalid JWT: alg must be RS256")
    problem = claims_problem(claims)
    if problem:
        return invalid_grant(problem)
    token = ISSUED_PREFIX + hashlib.sha256(str(claims["iss"]).encode()).hexdigest()[:16]
    return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
