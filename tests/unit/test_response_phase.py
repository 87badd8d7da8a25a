"""The response phase without a response-headers message: status attribute, whole JSON bodies
arriving in pieces, and x-ratelimit-* values handed to the route table as dynamic metadata."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import orjson
from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from google.protobuf import json_format

from control_plane.xds.resources import build_route_config
from ext_proc.messages import (
    ATTEMPTS_ATTRIBUTE,
    FILTER_NAME,
    SERVED_ATTRIBUTE,
    STATUS_ATTRIBUTE,
    ResponseFacts,
    response_facts,
    with_quota_metadata,
)
from ext_proc.ratelimit import Admission, LimitPlan, ScopeLimit, WindowUse, quota_headers
from ext_proc.servicer import ExternalProcessor
from ext_proc.usage import JsonUsageTap, SseUsageTap
from omg_common.quota_headers import QUOTA_HEADER_NAMES, QUOTA_NAMESPACE
from protos import usage_pb2
from tests.unit.test_servicer_disconnect import Context, holder, http_headers

BODY = orjson.dumps({"id": "c", "choices": [], "usage": {
    "prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})


def with_status(value: object) -> pb.ProcessingRequest:
    request = pb.ProcessingRequest(response_body=pb.HttpBody(body=b"{}", end_of_stream=True))
    request.attributes[FILTER_NAME].update({STATUS_ATTRIBUTE: value})
    return request


def test_status_is_read_from_the_attribute_as_number_or_text() -> None:
    assert response_facts(with_status(429)).status == 429
    assert response_facts(with_status("503")).status == 503


def test_status_is_zero_without_the_attribute() -> None:
    assert response_facts(pb.ProcessingRequest(response_body=pb.HttpBody())).status == 0
    request = pb.ProcessingRequest()
    request.attributes[FILTER_NAME].update({"request.path": "/v1"})
    assert response_facts(request) == ResponseFacts(0, 0, "")


def test_attempts_and_the_serving_deployment_come_from_attributes() -> None:
    request = with_status(200)
    request.attributes[FILTER_NAME].update({ATTEMPTS_ATTRIBUTE: 2, SERVED_ATTRIBUTE: "dep_b"})
    assert response_facts(request) == ResponseFacts(200, 2, "dep_b")


def test_json_tap_is_complete_once_the_body_parses() -> None:
    tap = JsonUsageTap()
    assert tap.feed(BODY, end_of_stream=False)
    assert tap.usage is not None and tap.usage.total_tokens == 7


def test_json_tap_joins_a_body_split_across_messages() -> None:
    tap = JsonUsageTap()
    cut = len(BODY) // 2
    assert not tap.feed(BODY[:cut], end_of_stream=False)
    assert not tap.feed(BODY[cut:-1], end_of_stream=False)
    assert tap.feed(BODY[-1:], end_of_stream=False)
    usage = tap.usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (3, 4)


def test_json_tap_a_body_that_is_not_json_completes_at_the_end_of_stream() -> None:
    tap = JsonUsageTap()
    assert not tap.feed(b"<html>{}", end_of_stream=False)
    assert not tap.feed(b"<b>}", end_of_stream=False)  # ends in a brace, still no JSON
    assert tap.feed(b"", end_of_stream=True)
    assert tap.usage is None


def test_sse_tap_notices_done() -> None:
    tap = SseUsageTap(strip_usage=False)
    tap.feed(b'data: {"choices":[]}\n\n', end_of_stream=False)
    assert not tap.done
    tap.feed(b"data: [DO", end_of_stream=False)
    assert not tap.done  # an incomplete event is not the end
    tap.feed(b"NE]\n\n", end_of_stream=False)
    assert tap.done


def test_quota_values_travel_as_dynamic_metadata() -> None:
    reply = with_quota_metadata(pb.ProcessingResponse(request_body=pb.BodyResponse()),
                                (("x-ratelimit-limit-requests", "2"),))
    values = json_format.MessageToDict(reply.dynamic_metadata)
    assert values == {QUOTA_NAMESPACE: {"x-ratelimit-limit-requests": "2"}}
    assert reply.HasField("request_body")


def test_every_quota_header_ext_proc_emits_is_added_by_the_route_table() -> None:
    plan = LimitPlan(scopes=(ScopeLimit("key", "k1", "k:k1", rpm=5, tpm=100),))
    admission = Admission(admitted=True, window=0, reset_ms=1500, used=(WindowUse(1, 10),))
    emitted = {name for name, _ in quota_headers(plan, admission)}
    assert emitted == set(QUOTA_HEADER_NAMES)
    config = build_route_config([])
    added = {o.header.key: o for o in config.response_headers_to_add}
    assert set(added) == emitted
    option = added["x-ratelimit-reset-tokens"]
    assert option.header.value == f"%DYNAMIC_METADATA({QUOTA_NAMESPACE}:x-ratelimit-reset-tokens)%"
    assert not option.keep_empty_value  # a key without limits gets no header
    assert option.append_action == base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD


async def split_reply(consumed: list[str]) -> AsyncIterator[pb.ProcessingRequest]:
    """A plain reply in two chunks (status on the first), then Envoy's empty end of stream."""
    yield pb.ProcessingRequest(request_headers=http_headers(
        (":method", "POST"), (":path", "/v1/chat/completions"), ("x-request-id", "r2"),
        ("authorization", "Bearer omg-k")))
    yield pb.ProcessingRequest(request_body=pb.HttpBody(
        body=b'{"model":"m","messages":[]}', end_of_stream=True))
    cut = len(BODY) // 2
    first = pb.ProcessingRequest(response_body=pb.HttpBody(body=BODY[:cut]))
    first.attributes[FILTER_NAME].update({STATUS_ATTRIBUTE: 200})
    yield first
    yield pb.ProcessingRequest(response_body=pb.HttpBody(body=BODY[cut:]))
    consumed.append("end of stream")
    yield pb.ProcessingRequest(response_body=pb.HttpBody(end_of_stream=True))


async def test_a_split_reply_is_recorded_and_the_stream_closed_before_its_end() -> None:
    records: list[usage_pb2.UsageRecord] = []
    consumed: list[str] = []
    processor = ExternalProcessor(holder(), records.append, random.Random(0))
    answers = [a async for a in processor.Process(split_reply(consumed), Context())]
    assert [a.WhichOneof("response") for a in answers] == [
        "request_headers", "request_body", "response_body", "response_body"]
    assert consumed == []  # returned after the reply was complete
    [record] = records
    assert (record.status, record.total_tokens, record.stream) == (200, 7, False)
