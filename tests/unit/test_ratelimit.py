"""Unit tests of the pure rate-limit rules, the memory counters and the failure policy."""

from __future__ import annotations

import logging

import orjson
import pytest

from ext_proc import errors
from ext_proc.counters import CountersUnavailable, MemoryCounters
from ext_proc.limiter import RateLimiter
from ext_proc.ratelimit import (
    DEFAULT_COMPLETION_TOKENS,
    WINDOW_MS,
    Admission,
    LimitPlan,
    WindowUse,
    admit,
    counter_name,
    estimate_tokens,
    plan_for,
    quota_headers,
    rejection,
    reset_text,
    retry_after_seconds,
    settle_delta,
    window_of,
)
from ext_proc.snapshot import EMPTY, apply_update
from omg_common.keys import hash_secret
from protos import config_pb2

KEY_ONLY = plan_for("k1", "t1", (2, 0), (0, 0))
BOTH = plan_for("k1", "t1", (10, 100), (3, 1000))


def plan(p: LimitPlan | None) -> LimitPlan:
    assert p is not None
    return p


# --- plans --------------------------------------------------------------------------------------


def test_no_limit_anywhere_is_no_plan() -> None:
    assert plan_for("k1", "t1", (0, 0), (0, 0)) is None


def test_plan_lists_the_key_then_the_tenant_with_a_shared_hash_tag() -> None:
    both = plan(BOTH)
    assert [(s.scope, s.rpm, s.tpm) for s in both.scopes] == [("key", 10, 100),
                                                              ("tenant", 3, 1000)]
    assert both.counters == ("omg:rl:{t1}:k:k1", "omg:rl:{t1}:t")
    assert both.counts_tokens and not plan(KEY_ONLY).counts_tokens


def test_a_rotated_keys_old_secret_shares_the_keys_counter() -> None:
    old = plan(plan_for("k1:previous", "t1", (5, 0), (0, 0)))
    assert old.counters == (counter_name("t1", "k1"),)


# --- windows and admission ----------------------------------------------------------------------


def test_windows_are_aligned_minutes() -> None:
    assert window_of(0) == (0, WINDOW_MS)
    assert window_of(59_999) == (0, 1)
    assert window_of(60_000) == (1, WINDOW_MS)
    assert window_of(125_500) == (2, 54_500)


def test_admit_counts_every_scope_or_none() -> None:
    both = plan(BOTH)
    ok = admit(both, [WindowUse(0, 0), WindowUse(2, 10)], 50, 7, 100)
    assert ok == Admission(True, 7, 100, (WindowUse(1, 50), WindowUse(3, 60)))
    # The tenant is full: the key's counter does not move either.
    refused = admit(both, [WindowUse(0, 0), WindowUse(3, 10)], 50, 7, 100)
    assert not refused.admitted and refused.used == (WindowUse(0, 0), WindowUse(3, 10))


def test_admit_tokens_must_fit_the_remaining_budget() -> None:
    both = plan(BOTH)
    assert admit(both, [WindowUse(0, 50), WindowUse()], 50, 0, 1).admitted
    assert not admit(both, [WindowUse(0, 51), WindowUse()], 50, 0, 1).admitted


def test_estimate_is_prompt_bytes_over_four_plus_the_completion_cap() -> None:
    assert estimate_tokens(400, {"max_tokens": 20}, "chat.completions") == 120
    assert estimate_tokens(401, {"max_completion_tokens": 5, "max_tokens": 99},
                           "chat.completions") == 106
    assert estimate_tokens(8, {}, "chat.completions") == 2 + DEFAULT_COMPLETION_TOKENS
    assert estimate_tokens(8, {"max_tokens": True}, "completions") == 2 + DEFAULT_COMPLETION_TOKENS
    assert estimate_tokens(40, {"max_tokens": 50}, "embeddings") == 10


def test_settle_moves_the_counter_by_the_difference() -> None:
    assert settle_delta(120, 30) == -90
    assert settle_delta(120, 200) == 80
    assert settle_delta(120, None) == 0


# --- headers and the 429 ------------------------------------------------------------------------


@pytest.mark.parametrize(("ms", "text"), [(20, "20ms"), (1000, "1s"), (1500, "1.5s"),
                                          (59_999, "59.999s"), (60_000, "1m0s"),
                                          (61_000, "1m1s")])
def test_reset_is_written_like_openai(ms: int, text: str) -> None:
    assert reset_text(ms) == text


def test_headers_report_the_tightest_limit_of_each_kind() -> None:
    admission = Admission(True, 0, 1500, (WindowUse(1, 30), WindowUse(2, 990)))
    assert dict(quota_headers(plan(BOTH), admission)) == {
        "x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "1",
        "x-ratelimit-reset-requests": "1.5s",
        "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "10",
        "x-ratelimit-reset-tokens": "1.5s",
    }


def test_headers_only_for_the_kinds_that_are_limited() -> None:
    admission = Admission(True, 0, 10, (WindowUse(2, 0),))
    assert dict(quota_headers(plan(KEY_ONLY), admission)) == {
        "x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "10ms",
    }


def test_rejection_is_openais_429() -> None:
    admission = Admission(False, 0, 12_300, (WindowUse(2, 0),))
    err = rejection(plan(KEY_ONLY), admission, 0)
    body = orjson.loads(err.body())["error"]
    assert err.status == 429
    assert body["type"] == "requests" and body["code"] == "rate_limit_exceeded"
    assert body["message"] == ("Rate limit reached for key k1 on requests per min (RPM): "
                               "Limit 2, Used 2, Requested 1. Please try again in 12.3s.")
    headers = dict(err.headers)
    assert headers["retry-after"] == "13"
    assert headers["x-ratelimit-remaining-requests"] == "0"


def test_rejection_names_the_tenants_token_limit() -> None:
    admission = Admission(False, 0, 500, (WindowUse(0, 0), WindowUse(0, 990)))
    err = rejection(plan(BOTH), admission, 20)
    assert orjson.loads(err.body())["error"]["type"] == "tokens"
    assert "tenant t1 on tokens per min (TPM): Limit 1000, Used 990, Requested 20" in err.message


def test_retry_after_is_at_least_one_second() -> None:
    assert retry_after_seconds(1) == 1 and retry_after_seconds(1001) == 2


# --- memory counters ----------------------------------------------------------------------------


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


async def test_memory_counters_admit_up_to_the_limit_then_reset_next_minute() -> None:
    clock = Clock(10 * WINDOW_MS + 5)
    counters = MemoryCounters(clock)
    results = [(await counters.reserve(plan(KEY_ONLY), 0)).admitted for _ in range(3)]
    assert results == [True, True, False]
    clock.ms = 11 * WINDOW_MS
    assert (await counters.reserve(plan(KEY_ONLY), 0)).admitted


async def test_memory_settle_adjusts_only_the_reserving_window() -> None:
    clock = Clock(5)
    counters = MemoryCounters(clock)
    both = plan(BOTH)
    first = await counters.reserve(both, 100)
    await counters.settle(both, first.window, -70)  # used 30 of the 100 reserved
    second = await counters.reserve(both, 70)
    assert second.admitted and second.used == (WindowUse(2, 100), WindowUse(2, 100))
    await counters.settle(both, first.window - 1, 500)  # an ended window: ignored
    assert not (await counters.reserve(both, 1)).admitted  # key's 100 tokens are spent


# --- the failure policy -------------------------------------------------------------------------


class DownCounters:
    def __init__(self) -> None:
        self.calls = 0

    async def reserve(self, plan: LimitPlan, tokens: int) -> Admission:
        self.calls += 1
        raise CountersUnavailable("connection refused")

    async def settle(self, plan: LimitPlan, window: int, tokens_delta: int) -> None:
        raise CountersUnavailable("connection refused")

    async def close(self) -> None:
        return None


async def test_fail_open_serves_counts_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    down = DownCounters()
    limiter = RateLimiter(down, "open", cooldown_s=60)
    with caplog.at_level(logging.WARNING, "omg.ext_proc.ratelimit"):
        results = [await limiter.reserve(plan(KEY_ONLY), 0) for _ in range(5)]
    assert results == [None] * 5
    assert limiter.unavailable == 5
    assert down.calls == 1, "after a failure the store is left alone during the cool-down"
    assert len(caplog.records) == 1 and "failing open" in caplog.records[0].getMessage()


async def test_fail_closed_refuses_with_429_rate_limiter_unavailable() -> None:
    limiter = RateLimiter(DownCounters(), "closed")
    with pytest.raises(errors.GatewayError) as info:
        await limiter.reserve(plan(KEY_ONLY), 0)
    assert info.value.status == 429 and info.value.code == "rate_limiter_unavailable"
    assert dict(info.value.headers) == {"retry-after": "1"}
    assert limiter.unavailable == 1


async def test_limiter_over_limit_raises_429_and_admitted_carries_headers() -> None:
    limiter = RateLimiter(MemoryCounters(Clock(0)))
    first = await limiter.reserve(plan(KEY_ONLY), 0)
    assert first is not None and dict(first.headers)["x-ratelimit-remaining-requests"] == "1"
    await limiter.reserve(plan(KEY_ONLY), 0)
    with pytest.raises(errors.GatewayError) as info:
        await limiter.reserve(plan(KEY_ONLY), 0)
    assert info.value.status == 429


# --- the snapshot compiles plans ----------------------------------------------------------------


def _key(key_id: str, tenant: str, **limits: int) -> config_pb2.ApiKey:
    return config_pb2.ApiKey(id=key_id, key_hash=hash_secret(key_id), tenant_id=tenant, **limits)


def test_snapshot_compiles_plans_and_recompiles_them_when_a_tenant_limit_changes() -> None:
    snap = apply_update(EMPTY, config_pb2.ConfigUpdate(version="1", full=True, upsert_keys=[
        _key("a", "t1", rpm_limit=5), _key("b", "t1"), _key("c", "t2")]))
    plans = {p.key_id: p.limits for p in snap.principals.values()}
    assert plans["b"] is None and plans["c"] is None
    assert plan(plans["a"]).scopes[0].rpm == 5
    limited = apply_update(snap, config_pb2.ConfigUpdate(version="2", upsert_tenant_limits=[
        config_pb2.TenantLimits(tenant_id="t1", tpm_limit=900)]))
    plans = {p.key_id: p.limits for p in limited.principals.values()}
    assert [s.scope for s in plan(plans["a"]).scopes] == ["key", "tenant"]
    assert plan(plans["b"]).scopes[0].tpm == 900 and plans["c"] is None
    lifted = apply_update(limited, config_pb2.ConfigUpdate(version="3",
                                                          delete_tenant_limits=["t1"]))
    assert lifted.principals[hash_secret("b")].limits is None
    assert lifted.principals[hash_secret("a")].limits == snap.principals[hash_secret("a")].limits
