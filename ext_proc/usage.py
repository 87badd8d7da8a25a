"""Token usage read out of OpenAI-format responses: whole JSON bodies and SSE streams."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

# A usage object that is not null; cheap to test before paying for a JSON parse.
_USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def usage_from_object(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    prompt = _int(usage.get("prompt_tokens"))
    completion = _int(usage.get("completion_tokens"))
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=_int(usage.get("total_tokens")) or prompt + completion,
        cached_tokens=_int(prompt_details.get("cached_tokens")),
        reasoning_tokens=_int(completion_details.get("reasoning_tokens")),
    )


def usage_from_json_body(raw: bytes) -> Usage | None:
    if not _USAGE_OBJECT.search(raw):
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return usage_from_object(body.get("usage")) if isinstance(body, dict) else None


def split_events(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete SSE events (each with its blank-line terminator) and the incomplete rest."""
    events: list[bytes] = []
    start = 0
    for match in _EVENT_END.finditer(buffer):
        events.append(buffer[start : match.end()])
        start = match.end()
    return events, buffer[start:]


def event_data(event: bytes) -> bytes:
    """The `data:` payload of one SSE event (multi-line data joined with newlines)."""
    lines = [
        line[5:].lstrip(b" ") for line in event.splitlines() if line.startswith(b"data:")
    ]
    return b"\n".join(lines)


def usage_event(event: bytes) -> tuple[Usage | None, bool]:
    """(usage carried by the event, whether the event carries nothing but usage)."""
    if not _USAGE_OBJECT.search(event):
        return None, False
    try:
        chunk = orjson.loads(event_data(event))
    except orjson.JSONDecodeError:
        return None, False
    if not isinstance(chunk, dict):
        return None, False
    usage = usage_from_object(chunk.get("usage"))
    return usage, usage is not None and not chunk.get("choices")


class SseUsageTap:
    """Watches an OpenAI SSE stream chunk by chunk for the usage event.

    With `strip_usage` (the client did not ask for usage, the gateway did), the usage-only
    event is removed; complete events pass on at once and only a trailing partial event
    waits for its next chunk. `feed` returns the bytes to forward, or None for "unchanged".
    """

    __slots__ = ("_pending", "done", "strip_usage", "usage")

    def __init__(self, strip_usage: bool) -> None:
        self.strip_usage = strip_usage
        self.usage: Usage | None = None
        self.done = False  # `data: [DONE]` went by: nothing but the end of stream follows
        self._pending = b""

    def feed(self, chunk: bytes, end_of_stream: bool) -> bytes | None:
        buffer = self._pending + chunk if self._pending else chunk
        events, rest = split_events(buffer)
        if end_of_stream and rest:
            events.append(rest)
            rest = b""
        had_pending = bool(self._pending)
        self._pending = rest
        kept, dropped = self._scan(events)
        if events and not rest and b"[DONE]" in events[-1]:
            self.done = event_data(events[-1]) == b"[DONE]"
        if not self.strip_usage:
            return None
        if not dropped and not had_pending and not rest:
            return None
        return b"".join(kept)

    def _scan(self, events: list[bytes]) -> tuple[list[bytes], bool]:
        kept: list[bytes] = []
        dropped = False
        for event in events:
            usage, usage_only = usage_event(event)
            if usage is not None:
                self.usage = usage
            if usage_only and self.strip_usage:
                dropped = True
                continue
            kept.append(event)
        return kept, dropped


class JsonUsageTap:
    """Collects a whole JSON reply for its usage; STREAMED mode may deliver it in pieces.

    The reply is complete at the end of the stream, or as soon as the bytes so far parse as
    one JSON value (nothing may follow a closed top-level value): the gateway then lets go of
    the stream without waiting for Envoy's empty end-of-stream message.
    """

    __slots__ = ("_parts", "usage")

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.usage: Usage | None = None

    def feed(self, chunk: bytes, end_of_stream: bool) -> bool:
        """Whether the reply is complete; `usage` is then set if it carried any."""
        self._parts.append(chunk)
        body = b"".join(self._parts) if len(self._parts) > 1 else chunk
        if not end_of_stream and not body.rstrip().endswith(b"}"):
            return False
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            if not end_of_stream:
                return False
            parsed = None
        self._parts = []
        if isinstance(parsed, dict):
            self.usage = usage_from_object(parsed.get("usage"))
        return True
