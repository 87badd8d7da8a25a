"""Bedrock Runtime responses -> OpenAI: Converse JSON, ConverseStream eventstream, Titan.

ConverseStream answers with `application/vnd.amazon.eventstream` binary frames; they are
reassembled and CRC-checked by `botocore.eventstream.EventStreamBuffer`, whatever the chunk
boundaries. Usage: Bedrock's `inputTokens` excludes cache reads and writes, so `prompt_tokens`
adds `cacheReadInputTokens` and `cacheWriteInputTokens`; `cached_tokens` is the cache reads.
Bedrock reports no reasoning token count, so `reasoning_tokens` stays 0; reasoning text is
returned as `reasoning_content`. Converse responses carry no id in the body: one is made up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError

from ext_proc.translators import openai_wire as oai
from ext_proc.usage import Usage

JSONObject = dict[str, Any]
# ModelErrorException (424: the model failed) has no OpenAI counterpart: a server error.
STATUS_MAP = {424: 500}
# The exception name AWS sends in `x-amzn-ErrorType`, by status: the error `code` we report.
ERROR_CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
STREAM_EXCEPTION_STATUSES = {
    "validationException": 400,
    "throttlingException": 429,
    "internalServerException": 500,
    "modelStreamErrorException": 500,
    "serviceUnavailableException": 503,
}
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}


def converse_finish_reason(stop_reason: object) -> str:
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def converse_usage_to_usage(usage: JSONObject) -> Usage:
    cache_read = _int(usage.get("cacheReadInputTokens"))
    prompt = _int(usage.get("inputTokens")) + cache_read + _int(usage.get("cacheWriteInputTokens"))
    completion = _int(usage.get("outputTokens"))
    return Usage(prompt, completion, prompt + completion, cache_read, 0)


def parse_error(raw: bytes) -> tuple[str, str | None]:
    """(message, None) of an AWS JSON error body `{"message": ...}` (or `Message`)."""
    body = oai.json_or_none(raw)
    if isinstance(body, dict):
        message = body.get("message") or body.get("Message")
        if isinstance(message, str):
            return message, None
    return oai.raw_message(raw), None


def error_parser(status: int) -> Callable[[bytes], tuple[str, str | None]]:
    """`parse_error` plus the AWS exception name of `status` as the error code."""

    def parse(raw: bytes) -> tuple[str, str | None]:
        message, _ = parse_error(raw)
        return message, ERROR_CODES.get(status)

    return parse


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _new_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


# -- Converse ----------------------------------------------------------------------------------


class BedrockChat(oai.WholeBody):
    """A whole Converse response -> one `chat.completion`."""

    __slots__ = ()

    def convert(self, raw: bytes) -> bytes:
        response = oai.json_or_none(raw)
        if not isinstance(response, dict) or not isinstance(response.get("output"), dict):
            return oai.error_object(502, "Unreadable response from the bedrock provider.", None)
        self.usage = converse_usage_to_usage(response.get("usage") or {})
        completion = converse_to_openai_completion(
            response, self._model, self._created, self.usage
        )
        return orjson.dumps(completion)


def converse_to_openai_completion(
    response: JSONObject, model: str, created: int, usage: Usage
) -> JSONObject:
    message = response["output"].get("message") or {}
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[JSONObject] = []
    for block in message.get("content") or []:
        if "text" in block:
            texts.append(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            calls.append(oai.tool_call(use["toolUseId"], use["name"], use.get("input") or {}))
        elif "reasoningContent" in block:
            reasoning.append((block["reasoningContent"].get("reasoningText") or {}).get("text", ""))
    return oai.chat_completion(
        response_id=_new_id(),
        created=created,
        model=model,
        message=oai.assistant_message("".join(texts) if texts else None, "".join(reasoning), calls),
        finish_reason=converse_finish_reason(response.get("stopReason")),
        usage=usage,
    )


# -- ConverseStream ----------------------------------------------------------------------------


class BedrockChatStream:
    """ConverseStream eventstream frames -> OpenAI `chat.completion.chunk` SSE events."""

    def __init__(self, request_model: str) -> None:
        self.usage: Usage | None = None
        self._writer = oai.ChunkWriter(request_model, int(time.time()))
        self._writer.response_id = _new_id()
        self._frames = EventStreamBuffer()
        self._tool_indexes: dict[int, int] = {}  # contentBlockIndex -> OpenAI tool index
        self._stopped = False  # messageStop seen: only metadata (usage) is still due
        self._done = False

    def status(self, upstream_status: int) -> int:
        return upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return oai.SSE_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        out: list[bytes] = []
        if not self._done:
            self._frames.add_data(chunk)
            try:
                out.extend(self._frame(frame) for frame in self._frames if not self._done)
            except ParserError as exc:
                self._done = True
                out.append(oai.sse_error(502, f"Malformed eventstream frame: {exc}", None))
        if end_of_stream and not self._done:
            out.append(self._end_early())
        return b"".join(out)

    def _end_early(self) -> bytes:
        self._done = True
        if self._stopped:  # no metadata event: report what is known, zero usage
            self.usage = Usage()
            return self._writer.usage(self.usage) + oai.SSE_DONE
        return oai.sse_error(502, "The bedrock stream ended early.", "stream_truncated")

    def _frame(self, frame: EventStreamMessage) -> bytes:
        headers = frame.headers
        payload = oai.json_or_none(frame.payload)
        payload = payload if isinstance(payload, dict) else {}
        kind = headers.get(":message-type")
        if kind == "exception":
            return self._exception(str(headers.get(":exception-type")), payload)
        if kind == "error":
            message = str(headers.get(":error-message") or "Stream error")
            return self._exception(str(headers.get(":error-code")), {"message": message})
        handlers = {
            "messageStart": self._message_start,
            "contentBlockStart": self._block_start,
            "contentBlockDelta": self._block_delta,
            "messageStop": self._message_stop,
            "metadata": self._metadata,
        }  # contentBlockStop carries nothing a client needs
        handler = handlers.get(str(headers.get(":event-type")))
        return handler(payload) if handler is not None else b""

    def _message_start(self, payload: JSONObject) -> bytes:
        return self._writer.delta({"role": "assistant", "content": ""})

    def _block_start(self, payload: JSONObject) -> bytes:
        use = (payload.get("start") or {}).get("toolUse")
        if not isinstance(use, dict):
            return b""
        index = len(self._tool_indexes)
        self._tool_indexes[_int(payload.get("contentBlockIndex"))] = index
        call = oai.tool_call(use.get("toolUseId") or "", use.get("name") or "", "")
        return self._writer.delta({"tool_calls": [{"index": index, **call}]})

    def _block_delta(self, payload: JSONObject) -> bytes:
        delta = payload.get("delta") or {}
        if "text" in delta:
            return self._writer.delta({"content": delta["text"]})
        if "toolUse" in delta:
            index = self._tool_indexes.get(_int(payload.get("contentBlockIndex")), 0)
            function = {"arguments": delta["toolUse"].get("input") or ""}
            return self._writer.delta({"tool_calls": [{"index": index, "function": function}]})
        text = (delta.get("reasoningContent") or {}).get("text")
        if text:
            return self._writer.delta({"reasoning_content": text})
        return b""

    def _message_stop(self, payload: JSONObject) -> bytes:
        self._stopped = True
        return self._writer.delta({}, converse_finish_reason(payload.get("stopReason")))

    def _metadata(self, payload: JSONObject) -> bytes:
        self._done = True
        self.usage = converse_usage_to_usage(payload.get("usage") or {})
        return self._writer.usage(self.usage) + oai.SSE_DONE

    def _exception(self, name: str, payload: JSONObject) -> bytes:
        self._done = True
        status = STREAM_EXCEPTION_STATUSES.get(name, 500)
        message = str(payload.get("message") or payload.get("Message") or name)
        return oai.sse_error(status, message, name)


# -- Titan embeddings --------------------------------------------------------------------------


class TitanEmbeddings(oai.WholeBody):
    """`{"embedding": [...], "inputTextTokenCount": n}` -> an OpenAI embeddings list (floats)."""

    __slots__ = ()

    def convert(self, raw: bytes) -> bytes:
        response = oai.json_or_none(raw)
        vector = response.get("embedding") if isinstance(response, dict) else None
        if not isinstance(vector, list):
            return oai.error_object(502, "Unreadable response from the bedrock provider.", None)
        tokens = _int(response.get("inputTextTokenCount"))
        self.usage = Usage(prompt_tokens=tokens, total_tokens=tokens)
        return orjson.dumps(oai.embeddings_list(self._model, [vector], tokens, "float"))
