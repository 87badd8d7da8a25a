"""A small client for the admin API, used by the CLI commands.

Where the token comes from, first match wins: `OMG_ADMIN_TOKEN`; the token `omg login` saved
in `<OMG_HOME>/cli.json`; the platform admin token `omg up` wrote to `<OMG_HOME>/admin.token`.
The URL: `OMG_ADMIN_URL`; the one saved by `omg login`; `http://<host>:<OMG_ADMIN_PORT>`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from omg_common.settings import Settings

PAGE_SIZE = 500


class AdminError(RuntimeError):
    pass


def login_path(settings: Settings) -> Path:
    return settings.resolved_home / "cli.json"


def saved_login(settings: Settings) -> dict[str, str]:
    path = login_path(settings)
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except ValueError:
        raise AdminError(f"{path} is not valid JSON; run `omg login` again") from None


def save_login(settings: Settings, url: str, token: str) -> Path:
    path = login_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    return path


def admin_url(settings: Settings) -> str:
    return (os.environ.get("OMG_ADMIN_URL") or saved_login(settings).get("url")
            or settings.admin_url).rstrip("/")


def admin_token(settings: Settings) -> str:
    token = os.environ.get("OMG_ADMIN_TOKEN") or saved_login(settings).get("token", "")
    if token:
        return token
    path = settings.resolved_home / "admin.token"
    if path.exists():
        return path.read_text().strip()
    raise AdminError(f"not logged in: run `omg login`, set OMG_ADMIN_TOKEN, or run `omg up` "
                     f"(which writes {path})")


def error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    message = error.get("message") or response.text[:200]
    return " ".join(f"HTTP {response.status_code}: {message}".split())


def request(
    url: str, token: str, method: str, path: str, **kwargs: Any
) -> Any:
    headers = {"authorization": f"Bearer {token}"}
    try:
        response = httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise AdminError(f"cannot reach the admin API at {url}: {exc}") from None
    if response.status_code >= 400:
        raise AdminError(error_message(response))
    return response.json() if response.content else None


def call(settings: Settings, method: str, path: str, **kwargs: Any) -> Any:
    return request(admin_url(settings), admin_token(settings), method, path, **kwargs)


def fetch_all(settings: Settings, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every row of a paginated list."""
    offset = 0
    while True:
        page = call(settings, "GET", path, params={**params, "limit": PAGE_SIZE,
                                                   "offset": offset})
        yield from page["data"]
        if not page["has_more"]:
            return
        offset += PAGE_SIZE
