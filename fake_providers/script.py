"""The fakes' deterministic script: what they answer, provider-independent.

* Reply text: ``"Mock response to: <first 12 words of the prompt>"``, where the prompt is
  the text of the last user turn, or, when that turn returns tool results, those results.
  Cut to the max-tokens limit in words (finish reason "length"/``MAX_TOKENS``).
* Tokens are words (see `mock_provider.responses`); a prompt adds 3 per turn.
* Tool call: when tools are given, the last turn is user text and the tool choice is not
  "none", the fake calls the first allowed tool whose name appears in the text
  (case-insensitive), or -- when a call is required -- the first allowed tool. Arguments
  are a sample of the tool's parameter schema (`sample_value`).
* JSON mode: ``{"reply": "<reply text>"}``; with a schema, `sample_value(schema)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

REPLY_PREFIX = ("Mock", "response", "to:")
PROMPT_WORDS = 12
TOKENS_PER_TURN = 3


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    parameters: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class TextAnswer:
    words: tuple[str, ...]
    truncated: bool

    @property
    def text(self) -> str:
        return " ".join(self.words)


def count_words(text: str) -> int:
    return len(text.split())


def text_answer(prompt: str, max_tokens: int | None) -> TextAnswer:
    words = [*REPLY_PREFIX, *prompt.split()[:PROMPT_WORDS]]
    kept = words if max_tokens is None else words[:max_tokens]
    return TextAnswer(tuple(kept), len(kept) < len(words))


def pick_tool(
    tools: Sequence[ToolSpec], prompt: str, *, required: bool, allowed: Sequence[str] = ()
) -> ToolSpec | None:
    candidates = [tool for tool in tools if not allowed or tool.name in allowed]
    lowered = prompt.lower()
    for tool in candidates:
        if tool.name.lower() in lowered:
            return tool
    return candidates[0] if required and candidates else None


def sample_value(schema: Any) -> Any:
    """A deterministic value matching a JSON Schema / Gemini schema node."""
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("anyOf"):
        return sample_value(schema["anyOf"][0])
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: sample_value(value) for name, value in properties.items()}
    if kind == "array":
        return [sample_value(schema.get("items"))]
    return {"string": "mock", "integer": 1, "number": 1.5, "boolean": True}.get(kind)


def json_text(answer: TextAnswer, schema: Any = None) -> str:
    value = sample_value(schema) if schema is not None else {"reply": answer.text}
    return orjson.dumps(value).decode()
