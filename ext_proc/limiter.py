"""The rate limiter as the servicer sees it: counters plus the policy for when they fail.

When the shared store cannot answer, `failure_mode` decides: "open" serves the request
unlimited (and logs, at most every few seconds), "closed" refuses it with a 429 whose code is
`rate_limiter_unavailable` and Retry-After 1 (see `errors.rate_limiter_unavailable`). After a
failure the store is not asked again for `cooldown_s`, so an outage costs one timeout, not one
per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Literal

from ext_proc import errors
from ext_proc.counters import Counters, CountersUnavailable
from ext_proc.ratelimit import LimitPlan, quota_headers, rejection

log = logging.getLogger("omg.ext_proc.ratelimit")

FailureMode = Literal["open", "closed"]
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
        self._failure_mode = failure_mode
        self._cooldown_s = cooldown_s
        self._down_until = 0.0
        self._last_warning = -WARN_EVERY_S
        self._settling: set[asyncio.Task[None]] = set()
        self.unavailable = 0  # requests decided without the counters (an operator signal)

    async def reserve(self, plan: LimitPlan, tokens: int) -> Reservation | None:
        """Count the request, or raise the 429. None: not counted (no store, failing open)."""
        if time.monotonic() < self._down_until:
            return self._unavailable("still in cool-down after a failure")
        try:
            admission = await self._counters.reserve(plan, tokens)
        except CountersUnavailable as exc:
            self._down_until = time.monotonic() + self._cooldown_s
            return self._unavailable(str(exc))
        if not admission.admitted:
            raise rejection(plan, admission, tokens)
        return Reservation(plan, admission.window, tokens, quota_headers(plan, admission))

    def _unavailable(self, reason: str) -> None:
        self.unavailable += 1
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            log.warning("rate-limit counters unavailable (%s); failing %s (%d requests so far)",
                        reason, self._failure_mode, self.unavailable)
        if self._failure_mode == "closed":
            raise errors.rate_limiter_unavailable()
        return None

    def settle(self, reservation: Reservation, tokens_delta: int) -> None:
        """Correct the token counters after the response, off the request's path."""
        if not tokens_delta or not reservation.plan.counts_tokens:
            return
        task = asyncio.get_running_loop().create_task(self._settle(reservation, tokens_delta))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, reservation: Reservation, tokens_delta: int) -> None:
        try:
            await self._counters.settle(reservation.plan, reservation.window, tokens_delta)
        except CountersUnavailable as exc:
            log.debug("token settlement lost: %s", exc)

    async def close(self) -> None:
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
        await self._counters.close()
