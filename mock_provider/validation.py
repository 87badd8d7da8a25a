"""Pure validation of request bodies, rejecting what OpenAI rejects with the same error shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from mock_provider.responses import DEFAULT_EMBEDDING_DIMENSIONS, EmbeddingInput, JSONObject

ROLES = ("system", "user", "assistant", "tool", "developer")
ENCODING_FORMATS = ("float", "base64")
MAX_EMBEDDING_DIMENSIONS = 4096


class RequestError(Exception):
    """A request the API refuses; carries the fields of an OpenAI error body."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: list[JSONObject]
    stream: bool
    include_usage: bool
    max_tokens: int | None


@dataclass(frozen=True, slots=True)
class EmbeddingsRequest:
    model: str
    inputs: list[EmbeddingInput]
    dimensions: int
    encoding_format: str


def parse_json_object(raw: bytes) -> JSONObject:
    """Decode a request body that must be a JSON object."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError(
            "We could not parse the JSON body of your request. The API expects a JSON payload."
        ) from None
    if not isinstance(body, dict):
        raise RequestError(
            f"Invalid type for request body: expected an object, but got {_kind(body)}."
        )
    return body


def parse_chat_request(body: JSONObject) -> ChatRequest:
    """Validate a chat completions body (``model``, ``messages``, streaming and limits)."""
    model = _required(body, "model", str, "a string")
    messages = _required(body, "messages", list, "an array")
    if not messages:
        raise RequestError(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for index, message in enumerate(messages):
        _check_message(message, f"messages[{index}]")
    stream = _optional(body, "stream", bool, "a boolean") or False
    options = _optional(body, "stream_options", dict, "an object")
    if options is not None and not stream:
        raise RequestError(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    include_usage = bool(options and _optional(options, "include_usage", bool, "a boolean"))
    max_tokens = _positive_int(body, "max_completion_tokens", 1 << 31)
    if max_tokens is None:
        max_tokens = _positive_int(body, "max_tokens", 1 << 31)
    return ChatRequest(model, messages, stream, include_usage, max_tokens)


def parse_embeddings_request(body: JSONObject) -> EmbeddingsRequest:
    """Validate an embeddings body: ``input`` is a string, strings, or token arrays."""
    model = _required(body, "model", str, "a string")
    if body.get("input") is None:
        raise RequestError(
            "Missing required parameter: 'input'.", "input", "missing_required_parameter"
        )
    inputs = _embedding_inputs(body["input"])
    dimensions = _positive_int(body, "dimensions", MAX_EMBEDDING_DIMENSIONS)
    encoding_format = _optional(body, "encoding_format", str, "a string") or "float"
    if encoding_format not in ENCODING_FORMATS:
        raise _invalid_value("encoding_format", encoding_format, ENCODING_FORMATS)
    return EmbeddingsRequest(
        model, inputs, dimensions or DEFAULT_EMBEDDING_DIMENSIONS, encoding_format
    )


def _check_message(message: object, where: str) -> None:
    if not isinstance(message, dict):
        raise _invalid_type(where, message, "an object")
    role = message.get("role")
    if role is None:
        raise RequestError(
            f"Missing required parameter: '{where}.role'.",
            f"{where}.role",
            "missing_required_parameter",
        )
    if role not in ROLES:
        raise _invalid_value(f"{where}.role", role, ROLES)
    content = message.get("content")
    if content is None:
        if role != "assistant":  # an assistant turn may carry only tool calls
            raise RequestError(
                f"Missing required parameter: '{where}.content'.",
                f"{where}.content",
                "missing_required_parameter",
            )
    elif isinstance(content, list):
        for index, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise _invalid_type(f"{where}.content[{index}]", part, "an object with a 'type'")
    elif not isinstance(content, str):
        raise _invalid_type(f"{where}.content", content, "a string or an array")


def _embedding_inputs(value: object) -> list[EmbeddingInput]:
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, list) and value and all(_is_token(item) for item in value):
        value = [value]  # a single token array
    if not isinstance(value, list):
        raise _invalid_type("input", value, "a string or an array")
    if not value:
        raise RequestError(
            "Invalid 'input': empty array. Expected an array with minimum length 1.",
            "input",
            "empty_array",
        )
    for index, item in enumerate(value):
        if isinstance(item, str):
            if not item:
                raise RequestError(f"Invalid 'input[{index}]': empty string.", f"input[{index}]")
        elif not (isinstance(item, list) and item and all(_is_token(t) for t in item)):
            raise _invalid_type(f"input[{index}]", item, "a string or a non-empty token array")
    return value


def _is_token(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _required(body: JSONObject, name: str, kind: type, kind_name: str) -> Any:
    if body.get(name) is None:
        raise RequestError(
            f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
        )
    return _optional(body, name, kind, kind_name)


def _optional(body: JSONObject, name: str, kind: type, kind_name: str) -> Any:
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or _is_bool_for_int(value, kind)):
        raise _invalid_type(name, value, kind_name)
    return value


def _positive_int(body: JSONObject, name: str, maximum: int) -> int | None:
    value: int | None = _optional(body, name, int, "an integer")
    if value is not None and not 1 <= value <= maximum:
        raise RequestError(
            f"Invalid '{name}': expected an integer between 1 and {maximum}, but got {value}.",
            name,
            "integer_out_of_range",
        )
    return value


def _is_bool_for_int(value: object, kind: type) -> bool:
    return kind is int and isinstance(value, bool)


def _invalid_type(param: str, value: object, expected: str) -> RequestError:
    return RequestError(
        f"Invalid type for '{param}': expected {expected}, but got {_kind(value)} instead.",
        param,
        "invalid_type",
    )


def _invalid_value(param: str, value: object, supported: tuple[str, ...]) -> RequestError:
    shown = f"'{value}'" if isinstance(value, str) else orjson.dumps(value).decode()
    choices = ", ".join(f"'{choice}'" for choice in supported)
    return RequestError(
        f"Invalid value: {shown}. Supported values are: {choices}.",
        param,
        "invalid_value",
    )


def _kind(value: object) -> str:
    """How OpenAI names the JSON type of ``value`` in its error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
