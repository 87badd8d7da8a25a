"""The multi-replica proof: two Envoys and three ext_proc processes share one Redis.

A key limited to 60 requests per minute gets exactly 60 successes out of 200 requests sent at
once across both Envoys; with Redis stopped, fail-open serves (and says so in the log) and
fail-closed refuses (429, code rate_limiter_unavailable), and nothing crashes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.envoy_config import envoy_binary, render_bootstrap
from cli.gateway import ext_proc_ports, gateway_specs, prepare
from cli.stack import ChildSpec, Stack, http_ready
from omg_common.settings import Settings
from tests.conftest import free_port
from tests.integration.conftest import make_settings, wait_for
from tests.integration.redis_server import RedisServer, wait_for_fresh_window

pytestmark = pytest.mark.integration
BODY = {"model": "mock-gpt", "messages": [{"role": "user", "content": "replica"}]}
EXT_PROCS = ("ext_proc", "ext_proc_1", "ext_proc_2")


@dataclass
class Replicas:
    settings: Settings
    second: Settings  # the second Envoy's ports and node id
    stack: Stack
    redis: RedisServer
    admin_token: str
    home: Path

    @property
    def gateway_urls(self) -> list[str]:
        return [s.gateway_url for s in (self.settings, self.second)]

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.settings.admin_url, timeout=30,
                            headers={"authorization": f"Bearer {self.admin_token}"})

    def ext_proc_logs(self) -> str:
        return "".join((self.home / "logs" / f"{name}.log").read_text() for name in EXT_PROCS)


def second_envoy(settings: Settings, home: Path) -> tuple[Settings, ChildSpec]:
    """Another Envoy on its own ports and node id, on the same xDS and the same ext_procs."""
    second = settings.model_copy(update={"listen_port": free_port(),
                                         "envoy_admin_port": free_port(),
                                         "node_id": f"{settings.node_id}-2"})
    bootstrap = home / "envoy-2.yaml"
    bootstrap.write_text(render_bootstrap(second, ext_proc_ports(settings)))
    argv = [str(envoy_binary()), "-c", str(bootstrap), "--concurrency", "1",
            "--disable-hot-restart", "--log-level", "warning"]
    ready = http_ready(f"http://127.0.0.1:{second.envoy_admin_port}/ready")
    return second, ChildSpec("envoy_2", argv, ready)


@pytest.fixture(scope="module")
async def replicas(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Replicas]:
    home = tmp_path_factory.mktemp("omg-replicas")
    redis = RedisServer(home / "valkey")
    redis.start()
    settings = make_settings(home, "").model_copy(update={
        "ext_proc_workers": 3, "redis_url": redis.url, "redis_timeout_seconds": 1.0})
    seeded = await asyncio.to_thread(prepare, settings)
    second, envoy_2 = second_envoy(settings, home)
    stack = Stack([*gateway_specs(settings), envoy_2], home / "logs")
    await stack.start()
    try:
        yield Replicas(settings, second, stack, redis, seeded.admin_token, home)
    finally:
        await stack.stop()
        redis.stop()


def new_key(replicas: Replicas, **limits: int) -> str:
    with replicas.admin() as admin:
        response = admin.post("/api/v1/tenants/demo/keys", json={"name": "replica", **limits})
    assert response.status_code == 201, response.text
    secret = str(response.json()["secret"])
    for url in replicas.gateway_urls:  # /v1/models answers without counting
        wait_for(lambda u=url: httpx.get(f"{u}/models", timeout=5,
                                         headers={"authorization": f"Bearer {secret}"}).is_success,
                 timeout=5)
    return secret


async def burst(replicas: Replicas, secret: str, n: int) -> list[httpx.Response]:
    headers = {"authorization": f"Bearer {secret}"}
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as client:
        urls = replicas.gateway_urls
        sends = (client.post(f"{urls[i % 2]}/chat/completions", json=BODY) for i in range(n))
        return list(await asyncio.gather(*sends))


def ext_proc_requests(settings: Settings) -> dict[int, int]:
    """Streams each ext_proc endpoint served for one Envoy (from its admin /clusters)."""
    text = httpx.get(f"http://127.0.0.1:{settings.envoy_admin_port}/clusters", timeout=5).text
    found = re.findall(r"^ext_proc::127\.0\.0\.1:(\d+)::rq_total::(\d+)$", text, re.M)
    return {int(port): int(total) for port, total in found}


async def test_sixty_rpm_is_exactly_sixty_across_two_envoys_and_three_ext_procs(
    replicas: Replicas,
) -> None:
    secret = new_key(replicas, rpm_limit=60)
    wait_for_fresh_window(20)
    responses = await burst(replicas, secret, 200)
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 60 and statuses.count(429) == 140, sorted(set(statuses))
    remaining = sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in responses
                       if r.status_code == 200)
    assert remaining == list(range(60)), "each success saw its own place in the shared count"
    for settings in (replicas.settings, replicas.second):
        served = ext_proc_requests(settings)
        assert len(served) == 3 and all(served.values()), served


@pytest.fixture
def redis_down(replicas: Replicas) -> Iterator[None]:
    replicas.redis.stop()
    try:
        yield
    finally:
        replicas.redis.start()


async def restart_ext_procs(replicas: Replicas, failure_mode: str) -> None:
    for name in EXT_PROCS:
        child = replicas.stack.children[name]
        child.spec.env["OMG_RATE_LIMIT_FAILURE_MODE"] = failure_mode
        await replicas.stack.stop_child(name)
        await replicas.stack.start_child(name)


@pytest.fixture
async def fail_closed(replicas: Replicas) -> AsyncIterator[None]:
    await restart_ext_procs(replicas, "closed")
    try:
        yield
    finally:
        await restart_ext_procs(replicas, "open")


def post(url: str, secret: str) -> httpx.Response:
    return httpx.post(f"{url}/chat/completions", json=BODY, timeout=30,
                      headers={"authorization": f"Bearer {secret}"})


def alive(replicas: Replicas) -> bool:
    return all(c.process is not None and c.process.returncode is None
               for c in replicas.stack.children.values())


async def test_redis_down_fail_open_serves_and_logs_the_failures(
    replicas: Replicas, redis_down: None,
) -> None:
    secret = new_key(replicas, rpm_limit=1)
    responses = [post(url, secret) for url in replicas.gateway_urls * 3]
    assert [r.status_code for r in responses] == [200] * 6, "one allowed, yet all served"
    assert not [h for r in responses for h in r.headers if h.startswith("x-ratelimit-")]
    assert "rate-limit counters unavailable" in replicas.ext_proc_logs()
    assert "failing open" in replicas.ext_proc_logs()
    assert alive(replicas)


async def test_redis_down_fail_closed_refuses_limited_keys_only(
    replicas: Replicas, fail_closed: None, redis_down: None,
) -> None:
    limited = new_key(replicas, rpm_limit=100)
    unlimited = new_key(replicas)
    refused = [post(url, limited) for url in replicas.gateway_urls]
    assert [r.status_code for r in refused] == [429, 429]
    error: dict[str, Any] = refused[0].json()["error"]
    assert error["code"] == "rate_limiter_unavailable" and refused[0].headers["retry-after"]
    assert post(replicas.gateway_urls[0], unlimited).status_code == 200, "no limit, no Redis"
    assert "failing closed" in replicas.ext_proc_logs()
    assert alive(replicas)
