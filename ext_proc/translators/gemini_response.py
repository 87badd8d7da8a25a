"""Gemini `GenerateContentResponse` (whole or as SSE) -> OpenAI chat completion (or chunks).

Streams: each SSE event is a whole `GenerateContentResponse` holding candidate deltas; text
parts become content deltas, a `functionCall` part (always whole) becomes one tool-call delta,
`finishReason` the finish chunk, and the last `usageMetadata` seen the final usage chunk.
Parts marked `thought` (reasoning summaries) are not forwarded; their tokens are counted.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import orjson

from ext_proc.translators import openai_chunks as oc
from ext_proc.usage import Usage

JSONObject = dict[str, Any]
Clock = Callable[[], float]

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "content_filter",
}
# Gemini's canonical status names -> OpenAI-style error codes are just lower-cased; a few
# answers need a different HTTP status for OpenAI clients.
API_KEY_INVALID = "API_KEY_INVALID"


def gemini_finish_to_finish_reason(reason: Any, called_function: bool) -> str:
    if called_function and reason in (None, "STOP"):
        return "tool_calls"
    return FINISH_REASONS.get(reason, "stop") if isinstance(reason, str) else "stop"


def gemini_usage_to_usage(metadata: Any) -> Usage | None:
    """OpenAI counts reasoning ("thoughts") inside completion tokens; Gemini apart."""
    if not isinstance(metadata, dict):
        return None
    prompt = _int(metadata.get("promptTokenCount")) + _int(metadata.get("toolUsePromptTokenCount"))
    thoughts = _int(metadata.get("thoughtsTokenCount"))
    completion = _int(metadata.get("candidatesTokenCount")) + thoughts
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=_int(metadata.get("totalTokenCount")) or prompt + completion,
        cached_tokens=_int(metadata.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def completion_id(response: JSONObject) -> str:
    response_id = response.get("responseId")
    return f"chatcmpl-{response_id}" if isinstance(response_id, str) else "chatcmpl-gemini"


def tool_call(function_call: JSONObject, seed: str) -> JSONObject:
    """An OpenAI tool call; Gemini ids are kept, else one is derived from the call itself."""
    arguments = orjson.dumps(function_call.get("args") or {}).decode()
    call_id = function_call.get("id")
    if not isinstance(call_id, str) or not call_id:
        digest = hashlib.blake2b(f"{seed}|{function_call.get('name')}|{arguments}".encode(),
                                 digest_size=12)
        call_id = "call_" + digest.hexdigest()
    function = {"name": function_call.get("name", ""), "arguments": arguments}
    return {"id": call_id, "type": "function", "function": function}


def candidate_parts(candidate: JSONObject) -> list[JSONObject]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts or [] if isinstance(part, dict) and not part.get("thought")]


def candidate_message(candidate: JSONObject, seed: str) -> JSONObject:
    parts = candidate_parts(candidate)
    texts = [part["text"] for part in parts if isinstance(part.get("text"), str)]
    calls = [
        tool_call(part["functionCall"], f"{seed}|{k}")
        for k, part in enumerate(parts) if isinstance(part.get("functionCall"), dict)
    ]
    message: JSONObject = {
        "role": "assistant", "content": "".join(texts) if texts else None, "refusal": None
    }
    if calls:
        message["tool_calls"] = calls
    return message


def gemini_to_openai_completion(response: JSONObject, model: str, created: int) -> JSONObject:
    choices = []
    for position, candidate in enumerate(response.get("candidates") or []):
        index = candidate.get("index", position)
        message = candidate_message(candidate, f"{response.get('responseId')}|{index}")
        reason = gemini_finish_to_finish_reason(
            candidate.get("finishReason"), "tool_calls" in message
        )
        choices.append(
            {"index": index, "message": message, "logprobs": None, "finish_reason": reason}
        )
    if not choices and (response.get("promptFeedback") or {}).get("blockReason"):
        message = {"role": "assistant", "content": None, "refusal": None}
        choices.append(
            {"index": 0, "message": message, "logprobs": None, "finish_reason": "content_filter"}
        )
    usage = gemini_usage_to_usage(response.get("usageMetadata")) or Usage()
    return {
        "id": completion_id(response),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": oc.usage_object(usage),
    }


class GeminiChatResponse:
    """A whole `generateContent` answer."""

    def __init__(self, request_model: str, clock: Clock = time.time) -> None:
        self.usage: Usage | None = None
        self._model = request_model
        self._clock = clock

    def status(self, upstream_status: int) -> int:
        return upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return oc.JSON_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        response = oc.parse_json(chunk)
        if not isinstance(response, dict):
            return oc.openai_error(502, "Gemini returned an unreadable body.", "bad_upstream")
        self.usage = gemini_usage_to_usage(response.get("usageMetadata"))
        completion = gemini_to_openai_completion(response, self._model, int(self._clock()))
        return orjson.dumps(completion)


class GeminiStreamResponse(oc.SseTranslation):
    """A `streamGenerateContent?alt=sse` answer, translated event by event."""

    def __init__(self, request_model: str, clock: Clock = time.time) -> None:
        super().__init__()
        self._model = request_model
        self._created = int(clock())
        self._id = "chatcmpl-gemini"
        self._started: set[int] = set()
        self._tool_calls: dict[int, int] = {}  # candidate index -> tool calls sent

    def event(self, data: bytes) -> bytes:
        response = oc.parse_json(data) if data else None
        if not isinstance(response, dict) or self.closed:
            return b""
        if isinstance(response.get("error"), dict):
            return oc.sse_frame({"error": gemini_error_to_openai(response["error"])[1]})
        if isinstance(response.get("responseId"), str):
            self._id = completion_id(response)
        self.usage = gemini_usage_to_usage(response.get("usageMetadata")) or self.usage
        frames = []
        for position, candidate in enumerate(response.get("candidates") or []):
            index = candidate.get("index", position)
            frames += [oc.sse_frame(self._chunk([choice])) for choice in
                       self._candidate_choices(candidate, index)]
        return b"".join(frames)

    def _candidate_choices(self, candidate: JSONObject, index: int) -> list[JSONObject]:
        choices = []
        if index not in self._started:
            self._started.add(index)
            choices.append(oc.delta_choice(index, {"role": "assistant", "content": ""}))
        for part in candidate_parts(candidate):
            if isinstance(part.get("text"), str) and part["text"]:
                choices.append(oc.delta_choice(index, {"content": part["text"]}))
            elif isinstance(part.get("functionCall"), dict):
                choices.append(oc.delta_choice(index, self._tool_delta(part, index)))
        if candidate.get("finishReason"):
            reason = gemini_finish_to_finish_reason(
                candidate["finishReason"], index in self._tool_calls
            )
            choices.append(oc.delta_choice(index, {}, reason))
        return choices

    def _tool_delta(self, part: JSONObject, index: int) -> JSONObject:
        position = self._tool_calls.get(index, 0)
        self._tool_calls[index] = position + 1
        call = tool_call(part["functionCall"], f"{self._id}|{index}|{position}")
        return {"tool_calls": [{"index": position, **call}]}

    def _chunk(self, choices: list[JSONObject]) -> JSONObject:
        return oc.chunk(self._id, self._created, self._model, choices)

    def close(self) -> bytes:
        self.closed = True
        usage = b""
        if self.usage is not None:
            usage_object = oc.usage_object(self.usage)
            usage = oc.sse_frame(oc.usage_chunk(self._id, self._created, self._model,
                                                usage_object))
        return usage + oc.SSE_DONE


# -- errors ---------------------------------------------------------------------------------


def gemini_error_to_openai(error: JSONObject) -> tuple[int | None, JSONObject]:
    """(status override or None, OpenAI `error` object) for a Gemini `error` object."""
    status_name = error.get("status") if isinstance(error.get("status"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    code = error.get("code") if isinstance(error.get("code"), int) else 500
    override = 401 if _has_reason(error, API_KEY_INVALID) else None
    status = override or code
    openai = {
        "message": message or f"Gemini error {status_name or code}",
        "type": oc.error_type_for_status(status),
        "param": None,
        "code": status_name.lower() if status_name else None,
    }
    return override, openai


def _has_reason(error: JSONObject, reason: str) -> bool:
    details = error.get("details")
    return isinstance(details, list) and any(
        isinstance(item, dict) and item.get("reason") == reason for item in details
    )


class GeminiErrorResponse:
    """A non-2xx answer: Google's `{"error": {code, message, status}}` -> OpenAI's."""

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self._override: int | None = None
        self._pending = b""

    def status(self, upstream_status: int) -> int:
        return self._override or upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return oc.JSON_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        self._pending += chunk
        if not end_of_stream:
            return b""
        parsed = oc.parse_json(self._pending)
        # `streamGenerateContent` without alt=sse wraps answers in an array; be lenient.
        if isinstance(parsed, list) and parsed:
            parsed = parsed[0]
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if not isinstance(error, dict):
            return oc.openai_error(502, oc.text_excerpt(self._pending), "upstream_error")
        self._override, openai = gemini_error_to_openai(error)
        return orjson.dumps({"error": openai})
