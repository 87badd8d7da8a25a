"""OpenAI-side shapes shared by the provider translators: reading requests, building responses.

Everything here is about the client's wire format only; provider modules own their formats.
"""

from __future__ import annotations

import base64
import binascii
import struct
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ext_proc.translators.base import TranslationError
from ext_proc.usage import Usage

JSONObject = dict[str, Any]

SSE_DONE = b"data: [DONE]\n\n"
JSON_HEADERS = (("content-type", "application/json"),)
SSE_HEADERS = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))
# OpenAI's error `type` for each status the gateway passes on (others: by class, see below).
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


# -- reading the client's request ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InlineImage:
    media_type: str
    data: str  # base64, as in the data: URL


def check_known_params(
    body: JSONObject, handled: frozenset[str], dropped: frozenset[str], provider: str
) -> None:
    """Reject any parameter the translator neither handles nor drops by a documented rule."""
    for name, value in body.items():
        if name not in handled and name not in dropped and value is not None:
            raise TranslationError(
                f"Parameter '{name}' is not supported by the {provider} provider.", name
            )


def reject_unless_default(body: JSONObject, name: str, default: object, provider: str) -> None:
    """A parameter the provider lacks is fine only at the value that changes nothing."""
    value = body.get(name)
    if value is not None and value != default:
        raise TranslationError(
            f"Parameter '{name}' is not supported by the {provider} provider "
            f"(only {orjson.dumps(default).decode()} is accepted).",
            name,
        )


def unit_temperature(body: JSONObject, provider_phrase: str) -> float | None:
    """`temperature` for providers that take 0..1 only (OpenAI allows up to 2): else a 400."""
    temperature = body.get("temperature")
    if temperature is None:
        return None
    if not isinstance(temperature, int | float) or not 0 <= temperature <= 1:
        raise TranslationError(f"{provider_phrase} accepts a temperature between 0 and 1.",
                               "temperature")
    return temperature


def indexed_messages(messages: object) -> Iterator[tuple[str, JSONObject]]:
    """(`messages[i]` path, message) for each OpenAI message; a 400 for a malformed list."""
    if not isinstance(messages, list) or not messages:
        raise TranslationError("'messages' must be a non-empty array.", "messages")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise TranslationError("A message must be an object.", where)
        yield where, message


def max_output_tokens(body: JSONObject) -> int | None:
    """`max_completion_tokens` wins over the deprecated `max_tokens`."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TranslationError(f"'{name}' must be a positive integer.", name)
            return value
    return None


def sampling(
    body: JSONObject, provider_phrase: str, temperature: str, top_p: str, stop: str
) -> JSONObject:
    """temperature (0..1), top_p and stop under the provider's own field names."""
    fields: JSONObject = {}
    value = unit_temperature(body, provider_phrase)
    if value is not None:
        fields[temperature] = value
    if body.get("top_p") is not None:
        fields[top_p] = body["top_p"]
    sequences = stop_sequences(body)
    if sequences:
        fields[stop] = sequences
    return fields


def stop_sequences(body: JSONObject) -> list[str] | None:
    stop = body.get("stop")
    if stop is None:
        return None
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(item, str) for item in stop):
        return list(stop)
    raise TranslationError("'stop' must be a string or an array of strings.", "stop")


def content_parts(content: object, where: str) -> Iterator[tuple[str, JSONObject]]:
    """(`messages[i].content[j]`, part) for each part; a string content is one text part."""
    if isinstance(content, str):
        yield f"{where}.content", {"type": "text", "text": content}
    elif isinstance(content, list):
        for index, part in enumerate(content):
            if not isinstance(part, dict):
                raise TranslationError("A content part must be an object.", f"{where}.content")
            yield f"{where}.content[{index}]", part
    elif content is not None:
        raise TranslationError("'content' must be a string or an array.", f"{where}.content")


def text_of(content: object, where: str) -> str:
    """The text of a system/tool message content (text parts joined)."""
    texts: list[str] = []
    for path, part in content_parts(content, where):
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise TranslationError("Only text parts are allowed here.", path)
        texts.append(part["text"])
    return "".join(texts)


def image_url(part: JSONObject, path: str) -> str:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise TranslationError("'image_url.url' must be a non-empty string.", f"{path}.image_url")
    return url


def parse_data_url(url: str, path: str) -> InlineImage | None:
    """The inline image of a `data:<type>;base64,<data>` URL, None for any other URL."""
    if not url.startswith("data:"):
        return None
    header, comma, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    if not comma or encoding != "base64" or not media_type.startswith("image/"):
        raise TranslationError(
            "Image data URLs must look like 'data:image/<type>;base64,<data>'.",
            f"{path}.image_url",
        )
    try:
        base64.b64decode(data, validate=True)
    except binascii.Error:
        raise TranslationError("Image data is not valid base64.", f"{path}.image_url") from None
    return InlineImage(media_type, data)


def function_tools(body: JSONObject) -> list[JSONObject]:
    """The `function` objects of `tools`, checked for a name."""
    tools = body.get("tools") or []
    functions: list[JSONObject] = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function":
            raise TranslationError("Only 'function' tools are supported.", f"tools[{index}]")
        if not isinstance(function.get("name"), str):
            raise TranslationError("A tool needs a 'function.name'.", f"tools[{index}].function")
        functions.append(function)
    return functions


def tool_call_arguments(call: JSONObject, path: str) -> JSONObject:
    """The decoded `function.arguments` of an assistant tool call (providers take objects)."""
    raw = (call.get("function") or {}).get("arguments") or "{}"
    try:
        arguments = orjson.loads(raw)
    except orjson.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise TranslationError(
            "Tool call arguments must be a JSON object.", f"{path}.function.arguments"
        )
    return arguments


# -- building the client's response ----------------------------------------------------------


def usage_object(usage: Usage) -> JSONObject:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def tool_call(call_id: str, name: str, arguments: object) -> JSONObject:
    text = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


def chat_completion(
    *,
    response_id: str,
    created: int,
    model: str,
    message: JSONObject,
    finish_reason: str,
    usage: Usage,
) -> JSONObject:
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage_object(usage),
    }


def assistant_message(
    text: str | None, reasoning: str | None, tool_calls: Sequence[JSONObject]
) -> JSONObject:
    """The choice message; `reasoning_content` is the field vLLM/DeepSeek clients read."""
    message: JSONObject = {"role": "assistant", "content": text, "refusal": None}
    if reasoning:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = list(tool_calls)
    return message


def embeddings_list(
    model: str, vectors: Sequence[Sequence[float]], tokens: int, encoding_format: str
) -> JSONObject:
    data = [
        {"object": "embedding", "index": index, "embedding": encode_vector(vector, encoding_format)}
        for index, vector in enumerate(vectors)
    ]
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}


def encode_vector(vector: Sequence[float], encoding_format: str) -> list[float] | str:
    if encoding_format != "base64":
        return list(vector)
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def error_type(status: int) -> str:
    """OpenAI's error `type` for an HTTP status."""
    return ERROR_TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")


def error_object(status: int, message: str, code: str | None, param: str | None = None) -> bytes:
    error = {"message": message, "type": error_type(status), "param": param, "code": code}
    return orjson.dumps({"error": error})


class ChunkWriter:
    """Builds the `chat.completion.chunk` SSE events of one streamed choice."""

    __slots__ = ("created", "model", "response_id")

    def __init__(self, model: str, created: int) -> None:
        self.model = model
        self.created = created
        self.response_id = ""

    def delta(self, delta: JSONObject, finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._event({"choices": [choice]})

    def usage(self, usage: Usage) -> bytes:
        return self._event({"choices": [], "usage": usage_object(usage)})

    def _event(self, fields: JSONObject) -> bytes:
        chunk = {
            "id": self.response_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            **fields,
        }
        return b"data: " + orjson.dumps(chunk) + b"\n\n"


def sse_error(status: int, message: str, code: str | None) -> bytes:
    """An error inside an already started stream, as OpenAI sends it: a `data:` error object."""
    return b"data: " + error_object(status, message, code) + b"\n\n"


class WholeBody:
    """A non-streamed provider reply: buffered until its end, then converted once.

    Subclasses implement `convert(raw) -> bytes` (OpenAI-format JSON) and set `usage`.
    """

    __slots__ = ("_buffer", "_created", "_model", "usage")

    def __init__(self, request_model: str) -> None:
        self.usage: Usage | None = None
        self._model = request_model
        self._created = int(time.time())
        self._buffer = b""

    def status(self, upstream_status: int) -> int:
        return upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return JSON_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        self._buffer += chunk
        if not end_of_stream:
            return b""
        return self.convert(self._buffer)

    def convert(self, raw: bytes) -> bytes:
        raise NotImplementedError


class UpstreamErrorResponse:
    """A non-2xx upstream answer: the provider's error body becomes OpenAI's error shape.

    `parse` returns (message, provider error code) from the whole provider body; `statuses`
    maps provider-only codes (e.g. Anthropic 529) onto the ones OpenAI clients know.
    """

    __slots__ = ("_buffer", "_parse", "_status", "_statuses", "usage")

    def __init__(
        self,
        upstream_status: int,
        parse: Callable[[bytes], tuple[str, str | None]],
        statuses: Mapping[int, int],
    ) -> None:
        self.usage: Usage | None = None
        self._parse = parse
        self._statuses = statuses
        self._status = self.status(upstream_status)
        self._buffer = b""

    def status(self, upstream_status: int) -> int:
        return self._statuses.get(upstream_status, upstream_status)

    def headers(self) -> tuple[tuple[str, str], ...]:
        return JSON_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        self._buffer += chunk
        if not end_of_stream:
            return b""
        message, code = self._parse(self._buffer)
        return error_object(self._status, message, code)


def json_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def raw_message(raw: bytes) -> str:
    """The start of an unparseable upstream body, for an error message."""
    text = raw[:500].decode("utf-8", "replace").strip()
    return text or "The upstream provider returned an empty error body."
