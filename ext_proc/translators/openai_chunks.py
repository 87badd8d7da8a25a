"""OpenAI-format output pieces shared by translators: chunks, SSE frames, usage, errors.

Translators build provider-neutral OpenAI objects here so that every provider answers the
client with the same shapes (the ones the official `openai` SDK parses).
"""

from __future__ import annotations

from typing import Any

import orjson

from ext_proc.errors import error_body
from ext_proc.usage import Usage

JSONObject = dict[str, Any]

SSE_DONE = b"data: [DONE]\n\n"
JSON_HEADERS: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)
SSE_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
)


def sse_frame(payload: JSONObject) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def usage_object(usage: Usage) -> JSONObject:
    """The OpenAI `usage` object, with the cached/reasoning details when non-zero."""
    body: JSONObject = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_tokens:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    if usage.reasoning_tokens:
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return body


def chunk(
    completion_id: str, created: int, model: str, choices: list[JSONObject]
) -> JSONObject:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choices,
    }


def delta_choice(index: int, delta: JSONObject, finish_reason: str | None = None) -> JSONObject:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def usage_chunk(completion_id: str, created: int, model: str, usage: JSONObject) -> JSONObject:
    """The final usage-only chunk (`choices: []`) that OpenAI sends before `[DONE]`."""
    return {**chunk(completion_id, created, model, []), "usage": usage}


def error_type_for_status(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 404:
        return "not_found_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def openai_error(
    status: int, message: str, code: str | None = None, param: str | None = None
) -> bytes:
    return error_body(message, error_type_for_status(status), code, param)


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`, or None when it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def text_excerpt(raw: bytes, limit: int = 500) -> str:
    """A readable excerpt of a non-JSON upstream body (e.g. an HTML proxy error page)."""
    return raw[:limit].decode("utf-8", "replace").strip() or "empty response body"
