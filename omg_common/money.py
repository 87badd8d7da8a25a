"""Money as exact integers: pico-USD (1e-12 USD) for costs and spend, micro-USD per million
tokens for prices (the same number as pico-USD per token). Decimal strings at the edges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

PICO_PER_USD = 10**12
MICRO_PER_USD = 10**6


def _scaled(value: str | int | float | Decimal, scale: int, what: str) -> int:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what}: {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{what}: {value!r} must be a finite amount >= 0")
    scaled = amount * scale
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{what}: {value!r} has more decimals than {len(str(scale)) - 1}")
    return int(scaled)


def usd_to_pico(value: str | int | float | Decimal) -> int:
    return _scaled(value, PICO_PER_USD, "USD amount")


def price_to_micro(value: str | int | float | Decimal) -> int:
    """A price in USD per million tokens, stored as micro-USD per million tokens."""
    return _scaled(value, MICRO_PER_USD, "price per million tokens")


def _text(amount: int, scale: int) -> str:
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), scale)
    digits = f"{frac:0{len(str(scale)) - 1}d}".rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def pico_to_usd(pico: int) -> str:
    """Exact decimal USD, e.g. 1_500_000 -> "0.0000015"."""
    return _text(pico, PICO_PER_USD)


def micro_to_price(micro: int) -> str:
    return _text(micro, MICRO_PER_USD)
