"""Validation of Converse and Titan embedding requests, with Bedrock's ValidationException texts.

Stricter than the service in one way, on purpose: an unknown top-level Converse field is
rejected (the service may ignore it), so a translator cannot send fields Bedrock never reads.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

JSONObject = dict[str, Any]
CONVERSE_FIELDS = frozenset(
    {"messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig",
     "additionalModelRequestFields", "additionalModelResponseFieldPaths", "promptVariables",
     "requestMetadata", "performanceConfig"}
)
BLOCK_KINDS = frozenset(
    {"text", "image", "document", "video", "toolUse", "toolResult", "guardContent",
     "cachePoint", "reasoningContent"}
)
TOOL_CHOICES = frozenset({"auto", "any", "tool"})
IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "webp"})
TITAN_FIELDS = frozenset({"inputText", "dimensions", "normalize", "embeddingTypes"})
TITAN_DIMENSIONS = frozenset({256, 512, 1024})
MAX_STOP_SEQUENCES = 4


class ValidationError(Exception):
    """Bedrock's 400 `ValidationException`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def validate_converse(body: JSONObject) -> None:
    for name in body:
        if name not in CONVERSE_FIELDS:
            raise ValidationError(f"Unknown field '{name}' in the request body.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValidationError("The messages field is required and must not be empty.")
    _check_system(body.get("system"))
    _check_inference(body.get("inferenceConfig"))
    uses_tools = _check_turns(messages)
    _check_tool_config(body.get("toolConfig"), uses_tools)


def _check_system(system: object) -> None:
    if system is None:
        return
    if not isinstance(system, list):
        raise ValidationError("The system field must be a list of SystemContentBlock objects.")
    for index, block in enumerate(system):
        if not isinstance(block, dict) or not block.get("text", "").strip():
            raise ValidationError(f"The text field in system.{index} is blank.")


def _check_inference(config: object) -> None:
    if config is None:
        return
    if not isinstance(config, dict):
        raise ValidationError("inferenceConfig must be an object.")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise ValidationError(
            "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1"
        )
    for name in ("temperature", "topP"):
        value = config.get(name)
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at 'inferenceConfig.{name}' "
                "failed to satisfy constraint: Member must have value less than or equal to 1"
            )
    stops = config.get("stopSequences")
    if stops is not None and (not isinstance(stops, list) or len(stops) > MAX_STOP_SEQUENCES):
        raise ValidationError(
            "1 validation error detected: Value at 'inferenceConfig.stopSequences' failed to "
            "satisfy constraint: Member must have length less than or equal to "
            f"{MAX_STOP_SEQUENCES}"
        )


def _check_turns(messages: list[Any]) -> bool:
    """Checks roles, alternation, blocks and tool pairing; True if any tool block is used."""
    uses_tools = False
    previous_role = None
    pending: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            raise ValidationError(
                f"1 validation error detected: Value at 'messages.{index}.member.role' failed "
                "to satisfy constraint: Member must satisfy enum value set: [user, assistant]"
            )
        if previous_role is None and role != "user":
            raise ValidationError(
                "A conversation must start with a user message. Try again with a conversation "
                "that starts with a user message."
            )
        if role == previous_role:
            raise ValidationError(
                "A conversation must alternate between user and assistant roles. Make sure the "
                "conversation alternates between user and assistant roles and try again."
            )
        blocks = _blocks(message.get("content"), f"messages.{index}")
        results = [b["toolResult"]["toolUseId"] for b in blocks if "toolResult" in b]
        if len(results) > len(pending) or not set(results) <= pending:
            raise ValidationError(
                f"The number of toolResult blocks at messages.{index}.content exceeds the number "
                "of toolUse blocks of previous turn."
            )
        pending = {b["toolUse"]["toolUseId"] for b in blocks if "toolUse" in b}
        uses_tools = uses_tools or bool(results or pending)
        previous_role = role
    return uses_tools


def _blocks(content: object, where: str) -> list[JSONObject]:
    if not isinstance(content, list) or not content:
        raise ValidationError(f"The content field in the Message object at {where} is empty.")
    for index, block in enumerate(content):
        _check_block(block, f"{where}.content.{index}")
    return content


def _check_block(block: object, where: str) -> None:
    if not isinstance(block, dict) or not _one_of(block, BLOCK_KINDS):
        raise ValidationError(f"The ContentBlock object at {where} must set exactly one member.")
    kind, value = next(iter(block.items()))
    if kind == "text" and (not isinstance(value, str) or not value.strip()):
        raise ValidationError(
            f"The text field in the ContentBlock object at {where} is blank. Add text to the "
            "text field, and try again."
        )
    if kind == "image":
        _check_image(value, where)
    if kind == "toolUse" and not (
        isinstance(value, dict) and isinstance(value.get("toolUseId"), str)
        and isinstance(value.get("name"), str) and isinstance(value.get("input"), dict)
    ):
        raise ValidationError(f"The toolUse block at {where} needs toolUseId, name and input.")
    if kind == "toolResult" and not (
        isinstance(value, dict) and isinstance(value.get("toolUseId"), str)
        and isinstance(value.get("content"), list)
    ):
        raise ValidationError(f"The toolResult block at {where} needs toolUseId and content.")


def _check_image(image: object, where: str) -> None:
    if not isinstance(image, dict) or image.get("format") not in IMAGE_FORMATS:
        raise ValidationError(
            f"1 validation error detected: Value at '{where}.member.image.format' failed to "
            "satisfy constraint: Member must satisfy enum value set: [png, jpeg, gif, webp]"
        )
    data = (image.get("source") or {}).get("bytes")
    try:
        base64.b64decode(data or "", validate=True)
    except (binascii.Error, TypeError):
        data = None
    if not data:
        raise ValidationError(f"The image source at {where} must hold base64-encoded bytes.")


def _check_tool_config(config: object, uses_tools: bool) -> None:
    if config is None:
        if uses_tools:
            raise ValidationError(
                "The toolConfig field must be defined when using toolUse and toolResult "
                "content blocks."
            )
        return
    if not isinstance(config, dict):
        raise ValidationError("The toolConfig field must be an object.")
    tools = config.get("tools")
    if not isinstance(tools, list) or not tools:
        raise ValidationError("The toolConfig.tools field must hold at least one tool.")
    for index, tool in enumerate(tools):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        schema = (spec or {}).get("inputSchema") or {}
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise ValidationError(f"toolConfig.tools.{index}.toolSpec.name is required.")
        if not isinstance(schema.get("json"), dict):
            raise ValidationError(f"toolConfig.tools.{index}.toolSpec.inputSchema is required.")
    choice = config.get("toolChoice")
    if choice is not None and not (isinstance(choice, dict) and _one_of(choice, TOOL_CHOICES)):
        raise ValidationError("toolConfig.toolChoice must set exactly one of auto, any, tool.")


def _one_of(union: JSONObject, members: frozenset[str]) -> bool:
    return len(union) == 1 and next(iter(union)) in members


def validate_titan(body: JSONObject) -> None:
    for name in body:
        if name not in TITAN_FIELDS:
            raise ValidationError(
                f"Malformed input request: extraneous key [{name}] is not permitted, please "
                "reformat your input and try again."
            )
    text = body.get("inputText")
    if not isinstance(text, str):
        raise ValidationError(
            "Malformed input request: #: required key [inputText] not found, please reformat "
            "your input and try again."
        )
    if not text:
        raise ValidationError("Malformed input request: #/inputText: expected minLength: 1")
    if "dimensions" in body and body["dimensions"] not in TITAN_DIMENSIONS:
        raise ValidationError(
            f"Malformed input request: #/dimensions: {body['dimensions']} is not a valid enum "
            "value, please reformat your input and try again."
        )
