"""OpenRouter's model list (`GET /api/v1/models`) -> catalog entries with USD prices.

OpenRouter prices are decimal strings in USD per token; the catalog keeps USD per million
tokens. A negative price (OpenRouter's `-1` for routers such as `openrouter/auto`, whose
price depends on the model picked) or an unreadable one becomes `None`: unknown, not free.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

TOKENS_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class CatalogModel:
    id: str
    name: str
    context_length: int | None
    input_usd_per_million: Decimal | None
    output_usd_per_million: Decimal | None


def per_token_to_per_million(price: Any) -> Decimal | None:
    if not isinstance(price, str | int | float) or isinstance(price, bool):
        return None
    try:
        value = Decimal(str(price))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    return (value * TOKENS_PER_MILLION).normalize()


def openrouter_model_to_catalog(entry: dict[str, Any]) -> CatalogModel | None:
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    pricing = entry.get("pricing") if isinstance(entry.get("pricing"), dict) else {}
    context = entry.get("context_length")
    name = entry.get("name")
    return CatalogModel(
        id=model_id,
        name=name if isinstance(name, str) and name else model_id,
        context_length=context if isinstance(context, int) and context > 0 else None,
        input_usd_per_million=per_token_to_per_million(pricing.get("prompt")),
        output_usd_per_million=per_token_to_per_million(pricing.get("completion")),
    )


def openrouter_models_to_catalog(payload: Any) -> list[CatalogModel]:
    """Entries without an id are skipped; a payload without `data` is an error."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise ValueError("OpenRouter models payload has no 'data' array")
    entries = (openrouter_model_to_catalog(e) for e in data if isinstance(e, dict))
    return [entry for entry in entries if entry is not None]
