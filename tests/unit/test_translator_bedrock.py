"""Bedrock translator: Converse bodies, ConverseStream eventstream frames, Titan, errors."""

from __future__ import annotations

import struct
import types
import zlib
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

from ext_proc.translators import bedrock_response, openai_wire
from ext_proc.translators.base import EMBEDDINGS, TOOLS_STREAM, Target, TranslationError
from ext_proc.translators.bedrock import BedrockTranslator
from ext_proc.translators.registry import TRANSLATORS, UnknownProvider, translator_for
from fake_providers.eventstream import event_frame, exception_frame

TRANSLATOR = BedrockTranslator()
TARGET = Target("bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "", {"region": "us-east-1"})
USER = [{"role": "user", "content": "Hello there"}]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


@pytest.fixture(autouse=True)
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = types.SimpleNamespace(time=lambda: 1.7e9)
    monkeypatch.setattr(bedrock_response, "time", clock)
    monkeypatch.setattr(openai_wire, "time", clock)  # whole-body replies take `created` there
    monkeypatch.setattr(bedrock_response, "_new_id", lambda: "chatcmpl-fixed")


def translate(body: dict[str, Any], target: Target = TARGET) -> dict[str, Any]:
    request = TRANSLATOR.request("chat.completions", {"model": "m", **body}, target)
    payload: dict[str, Any] = orjson.loads(request.body)
    return payload


def rejected(body: dict[str, Any], endpoint: str = "chat.completions") -> TranslationError:
    with pytest.raises(TranslationError) as caught:
        TRANSLATOR.request(endpoint, {"model": "m", **body}, TARGET)
    return caught.value


# -- registry ----------------------------------------------------------------------------------


def test_registry_knows_both_providers_and_fails_loudly_otherwise() -> None:
    assert translator_for("bedrock") is TRANSLATORS["bedrock"]
    assert translator_for("anthropic").name == "anthropic"
    with pytest.raises(UnknownProvider, match="No translator for provider 'nope'") as caught:
        translator_for("nope")
    assert isinstance(caught.value, KeyError)


# -- requests ----------------------------------------------------------------------------------


def test_converse_request_fixture() -> None:
    case = fixture("bedrock", "request_converse.json")
    target = target_of(case["target"])
    request = TRANSLATOR.request("chat.completions", case["openai_request"], target)
    assert request.path == case["path"]
    assert orjson.loads(request.body) == case["provider_request"]
    assert ("content-type", "application/json") in request.headers
    assert EMBEDDINGS in TRANSLATOR.capabilities and TOOLS_STREAM in TRANSLATOR.capabilities


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("us.anthropic.claude-3-5-sonnet-20240620-v1:0",
         "/b/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"),
        ("arn:aws:bedrock:us-east-1:123:inference-profile/us.meta.llama3-1-8b-instruct-v1:0",
         "/b/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2F"
         "us.meta.llama3-1-8b-instruct-v1%3A0/converse-stream"),
    ],
)
def test_stream_path_encodes_the_model_id_whole(model: str, path: str) -> None:
    options = {"include_usage": True}
    body = {"model": "m", "messages": USER, "stream": True, "stream_options": options}
    request = TRANSLATOR.request("chat.completions", body, Target("bedrock", model, "/b"))
    assert request.path == path
    assert ("accept", "application/vnd.amazon.eventstream") in request.headers
    assert "stream" not in orjson.loads(request.body)


def test_minimal_request_has_no_optional_sections() -> None:
    assert translate({"messages": USER}) == {"messages": [{"role": "user", "content": [
        {"text": "Hello there"}]}]}


def test_tool_choice_mapping_and_none_drops_tool_config() -> None:
    def choice(value: object) -> object:
        return translate({"messages": USER, "tools": TOOLS, "tool_choice": value})

    assert choice("auto")["toolConfig"]["toolChoice"] == {"auto": {}}
    assert choice("required")["toolConfig"]["toolChoice"] == {"any": {}}
    forced = {"type": "function", "function": {"name": "f"}}
    assert choice(forced)["toolConfig"]["toolChoice"] == {"tool": {"name": "f"}}
    assert "toolConfig" not in choice("none")


def test_tool_history_needs_tool_definitions() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    history = [*USER, {"role": "assistant", "tool_calls": [call]},
               {"role": "tool", "tool_call_id": "c1", "content": "done"}]
    assert rejected({"messages": history}).param == "tools"
    assert rejected({"messages": history, "tools": TOOLS, "tool_choice": "none"}).param == (
        "tool_choice"
    )
    assert translate({"messages": history, "tools": TOOLS})["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "c1", "content": [{"text": "done"}]}}
    ]


def test_dropped_params_are_not_sent() -> None:
    payload = translate({"messages": USER, "user": "u", "seed": 3, "parallel_tool_calls": True,
                         "store": False, "n": 1})
    assert set(payload) == {"messages"}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 3}, "n"),
        ({"reasoning_effort": "low"}, "reasoning_effort"),
        ({"response_format": {"type": "json_schema", "json_schema": {}}}, "response_format"),
        ({"temperature": 2}, "temperature"),
        ({"presence_penalty": 0.1}, "presence_penalty"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"tool_choice": "auto"}, "tool_choice"),
    ],
)
def test_unsupported_params_are_rejected_by_name(extra: dict[str, Any], param: str) -> None:
    assert rejected({"messages": USER, **extra}).param == param


@pytest.mark.parametrize(
    "url", ["https://example.com/cat.png", "data:image/bmp;base64,Qk0="]
)
def test_images_must_be_inline_in_a_supported_format(url: str) -> None:
    content = [{"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": url}}]
    error = rejected({"messages": [{"role": "user", "content": content}]})
    assert error.param == "messages[0].content[1].image_url"


# -- embeddings --------------------------------------------------------------------------------


def test_titan_request_and_response_fixture() -> None:
    case = fixture("bedrock", "titan_embeddings.json")
    target = target_of(case["target"])
    request = TRANSLATOR.request("embeddings", case["openai_request"], target)
    assert request.path == case["path"]
    assert orjson.loads(request.body) == case["provider_request"]
    response = TRANSLATOR.response("embeddings", 200, False, "titan-v2")
    out = orjson.loads(response.body(orjson.dumps(case["provider_response"]), True))
    assert out == case["openai_response"]
    assert response.usage is not None and response.usage.prompt_tokens == 5


def test_titan_model_from_body_and_base64_request_answered_in_floats() -> None:
    body = {"model": "amazon.titan-embed-text-v2:0", "input": "hi", "encoding_format": "base64"}
    request = TRANSLATOR.request("embeddings", body, Target("bedrock", ""))
    assert request.path == "/model/amazon.titan-embed-text-v2%3A0/invoke"
    assert orjson.loads(request.body) == {"inputText": "hi"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": ["a", "b"]}, "input"),
        ({"input": [[1, 2, 3]]}, "input"),
        ({"input": ""}, "input"),
        ({"input": "a", "dimensions": 300}, "dimensions"),
        ({"input": "a", "something": 1}, "something"),
    ],
)
def test_titan_rejections_name_the_param(body: dict[str, Any], param: str) -> None:
    assert rejected(body, "embeddings").param == param


# -- Converse responses ------------------------------------------------------------------------


def test_converse_response_fixture() -> None:
    case = fixture("bedrock", "response_converse_tool_use.json")
    response = TRANSLATOR.response("chat.completions", 200, False, "my-claude")
    out = orjson.loads(response.body(orjson.dumps(case["provider_response"]), True))
    assert out["id"] == "chatcmpl-fixed"
    assert without_volatile(out, "id") == case["openai_response"]


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"),
     ("tool_use", "tool_calls"), ("guardrail_intervened", "content_filter"),
     ("content_filtered", "content_filter")],
)
def test_every_stop_reason_maps_to_a_finish_reason(stop_reason: str, finish_reason: str) -> None:
    body = {"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}},
            "stopReason": stop_reason, "usage": {"inputTokens": 2, "outputTokens": 1,
                                                 "totalTokens": 3}}
    response = TRANSLATOR.response("chat.completions", 200, False, "m")
    out = orjson.loads(response.body(orjson.dumps(body), True))
    assert out["choices"][0]["finish_reason"] == finish_reason
    assert out["usage"]["total_tokens"] == 3


# -- ConverseStream ----------------------------------------------------------------------------


def stream_bytes() -> tuple[bytes, dict[str, Any]]:
    case = fixture("bedrock", "stream_converse.events.json")
    return b"".join(event_frame(f["event"], f["payload"]) for f in case["frames"]), case


def translate_stream(data: bytes, size: int | None = None) -> bytes:
    return feed(TRANSLATOR.response("chat.completions", 200, True, "my-claude"), data, size)


def test_frame_encoding_matches_the_documented_layout() -> None:
    frame = event_frame("messageStop", {"stopReason": "end_turn"})
    total, headers_length, prelude_crc = struct.unpack(">III", frame[:12])
    assert total == len(frame)
    assert prelude_crc == zlib.crc32(frame[:8])
    assert struct.unpack(">I", frame[-4:])[0] == zlib.crc32(frame[:-4])
    assert frame[12 : 12 + headers_length].startswith(b"\x0b:event-type\x07\x00\x0bmessageStop")
    assert frame[12 + headers_length : -4] == b'{"stopReason":"end_turn"}'


def test_stream_fixture_translates_to_openai_chunks_with_usage_last() -> None:
    data, case = stream_bytes()
    response = TRANSLATOR.response("chat.completions", 200, True, "my-claude")
    payloads = sse_payloads(feed(response, data, None))
    assert choice_deltas(payloads) == case["openai_deltas"]
    assert payloads[-2] == {"id": "chatcmpl-fixed", "object": "chat.completion.chunk",
                            "created": 1_700_000_000, "model": "my-claude", "choices": [],
                            "usage": case["openai_usage"]}
    assert payloads[-1] == "[DONE]"
    assert response.usage is not None and response.usage.cached_tokens == 5


def test_stream_output_is_identical_for_every_split_offset_and_one_byte_chunks() -> None:
    data, _ = stream_bytes()
    whole = translate_stream(data)
    assert translate_stream(data, 1) == whole
    for offset in range(len(data) + 1):
        response = TRANSLATOR.response("chat.completions", 200, True, "my-claude")
        assert feed_split(response, data, offset) == whole, offset


def test_corrupted_frame_ends_the_stream_with_an_error() -> None:
    data, _ = stream_bytes()
    corrupted = bytearray(data)
    corrupted[len(event_frame("messageStart", {"role": "assistant", "p": "abcd"})) + 20] ^= 0xFF
    payloads = sse_payloads(translate_stream(bytes(corrupted), 64))
    assert payloads[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "eventstream" in payloads[-1]["error"]["message"]


def test_stream_exception_frame_becomes_an_openai_error() -> None:
    data = event_frame("messageStart", {"role": "assistant"}) + exception_frame(
        "throttlingException", "Too many tokens, please wait before trying again."
    )
    payloads = sse_payloads(translate_stream(data, 3))
    error = payloads[-1]["error"]
    assert error["message"] == "Too many tokens, please wait before trying again."
    assert (error["type"], error["code"]) == ("rate_limit_error", "throttlingException")
    assert "[DONE]" not in payloads


def test_stream_without_metadata_still_ends_with_usage_and_done() -> None:
    data = event_frame("messageStart", {"role": "assistant"}) + event_frame(
        "messageStop", {"stopReason": "max_tokens"}
    )
    payloads = sse_payloads(translate_stream(data))
    assert payloads[-3]["choices"][0]["finish_reason"] == "length"
    assert payloads[-2]["usage"]["total_tokens"] == 0 and payloads[-1] == "[DONE]"


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "stream"), [("chat.completions", False),
                                                  ("chat.completions", True),
                                                  ("embeddings", False)])
def test_error_bodies_keep_the_message_and_map_the_status(endpoint: str, stream: bool) -> None:
    for case in fixture("bedrock", "errors.json")["cases"]:
        response = TRANSLATOR.response(endpoint, case["status"], stream, "m")
        assert response.status(case["status"]) == case["client_status"]
        assert response.headers() == (("content-type", "application/json"),)
        error = orjson.loads(feed(response, orjson.dumps(case["body"]), 5))["error"]
        expected = case["body"].get("message") or case["body"]["Message"]
        assert (error["message"], error["code"]) == (expected, case["code"])
