"""Fake Bedrock Runtime: auth shape, validation, Converse JSON, eventstream frames, Titan."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from botocore.eventstream import EventStreamBuffer
from translator_support import choice_deltas, feed, sse_payloads

from ext_proc.translators.base import Target
from ext_proc.translators.bedrock import BedrockTranslator
from fake_providers import FAKES
from fake_providers.bedrock import create_app, route

AUTH = {
    "authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc",
    "x-amz-date": "20250101T000000Z",
}
MODEL = "us.anthropic.claude-3-5-sonnet-20240620-v1%3A0"
CONVERSE = f"/model/{MODEL}/converse"
PROMPT = "one two three four five six seven eight nine ten eleven twelve thirteen"
USER = [{"role": "user", "content": [{"text": PROMPT}]}]
REPLY = "Mock response to: one two three four five six seven eight nine ten eleven twelve"
CITY_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"toolSpec": {"name": "get_weather", "inputSchema": {"json": CITY_SCHEMA}}}


def post(path: str, body: object, headers: dict[str, str] | None = None,
         raw: bytes | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            content = raw if raw is not None else orjson.dumps(body)
            sent = AUTH if headers is None else headers
            return await client.post(path, content=content, headers=sent)

    return asyncio.run(go())


def frames(raw: bytes) -> list[tuple[dict[str, Any], Any]]:
    """Decode with botocore, which checks both CRCs of every frame."""
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    return [(dict(frame.headers), orjson.loads(frame.payload)) for frame in buffer]


# -- routing and auth --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (CONVERSE, ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "converse")),
        ("/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/invoke",
         ("arn:aws:bedrock:us-east-1:1:inference-profile/x", "invoke")),
        ("/model/m/converse-stream", ("m", "converse-stream")),
        ("/model/m/chat", None),
        ("/v1/messages", None),
    ],
)
def test_route(path: str, expected: tuple[str, str] | None) -> None:
    assert route(path) == expected


@pytest.mark.parametrize(
    ("headers", "error_type"),
    [
        ({}, "MissingAuthenticationTokenException"),
        ({"authorization": "Bearer abc", "x-amz-date": "20250101T000000Z"},
         "IncompleteSignatureException"),
        ({"authorization": AUTH["authorization"]}, "IncompleteSignatureException"),
    ],
)
def test_requests_without_sigv4_shape_are_403(headers: dict[str, str], error_type: str) -> None:
    response = post(CONVERSE, {"messages": USER}, headers)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == error_type
    assert set(response.json()) == {"message"}
    assert response.headers["x-mock-saw-auth"] == headers.get("authorization", "none")


# -- Converse validation -----------------------------------------------------------------------


TOOL_USE = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f",
                                                          "input": {}}}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "messages field is required"),
        ({"messages": [*USER, *USER]}, "must alternate between user and assistant"),
        ({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}, "start with a user"),
        ({"messages": [{"role": "system", "content": [{"text": "x"}]}]}, "enum value set"),
        ({"messages": [{"role": "user", "content": [{"text": "  "}]}]}, "is blank"),
        ({"messages": [{"role": "user", "content": []}]}, "is empty"),
        ({"messages": USER, "temperature": 0.5}, "Unknown field 'temperature'"),
        ({"messages": USER, "inferenceConfig": {"temperature": 1.5}}, "less than or equal to 1"),
        ({"messages": USER, "inferenceConfig": {"maxTokens": 0}}, "greater than or equal to 1"),
        ({"messages": [*USER, TOOL_USE]}, "toolConfig field must be defined"),
        ({"messages": [*USER, {"role": "assistant", "content": [{"text": "a"}]}, {"role": "user",
          "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "x"}]}}]}],
          "toolConfig": {"tools": [WEATHER]}}, "exceeds the number of toolUse blocks"),
        ({"messages": [{"role": "user", "content": [{"image": {"format": "bmp", "source": {
            "bytes": "Qk0="}}}]}]}, "[png, jpeg, gif, webp]"),
        ({"messages": USER, "toolConfig": {"tools": [WEATHER], "toolChoice": {"none": {}}}},
         "toolChoice must set exactly one"),
    ],
)
def test_invalid_converse_requests_get_a_validation_exception(body: object, message: str) -> None:
    response = post(CONVERSE, body)
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    assert message in response.json()["message"]


# -- answers -----------------------------------------------------------------------------------


def test_converse_answer_shape_and_usage() -> None:
    body = post(CONVERSE, {"messages": USER, "system": [{"text": "Be brief."}]}).json()
    assert body["output"]["message"] == {"role": "assistant", "content": [{"text": REPLY}]}
    assert body["stopReason"] == "end_turn"
    assert body["usage"] == {"inputTokens": 21, "outputTokens": 15, "totalTokens": 36}
    assert body["metrics"]["latencyMs"] >= 0


def test_inference_config_and_tool_rules() -> None:
    cut = post(CONVERSE, {"messages": USER, "inferenceConfig": {"maxTokens": 3}}).json()
    assert cut["stopReason"] == "max_tokens"
    stop = {"messages": USER, "inferenceConfig": {"stopSequences": ["two"]}}
    assert post(CONVERSE, stop).json()["stopReason"] == "stop_sequence"
    ask = [{"role": "user", "content": [{"text": "call get_weather"}]}]
    called = post(CONVERSE, {"messages": ask, "toolConfig": {"tools": [WEATHER]}}).json()
    assert called["stopReason"] == "tool_use"
    use = called["output"]["message"]["content"][0]["toolUse"]
    assert use["name"] == "get_weather" and use["input"] == {"city": "call get_weather"}


def test_converse_stream_frames_are_valid_eventstream() -> None:
    ask = [{"role": "user", "content": [{"text": "call get_weather"}]}]
    response = post(f"/model/{MODEL}/converse-stream",
                    {"messages": ask, "toolConfig": {"tools": [WEATHER]}})
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    decoded = frames(response.content)
    assert {h[":message-type"] for h, _ in decoded} == {"event"}
    assert {h[":content-type"] for h, _ in decoded} == {"application/json"}
    names = [h[":event-type"] for h, _ in decoded]
    assert names == [
        "messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockDelta",
        "contentBlockStop", "messageStop", "metadata",
    ]
    assert decoded[1][1]["start"]["toolUse"]["name"] == "get_weather"
    arguments = "".join(p["delta"]["toolUse"]["input"] for h, p in decoded
                        if h[":event-type"] == "contentBlockDelta")
    assert orjson.loads(arguments) == {"city": "call get_weather"}
    assert decoded[-2][1]["stopReason"] == "tool_use"
    assert decoded[-1][1]["usage"]["outputTokens"] == 2


def test_knobs_errors_stream_exceptions_and_cache_usage() -> None:
    throttled = post(CONVERSE, {"messages": USER}, {**AUTH, "x-mock-error-status": "429"})
    assert throttled.status_code == 429
    assert throttled.headers["x-amzn-errortype"] == "ThrottlingException"
    cached = post(CONVERSE, {"messages": USER}, {**AUTH, "x-mock-cache-read-tokens": "8"}).json()
    assert cached["usage"]["cacheReadInputTokens"] == 8
    broken = post(f"/model/{MODEL}/converse-stream", {"messages": USER},
                  {**AUTH, "x-mock-stream-error": "throttlingException"})
    last_headers, last_payload = frames(broken.content)[-1]
    assert last_headers[":message-type"] == "exception"
    assert last_headers[":exception-type"] == "throttlingException"
    assert "message" in last_payload


# -- Titan ---------------------------------------------------------------------------------------


TITAN = "/model/amazon.titan-embed-text-v2%3A0/invoke"


def test_titan_embedding_answer() -> None:
    body = post(TITAN, {"inputText": "hello big world", "dimensions": 256}).json()
    assert len(body["embedding"]) == 256 and body["inputTextTokenCount"] == 3
    assert body["embeddingsByType"]["float"] == body["embedding"]
    assert len(post(TITAN, {"inputText": "x"}).json()["embedding"]) == 1024


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"texts": ["a"]}, "extraneous key [texts]"),
        ({}, "required key [inputText]"),
        ({"inputText": "a", "dimensions": 300}, "not a valid enum"),
    ],
)
def test_titan_validation(body: object, message: str) -> None:
    response = post(TITAN, body)
    assert response.status_code == 400 and message in response.json()["message"]


def test_invoke_of_a_non_titan_model_is_404() -> None:
    assert post(f"/model/{MODEL}/invoke", {"inputText": "x"}).status_code == 404


def test_registry() -> None:
    assert FAKES["bedrock"] is create_app


# -- translator -> fake -> translator ----------------------------------------------------------


TRANSLATOR = BedrockTranslator()
TARGET = Target("bedrock", "us.anthropic.claude-3-5-sonnet-20240620-v1:0", "/bedrock",
                {"region": "us-east-1"})
OPENAI_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters":
                 WEATHER["toolSpec"]["inputSchema"]["json"]}}]


def round_trip(endpoint: str, body: dict[str, Any], knobs: dict[str, str] | None = None,
               target: Target = TARGET) -> tuple[int, bytes, Any]:
    request = TRANSLATOR.request(endpoint, {"model": "public", **body}, target)
    headers = {**dict(request.headers), **AUTH, **(knobs or {})}
    response = post(request.path, None, headers, request.body)
    translated = TRANSLATOR.response(endpoint, response.status_code, bool(body.get("stream")),
                                     "public")
    out = feed(translated, response.content, 7)
    return translated.status(response.status_code), out, translated.usage


def test_round_trip_plain_completion() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]
    status, out, usage = round_trip("chat.completions", {"messages": messages})
    completion = orjson.loads(out)
    assert status == 200
    assert completion["choices"][0]["message"]["content"] == REPLY
    assert (usage.prompt_tokens, usage.completion_tokens) == (21, 15)


def test_round_trip_tool_call_then_result_with_image_streamed() -> None:
    ask = [{"role": "user", "content": [{"type": "text", "text": "get_weather please"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]
    status, out, _ = round_trip("chat.completions", {"messages": ask, "tools": OPENAI_TOOLS,
                                                     "stream": True})
    payloads = sse_payloads(out)
    deltas = choice_deltas(payloads)
    start = deltas[1]["delta"]["tool_calls"][0]
    arguments = "".join(c["function"]["arguments"] for d in deltas
                        for c in d["delta"].get("tool_calls", []))
    assert deltas[-1]["finish_reason"] == "tool_calls" and payloads[-1] == "[DONE]"
    call = {"id": start["id"], "type": "function",
            "function": {"name": start["function"]["name"], "arguments": arguments}}
    follow_up = [*ask, {"role": "assistant", "content": None, "tool_calls": [call]},
                 {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    status, out, _ = round_trip("chat.completions", {"messages": follow_up, "tools": OPENAI_TOOLS})
    assert status == 200
    assert orjson.loads(out)["choices"][0]["message"]["content"] == "Tool result: sunny"


def test_round_trip_stream_error_and_http_error() -> None:
    knobs = {"x-mock-stream-error": "throttlingException"}
    _, out, _ = round_trip("chat.completions", {"messages": [{"role": "user", "content": "hi"}],
                                                "stream": True}, knobs)
    assert sse_payloads(out)[-1]["error"]["code"] == "throttlingException"
    status, out, _ = round_trip("chat.completions", {"messages": [{"role": "user",
                                "content": "hi"}]}, {"x-mock-error-status": "424"})
    assert status == 500 and orjson.loads(out)["error"]["code"] == "ModelErrorException"


def test_round_trip_titan_embeddings() -> None:
    target = Target("bedrock", "amazon.titan-embed-text-v2:0", "/bedrock")
    status, out, usage = round_trip("embeddings", {"input": ["hello world"], "dimensions": 512},
                                    target=target)
    body = orjson.loads(out)
    assert status == 200 and len(body["data"][0]["embedding"]) == 512
    assert body["usage"] == {"prompt_tokens": 2, "total_tokens": 2} and usage.prompt_tokens == 2
