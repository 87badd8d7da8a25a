"""Fail-over through the real Envoy: a model served by several deployments (one cluster, an
endpoint per deployment), Envoy retries onto the next priority, and the upstream-level ext_proc
translates and credentials each attempt for the deployment it landed on."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import openai
import pytest

from omg_common.routing_names import model_cluster_name
from tests.integration.conftest import Gateway, running_gateway, wait_for
from tests.integration.upstreams import fake, mock, refused_url, resetting_server

pytestmark = pytest.mark.integration

USER = [{"role": "user", "content": "Say hello to the gateway"}]
ANTHROPIC = {"provider": "anthropic", "upstream_model": "anthropic-model",
             "api_key": "key-anthropic", "options": {"anthropic_version": "2023-06-01"}}


@pytest.fixture(scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """Routing does not depend on the database: one SQLite stack for this module."""
    async with running_gateway(tmp_path_factory.mktemp("omg-failover"), "sqlite", "") as gw:
        yield gw


@pytest.fixture
def upstreams() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def deploy(gw: Gateway, model: str, deployments: list[dict[str, Any]],
           **model_fields: Any) -> list[str]:
    """Create `model` and its deployments; wait until Envoy and ext_proc serve it."""
    with gw.admin() as admin:
        created = admin.post("/api/v1/models", json={"name": model, **model_fields})
        assert created.status_code == 201, created.text
        ids = []
        for index, fields in enumerate(deployments):
            body = {"name": f"{model}-{index}", "model": model, "provider": "openai",
                    "upstream_model": "mock-gpt", "api_key": f"key-{index}", **fields}
            response = admin.post("/api/v1/deployments", json=body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    cluster = model_cluster_name(model)
    wait_for(lambda: _hosts(gw, cluster) == len(ids), timeout=10)
    wait_for(lambda: _routed(gw, model), timeout=10)
    return ids


def _hosts(gw: Gateway, cluster: str) -> int:
    return sum(1 for line in gw.envoy_clusters().splitlines()
               if line.startswith(f"{cluster}::") and "::health_flags::" in line)


def _routed(gw: Gateway, model: str) -> bool:
    try:
        gw.client().models.retrieve(model)
    except openai.NotFoundError:
        return False
    return True


def chat(gw: Gateway, model: str, stream: bool) -> tuple[str, str]:
    """(reply text, request id) of one chat, streamed or not."""
    client = gw.client()
    if not stream:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=USER)
        return raw.parse().choices[0].message.content or "", raw.headers["x-request-id"]
    with client.chat.completions.with_streaming_response.create(
        model=model, messages=USER, stream=True
    ) as response:
        text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
        return text, response.headers["x-request-id"]


def usage_of(gw: Gateway, request_id: str) -> dict[str, Any]:
    [record] = wait_for(lambda: gw.usage(request_id))
    return record


def primary(url: str, **fields: Any) -> dict[str, Any]:
    return {"base_url": f"{url}/v1", "priority": 0, **fields}


@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
@pytest.mark.parametrize("failure", ["500", "429", "timeout", "refused", "reset"])
def test_primary_fails_secondary_on_another_provider_serves(
    gw: Gateway, upstreams: ExitStack, failure: str, stream: bool
) -> None:
    model = f"fo-{failure}-{'stream' if stream else 'sync'}"
    extra: dict[str, Any] = {}
    if failure in ("500", "429"):
        url = upstreams.enter_context(mock(error_status=failure))
    elif failure == "timeout":
        url = upstreams.enter_context(mock(latency_ms="3000"))
        extra["timeout_s"] = 1.0
    elif failure == "reset":
        url = upstreams.enter_context(resetting_server())
    else:
        url = refused_url()
    secondary_url = upstreams.enter_context(fake("anthropic"))
    first, second = deploy(gw, model, [
        primary(url, **extra), {"base_url": secondary_url, "priority": 1, **ANTHROPIC}])
    text, request_id = chat(gw, model, stream)
    assert text.startswith("Mock response to: Say hello")
    record = usage_of(gw, request_id)
    assert record["status"] == 200
    assert (record["deployment_id"], record["provider"]) == (second, "anthropic")
    assert record["attempts"] == 2
    assert record["model"] == model and record["total_tokens"] > 0
    assert first != second


def test_healthy_primary_serves_in_one_attempt_with_its_own_key(
    gw: Gateway, upstreams: ExitStack
) -> None:
    url = upstreams.enter_context(mock())
    secondary_url = upstreams.enter_context(fake("anthropic"))
    first, _ = deploy(gw, "fo-healthy", [
        primary(url, upstream_model="mock-gpt-mini"),
        {"base_url": secondary_url, "priority": 1, **ANTHROPIC}])
    raw = gw.client().chat.completions.with_raw_response.create(model="fo-healthy",
                                                                 messages=USER)
    assert raw.headers["x-mock-saw-authorization"] == "Bearer key-0"
    assert raw.parse().model == "mock-gpt-mini"
    assert not any(h.startswith(("x-omg-", "x-envoy-attempt")) for h in raw.headers)
    record = usage_of(gw, raw.headers["x-request-id"])
    assert (record["deployment_id"], record["attempts"]) == (first, 1)


def test_started_stream_that_breaks_is_not_retried(gw: Gateway, upstreams: ExitStack) -> None:
    url = upstreams.enter_context(mock(abort_after_chunks="2", chunk_delay_ms="20"))
    secondary_url = upstreams.enter_context(fake("anthropic"))
    first, _ = deploy(gw, "fo-broken-stream", [
        primary(url), {"base_url": secondary_url, "priority": 1, **ANTHROPIC}])
    client = gw.client()
    pieces: list[str] = []
    with client.chat.completions.with_streaming_response.create(
        model="fo-broken-stream", messages=USER, stream=True
    ) as response:
        request_id = response.headers["x-request-id"]
        with pytest.raises((httpx.HTTPError, openai.APIError)):
            for chunk in response.parse():
                pieces.extend(c.delta.content or "" for c in chunk.choices)
    assert "Mock response to: Say hello to the gateway" not in "".join(pieces)
    record = usage_of(gw, request_id)
    assert record["deployment_id"] == first
    assert record["attempts"] == 1


def test_weighted_split_within_a_priority(gw: Gateway, upstreams: ExitStack) -> None:
    heavy = upstreams.enter_context(mock())
    light = upstreams.enter_context(mock())
    deploy(gw, "fo-weighted", [primary(heavy, weight=3), primary(light, weight=1)])
    client = gw.client()
    served: Counter[str] = Counter()
    for _ in range(200):
        raw = client.chat.completions.with_raw_response.create(model="fo-weighted",
                                                               messages=USER)
        # The mock's request ids carry a per-process prefix: it tells the two apart.
        served[raw.headers["x-mock-request-id"].rsplit("-", 1)[0]] += 1
    counts = sorted(served.values())
    assert len(counts) == 2 and sum(counts) == 200
    assert 30 <= counts[0] <= 70, counts  # expected 50 of 200 for weight 1 of 4


def test_failing_deployment_is_ejected_then_skipped(gw: Gateway, upstreams: ExitStack) -> None:
    bad = upstreams.enter_context(mock(error_status="500"))
    good = upstreams.enter_context(mock())
    bad_id, good_id = deploy(gw, "fo-eject", [
        primary(bad, options={"outlier_consecutive_5xx": "3"}),
        {"base_url": f"{good}/v1", "priority": 1}])
    attempts = []
    for _ in range(6):
        _, request_id = chat(gw, "fo-eject", stream=False)
        attempts.append(usage_of(gw, request_id)["attempts"])
    assert attempts[:3] == [2, 2, 2]
    assert attempts[3:] == [1, 1, 1]  # the primary is ejected: no attempt goes to it
    port = bad.rsplit(":", 1)[1]
    host_line = re.compile(
        rf"{model_cluster_name('fo-eject')}::127\.0\.0\.1:{port}::health_flags::(\S+)")
    flags = host_line.search(gw.envoy_clusters())
    assert flags is not None and "failed_outlier_check" in flags.group(1)
    assert good_id != bad_id
    # The admin API (and `omg health`) shows Envoy's live view of both.
    with gw.admin() as admin:
        health = {d["id"]: d for d in admin.get("/api/v1/health/deployments").json()}
    assert (health[bad_id]["envoy"], health[bad_id]["status"]) == ("ejected", "unhealthy")
    assert (health[good_id]["envoy"], health[good_id]["status"]) == ("healthy", "healthy")
