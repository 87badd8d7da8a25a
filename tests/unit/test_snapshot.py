"""Unit tests of the ext_proc runtime snapshot: applying full and delta config updates."""

from __future__ import annotations

import pytest

from ext_proc.snapshot import (
    EMPTY,
    Principal,
    RuntimeSnapshot,
    SnapshotHolder,
    apply_update,
    deployment_from_proto,
)
from omg_common.keys import hash_secret
from protos import config_pb2


def key(id_: str, secret: str, **kwargs: object) -> config_pb2.ApiKey:
    return config_pb2.ApiKey(id=id_, key_hash=hash_secret(secret), tenant_id="t1", **kwargs)


def dep(id_: str, model: str = "m", priority: int = 0, **kwargs: object) -> config_pb2.Deployment:
    return config_pb2.Deployment(
        id=id_, model=model, priority=priority, cluster=f"omg_dep_{id_}",
        **{"provider": "openai", **kwargs},
    )


def full(**kwargs: object) -> config_pb2.ConfigUpdate:
    return config_pb2.ConfigUpdate(version="v1", full=True, **kwargs)


def delta(version: str = "v2", **kwargs: object) -> config_pb2.ConfigUpdate:
    return config_pb2.ConfigUpdate(version=version, **kwargs)


@pytest.fixture
def base() -> RuntimeSnapshot:
    return apply_update(
        EMPTY,
        full(
            upsert_keys=[key("k1", "secret-1"), key("k2", "secret-2", allowed_models=["m"])],
            upsert_deployments=[dep("d1"), dep("d2", "other")],
            upsert_models=[config_pb2.Model(name="m", created_at_ms=5, owned_by="me")],
        ),
    )


def test_full_update_builds_snapshot(base: RuntimeSnapshot) -> None:
    assert base.version == "v1"
    assert set(base.principals) == {hash_secret("secret-1"), hash_secret("secret-2")}
    assert dict(base.key_hash_by_id) == {
        "k1": hash_secret("secret-1"),
        "k2": hash_secret("secret-2"),
    }
    assert base.principals[hash_secret("secret-2")] == Principal(
        "k2", "t1", 0, frozenset({"m"})
    )
    assert {m: [d.id for d in deps] for m, deps in base.routes.items()} == {
        "m": ["d1"],
        "other": ["d2"],
    }
    assert base.models["m"].owned_by == "me"
    assert base.models["m"].created_at_ms == 5


def test_apply_update_does_not_mutate_input(base: RuntimeSnapshot) -> None:
    apply_update(base, delta(delete_keys=["k1"], delete_deployments=["d1"]))
    assert hash_secret("secret-1") in base.principals
    assert "d1" in base.deployments


def test_delta_delete_key_removes_its_hash(base: RuntimeSnapshot) -> None:
    snap = apply_update(base, delta(delete_keys=["k1"]))
    assert snap.version == "v2"
    assert hash_secret("secret-1") not in snap.principals
    assert "k1" not in snap.key_hash_by_id
    assert hash_secret("secret-2") in snap.principals
    assert snap.routes == base.routes


def test_delta_delete_unknown_key_is_harmless(base: RuntimeSnapshot) -> None:
    snap = apply_update(base, delta(delete_keys=["nope"]))
    assert set(snap.principals) == set(base.principals)


def test_delta_rotation_drops_old_hash(base: RuntimeSnapshot) -> None:
    snap = apply_update(base, delta(upsert_keys=[key("k1", "secret-1-rotated")]))
    assert hash_secret("secret-1") not in snap.principals
    assert snap.principals[hash_secret("secret-1-rotated")].key_id == "k1"
    assert snap.key_hash_by_id["k1"] == hash_secret("secret-1-rotated")
    assert len(snap.principals) == 2


def test_delta_upsert_new_key_adds(base: RuntimeSnapshot) -> None:
    snap = apply_update(base, delta(upsert_keys=[key("k3", "secret-3", expires_at_ms=99)]))
    assert len(snap.principals) == 3
    assert snap.principals[hash_secret("secret-3")].expires_at_ms == 99


def test_delta_deployment_delete_removes_route(base: RuntimeSnapshot) -> None:
    snap = apply_update(base, delta(delete_deployments=["d2"]))
    assert "other" not in snap.routes
    assert "d2" not in snap.deployments
    assert [d.id for d in snap.routes["m"]] == ["d1"]


def test_delta_deployment_move_to_other_model(base: RuntimeSnapshot) -> None:
    snap = apply_update(base, delta(upsert_deployments=[dep("d1", "other")]))
    assert "m" not in snap.routes
    assert [d.id for d in snap.routes["other"]] == ["d1", "d2"]


def test_routes_sorted_by_priority_then_id() -> None:
    snap = apply_update(
        EMPTY,
        full(
            upsert_deployments=[
                dep("a", priority=3),
                dep("c", priority=1),
                dep("b", priority=1),
                dep("d", priority=0),
            ]
        ),
    )
    assert [d.id for d in snap.routes["m"]] == ["d", "b", "c", "a"]


def test_delta_model_upsert_and_delete(base: RuntimeSnapshot) -> None:
    snap = apply_update(
        base,
        delta(
            upsert_models=[config_pb2.Model(name="n", owned_by="x")],
            delete_models=["m"],
        ),
    )
    assert set(snap.models) == {"n"}


def test_full_update_replaces_everything(base: RuntimeSnapshot) -> None:
    snap = apply_update(
        base,
        config_pb2.ConfigUpdate(
            version="v9", full=True, upsert_keys=[key("k9", "secret-9")],
            upsert_deployments=[dep("d9", "z")],
        ),
    )
    assert snap.version == "v9"
    assert set(snap.principals) == {hash_secret("secret-9")}
    assert dict(snap.key_hash_by_id) == {"k9": hash_secret("secret-9")}
    assert set(snap.deployments) == {"d9"}
    assert set(snap.routes) == {"z"}
    assert dict(snap.models) == {}


def test_deployment_from_proto_fields() -> None:
    snap = apply_update(
        EMPTY,
        full(upsert_deployments=[dep(
            "d1", name="n1", provider="openai", upstream_model="up", weight=4,
            credential="sk-123",
        )]),
    )
    d = snap.deployments["d1"]
    assert (d.name, d.provider, d.cluster, d.upstream_model, d.weight) == (
        "n1", "openai", "omg_dep_d1", "up", 4
    )
    assert d.upstream_headers == (("authorization", "Bearer sk-123"),)


def test_snapshot_holder_ready_flips() -> None:
    holder = SnapshotHolder()
    assert holder.ready is False
    assert holder.current is EMPTY
    holder.apply(full(upsert_keys=[key("k1", "s")]))
    assert holder.ready is True
    assert holder.current.version == "v1"
    first = holder.current
    holder.apply(delta(delete_keys=["k1"]))
    assert holder.current is not first
    assert dict(holder.current.principals) == {}
    assert hash_secret("s") in first.principals


def test_principal_may_use() -> None:
    anything = Principal("k", "t", 0, frozenset())
    assert anything.may_use("any-model")
    limited = Principal("k", "t", 0, frozenset({"a", "b"}))
    assert limited.may_use("a")
    assert not limited.may_use("c")


def test_passthrough_deployment_carries_its_bearer_header() -> None:
    with_key = deployment_from_proto(dep("d1", credential="sk-abc", base_url="https://h/v1"))
    assert with_key.upstream_headers == (("authorization", "Bearer sk-abc"),)
    assert not with_key.translated
    assert deployment_from_proto(dep("d2", base_url="http://h/v1")).upstream_headers == ()


def test_translated_deployment_leaves_credentials_to_the_upstream_level() -> None:
    anthropic = deployment_from_proto(
        dep("d3", provider="anthropic", credential="sk-ant", base_url="https://api.anthropic.com",
            options={"anthropic_version": "2023-06-01"})
    )
    assert anthropic.translated and anthropic.upstream_headers == ()
    assert anthropic.auth.static_headers() == (("x-api-key", "sk-ant"),)
    assert anthropic.host == "api.anthropic.com" and anthropic.target.base_path == ""
    assert anthropic.target.options["anthropic_version"] == "2023-06-01"


def test_a_deployment_with_an_unusable_credential_is_left_out_not_fatal(
    base: RuntimeSnapshot,
) -> None:
    bad = dep("d9", "m", credential="not-json", options={"region": "eu-west-1"},
              provider="bedrock")
    snap = apply_update(base, delta(upsert_deployments=[bad, dep("d3", "m")]))
    assert "d9" not in snap.deployments and "d3" in snap.deployments
    broken = apply_update(base, delta(upsert_deployments=[dep("d1", "m", credential="x",
                                                              provider="bedrock")]))
    assert "d1" not in broken.deployments, "a stale credential is not kept serving"
