"""The translator interface: plain data in, plain data out. No gRPC, no sockets, no Envoy.

A translator turns an OpenAI-format request into the provider's (path, headers, body), and
the provider's response back into OpenAI format, chunk by chunk for streams. Credentials are
not its business (see `ext_proc/credentials/`): it only says which headers the body needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ext_proc.usage import Usage

# Capabilities a translator may declare; the conformance suite runs each one it declares.
CHAT = "chat"
CHAT_STREAM = "chat_stream"
EMBEDDINGS = "embeddings"
TOOLS = "tools"
TOOLS_STREAM = "tools_stream"
VISION = "vision"
JSON_MODE = "json_mode"
JSON_SCHEMA = "json_schema"
N_CHOICES = "n"


@dataclass(frozen=True, slots=True)
class Target:
    """What a translator knows about the deployment it translates for."""

    provider: str
    upstream_model: str
    base_path: str = ""  # path prefix of the deployment's base URL, no trailing slash
    options: Mapping[str, str] = field(default_factory=dict)  # api_version, region, project...


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    path: str  # full upstream path, query string included
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # e.g. content-type, anthropic-version


@dataclass(frozen=True, slots=True)
class TranslationError(Exception):
    """A request the provider cannot serve as asked: becomes a 400 naming the parameter."""

    message: str
    param: str | None = None
    status: int = 400


class ResponseTranslator(Protocol):
    """Translates one upstream response. Created per attempt; may keep stream state."""

    usage: Usage | None

    def status(self, upstream_status: int) -> int:
        """The status the client sees (provider-specific codes mapped to OpenAI's)."""
        ...

    def headers(self) -> tuple[tuple[str, str], ...]:
        """Response headers to set for the client (e.g. content-type)."""
        ...

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        """OpenAI-format bytes for the client; non-streaming bodies arrive whole, once."""
        ...


class Translator(Protocol):
    name: str
    capabilities: frozenset[str]

    def request(self, endpoint: str, body: dict[str, Any], target: Target) -> UpstreamRequest:
        """`endpoint` is "chat.completions" or "embeddings"; `body` is the parsed client body."""
        ...

    def response(
        self, endpoint: str, upstream_status: int, stream: bool, request_model: str
    ) -> ResponseTranslator:
        ...
