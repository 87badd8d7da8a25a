"""Fake Anthropic Messages API: validation like the real one, wire format, knobs, round trip."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from translator_support import choice_deltas, feed, sse_payloads

from ext_proc.translators.anthropic import AnthropicTranslator
from ext_proc.translators.base import Target
from ext_proc.usage import event_data, split_events
from fake_providers import FAKES
from fake_providers.__main__ import build_parser
from fake_providers.anthropic import create_app

HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
PROMPT = "one two three four five six seven eight nine ten eleven twelve thirteen"
USER = [{"role": "user", "content": PROMPT}]
REPLY = "Mock response to: one two three four five six seven eight nine ten eleven twelve"
WEATHER = {"name": "get_weather", "input_schema": {"type": "object", "properties": {
    "city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"]}}


def post(body: object, headers: dict[str, str] | None = None, path: str = "/v1/messages",
         raw: bytes | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            content = raw if raw is not None else orjson.dumps(body)
            return await client.post(path, content=content,
                                     headers=HEADERS if headers is None else headers)

    return asyncio.run(go())


def messages(**fields: Any) -> dict[str, Any]:
    return {"model": "claude-test", "max_tokens": 100, "messages": USER, **fields}


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    events, rest = split_events(raw)
    assert rest == b""
    out = []
    for event in events:
        name = event.split(b"\n", 1)[0].removeprefix(b"event: ").decode()
        out.append((name, orjson.loads(event_data(event))))
    return out


# -- auth, headers and validation --------------------------------------------------------------


def test_missing_api_key_is_a_401_and_the_seen_key_is_echoed() -> None:
    response = post(messages(), {"anthropic-version": "2023-06-01"})
    assert response.status_code == 401
    assert response.json()["error"] == {"type": "authentication_error",
                                         "message": "x-api-key header is required"}
    assert response.headers["x-mock-saw-auth"] == "none"
    assert post(messages()).headers["x-mock-saw-auth"] == "sk-ant-test"


def test_missing_version_header_is_a_400() -> None:
    response = post(messages(), {"x-api-key": "k"})
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert "anthropic-version" in response.json()["error"]["message"]


TOOL_USE = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f",
                                              "input": {}}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "c", "messages": USER}, "max_tokens: Field required"),
        (messages(messages=[{"role": "system", "content": "x"}]), "Input should be 'user'"),
        (messages(messages=[*USER, *USER]), "roles must alternate"),
        (messages(messages=[{"role": "assistant", "content": "x"}]), "first message"),
        (messages(messages=[{"role": "user", "content": ""}]), "must be non-empty"),
        (messages(n=2), "n: Extra inputs are not permitted"),
        (messages(temperature=1.5), "less than or equal to 1"),
        (messages(messages=[*USER, TOOL_USE, *USER]), "`tool_use` ids were found"),
        (messages(messages=[*USER, {"role": "assistant", "content": "a"}, {"role": "user",
          "content": [{"type": "tool_result", "tool_use_id": "t9", "content": "x"}]}]),
         "unexpected `tool_use_id`"),
        (messages(tool_choice={"type": "auto"}), "tool_choice may only be specified"),
        (messages(thinking={"type": "enabled", "budget_tokens": 2048}), "must be greater"),
        (messages(messages=[{"role": "user", "content": [{"type": "image", "source": {
            "type": "base64", "media_type": "image/bmp", "data": "Qk0="}}]}]), "media_type"),
    ],
)
def test_invalid_requests_get_anthropics_400_error_body(body: object, message: str) -> None:
    response = post(body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
    assert message in payload["error"]["message"]
    assert payload["request_id"] == response.headers["request-id"]


def test_unknown_path_and_invalid_json() -> None:
    assert post(messages(), path="/v1/complete").status_code == 404
    assert post(None, raw=b"{not json").json()["error"]["type"] == "invalid_request_error"


# -- answers -----------------------------------------------------------------------------------


def test_plain_answer_is_a_message_with_usage() -> None:
    body = post(messages(system="Be brief.")).json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["id"].startswith("msg_") and body["model"] == "claude-test"
    assert body["content"] == [{"type": "text", "text": REPLY}]
    assert (body["stop_reason"], body["stop_sequence"]) == ("end_turn", None)
    assert body["usage"] == {"input_tokens": 2 + 3 + 13 + 3, "output_tokens": 15,
                             "cache_creation_input_tokens": 0,
                             "cache_read_input_tokens": 0}


def test_max_tokens_and_stop_sequences_end_the_reply() -> None:
    cut = post(messages(max_tokens=4)).json()
    assert cut["content"][0]["text"] == "Mock response to: one"
    assert cut["stop_reason"] == "max_tokens"
    stopped = post(messages(stop_sequences=["three"])).json()
    assert stopped["content"][0]["text"] == "Mock response to: one two "
    assert (stopped["stop_reason"], stopped["stop_sequence"]) == ("stop_sequence", "three")


def test_tool_call_rules() -> None:
    ask = [{"role": "user", "content": "use get_weather for Paris"}]
    body = post(messages(messages=ask, tools=[WEATHER])).json()
    assert body["stop_reason"] == "tool_use"
    assert body["content"][0]["type"] == "tool_use"
    assert body["content"][0]["input"] == {"city": "use get_weather for Paris", "days": 42}
    forced = post(messages(tools=[WEATHER], tool_choice={"type": "any"})).json()
    assert forced["content"][0]["name"] == "get_weather"
    none = post(messages(messages=ask, tools=[WEATHER], tool_choice={"type": "none"})).json()
    assert none["stop_reason"] == "end_turn"
    result_turn = [*ask, {"role": "assistant", "content": [{"type": "tool_use", "id": "t1",
                   "name": "get_weather", "input": {}}]}, {"role": "user", "content": [
                   {"type": "tool_result", "tool_use_id": "t1", "content": "sunny 18C"}]}]
    answer = post(messages(messages=result_turn, tools=[WEATHER])).json()
    assert answer["content"][0]["text"] == "Tool result: sunny 18C"


def test_stream_follows_anthropics_event_sequence() -> None:
    response = post(messages(stream=True, thinking={"type": "enabled", "budget_tokens": 1024},
                             max_tokens=2000))
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.content)
    names = [name for name, _ in events]
    assert all(name == data["type"] for name, data in events)
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop") == 2
    text = "".join(d["delta"].get("text", "") for n, d in events if n == "content_block_delta")
    assert text == REPLY
    kinds = {d["delta"]["type"] for n, d in events if n == "content_block_delta"}
    assert kinds == {"thinking_delta", "signature_delta", "text_delta"}
    assert events[0][1]["message"]["usage"]["input_tokens"] == 16
    assert events[-2][1]["usage"]["output_tokens"] == 14 + 15  # thinking + text words


def test_knobs_inject_errors_stream_errors_and_cache_usage() -> None:
    overloaded = post(messages(), {**HEADERS, "x-mock-error-status": "529"})
    assert overloaded.status_code == 529
    assert overloaded.json()["error"]["type"] == "overloaded_error"
    assert post(messages(), {**HEADERS, "x-mock-error-status": "abc"}).status_code == 400
    cached = post(messages(), {**HEADERS, "x-mock-cache-read-tokens": "64"}).json()
    assert cached["usage"]["cache_read_input_tokens"] == 64
    broken = post(messages(stream=True), {**HEADERS, "x-mock-stream-error": "overloaded_error"})
    assert sse_events(broken.content)[-1][0] == "error"


def test_registry_and_command_line() -> None:
    assert FAKES["anthropic"] is create_app
    assert build_parser().parse_args(["anthropic", "--port", "9"]).port == 9


# -- translator -> fake -> translator ----------------------------------------------------------


TRANSLATOR = AnthropicTranslator()
TARGET = Target("anthropic", "claude-3-5-haiku-20241022", "/anthropic")


def round_trip(body: dict[str, Any], knobs: dict[str, str] | None = None
               ) -> tuple[int, bytes, Any]:
    request = TRANSLATOR.request("chat.completions", {"model": "public", **body}, TARGET)
    headers = {**dict(request.headers), "x-api-key": "k", **(knobs or {})}
    response = post(None, headers, request.path, request.body)
    translated = TRANSLATOR.response("chat.completions", response.status_code,
                                     bool(body.get("stream")), "public")
    out = feed(translated, response.content, 10)
    return translated.status(response.status_code), out, translated.usage


OPENAI_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters":
                 WEATHER["input_schema"]}}]


def test_round_trip_plain_completion() -> None:
    status, out, usage = round_trip({"messages": [{"role": "system", "content": "Be brief."},
                                                  *USER], "max_tokens": 50})
    completion = orjson.loads(out)
    assert status == 200 and completion["model"] == "public"
    assert completion["choices"][0]["message"]["content"] == REPLY
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert usage.prompt_tokens == 21 and usage.completion_tokens == 15


def test_round_trip_tool_call_then_tool_result_with_image() -> None:
    ask = [{"role": "user", "content": [{"type": "text", "text": "get_weather please"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]
    status, out, _ = round_trip({"messages": ask, "tools": OPENAI_TOOLS})
    message = orjson.loads(out)["choices"][0]["message"]
    call = message["tool_calls"][0]
    assert orjson.loads(call["function"]["arguments"])["days"] == 42
    follow_up = [*ask, message, {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    status, out, _ = round_trip({"messages": follow_up, "tools": OPENAI_TOOLS})
    assert status == 200
    assert orjson.loads(out)["choices"][0]["message"]["content"] == "Tool result: sunny"


def test_round_trip_streamed_tool_call_and_reasoning() -> None:
    body = {"messages": [{"role": "user", "content": "get_weather now"}], "tools": OPENAI_TOOLS,
            "stream": True, "reasoning_effort": "low"}
    status, out, usage = round_trip(body)
    assert status == 200
    payloads = sse_payloads(out)
    deltas = choice_deltas(payloads)
    reasoning = "".join(d["delta"].get("reasoning_content", "") for d in deltas)
    assert reasoning == "Thinking about: get_weather now"
    arguments = "".join(call["function"]["arguments"] for d in deltas
                        for call in d["delta"].get("tool_calls", []))
    assert orjson.loads(arguments) == {"city": "get_weather now", "days": 42}
    assert deltas[-1]["finish_reason"] == "tool_calls"
    assert payloads[-1] == "[DONE]"
    assert payloads[-2]["usage"]["prompt_tokens"] == usage.prompt_tokens


def test_round_trip_errors_and_length_finish() -> None:
    status, out, _ = round_trip({"messages": USER}, {"x-mock-error-status": "529"})
    assert status == 503 and orjson.loads(out)["error"]["code"] == "overloaded_error"
    status, out, _ = round_trip({"messages": USER, "max_completion_tokens": 3})
    assert orjson.loads(out)["choices"][0]["finish_reason"] == "length"
