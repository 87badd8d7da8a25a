"""Budgets as the servicer sees them: the store plus the policy for when it fails.

When the store cannot answer, `failure_mode` decides: "closed" (the default: a hard budget is
not waived because Redis is down) refuses with a 503 `budget_unavailable`; "open" serves the
request unchecked. Either way it is logged (at most every few seconds) and counted. After a
failure the store is not asked again for `cooldown_s`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ext_proc import errors
from ext_proc.budget import BudgetRule, check_for, rejection
from ext_proc.budget_store import BudgetStore
from ext_proc.counters import CountersUnavailable

log = logging.getLogger("omg.ext_proc.budget")
FailureMode = Literal["open", "closed"]
WARN_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class BudgetReservation:
    counters: tuple[str, ...]
    estimate_pico: int


class BudgetGuard:
    def __init__(
        self, store: BudgetStore, failure_mode: FailureMode = "closed", cooldown_s: float = 1.0
    ) -> None:
        self._store = store
        self._failure_mode = failure_mode
        self._cooldown_s = cooldown_s
        self._down_until = 0.0
        self._last_warning = -WARN_EVERY_S
        self._settling: set[asyncio.Task[None]] = set()
        self.unavailable = 0  # requests decided without the store (an operator signal)

    async def reserve(
        self, rules: Sequence[BudgetRule], estimate_pico: int, now_ms: int
    ) -> BudgetReservation | None:
        """Hold the estimate on every budget, or raise the 429. None: not held (failing open)."""
        if time.monotonic() < self._down_until:
            return self._unavailable("still in cool-down after a failure")
        checks = [check_for(rule, now_ms) for rule in rules]
        try:
            admitted, spent = await self._store.reserve(checks, estimate_pico)
        except CountersUnavailable as exc:
            self._down_until = time.monotonic() + self._cooldown_s
            return self._unavailable(str(exc))
        if not admitted:
            raise rejection(checks, spent, estimate_pico)
        return BudgetReservation(tuple(c.counter for c in checks), estimate_pico)

    def _unavailable(self, reason: str) -> None:
        self.unavailable += 1
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            log.warning("budget counters unavailable (%s); failing %s (%d requests so far)",
                        reason, self._failure_mode, self.unavailable)
        if self._failure_mode == "closed":
            raise errors.budget_unavailable()
        return None

    def settle(self, reservation: BudgetReservation, cost_pico: int) -> None:
        """Replace the estimate by the real cost, off the request's path."""
        delta = cost_pico - reservation.estimate_pico
        if not delta:
            return
        task = asyncio.get_running_loop().create_task(self._settle(reservation, delta))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, reservation: BudgetReservation, delta: int) -> None:
        try:
            await self._store.settle(reservation.counters, delta)
        except CountersUnavailable as exc:
            log.warning("budget settlement lost (%d pico-USD): %s", delta, exc)

    async def close(self) -> None:
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
        await self._store.close()
