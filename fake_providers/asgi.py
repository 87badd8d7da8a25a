"""Raw ASGI plumbing shared by the fakes: requests in, JSON and SSE out, knobs, lifespan."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from mock_provider.app import read_body
from mock_provider.knobs import KnobError, Knobs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names, last value wins
    body: bytes
    knobs: Knobs

    def header_int(self, name: str) -> int:
        """An integer ``x-mock-*`` knob of the fakes themselves (0 when absent or invalid)."""
        value = self.headers.get(name, "0").strip()
        return int(value) if value.isdigit() else 0


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    payload: Any = None  # JSON body
    events: tuple[bytes, ...] = ()  # SSE events (already framed) when streaming
    headers: tuple[tuple[str, str], ...] = ()


Handler = Callable[[FakeRequest], Reply]


def read_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}


def serve(handler: Handler, knob_error: Callable[[KnobError], Reply]) -> ASGIApp:
    """An ASGI app around a pure ``handler``; applies latency, error and chunk-delay knobs."""
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        headers = read_headers(scope["headers"])
        query = {key: values[-1] for key, values in parse_qs(
            scope.get("query_string", b"").decode("latin-1")).items()}
        body = await read_body(receive)
        try:
            knobs = Knobs().with_headers({k: v for k, v in headers.items() if k.startswith(
                "x-mock-")})
        except KnobError as exc:
            await respond(send, knob_error(exc), 0.0)
            return
        request = FakeRequest(scope["method"], scope["path"], query, headers, body, knobs)
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        reply = handler(request)
        await respond(send, reply, knobs.chunk_delay_ms / 1000)

    return app


def injected(knobs: Knobs) -> bool:
    """Whether to fail this request with ``knobs.error_status`` (a header status: always)."""
    return bool(knobs.error_status) and random.random() < knobs.error_rate


async def respond(send: Send, reply: Reply, delay: float) -> None:
    headers: Headers = [(k.encode(), v.encode("latin-1")) for k, v in reply.headers]
    if not reply.events:
        body = orjson.dumps(reply.payload)
        headers += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    headers += [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    for index, event in enumerate(reply.events):
        if delay and index:
            await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
