"""Budget rules: calendar periods in time zones (DST), the reserve rule in memory, overrides."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from ext_proc import errors
from ext_proc.budget import BudgetRule, admit, check_for, fits, rejection
from ext_proc.budget_guard import BudgetGuard
from ext_proc.budget_store import MemoryBudgetStore, reserve_args
from ext_proc.counters import CountersUnavailable
from omg_common.periods import period_of


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def rule(**fields: object) -> BudgetRule:
    base: dict[str, object] = {"id": "bud_1", "tenant_id": "ten_1", "scope": "key",
                               "subject_id": "key_1", "limit_pico": 100, "period": "daily",
                               "timezone": "UTC"}
    return BudgetRule(**{**base, **fields})  # type: ignore[arg-type]


def test_a_day_starts_at_local_midnight() -> None:
    p = period_of("daily", "Asia/Tokyo", ms("2026-05-10T14:59:59+00:00"))
    assert (p.start_ms, p.end_ms) == (ms("2026-05-10T00:00:00+09:00"),
                                      ms("2026-05-11T00:00:00+09:00"))
    nxt = period_of("daily", "Asia/Tokyo", ms("2026-05-10T15:00:00+00:00"))
    assert nxt.start_ms == p.end_ms


def test_the_day_clocks_spring_forward_lasts_23_hours_and_fall_back_25() -> None:
    spring = period_of("daily", "Europe/Paris", ms("2026-03-29T12:00:00+02:00"))
    assert spring.start_ms == ms("2026-03-29T00:00:00+01:00")
    assert spring.end_ms - spring.start_ms == 23 * 3_600_000
    autumn = period_of("daily", "America/New_York", ms("2026-11-01T12:00:00-05:00"))
    assert autumn.start_ms == ms("2026-11-01T00:00:00-04:00")
    assert autumn.end_ms - autumn.start_ms == 25 * 3_600_000


def test_weeks_start_on_monday_and_months_on_the_first_across_dst() -> None:
    week = period_of("weekly", "Europe/Paris", ms("2026-03-29T23:30:00+02:00"))  # a Sunday
    assert week.start_ms == ms("2026-03-23T00:00:00+01:00")
    assert week.end_ms == ms("2026-03-30T00:00:00+02:00")
    month = period_of("monthly", "America/New_York", ms("2026-03-31T23:59:00-04:00"))
    assert (month.start_ms, month.end_ms) == (ms("2026-03-01T00:00:00-05:00"),
                                              ms("2026-04-01T00:00:00-04:00"))
    assert period_of("monthly", "UTC", ms("2026-12-15T00:00:00+00:00")).end_ms \
        == ms("2027-01-01T00:00:00+00:00")
    assert period_of("total", "UTC", ms("2026-12-15T00:00:00+00:00")).start_ms == 0


def test_counters_are_named_by_period_so_a_new_period_is_a_new_counter() -> None:
    budget = rule(seed_spent_pico=40, seed_period_start_ms=ms("2026-05-10T00:00:00+00:00"))
    today = check_for(budget, ms("2026-05-10T23:59:00+00:00"))
    tomorrow = check_for(budget, ms("2026-05-11T00:00:00+00:00"))
    assert today.counter != tomorrow.counter and today.counter.startswith("omg:bg:{ten_1}:")
    assert (today.seed_pico, tomorrow.seed_pico) == (40, 0)  # a seed is for its own period
    assert today.ttl_s > 0 and check_for(rule(period="total"), 0).ttl_s == 0


def test_an_unexpired_override_replaces_the_limit() -> None:
    budget = rule(override_limit_pico=500, override_expires_at_ms=2000)
    assert (budget.limit_at(1999), budget.limit_at(2000)) == (500, 100)


def test_fits_refuses_an_exhausted_budget_even_for_a_free_request() -> None:
    assert fits(100, 60, 40) and not fits(100, 60, 41)
    assert not fits(100, 100, 0) and fits(100, 99, 0)


def test_memory_store_reserves_all_or_nothing_then_settles() -> None:
    store = MemoryBudgetStore()
    key, tenant = check_for(rule(), 0), check_for(rule(id="bud_t", limit_pico=1000), 0)

    async def scenario() -> None:
        assert await store.reserve([key, tenant], 60) == (True, [0, 0])
        assert await store.reserve([key, tenant], 60) == (False, [60, 60])  # key is full
        assert await store.spent(tenant.counter) == 60  # the refusal moved nothing
        await store.settle([key.counter, tenant.counter], -25)  # it cost 35, not 60
        assert await store.reserve([key, tenant], 65) == (True, [35, 35])
        assert await store.spent(key.counter) == 100

    asyncio.run(scenario())


def test_a_counter_that_does_not_exist_starts_from_the_seed() -> None:
    store = MemoryBudgetStore()
    seeded = check_for(rule(seed_spent_pico=90, seed_period_start_ms=0, period="total"), 5)
    assert asyncio.run(store.reserve([seeded], 20)) == (False, [90])
    assert asyncio.run(store.reserve([seeded], 10)) == (True, [90])


def test_admit_is_the_rule_of_the_lua_script_and_its_arguments() -> None:
    checks = [check_for(rule(), 0), check_for(rule(id="b2", limit_pico=50), 0)]
    assert admit(checks, [0, 0], 50) and not admit(checks, [0, 1], 50)
    assert reserve_args(checks, 7)[:4] == [7, 100, 0, checks[0].ttl_s]


def test_the_rejection_is_openais_429_naming_the_budget() -> None:
    checks = [check_for(rule(limit_pico=10**12), 0)]
    err = rejection(checks, [10**12], 5)
    assert (err.status, err.type, err.code) == (429, "insufficient_quota", "budget_exceeded")
    assert err.message.startswith("Budget exceeded for key key_1: daily limit $1, spent $1,")
    assert err.budget_id == "bud_1"  # type: ignore[attr-defined]


class DownStore(MemoryBudgetStore):
    async def reserve(self, checks, estimate_pico):  # type: ignore[no-untyped-def,override]
        raise CountersUnavailable("connection refused")


def test_a_store_that_cannot_answer_fails_closed_by_default_or_open() -> None:
    with pytest.raises(errors.GatewayError) as info:
        asyncio.run(BudgetGuard(DownStore()).reserve([rule()], 1, 0))
    assert (info.value.status, info.value.code) == (503, "budget_unavailable")
    guard = BudgetGuard(DownStore(), "open")
    assert asyncio.run(guard.reserve([rule()], 1, 0)) is None
    assert guard.unavailable == 1
