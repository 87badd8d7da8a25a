"""What a request costs: exact integer money from a deployment's price versions. Pure.

Prices are micro-USD per million tokens, which is exactly pico-USD (1e-12 USD) per token, so
a cost is `tokens * price` in pico-USD with no rounding, and sums of costs are exact.

Cached input tokens are a subset of the prompt tokens: the uncached rest pays the input
price, the cached ones the cached price (the input price when none is set). Reasoning tokens
are a subset of the completion tokens: they pay the output price unless a reasoning price is
set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ext_proc.ratelimit import estimate_split
from ext_proc.usage import Usage

# A request that sets no max_tokens is reserved as if it could produce this many.
BUDGET_DEFAULT_COMPLETION_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class Price:
    """One price version (micro-USD per million tokens); None: fall back as documented."""

    effective_from_ms: int
    input: int
    output: int
    cached_input: int | None = None
    reasoning: int | None = None


FREE = Price(0, 0, 0)


def price_at(prices: Sequence[Price], now_ms: int) -> Price:
    """The version in force at `now_ms` (prices are oldest first); none yet: free."""
    current = FREE
    for price in prices:
        if price.effective_from_ms > now_ms:
            break
        current = price
    return current


def cost_pico(price: Price, usage: Usage) -> int:
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    reasoning = min(usage.reasoning_tokens, usage.completion_tokens)
    cached_price = price.input if price.cached_input is None else price.cached_input
    reasoning_price = price.output if price.reasoning is None else price.reasoning
    return ((usage.prompt_tokens - cached) * price.input + cached * cached_price
            + (usage.completion_tokens - reasoning) * price.output
            + reasoning * reasoning_price)


def estimate_usage(body_size: int, body: dict[str, Any], endpoint: str) -> Usage:
    """The most a request may use: prompt bytes / 4, plus its completion cap."""
    prompt, completion = estimate_split(body_size, body, endpoint,
                                        BUDGET_DEFAULT_COMPLETION_TOKENS)
    return Usage(prompt, completion, prompt + completion)


def estimate_pico(price_lists: Sequence[Sequence[Price]], usage: Usage, now_ms: int) -> int:
    """The estimate priced at the priciest deployment (fail-over may land on any of them)."""
    return max((cost_pico(price_at(p, now_ms), usage) for p in price_lists), default=0)

