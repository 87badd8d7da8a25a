"""The rate limiter as the servicer sees it: counters plus the policy for when they fail.

When the shared store cannot answer, `failure_mode` decides: "open" serves the request
unlimited (and logs, at most every few seconds), "closed" refuses it with a 429 whose code is
`rate_limiter_unavailable` and Retry-After 1 (see `errors.rate_limiter_unavailable`). After a
failure the store is not asked again for `cooldown_s`, so an outage costs one timeout, not one
per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ext_proc import errors
from ext_proc.counters import Counters, CountersUnavailable
from ext_proc.outage import FailureMode, OutagePolicy, Settlements
from ext_proc.ratelimit import LimitPlan, quota_headers, rejection

log = logging.getLogger("omg.ext_proc.ratelimit")

WARN_EVERY_S = 10.0


@dataclass(frozen=True, slots=True)
class Reservation:
    """An admitted request's claim on the counters, settled once its real usage is known."""

    plan: LimitPlan
    window: int
    tokens: int
    headers: tuple[tuple[str, str], ...]


class RateLimiter:
    def __init__(
        self, counters: Counters, failure_mode: FailureMode = "open", cooldown_s: float = 1.0
    ) -> None:
        self._counters = counters
        self._outage = OutagePolicy("rate-limit counters", failure_mode,
                                    errors.rate_limiter_unavailable, log, cooldown_s,
                                    WARN_EVERY_S)
        self._settlements = Settlements()

    @property
    def unavailable(self) -> int:
        """Requests decided without the counters (an operator signal)."""
        return self._outage.unavailable

    async def reserve(self, plan: LimitPlan, tokens: int) -> Reservation | None:
        """Count the request, or raise the 429. None: not counted (no store, failing open)."""
        if self._outage.cooling_down:
            self._outage.decide("still in cool-down after a failure")
            return None
        try:
            admission = await self._counters.reserve(plan, tokens)
        except CountersUnavailable as exc:
            self._outage.failed(str(exc))
            return None
        if not admission.admitted:
            raise rejection(plan, admission, tokens)
        return Reservation(plan, admission.window, tokens, quota_headers(plan, admission))

    def settle(self, reservation: Reservation, tokens_delta: int) -> None:
        """Correct the token counters after the response, off the request's path."""
        if tokens_delta and reservation.plan.counts_tokens:
            self._settlements.start(self._settle(reservation, tokens_delta))

    async def _settle(self, reservation: Reservation, tokens_delta: int) -> None:
        try:
            await self._counters.settle(reservation.plan, reservation.window, tokens_delta)
        except CountersUnavailable as exc:
            log.debug("token settlement lost: %s", exc)

    async def close(self) -> None:
        await self._settlements.drain()
        await self._counters.close()
