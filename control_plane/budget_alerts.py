"""Budget alerts: soft thresholds (e.g. 80%) and the hard limit, once per budget, threshold
and period, to the tenant's alert channels.

Spend is read from the stored usage records. The job looks at the tenants whose records
arrived since its last tick (the usage intake tells it), and at every tenant at start and
after each config change (a new budget, a lowered limit, an override).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models
from control_plane.alerting.dispatch import AlertDispatcher, AlertEvent
from control_plane.budget_state import active_overrides, spent_since
from omg_common.money import pico_to_usd
from omg_common.periods import period_of

log = logging.getLogger("omg.control_plane.budget_alerts")
HARD = 100


def crossed(
    limit_pico: int, spent_pico: int, thresholds: Iterable[int], refused: bool = False
) -> list[int]:
    """The percentages reached, lowest first. 100 is the hard limit: spent, or a request was
    refused for it (reservations keep spend below the limit, so it may never reach 100%)."""
    levels = sorted({*(t for t in thresholds if 0 < t < HARD), HARD})
    reached = [t for t in levels if spent_pico * 100 >= limit_pico * t]
    return reached if not refused or HARD in reached else [*reached, HARD]


async def refused_since(session: AsyncSession, budget_id: str, start_ms: int) -> bool:
    usage = models.UsageRecord
    found = await session.exec(select(usage.request_id).where(
        usage.refused_by_budget == budget_id,
        col(usage.created_at) >= datetime.fromtimestamp(start_ms / 1000, UTC)).limit(1))
    return found.first() is not None


def budget_event(budget: models.Budget, start_ms: int, percent: int, limit_pico: int,
                 spent_pico: int) -> AlertEvent:
    what = "exhausted" if percent == HARD else f"reached {percent}%"
    message = (f"{budget.period} budget of {budget.scope} {budget.subject_id} {what}: "
               f"${pico_to_usd(spent_pico)} of ${pico_to_usd(limit_pico)}")
    return AlertEvent(
        kind="budget.exhausted" if percent == HARD else "budget.threshold",
        dedup_key=f"budget:{budget.id}:{start_ms}:{percent}",
        message=message,
        data={"budget_id": budget.id, "scope": budget.scope, "subject_id": budget.subject_id,
              "period": budget.period, "period_start_ms": start_ms, "threshold_percent": percent,
              "limit_usd": pico_to_usd(limit_pico), "spent_usd": pico_to_usd(spent_pico)},
    )


# budget id -> (scope, tenant id, limit minus spent in pico-USD), for the metrics.
Remaining = dict[str, tuple[str, str, int]]


async def due_events(
    session: AsyncSession, tenant_ids: set[str] | None, now: datetime,
    remaining: Remaining | None = None,
) -> list[tuple[str, AlertEvent]]:
    statement = select(models.Budget)
    if tenant_ids is not None:
        statement = statement.where(col(models.Budget.tenant_id).in_(tenant_ids))
    budgets = (await session.exec(statement)).all()
    overrides = await active_overrides(session, now)
    now_ms = int(now.timestamp() * 1000)
    events = []
    for budget in budgets:
        start = period_of(budget.period, budget.timezone, now_ms).start_ms
        override = overrides.get(budget.id)
        limit = budget.limit_pico if override is None else override.limit_pico
        spent = await spent_since(session, budget, start)
        refused = await refused_since(session, budget.id, start)
        if remaining is not None:
            remaining[budget.id] = (budget.scope, budget.tenant_id, limit - spent)
        for percent in crossed(limit, spent, budget.soft_thresholds or (), refused):
            events.append((budget.tenant_id, budget_event(budget, start, percent, limit, spent)))
    return await not_fired(session, events)


async def not_fired(
    session: AsyncSession, events: list[tuple[str, AlertEvent]]
) -> list[tuple[str, AlertEvent]]:
    """Skip what already fired (the unique insert in `notify` still decides races)."""
    keys = [event.dedup_key for _, event in events]
    if not keys:
        return []
    fired = set((await session.exec(select(models.AlertEvent.dedup_key).where(
        col(models.AlertEvent.dedup_key).in_(keys)))).all())
    return [(tenant, event) for tenant, event in events if event.dedup_key not in fired]


class BudgetAlertJob:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 dispatcher: AlertDispatcher) -> None:
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._touched: set[str] | None = None  # None: look at every tenant
        self.remaining: Remaining = {}  # as of the last look at each budget

    def touch(self, tenant_ids: Iterable[str]) -> None:
        """Usage of these tenants was stored: look at their budgets on the next tick."""
        if self._touched is not None:
            self._touched.update(tenant_ids)

    def touch_all(self) -> None:
        """The config changed (a budget, limit or override may be new): look at everything."""
        self._touched = None

    async def tick(self) -> int:
        tenants, self._touched = self._touched, set()
        if tenants is not None and not tenants:
            return 0
        remaining: Remaining = {} if tenants is None else dict(self.remaining)
        async with self._sessions() as session:
            events = await due_events(session, tenants, datetime.now(UTC), remaining)
        self.remaining = remaining
        fired = 0
        for tenant_id, event in events:
            fired += await self._dispatcher.notify(tenant_id, event)
        return fired

    async def run_forever(self, every_seconds: float) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # the database may be away for a while; try again later
                log.exception("budget alert check failed")
                self._touched = None
            await asyncio.sleep(every_seconds)
