"""Budgets as the servicer sees them: the store plus the policy for when it fails.

When the store cannot answer, `failure_mode` decides: "closed" (the default: a hard budget is
not waived because Redis is down) refuses with a 503 `budget_unavailable`; "open" serves the
request unchecked. Either way it is logged (at most every few seconds) and counted. After a
failure the store is not asked again for `cooldown_s` (`ext_proc.outage`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ext_proc import errors
from ext_proc.budget import BudgetRule, check_for, rejection
from ext_proc.budget_store import BudgetStore
from ext_proc.counters import CountersUnavailable
from ext_proc.outage import FailureMode, OutagePolicy, Settlements

log = logging.getLogger("omg.ext_proc.budget")
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
        self._outage = OutagePolicy("budget counters", failure_mode, errors.budget_unavailable,
                                    log, cooldown_s, WARN_EVERY_S)
        self._settlements = Settlements()

    @property
    def unavailable(self) -> int:
        """Requests decided without the store (an operator signal)."""
        return self._outage.unavailable

    async def reserve(
        self, rules: Sequence[BudgetRule], estimate_pico: int, now_ms: int
    ) -> BudgetReservation | None:
        """Hold the estimate on every budget, or raise the 429. None: not held (failing open)."""
        if self._outage.cooling_down:
            self._outage.decide("still in cool-down after a failure")
            return None
        checks = [check_for(rule, now_ms) for rule in rules]
        try:
            admitted, spent = await self._store.reserve(checks, estimate_pico)
        except CountersUnavailable as exc:
            self._outage.failed(str(exc))
            return None
        if not admitted:
            raise rejection(checks, spent, estimate_pico)
        return BudgetReservation(tuple(c.counter for c in checks), estimate_pico)

    def settle(self, reservation: BudgetReservation, cost_pico: int) -> None:
        """Replace the estimate by the real cost, off the request's path."""
        delta = cost_pico - reservation.estimate_pico
        if delta:
            self._settlements.start(self._settle(reservation, delta))

    async def _settle(self, reservation: BudgetReservation, delta: int) -> None:
        try:
            await self._store.settle(reservation.counters, delta)
        except CountersUnavailable as exc:
            log.warning("budget settlement lost (%d pico-USD): %s", delta, exc)

    async def close(self) -> None:
        await self._settlements.drain()
        await self._store.close()
