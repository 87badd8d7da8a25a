"""Google service-account OAuth tokens (google-auth): cached, refreshed before they expire.

Refreshing is blocking HTTP, so it runs in a worker thread; requests read the cached token.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from typing import Any

import orjson
from google.auth.transport.requests import Request
from google.oauth2 import service_account

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
REFRESH_MARGIN_SECONDS = 300.0


def service_account_credentials(secret: str) -> service_account.Credentials:
    try:
        info: dict[str, Any] = orjson.loads(secret)
    except orjson.JSONDecodeError:
        raise ValueError("GCP credential must be a service-account JSON key") from None
    return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))


class TokenSource:
    """One per credential; `token()` returns a valid bearer token, refreshing when due."""

    def __init__(self, secret: str) -> None:
        self._credentials = service_account_credentials(secret)
        self._lock = asyncio.Lock()
        self._expires_at = 0.0

    def _due(self) -> bool:
        return not self._credentials.token or time.time() > self._expires_at

    def _refresh(self) -> None:
        self._credentials.refresh(Request())
        expiry = self._credentials.expiry
        # google-auth keeps expiry as a naive UTC datetime
        lifetime = expiry.replace(tzinfo=UTC).timestamp() - time.time() if expiry else 3600.0
        self._expires_at = time.time() + max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2)

    async def token(self) -> str:
        if self._due():
            async with self._lock:
                if self._due():
                    await asyncio.to_thread(self._refresh)
        return str(self._credentials.token)
