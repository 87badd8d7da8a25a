"""The providers the gateway can route to, and which of them speak OpenAI's format as is."""

from __future__ import annotations

PROVIDERS = (
    "openai", "azure", "anthropic", "bedrock", "vertex", "gemini", "mistral", "groq",
    "openrouter", "cerebras",
)

# No upstream-level stream for these: the router level injects the key, Envoy rewrites paths.
PASSTHROUGH_PROVIDERS = frozenset({"openai"})


def is_translated(provider: str) -> bool:
    return provider not in PASSTHROUGH_PROVIDERS
