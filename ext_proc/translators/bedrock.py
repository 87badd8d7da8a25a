"""OpenAI -> AWS Bedrock Runtime: Converse / ConverseStream for chat, Titan for embeddings.

Paths: `/model/{modelId}/converse`, `/model/{modelId}/converse-stream` and, for embeddings,
`/model/{modelId}/invoke` with a Titan text embeddings body. The model id (or inference
profile id / ARN) is percent-encoded whole, as the AWS SDKs do (`:` -> `%3A`, `/` -> `%2F`).
SigV4 signing is not done here: the credentials step signs the final body.

Request rules:

* `system` and `developer` messages become the top-level `system` blocks; `tool` messages
  become `toolResult` blocks of a user turn; consecutive turns of one role are merged.
* Images: data: URLs become inline `bytes`; Converse takes no http(s) URLs, so those are
  rejected naming `messages[i].content[j].image_url`.
* `tool_choice: "none"` sends no `toolConfig` (Converse has no "none"); that is rejected when
  the conversation already holds tool calls, since Converse then requires `toolConfig`.
* `DROPPED_PARAMS` are accepted and not sent (no Converse counterpart and no effect on what is
  generated, or in `parallel_tool_calls`' case no control over it at all).
* `n` (only 1), `logprobs` (only false), penalties (only 0), non-text `response_format` and
  `reasoning_effort` are rejected naming the parameter, as is any parameter not listed.
* Embeddings: Titan embeds one text per call, so `input` must be a string or a one-string
  list; `dimensions` must be one Titan accepts. Vectors come back as floats even when
  `encoding_format` is "base64" (`response()` does not see the request; the OpenAI SDKs
  accept floats), see `bedrock_response`.

Options: `region` (used by the credentials step and the base URL, not by the body).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson

from ext_proc.translators import openai_wire as oai
from ext_proc.translators.base import (
    CHAT,
    CHAT_STREAM,
    EMBEDDINGS,
    TOOLS,
    TOOLS_STREAM,
    VISION,
    ResponseTranslator,
    Target,
    TranslationError,
    UpstreamRequest,
)
from ext_proc.translators.bedrock_response import (
    STATUS_MAP,
    BedrockChat,
    BedrockChatStream,
    TitanEmbeddings,
    error_parser,
)

JSONObject = dict[str, Any]
PROVIDER = "bedrock"
TITAN_DIMENSIONS = (256, 512, 1024)
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg",
                 "image/gif": "gif", "image/webp": "webp"}
DROPPED_PARAMS = frozenset(
    {"seed", "service_tier", "store", "metadata", "user", "parallel_tool_calls",
     "prompt_cache_key"}
)
HANDLED_PARAMS = frozenset(
    {
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
        "temperature", "top_p", "stop", "tools", "tool_choice", "n", "logprobs",
        "frequency_penalty", "presence_penalty", "response_format",
    }
)
EMBEDDING_PARAMS = frozenset({"model", "input", "dimensions", "encoding_format"})


class BedrockTranslator:
    name = PROVIDER
    capabilities = frozenset({CHAT, CHAT_STREAM, TOOLS, TOOLS_STREAM, VISION, EMBEDDINGS})

    def request(self, endpoint: str, body: dict[str, Any], target: Target) -> UpstreamRequest:
        model = quote(target.upstream_model or str(body.get("model") or ""), safe="")
        if not model:
            raise TranslationError("A Bedrock model id is required.", "model")
        headers = (("content-type", "application/json"), ("accept", "application/json"))
        if endpoint == "embeddings":
            payload = openai_to_titan_embedding(body)
            path = f"{target.base_path}/model/{model}/invoke"
            return UpstreamRequest(path, orjson.dumps(payload), headers)
        payload = openai_to_converse_request(body)
        action = "converse-stream" if body.get("stream") else "converse"
        if body.get("stream"):
            headers = (("content-type", "application/json"),
                       ("accept", "application/vnd.amazon.eventstream"))
        path = f"{target.base_path}/model/{model}/{action}"
        return UpstreamRequest(path, orjson.dumps(payload), headers)

    def response(
        self, endpoint: str, upstream_status: int, stream: bool, request_model: str
    ) -> ResponseTranslator:
        if not 200 <= upstream_status < 300:
            parse = error_parser(upstream_status)
            return oai.UpstreamErrorResponse(upstream_status, parse, STATUS_MAP)
        if endpoint == "embeddings":
            return TitanEmbeddings(request_model)
        return BedrockChatStream(request_model) if stream else BedrockChat(request_model)


# -- embeddings --------------------------------------------------------------------------------


def openai_to_titan_embedding(body: JSONObject) -> JSONObject:
    oai.check_known_params(body, EMBEDDING_PARAMS, frozenset({"user"}), PROVIDER)
    text = body.get("input")
    if isinstance(text, list) and len(text) == 1:
        text = text[0]
    if not isinstance(text, str) or not text:
        raise TranslationError(
            "Bedrock Titan embeds one non-empty string per request: pass a string "
            "(or a list of exactly one string).",
            "input",
        )
    payload: JSONObject = {"inputText": text}
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if dimensions not in TITAN_DIMENSIONS:
            raise TranslationError(
                f"Titan accepts dimensions {', '.join(map(str, TITAN_DIMENSIONS))}.", "dimensions"
            )
        payload["dimensions"] = dimensions
    return payload


# -- chat --------------------------------------------------------------------------------------


def openai_to_converse_request(body: JSONObject) -> JSONObject:
    oai.check_known_params(body, HANDLED_PARAMS, DROPPED_PARAMS, PROVIDER)
    _reject_unsupported_values(body)
    system, messages = openai_to_converse_messages(body.get("messages"))
    payload: JSONObject = {"messages": messages}
    if system:
        payload["system"] = system
    inference = openai_to_inference_config(body)
    if inference:
        payload["inferenceConfig"] = inference
    tool_config = openai_to_tool_config(body, _has_tool_blocks(messages))
    if tool_config:
        payload["toolConfig"] = tool_config
    return payload


def _reject_unsupported_values(body: JSONObject) -> None:
    oai.reject_unless_default(body, "n", 1, PROVIDER)
    oai.reject_unless_default(body, "logprobs", False, PROVIDER)
    oai.reject_unless_default(body, "frequency_penalty", 0, PROVIDER)
    oai.reject_unless_default(body, "presence_penalty", 0, PROVIDER)
    oai.reject_unless_default(body, "response_format", {"type": "text"}, PROVIDER)


def openai_to_inference_config(body: JSONObject) -> JSONObject:
    config: JSONObject = {}
    max_tokens = oai.max_output_tokens(body)
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    config.update(oai.sampling(body, "Bedrock", "temperature", "topP", "stopSequences"))
    return config


def openai_to_converse_messages(messages: object) -> tuple[list[JSONObject], list[JSONObject]]:
    system: list[JSONObject] = []
    turns: list[JSONObject] = []
    for where, message in oai.indexed_messages(messages):
        if message.get("role") in ("system", "developer"):
            system.append({"text": oai.text_of(message.get("content"), where)})
            continue
        role, blocks = _message_blocks(message, where)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _message_blocks(message: JSONObject, where: str) -> tuple[str, list[JSONObject]]:
    role = message.get("role")
    if role == "user":
        return "user", _user_blocks(message.get("content"), where)
    if role == "assistant":
        return "assistant", _assistant_blocks(message, where)
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str):
            raise TranslationError("A tool message needs 'tool_call_id'.", f"{where}.tool_call_id")
        content = [{"text": oai.text_of(message.get("content"), where)}]
        return "user", [{"toolResult": {"toolUseId": call_id, "content": content}}]
    raise TranslationError(f"Unsupported message role {role!r}.", f"{where}.role")


def _user_blocks(content: object, where: str) -> list[JSONObject]:
    blocks: list[JSONObject] = []
    for path, part in oai.content_parts(content, where):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append({"text": part["text"]})
        elif kind == "image_url":
            blocks.append(_image_block(part, path))
        else:
            raise TranslationError(f"Unsupported content part type {kind!r}.", path)
    if not blocks:
        raise TranslationError("A user message needs content.", f"{where}.content")
    return blocks


def _image_block(part: JSONObject, path: str) -> JSONObject:
    inline = oai.parse_data_url(oai.image_url(part, path), path)
    if inline is None:
        raise TranslationError(
            "Bedrock Converse takes images inline only: use a data: URL.", f"{path}.image_url"
        )
    image_format = IMAGE_FORMATS.get(inline.media_type)
    if image_format is None:
        raise TranslationError(
            f"Bedrock accepts png, jpeg, gif and webp images, not {inline.media_type}.",
            f"{path}.image_url",
        )
    return {"image": {"format": image_format, "source": {"bytes": inline.data}}}


def _assistant_blocks(message: JSONObject, where: str) -> list[JSONObject]:
    blocks: list[JSONObject] = []
    content = message.get("content")
    text = oai.text_of(content, where) if content is not None else ""
    if text:  # Converse rejects blank text blocks
        blocks.append({"text": text})
    for index, call in enumerate(message.get("tool_calls") or []):
        path = f"{where}.tool_calls[{index}]"
        name = (call.get("function") or {}).get("name")
        if not isinstance(call.get("id"), str) or not isinstance(name, str):
            raise TranslationError("A tool call needs an 'id' and a 'function.name'.", path)
        arguments = oai.tool_call_arguments(call, path)
        blocks.append({"toolUse": {"toolUseId": call["id"], "name": name, "input": arguments}})
    if not blocks:
        raise TranslationError("An assistant message needs content or tool_calls.", where)
    return blocks


def _has_tool_blocks(turns: list[JSONObject]) -> bool:
    return any(
        "toolUse" in block or "toolResult" in block for turn in turns for block in turn["content"]
    )


def openai_to_tool_config(body: JSONObject, has_tool_blocks: bool) -> JSONObject | None:
    functions = oai.function_tools(body)
    choice = body.get("tool_choice")
    if choice == "none" or not functions:
        if functions and has_tool_blocks:
            raise TranslationError(
                "Bedrock has no tool_choice 'none' for a conversation holding tool calls.",
                "tool_choice",
            )
        if has_tool_blocks:
            raise TranslationError(
                "Bedrock needs the tool definitions when the conversation holds tool calls.",
                "tools",
            )
        if choice not in (None, "none"):
            raise TranslationError("'tool_choice' needs 'tools'.", "tool_choice")
        return None
    tools = [{"toolSpec": openai_to_tool_spec(function)} for function in functions]
    return {"tools": tools, "toolChoice": openai_to_converse_tool_choice(choice)}


def openai_to_tool_spec(function: JSONObject) -> JSONObject:
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    spec: JSONObject = {"name": function["name"], "inputSchema": {"json": schema}}
    if function.get("description"):
        spec["description"] = function["description"]
    return spec


def openai_to_converse_tool_choice(choice: object) -> JSONObject:
    if choice is None or choice == "auto":
        return {"auto": {}}
    if choice == "required":
        return {"any": {}}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str):
            return {"tool": {"name": name}}
    raise TranslationError("Unsupported 'tool_choice'.", "tool_choice")
