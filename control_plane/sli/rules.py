"""Pure SLI arithmetic: measure a window of samples, and step an objective's breach streaks.

Flapping is damped by streaks: an incident opens after `breach_windows` consecutive breaching
evaluations and resolves after `recover_windows` consecutive healthy ones. A window with too few
requests to judge (`min_requests`) leaves both streaks as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class SliKind(StrEnum):
    latency_p95_ms = "latency_p95_ms"  # end-to-end request duration, 95th percentile
    ttft_p95_ms = "ttft_p95_ms"  # time to first token of streams, 95th percentile
    error_rate = "error_rate"  # share of requests answered 5xx (or not at all)
    rate_limited_rate = "rate_limited_rate"  # share of requests the provider answered 429


@dataclass(frozen=True, slots=True)
class Sample:
    """What one usage record says about the deployment that served it."""

    status: int
    latency_ms: float
    ttft_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Streaks:
    breaching: int = 0
    healthy: int = 0
    open: bool = False  # an incident is open for this objective


class Transition(StrEnum):
    none = "none"
    open = "open"
    resolve = "resolve"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def is_server_error(status: int) -> bool:
    return status >= 500 or status == 0


def measure(kind: SliKind, samples: Sequence[Sample], min_requests: int) -> float | None:
    """The SLI's value over one window, or None when the window holds too few requests."""
    if kind is SliKind.ttft_p95_ms:
        values = [s.ttft_ms for s in samples if s.ttft_ms is not None]
        return percentile(values, 95) if values and len(values) >= min_requests else None
    if len(samples) < max(min_requests, 1):
        return None
    if kind is SliKind.latency_p95_ms:
        return percentile([s.latency_ms for s in samples], 95)
    if kind is SliKind.error_rate:
        return sum(is_server_error(s.status) for s in samples) / len(samples)
    return sum(s.status == 429 for s in samples) / len(samples)


def step(
    streaks: Streaks, value: float | None, threshold: float, breach_windows: int,
    recover_windows: int,
) -> tuple[Streaks, Transition]:
    """Fold one evaluation into the streaks; say whether an incident opens or resolves."""
    if value is None:
        return streaks, Transition.none
    if value > threshold:
        breaching = streaks.breaching + 1
        if not streaks.open and breaching >= breach_windows:
            return Streaks(breaching, 0, True), Transition.open
        return Streaks(breaching, 0, streaks.open), Transition.none
    healthy = streaks.healthy + 1
    if streaks.open and healthy >= recover_windows:
        return Streaks(0, healthy, False), Transition.resolve
    return Streaks(0, healthy, streaks.open), Transition.none
