"""The response phase costs one answered ext_proc message: counted by the real Envoy.

Response headers are SKIPped and the body STREAMED with the status as an attribute; once a
reply is complete ext_proc closes its gRPC stream, so Envoy's trailing end-of-stream message
goes unanswered. Usage is still captured, for replies split over many chunks too.
"""

from __future__ import annotations

import openai
import pytest

from bench.envoy_stats import read_counters
from tests.integration.conftest import Gateway, wait_for

pytestmark = pytest.mark.integration

MESSAGES = [{"role": "user", "content": "Count my messages"}]


def counters(gateway: Gateway) -> dict[str, int]:
    return read_counters(f"http://127.0.0.1:{gateway.settings.envoy_admin_port}")


def settled_delta(gateway: Gateway, before: dict[str, int]) -> dict[str, int]:
    """Counter deltas once Envoy has closed the request's ext_proc stream."""
    def closed() -> dict[str, int] | None:
        now = counters(gateway)
        delta = {name: now[name] - before.get(name, 0) for name in now}
        return delta if delta["stream_msgs_sent"] >= 4 else None

    return wait_for(closed)


def test_a_plain_reply_costs_three_answered_messages(gateway: Gateway) -> None:
    before = counters(gateway)
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES  # type: ignore[arg-type]
    )
    delta = settled_delta(gateway, before)
    # request headers, request body, one response body chunk; Envoy's empty end-of-stream
    # message is sent after ext_proc closed the stream and is not answered.
    assert delta == {"streams_started": 1, "stream_msgs_sent": 4, "stream_msgs_received": 3}
    [record] = wait_for(lambda: gateway.usage(raw.headers["x-request-id"]))
    assert record["status"] == 200 and record["total_tokens"] > 0


def test_a_stream_answers_every_chunk_but_not_the_end_of_stream(gateway: Gateway) -> None:
    before = counters(gateway)
    stream = gateway.client().chat.completions.create(
        model="mock-gpt", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
        extra_headers={"x-mock-chunk-delay-ms": "20"},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text
    delta = settled_delta(gateway, before)
    # Envoy's end-of-stream comes after `[DONE]`: if the stream is already closed it is
    # either not sent at all or sent and left unanswered.
    assert delta["stream_msgs_sent"] - delta["stream_msgs_received"] in (0, 1)
    assert delta["stream_msgs_received"] >= 4  # several SSE chunks, each answered


def test_usage_of_a_reply_split_over_many_chunks(gateway: Gateway) -> None:
    inputs = [f"sentence number {i} for a large embeddings reply" for i in range(200)]
    before = counters(gateway)
    raw = gateway.client().embeddings.with_raw_response.create(
        model="mock-gpt", input=inputs, dimensions=512, encoding_format="float")
    assert len(raw.content) > 500_000
    delta = settled_delta(gateway, before)
    assert delta["stream_msgs_received"] > 3  # the body reached ext_proc in several chunks
    result = raw.parse()
    assert len(result.data) == 200
    [record] = wait_for(lambda: gateway.usage(raw.headers["x-request-id"]))
    assert record["status"] == 200
    assert record["prompt_tokens"] == result.usage.prompt_tokens > 0


def test_a_failed_stream_is_recorded_with_the_upstream_status(gateway: Gateway) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        gateway.client().chat.completions.create(
            model="mock-gpt", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
            extra_headers={"x-mock-error-status": "500"},
        )
    request_id = info.value.response.headers["x-request-id"]
    [record] = wait_for(lambda: gateway.usage(request_id))
    assert (record["status"], record["stream"], record["total_tokens"]) == (500, True, 0)

