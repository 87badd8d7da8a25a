"""The one map from provider name to translator. An unknown provider fails loudly."""

from __future__ import annotations

from ext_proc.translators.base import Translator

TRANSLATORS: dict[str, Translator] = {}


class UnknownProvider(KeyError):
    pass


def translator_for(provider: str) -> Translator:
    try:
        return TRANSLATORS[provider]
    except KeyError:
        raise UnknownProvider(f"no translator for provider {provider!r}") from None
