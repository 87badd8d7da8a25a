"""Helpers shared by the translator and fake-provider tests (not a test module)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from ext_proc.translators.base import ResponseTranslator, Target
from ext_proc.usage import event_data, split_events

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(provider: str, name: str) -> Any:
    data = orjson.loads((FIXTURES / provider / name).read_bytes())
    assert data["source"].startswith("https://")
    return data


def target_of(spec: dict[str, Any]) -> Target:
    return Target(spec["provider"], spec["upstream_model"], spec["base_path"], spec["options"])


def feed(translator: ResponseTranslator, data: bytes, size: int | None) -> bytes:
    """Feed `data` in chunks of `size` bytes (None: whole), then end of stream."""
    if size is None:
        return translator.body(data, True)
    parts = [translator.body(data[i : i + size], False) for i in range(0, len(data), size)]
    return b"".join(parts) + translator.body(b"", True)


def feed_split(translator: ResponseTranslator, data: bytes, offset: int) -> bytes:
    """Feed `data` as two chunks split at `offset`; the second one ends the stream."""
    return translator.body(data[:offset], False) + translator.body(data[offset:], True)


def sse_payloads(stream: bytes) -> list[Any]:
    """Parsed `data:` payloads of an OpenAI SSE stream ("[DONE]" kept as a string)."""
    events, rest = split_events(stream)
    assert rest == b"", f"trailing partial event: {rest!r}"
    out: list[Any] = []
    for event in events:
        data = event_data(event)
        out.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return out


def choice_deltas(payloads: Iterable[Any]) -> list[dict[str, Any]]:
    """`{"delta", "finish_reason"}` of each chunk that has a choice."""
    return [
        {"delta": p["choices"][0]["delta"], "finish_reason": p["choices"][0]["finish_reason"]}
        for p in payloads
        if isinstance(p, dict) and p.get("choices")
    ]


def without_volatile(completion: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in completion.items() if k not in ("created", *keys)}
