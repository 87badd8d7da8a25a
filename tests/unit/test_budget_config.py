"""Budgets and prices on their way to ext_proc, and the alert rules around them."""

from __future__ import annotations

import hashlib
import hmac

from control_plane.alerting.deliver import signature, signed_headers
from control_plane.budget_alerts import crossed
from control_plane.budget_state import budget_definition, changed_budgets, current_and_later
from control_plane.config_state import EMPTY_STATE, GatewayState, diff_states
from ext_proc.snapshot import EMPTY, apply_update
from protos import config_pb2


def budget(**fields: object) -> config_pb2.Budget:
    base: dict[str, object] = {"id": "bud_k", "tenant_id": "ten_1", "scope": "key",
                               "subject_id": "key_1", "limit_pico": 100, "period": "daily",
                               "timezone": "UTC"}
    return config_pb2.Budget(**{**base, **fields})  # type: ignore[arg-type]


def key(key_id: str, user_id: str = "") -> config_pb2.ApiKey:
    return config_pb2.ApiKey(id=key_id, key_hash=f"h_{key_id}", tenant_id="ten_1",
                             user_id=user_id)


def test_each_key_answers_to_its_own_its_members_and_its_tenants_budgets() -> None:
    update = config_pb2.ConfigUpdate(
        version="1", full=True, upsert_keys=[key("key_1", "usr_1"), key("key_2")],
        upsert_budgets=[budget(), budget(id="bud_u", scope="user", subject_id="usr_1"),
                        budget(id="bud_t", scope="tenant", subject_id="ten_1"),
                        budget(id="bud_x", tenant_id="ten_2", scope="tenant",
                               subject_id="ten_2")])
    snap = apply_update(EMPTY, update)
    assert {b.id for b in snap.principals["h_key_1"].budgets} == {"bud_k", "bud_u", "bud_t"}
    assert {b.id for b in snap.principals["h_key_2"].budgets} == {"bud_t"}
    later = apply_update(snap, config_pb2.ConfigUpdate(version="2", delete_budgets=["bud_t"]))
    assert later.principals["h_key_2"].budgets == ()
    added = apply_update(later, config_pb2.ConfigUpdate(version="3",
                                                         upsert_keys=[key("key_3", "usr_1")]))
    assert {b.id for b in added.principals["h_key_3"].budgets} == {"bud_u"}


def test_a_budget_in_an_unknown_time_zone_counts_in_utc() -> None:
    update = config_pb2.ConfigUpdate(version="1", full=True,
                                     upsert_budgets=[budget(timezone="Mars/Olympus")])
    assert apply_update(EMPTY, update).budgets["bud_k"].timezone == "UTC"


def test_a_config_diff_ignores_seeds_but_sends_definition_changes() -> None:
    old = {"bud_k": budget(seed_spent_pico=5, seed_period_start_ms=1)}
    assert changed_budgets(old, {"bud_k": budget(seed_spent_pico=9, seed_period_start_ms=1)}) \
        == ([], [])
    raised = budget(limit_pico=200, seed_spent_pico=9)
    assert changed_budgets(old, {"bud_k": raised}) == ([raised], [])
    assert changed_budgets(old, {}) == ([], ["bud_k"])
    assert budget_definition(raised).seed_spent_pico == 0 and raised.seed_spent_pico == 9
    state = GatewayState({}, {}, {}, budgets={"bud_k": raised})
    update = diff_states(EMPTY_STATE, state, "1")
    assert update is not None and list(update.upsert_budgets) == [raised]


def test_only_the_price_in_force_and_later_ones_travel() -> None:
    prices = [config_pb2.Price(effective_from_ms=t, input=t) for t in (10, 20, 30)]
    assert [p.effective_from_ms for p in current_and_later(prices, 25)] == [20, 30]
    assert [p.effective_from_ms for p in current_and_later(prices, 5)] == [10, 20, 30]


def test_thresholds_crossed_include_the_hard_limit() -> None:
    assert crossed(1000, 799, [80, 50]) == [50]
    assert crossed(1000, 800, [80, 50]) == [50, 80]
    assert crossed(1000, 1000, [80]) == [80, 100]
    assert crossed(1000, 999, []) == []
    assert crossed(1000, 700, [50], refused=True) == [50, 100]  # refused: exhausted


def test_the_webhook_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    body = b'{"kind":"budget.threshold"}'
    headers = signed_headers("whsec_x", body, 1700000000)
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["x-omg-signature"] == f"sha256={expected}"
    assert headers["x-omg-timestamp"] == "1700000000"
    assert signature("other", "1700000000", body) != headers["x-omg-signature"]
