"""A small client for the admin API, used by the CLI commands."""

from __future__ import annotations

import os
from typing import Any

import httpx

from omg_common.settings import Settings


class AdminError(RuntimeError):
    pass


def admin_token(settings: Settings) -> str:
    token = os.environ.get("OMG_ADMIN_TOKEN", "")
    if token:
        return token
    path = settings.resolved_home / "admin.token"
    if path.exists():
        return path.read_text().strip()
    raise AdminError(f"no admin token: set OMG_ADMIN_TOKEN or run `omg up` (reads {path})")


def error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return f"HTTP {response.status_code}: {error.get('message', response.text[:200])}"


def call(settings: Settings, method: str, path: str, **kwargs: Any) -> Any:
    url = os.environ.get("OMG_ADMIN_URL", settings.admin_url)
    headers = {"authorization": f"Bearer {admin_token(settings)}"}
    try:
        response = httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise AdminError(f"cannot reach the admin API at {url}: {exc}") from None
    if response.status_code >= 400:
        raise AdminError(error_message(response))
    return response.json() if response.content else None
