"""Fake Anthropic Messages API: `POST /v1/messages` (any path prefix), JSON or SSE.

Checks what the real API checks first: `x-api-key` (401 `authentication_error`), then
`anthropic-version` (400), then the body (`anthropic_validation`). Answers follow
`fake_providers.conversation`. Every response carries `x-mock-saw-auth` (the `x-api-key` seen, or
`none`) and `request-id`. Knobs: the common `x-mock-*` ones (see `fake_providers.asgi_raw`), plus
`x-mock-cache-read-tokens: N` (reported as `cache_read_input_tokens`) and
`x-mock-stream-error: <error type>` (an SSE `error` event after the first text delta).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import orjson

from fake_providers import conversation as script
from fake_providers.anthropic_validation import InvalidRequest, validate_messages_request
from fake_providers.asgi_raw import (
    ASGIApp,
    Headers,
    Request,
    Send,
    apply_latency,
    asgi_app,
    injected_status,
    json_object,
    knobs_or_error,
    send_bytes,
    send_json,
    send_stream,
)

JSONObject = dict[str, Any]
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str, request_id: str) -> JSONObject:
    kind = ERROR_TYPES.get(status, "api_error")
    error = {"type": kind, "message": message}
    return {"type": "error", "error": error, "request_id": request_id}


def create_app(seed: int | None = None) -> ASGIApp:
    rng = random.Random(seed)
    ids = itertools.count(1)

    async def handle(request: Request, send: Send) -> None:
        number = next(ids)
        request_id = f"req_fake{number:08d}"
        headers: Headers = [
            (b"x-mock-saw-auth", request.headers.get("x-api-key", "none").encode()),
            (b"request-id", request_id.encode()),
        ]
        if request.path == "/healthz":
            await send_bytes(send, 200, b"ok", "text/plain", headers)
            return
        status, message = _precheck(request)
        knobs, knob_error = knobs_or_error(request)
        if not status and knobs is not None:
            await apply_latency(knobs)
            status = injected_status(knobs, rng)
            message = f"Injected by the fake provider (status {status})."
        if knob_error is not None:
            status, message = 400, knob_error
        if status:
            await send_json(send, status, error_body(status, message, request_id), headers)
            return
        try:
            body = _validated_body(request.body)
        except InvalidRequest as exc:
            await send_json(send, 400, error_body(400, exc.message, request_id), headers)
            return
        assert knobs is not None
        answer = Answer(f"msg_fake{number:08d}", body, request.headers)
        if body.get("stream"):
            events = answer.sse_events(knobs.chunks)
            content_type = "text/event-stream; charset=utf-8"
            await send_stream(send, content_type, headers, events, knobs.chunk_delay_ms)
        else:
            await send_json(send, 200, answer.message(), headers)

    return asgi_app(handle)


def _precheck(request: Request) -> tuple[int, str]:
    if request.method != "POST" or not request.path.endswith("/v1/messages"):
        return 404, "Not Found"
    if not request.headers.get("x-api-key"):
        return 401, "x-api-key header is required"
    if not request.headers.get("anthropic-version"):
        return 400, "anthropic-version: header is required"
    if not request.headers.get("x-mock-cache-read-tokens", "0").isdigit():
        return 400, "Invalid value for 'x-mock-cache-read-tokens' (expected an integer >= 0)."
    return 0, ""


def _validated_body(raw: bytes) -> JSONObject:
    body = json_object(raw)
    if body is None:
        raise InvalidRequest("There was an issue with your request body: invalid JSON")
    validate_messages_request(body)
    return body


# -- the answer --------------------------------------------------------------------------------


class Answer:
    """The fake model's reply to one validated request, in both wire shapes."""

    def __init__(self, message_id: str, body: JSONObject, headers: dict[str, str]) -> None:
        self.message_id = message_id
        self.model = body["model"]
        self.reply = script.reply_to(anthropic_conversation(body))
        self.input_tokens = script.prompt_tokens(_texts_per_message(body))
        self.cache_read = int(headers.get("x-mock-cache-read-tokens") or 0)
        self.stream_error = headers.get("x-mock-stream-error")

    def usage(self, output_tokens: int) -> JSONObject:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": self.cache_read,
            "output_tokens": output_tokens,
        }

    def content(self) -> list[JSONObject]:
        blocks: list[JSONObject] = []
        if self.reply.thinking:
            thinking = self.reply.thinking
            blocks.append({"type": "thinking", "thinking": thinking, "signature": "fake-sig"})
        if self.reply.text or self.reply.tool_name is None:
            blocks.append({"type": "text", "text": self.reply.text})
        if self.reply.tool_name is not None:
            call_id = self.message_id.replace("msg_", "toolu_")
            name, tool_input = self.reply.tool_name, self.reply.tool_input
            blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": tool_input})
        return blocks

    def message(self) -> JSONObject:
        return {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.content(),
            "stop_reason": self.reply.stop_reason,
            "stop_sequence": self.reply.stop_sequence,
            "usage": self.usage(self.reply.output_tokens),
        }

    def sse_events(self, chunks: int | None) -> list[bytes]:
        start = self.message()
        start.update(content=[], stop_reason=None, stop_sequence=None, usage=self.usage(1))
        events = [
            sse("message_start", {"type": "message_start", "message": start}),
            sse("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(self.content()):
            events.extend(self._block_events(index, block, chunks))
            if self.stream_error:
                error = {"type": self.stream_error, "message": "Injected stream error."}
                events.append(sse("error", {"type": "error", "error": error}))
                return events
        delta = {"stop_reason": self.reply.stop_reason, "stop_sequence": self.reply.stop_sequence}
        usage = {"output_tokens": self.reply.output_tokens}
        message_delta = {"type": "message_delta", "delta": delta, "usage": usage}
        events.append(sse("message_delta", message_delta))
        events.append(sse("message_stop", {"type": "message_stop"}))
        return events

    def _block_events(self, index: int, block: JSONObject, chunks: int | None) -> list[bytes]:
        kind = block["type"]
        empty: JSONObject
        deltas: list[JSONObject]
        if kind == "text":
            empty = {"type": "text", "text": ""}
            pieces = script.word_chunks(block["text"], chunks)
            deltas = [{"type": "text_delta", "text": piece} for piece in pieces]
        elif kind == "thinking":
            empty = {"type": "thinking", "thinking": ""}
            pieces = script.word_chunks(block["thinking"], chunks)
            deltas = [{"type": "thinking_delta", "thinking": piece} for piece in pieces]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:
            empty = {**block, "input": {}}
            raw = orjson.dumps(block["input"]).decode()
            pieces = ["", raw[: len(raw) // 2], raw[len(raw) // 2 :]]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        start = {"type": "content_block_start", "index": index, "content_block": empty}
        out = [sse("content_block_start", start)]
        for delta in deltas:
            data = {"type": "content_block_delta", "index": index, "delta": delta}
            out.append(sse("content_block_delta", data))
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        return out


def sse(event: str, data: JSONObject) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


# -- reading the request -----------------------------------------------------------------------


def anthropic_conversation(body: JSONObject) -> script.Conversation:
    last = body["messages"][-1]
    blocks = _content_blocks(last.get("content"))
    texts = [b["text"] for b in blocks if b["type"] == "text"]
    results = [_result_text(b.get("content")) for b in blocks if b["type"] == "tool_result"]
    tools = [script.Tool(t["name"], t["input_schema"]) for t in body.get("tools") or []]
    choice = body.get("tool_choice") or {"type": "auto"}
    thinking = (body.get("thinking") or {}).get("type") == "enabled"
    return script.Conversation(
        last_user_text=" ".join(texts) if last["role"] == "user" else "",
        tool_results=results,
        tools=tools,
        tool_choice=choice["type"],
        forced_tool=choice.get("name"),
        max_tokens=body["max_tokens"],
        stop=body.get("stop_sequences") or (),
        thinking=thinking,
    )


def _content_blocks(content: object) -> list[JSONObject]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content) if isinstance(content, list) else []


def _result_text(content: object) -> str:
    return " ".join(b.get("text", "") for b in _content_blocks(content) if b["type"] == "text")


def _texts_per_message(body: JSONObject) -> list[str]:
    system = body.get("system")
    texts = [system if isinstance(system, str) else _result_text(system)] if system else []
    for message in body["messages"]:
        blocks = _content_blocks(message.get("content"))
        texts.append(" ".join(b["text"] for b in blocks if b["type"] == "text"))
    return texts
