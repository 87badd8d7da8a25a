"""The one place that maps a provider name to its translator; unknown names fail loudly."""

from __future__ import annotations

from ext_proc.translators.anthropic import AnthropicTranslator
from ext_proc.translators.base import Translator
from ext_proc.translators.bedrock import BedrockTranslator
from ext_proc.translators.gemini import GeminiTranslator
from ext_proc.translators.openai_compat import PROFILES, OpenAICompatTranslator


class UnknownProvider(KeyError):
    """No translator is registered under this provider name."""

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return str(self.args[0]) if self.args else "unknown provider"


def _build() -> dict[str, Translator]:
    translators: dict[str, Translator] = {}
    # Google Gemini: one translator, two provider names.
    translators["gemini"] = GeminiTranslator("gemini")
    translators["vertex"] = GeminiTranslator("vertex")
    # OpenAI-compatible family: openai, azure, mistral, groq, openrouter, cerebras.
    for name, profile in PROFILES.items():
        translators[name] = OpenAICompatTranslator(profile)
    translators["anthropic"] = AnthropicTranslator()
    translators["bedrock"] = BedrockTranslator()
    return translators


TRANSLATORS: dict[str, Translator] = _build()


def translator_for(provider: str) -> Translator:
    try:
        return TRANSLATORS[provider]
    except KeyError:
        known = ", ".join(sorted(TRANSLATORS))
        raise UnknownProvider(
            f"No translator for provider {provider!r}; known providers: {known}."
        ) from None
