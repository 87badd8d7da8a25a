"""Unit tests of the control plane's gateway state: diffs, full updates and URL parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from control_plane.config_state import (
    EMPTY_STATE,
    GatewayState,
    base_url_parts,
    cluster_name,
    diff_states,
    epoch_ms,
    full_update,
    tenant_limits_to_protos,
)
from control_plane.models import Tenant
from ext_proc.snapshot import EMPTY, apply_update
from protos import config_pb2


def api_key(i: int) -> config_pb2.ApiKey:
    return config_pb2.ApiKey(id=f"k{i}", key_hash=f"{i:064x}", tenant_id="t1", name=f"key {i}")


def deployment(id_: str, weight: int = 1) -> config_pb2.Deployment:
    return config_pb2.Deployment(
        id=id_,
        provider="openai",
        model="m",
        base_url="http://up:8000/v1",
        weight=weight,
        cluster=cluster_name(id_),
    )


def state(n_keys: int = 3, deps: list[config_pb2.Deployment] | None = None) -> GatewayState:
    deps = [deployment("d1"), deployment("d2")] if deps is None else deps
    return GatewayState(
        keys={k.id: k for k in (api_key(i) for i in range(n_keys))},
        deployments={d.id: d for d in deps},
        models={"m": config_pb2.Model(name="m", created_at_ms=1, owned_by="o")},
    )


def test_empty_state() -> None:
    assert EMPTY_STATE.empty
    assert not state().empty
    assert not GatewayState({}, {}, {"m": config_pb2.Model(name="m")}).empty


def test_diff_no_change_is_none() -> None:
    assert diff_states(state(), state(), "v2") is None
    assert diff_states(EMPTY_STATE, EMPTY_STATE, "v2") is None


def test_diff_one_key_revoked_among_1000() -> None:
    old = state(1000)
    new_keys = dict(old.keys)
    del new_keys["k417"]
    new = GatewayState(new_keys, dict(old.deployments), dict(old.models))
    update = diff_states(old, new, "v2")
    assert update == config_pb2.ConfigUpdate(version="v2", delete_keys=["k417"])
    assert not update.full


def test_diff_changed_deployment_is_one_upsert() -> None:
    old = state()
    changed = deployment("d2", weight=9)
    new = state(deps=[deployment("d1"), changed])
    update = diff_states(old, new, "v3")
    assert update == config_pb2.ConfigUpdate(version="v3", upsert_deployments=[changed])


def test_diff_added_and_removed() -> None:
    old = state(2)
    new = GatewayState(
        {"k1": api_key(1), "k5": api_key(5)},
        {"d1": deployment("d1")},
        {"n": config_pb2.Model(name="n")},
    )
    update = diff_states(old, new, "v4")
    assert update is not None
    assert list(update.upsert_keys) == [api_key(5)]
    assert list(update.delete_keys) == ["k0"]
    assert list(update.upsert_deployments) == []
    assert list(update.delete_deployments) == ["d2"]
    assert list(update.upsert_models) == [config_pb2.Model(name="n")]
    assert list(update.delete_models) == ["m"]


def test_diff_applied_to_snapshot_matches_full() -> None:
    old, new = state(5), state(3, deps=[deployment("d1", weight=2), deployment("d3")])
    update = diff_states(old, new, "v2")
    assert update is not None
    via_delta = apply_update(apply_update(EMPTY, full_update(old, "v1")), update)
    via_full = apply_update(EMPTY, full_update(new, "v2"))
    assert via_delta == via_full


def test_full_update() -> None:
    s = state(4)
    update = full_update(s, "v7")
    assert update.version == "v7"
    assert update.full
    assert sorted(k.id for k in update.upsert_keys) == ["k0", "k1", "k2", "k3"]
    assert list(update.upsert_deployments) == list(s.deployments.values())
    assert list(update.upsert_models) == list(s.models.values())
    assert not update.delete_keys and not update.delete_deployments and not update.delete_models


def test_full_update_of_empty_state() -> None:
    assert full_update(EMPTY_STATE, "v0") == config_pb2.ConfigUpdate(version="v0", full=True)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://api.example.com/v1", ("http", "api.example.com", 80, "/v1")),
        ("https://api.example.com/v1", ("https", "api.example.com", 443, "/v1")),
        ("https://api.example.com:8443/v1", ("https", "api.example.com", 8443, "/v1")),
        ("http://127.0.0.1:9000", ("http", "127.0.0.1", 9000, "")),
        ("http://h:1/openai/v1/", ("http", "h", 1, "/openai/v1")),
        ("https://h/", ("https", "h", 443, "")),
        ("http://H.Example.COM/v1", ("http", "h.example.com", 80, "/v1")),
    ],
)
def test_base_url_parts(url: str, expected: tuple[str, str, int, str]) -> None:
    assert base_url_parts(url) == expected


def test_epoch_ms() -> None:
    assert epoch_ms(None) == 0
    aware = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert epoch_ms(aware) == 1_704_164_645_678
    assert epoch_ms(aware.replace(tzinfo=None)) == 1_704_164_645_678
    plus_two = aware.astimezone(timezone(timedelta(hours=2)))
    assert epoch_ms(plus_two) == 1_704_164_645_678


def test_cluster_name() -> None:
    assert cluster_name("abc-123") == "omg_dep_abc-123"
    assert cluster_name("x") != cluster_name("y")


def test_only_tenants_with_a_limit_are_sent_and_a_limit_change_is_one_upsert() -> None:
    tenants = [Tenant(id="t1", name="a", rpm_limit=10), Tenant(id="t2", name="b"),
               Tenant(id="t3", name="c", tpm_limit=500)]
    limits = tenant_limits_to_protos(tenants)
    assert set(limits) == {"t1", "t3"}
    assert limits["t3"] == config_pb2.TenantLimits(tenant_id="t3", tpm_limit=500)
    old = GatewayState({}, {}, {}, limits)
    changed = config_pb2.TenantLimits(tenant_id="t1", rpm_limit=20)
    update = diff_states(old, GatewayState({}, {}, {}, {"t1": changed}), "v2")
    assert update == config_pb2.ConfigUpdate(
        version="v2", upsert_tenant_limits=[changed], delete_tenant_limits=["t3"]
    )
    assert list(full_update(old, "v1").upsert_tenant_limits) == list(limits.values())
