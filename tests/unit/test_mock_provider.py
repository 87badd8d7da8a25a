"""Tests of the built-in mock provider: pure builders, knobs, the ASGI app and the real server."""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import os
import random
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from mock_provider import responses
from mock_provider.app import AbortedStream, ASGIApp, create_app, route
from mock_provider.knobs import KnobError, Knobs
from mock_provider.responses import count_prompt_tokens, count_text_tokens
from mock_provider.server import build_parser, knobs_from_args

REPO_ROOT = Path(__file__).resolve().parents[2]
CHAT = "/v1/chat/completions"
USER_TEXT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
MESSAGES: list[Any] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": USER_TEXT},
]
REPLY = "Mock response to: one two three four five six seven eight nine ten eleven twelve"


# -- helpers ----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    messages: list[MutableMapping[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        return b"".join(message.get("body", b"") for message in self.messages)

    def json(self) -> Any:
        return orjson.loads(self.body)


async def call(
    app: ASGIApp,
    method: str,
    path: str,
    payload: object = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    split: bool = False,
) -> Reply:
    """Drive the ASGI app directly, recording every body message and when it was sent."""
    body = raw if raw is not None else (b"" if payload is None else orjson.dumps(payload))
    parts = [body[: len(body) // 2], body[len(body) // 2 :]] if split else [body]
    incoming = [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
        for index, part in enumerate(parts)
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    reply = Reply(status=0, headers={})

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            reply.messages.append(message)
            reply.times.append(time.perf_counter())

    await app(scope, receive, send)
    return reply


def sse_payloads(body: bytes) -> list[str]:
    """The ``data:`` payloads of an SSE body, asserting OpenAI's exact framing."""
    assert body.endswith(b"\n\n")
    events = body.decode().split("\n\n")[:-1]
    assert all(event.startswith("data: ") and "\n" not in event for event in events)
    return [event.removeprefix("data: ") for event in events]


def chat_body(**extra: Any) -> dict[str, Any]:
    return {"model": "mock-gpt", "messages": MESSAGES, **extra}


@pytest.fixture
def app() -> ASGIApp:
    return create_app(Knobs())


# -- pure builders ----------------------------------------------------------------------------


def test_token_counting() -> None:
    assert count_text_tokens("  hello   big\nworld ") == 3
    assert count_text_tokens("") == 0
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "a b"},
        {"role": "user", "content": [{"type": "text", "text": "c d e"}, {"type": "image_url"}]},
        {"role": "assistant", "content": None, "tool_calls": []},
    ]
    assert count_prompt_tokens(messages) == 2 + 3 + 0 + 3 * 3
    assert count_prompt_tokens(MESSAGES) == 2 + 14 + 6


def test_reply_uses_first_twelve_words_of_last_user_message() -> None:
    assert " ".join(responses.reply_words(MESSAGES)) == REPLY
    later = [*MESSAGES, {"role": "assistant", "content": "x"}, {"role": "user", "content": "hi"}]
    assert responses.reply_words(later) == ["Mock", "response", "to:", "hi"]
    assert responses.reply_words([{"role": "system", "content": "s"}]) == list(
        responses.REPLY_PREFIX
    )


def test_chat_result_truncates_to_max_tokens() -> None:
    def result(max_tokens: int | None) -> responses.ChatResult:
        return responses.chat_result(
            model="m", messages=MESSAGES, max_tokens=max_tokens, response_id="id", created=1
        )

    assert (result(None).content, result(None).finish_reason) == (REPLY, "stop")
    assert (result(15).content, result(15).finish_reason) == (REPLY, "stop")
    assert (result(2).content, result(2).finish_reason) == ("Mock response", "length")
    assert result(2).usage == {"prompt_tokens": 22, "completion_tokens": 2, "total_tokens": 24}


def test_chat_completion_body() -> None:
    result = responses.chat_result(
        model="m", messages=MESSAGES, max_tokens=None, response_id="chatcmpl-x", created=7
    )
    body = responses.chat_completion(result)
    assert body["id"] == "chatcmpl-x"
    assert body["object"] == "chat.completion"
    assert body["created"] == 7
    assert body["model"] == "m"
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == REPLY
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 22, "completion_tokens": 15, "total_tokens": 37}


def test_completion_id_is_deterministic() -> None:
    first = responses.completion_id(b'{"a": 1}')
    assert first == responses.completion_id(b'{"a": 1}')
    assert first != responses.completion_id(b'{"a": 2}')
    assert first.startswith("chatcmpl-mock-")


@pytest.mark.parametrize("chunks", [None, 1, 2, 4, 100])
def test_content_deltas_concatenate_to_content(chunks: int | None) -> None:
    words = REPLY.split()
    deltas = responses.content_deltas(words, chunks)
    assert "".join(deltas) == REPLY
    assert len(deltas) == (len(words) if chunks is None else min(chunks, len(words)))


@pytest.mark.parametrize("include_usage", [False, True])
def test_chat_chunks(include_usage: bool) -> None:
    result = responses.chat_result(
        model="m", messages=MESSAGES, max_tokens=None, response_id="c", created=1
    )
    chunks = responses.chat_chunks(result, include_usage=include_usage)
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = chunks[1 : 1 + len(result.words)]
    assert "".join(chunk["choices"][0]["delta"]["content"] for chunk in content) == REPLY
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-2])
    finish = chunks[1 + len(result.words)]
    assert finish["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"] == result.usage
        assert all(chunk["usage"] is None for chunk in chunks[:-1])
        assert len(chunks) == len(result.words) + 3
    else:
        assert all("usage" not in chunk for chunk in chunks)
        assert len(chunks) == len(result.words) + 2


def test_sse_event_framing() -> None:
    assert responses.sse_event({"a": [1]}) == b'data: {"a":[1]}\n\n'
    assert responses.SSE_DONE == b"data: [DONE]\n\n"


def test_embedding_vectors_are_deterministic_unit_float32() -> None:
    vector = responses.embedding_vector("hello", 8)
    assert vector == responses.embedding_vector("hello", 8)
    assert vector != responses.embedding_vector("hello!", 8)
    assert len(responses.embedding_vector([1, 2, 3], 32)) == 32
    assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-6)
    assert list(struct.unpack("<8f", struct.pack("<8f", *vector))) == vector


def test_embeddings_response_base64_matches_floats() -> None:
    inputs: list[responses.EmbeddingInput] = ["a b c", [5, 6]]
    floats = responses.embeddings_response(model="e", inputs=inputs, dimensions=4)
    packed = responses.embeddings_response(
        model="e", inputs=inputs, dimensions=4, encoding_format="base64"
    )
    assert floats["usage"] == {"prompt_tokens": 5, "total_tokens": 5}
    for plain, encoded in zip(floats["data"], packed["data"], strict=True):
        decoded = struct.unpack("<4f", base64.b64decode(encoded["embedding"]))
        assert list(decoded) == plain["embedding"]
        assert encoded["index"] == plain["index"]


def test_models_and_errors() -> None:
    ids = [model["id"] for model in responses.models_list()["data"]]
    assert ids == ["mock-gpt", "mock-gpt-mini", "mock-embedding"]
    assert responses.model_object("mock-gpt") == responses.models_list()["data"][0]
    assert responses.model_object("nope") is None
    assert responses.error_body("m", param="p") == {
        "error": {"message": "m", "type": "invalid_request_error", "param": "p", "code": None}
    }
    assert responses.injected_error(429)["error"]["type"] == "rate_limit_error"
    assert responses.injected_error(429)["error"]["code"] == "rate_limit_exceeded"
    assert responses.injected_error(503)["error"]["type"] == "server_error"
    assert responses.injected_error(401)["error"]["type"] == "invalid_request_error"


def test_route() -> None:
    assert route("/v1/chat/completions") == ("chat", "")
    assert route("/openai/v1/chat/completions") == ("chat", "")
    assert route("/x/embeddings") == ("embeddings", "")
    assert route("/v1/models") == ("models", "")
    assert route("/v1/models/org/model-1") == ("model", "org/model-1")
    assert route("/healthz") == ("health", "")
    assert route("/v1/completions") is None
    assert route("/v1/models/") is None


# -- knobs ------------------------------------------------------------------------------------


def test_knobs_from_env() -> None:
    assert Knobs.from_env({}) == Knobs()
    env = {
        "OMG_MOCK_LATENCY_MS": "12.5",
        "OMG_MOCK_CHUNK_DELAY_MS": "3",
        "OMG_MOCK_ERROR_STATUS": "503",
        "OMG_MOCK_SEED": "42",
    }
    assert Knobs.from_env(env) == Knobs(12.5, 3.0, 503, 1.0, None, 42)
    assert Knobs.from_env({**env, "OMG_MOCK_ERROR_RATE": "0.25"}).error_rate == 0.25
    with pytest.raises(KnobError) as caught:
        Knobs.from_env({"OMG_MOCK_ERROR_RATE": "2"})
    assert caught.value.source == "OMG_MOCK_ERROR_RATE"


def test_knobs_with_headers() -> None:
    base = Knobs(latency_ms=5, error_status=500, error_rate=0.1)
    assert base.with_headers({"x-other": "1"}) is base
    assert base.with_headers({"x-mock-error-rate": "0.5"}) == Knobs(5, 0, 500, 0.5)
    assert base.with_headers({"x-mock-error-status": "429"}) == Knobs(5, 0, 429, 1.0)
    assert base.with_headers({"x-mock-error-status": "0"}).error_status == 0
    assert base.with_headers({"x-mock-chunks": "2", "x-mock-chunk-delay-ms": "1"}) == Knobs(
        5, 1.0, 500, 0.1, 2
    )
    for name, value in [
        ("x-mock-latency-ms", "soon"),
        ("x-mock-latency-ms", "-1"),
        ("x-mock-error-status", "200"),
        ("x-mock-error-rate", "nan"),
        ("x-mock-chunks", "0"),
    ]:
        with pytest.raises(KnobError) as caught:
            base.with_headers({name: value})
        assert caught.value.source == name


def test_cli_knob_flags_override_env() -> None:
    args = build_parser().parse_args(["--port", "1", "--error-status", "429", "--seed", "3"])
    knobs = knobs_from_args(args, Knobs(latency_ms=7, error_rate=0.2))
    assert knobs == Knobs(latency_ms=7, error_status=429, error_rate=1.0, seed=3)
    args = build_parser().parse_args(["--latency-ms", "x"])
    with pytest.raises(KnobError, match="--latency-ms"):
        knobs_from_args(args, Knobs())


# -- the ASGI app -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_chat_completion(app: ASGIApp) -> None:
    reply = await call(app, "POST", CHAT, chat_body(), {"Authorization": "Bearer sk-client"})
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-mock-saw-authorization"] == "Bearer sk-client"
    assert reply.headers["x-mock-request-id"]
    body = reply.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "mock-gpt"
    assert isinstance(body["created"], int)
    assert body["id"].startswith("chatcmpl-mock-")
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": REPLY,
        "refusal": None,
    }
    assert body["usage"] == {"prompt_tokens": 22, "completion_tokens": 15, "total_tokens": 37}

    again = await call(app, "POST", "/openai/v1/chat/completions", chat_body(), split=True)
    assert again.json()["id"] == body["id"]
    assert again.headers["x-mock-saw-authorization"] == "none"
    assert again.headers["x-mock-request-id"] != reply.headers["x-mock-request-id"]


@pytest.mark.asyncio
async def test_chat_max_tokens(app: ASGIApp) -> None:
    for key in ("max_tokens", "max_completion_tokens"):
        body = (await call(app, "POST", CHAT, chat_body(**{key: 4}))).json()
        assert body["choices"][0]["message"]["content"] == "Mock response to: one"
        assert body["choices"][0]["finish_reason"] == "length"
        assert body["usage"]["completion_tokens"] == 4


@pytest.mark.asyncio
@pytest.mark.parametrize("include_usage", [False, True])
async def test_chat_streaming(app: ASGIApp, include_usage: bool) -> None:
    options = {"stream_options": {"include_usage": include_usage}}
    reply = await call(app, "POST", CHAT, chat_body(stream=True, **options))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert "content-length" not in reply.headers
    *events, closing = reply.messages
    assert all(message["more_body"] is True for message in events)
    assert closing == {"type": "http.response.body", "body": b"", "more_body": False}
    payloads = sse_payloads(reply.body)
    assert [message["body"] for message in events] == [
        f"data: {payload}\n\n".encode() for payload in payloads
    ]
    assert payloads[-1] == "[DONE]"
    chunks = [orjson.loads(payload) for payload in payloads[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [chunk["choices"][0]["delta"].get("content", "") for chunk in chunks[:-1]]
    assert "".join(deltas) == REPLY
    assert len(chunks) == 15 + 2 + include_usage
    finish = chunks[16]
    assert finish["choices"][0]["delta"] == {}
    assert finish["choices"][0]["finish_reason"] == "stop"
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"] == {
            "prompt_tokens": 22,
            "completion_tokens": 15,
            "total_tokens": 37,
        }
        assert all(chunk["usage"] is None for chunk in chunks[:-1])
    else:
        assert all("usage" not in chunk for chunk in chunks)


@pytest.mark.asyncio
async def test_stream_chunk_delay_and_chunks_knobs(app: ASGIApp) -> None:
    headers = {"x-mock-chunk-delay-ms": "20", "x-mock-chunks": "3"}
    reply = await call(app, "POST", CHAT, chat_body(stream=True), headers)
    payloads = sse_payloads(reply.body)
    assert len(payloads) == 1 + 3 + 1 + 1  # role, 3 content deltas, finish, [DONE]
    gaps = [later - earlier for earlier, later in itertools.pairwise(reply.times[:-1])]
    assert len(gaps) == 5
    assert all(gap >= 0.015 for gap in gaps)


@pytest.mark.asyncio
async def test_abort_after_chunks_drops_a_started_stream(app: ASGIApp) -> None:
    with pytest.raises(AbortedStream):
        await call(app, "POST", CHAT, chat_body(stream=True),
                   {"x-mock-abort-after-chunks": "2"})
    assert Knobs.from_env({"OMG_MOCK_ABORT_AFTER_CHUNKS": "3"}).abort_after_chunks == 3
    with pytest.raises(KnobError):
        Knobs().with_headers({"x-mock-abort-after-chunks": "0"})


@pytest.mark.asyncio
async def test_latency_knob(app: ASGIApp) -> None:
    started = time.perf_counter()
    reply = await call(app, "POST", CHAT, chat_body(), {"x-mock-latency-ms": "100"})
    assert reply.status == 200
    assert 0.09 <= time.perf_counter() - started < 2
    started = time.perf_counter()
    await call(create_app(Knobs(latency_ms=60)), "GET", "/v1/models")
    assert time.perf_counter() - started >= 0.05


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (429, "rate_limit_error", "rate_limit_exceeded"),
        (500, "server_error", None),
        (503, "server_error", None),
        (401, "invalid_request_error", None),
    ],
)
async def test_error_status_knob(
    app: ASGIApp, status: int, error_type: str, code: str | None
) -> None:
    reply = await call(app, "POST", CHAT, chat_body(), {"x-mock-error-status": str(status)})
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json"
    error = reply.json()["error"]
    assert (error["type"], error["code"]) == (error_type, code)
    assert set(error) == {"message", "type", "param", "code"}
    assert ("retry-after" in reply.headers) is (status == 429)
    if status == 429:
        assert int(reply.headers["retry-after"]) >= 0


@pytest.mark.asyncio
async def test_error_rate_is_deterministic_with_seed() -> None:
    app = create_app(Knobs(error_status=503, error_rate=0.5, seed=1234))
    expected_rng = random.Random(1234)
    expected = [503 if expected_rng.random() < 0.5 else 200 for _ in range(40)]
    statuses = [(await call(app, "POST", CHAT, chat_body())).status for _ in range(40)]
    assert statuses == expected
    assert 0 < statuses.count(503) < 40
    # Headers override the process knobs: rate 0 never fails, status 0 turns injection off.
    for headers in ({"x-mock-error-rate": "0"}, {"x-mock-error-status": "0"}):
        assert (await call(app, "POST", CHAT, chat_body(), headers)).status == 200


@pytest.mark.asyncio
async def test_invalid_knob_header(app: ASGIApp) -> None:
    reply = await call(app, "POST", CHAT, chat_body(), {"x-mock-error-rate": "lots"})
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "x-mock-error-rate"


@pytest.mark.asyncio
async def test_health_ignores_knobs() -> None:
    app = create_app(Knobs(error_status=500, error_rate=1.0, latency_ms=60_000))
    reply = await asyncio.wait_for(call(app, "GET", "/healthz"), timeout=5)
    assert (reply.status, reply.body) == (200, b"ok")
    failing = create_app(Knobs(error_status=500, error_rate=1.0))
    assert (await call(failing, "GET", "/v1/models")).status == 500


VALIDATION_CASES = [
    ({"messages": MESSAGES}, "model", "missing_required_parameter"),
    ({"model": 3, "messages": MESSAGES}, "model", "invalid_type"),
    ({"model": "m"}, "messages", "missing_required_parameter"),
    ({"model": "m", "messages": "hi"}, "messages", "invalid_type"),
    ({"model": "m", "messages": []}, "messages", "empty_array"),
    ({"model": "m", "messages": ["hi"]}, "messages[0]", "invalid_type"),
    ({"model": "m", "messages": [{"content": "x"}]}, "messages[0].role", None),
    ({"model": "m", "messages": [{"role": "bot", "content": "x"}]}, "messages[0].role", None),
    ({"model": "m", "messages": [{"role": "user"}]}, "messages[0].content", None),
    ({"model": "m", "messages": [{"role": "user", "content": 1}]}, "messages[0].content", None),
    (
        {"model": "m", "messages": [{"role": "user", "content": [1]}]},
        "messages[0].content[0]",
        "invalid_type",
    ),
    ({**chat_body(), "stream": "yes"}, "stream", "invalid_type"),
    ({**chat_body(), "stream_options": {"include_usage": True}}, "stream_options", None),
    ({**chat_body(), "max_tokens": 0}, "max_tokens", "integer_out_of_range"),
    ({**chat_body(), "max_completion_tokens": True}, "max_completion_tokens", "invalid_type"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("payload", "param", "code"), VALIDATION_CASES)
async def test_chat_validation(
    app: ASGIApp, payload: dict[str, Any], param: str, code: str | None
) -> None:
    reply = await call(app, "POST", CHAT, payload)
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code


@pytest.mark.asyncio
@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"'])
async def test_body_must_be_a_json_object(app: ASGIApp, raw: bytes) -> None:
    for path in (CHAT, "/v1/embeddings"):
        reply = await call(app, "POST", path, raw=raw)
        assert reply.status == 400
        assert reply.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.asyncio
async def test_embeddings(app: ASGIApp) -> None:
    payload = {"model": "mock-embedding", "input": ["hello world", "bye"], "dimensions": 16}
    floats = (await call(app, "POST", "/v1/embeddings", payload)).json()
    assert floats["object"] == "list"
    assert floats["model"] == "mock-embedding"
    assert floats["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert [item["index"] for item in floats["data"]] == [0, 1]
    assert all(len(item["embedding"]) == 16 for item in floats["data"])
    payload["encoding_format"] = "base64"
    reply = await call(app, "POST", "/proxy/v1/embeddings", payload)
    for plain, packed in zip(floats["data"], reply.json()["data"], strict=True):
        decoded = list(struct.unpack("<16f", base64.b64decode(packed["embedding"])))
        assert decoded == plain["embedding"]

    single = (await call(app, "POST", "/v1/embeddings", {"model": "e", "input": "hi"})).json()
    assert len(single["data"]) == 1
    assert len(single["data"][0]["embedding"]) == responses.DEFAULT_EMBEDDING_DIMENSIONS
    tokens = {"model": "e", "input": [[1, 2, 3], [4]]}
    assert (await call(app, "POST", "/v1/embeddings", tokens)).json()["usage"]["total_tokens"] == 4
    one_array = {"model": "e", "input": [1, 2, 3]}
    assert len((await call(app, "POST", "/v1/embeddings", one_array)).json()["data"]) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "e"}, "input"),
        ({"model": "e", "input": ""}, "input[0]"),
        ({"model": "e", "input": []}, "input"),
        ({"model": "e", "input": ["a", 1]}, "input[1]"),
        ({"model": "e", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "e", "input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
async def test_embeddings_validation(app: ASGIApp, payload: dict[str, Any], param: str) -> None:
    reply = await call(app, "POST", "/v1/embeddings", payload)
    assert reply.status == 400
    assert reply.json()["error"]["param"] == param


@pytest.mark.asyncio
async def test_models(app: ASGIApp) -> None:
    listed = (await call(app, "GET", "/v1/models")).json()
    assert listed["object"] == "list"
    assert {model["id"] for model in listed["data"]} == {
        "mock-gpt",
        "mock-gpt-mini",
        "mock-embedding",
    }
    one = await call(app, "GET", "/openai/v1/models/mock-gpt-mini")
    assert one.json() == {
        "id": "mock-gpt-mini",
        "object": "model",
        "created": responses.MODELS_CREATED,
        "owned_by": responses.MODEL_OWNER,
    }
    missing = await call(app, "GET", "/v1/models/gpt-17")
    assert missing.status == 404
    assert missing.json()["error"]["code"] == "model_not_found"


@pytest.mark.asyncio
async def test_unknown_path_and_wrong_method(app: ASGIApp) -> None:
    missing = await call(app, "POST", "/v1/completions", chat_body())
    assert missing.status == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert missing.headers["x-mock-saw-authorization"] == "none"
    wrong = await call(app, "GET", CHAT)
    assert wrong.status == 405
    assert wrong.headers["allow"] == "POST"
    assert wrong.json()["error"]["type"] == "invalid_request_error"
    assert (await call(app, "POST", "/v1/models")).status == 405


@pytest.mark.asyncio
async def test_lifespan(app: ASGIApp) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app({"type": "lifespan"}, receive, send), timeout=1)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


# -- the real server, driven by the official SDK --------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMG_MOCK_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_provider", "--port", str(port)], cwd=REPO_ROOT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, "mock provider exited early"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).text == "ok":
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_real_server_with_openai_sdk(server_url: str) -> None:
    client = openai.OpenAI(base_url=f"{server_url}/v1", api_key="sk-client", max_retries=0)

    raw = client.chat.completions.with_raw_response.create(model="mock-gpt", messages=MESSAGES)
    assert raw.headers["x-mock-saw-authorization"] == "Bearer sk-client"
    completion = raw.parse()
    assert completion.choices[0].message.content == REPLY
    assert completion.model == "mock-gpt"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_prompt_tokens(MESSAGES)
    assert completion.usage.completion_tokens == count_text_tokens(REPLY)

    stream = client.chat.completions.create(
        model="mock-gpt",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    deltas, usage = [], None
    for chunk in stream:
        if chunk.choices:
            deltas.append(chunk.choices[0].delta.content or "")
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(deltas) == completion.choices[0].message.content
    assert usage == completion.usage

    embeddings = client.embeddings.create(model="mock-embedding", input=["alpha", "beta gamma"])
    assert [len(item.embedding) for item in embeddings.data] == [8, 8]
    assert embeddings.data[0].embedding == responses.embedding_vector("alpha", 8)
    assert embeddings.usage.prompt_tokens == 3

    assert [model.id for model in client.models.list()] == list(responses.MODEL_IDS)
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="mock-gpt", messages=[])
    assert caught.value.param == "messages"
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model="mock-gpt", messages=MESSAGES, extra_headers={"x-mock-error-status": "429"}
        )
