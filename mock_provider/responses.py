"""Pure builders of OpenAI-format response bodies (no I/O, deterministic from their inputs).

Token counting, used for every ``usage`` block, is deliberately simple so that tests of
other components can compute the expected numbers:

* a text's tokens are its whitespace-separated words (:func:`count_text_tokens`);
* a prompt's tokens are the words of every message's content -- string content, or the
  ``text`` of the ``{"type": "text"}`` parts of list content -- plus 3 per message
  (:func:`count_prompt_tokens`);
* completion tokens are the words of the returned content.

The reply is ``"Mock response to: <first 12 words of the last user message>"``
(:func:`reply_words`), cut to ``max_tokens`` words when that is smaller.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

JSONObject = dict[str, Any]

REPLY_PREFIX = ("Mock", "response", "to:")
REPLY_WORDS_FROM_PROMPT = 12
TOKENS_PER_MESSAGE = 3
DEFAULT_EMBEDDING_DIMENSIONS = 8
MODELS_CREATED = 1_700_000_000
MODEL_OWNER = "omg-mock"
MODEL_IDS = ("mock-gpt", "mock-gpt-mini", "mock-embedding")
SSE_DONE = b"data: [DONE]\n\n"


# -- token counting ---------------------------------------------------------------------------


def count_text_tokens(text: str) -> int:
    """Tokens of ``text``: its number of whitespace-separated words."""
    return len(text.split())


def message_text(content: object) -> str:
    """Text of a message ``content``: the string itself, or the text parts of a list joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def count_prompt_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """Prompt tokens: words of all message contents plus 3 per message."""
    return sum(
        count_text_tokens(message_text(message.get("content"))) + TOKENS_PER_MESSAGE
        for message in messages
    )


# -- chat completions -------------------------------------------------------------------------


def reply_words(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """Words of the mock reply: a fixed prefix and the start of the last user message."""
    for message in reversed(messages):
        if message.get("role") == "user":
            prompt = message_text(message.get("content")).split()
            return [*REPLY_PREFIX, *prompt[:REPLY_WORDS_FROM_PROMPT]]
    return list(REPLY_PREFIX)


def completion_id(raw_request: bytes) -> str:
    """Deterministic completion id derived from the raw request body."""
    return "chatcmpl-mock-" + hashlib.blake2b(raw_request, digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class ChatResult:
    """Everything a chat completion response (plain or streamed) is built from."""

    id: str
    created: int
    model: str
    words: tuple[str, ...]
    finish_reason: str
    prompt_tokens: int

    @property
    def content(self) -> str:
        return " ".join(self.words)

    @property
    def usage(self) -> JSONObject:
        completion_tokens = len(self.words)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        }


def chat_result(
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    max_tokens: int | None,
    response_id: str,
    created: int,
) -> ChatResult:
    """Compute the mock answer to a (validated) chat request."""
    words = reply_words(messages)
    kept = words if max_tokens is None else words[:max_tokens]
    return ChatResult(
        id=response_id,
        created=created,
        model=model,
        words=tuple(kept),
        finish_reason="length" if len(kept) < len(words) else "stop",
        prompt_tokens=count_prompt_tokens(messages),
    )


def chat_completion(result: ChatResult) -> JSONObject:
    """A non-streaming ``chat.completion`` object."""
    return {
        "id": result.id,
        "object": "chat.completion",
        "created": result.created,
        "model": result.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.content, "refusal": None},
                "logprobs": None,
                "finish_reason": result.finish_reason,
            }
        ],
        "usage": result.usage,
    }


def content_deltas(words: Sequence[str], chunks: int | None = None) -> list[str]:
    """Split the reply into streamed content pieces whose concatenation is the content.

    One piece per word by default; ``chunks`` asks for that many (at most one per word).
    """
    if not words:
        return []
    count = len(words) if chunks is None else max(1, min(chunks, len(words)))
    bounds = [len(words) * i // count for i in range(count + 1)]
    pieces = [" ".join(words[start:end]) for start, end in itertools.pairwise(bounds)]
    return [pieces[0], *(" " + piece for piece in pieces[1:])]


def chat_chunks(
    result: ChatResult, *, include_usage: bool = False, chunks: int | None = None
) -> list[JSONObject]:
    """The ``chat.completion.chunk`` objects of a streamed answer, in order.

    Role chunk, one chunk per content delta, finish chunk, then -- only with
    ``include_usage`` -- a usage chunk with no choices (other chunks then carry
    ``"usage": null``, as OpenAI does).
    """

    def chunk(delta: JSONObject, finish_reason: str | None) -> JSONObject:
        body: JSONObject = {
            "id": result.id,
            "object": "chat.completion.chunk",
            "created": result.created,
            "model": result.model,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if include_usage:
            body["usage"] = None
        return body

    events = [chunk({"role": "assistant", "content": ""}, None)]
    events += [chunk({"content": piece}, None) for piece in content_deltas(result.words, chunks)]
    events.append(chunk({}, result.finish_reason))
    if include_usage:
        events.append(
            {
                "id": result.id,
                "object": "chat.completion.chunk",
                "created": result.created,
                "model": result.model,
                "choices": [],
                "usage": result.usage,
            }
        )
    return events


def sse_event(payload: JSONObject) -> bytes:
    """One server-sent event carrying ``payload`` as OpenAI frames it."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


# -- embeddings -------------------------------------------------------------------------------

EmbeddingInput = str | list[int]


def embedding_vector(item: EmbeddingInput, dimensions: int) -> list[float]:
    """Deterministic unit-length vector for one input, exactly representable as float32."""
    data = item.encode() if isinstance(item, str) else orjson.dumps(item)
    raw = struct.unpack(f"<{dimensions}I", hashlib.shake_256(data).digest(4 * dimensions))
    vector = [value / 2**31 - 1.0 for value in raw]
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return list(struct.unpack(f"<{dimensions}f", _pack_float32([v / norm for v in vector])))


def _pack_float32(vector: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


def embedding_tokens(item: EmbeddingInput) -> int:
    """Tokens of one embedding input: words of a string, length of a token array."""
    return count_text_tokens(item) if isinstance(item, str) else len(item)


def embeddings_response(
    *,
    model: str,
    inputs: Sequence[EmbeddingInput],
    dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
    encoding_format: str = "float",
) -> JSONObject:
    """An embeddings ``list`` object; ``base64`` packs little-endian float32 like OpenAI."""
    data = []
    for index, item in enumerate(inputs):
        vector = embedding_vector(item, dimensions)
        embedding: list[float] | str = (
            base64.b64encode(_pack_float32(vector)).decode()
            if encoding_format == "base64"
            else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(embedding_tokens(item) for item in inputs)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# -- models -----------------------------------------------------------------------------------


def model_object(model_id: str) -> JSONObject | None:
    """The ``model`` object for a known mock model id, else ``None``."""
    if model_id not in MODEL_IDS:
        return None
    return {"id": model_id, "object": "model", "created": MODELS_CREATED, "owned_by": MODEL_OWNER}


def models_list() -> JSONObject:
    """The ``GET /v1/models`` body."""
    return {"object": "list", "data": [model_object(model_id) for model_id in MODEL_IDS]}


# -- errors -----------------------------------------------------------------------------------


def error_body(
    message: str,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> JSONObject:
    """An OpenAI-format error body."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def injected_error(status: int) -> JSONObject:
    """The error body of an injected failure with HTTP ``status``."""
    if status == 429:
        return error_body(
            "Rate limit reached (injected by the mock provider).",
            "rate_limit_error",
            code="rate_limit_exceeded",
        )
    if status >= 500:
        return error_body(
            f"The server had an error (injected by the mock provider, status {status}).",
            "server_error",
        )
    return error_body(f"Request failed (injected by the mock provider, status {status}).")
