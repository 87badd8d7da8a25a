"""Anthropic Messages responses -> OpenAI chat completions: whole bodies and SSE streams.

Usage: Anthropic's `input_tokens` excludes cached input, so OpenAI's `prompt_tokens` is
`input_tokens + cache_read_input_tokens + cache_creation_input_tokens`, and `cached_tokens` is
`cache_read_input_tokens`. Anthropic bills thinking as output without a separate count, so
`reasoning_tokens` stays 0. Thinking text is returned as `reasoning_content`.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from ext_proc.translators import openai_wire as oai
from ext_proc.usage import Usage, event_data, split_events

JSONObject = dict[str, Any]

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Status of an `error` event inside a 200 stream, by Anthropic error type.
STREAM_ERROR_STATUSES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 503,
}


def anthropic_finish_reason(stop_reason: object) -> str:
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def anthropic_usage_to_usage(usage: JSONObject) -> Usage:
    cache_read = _int(usage.get("cache_read_input_tokens"))
    prompt = _int(usage.get("input_tokens")) + cache_read
    prompt += _int(usage.get("cache_creation_input_tokens"))
    completion = _int(usage.get("output_tokens"))
    return Usage(prompt, completion, prompt + completion, cache_read, 0)


def parse_error(raw: bytes) -> tuple[str, str | None]:
    """(message, Anthropic error type) of an error body `{"type": "error", "error": {...}}`."""
    body = oai.json_or_none(raw)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        kind = error.get("type")
        return error["message"], kind if isinstance(kind, str) else None
    return oai.raw_message(raw), None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class AnthropicChat(oai.WholeBody):
    """A whole `message` body -> one `chat.completion`."""

    __slots__ = ()

    def convert(self, raw: bytes) -> bytes:
        message = oai.json_or_none(raw)
        if not isinstance(message, dict) or message.get("type") != "message":
            return oai.error_object(502, "Unreadable response from the anthropic provider.", None)
        self.usage = anthropic_usage_to_usage(message.get("usage") or {})
        completion = anthropic_to_openai_completion(
            message, self._model, self._created, self.usage
        )
        return orjson.dumps(completion)


def anthropic_to_openai_completion(
    message: JSONObject, model: str, created: int, usage: Usage
) -> JSONObject:
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[JSONObject] = []
    for block in message.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "thinking":
            thinking.append(block.get("thinking") or "")
        elif kind == "tool_use":
            calls.append(oai.tool_call(block["id"], block["name"], block.get("input") or {}))
    text = "".join(texts) if texts else None
    return oai.chat_completion(
        response_id=str(message.get("id") or ""),
        created=created,
        model=model,
        message=oai.assistant_message(text, "".join(thinking) or None, calls),
        finish_reason=anthropic_finish_reason(message.get("stop_reason")),
        usage=usage,
    )


class AnthropicChatStream:
    """Anthropic SSE events -> OpenAI `chat.completion.chunk` events, chunk by chunk."""

    def __init__(self, request_model: str) -> None:
        self.usage: Usage | None = None
        self._writer = oai.ChunkWriter(request_model, int(time.time()))
        self._pending = b""
        self._tool_indexes: dict[int, int] = {}  # Anthropic block index -> OpenAI tool index
        self._message_usage: JSONObject = {}
        self._done = False

    def status(self, upstream_status: int) -> int:
        return upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return oai.SSE_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        events, self._pending = split_events(self._pending + chunk)
        if end_of_stream and self._pending.strip():
            events.append(self._pending)
            self._pending = b""
        out = [self._event(event) for event in events if not self._done]
        if end_of_stream and not self._done:
            self._done = True
            out.append(oai.sse_error(502, "The anthropic stream ended early.", "stream_truncated"))
        return b"".join(out)

    def _event(self, event: bytes) -> bytes:
        data = oai.json_or_none(event_data(event))
        if not isinstance(data, dict):
            return b""
        handlers = {
            "message_start": self._message_start,
            "content_block_start": self._block_start,
            "content_block_delta": self._block_delta,
            "message_delta": self._message_delta,
            "message_stop": self._message_stop,
            "error": self._error,
        }  # ping, content_block_stop and future event types carry nothing to translate
        handler = handlers.get(str(data.get("type")))
        return handler(data) if handler is not None else b""

    def _message_start(self, data: JSONObject) -> bytes:
        message = data.get("message") or {}
        self._writer.response_id = str(message.get("id") or "")
        self._message_usage = dict(message.get("usage") or {})
        return self._writer.delta({"role": "assistant", "content": ""})

    def _block_start(self, data: JSONObject) -> bytes:
        block = data.get("content_block") or {}
        if block.get("type") == "tool_use":
            index = len(self._tool_indexes)
            self._tool_indexes[_int(data.get("index"))] = index
            call = oai.tool_call(block.get("id") or "", block.get("name") or "", "")
            return self._writer.delta({"tool_calls": [{"index": index, **call}]})
        if block.get("type") == "text" and block.get("text"):
            return self._writer.delta({"content": block["text"]})
        return b""

    def _block_delta(self, data: JSONObject) -> bytes:
        delta = data.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            return self._writer.delta({"content": delta.get("text") or ""})
        if kind == "thinking_delta":
            return self._writer.delta({"reasoning_content": delta.get("thinking") or ""})
        if kind == "input_json_delta" and delta.get("partial_json"):
            index = self._tool_indexes.get(_int(data.get("index")), 0)
            function = {"arguments": delta["partial_json"]}
            return self._writer.delta({"tool_calls": [{"index": index, "function": function}]})
        return b""  # signature_delta, citations_delta, empty input_json_delta

    def _message_delta(self, data: JSONObject) -> bytes:
        self._message_usage.update(data.get("usage") or {})
        reason = anthropic_finish_reason((data.get("delta") or {}).get("stop_reason"))
        return self._writer.delta({}, reason)

    def _message_stop(self, data: JSONObject) -> bytes:
        self._done = True
        self.usage = anthropic_usage_to_usage(self._message_usage)
        return self._writer.usage(self.usage) + oai.SSE_DONE

    def _error(self, data: JSONObject) -> bytes:
        self._done = True
        error = data.get("error") or {}
        kind = error.get("type") if isinstance(error.get("type"), str) else None
        status = STREAM_ERROR_STATUSES.get(kind or "", 500)
        return oai.sse_error(status, str(error.get("message") or "Stream error"), kind)
