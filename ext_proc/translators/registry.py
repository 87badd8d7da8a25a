"""The one place that maps a deployment's provider name to its translator.

Built explicitly (no discovery, no import-time side effects beyond constructing stateless
translator objects); an unknown provider fails loudly with `UnknownProvider`.
"""

from __future__ import annotations

from ext_proc.translators.anthropic import AnthropicTranslator
from ext_proc.translators.base import Translator
from ext_proc.translators.bedrock import BedrockTranslator


class UnknownProvider(KeyError):
    """A provider name with no translator: a configuration error, not a client error."""

    def __str__(self) -> str:
        known = ", ".join(sorted(TRANSLATORS))
        return f"No translator for provider {self.args[0]!r} (known: {known})."


TRANSLATORS: dict[str, Translator] = {
    "anthropic": AnthropicTranslator(),
    "bedrock": BedrockTranslator(),
}


def translator_for(provider: str) -> Translator:
    try:
        return TRANSLATORS[provider]
    except KeyError:
        raise UnknownProvider(provider) from None
