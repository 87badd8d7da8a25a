"""Unit tests of the ext_proc request pipeline: pure decisions over a runtime snapshot."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import orjson
import pytest

from ext_proc import pipeline
from ext_proc.errors import GatewayError
from ext_proc.snapshot import EMPTY, Deployment, Principal, RuntimeSnapshot, apply_update
from omg_common.keys import hash_secret
from protos import config_pb2

NOW_MS = 1_700_000_000_000
GOOD_KEY = "omg-good-secret"
LIMITED_KEY = "omg-limited-secret"
EXPIRED_KEY = "omg-expired-secret"


def dep(
    id_: str,
    model: str = "gpt-test",
    *,
    weight: int = 1,
    priority: int = 0,
    upstream_model: str = "",
) -> config_pb2.Deployment:
    return config_pb2.Deployment(
        id=id_,
        name=f"name-{id_}",
        model=model,
        provider="openai",
        base_url="http://upstream:8000/v1",
        upstream_model=upstream_model,
        credential=f"cred-{id_}",
        weight=weight,
        priority=priority,
        cluster=f"omg_dep_{id_}",
    )


def make_snapshot(
    deployments: list[config_pb2.Deployment] | None = None,
    models: list[config_pb2.Model] | None = None,
) -> RuntimeSnapshot:
    keys = [
        config_pb2.ApiKey(id="k-good", key_hash=hash_secret(GOOD_KEY), tenant_id="t1"),
        config_pb2.ApiKey(
            id="k-limited",
            key_hash=hash_secret(LIMITED_KEY),
            tenant_id="t2",
            allowed_models=["gpt-test"],
        ),
        config_pb2.ApiKey(
            id="k-expired",
            key_hash=hash_secret(EXPIRED_KEY),
            tenant_id="t1",
            expires_at_ms=NOW_MS - 1,
        ),
    ]
    if deployments is None:
        deployments = [dep("d1", "gpt-test"), dep("d2", "other-model")]
    if models is None:
        models = [
            config_pb2.Model(name="gpt-test", created_at_ms=1_600_000_000_123, owned_by="acme"),
            config_pb2.Model(name="other-model", created_at_ms=1_650_000_000_000, owned_by="o"),
            config_pb2.Model(name="no-route", created_at_ms=1, owned_by="o"),
        ]
    update = config_pb2.ConfigUpdate(
        version="v1",
        full=True,
        upsert_keys=keys,
        upsert_deployments=deployments,
        upsert_models=models,
    )
    return apply_update(EMPTY, update)


def principal(snap: RuntimeSnapshot, key: str = GOOD_KEY) -> Principal:
    return snap.principals[hash_secret(key)]


def assert_error(exc: pytest.ExceptionInfo[GatewayError], status: int, code: str | None) -> None:
    assert exc.value.status == status
    assert exc.value.code == code


# --- bearer_token / authenticate ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER   abc  ", "abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Basic abc", None),
        ("abc", None),
    ],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert pipeline.bearer_token(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic " + GOOD_KEY,
        GOOD_KEY,
        "Bearer omg-unknown",
        "Bearer " + hash_secret(GOOD_KEY),
    ],
)
def test_authenticate_rejects_missing_malformed_and_unknown_keys(header: str | None) -> None:
    snap = make_snapshot()
    with pytest.raises(GatewayError) as exc:
        pipeline.authenticate(header, snap, NOW_MS, hash_secret)
    assert_error(exc, 401, "invalid_api_key")
    assert exc.value.type == "invalid_request_error"


def test_authenticate_rejects_expired_key() -> None:
    snap = make_snapshot()
    with pytest.raises(GatewayError) as exc:
        pipeline.authenticate("Bearer " + EXPIRED_KEY, snap, NOW_MS, hash_secret)
    assert_error(exc, 401, "invalid_api_key")
    assert "expired" in exc.value.message


def test_authenticate_expiry_boundary_is_inclusive() -> None:
    snap = make_snapshot()
    expires = principal(snap, EXPIRED_KEY).expires_at_ms
    assert pipeline.authenticate("Bearer " + EXPIRED_KEY, snap, expires - 1, hash_secret)
    with pytest.raises(GatewayError):
        pipeline.authenticate("Bearer " + EXPIRED_KEY, snap, expires, hash_secret)


def test_authenticate_valid_key_returns_principal() -> None:
    snap = make_snapshot()
    got = pipeline.authenticate("Bearer " + GOOD_KEY, snap, NOW_MS, hash_secret)
    assert got == Principal("k-good", "t1", 0, frozenset())
    limited = pipeline.authenticate("bearer " + LIMITED_KEY, snap, NOW_MS, hash_secret)
    assert limited.key_id == "k-limited"
    assert limited.allowed_models == frozenset({"gpt-test"})


# --- routed_endpoint / parse_json_object / requested_model ---------------------------------


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/v1/chat/completions", "chat.completions"),
        ("/v1/completions", "completions"),
        ("/v1/embeddings", "embeddings"),
    ],
)
def test_routed_endpoint_known_paths(path: str, endpoint: str) -> None:
    assert pipeline.routed_endpoint("POST", path) == endpoint


@pytest.mark.parametrize("path", ["/v1/chat/completion", "/v2/chat/completions", "/", "/v1/"])
def test_routed_endpoint_unknown_path_is_404(path: str) -> None:
    with pytest.raises(GatewayError) as exc:
        pipeline.routed_endpoint("POST", path)
    assert_error(exc, 404, "unknown_url")
    assert path in exc.value.message


def test_routed_endpoint_wrong_method_is_405() -> None:
    with pytest.raises(GatewayError) as exc:
        pipeline.routed_endpoint("GET", "/v1/chat/completions")
    assert_error(exc, 405, "method_not_allowed")


def test_split_path_drops_query() -> None:
    assert pipeline.split_path("/v1/models?x=1&y=2") == "/v1/models"
    assert pipeline.split_path("/v1/models") == "/v1/models"


@pytest.mark.parametrize("raw", [b"", b"{", b"{'model': 1}", b"not json", b"\xff\xfe"])
def test_parse_json_object_malformed_is_400_invalid_json(raw: bytes) -> None:
    with pytest.raises(GatewayError) as exc:
        pipeline.parse_json_object(raw)
    assert_error(exc, 400, "invalid_json")


@pytest.mark.parametrize("raw", [b"[]", b'"model"', b"1", b"null", b"true"])
def test_parse_json_object_non_object_is_400(raw: bytes) -> None:
    with pytest.raises(GatewayError) as exc:
        pipeline.parse_json_object(raw)
    assert_error(exc, 400, "invalid_json")


def test_parse_json_object_returns_dict() -> None:
    assert pipeline.parse_json_object(b'{"model": "m", "n": [1]}') == {"model": "m", "n": [1]}


@pytest.mark.parametrize("body", [{}, {"model": ""}, {"model": None}, {"model": 3}, {"model": []}])
def test_requested_model_missing_or_invalid_is_400(body: dict[str, Any]) -> None:
    with pytest.raises(GatewayError) as exc:
        pipeline.requested_model(body)
    assert exc.value.status == 400
    assert exc.value.param == "model"


def test_requested_model_returns_name() -> None:
    assert pipeline.requested_model({"model": "gpt-test"}) == "gpt-test"


# --- pick_deployment / resolve_deployment ------------------------------------------------------


def deployments_for(model: str, *protos: config_pb2.Deployment) -> tuple[Deployment, ...]:
    return make_snapshot(list(protos)).routes[model]


def test_pick_deployment_single() -> None:
    (only,) = deployments_for("m", dep("a", "m", weight=0, priority=5))
    assert pipeline.pick_deployment((only,), random.Random(0)) is only


def test_pick_deployment_uses_lowest_priority_tier_only() -> None:
    deps = deployments_for(
        "m",
        dep("backup", "m", weight=1000, priority=2),
        dep("primary-a", "m", weight=1, priority=0),
        dep("primary-b", "m", weight=1, priority=0),
    )
    rng = random.Random(1)
    picked = {pipeline.pick_deployment(deps, rng).id for _ in range(500)}
    assert picked == {"primary-a", "primary-b"}


def test_pick_deployment_respects_weights() -> None:
    deps = deployments_for("m", dep("a", "m", weight=1), dep("b", "m", weight=3))
    rng = random.Random(12345)
    draws = 8000
    counts = Counter(pipeline.pick_deployment(deps, rng).id for _ in range(draws))
    share_b = counts["b"] / draws
    assert abs(share_b - 0.75) < 0.03, counts


def test_pick_deployment_zero_weight_is_never_chosen_when_others_positive() -> None:
    deps = deployments_for(
        "m", dep("a", "m", weight=0), dep("b", "m", weight=2), dep("c", "m", weight=-5)
    )
    rng = random.Random(7)
    assert {pipeline.pick_deployment(deps, rng).id for _ in range(300)} == {"b"}


def test_pick_deployment_all_zero_weights_returns_first() -> None:
    deps = deployments_for("m", dep("b", "m", weight=0), dep("a", "m", weight=0))
    assert [d.id for d in deps] == ["a", "b"]
    rng = random.Random(3)
    assert {pipeline.pick_deployment(deps, rng).id for _ in range(50)} == {"a"}


def test_resolve_deployment_unknown_model_is_404() -> None:
    snap = make_snapshot()
    with pytest.raises(GatewayError) as exc:
        pipeline.resolve_deployment("nope", principal(snap), snap, random.Random(0))
    assert_error(exc, 404, "model_not_found")
    assert exc.value.param == "model"


def test_resolve_deployment_model_without_route_is_404() -> None:
    snap = make_snapshot()
    with pytest.raises(GatewayError) as exc:
        pipeline.resolve_deployment("no-route", principal(snap), snap, random.Random(0))
    assert_error(exc, 404, "model_not_found")


def test_resolve_deployment_disallowed_model_is_404() -> None:
    snap = make_snapshot()
    limited = principal(snap, LIMITED_KEY)
    with pytest.raises(GatewayError) as exc:
        pipeline.resolve_deployment("other-model", limited, snap, random.Random(0))
    assert_error(exc, 404, "model_not_found")
    assert pipeline.resolve_deployment("gpt-test", limited, snap, random.Random(0)).id == "d1"


def test_resolve_deployment_unrestricted_principal() -> None:
    snap = make_snapshot()
    got = pipeline.resolve_deployment("other-model", principal(snap), snap, random.Random(0))
    assert got.id == "d2"


# --- stream_flags / upstream_body ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "endpoint", "expected"),
    [
        ({}, "chat.completions", (False, False)),
        ({"stream": False}, "chat.completions", (False, False)),
        ({"stream": "true"}, "chat.completions", (False, False)),
        ({"stream": True}, "chat.completions", (True, False)),
        ({"stream": True}, "completions", (True, False)),
        ({"stream": True}, "embeddings", (False, False)),
        ({"stream": True, "stream_options": {"include_usage": True}}, "chat.completions",
         (True, True)),
        ({"stream": True, "stream_options": {"include_usage": False}}, "chat.completions",
         (True, False)),
        ({"stream": True, "stream_options": None}, "chat.completions", (True, False)),
        ({"stream": False, "stream_options": {"include_usage": True}}, "chat.completions",
         (False, False)),
    ],
)
def test_stream_flags(body: dict[str, Any], endpoint: str, expected: tuple[bool, bool]) -> None:
    assert pipeline.stream_flags(body, endpoint) == expected


def test_upstream_body_unchanged_is_none() -> None:
    body = {"model": "m", "messages": []}
    assert pipeline.upstream_body(body, "", False, False) is None
    assert pipeline.upstream_body(dict(body), "m", False, False) is None
    streaming = {"model": "m", "stream": True, "stream_options": {"include_usage": True}}
    assert pipeline.upstream_body(streaming, "", True, True) is None


def test_upstream_body_forces_include_usage_when_streaming() -> None:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    raw = pipeline.upstream_body(body, "", True, False)
    assert raw is not None
    sent = orjson.loads(raw)
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert sent["model"] == "m"


def test_upstream_body_keeps_other_stream_options() -> None:
    body = {
        "model": "m",
        "stream": True,
        "stream_options": {"include_usage": False, "include_obfuscation": False},
    }
    raw = pipeline.upstream_body(body, "", True, False)
    assert raw is not None
    assert orjson.loads(raw)["stream_options"] == {
        "include_usage": True,
        "include_obfuscation": False,
    }


def test_upstream_body_rewrites_model() -> None:
    body = {"model": "m", "input": "x"}
    raw = pipeline.upstream_body(body, "provider-model-7", False, False)
    assert raw is not None
    assert orjson.loads(raw) == {"model": "provider-model-7", "input": "x"}


# --- decide_route ------------------------------------------------------------------------------


def test_decide_route_plain_request_passes_body_through() -> None:
    snap = make_snapshot()
    raw = b'{"model": "gpt-test", "messages": []}'
    decision = pipeline.decide_route(
        raw, "chat.completions", principal(snap), snap, random.Random(0)
    )
    assert decision.model == "gpt-test"
    assert decision.deployment.id == "d1"
    assert (decision.stream, decision.client_wants_usage) == (False, False)
    assert decision.body is None


def test_decide_route_stream_with_upstream_model() -> None:
    snap = make_snapshot([dep("d9", "gpt-test", upstream_model="real-model")])
    raw = b'{"model": "gpt-test", "stream": true}'
    decision = pipeline.decide_route(
        raw, "chat.completions", principal(snap), snap, random.Random(0)
    )
    assert decision.model == "gpt-test"
    assert decision.deployment.id == "d9"
    assert (decision.stream, decision.client_wants_usage) == (True, False)
    assert decision.body is not None
    assert orjson.loads(decision.body) == {
        "model": "real-model",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_decide_route_errors_propagate() -> None:
    snap = make_snapshot()
    rng = random.Random(0)
    with pytest.raises(GatewayError) as exc:
        pipeline.decide_route(b"[1]", "chat.completions", principal(snap), snap, rng)
    assert exc.value.status == 400
    with pytest.raises(GatewayError) as exc:
        pipeline.decide_route(b"{}", "chat.completions", principal(snap), snap, rng)
    assert exc.value.param == "model"
    with pytest.raises(GatewayError) as exc:
        raw = b'{"model": "other-model"}'
        pipeline.decide_route(raw, "embeddings", principal(snap, LIMITED_KEY), snap, rng)
    assert_error(exc, 404, "model_not_found")


# --- models -----------------------------------------------------------------------------------


def test_list_models_only_routed_models() -> None:
    snap = make_snapshot()
    listed = orjson.loads(pipeline.list_models(principal(snap), snap))
    assert listed == {
        "object": "list",
        "data": [
            {"id": "gpt-test", "object": "model", "created": 1_600_000_000, "owned_by": "acme"},
            {"id": "other-model", "object": "model", "created": 1_650_000_000, "owned_by": "o"},
        ],
    }


def test_list_models_respects_allowed_models() -> None:
    snap = make_snapshot()
    listed = orjson.loads(pipeline.list_models(principal(snap, LIMITED_KEY), snap))
    assert [m["id"] for m in listed["data"]] == ["gpt-test"]


def test_retrieve_model() -> None:
    snap = make_snapshot()
    got = orjson.loads(pipeline.retrieve_model("other-model", principal(snap), snap))
    assert got["id"] == "other-model"
    assert got["object"] == "model"
    for name, key in [("no-route", GOOD_KEY), ("missing", GOOD_KEY), ("other-model", LIMITED_KEY)]:
        with pytest.raises(GatewayError) as exc:
            pipeline.retrieve_model(name, principal(snap, key), snap)
        assert_error(exc, 404, "model_not_found")


def test_models_response_dispatch() -> None:
    snap = make_snapshot()
    p = principal(snap)
    listed = orjson.loads(pipeline.models_response("GET", "/v1/models", p, snap))
    assert listed["object"] == "list"
    one = orjson.loads(pipeline.models_response("GET", "/v1/models/gpt-test", p, snap))
    assert one["id"] == "gpt-test"
    with pytest.raises(GatewayError) as exc:
        pipeline.models_response("GET", "/v1/models/no-route", p, snap)
    assert_error(exc, 404, "model_not_found")
    with pytest.raises(GatewayError) as exc:
        pipeline.models_response("POST", "/v1/models", p, snap)
    assert exc.value.status == 405


def test_is_models_path() -> None:
    assert pipeline.is_models_path("/v1/models")
    assert pipeline.is_models_path("/v1/models/gpt-test")
    assert not pipeline.is_models_path("/v1/modelsx")
    assert not pipeline.is_models_path("/v1/chat/completions")
