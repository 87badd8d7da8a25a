"""OpenAI-format output pieces shared by translators: chunks, SSE frames, usage, errors.

Translators build provider-neutral OpenAI objects here so that every provider answers the
client with the same shapes (the ones the official `openai` SDK parses).
"""

from __future__ import annotations

from typing import Any

import orjson

from ext_proc.errors import error_body
from ext_proc.translators.openai_wire import (  # noqa: F401 (one definition, re-exported)
    JSON_HEADERS,
    SSE_DONE,
    SSE_HEADERS,
    error_type,
    json_or_none,
    usage_object,
)

JSONObject = dict[str, Any]


def sse_frame(payload: JSONObject) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"




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
    return error_type(status)


def openai_error(
    status: int, message: str, code: str | None = None, param: str | None = None
) -> bytes:
    return error_body(message, error_type_for_status(status), code, param)


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`, or None when it is not JSON."""
    return json_or_none(raw)


def text_excerpt(raw: bytes, limit: int = 500) -> str:
    """A readable excerpt of a non-JSON upstream body (e.g. an HTML proxy error page)."""
    return raw[:limit].decode("utf-8", "replace").strip() or "empty response body"
