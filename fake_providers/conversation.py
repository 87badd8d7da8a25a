"""The deterministic "model" behind the Anthropic and Bedrock fakes: what it answers.

Rules, in order (the fakes only translate the outcome into their provider's wire format):

1. Tools are offered and the tool choice is not "none", and the choice forces a tool (a named
   tool, or "any" which picks the first), or the last user turn's text names a tool -> a call
   to that tool. Its input has each *required* property of the tool's JSON schema, filled by
   type: string -> the user's text, integer/number -> 42, boolean -> true, array -> [],
   object -> {}. The stop reason is "tool_use".
2. The last user turn carries tool results -> "Tool result: <first 12 words of the results>".
3. Otherwise -> "Mock response to: <first 12 words of the last user text>".

Text replies are cut at the first stop sequence found (stop reason "stop_sequence") or to
`max_tokens` words ("max_tokens"; thinking is not counted against it). Tokens are
whitespace-separated words; a prompt is the words of every text plus 3 per message; thinking,
when asked for, is "Thinking about: <the same 12 words>" and counts as output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

JSONObject = dict[str, Any]
PROMPT_WORDS = 12
TOKENS_PER_MESSAGE = 3
SAMPLE_VALUES: dict[str, Any] = {"integer": 42, "number": 42, "boolean": True}


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    schema: JSONObject


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the rules read, extracted by each fake from its provider's request."""

    last_user_text: str
    tool_results: Sequence[str] = ()
    tools: Sequence[Tool] = ()
    tool_choice: str = "auto"  # "auto", "any", "none" or "tool"
    forced_tool: str | None = None
    max_tokens: int | None = None
    stop: Sequence[str] = ()
    thinking: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    text: str = ""
    thinking: str = ""
    tool_name: str | None = None
    tool_input: JSONObject = field(default_factory=dict)
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None

    @property
    def output_tokens(self) -> int:
        tool_words = sum(len(str(value).split()) for value in self.tool_input.values())
        return count_tokens(self.text) + count_tokens(self.thinking) + tool_words


def count_tokens(text: str) -> int:
    return len(text.split())


def reply_to(conversation: Conversation) -> Reply:
    words = conversation.last_user_text.split()[:PROMPT_WORDS]
    thinking = " ".join(["Thinking", "about:", *words]) if conversation.thinking else ""
    tool = _chosen_tool(conversation)
    if tool is not None:
        tool_input = _sample_input(tool.schema, conversation.last_user_text)
        return Reply(
            thinking=thinking, tool_name=tool.name, tool_input=tool_input, stop_reason="tool_use"
        )
    if conversation.tool_results:
        words = " ".join(conversation.tool_results).split()[:PROMPT_WORDS]
        return _text_reply(["Tool", "result:", *words], thinking, conversation)
    return _text_reply(["Mock", "response", "to:", *words], thinking, conversation)


def _chosen_tool(conversation: Conversation) -> Tool | None:
    if not conversation.tools or conversation.tool_choice == "none":
        return None
    if conversation.tool_choice == "tool":
        return next((t for t in conversation.tools if t.name == conversation.forced_tool), None)
    if conversation.tool_choice == "any":
        return conversation.tools[0]
    if conversation.tool_results:
        return None
    text = conversation.last_user_text
    return next((tool for tool in conversation.tools if tool.name in text), None)


def _sample_input(schema: JSONObject, text: str) -> JSONObject:
    properties = schema.get("properties") or {}
    sample: JSONObject = {}
    for name in schema.get("required") or []:
        kind = (properties.get(name) or {}).get("type", "string")
        sample[name] = _sample_value(kind, text)
    return sample


def _sample_value(kind: object, text: str) -> Any:
    if kind == "string":
        return text
    if kind == "array":
        return []
    return SAMPLE_VALUES.get(str(kind), {})


def _text_reply(words: list[str], thinking: str, conversation: Conversation) -> Reply:
    text = " ".join(words)
    for stop in conversation.stop:
        if stop and stop in text:
            cut = text[: text.index(stop)]
            return Reply(cut, thinking, stop_reason="stop_sequence", stop_sequence=stop)
    limit = conversation.max_tokens
    if limit is not None and len(words) > limit:
        return Reply(text=" ".join(words[:limit]), thinking=thinking, stop_reason="max_tokens")
    return Reply(text=text, thinking=thinking)


def prompt_tokens(texts_per_message: Sequence[str]) -> int:
    return sum(count_tokens(text) + TOKENS_PER_MESSAGE for text in texts_per_message)


def word_chunks(text: str, chunks: int | None = None) -> list[str]:
    """Streamed pieces of `text`: one per word (with its leading space), or `chunks` groups."""
    words = text.split(" ") if text else []
    pieces = [word if index == 0 else " " + word for index, word in enumerate(words)]
    if not chunks or chunks >= len(pieces):
        return pieces
    size = -(-len(pieces) // chunks)
    return ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]
