"""Helpers for translator tests: feeding bodies in pieces, calling fakes in-process."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

from ext_proc.translators.base import ResponseTranslator, UpstreamRequest
from ext_proc.usage import event_data, split_events
from fake_providers.asgi import ASGIApp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def feed(translator: ResponseTranslator, pieces: Iterable[bytes]) -> bytes:
    """All the client bytes for an upstream body arriving as `pieces` (last one: eos)."""
    chunks = list(pieces)
    out = [translator.body(piece, index == len(chunks) - 1) for index, piece in enumerate(chunks)]
    return b"".join(out)


_CREATED = re.compile(rb'"created":\d+')


def timeless(output: bytes) -> bytes:
    """Output without the `created` stamp, which depends on the second a translator was made."""
    return _CREATED.sub(b'"created":0', output)


def assert_split_invariant(make: Callable[[], ResponseTranslator], raw: bytes) -> bytes:
    """Same output whatever the chunking: whole, every two-way split, 1-byte pieces."""
    whole = feed(make(), [raw])
    for offset in range(len(raw) + 1):
        assert timeless(feed(make(), [raw[:offset], raw[offset:]])) == timeless(whole), offset
    ones = feed(make(), [raw[i : i + 1] for i in range(len(raw))] + [b""])
    assert timeless(ones) == timeless(whole)
    return whole


def sse_payloads(raw: bytes) -> list[Any]:
    events, rest = split_events(raw)
    assert rest == b""
    datas = [event_data(event) for event in events]
    return [data.decode() if data == b"[DONE]" else orjson.loads(data) for data in datas]


async def call_fake(
    app: ASGIApp, upstream: UpstreamRequest, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        return await client.post(
            upstream.path, content=upstream.body,
            headers={**dict(upstream.headers), **(headers or {})},
        )
