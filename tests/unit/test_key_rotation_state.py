"""A rotated key's previous secret travels to ext_proc as its own, expiring key (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from control_plane import models
from control_plane.config_state import (
    EMPTY_STATE,
    GatewayState,
    diff_states,
    epoch_ms,
    full_update,
    keys_to_protos,
)
from control_plane.usage_store import key_id_of, last_used_by_key
from ext_proc.snapshot import EMPTY, apply_update

NOW = datetime(2026, 6, 1, tzinfo=UTC)
NOW_MS = epoch_ms(NOW)


def key(**fields: object) -> models.ApiKey:
    base: dict[str, object] = {"id": "key_1", "tenant_id": "ten_1", "name": "k", "prefix": "omg-",
                               "key_hash": "new"}
    return models.ApiKey(**{**base, **fields})


def state(*keys: models.ApiKey) -> GatewayState:
    return GatewayState(keys_to_protos(keys, NOW_MS), {}, {})


def test_previous_secret_is_an_extra_key_expiring_at_the_grace_end() -> None:
    rotated = key(previous_key_hash="old", previous_expires_at=NOW + timedelta(seconds=30))
    protos = keys_to_protos([rotated], NOW_MS)
    assert list(protos) == ["key_1", "key_1:previous"]
    previous = protos["key_1:previous"]
    assert previous.key_hash == "old" and previous.tenant_id == "ten_1"
    assert previous.expires_at_ms == NOW_MS + 30_000


def test_previous_secret_never_outlives_the_key_and_is_dropped_after_grace() -> None:
    ends_first = key(previous_key_hash="old", previous_expires_at=NOW + timedelta(hours=1),
                     expires_at=NOW + timedelta(minutes=1))
    assert keys_to_protos([ends_first], NOW_MS)["key_1:previous"].expires_at_ms == NOW_MS + 60_000
    over = key(previous_key_hash="old", previous_expires_at=NOW - timedelta(seconds=1))
    assert list(keys_to_protos([over], NOW_MS)) == ["key_1"]


def test_ext_proc_resolves_both_secrets_during_grace_and_only_the_new_after() -> None:
    before = state(key(key_hash="old"))
    snap = apply_update(EMPTY, full_update(before, "1"))
    assert set(snap.principals) == {"old"}
    during = state(key(previous_key_hash="old", previous_expires_at=NOW + timedelta(seconds=5)))
    update = diff_states(before, during, "2")
    assert update is not None
    snap = apply_update(snap, update)
    assert set(snap.principals) == {"new", "old"}
    assert snap.principals["old"].expires_at_ms == NOW_MS + 5000
    after = state(key())
    update = diff_states(during, after, "3")
    assert update is not None and list(update.delete_keys) == ["key_1:previous"]
    assert set(apply_update(snap, update).principals) == {"new"}
    assert diff_states(EMPTY_STATE, after, "4") is not None


def test_usage_of_the_previous_secret_counts_for_its_key() -> None:
    assert key_id_of("key_1:previous") == "key_1" and key_id_of("key_1") == "key_1"
    rows = [{"api_key_id": "a", "created_at": NOW}, {"api_key_id": "a",
            "created_at": NOW + timedelta(seconds=1)}, {"api_key_id": "b", "created_at": NOW}]
    assert last_used_by_key(rows) == {"a": NOW + timedelta(seconds=1), "b": NOW}
