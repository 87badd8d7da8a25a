"""Raw ASGI 3 application of the mock provider (no framework: it sits on benchmark paths).

Routes (any path prefix is accepted before the OpenAI suffixes, e.g. ``/openai/v1/...``):

* ``POST .../chat/completions`` -- plain or streamed (SSE) chat completion;
* ``POST .../embeddings`` -- deterministic embeddings, ``float`` or ``base64``;
* ``GET .../models`` and ``GET .../models/{id}``;
* ``GET /healthz`` -- ``ok``, never delayed nor failed by the knobs.

Every response carries ``x-mock-request-id`` and ``x-mock-saw-authorization`` (the incoming
``authorization`` header verbatim, or ``none``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import orjson

from mock_provider import responses
from mock_provider.knobs import KnobError, Knobs
from mock_provider.validation import (
    RequestError,
    parse_chat_request,
    parse_embeddings_request,
    parse_json_object,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON_CONTENT_TYPE = b"application/json"
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]
RETRY_AFTER_SECONDS = b"1"
METHODS = {"health": "GET", "chat": "POST", "embeddings": "POST", "models": "GET", "model": "GET"}


def route(path: str) -> tuple[str, str] | None:
    """``(route name, model id)`` for a request path, ``None`` when no route matches."""
    if path == "/healthz":
        return "health", ""
    if path.endswith("/chat/completions"):
        return "chat", ""
    if path.endswith("/embeddings"):
        return "embeddings", ""
    if path.endswith("/models"):
        return "models", ""
    _, found, model_id = path.partition("/models/")
    return ("model", model_id) if found and model_id else None


def scan_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, dict[str, str] | None]:
    """The ``authorization`` value (``b"none"`` if absent) and any ``x-mock-*`` headers."""
    authorization = b"none"
    knob_headers: dict[str, str] | None = None
    for name, value in raw:
        if name == b"authorization":
            authorization = value
        elif name.startswith(b"x-mock-"):
            knob_headers = knob_headers or {}
            knob_headers[name.decode("latin-1")] = value.decode("latin-1")
    return authorization, knob_headers


def create_app(knobs: Knobs) -> ASGIApp:
    """Build the ASGI app; ``knobs`` are the defaults that ``x-mock-*`` headers override.

    Error injection draws from a ``random.Random(knobs.seed)`` owned by this app, one draw
    per request whose effective ``error_status`` is non-zero.
    """
    rng = random.Random(knobs.seed)
    request_ids = itertools.count(1)
    id_prefix = f"mock-{os.urandom(4).hex()}-"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        authorization, knob_headers = scan_headers(scope["headers"])
        headers: Headers = [
            (b"x-mock-request-id", f"{id_prefix}{next(request_ids)}".encode()),
            (b"x-mock-saw-authorization", authorization),
        ]
        method, path = scope["method"], scope["path"]
        matched = route(path)
        if matched is None:
            error = responses.error_body(f"Invalid URL ({method} {path})", code="unknown_url")
            await send_json(send, 404, error, headers)
        elif method != METHODS[matched[0]]:
            error = responses.error_body(
                f"Method {method} not allowed for {path}.", code="method_not_allowed"
            )
            headers.append((b"allow", METHODS[matched[0]].encode()))
            await send_json(send, 405, error, headers)
        elif matched[0] == "health":
            await send_bytes(send, 200, b"ok", b"text/plain; charset=utf-8", headers)
        else:
            try:
                effective = knobs if knob_headers is None else knobs.with_headers(knob_headers)
            except KnobError as exc:
                error = responses.error_body(str(exc), param=exc.source, code="invalid_mock_knob")
                await send_json(send, 400, error, headers)
                return
            body = await read_body(receive) if method == "POST" else b""
            await api(send, matched, body, effective, headers)

    async def api(
        send: Send, matched: tuple[str, str], body: bytes, effective: Knobs, headers: Headers
    ) -> None:
        """Apply the latency and error knobs, then answer an API route."""
        if effective.latency_ms > 0:
            await asyncio.sleep(effective.latency_ms / 1000)
        status = effective.error_status
        if status and rng.random() < effective.error_rate:
            if status == 429:
                headers.append((b"retry-after", RETRY_AFTER_SECONDS))
            await send_json(send, status, responses.injected_error(status), headers)
            return
        name, model_id = matched
        try:
            if name == "chat":
                await chat(send, body, effective, headers)
            elif name == "embeddings":
                await embeddings(send, body, headers)
            elif name == "models":
                await send_json(send, 200, responses.models_list(), headers)
            else:
                await send_model(send, model_id, headers)
        except RequestError as exc:
            error = responses.error_body(exc.message, param=exc.param, code=exc.code)
            await send_json(send, 400, error, headers)

    return app


class AbortedStream(Exception):
    """Raised to drop a started stream (knob ``abort_after_chunks``): the server closes the
    connection without ending the response."""


async def chat(send: Send, body: bytes, knobs: Knobs, headers: Headers) -> None:
    request = parse_chat_request(parse_json_object(body))
    result = responses.chat_result(
        model=request.model,
        messages=request.messages,
        max_tokens=request.max_tokens,
        response_id=responses.completion_id(body),
        created=int(time.time()),
    )
    if not request.stream:
        await send_json(send, 200, responses.chat_completion(result), headers)
        return
    payloads = responses.chat_chunks(result, include_usage=request.include_usage,
                                     chunks=knobs.chunks)
    events = [*map(responses.sse_event, payloads), responses.SSE_DONE]
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + headers})
    delay = knobs.chunk_delay_ms / 1000
    for index, event in enumerate(events):
        if index == knobs.abort_after_chunks:
            raise AbortedStream(f"stream aborted after {index} events (mock knob)")
        if delay and index:
            await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def embeddings(send: Send, body: bytes, headers: Headers) -> None:
    request = parse_embeddings_request(parse_json_object(body))
    payload = responses.embeddings_response(
        model=request.model,
        inputs=request.inputs,
        dimensions=request.dimensions,
        encoding_format=request.encoding_format,
    )
    await send_json(send, 200, payload, headers)


async def send_model(send: Send, model_id: str, headers: Headers) -> None:
    model = responses.model_object(model_id)
    if model is None:
        error = responses.error_body(
            f"The model '{model_id}' does not exist", param="model", code="model_not_found"
        )
        await send_json(send, 404, error, headers)
    else:
        await send_json(send, 200, model, headers)


async def read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    parts = [body]
    while message.get("more_body"):
        message = await receive()
        parts.append(message.get("body", b""))
    return b"".join(parts)


async def send_json(send: Send, status: int, payload: object, headers: Headers) -> None:
    await send_bytes(send, status, orjson.dumps(payload), JSON_CONTENT_TYPE, headers)


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: bytes, headers: Headers
) -> None:
    start_headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
