"""OpenAI chat `messages` and `tools` -> Gemini `contents`, `systemInstruction`, `tools`.

Rules worth knowing:

* `system` and `developer` messages, wherever they are, become the one `systemInstruction`
  (Gemini has no system turns), in order.
* `assistant` -> role `model`; `tool` -> a `functionResponse` part in a `user` turn, named
  after the assistant tool call it answers (found by `tool_call_id`).
* Consecutive turns of one role are merged: Gemini wants all the responses to a parallel
  function call in the single turn that follows it.
* Images: `data:` URLs become `inlineData`; other URLs become `fileData` on Vertex (which
  fetches `gs://` and `https://` URIs) and are rejected for AI Studio, which only reads its
  own Files API URIs.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from typing import Any

import orjson

from ext_proc.translators.base import TranslationError
from ext_proc.translators.gemini_schema import json_schema_to_gemini

JSONObject = dict[str, Any]
SYSTEM_ROLES = frozenset({"system", "developer"})
FETCHABLE_SCHEMES = ("https://", "http://", "gs://")


def openai_to_gemini_contents(
    messages: Any, *, vertex: bool
) -> tuple[list[JSONObject], JSONObject | None]:
    """(`contents`, `systemInstruction` or None) for the OpenAI `messages` array."""
    if not isinstance(messages, list) or not messages:
        raise TranslationError("messages must be a non-empty array.", param="messages")
    system_parts: list[JSONObject] = []
    contents: list[JSONObject] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise TranslationError(f"messages[{i}] must be an object.", param=f"messages[{i}]")
        role = message.get("role")
        if role in SYSTEM_ROLES:
            system_parts += _text_parts(message.get("content"), f"messages[{i}].content")
            continue
        turn = _turn(message, i, messages, vertex)
        if contents and contents[-1]["role"] == turn["role"]:
            contents[-1]["parts"] += turn["parts"]
        else:
            contents.append(turn)
    if not contents:
        raise TranslationError("messages need at least one non-system message.", "messages")
    return contents, ({"parts": system_parts} if system_parts else None)


def _turn(message: JSONObject, i: int, messages: list[Any], vertex: bool) -> JSONObject:
    role = message.get("role")
    if role == "user":
        return {"role": "user", "parts": _user_parts(message.get("content"), i, vertex)}
    if role == "assistant":
        return {"role": "model", "parts": _assistant_parts(message, i)}
    if role == "tool":
        return {"role": "user", "parts": [_function_response(message, i, messages)]}
    raise TranslationError(f"Unsupported role {role!r}.", param=f"messages[{i}].role")


def _text_parts(content: Any, path: str) -> list[JSONObject]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if isinstance(content, list):
        parts = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text":
                raise TranslationError(f"{path}[{j}] must be a text part.", param=f"{path}[{j}]")
            parts.append({"text": str(part.get("text", ""))})
        return parts
    if content is None:
        return []
    raise TranslationError(f"{path} must be a string or an array of parts.", param=path)


def _user_parts(content: Any, i: int, vertex: bool) -> list[JSONObject]:
    path = f"messages[{i}].content"
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list) or not content:
        raise TranslationError(f"{path} must be a string or a non-empty array.", param=path)
    return [_user_part(part, f"{path}[{j}]", vertex) for j, part in enumerate(content)]


def _user_part(part: Any, path: str, vertex: bool) -> JSONObject:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text" and isinstance(part.get("text"), str):
        return {"text": part["text"]}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, str):
            return image_url_to_gemini_part(url, f"{path}.image_url", vertex)
    raise TranslationError(f"Unsupported content part at {path}.", param=path)


def image_url_to_gemini_part(url: str, path: str, vertex: bool) -> JSONObject:
    if url.startswith("data:"):
        return _inline_data(url, path)
    if vertex and url.startswith(FETCHABLE_SCHEMES):
        mime_type, _ = mimetypes.guess_type(url.split("?", 1)[0])
        if mime_type is None or not mime_type.startswith("image/"):
            raise TranslationError(f"{path}: cannot tell the image type of {url!r}.", param=path)
        return {"fileData": {"mimeType": mime_type, "fileUri": url}}
    raise TranslationError(
        f"{path}: this provider only accepts images as data: URLs (base64).", param=path
    )


def _inline_data(url: str, path: str) -> JSONObject:
    header, _, data = url[5:].partition(",")
    mime_type, _, encoding = header.partition(";")
    if encoding != "base64" or not mime_type:
        raise TranslationError(f"{path}: expected data:<mime>;base64,<data>.", param=path)
    try:
        base64.b64decode(data, validate=True)
    except binascii.Error:
        raise TranslationError(f"{path}: invalid base64 image data.", param=path) from None
    return {"inlineData": {"mimeType": mime_type, "data": data}}


def _assistant_parts(message: JSONObject, i: int) -> list[JSONObject]:
    parts = _text_parts(message.get("content"), f"messages[{i}].content")
    tool_calls = message.get("tool_calls") or []
    if not isinstance(tool_calls, list):
        raise TranslationError("tool_calls must be an array.", param=f"messages[{i}].tool_calls")
    parts += [_function_call(call, f"messages[{i}].tool_calls[{k}]") for k, call in
              enumerate(tool_calls)]
    return parts or [{"text": ""}]


def _function_call(call: Any, path: str) -> JSONObject:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise TranslationError(f"{path}.function.name is required.", param=f"{path}.function")
    try:
        args = orjson.loads(function.get("arguments") or "{}")
    except orjson.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        param = f"{path}.function.arguments"
        raise TranslationError(f"{param} must be a JSON object string.", param=param)
    return {"functionCall": {"name": function["name"], "args": args}}


def _function_response(message: JSONObject, i: int, messages: list[Any]) -> JSONObject:
    name = _tool_call_name(message.get("tool_call_id"), messages[:i])
    if name is None:
        param = f"messages[{i}].tool_call_id"
        raise TranslationError(f"{param} matches no earlier assistant tool call.", param=param)
    content = message.get("content")
    text = content if isinstance(content, str) else "".join(
        part.get("text", "") for part in content or [] if isinstance(part, dict)
    )
    parsed = _json_object(text)
    return {"functionResponse": {"name": name, "response": parsed or {"content": text}}}


def _tool_call_name(call_id: Any, earlier: list[Any]) -> str | None:
    """Name of the most recent assistant tool call with this id (ids may repeat across turns)."""
    for message in reversed(earlier):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict) and call.get("id") == call_id:
                name = (call.get("function") or {}).get("name")
                return name if isinstance(name, str) else None
    return None


def _json_object(text: str) -> JSONObject | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# -- tools ----------------------------------------------------------------------------------


def openai_to_gemini_tools(tools: Any) -> list[JSONObject]:
    if not isinstance(tools, list):
        raise TranslationError("tools must be an array.", param="tools")
    return [{"functionDeclarations": [_declaration(tool, i) for i, tool in enumerate(tools)]}]


def _declaration(tool: Any, i: int) -> JSONObject:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        raise TranslationError("Only function tools are supported.", param=f"tools[{i}].type")
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise TranslationError("Function tools need a name.", param=f"tools[{i}].function.name")
    declaration: JSONObject = {"name": function["name"]}
    if function.get("description"):
        declaration["description"] = function["description"]
    parameters = function.get("parameters")
    if isinstance(parameters, dict) and parameters.get("properties"):
        # Gemini rejects an OBJECT schema without properties: a no-argument function has none.
        path = f"tools[{i}].function.parameters"
        declaration["parameters"] = json_schema_to_gemini(parameters, path)
    return declaration


def openai_to_gemini_tool_config(tool_choice: Any) -> JSONObject:
    """`tool_choice` -> `toolConfig`: auto/none/required, or one named function (mode ANY)."""
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if isinstance(tool_choice, str) and tool_choice in modes:
        return {"functionCallingConfig": {"mode": modes[tool_choice]}}
    function = tool_choice.get("function") if isinstance(tool_choice, dict) else None
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        config = {"mode": "ANY", "allowedFunctionNames": [function["name"]]}
        return {"functionCallingConfig": config}
    raise TranslationError("Unsupported tool_choice.", param="tool_choice")
