"""SLI arithmetic and the streaks that damp flapping."""

from __future__ import annotations

import pytest

from control_plane.sli.rules import (
    Sample,
    SliKind,
    Streaks,
    Transition,
    measure,
    percentile,
    step,
)


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 95) == 95
    assert percentile(values, 100) == 100
    assert percentile([7.0], 95) == 7.0
    assert percentile([5, 1, 3], 50) == 3


def samples(statuses: list[int], latency: float = 10.0) -> list[Sample]:
    return [Sample(s, latency) for s in statuses]


def test_error_rate_counts_5xx_and_unanswered_but_not_4xx() -> None:
    window = samples([200] * 6 + [500, 503, 0, 400])
    assert measure(SliKind.error_rate, window, 1) == pytest.approx(0.3)


def test_rate_limited_rate_counts_only_429() -> None:
    window = samples([200] * 3 + [429])
    assert measure(SliKind.rate_limited_rate, window, 1) == pytest.approx(0.25)


def test_latency_and_ttft_are_p95() -> None:
    window = [Sample(200, float(ms), float(ms) / 10) for ms in range(1, 21)]
    assert measure(SliKind.latency_p95_ms, window, 1) == 19.0
    assert measure(SliKind.ttft_p95_ms, window, 1) == pytest.approx(1.9)


def test_ttft_ignores_requests_without_a_first_token() -> None:
    window = [Sample(200, 5.0, None)] * 10 + [Sample(200, 5.0, 80.0)]
    assert measure(SliKind.ttft_p95_ms, window, 1) == 80.0
    assert measure(SliKind.ttft_p95_ms, window, 2) is None


def test_too_few_requests_is_no_judgement() -> None:
    assert measure(SliKind.error_rate, samples([500] * 4), 5) is None
    assert measure(SliKind.error_rate, [], 1) is None


def run(values: list[float | None], breach: int = 2, recover: int = 2) -> list[Transition]:
    streaks, seen = Streaks(), []
    for value in values:
        streaks, transition = step(streaks, value, 0.5, breach, recover)
        seen.append(transition)
    return seen


def test_opens_after_consecutive_breaches_and_resolves_after_consecutive_recoveries() -> None:
    o, r, n = Transition.open, Transition.resolve, Transition.none
    assert run([0.9, 0.9, 0.9, 0.1, 0.1, 0.1]) == [n, o, n, n, r, n]


def test_a_single_spike_or_a_single_good_window_does_not_flap() -> None:
    n, o = Transition.none, Transition.open
    assert run([0.9, 0.1, 0.9, 0.1, 0.9]) == [n] * 5
    assert run([0.9, 0.9, 0.1, 0.9, 0.1]) == [n, o, n, n, n]


def test_an_empty_window_keeps_the_streaks() -> None:
    o = Transition.open
    assert run([0.9, None, 0.9])[-1] is o


def test_threshold_is_exclusive() -> None:
    assert run([0.5, 0.5, 0.5]) == [Transition.none] * 3
