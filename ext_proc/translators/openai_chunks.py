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
from ext_proc.usage import Usage, event_data, split_events

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


class SseTranslation:
    """An upstream SSE stream translated event by event, whatever the chunking.

    Subclasses define `event(data) -> bytes` for one event's `data:` payload and
    `close() -> bytes` for the end of the stream; `close` sets `closed`.
    """

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.closed = False
        self._pending = b""

    def status(self, upstream_status: int) -> int:
        return upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return SSE_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        events, self._pending = split_events(self._pending + chunk)
        if end_of_stream and self._pending.strip():
            events.append(self._pending)
            self._pending = b""
        out = [self.event(event_data(event)) for event in events]
        if end_of_stream and not self.closed:
            out.append(self.close())
        return b"".join(out)

    def event(self, data: bytes) -> bytes:
        raise NotImplementedError

    def close(self) -> bytes:
        raise NotImplementedError
