"""Unit tests of usage extraction from JSON bodies and OpenAI SSE streams."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import pytest

from ext_proc.usage import (
    SseUsageTap,
    Usage,
    event_data,
    split_events,
    usage_event,
    usage_from_json_body,
)


def sse(payload: object) -> bytes:
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return b"data: " + data + b"\n\n"


def content_chunk(text: str, finish: str | None = None) -> dict[str, object]:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-test",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
        "usage": None,
    }


USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
USAGE_EVENT = sse(
    {"id": "c1", "object": "chat.completion.chunk", "created": 1_700_000_000,
     "model": "gpt-test", "choices": [], "usage": USAGE}
)
PREFIX = (
    sse({**content_chunk(""), "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    ]})
    + sse(content_chunk("Hi"))
    + sse(content_chunk(" there"))
    + sse(content_chunk("", "stop"))
)
DONE = b"data: [DONE]\n\n"
STREAM = PREFIX + USAGE_EVENT + DONE
STRIPPED = PREFIX + DONE
EXPECTED_USAGE = Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12)


def run_tap(tap: SseUsageTap, chunks: list[bytes]) -> bytes:
    """Feed chunks (last one ends the stream) and return what would be forwarded."""
    out = []
    for i, chunk in enumerate(chunks):
        result = tap.feed(chunk, i == len(chunks) - 1)
        out.append(chunk if result is None else result)
    return b"".join(out)


def two_way_splits(stream: bytes) -> Iterable[list[bytes]]:
    for cut in range(len(stream) + 1):
        yield [stream[:cut], stream[cut:]]


def byte_chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


# --- usage_from_json_body ----------------------------------------------------------------------


def test_usage_from_chat_completion_body() -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }
    assert usage_from_json_body(orjson.dumps(body)) == Usage(11, 3, 14, 0, 0)


def test_usage_from_embeddings_body() -> None:
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
        "model": "emb",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }
    assert usage_from_json_body(orjson.dumps(body)) == Usage(8, 0, 8, 0, 0)


def test_usage_details_cached_and_reasoning() -> None:
    body = {
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 40,
            "total_tokens": 140,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 30},
        }
    }
    assert usage_from_json_body(orjson.dumps(body)) == Usage(100, 40, 140, 64, 30)


def test_usage_total_defaults_to_sum_and_ignores_non_int() -> None:
    body = {
        "usage": {
            "prompt_tokens": 2,
            "completion_tokens": "3",
            "prompt_tokens_details": None,
            "completion_tokens_details": None,
        }
    }
    assert usage_from_json_body(orjson.dumps(body)) == Usage(2, 0, 2, 0, 0)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "x", "usage": null}',
        b'{"id": "x"}',
        b'{"usage": {"prompt_tokens": 1',
        b'[{"usage": {"prompt_tokens": 1}}]',
        b"",
        b"not json at all",
    ],
)
def test_usage_from_json_body_none(raw: bytes) -> None:
    assert usage_from_json_body(raw) is None


# --- split_events / event_data / usage_event -------------------------------------------------


def test_split_events_lf() -> None:
    events, rest = split_events(b"data: a\n\ndata: b\n\ndata: c")
    assert events == [b"data: a\n\n", b"data: b\n\n"]
    assert rest == b"data: c"


def test_split_events_crlf() -> None:
    events, rest = split_events(b"data: a\r\n\r\ndata: b\r\n\r\ndata: c\r\n")
    assert events == [b"data: a\r\n\r\n", b"data: b\r\n\r\n"]
    assert rest == b"data: c\r\n"


def test_split_events_cr_and_no_complete_event() -> None:
    assert split_events(b"data: a\r\rx") == ([b"data: a\r\r"], b"x")
    assert split_events(b"data: partial") == ([], b"data: partial")
    assert split_events(b"") == ([], b"")


def test_split_events_reassembles_exactly() -> None:
    events, rest = split_events(STREAM[:-5])
    assert b"".join(events) + rest == STREAM[:-5]
    assert len(events) == 5


def test_event_data_single_and_multi_line() -> None:
    assert event_data(b"data: {\"a\": 1}\n\n") == b'{"a": 1}'
    assert event_data(b"data:nospace\n\n") == b"nospace"
    multi = b"event: message\nid: 3\ndata: {\"a\":\ndata: 1}\n: comment\n\n"
    assert event_data(multi) == b'{"a":\n1}'
    assert event_data(b"data: x\r\ndata: y\r\n\r\n") == b"x\ny"
    assert event_data(b": keep-alive\n\n") == b""


def test_usage_event_classification() -> None:
    assert usage_event(USAGE_EVENT) == (EXPECTED_USAGE, True)
    assert usage_event(sse(content_chunk("Hi"))) == (None, False)
    assert usage_event(DONE) == (None, False)
    with_choices = sse({**content_chunk("x", "stop"), "usage": USAGE})
    assert usage_event(with_choices) == (EXPECTED_USAGE, False)


# --- SseUsageTap -------------------------------------------------------------------------------


def test_stream_fixture_is_realistic() -> None:
    assert STREAM.count(b"\n\n") == 6
    assert STREAM.endswith(USAGE_EVENT + DONE)
    assert STRIPPED != STREAM


def test_tap_whole_stream_without_strip() -> None:
    tap = SseUsageTap(strip_usage=False)
    assert tap.feed(STREAM, True) is None
    assert tap.usage == EXPECTED_USAGE


def test_tap_whole_stream_with_strip() -> None:
    tap = SseUsageTap(strip_usage=True)
    assert tap.feed(STREAM, True) == STRIPPED
    assert tap.usage == EXPECTED_USAGE


def test_tap_without_strip_every_two_way_split() -> None:
    for chunks in two_way_splits(STREAM):
        tap = SseUsageTap(strip_usage=False)
        results = [tap.feed(chunks[0], False), tap.feed(chunks[1], True)]
        assert results == [None, None], len(chunks[0])
        assert tap.usage == EXPECTED_USAGE, len(chunks[0])


def test_tap_with_strip_every_two_way_split() -> None:
    for chunks in two_way_splits(STREAM):
        tap = SseUsageTap(strip_usage=True)
        assert run_tap(tap, chunks) == STRIPPED, len(chunks[0])
        assert tap.usage == EXPECTED_USAGE, len(chunks[0])


def test_tap_one_byte_chunks() -> None:
    plain = SseUsageTap(strip_usage=False)
    for i, byte in enumerate(byte_chunks(STREAM)):
        assert plain.feed(byte, i == len(STREAM) - 1) is None
    assert plain.usage == EXPECTED_USAGE

    stripping = SseUsageTap(strip_usage=True)
    assert run_tap(stripping, byte_chunks(STREAM)) == STRIPPED
    assert stripping.usage == EXPECTED_USAGE


def test_tap_crlf_stream_every_two_way_split() -> None:
    crlf = STREAM.replace(b"\n\n", b"\r\n\r\n")
    expected = STRIPPED.replace(b"\n\n", b"\r\n\r\n")
    for chunks in two_way_splits(crlf):
        tap = SseUsageTap(strip_usage=True)
        assert run_tap(tap, chunks) == expected, len(chunks[0])
        assert tap.usage == EXPECTED_USAGE


def test_tap_unchanged_chunks_pass_as_none_when_stripping() -> None:
    tap = SseUsageTap(strip_usage=True)
    assert tap.feed(PREFIX, False) is None
    assert tap.usage is None
    assert tap.feed(USAGE_EVENT + DONE, True) == DONE
    assert tap.usage == EXPECTED_USAGE


def test_tap_withholds_partial_event_until_complete() -> None:
    tap = SseUsageTap(strip_usage=True)
    first = sse(content_chunk("Hi"))
    assert tap.feed(first + b"data: {\"id\"", False) == first
    assert tap.feed(b':"c1"}\n\n', False) == b'data: {"id":"c1"}\n\n'


def test_tap_flushes_unterminated_tail_at_end_of_stream() -> None:
    tap = SseUsageTap(strip_usage=True)
    assert tap.feed(PREFIX + b"data: [DONE]", False) == PREFIX
    assert tap.feed(b"", True) == b"data: [DONE]"


def test_tap_null_usage_only_stream_has_no_usage() -> None:
    stream = sse(content_chunk("Hi")) + sse(content_chunk("", "stop")) + DONE
    for strip in (False, True):
        tap = SseUsageTap(strip_usage=strip)
        assert run_tap(tap, byte_chunks(stream)) == stream
        assert tap.usage is None


def test_tap_keeps_usage_event_that_also_has_choices() -> None:
    final = sse({**content_chunk("", "stop"), "usage": USAGE})
    stream = sse(content_chunk("Hi")) + final + DONE
    tap = SseUsageTap(strip_usage=True)
    assert run_tap(tap, [stream[:10], stream[10:]]) == stream
    assert tap.usage == EXPECTED_USAGE
