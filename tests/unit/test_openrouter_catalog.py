"""OpenRouter `GET /api/v1/models` -> catalog entries priced in USD per million tokens."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from translator_harness import fixture

from ext_proc.translators.openrouter_catalog import (
    CatalogModel,
    openrouter_models_to_catalog,
    per_token_to_per_million,
)
from fake_providers.openai_compat import create_app


def test_fixture_payload() -> None:
    catalog = openrouter_models_to_catalog(fixture("openrouter/models.json")["payload"])
    assert catalog == [
        CatalogModel("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", 128000,
                     Decimal("0.15"), Decimal("0.6")),
        CatalogModel("anthropic/claude-sonnet-4", "Anthropic: Claude Sonnet 4", 1000000,
                     Decimal("3"), Decimal("15")),
        CatalogModel("meta-llama/llama-3.3-8b-instruct:free", "Meta: Llama 3.3 8B Instruct "
                     "(free)", 128000, Decimal("0"), Decimal("0")),
        CatalogModel("openrouter/auto", "Auto Router", 2000000, None, None),
    ]


@pytest.mark.parametrize(
    ("price", "expected"),
    [("0.000002", Decimal("2")), ("0", Decimal("0")), ("-1", None), ("abc", None),
     (None, None), (True, None), ("NaN", None), (0.0000005, Decimal("0.5"))],
)
def test_prices(price: object, expected: Decimal | None) -> None:
    assert per_token_to_per_million(price) == expected


def test_payload_without_data_is_an_error() -> None:
    with pytest.raises(ValueError):
        openrouter_models_to_catalog({"models": []})


@pytest.mark.asyncio
async def test_fake_serves_the_catalog_format() -> None:
    transport = httpx.ASGITransport(app=create_app("openrouter"))
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        payload = (await client.get("/api/v1/models")).json()
    catalog = {model.id: model for model in openrouter_models_to_catalog(payload)}
    assert catalog["mock/fast"].input_usd_per_million == Decimal("0.1")
    assert catalog["mock/smart"].output_usd_per_million == Decimal("15")
    assert catalog["openrouter/auto"].input_usd_per_million is None
