"""Responses of OpenAI-compatible providers, normalised to exactly what OpenAI sends.

Bodies pass through unchanged except where a provider differs:

* streamed usage: Groq puts it in `x_groq.usage` of the last chunk, Mistral and Cerebras in
  the last content chunk, OpenAI/Azure/OpenRouter in a usage-only chunk. Whatever the place,
  it is taken out of content chunks and sent once as the standard usage-only chunk right
  before `[DONE]`;
* SSE comments (OpenRouter's `: OPENROUTER PROCESSING` keep-alives) are dropped;
* error bodies: Mistral's and Cerebras' top-level `{"message", "type", ...}`, Azure's and
  OpenRouter's `{"error": {"code", "message"}}` become OpenAI's four-field `error` object;
  Mistral's 422 validation errors become 400s.
"""

from __future__ import annotations

from typing import Any

import orjson

from ext_proc.translators import openai_chunks as oc
from ext_proc.usage import Usage, usage_from_object

JSONObject = dict[str, Any]
STATUS_MAP = {422: 400, 529: 503}


def chunk_usage(chunk: JSONObject) -> JSONObject | None:
    """The usage object a chunk carries, wherever the provider put it."""
    if isinstance(chunk.get("usage"), dict):
        return dict(chunk["usage"])
    x_groq = chunk.get("x_groq")
    if isinstance(x_groq, dict) and isinstance(x_groq.get("usage"), dict):
        return dict(x_groq["usage"])
    return None


def without_usage(chunk: JSONObject) -> JSONObject:
    stripped = {key: value for key, value in chunk.items() if key != "usage"}
    x_groq = chunk.get("x_groq")
    if isinstance(x_groq, dict) and "usage" in x_groq:
        stripped["x_groq"] = {key: value for key, value in x_groq.items() if key != "usage"}
    return stripped


class CompatJsonResponse:
    """A whole chat completion or embeddings list: passed through, usage read."""

    def __init__(self) -> None:
        self.usage: Usage | None = None

    def status(self, upstream_status: int) -> int:
        return upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return oc.JSON_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        parsed = oc.parse_json(chunk)
        if not isinstance(parsed, dict):
            return oc.openai_error(502, oc.text_excerpt(chunk), "bad_upstream")
        usage = chunk_usage(parsed)
        self.usage = usage_from_object(usage)
        if usage is not None and not isinstance(parsed.get("usage"), dict):
            return orjson.dumps({**without_usage(parsed), "usage": usage})
        return chunk


class CompatStreamResponse(oc.SseTranslation):
    """An SSE chat stream with usage moved into the standard final usage chunk."""

    def __init__(self) -> None:
        super().__init__()
        self._usage_object: JSONObject | None = None
        self._last: JSONObject = {}

    def event(self, data: bytes) -> bytes:
        if not data or self.closed:
            return b""  # comments, keep-alives, anything after [DONE]
        if data.strip() == b"[DONE]":
            return self.close()
        parsed = oc.parse_json(data)
        if not isinstance(parsed, dict):
            return b"data: " + data + b"\n\n"
        usage = chunk_usage(parsed)
        if usage is None:
            self._remember(parsed)
            return b"data: " + data + b"\n\n"
        self._usage_object = usage
        self.usage = usage_from_object(usage)
        if not parsed.get("choices"):
            return b""
        stripped = without_usage(parsed)
        self._remember(stripped)
        return oc.sse_frame(stripped)

    def _remember(self, chunk: JSONObject) -> None:
        if "id" in chunk:
            self._last = chunk

    def close(self) -> bytes:
        self.closed = True
        if self._usage_object is None:
            return oc.SSE_DONE
        last = self._last
        usage = oc.usage_chunk(
            str(last.get("id", "")), int(last.get("created", 0) or 0),
            str(last.get("model", "")), self._usage_object,
        )
        return oc.sse_frame(usage) + oc.SSE_DONE


class CompatErrorResponse:
    """A non-2xx answer, normalised to `{"error": {message, type, param, code}}`."""

    def __init__(self, upstream_status: int) -> None:
        self.usage: Usage | None = None
        self._status = STATUS_MAP.get(upstream_status, upstream_status)
        self._pending = b""

    def status(self, upstream_status: int) -> int:
        return STATUS_MAP.get(upstream_status, upstream_status)

    def headers(self) -> tuple[tuple[str, str], ...]:
        return oc.JSON_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        self._pending += chunk
        if not end_of_stream:
            return b""
        return orjson.dumps({"error": compat_error_to_openai(self._pending, self._status)})


def compat_error_to_openai(raw: bytes, status: int) -> JSONObject:
    parsed = oc.parse_json(raw)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        error = parsed if isinstance(parsed, dict) and "message" in parsed else None
    if error is None:
        return _error(oc.text_excerpt(raw), None, None, None, status)
    message = error.get("message")
    if not isinstance(message, str):  # Mistral 422: {"detail": [...]}
        message = orjson.dumps(message).decode() if message is not None else "upstream error"
    return _error(message, error.get("type"), error.get("param"), error.get("code"), status)


def _error(message: str, type_: Any, param: Any, code: Any, status: int) -> JSONObject:
    return {
        "message": message,
        "type": type_ if isinstance(type_, str) else oc.error_type_for_status(status or 500),
        "param": param if isinstance(param, str) and param else None,
        "code": code if isinstance(code, str) else (str(code) if code is not None else None),
    }
