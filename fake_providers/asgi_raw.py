"""Raw ASGI plumbing for the Anthropic and Bedrock fakes: JSON, SSE and binary frames out.

Knobs are the mock provider's (`mock_provider.knobs.Knobs`), set per request through
`x-mock-*` headers: `x-mock-latency-ms`, `x-mock-chunk-delay-ms`, `x-mock-error-status`,
`x-mock-error-rate`, `x-mock-chunks`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from fake_providers.asgi import ASGIApp, Headers, Receive, Scope, Send, lifespan, read_headers
from mock_provider.app import read_body
from mock_provider.knobs import KnobError, Knobs


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # percent-decoded, as ASGI gives it
    raw_path: str  # as sent (Bedrock model ids may hold an encoded '/')
    query: str
    headers: dict[str, str]  # lower-case names; the last value wins
    body: bytes

    def knobs(self) -> Knobs:
        """Raises `KnobError` for a malformed `x-mock-*` value."""
        mock = {k: v for k, v in self.headers.items() if k.startswith("x-mock-")}
        return Knobs().with_headers(mock) if mock else Knobs()


Handler = Callable[[Request, Send], Awaitable[None]]


def asgi_app(handle: Handler) -> ASGIApp:
    """A raw ASGI app calling `handle` for each HTTP request (lifespan acknowledged)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = read_headers(scope["headers"])
        query = scope.get("query_string", b"").decode("latin-1")
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw_path = raw_path.partition("?")[0]
        body = await read_body(receive)
        request = Request(scope["method"], scope["path"], raw_path, query, headers, body)
        await handle(request, send)

    return app


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: str, headers: Headers
) -> None:
    start = [(b"content-type", content_type.encode()), *headers]
    start.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, payload: object, headers: Headers) -> None:
    await send_bytes(send, status, orjson.dumps(payload), "application/json", headers)


async def send_stream(
    send: Send, content_type: str, headers: Headers, parts: list[bytes], delay_ms: float
) -> None:
    """A 200 response whose body goes out in `parts`, `delay_ms` apart."""
    start = [(b"content-type", content_type.encode()), *headers]
    await send({"type": "http.response.start", "status": 200, "headers": start})
    for index, part in enumerate(parts):
        if delay_ms and index:
            await asyncio.sleep(delay_ms / 1000)
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def knobs_or_error(request: Request) -> tuple[Knobs | None, str | None]:
    try:
        return request.knobs(), None
    except KnobError as exc:
        return None, str(exc)


def injected_status(knobs: Knobs, rng: random.Random) -> int:
    """The status to fail this request with (0: none), drawn like the mock provider does."""
    if knobs.error_status and rng.random() < knobs.error_rate:
        return knobs.error_status
    return 0


async def apply_latency(knobs: Knobs) -> None:
    if knobs.latency_ms > 0:
        await asyncio.sleep(knobs.latency_ms / 1000)


def json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None
