"""Request validation of the Gemini fake, with Google's error wording where it is known.

Google parses bodies as protobuf JSON: unknown field names fail with "Unknown name ...:
Cannot find field." (camelCase and snake_case spellings are both accepted), and Gemini adds
semantic rules on roles, parts, function-call turns, schemas and generation settings.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

JSONObject = dict[str, Any]

REQUEST_FIELDS = {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
                  "safetySettings", "cachedContent", "labels"}
GENERATION_FIELDS = {
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed",
    "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "thinkingConfig",
    "responseModalities", "mediaResolution",
}
PART_DATA = {"text", "inlineData", "fileData", "functionCall", "functionResponse",
             "executableCode", "codeExecutionResult"}
PART_FIELDS = PART_DATA | {"thought", "thoughtSignature", "videoMetadata"}
SCHEMA_FIELDS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum",
    "maximum",
}
SCHEMA_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
MODES = {"AUTO", "ANY", "NONE", "VALIDATED"}
MIME_TYPES = {"text/plain", "application/json", "text/x.enum"}
FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-:]{0,63}$")
AI_STUDIO_FILES = ("https://generativelanguage.googleapis.com/", "https://www.youtube.com/")


@dataclass(frozen=True, slots=True)
class GeminiRequestError(Exception):
    message: str
    status: int = 400


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def normalised(obj: JSONObject, allowed: set[str], where: str) -> JSONObject:
    """`obj` with snake_case names in camelCase; unknown names fail like protobuf JSON."""
    out = {}
    for key, value in obj.items():
        name = camel(key)
        if name not in allowed:
            at = f" at '{where}'" if where else ""
            raise GeminiRequestError(
                f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.'
            )
        out[name] = value
    return out


def _object(value: Any, where: str) -> JSONObject:
    if not isinstance(value, dict):
        raise GeminiRequestError(
            f"Invalid JSON payload received. Expected an object at '{where}'."
        )
    return value


def validate_generate_request(body: Any, *, vertex: bool) -> JSONObject:
    request = normalised(_object(body, ""), REQUEST_FIELDS, "")
    contents = request.get("contents")
    if not isinstance(contents, list) or not contents:
        raise GeminiRequestError("* GenerateContentRequest.contents: contents is not specified\n")
    request["contents"] = [_content(c, f"contents[{i}]", vertex) for i, c in enumerate(contents)]
    _check_function_turns(request["contents"])
    if "systemInstruction" in request:
        request["systemInstruction"] = _content(
            request["systemInstruction"], "system_instruction", vertex, role_required=False
        )
    request["tools"] = [_tool(t, f"tools[{i}]") for i, t in enumerate(request.get("tools", []))]
    if "toolConfig" in request:
        _tool_config(request["toolConfig"])
    request["generationConfig"] = _generation_config(request.get("generationConfig", {}))
    return request


def _content(value: Any, where: str, vertex: bool, role_required: bool = True) -> JSONObject:
    content = normalised(_object(value, where), {"role", "parts"}, where)
    role = content.get("role")
    if role_required and role not in ("user", "model"):
        raise GeminiRequestError("Please use a valid role: user, model.")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise GeminiRequestError(
            f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.\n"
        )
    content["parts"] = [_part(p, f"{where}.parts[{j}]", vertex) for j, p in enumerate(parts)]
    return content


def _part(value: Any, where: str, vertex: bool) -> JSONObject:
    part = normalised(_object(value, where), PART_FIELDS, where)
    data = [key for key in part if key in PART_DATA]
    if len(data) != 1:
        raise GeminiRequestError(
            f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have "
            "one initialized field\n"
        )
    if "inlineData" in part:
        _inline_data(part["inlineData"], where)
    if "fileData" in part:
        _file_data(part["fileData"], where, vertex)
    if "functionCall" in part:
        call = part["functionCall"]
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise GeminiRequestError(f"* GenerateContentRequest.{where}.function_call.name: "
                                     "Name cannot be empty.\n")
    if "functionResponse" in part:
        response = part["functionResponse"]
        if not isinstance(response, dict) or not isinstance(response.get("response"), dict):
            raise GeminiRequestError(f"* GenerateContentRequest.{where}.function_response."
                                     "response: must be an object.\n")
    return part


def _inline_data(value: Any, where: str) -> None:
    blob = normalised(_object(value, where), {"mimeType", "data"}, where)
    if not blob.get("mimeType"):
        raise GeminiRequestError(f"* GenerateContentRequest.{where}.inline_data.mime_type: "
                                 "mime_type must be set.\n")
    try:
        base64.b64decode(str(blob.get("data", "")), validate=True)
    except binascii.Error:
        raise GeminiRequestError(
            f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
        ) from None


def _file_data(value: Any, where: str, vertex: bool) -> None:
    data = normalised(_object(value, where), {"mimeType", "fileUri"}, where)
    uri = str(data.get("fileUri", ""))
    accepted = uri.startswith(("gs://", "https://", "http://")) if vertex else (
        uri.startswith(AI_STUDIO_FILES))
    if not accepted:
        raise GeminiRequestError(f"Invalid or unsupported file uri: {uri}")
    if vertex and not data.get("mimeType"):
        raise GeminiRequestError(f"* {where}.file_data.mime_type: mime_type must be set.\n")


def _check_function_turns(contents: list[JSONObject]) -> None:
    for i, content in enumerate(contents):
        calls = sum("functionCall" in part for part in content["parts"])
        if not calls:
            continue
        previous = contents[i - 1] if i else None
        if previous is None or previous["role"] != "user":
            raise GeminiRequestError(
                "Please ensure that function call turn comes immediately after a user turn "
                "or after a function response turn."
            )
        following = contents[i + 1]["parts"] if i + 1 < len(contents) else None
        if following is None:
            continue
        responses = sum("functionResponse" in part for part in following)
        if responses != calls:
            raise GeminiRequestError(
                "Please ensure that the number of function response parts is equal to the "
                "number of function call parts of the function call turn."
            )


def _tool(value: Any, where: str) -> JSONObject:
    tool = normalised(_object(value, where), {"functionDeclarations", "googleSearch",
                                              "codeExecution", "urlContext"}, where)
    declarations = tool.get("functionDeclarations", [])
    for k, declaration in enumerate(declarations):
        _declaration(declaration, f"{where}.function_declarations[{k}]")
    return tool


def _declaration(value: Any, where: str) -> None:
    fields = {"name", "description", "parameters", "parametersJsonSchema", "response",
              "behavior"}
    declaration = normalised(_object(value, where), fields, where)
    if not FUNCTION_NAME.match(str(declaration.get("name", ""))):
        raise GeminiRequestError(f"* GenerateContentRequest.{where}.name: Invalid function "
                                 "name. Must start with a letter or an underscore.\n")
    if "parameters" in declaration:
        validate_schema(declaration["parameters"], f"{where}.parameters")


def validate_schema(value: Any, where: str) -> None:
    schema = normalised(_object(value, where), SCHEMA_FIELDS, where)
    kind = str(schema.get("type", "")).upper()
    if "type" in schema and kind not in SCHEMA_TYPES:
        raise GeminiRequestError(f"Invalid value at '{where}.type' (type.googleapis.com/"
                                 f"google.cloud.aiplatform.v1.Type), \"{schema['type']}\"")
    if kind == "OBJECT" and not schema.get("properties"):
        raise GeminiRequestError(f"* GenerateContentRequest.{where}.properties: should be "
                                 "non-empty for OBJECT type\n")
    for name, child in (schema.get("properties") or {}).items():
        validate_schema(child, f"{where}.properties[{name}].value")
    if "items" in schema:
        validate_schema(schema["items"], f"{where}.items")
    for k, child in enumerate(schema.get("anyOf") or []):
        validate_schema(child, f"{where}.any_of[{k}]")


def _tool_config(value: Any) -> None:
    config = normalised(_object(value, "tool_config"), {"functionCallingConfig"}, "tool_config")
    calling = normalised(_object(config.get("functionCallingConfig", {}), "tool_config"),
                         {"mode", "allowedFunctionNames"}, "tool_config.function_calling_config")
    if calling.get("mode", "AUTO") not in MODES:
        raise GeminiRequestError("Invalid value at 'tool_config.function_calling_config.mode'")
    if calling.get("allowedFunctionNames") and calling.get("mode") != "ANY":
        raise GeminiRequestError("* GenerateContentRequest.tool_config.function_calling_config"
                                 ".allowed_function_names: only allowed when mode is ANY.\n")


def _generation_config(value: Any) -> JSONObject:
    config = normalised(_object(value, "generation_config"), GENERATION_FIELDS,
                        "generation_config")
    count = config.get("candidateCount", 1)
    if not isinstance(count, int) or not 1 <= count <= 8:
        raise GeminiRequestError("* GenerateContentRequest.generation_config.candidate_count: "
                                 "must be in range [1, 8].\n")
    max_tokens = config.get("maxOutputTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise GeminiRequestError("* GenerateContentRequest.generation_config.max_output_tokens: "
                                 "must be positive.\n")
    if len(config.get("stopSequences", [])) > 5:
        raise GeminiRequestError("* GenerateContentRequest.generation_config.stop_sequences: "
                                 "at most 5 stop sequences are allowed.\n")
    mime_type = config.get("responseMimeType", "text/plain")
    if mime_type not in MIME_TYPES:
        raise GeminiRequestError(f"* GenerateContentRequest.generation_config.response_mime_type"
                                 f": allowed mimetypes are {sorted(MIME_TYPES)}.\n")
    if "responseSchema" in config:
        if mime_type == "text/plain":
            raise GeminiRequestError("* GenerateContentRequest.generation_config.response_schema"
                                     ": response_mime_type must be application/json.\n")
        validate_schema(config["responseSchema"], "generation_config.response_schema")
    return config


def validate_embed_content(value: Any, where: str) -> str:
    """The text of an `EmbedContentRequest`-like object."""
    fields = {"model", "content", "taskType", "title", "outputDimensionality"}
    request = normalised(_object(value, where), fields, where)
    content = _content(request.get("content"), f"{where}.content", False, role_required=False)
    texts = [part.get("text") for part in content["parts"]]
    if not all(isinstance(text, str) for text in texts):
        raise GeminiRequestError("Only text parts can be embedded.")
    return " ".join(texts)
