"""Anthropic Messages translator: request bodies, responses, streams, errors (pure, no I/O)."""

from __future__ import annotations

import types
from typing import Any

import orjson
import pytest
from translator_support import (
    choice_deltas,
    feed,
    feed_split,
    fixture,
    sse_payloads,
    target_of,
    without_volatile,
)

from ext_proc.translators import anthropic_response, openai_wire
from ext_proc.translators.anthropic import (
    DEFAULT_MAX_TOKENS,
    THINKING_BUDGETS,
    AnthropicTranslator,
)
from ext_proc.translators.base import CHAT, TOOLS_STREAM, VISION, Target, TranslationError

TRANSLATOR = AnthropicTranslator()
TARGET = Target("anthropic", "claude-3-5-haiku-20241022")
USER = [{"role": "user", "content": "Hello there"}]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = types.SimpleNamespace(time=lambda: 1.7e9)
    monkeypatch.setattr(anthropic_response, "time", clock)
    monkeypatch.setattr(openai_wire, "time", clock)  # whole-body replies take `created` there


def translate(body: dict[str, Any], target: Target = TARGET) -> dict[str, Any]:
    request = TRANSLATOR.request("chat.completions", {"model": "m", **body}, target)
    payload: dict[str, Any] = orjson.loads(request.body)
    return payload


def rejected(body: dict[str, Any]) -> TranslationError:
    with pytest.raises(TranslationError) as caught:
        translate(body)
    return caught.value


# -- requests ----------------------------------------------------------------------------------


def test_request_fixture_with_tools_images_and_tool_results() -> None:
    case = fixture("anthropic", "request_tools_images.json")
    target = target_of(case["target"])
    request = TRANSLATOR.request("chat.completions", case["openai_request"], target)
    assert request.path == case["path"]
    assert [list(h) for h in request.headers] == case["headers"]
    assert orjson.loads(request.body) == case["provider_request"]


def test_capabilities_are_declared() -> None:
    assert {CHAT, TOOLS_STREAM, VISION} <= TRANSLATOR.capabilities
    assert "embeddings" not in TRANSLATOR.capabilities


def test_max_tokens_defaults_by_documented_rule() -> None:
    assert translate({"messages": USER})["max_tokens"] == DEFAULT_MAX_TOKENS
    custom = Target("anthropic", "c", options={"default_max_tokens": "512"})
    assert translate({"messages": USER}, custom)["max_tokens"] == 512
    assert translate({"messages": USER, "max_tokens": 7})["max_tokens"] == 7
    both = {"messages": USER, "max_tokens": 7, "max_completion_tokens": 9}
    assert translate(both)["max_tokens"] == 9


def test_reasoning_effort_enables_thinking_within_max_tokens() -> None:
    payload = translate({"messages": USER, "reasoning_effort": "medium"})
    budget = THINKING_BUDGETS["medium"]
    assert payload["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert payload["max_tokens"] == DEFAULT_MAX_TOKENS + budget
    error = rejected({"messages": USER, "reasoning_effort": "high", "max_completion_tokens": 100})
    assert error.param == "max_completion_tokens"


def test_version_header_option_model_fallback_and_stream_flag() -> None:
    target = Target("anthropic", "", "/p", {"anthropic_version": "2024-01-01"})
    request = TRANSLATOR.request("chat.completions", {"model": "m", "messages": USER,
                                                      "stream": True}, target)
    assert request.path == "/p/v1/messages"
    assert ("anthropic-version", "2024-01-01") in request.headers
    body = orjson.loads(request.body)
    assert body["model"] == "m" and body["stream"] is True


def test_system_and_developer_messages_are_hoisted_and_turns_merged() -> None:
    payload = translate({"messages": [
        {"role": "developer", "content": "Rule one."},
        {"role": "user", "content": "a"},
        {"role": "system", "content": [{"type": "text", "text": "Rule two."}]},
        {"role": "user", "content": [{"type": "text", "text": "b"}]},
    ]})
    assert payload["system"] == [{"type": "text", "text": "Rule one."},
                                 {"type": "text", "text": "Rule two."}]
    assert payload["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "f"}}, {"type": "tool", "name": "f"}),
    ],
)
def test_tool_choice_mapping(choice: object, expected: dict[str, Any]) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    payload = translate({"messages": USER, "tools": tools, "tool_choice": choice})
    assert payload["tool_choice"] == expected
    assert payload["tools"] == [{"name": "f", "input_schema": {"type": "object",
                                                                "properties": {}}}]


def test_dropped_params_are_not_sent() -> None:
    payload = translate({"messages": USER, "seed": 1, "store": True, "service_tier": "auto",
                         "metadata": {"a": "b"}, "n": 1, "logprobs": False})
    assert set(payload) == {"model", "messages", "max_tokens"}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": 1}, "frequency_penalty"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"temperature": 1.5}, "temperature"),
        ({"logit_bias": {"1": 2}}, "logit_bias"),
        ({"audio": {"voice": "x"}}, "audio"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"stop": 3}, "stop"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
)
def test_unsupported_params_are_rejected_by_name(extra: dict[str, Any], param: str) -> None:
    assert rejected({"messages": USER, **extra}).param == param


@pytest.mark.parametrize(
    ("part", "param"),
    [
        ({"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}, "image_url"),
        ({"type": "image_url", "image_url": {"url": "data:image/png,abc"}}, "image_url"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}, "image_url"),
        ({"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}, ""),
    ],
)
def test_bad_content_parts_are_rejected_naming_the_part(part: dict[str, Any], param: str) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}, part]}]
    expected = "messages[0].content[1]" + (f".{param}" if param else "")
    assert rejected({"messages": messages}).param == expected


def test_malformed_tool_history_is_rejected() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "[1]"}}
    messages = [*USER, {"role": "assistant", "tool_calls": [call]}]
    error = rejected({"messages": messages})
    assert error.param == "messages[1].tool_calls[0].function.arguments"
    no_id = [*USER, {"role": "tool", "content": "x"}]
    assert rejected({"messages": no_id}).param == "messages[1].tool_call_id"


def test_embeddings_are_not_served() -> None:
    with pytest.raises(TranslationError) as caught:
        TRANSLATOR.request("embeddings", {"model": "m", "input": "x"}, TARGET)
    assert caught.value.status == 404


# -- non-streaming responses -------------------------------------------------------------------


def test_response_fixture_with_thinking_tool_use_and_cache_usage() -> None:
    case = fixture("anthropic", "response_tool_use.json")
    response = TRANSLATOR.response("chat.completions", 200, False, "my-claude")
    out = orjson.loads(response.body(orjson.dumps(case["provider_response"]), True))
    assert without_volatile(out) == case["openai_response"]
    assert out["created"] == 1_700_000_000
    assert response.usage is not None and response.usage.cached_tokens == 1000
    assert response.headers() == (("content-type", "application/json"),)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"),
     ("tool_use", "tool_calls"), ("refusal", "content_filter"), ("pause_turn", "stop")],
)
def test_every_stop_reason_maps_to_a_finish_reason(stop_reason: str, finish_reason: str) -> None:
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "c",
               "content": [{"type": "text", "text": "hi"}], "stop_reason": stop_reason,
               "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}
    response = TRANSLATOR.response("chat.completions", 200, False, "m")
    out = orjson.loads(response.body(orjson.dumps(message), True))
    assert out["choices"][0]["finish_reason"] == finish_reason
    assert out["choices"][0]["message"]["content"] == "hi"
    assert out["usage"]["total_tokens"] == 4


# -- streams -----------------------------------------------------------------------------------


def stream_case() -> tuple[bytes, dict[str, Any]]:
    case = fixture("anthropic", "stream_tool_use.sse.json")
    return case["provider_stream"].encode(), case


def translate_stream(data: bytes, size: int | None = None) -> bytes:
    return feed(TRANSLATOR.response("chat.completions", 200, True, "my-claude"), data, size)


def test_stream_fixture_translates_to_openai_chunks_with_usage_last() -> None:
    data, case = stream_case()
    response = TRANSLATOR.response("chat.completions", 200, True, "my-claude")
    payloads = sse_payloads(feed(response, data, None))
    assert choice_deltas(payloads) == case["openai_deltas"]
    assert payloads[-2]["choices"] == [] and payloads[-2]["usage"] == case["openai_usage"]
    assert payloads[-1] == "[DONE]"
    assert {p["id"] for p in payloads[:-1]} == {"msg_014p7gG3wDgGV9EUtLvnow3U"}
    assert {p["object"] for p in payloads[:-1]} == {"chat.completion.chunk"}
    assert response.usage is not None and response.usage.prompt_tokens == 572
    assert response.headers()[0] == ("content-type", "text/event-stream")


def test_stream_output_is_identical_for_every_split_offset_and_one_byte_chunks() -> None:
    data, _ = stream_case()
    whole = translate_stream(data)
    assert translate_stream(data, 1) == whole
    assert translate_stream(data.replace(b"\n", b"\r\n"), 7) == whole
    for offset in range(len(data) + 1):
        response = TRANSLATOR.response("chat.completions", 200, True, "my-claude")
        assert feed_split(response, data, offset) == whole, offset


def test_stream_error_event_becomes_an_openai_error_without_done() -> None:
    data = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1",'
            b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
            b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
            b'"message":"Overloaded"}}\n\n')
    payloads = sse_payloads(translate_stream(data))
    assert payloads[-1]["error"]["message"] == "Overloaded"
    assert payloads[-1]["error"]["code"] == "overloaded_error"
    assert payloads[-1]["error"]["type"] == "server_error"
    assert "[DONE]" not in payloads


def test_truncated_stream_ends_with_an_error() -> None:
    data, _ = stream_case()
    cut = data[: data.index(b"event: message_delta")]
    payloads = sse_payloads(translate_stream(cut, 5))
    assert payloads[-1]["error"]["code"] == "stream_truncated"


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_error_bodies_keep_the_message_and_map_the_status(stream: bool) -> None:
    for case in fixture("anthropic", "errors.json")["cases"]:
        response = TRANSLATOR.response("chat.completions", case["status"], stream, "m")
        assert response.status(case["status"]) == case["client_status"]
        assert response.headers() == (("content-type", "application/json"),)
        raw = orjson.dumps(case["body"])
        error = orjson.loads(feed(response, raw, 4 if stream else None))["error"]
        assert error["message"] == case["body"]["error"]["message"]
        assert error["type"] == case["client_type"]
        assert error["code"] == case["body"]["error"]["type"]
        assert response.usage is None


def test_unparseable_error_body_is_passed_as_the_message() -> None:
    response = TRANSLATOR.response("chat.completions", 502, False, "m")
    error = orjson.loads(response.body(b"<html>Bad gateway</html>", True))["error"]
    assert error["message"] == "<html>Bad gateway</html>" and error["type"] == "server_error"
