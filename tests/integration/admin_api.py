"""The control plane's admin API alone, in process (no sockets), on SQLite and PostgreSQL.

Fast enough to run the whole RBAC matrix: one app per backend for the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from control_plane.app import create_app
from control_plane.config_hub import ConfigHub
from control_plane.crypto import CredentialCipher
from control_plane.db import make_engine, make_sessions, upgrade_database
from control_plane.seed import seed
from control_plane.xds.ads import AdsServer
from control_plane.xds.cache import XdsCache
from tests.integration.databases import database_url


@dataclass
class AdminApi:
    client: httpx.AsyncClient
    admin_token: str
    backend: str
    hub: ConfigHub
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> token
    sessions: Any = None  # for tests that write what the API never does (usage records)

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        token = self.admin_token if token is None else token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", {}))
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        response = await self.call(method, path, token, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    async def user_with_token(self, name: str, **fields: Any) -> str:
        """Create a user (once) and return a token of theirs."""
        if name not in self.tokens:
            await self.ok("POST", "/api/v1/users", json={"name": name, **fields})
            created = await self.ok("POST", f"/api/v1/users/{name}/tokens", json={"name": "t"})
            self.tokens[name] = created["secret"]
        return self.tokens[name]


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def admin_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AdminApi]:
    backend = request.param
    home = tmp_path_factory.mktemp(f"admin-api-{backend}")
    url = database_url(request, backend, home, "omg_admin_api")
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    cipher = CredentialCipher("admin-api-test-secret")
    async with sessions() as session:
        seeded = await seed(session, home, cipher, "http://127.0.0.1:9/v1")
    hub = ConfigHub(sessions, cipher)
    await hub.refresh()
    app = create_app(sessions=sessions, hub=hub, cipher=cipher, ads=AdsServer(XdsCache()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as client:
        yield AdminApi(client, seeded.admin_token, backend, hub, sessions=sessions)
    await engine.dispose()
