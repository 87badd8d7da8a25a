"""A stream whose client leaves right after `[DONE]` still records the usage it carried."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

from envoy.service.ext_proc.v3 import external_processor_pb2 as pb

from ext_proc.messages import FILTER_NAME, STATUS_ATTRIBUTE, http_headers
from ext_proc.servicer import ExternalProcessor
from ext_proc.snapshot import SnapshotHolder
from omg_common.keys import hash_secret
from protos import config_pb2, usage_pb2

USAGE_EVENT = (b'data: {"id":"c","object":"chat.completion.chunk","choices":[],'
               b'"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}\n\n'
               b"data: [DONE]\n\n")


def holder() -> SnapshotHolder:
    snap = SnapshotHolder()
    snap.apply(config_pb2.ConfigUpdate(
        full=True, version="1",
        upsert_keys=[config_pb2.ApiKey(id="k1", key_hash=hash_secret("omg-k"), tenant_id="t1")],
        upsert_deployments=[config_pb2.Deployment(
            id="d1", model="m", provider="openai", base_url="http://u/v1", cluster="c")],
        upsert_models=[config_pb2.Model(name="m")],
    ))
    return snap


class Context:
    def invocation_metadata(self) -> tuple[()]:
        return ()


async def messages(last_body_ends_stream: bool) -> AsyncIterator[pb.ProcessingRequest]:
    yield pb.ProcessingRequest(request_headers=http_headers(
        (":method", "POST"), (":path", "/v1/chat/completions"), ("x-request-id", "r1"),
        ("authorization", "Bearer omg-k")))
    yield pb.ProcessingRequest(request_body=pb.HttpBody(
        body=b'{"model":"m","stream":true,"messages":[]}', end_of_stream=True))
    # Response headers are SKIPped: the status rides on the first body message.
    first = pb.ProcessingRequest(response_body=pb.HttpBody(
        body=USAGE_EVENT, end_of_stream=last_body_ends_stream))
    first.attributes[FILTER_NAME].update({STATUS_ATTRIBUTE: 200})
    yield first


async def run(last_body_ends_stream: bool) -> usage_pb2.UsageRecord:
    records: list[usage_pb2.UsageRecord] = []
    processor = ExternalProcessor(holder(), records.append, random.Random(0))
    async for _ in processor.Process(messages(last_body_ends_stream), Context()):
        pass
    [record] = records
    return record


async def test_usage_counts_when_the_client_leaves_before_the_end_of_body() -> None:
    record = await run(last_body_ends_stream=False)
    assert (record.prompt_tokens, record.completion_tokens) == (5, 7)
    assert record.status == 200 and record.stream


async def test_a_complete_stream_records_the_same() -> None:
    record = await run(last_body_ends_stream=True)
    assert record.total_tokens == 12
