"""Unit tests of aliases, fail-over decisions, context windows and the served-deployment record:
pure functions over a runtime snapshot, no Envoy."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb

from ext_proc import pipeline
from ext_proc.context import RequestContext
from ext_proc.errors import GatewayError
from ext_proc.messages import ResponseFacts
from ext_proc.upstream import (
    AttemptState,
    deployment_for,
    failed_attempt,
    passthrough_path,
    passthrough_request_response,
    response_headers_response,
)
from omg_common.routing_names import ENDPOINT_HEADER, model_cluster_name
from protos import config_pb2
from tests.unit.test_pipeline import GOOD_KEY, LIMITED_KEY, dep, make_snapshot, principal

MODELS = [
    config_pb2.Model(name="gpt-test", created_at_ms=1_600_000_000_000, owned_by="acme",
                     aliases=["gpt-alias", "gpt-latest"]),
    config_pb2.Model(name="other-model", created_at_ms=1_650_000_000_000, owned_by="o"),
]


def failover_snapshot(**windows: int) -> object:
    first = dep("d1", "gpt-test", priority=0, upstream_model="up-1")
    second = dep("d2", "gpt-test", priority=1)
    second.provider = "anthropic"
    for proto in (first, second):
        proto.context_window = windows.get(proto.id, 0)
    return make_snapshot([first, second, dep("d3", "other-model")], MODELS)


def decide(snap: object, body: dict[str, object], key: str = GOOD_KEY) -> pipeline.RouteDecision:
    who = principal(snap, key)  # type: ignore[arg-type]
    raw = orjson.dumps(body)
    return pipeline.decide_route(raw, "chat.completions", who, snap,  # type: ignore[arg-type]
                                 random.Random(0))


def test_alias_resolves_to_the_canonical_model() -> None:
    snap = failover_snapshot()
    decision = decide(snap, {"model": "gpt-alias", "messages": []})
    assert decision.model == "gpt-test"
    assert [d.id for d in decision.candidates] == ["d1", "d2"]


def test_a_key_allowed_an_alias_may_use_every_name_of_that_model() -> None:
    snap = make_snapshot(None, MODELS)
    limited = principal(snap, LIMITED_KEY)  # allowed_models: ["gpt-test"]
    for name in ("gpt-test", "gpt-alias", "gpt-latest"):
        assert pipeline.usable_model(name, limited, snap) is not None
    assert pipeline.usable_model("other-model", limited, snap) is None
    by_alias = replace(limited, allowed_models=frozenset({"gpt-latest"}))
    assert pipeline.usable_model("gpt-test", by_alias, snap) is not None


def test_models_list_has_aliases_only_for_allowed_keys() -> None:
    snap = make_snapshot(None, MODELS)
    everything = orjson.loads(pipeline.list_models(principal(snap, GOOD_KEY), snap))
    ids = [m["id"] for m in everything["data"]]
    assert ids == ["gpt-alias", "gpt-latest", "gpt-test", "other-model"]
    alias = everything["data"][0]
    assert alias["alias_of"] == "gpt-test" and alias["owned_by"] == "acme"
    limited = orjson.loads(pipeline.list_models(principal(snap, LIMITED_KEY), snap))
    assert [m["id"] for m in limited["data"]] == ["gpt-alias", "gpt-latest", "gpt-test"]


def test_failover_routes_to_the_model_cluster_and_leaves_naming_to_each_attempt() -> None:
    decision = decide(failover_snapshot(), {"model": "gpt-alias", "messages": []})
    assert decision.failover
    assert decision.route_key == model_cluster_name("gpt-test")
    assert orjson.loads(decision.body or b"")["model"] == "gpt-test"  # never the alias


def test_single_deployment_keeps_the_direct_route_and_renames() -> None:
    snap = make_snapshot([dep("d1", "gpt-test", upstream_model="up-1")], MODELS)
    decision = decide(snap, {"model": "gpt-latest", "messages": []})
    assert not decision.failover and decision.route_key == "d1"
    assert orjson.loads(decision.body or b"")["model"] == "up-1"


def test_context_window_refuses_only_what_no_deployment_fits() -> None:
    snap = failover_snapshot(d1=100, d2=1000)
    with pytest.raises(GatewayError) as exc:
        decide(snap, {"model": "gpt-test", "messages": [], "max_tokens": 1001})
    assert exc.value.status == 400 and exc.value.code == "context_length_exceeded"
    assert decide(snap, {"model": "gpt-test", "messages": [], "max_tokens": 900}).failover
    unknown = failover_snapshot(d1=100)  # d2's window is unknown: never refuse
    assert decide(unknown, {"model": "gpt-test", "messages": [], "max_tokens": 10**6})


def test_prompt_counts_at_a_lower_bound() -> None:
    snap = failover_snapshot(d1=10, d2=10)
    with pytest.raises(GatewayError):
        decide(snap, {"model": "gpt-test", "messages": [{"role": "user", "content": "x" * 200}]})
    assert decide(snap, {"model": "gpt-test", "messages": []})


def test_upstream_stream_trusts_the_endpoint_header_then_the_routing_header() -> None:
    snap = failover_snapshot()
    assert deployment_for({ENDPOINT_HEADER: "d2", "x-omg-deployment": "x"}, snap).id == "d2"
    assert deployment_for({"x-omg-deployment": "d1"}, snap).id == "d1"  # type: ignore[arg-type]
    with pytest.raises(GatewayError):
        deployment_for({ENDPOINT_HEADER: "gone"}, snap)  # type: ignore[arg-type]


def test_passthrough_path_follows_the_base_url() -> None:
    snap = failover_snapshot()
    d1 = snap.deployments["d1"]  # type: ignore[attr-defined]
    assert passthrough_path(d1, "/v1/chat/completions") == "/v1/chat/completions"
    groq = replace(d1, target=replace(d1.target, base_path="/openai/v1"))
    assert passthrough_path(groq, "/v1/embeddings?x=1") == "/openai/v1/embeddings?x=1"


def test_record_names_the_deployment_that_served_and_the_attempts() -> None:
    snap = failover_snapshot()
    ctx = RequestContext()
    ctx.principal = principal(snap, GOOD_KEY)
    ctx.decision = decide(snap, {"model": "gpt-test", "messages": []})
    ctx.note_response(ResponseFacts(200, 2, "d2"))
    record = ctx.to_record(ctx.started_at)
    assert (record.deployment_id, record.provider, record.attempts) == ("d2", "anthropic", 2)
    assert record.model == "gpt-test"


def test_record_without_served_attribute_keeps_the_picked_deployment() -> None:
    snap = make_snapshot([dep("d1", "gpt-test")], MODELS)
    ctx = RequestContext()
    ctx.principal = principal(snap, GOOD_KEY)
    ctx.decision = decide(snap, {"model": "gpt-test", "messages": []})
    ctx.note_response(ResponseFacts(200, 0, ""))
    record = ctx.to_record(ctx.started_at)
    assert (record.deployment_id, record.attempts) == ("d1", 1)


# --- the upstream-level stream of a fail-over attempt ------------------------------------------


def attempt_on(deployment_id: str) -> tuple[AttemptState, object]:
    snap = failover_snapshot()
    state = AttemptState()
    headers = {ENDPOINT_HEADER: deployment_id, ":path": "/v1/chat/completions"}
    state.deployment = deployment_for(headers, snap)  # type: ignore[arg-type]
    state.failover, state.path = True, headers[":path"]
    return state, snap


def mutated(response: pb.ProcessingResponse) -> tuple[dict[str, str], list[str], bytes]:
    common = response.request_body.response
    sets = {h.header.key: h.header.raw_value.decode() for h in common.header_mutation.set_headers}
    return sets, list(common.header_mutation.remove_headers), common.body_mutation.body


def test_passthrough_attempt_gets_its_model_path_host_and_key() -> None:
    state, _ = attempt_on("d1")
    raw = orjson.dumps({"model": "gpt-test", "messages": []})
    sets, removes, body = mutated(passthrough_request_response(state, raw))
    assert orjson.loads(body)["model"] == "up-1"
    assert sets[":path"] == "/v1/chat/completions" and sets[":authority"] == "upstream:8000"
    assert sets["authorization"] == "Bearer cred-d1"
    assert sets["content-length"] == str(len(body))
    assert ENDPOINT_HEADER in removes


def test_passthrough_attempt_replies_skip_the_body_and_add_nothing() -> None:
    state, _ = attempt_on("d1")
    reply = response_headers_response(state, pb.HttpHeaders())
    assert not reply.response_headers.response.header_mutation.set_headers
    assert reply.mode_override.response_body_mode == reply.mode_override.NONE


def test_only_failed_fail_over_attempts_are_recorded() -> None:
    state, _ = attempt_on("d1")
    state.request_id = "req-1"
    for status, recorded in ((500, True), (503, True), (429, True), (0, True), (200, False),
                             (400, False)):
        state.upstream_status = status
        record = failed_attempt(state)
        assert (record is not None) is recorded, status
        if record is not None:
            assert (record.request_id, record.deployment_id, record.status) == \
                ("req-1", "d1", status)
    state.failover, state.upstream_status = False, 500  # a lone deployment: its usage record
    assert failed_attempt(state) is None


def test_the_spool_carries_failed_attempts_with_the_records(tmp_path: Path) -> None:
    from ext_proc.spool import UsageSpool
    from protos import usage_pb2

    spool = UsageSpool(tmp_path / "spool.db")
    attempt = usage_pb2.FailedAttempt(request_id="r", deployment_id="d1", status=500)
    spool.add([], [attempt])
    seq, batch = spool.oldest()  # type: ignore[misc]
    assert list(batch.failed_attempts) == [attempt] and spool.records == 0
    spool.remove(seq, len(batch.records))
    assert spool.oldest() is None
    spool.close()
