"""Validation of a Messages API request as Anthropic performs it, with its error messages.

Stricter than today's API in one way, on purpose: turns must alternate and start with a
user turn (the API now merges consecutive turns of one role; older versions rejected them),
so a translator that passes here works against either behaviour.
"""

from __future__ import annotations

from typing import Any

JSONObject = dict[str, Any]
TOP_LEVEL_FIELDS = frozenset(
    {
        "model", "messages", "max_tokens", "system", "temperature", "top_p", "top_k",
        "stop_sequences", "stream", "tools", "tool_choice", "metadata", "thinking",
        "service_tier", "container", "mcp_servers",
    }
)
BLOCK_TYPES = frozenset(
    {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}
)
TOOL_CHOICE_TYPES = frozenset({"auto", "any", "tool", "none"})
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MIN_THINKING_BUDGET = 1024


class InvalidRequest(Exception):
    """Anthropic's 400 `invalid_request_error`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def validate_messages_request(body: JSONObject) -> None:
    for name in body:
        if name not in TOP_LEVEL_FIELDS:
            raise InvalidRequest(f"{name}: Extra inputs are not permitted")
    _required(body, "model", str, "a valid string")
    max_tokens = _required(body, "max_tokens", int, "a valid integer")
    if max_tokens < 1:
        raise InvalidRequest("max_tokens: Input should be greater than or equal to 1")
    _check_sampling(body)
    _check_system(body.get("system"))
    messages = _required(body, "messages", list, "a valid list")
    _check_turns(messages)
    _check_tools(body)
    _check_thinking(body.get("thinking"), max_tokens)


def _required(body: JSONObject, name: str, kind: type, described: str) -> Any:
    if name not in body:
        raise InvalidRequest(f"{name}: Field required")
    value = body[name]
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise InvalidRequest(f"{name}: Input should be {described}")
    return value


def _check_sampling(body: JSONObject) -> None:
    temperature = body.get("temperature")
    if temperature is not None:
        if not isinstance(temperature, int | float) or isinstance(temperature, bool):
            raise InvalidRequest("temperature: Input should be a valid number")
        if not 0 <= temperature <= 1:
            raise InvalidRequest("temperature: Input should be less than or equal to 1")
    stops = body.get("stop_sequences")
    if stops is not None and not (isinstance(stops, list) and all(map(_is_str, stops))):
        raise InvalidRequest("stop_sequences: Input should be a valid list")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequest("stream: Input should be a valid boolean")


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _check_system(system: object) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise InvalidRequest("system: Input should be a valid list")
    for index, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise InvalidRequest(f"system.{index}.type: Input should be 'text'")
        _check_text(block, f"system.{index}")


def _check_turns(messages: list[Any]) -> None:
    if not messages:
        raise InvalidRequest("messages: at least one message is required")
    previous_role = None
    pending_tool_uses: set[str] = set()
    for index, message in enumerate(messages):
        where = f"messages.{index}"
        if not isinstance(message, dict):
            raise InvalidRequest(f"{where}: Input should be a valid dictionary")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise InvalidRequest(f"{where}.role: Input should be 'user' or 'assistant'")
        if previous_role is None and role != "user":
            raise InvalidRequest('messages: first message must use the "user" role')
        if role == previous_role:
            raise InvalidRequest(
                'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row'
            )
        blocks = _blocks(message.get("content"), where)
        _check_tool_pairing(blocks, pending_tool_uses, index)
        pending_tool_uses = {b["id"] for b in blocks if b["type"] == "tool_use"}
        previous_role = role


def _blocks(content: object, where: str) -> list[JSONObject]:
    if isinstance(content, str):
        if not content:
            raise InvalidRequest("messages: text content blocks must be non-empty")
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content: Field required")
    for index, block in enumerate(content):
        _check_block(block, f"{where}.content.{index}")
    return content


def _check_block(block: object, where: str) -> None:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        raise InvalidRequest(f"{where}: Input tag does not match any of the expected tags")
    kind = block["type"]
    if kind == "text":
        _check_text(block, where)
    elif kind == "image":
        _check_image(block.get("source"), f"{where}.source")
    elif kind == "tool_use":
        if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
            raise InvalidRequest(f"{where}.id: Field required")
        if not isinstance(block.get("input"), dict):
            raise InvalidRequest(f"{where}.input: Input should be a valid dictionary")
    elif kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
        raise InvalidRequest(f"{where}.tool_use_id: Field required")


def _check_text(block: JSONObject, where: str) -> None:
    if not isinstance(block.get("text"), str):
        raise InvalidRequest(f"{where}.text: Field required")
    if not block["text"]:
        raise InvalidRequest("messages: text content blocks must be non-empty")


def _check_image(source: object, where: str) -> None:
    if not isinstance(source, dict):
        raise InvalidRequest(f"{where}: Field required")
    if source.get("type") == "url":
        if not isinstance(source.get("url"), str):
            raise InvalidRequest(f"{where}.url: Field required")
        return
    if source.get("type") != "base64":
        raise InvalidRequest(f"{where}: Input tag does not match any of the expected tags")
    if source.get("media_type") not in IMAGE_MEDIA_TYPES:
        raise InvalidRequest(
            f"{where}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' "
            "or 'image/webp'"
        )
    if not isinstance(source.get("data"), str):
        raise InvalidRequest(f"{where}.data: Field required")


def _check_tool_pairing(blocks: list[JSONObject], pending: set[str], index: int) -> None:
    results = {b["tool_use_id"] for b in blocks if b["type"] == "tool_result"}
    unexpected = sorted(results - pending)
    if unexpected:
        raise InvalidRequest(
            f"messages.{index}.content.0: unexpected `tool_use_id` found in `tool_result` "
            f"blocks: {', '.join(unexpected)}. Each `tool_result` block must have a "
            "corresponding `tool_use` block in the previous message."
        )
    missing = sorted(pending - results)
    if missing:
        raise InvalidRequest(
            f"messages.{index - 1}: `tool_use` ids were found without `tool_result` blocks "
            f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
            "corresponding `tool_result` block in the next message."
        )


def _check_tools(body: JSONObject) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise InvalidRequest("tools: Input should be a valid list")
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                raise InvalidRequest(f"tools.{index}.name: Field required")
            if not isinstance(tool.get("input_schema"), dict):
                raise InvalidRequest(f"tools.{index}.input_schema: Field required")
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not tools:
        raise InvalidRequest("tool_choice may only be specified while providing tools.")
    if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICE_TYPES:
        raise InvalidRequest("tool_choice: Input tag does not match any of the expected tags")
    if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
        raise InvalidRequest("tool_choice.tool.name: Field required")


def _check_thinking(thinking: object, max_tokens: int) -> None:
    if thinking is None:
        return
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
        raise InvalidRequest("thinking: Input tag does not match any of the expected tags")
    if thinking["type"] == "disabled":
        return
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < MIN_THINKING_BUDGET:
        raise InvalidRequest(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to "
            f"{MIN_THINKING_BUDGET}"
        )
    if max_tokens <= budget:
        raise InvalidRequest("`max_tokens` must be greater than `thinking.budget_tokens`.")
