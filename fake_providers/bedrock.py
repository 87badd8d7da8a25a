"""Fake AWS Bedrock Runtime: Converse, ConverseStream (binary eventstream) and Titan embeddings.

Routes (any path prefix): `POST /model/{modelId}/converse`, `.../converse-stream` and
`.../invoke` (Titan text embeddings models only). The model id may be percent-encoded.
Authentication is checked for shape only (SigV4 validity is tested elsewhere): an
`authorization` header starting with `AWS4-HMAC-SHA256` and an `x-amz-date` header, else 403.
Errors are `{"message": ...}` with the exception name in `x-amzn-ErrorType`, as AWS sends them.
Answers follow `fake_providers.conversation`. Every response carries `x-amzn-RequestId` and
`x-mock-saw-auth` (the `authorization` header seen, or `none`). Knobs: the common `x-mock-*`
ones, `x-mock-cache-read-tokens: N` and `x-mock-stream-error: <exception type>` (an exception
frame after the first content delta, e.g. `throttlingException`).
"""

from __future__ import annotations

import hashlib
import itertools
import random
from typing import Any
from urllib.parse import unquote

import orjson

from fake_providers import conversation as script
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
from fake_providers.bedrock_validation import ValidationError, validate_converse, validate_titan
from fake_providers.eventstream import event_frame, exception_frame
from mock_provider.knobs import Knobs
from mock_provider.responses import embedding_vector

JSONObject = dict[str, Any]
EVENTSTREAM = "application/vnd.amazon.eventstream"
ACTIONS = ("converse", "converse-stream", "invoke")
TITAN_DEFAULT_DIMENSIONS = 1024
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
EXCEPTIONS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


class AwsError(Exception):
    def __init__(self, status: int, message: str, exception: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.exception = exception or EXCEPTIONS.get(status, "InternalServerException")


def route(raw_path: str) -> tuple[str, str] | None:
    """(model id, action) of `.../model/{modelId}/{action}`, None for any other path."""
    _, found, tail = raw_path.rpartition("/model/")
    model, _, action = tail.rpartition("/")
    if not found or not model or action not in ACTIONS:
        return None
    return unquote(model), action


def check_auth(headers: dict[str, str]) -> None:
    authorization = headers.get("authorization", "")
    if not authorization:
        raise AwsError(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
    if not authorization.startswith("AWS4-HMAC-SHA256 ") or "x-amz-date" not in headers:
        raise AwsError(
            403,
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
            "parameters and an 'X-Amz-Date' header.",
            "IncompleteSignatureException",
        )


def create_app(seed: int | None = None) -> ASGIApp:
    rng = random.Random(seed)
    ids = itertools.count(1)

    async def handle(request: Request, send: Send) -> None:
        request_id = f"fake-{next(ids):08d}-0000-4000-8000-000000000000"
        auth = request.headers.get("authorization", "none")
        headers: Headers = [
            (b"x-amzn-RequestId", request_id.encode()),
            (b"x-mock-saw-auth", auth.encode()),
        ]
        if request.path == "/healthz":
            await send_bytes(send, 200, b"ok", "text/plain", headers)
            return
        try:
            await answer(request, send, headers)
        except AwsError as exc:
            headers.append((b"x-amzn-ErrorType", exc.exception.encode()))
            await send_json(send, exc.status, {"message": exc.message}, headers)

    async def answer(request: Request, send: Send, headers: Headers) -> None:
        matched = route(request.raw_path)
        if request.method != "POST" or matched is None:
            raise AwsError(404, "Not Found", "UnknownOperationException")
        check_auth(request.headers)
        knobs, knob_error = knobs_or_error(request)
        if knobs is None or not request.headers.get("x-mock-cache-read-tokens", "0").isdigit():
            raise AwsError(400, knob_error or "Invalid x-mock-cache-read-tokens.")
        await apply_latency(knobs)
        status = injected_status(knobs, rng)
        if status:
            raise AwsError(status, f"Injected by the fake provider (status {status}).")
        body = json_object(request.body)
        if body is None:
            raise AwsError(400, "Malformed input request, please reformat your input.")
        try:
            await dispatch(send, headers, matched, body, request.headers, knobs)
        except ValidationError as exc:
            raise AwsError(400, exc.message) from None

    return asgi_app(handle)


async def dispatch(
    send: Send,
    headers: Headers,
    matched: tuple[str, str],
    body: JSONObject,
    request_headers: dict[str, str],
    knobs: Knobs,
) -> None:
    model, action = matched
    if action == "invoke":
        if not model.startswith("amazon.titan-embed-text"):
            message = f"The fake serves InvokeModel only for Titan text embeddings, not {model}."
            raise AwsError(404, message)
        await send_json(send, 200, titan_response(body), headers)
        return
    validate_converse(body)
    cache_read = int(request_headers.get("x-mock-cache-read-tokens") or 0)
    converse = Converse(body, cache_read, request_headers.get("x-mock-stream-error"))
    if action == "converse":
        await send_json(send, 200, converse.response(), headers)
    else:
        frames = converse.frames(knobs.chunks)
        await send_stream(send, EVENTSTREAM, headers, frames, knobs.chunk_delay_ms)


def titan_response(body: JSONObject) -> JSONObject:
    validate_titan(body)
    text = body["inputText"]
    vector = embedding_vector(text, body.get("dimensions", TITAN_DEFAULT_DIMENSIONS))
    tokens = script.count_tokens(text)
    by_type = {"float": vector}
    return {"embedding": vector, "inputTextTokenCount": tokens, "embeddingsByType": by_type}


class Converse:
    """The fake model's reply to one validated Converse request, in both wire shapes."""

    def __init__(self, body: JSONObject, cache_read: int, stream_error: str | None) -> None:
        self.reply = script.reply_to(converse_conversation(body))
        self.input_tokens = script.prompt_tokens(_texts_per_message(body))
        self.cache_read = cache_read
        self.stream_error = stream_error
        self.call_id = "tooluse_" + hashlib.sha256(orjson.dumps(body)).hexdigest()[:20]

    def usage(self) -> JSONObject:
        output = self.reply.output_tokens
        usage = {
            "inputTokens": self.input_tokens,
            "outputTokens": output,
            "totalTokens": self.input_tokens + output + self.cache_read,
        }
        if self.cache_read:
            usage.update(cacheReadInputTokens=self.cache_read, cacheWriteInputTokens=0)
        return usage

    def content(self) -> list[JSONObject]:
        blocks: list[JSONObject] = []
        if self.reply.text or self.reply.tool_name is None:
            blocks.append({"text": self.reply.text})
        if self.reply.tool_name is not None:
            name, tool_input = self.reply.tool_name, self.reply.tool_input
            use = {"toolUseId": self.call_id, "name": name, "input": tool_input}
            blocks.append({"toolUse": use})
        return blocks

    def response(self) -> JSONObject:
        message = {"role": "assistant", "content": self.content()}
        return {
            "output": {"message": message},
            "stopReason": self.reply.stop_reason,
            "usage": self.usage(),
            "metrics": {"latencyMs": 1},
        }

    def frames(self, chunks: int | None) -> list[bytes]:
        frames = [_event("messageStart", {"role": "assistant"})]
        for index, block in enumerate(self.content()):
            frames.extend(self._block_frames(index, block, chunks))
            if self.stream_error:
                frames.append(exception_frame(self.stream_error, "Injected stream error."))
                return frames
        frames.append(_event("messageStop", {"stopReason": self.reply.stop_reason}))
        metadata = {"usage": self.usage(), "metrics": {"latencyMs": 1}}
        frames.append(_event("metadata", metadata))
        return frames

    def _block_frames(self, index: int, block: JSONObject, chunks: int | None) -> list[bytes]:
        frames: list[bytes] = []
        deltas: list[JSONObject]
        if "toolUse" in block:  # text blocks start with their first delta, as Bedrock does
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            frames.append(_event("contentBlockStart", {"contentBlockIndex": index, "start": start}))
            raw = orjson.dumps(use["input"]).decode()
            halves = (raw[: len(raw) // 2], raw[len(raw) // 2 :])
            deltas = [{"toolUse": {"input": half}} for half in halves]
        else:
            pieces = script.word_chunks(block["text"], chunks) or [""]
            deltas = [{"text": piece} for piece in pieces]
        for delta in deltas:
            payload = {"contentBlockIndex": index, "delta": delta}
            frames.append(_event("contentBlockDelta", payload))
            if self.stream_error:
                break
        if not self.stream_error:
            frames.append(_event("contentBlockStop", {"contentBlockIndex": index}))
        return frames


def _event(event_type: str, payload: JSONObject) -> bytes:
    """An event frame; `p` is the padding Bedrock adds against payload-size side channels."""
    return event_frame(event_type, {**payload, "p": PADDING[: 1 + len(event_type)]})


# -- reading the request -----------------------------------------------------------------------


def converse_conversation(body: JSONObject) -> script.Conversation:
    last = body["messages"][-1]
    blocks = last["content"]
    config = body.get("toolConfig") or {}
    tools = [
        script.Tool(t["toolSpec"]["name"], t["toolSpec"]["inputSchema"]["json"])
        for t in config.get("tools") or []
    ]
    choice = config.get("toolChoice") or {"auto": {}}
    choice_kind = next(iter(choice))
    inference = body.get("inferenceConfig") or {}
    texts = [b["text"] for b in blocks if "text" in b] if last["role"] == "user" else []
    return script.Conversation(
        last_user_text=" ".join(texts),
        tool_results=[_result_text(b["toolResult"]) for b in blocks if "toolResult" in b],
        tools=tools,
        tool_choice=choice_kind,
        forced_tool=(choice.get("tool") or {}).get("name"),
        max_tokens=inference.get("maxTokens"),
        stop=inference.get("stopSequences") or (),
    )


def _result_text(result: JSONObject) -> str:
    return " ".join(str(part.get("text", "")) for part in result.get("content") or [])


def _texts_per_message(body: JSONObject) -> list[str]:
    texts = [" ".join(b["text"] for b in body.get("system") or [])] if body.get("system") else []
    for message in body["messages"]:
        texts.append(" ".join(b["text"] for b in message["content"] if "text" in b))
    return texts
