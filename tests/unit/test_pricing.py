"""Cost math: exact pico-USD from price versions, cached and reasoning tokens, estimates."""

from __future__ import annotations

import pytest

from ext_proc.context import RequestContext
from ext_proc.pipeline import RouteDecision
from ext_proc.pricing import (
    BUDGET_DEFAULT_COMPLETION_TOKENS,
    Price,
    cost_pico,
    estimate_pico,
    estimate_usage,
    price_at,
)
from ext_proc.snapshot import Deployment, Principal, deployment_from_proto
from ext_proc.usage import Usage
from omg_common.money import micro_to_price, pico_to_usd, price_to_micro, usd_to_pico
from protos import config_pb2

# $2.50 / $10 / $1.25 cached per million tokens: pico-USD per token = micro-USD per million.
GPT = Price(0, price_to_micro("2.50"), price_to_micro("10"), price_to_micro("1.25"))


def test_uncached_prompt_and_completion_at_their_prices() -> None:
    usage = Usage(prompt_tokens=1000, completion_tokens=200, total_tokens=1200)
    assert cost_pico(GPT, usage) == 1000 * 2_500_000 + 200 * 10_000_000
    assert pico_to_usd(cost_pico(GPT, usage)) == "0.0045"


def test_cached_tokens_are_part_of_the_prompt_at_the_cached_price() -> None:
    usage = Usage(prompt_tokens=1000, completion_tokens=0, total_tokens=1000, cached_tokens=800)
    assert cost_pico(GPT, usage) == 200 * 2_500_000 + 800 * 1_250_000


def test_cached_tokens_without_a_cached_price_pay_the_input_price() -> None:
    price = Price(0, 3_000_000, 15_000_000)
    usage = Usage(prompt_tokens=100, completion_tokens=0, total_tokens=100, cached_tokens=60)
    assert cost_pico(price, usage) == 100 * 3_000_000


def test_reasoning_tokens_are_output_unless_they_have_their_own_price() -> None:
    usage = Usage(prompt_tokens=0, completion_tokens=500, total_tokens=500, reasoning_tokens=400)
    assert cost_pico(GPT, usage) == 500 * 10_000_000
    priced = Price(0, 1, 10_000_000, reasoning=20_000_000)
    assert cost_pico(priced, usage) == 100 * 10_000_000 + 400 * 20_000_000


def test_counts_beyond_their_total_are_capped() -> None:
    usage = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15, cached_tokens=50,
                  reasoning_tokens=50)
    assert cost_pico(Price(0, 2, 3, 1, 7), usage) == 10 * 1 + 5 * 7


def test_the_version_in_force_is_the_latest_started_one() -> None:
    versions = (Price(1000, 1, 1), Price(2000, 2, 2), Price(3000, 3, 3))
    assert price_at(versions, 999).input == 0  # nothing yet: free
    assert price_at(versions, 1000).input == 1
    assert price_at(versions, 2999).input == 2
    assert price_at(versions, 10**13).input == 3


def test_the_estimate_is_prompt_bytes_over_4_plus_the_completion_cap() -> None:
    assert estimate_usage(401, {"max_tokens": 50}, "chat.completions") == Usage(101, 50, 151)
    assert estimate_usage(8, {"max_completion_tokens": 7, "max_tokens": 9},
                          "chat.completions").completion_tokens == 7
    assert estimate_usage(8, {}, "chat.completions").completion_tokens \
        == BUDGET_DEFAULT_COMPLETION_TOKENS
    assert estimate_usage(8, {"max_tokens": 50}, "embeddings").completion_tokens == 0


def test_the_estimate_is_priced_at_the_priciest_deployment() -> None:
    usage = Usage(100, 10, 110)
    cheap, dear = (Price(0, 1, 1),), (Price(0, 5, 50),)
    assert estimate_pico([cheap, dear], usage, 0) == 100 * 5 + 10 * 50
    assert estimate_pico([], usage, 0) == 0


def test_money_round_trips_exactly_and_refuses_what_it_cannot_hold() -> None:
    assert usd_to_pico("0.000000000001") == 1
    assert usd_to_pico(12.5) == 12_500_000_000_000
    assert pico_to_usd(usd_to_pico("1234.567891234567")) == "1234.567891234567"
    assert micro_to_price(price_to_micro("0.01875")) == "0.01875"
    assert pico_to_usd(0) == "0" and pico_to_usd(-5) == "-0.000000000005"
    for bad in ("0.0000000000001", "-1", "NaN", "abc"):
        with pytest.raises(ValueError):
            usd_to_pico(bad)
    with pytest.raises(ValueError):
        price_to_micro("0.0000001")


def _deployment(dep_id: str, input_price: int) -> Deployment:
    return deployment_from_proto(config_pb2.Deployment(
        id=dep_id, name=dep_id, model="m", provider="openai", base_url="http://127.0.0.1:9/v1",
        prices=[config_pb2.Price(effective_from_ms=0, input=input_price, output=1)]))


def test_a_request_is_priced_by_the_deployment_that_served_it() -> None:
    chosen, fallback = _deployment("dep_a", 10), _deployment("dep_b", 30)
    ctx = RequestContext()
    ctx.principal = Principal("key_1", "ten_1", 0, frozenset())
    ctx.decision = RouteDecision("m", chosen, False, False, None, (chosen, fallback))
    ctx.usage = Usage(prompt_tokens=100, completion_tokens=0, total_tokens=100)
    assert ctx.price_usage() == 1000
    ctx.served_deployment_id = "dep_b"  # fail-over landed elsewhere
    assert ctx.price_usage() == 3000
    record = ctx.to_record(0.0)
    assert (record.deployment_id, record.cost_pico) == ("dep_b", 3000)
