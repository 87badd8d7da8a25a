"""OpenAI chat completions <-> Anthropic Messages API (`POST /v1/messages`).

Request rules (documented here because they are choices, not facts of either API):

* `max_tokens` is required by Anthropic: `max_completion_tokens`, else `max_tokens`, else
  `target.options["default_max_tokens"]`, else `DEFAULT_MAX_TOKENS`. With extended thinking
  the default grows by the thinking budget, since Anthropic counts thinking in `max_tokens`.
* `system` and `developer` messages, wherever they are, become the top-level `system` blocks.
* `tool` messages become `tool_result` blocks of a user turn; consecutive turns of one role
  are merged, because Anthropic alternates user and assistant turns.
* `reasoning_effort` enables extended thinking with the budget of `THINKING_BUDGETS`.
* `DROPPED_PARAMS` are accepted and not sent: they do not change what the model generates.
* `n` (only 1), `logprobs` (only false), penalties (only 0) and non-text `response_format`
  are rejected with a 400 naming the parameter, as is any parameter not listed here.
* Anthropic's `temperature` range is 0..1: a higher OpenAI temperature is rejected.

Options: `anthropic_version` (header, default `ANTHROPIC_VERSION`), `default_max_tokens`.
"""

from __future__ import annotations

from typing import Any

import orjson

from ext_proc.translators import openai_wire as oai
from ext_proc.translators.anthropic_response import AnthropicChat, AnthropicChatStream, parse_error
from ext_proc.translators.base import (
    CHAT,
    CHAT_STREAM,
    TOOLS,
    TOOLS_STREAM,
    VISION,
    ResponseTranslator,
    Target,
    TranslationError,
    UpstreamRequest,
)

JSONObject = dict[str, Any]
PROVIDER = "anthropic"
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
THINKING_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384}
# Anthropic-only status codes onto the OpenAI ones: 529 overloaded is a 503 to clients.
STATUS_MAP = {529: 503}
DROPPED_PARAMS = frozenset({"seed", "service_tier", "store", "metadata", "prompt_cache_key"})
HANDLED_PARAMS = frozenset(
    {
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
        "temperature", "top_p", "stop", "tools", "tool_choice", "parallel_tool_calls", "user",
        "n", "logprobs", "frequency_penalty", "presence_penalty", "response_format",
        "reasoning_effort",
    }
)
TOOL_CHOICES = {"auto": {"type": "auto"}, "none": {"type": "none"}, "required": {"type": "any"}}


class AnthropicTranslator:
    name = PROVIDER
    capabilities = frozenset({CHAT, CHAT_STREAM, TOOLS, TOOLS_STREAM, VISION})

    def request(self, endpoint: str, body: dict[str, Any], target: Target) -> UpstreamRequest:
        if endpoint != "chat.completions":
            raise TranslationError(f"The anthropic provider does not serve {endpoint}.", None, 404)
        payload = openai_to_anthropic_request(body, target)
        version = target.options.get("anthropic_version") or ANTHROPIC_VERSION
        headers = (("content-type", "application/json"), ("anthropic-version", version))
        return UpstreamRequest(f"{target.base_path}/v1/messages", orjson.dumps(payload), headers)

    def response(
        self, endpoint: str, upstream_status: int, stream: bool, request_model: str
    ) -> ResponseTranslator:
        if not 200 <= upstream_status < 300:
            return oai.UpstreamErrorResponse(upstream_status, parse_error, STATUS_MAP)
        return AnthropicChatStream(request_model) if stream else AnthropicChat(request_model)


def openai_to_anthropic_request(body: JSONObject, target: Target) -> JSONObject:
    oai.check_known_params(body, HANDLED_PARAMS, DROPPED_PARAMS, PROVIDER)
    _reject_unsupported_values(body)
    system, messages = openai_to_anthropic_messages(body.get("messages"))
    model = target.upstream_model or body.get("model")
    payload: JSONObject = {"model": model, "messages": messages}
    if system:
        payload["system"] = system
    thinking_budget = _thinking_budget(body)
    payload["max_tokens"] = _max_tokens(body, target, thinking_budget)
    if thinking_budget:
        payload["thinking"] = {"type": "enabled", "budget_tokens": thinking_budget}
    payload.update(oai.sampling(body, "The anthropic provider", "temperature", "top_p",
                                "stop_sequences"))
    payload.update(openai_to_anthropic_tools(body))
    if isinstance(body.get("user"), str):
        payload["metadata"] = {"user_id": body["user"]}
    if body.get("stream"):
        payload["stream"] = True
    return payload


def _reject_unsupported_values(body: JSONObject) -> None:
    oai.reject_unless_default(body, "n", 1, PROVIDER)
    oai.reject_unless_default(body, "logprobs", False, PROVIDER)
    oai.reject_unless_default(body, "frequency_penalty", 0, PROVIDER)
    oai.reject_unless_default(body, "presence_penalty", 0, PROVIDER)
    response_format = body.get("response_format")
    if response_format is not None and response_format != {"type": "text"}:
        raise TranslationError(
            "The anthropic provider supports only response_format {'type': 'text'}.",
            "response_format",
        )


def _thinking_budget(body: JSONObject) -> int | None:
    effort = body.get("reasoning_effort")
    if effort is None or effort == "none":
        return None
    if effort not in THINKING_BUDGETS:
        raise TranslationError(f"Unknown reasoning_effort {effort!r}.", "reasoning_effort")
    return THINKING_BUDGETS[effort]


def _max_tokens(body: JSONObject, target: Target, thinking_budget: int | None) -> int:
    explicit = oai.max_output_tokens(body)
    if explicit is not None:
        if thinking_budget and explicit <= thinking_budget:
            raise TranslationError(
                f"max tokens must exceed the thinking budget of {thinking_budget} tokens "
                f"that reasoning_effort {body['reasoning_effort']!r} reserves.",
                "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens",
            )
        return explicit
    default = int(target.options.get("default_max_tokens") or DEFAULT_MAX_TOKENS)
    return default + (thinking_budget or 0)


# -- messages ----------------------------------------------------------------------------------


def openai_to_anthropic_messages(messages: object) -> tuple[list[JSONObject], list[JSONObject]]:
    """(system blocks, alternating user/assistant turns) of OpenAI `messages`."""
    system: list[JSONObject] = []
    turns: list[JSONObject] = []
    for where, message in oai.indexed_messages(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.append({"type": "text", "text": oai.text_of(message.get("content"), where)})
            continue
        role, blocks = _message_blocks(role, message, where)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _message_blocks(role: object, message: JSONObject, where: str) -> tuple[str, list[JSONObject]]:
    if role == "user":
        return "user", _user_blocks(message.get("content"), where)
    if role == "assistant":
        return "assistant", _assistant_blocks(message, where)
    if role == "tool":
        return "user", [_tool_result_block(message, where)]
    raise TranslationError(f"Unsupported message role {role!r}.", f"{where}.role")


def _user_blocks(content: object, where: str) -> list[JSONObject]:
    blocks: list[JSONObject] = []
    for path, part in oai.content_parts(content, where):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            blocks.append(_image_block(part, path))
        else:
            raise TranslationError(f"Unsupported content part type {kind!r}.", path)
    if not blocks:
        raise TranslationError("A user message needs content.", f"{where}.content")
    return blocks


def _image_block(part: JSONObject, path: str) -> JSONObject:
    url = oai.image_url(part, path)
    inline = oai.parse_data_url(url, path)
    if inline is not None:
        source = {"type": "base64", "media_type": inline.media_type, "data": inline.data}
        return {"type": "image", "source": source}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise TranslationError("Images must be data: or http(s) URLs.", f"{path}.image_url")


def _assistant_blocks(message: JSONObject, where: str) -> list[JSONObject]:
    blocks: list[JSONObject] = []
    content = message.get("content")
    text = oai.text_of(content, where) if content is not None else ""
    if text:  # Anthropic rejects empty text blocks
        blocks.append({"type": "text", "text": text})
    for index, call in enumerate(message.get("tool_calls") or []):
        blocks.append(_tool_use_block(call, f"{where}.tool_calls[{index}]"))
    if not blocks:
        raise TranslationError("An assistant message needs content or tool_calls.", where)
    return blocks


def _tool_use_block(call: JSONObject, path: str) -> JSONObject:
    name = (call.get("function") or {}).get("name")
    if not isinstance(call.get("id"), str) or not isinstance(name, str):
        raise TranslationError("A tool call needs an 'id' and a 'function.name'.", path)
    arguments = oai.tool_call_arguments(call, path)
    return {"type": "tool_use", "id": call["id"], "name": name, "input": arguments}


def _tool_result_block(message: JSONObject, where: str) -> JSONObject:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str):
        raise TranslationError("A tool message needs 'tool_call_id'.", f"{where}.tool_call_id")
    content = oai.text_of(message.get("content"), where)
    return {"type": "tool_result", "tool_use_id": call_id, "content": content}


# -- tools -------------------------------------------------------------------------------------


def openai_to_anthropic_tools(body: JSONObject) -> JSONObject:
    functions = oai.function_tools(body)
    choice = body.get("tool_choice")
    if not functions:
        if choice not in (None, "none"):
            raise TranslationError("'tool_choice' needs 'tools'.", "tool_choice")
        return {}
    tools = [openai_to_anthropic_tool(function) for function in functions]
    anthropic_choice = openai_to_anthropic_tool_choice(choice)
    if body.get("parallel_tool_calls") is False and anthropic_choice["type"] != "none":
        anthropic_choice["disable_parallel_tool_use"] = True
    return {"tools": tools, "tool_choice": anthropic_choice}


def openai_to_anthropic_tool(function: JSONObject) -> JSONObject:
    """OpenAI's `function.strict` has no Messages API counterpart: it is not sent."""
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    tool: JSONObject = {"name": function["name"], "input_schema": schema}
    if function.get("description"):
        tool["description"] = function["description"]
    return tool


def openai_to_anthropic_tool_choice(choice: object) -> JSONObject:
    if choice is None:
        return {"type": "auto"}
    if isinstance(choice, str) and choice in TOOL_CHOICES:
        return dict(TOOL_CHOICES[choice])
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str):
            return {"type": "tool", "name": name}
    raise TranslationError("Unsupported 'tool_choice'.", "tool_choice")
