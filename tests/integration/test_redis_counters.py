"""The Redis counters (the Lua scripts) against a real valkey-server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from ext_proc.counters import CountersUnavailable, RedisCounters, redis_client
from ext_proc.ratelimit import WINDOW_MS, LimitPlan, WindowUse, plan_for
from tests.conftest import free_port
from tests.integration.redis_server import RedisServer, wait_for_fresh_window

pytestmark = pytest.mark.integration


def fresh_plan(key: tuple[int, int], tenant: tuple[int, int] = (0, 0)) -> LimitPlan:
    suffix = uuid.uuid4().hex[:8]
    plan = plan_for(f"key_{suffix}", f"ten_{suffix}", key, tenant)
    assert plan is not None
    return plan


@pytest.fixture
async def counters(redis_server: RedisServer) -> AsyncIterator[RedisCounters]:
    counters = RedisCounters(redis_client(redis_server.url, 1.0))
    yield counters
    await counters.close()


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


async def test_requests_are_admitted_up_to_the_limit(counters: RedisCounters) -> None:
    wait_for_fresh_window(5)
    plan = fresh_plan((3, 0))
    answers = [await counters.reserve(plan, 0) for _ in range(4)]
    assert [a.admitted for a in answers] == [True, True, True, False]
    assert [a.used for a in answers] == [(WindowUse(n, 0),) for n in (1, 2, 3, 3)]
    window = time.time_ns() // 1_000_000 // WINDOW_MS
    assert answers[0].window == window and 0 < answers[0].reset_ms <= WINDOW_MS


async def test_a_full_tenant_moves_no_counter(
    counters: RedisCounters, raw: redis.Redis
) -> None:
    wait_for_fresh_window(5)
    plan = fresh_plan((10, 0), (1, 0))
    assert (await counters.reserve(plan, 0)).admitted
    refused = await counters.reserve(plan, 0)
    assert not refused.admitted and refused.used == (WindowUse(1, 0), WindowUse(1, 0))
    key_counter = await raw.hgetall(plan.counters[0])
    assert key_counter["req"] == "1"
    assert 0 < await raw.pttl(plan.counters[0]) <= 2 * WINDOW_MS


async def test_tokens_reserve_then_settle_in_the_same_window_only(
    counters: RedisCounters, raw: redis.Redis
) -> None:
    wait_for_fresh_window(5)
    plan = fresh_plan((0, 100), (0, 1000))
    first = await counters.reserve(plan, 80)
    assert first.admitted and first.used == (WindowUse(1, 80), WindowUse(1, 80))
    assert not (await counters.reserve(plan, 30)).admitted  # 80 + 30 > 100
    await counters.settle(plan, first.window, -60)  # it really cost 20
    second = await counters.reserve(plan, 30)
    assert second.admitted and second.used == (WindowUse(2, 50), WindowUse(2, 50))
    await counters.settle(plan, first.window - 1, 500)  # an ended window: ignored
    assert await raw.hget(plan.counters[0], "tok") == "50"


async def test_a_counter_from_an_older_window_counts_as_empty(
    counters: RedisCounters, raw: redis.Redis
) -> None:
    plan = fresh_plan((2, 0))
    await raw.hset(plan.counters[0], mapping={"w": 1, "req": 999, "tok": 5})
    answer = await counters.reserve(plan, 0)
    assert answer.admitted and answer.used == (WindowUse(1, 0),)


async def test_concurrent_clients_get_exactly_the_limit(redis_server: RedisServer) -> None:
    wait_for_fresh_window(10)
    plan = fresh_plan((60, 0), (1000, 0))
    replicas = [RedisCounters(redis_client(redis_server.url, 2.0)) for _ in range(3)]
    try:
        answers = await asyncio.gather(*(replicas[i % 3].reserve(plan, 0) for i in range(200)))
    finally:
        for replica in replicas:
            await replica.close()
    assert sum(a.admitted for a in answers) == 60
    assert max(a.used[1].requests for a in answers) == 60


async def test_an_unreachable_server_fails_fast_as_unavailable() -> None:
    counters = RedisCounters(redis_client(f"redis://127.0.0.1:{free_port()}/0", 0.2))
    started = time.monotonic()
    with pytest.raises(CountersUnavailable):
        await counters.reserve(fresh_plan((1, 0)), 0)
    assert time.monotonic() - started < 1.0
    await counters.close()
