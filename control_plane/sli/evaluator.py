"""The SLI evaluator: a control-plane job that turns the usage stream into incidents.

Every `interval_s`, the replica holding the `sli-evaluator` lease measures each enabled
objective over its window of usage records, folds the value into the objective's streaks
(stored in its row), opens or resolves incidents, drains or restores deployments whose
objective asks for it, and notifies the platform's alert channels after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models
from control_plane.config_hub import bump_revision
from control_plane.sli import lease
from control_plane.sli.rules import Sample, SliKind, Streaks, Transition, measure, step

log = logging.getLogger("omg.control_plane.sli")

LEASE_NAME = "sli-evaluator"


@dataclass(frozen=True, slots=True)
class IncidentNotice:
    """What the alert channels receive when an incident opens or resolves."""

    event: str  # "incident.opened" or "incident.resolved"
    incident: dict[str, Any]

    @property
    def dedup_key(self) -> str:
        return f"{self.event}:{self.incident['id']}"


Notify = Callable[[IncidentNotice], Awaitable[None]]
ConfigChanged = Callable[[], Awaitable[None]]


def as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def incident_payload(incident: models.Incident) -> dict[str, Any]:
    data = incident.model_dump()
    for name in ("started_at", "resolved_at"):
        if data[name] is not None:
            data[name] = as_utc(data[name]).isoformat()
    return data


def windowed(
    rows: Iterable[tuple[datetime, Sample]], since: datetime
) -> list[Sample]:
    return [sample for at, sample in rows if as_utc(at) >= since]


async def load_samples(
    session: AsyncSession, deployment_ids: Sequence[str], since: datetime
) -> dict[str, list[tuple[datetime, Sample]]]:
    """What each deployment did since `since`: the usage records it answered, plus the
    fail-over attempts that failed on it while another deployment answered the client.

    Records the gateway itself refused (rate limits, budgets: they carry an `error_type`)
    say nothing about the deployment and are left out. A failed attempt that was also the
    last one is already its request's usage record, so it counts once.
    """
    table = models.UsageRecord
    result = await session.execute(
        select(table.request_id, table.deployment_id, table.created_at, table.status,
               table.latency_ms, table.ttft_ms)
        .where(col(table.deployment_id).in_(deployment_ids))
        .where(col(table.created_at) >= since)
        .where(table.error_type == "")
    )
    samples: dict[str, list[tuple[datetime, Sample]]] = defaultdict(list)
    answered: set[tuple[str, str]] = set()
    for request_id, dep_id, at, status, latency, ttft in result.all():
        answered.add((request_id, dep_id))
        samples[dep_id].append((at, Sample(status, latency, ttft)))
    attempts = models.FailedAttempt
    failed = await session.execute(
        select(attempts.request_id, attempts.deployment_id, attempts.created_at,
               attempts.status, attempts.latency_ms)
        .where(col(attempts.deployment_id).in_(deployment_ids))
        .where(col(attempts.created_at) >= since)
    )
    for request_id, dep_id, at, status, latency in failed.all():
        if (request_id, dep_id) not in answered:
            samples[dep_id].append((at, Sample(status, latency)))
    return samples


class SliEvaluator:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], notify: Notify,
        config_changed: ConfigChanged, holder: str, interval_s: float, lease_s: float,
    ) -> None:
        self._sessions = sessions
        self._notify = notify
        self._config_changed = config_changed
        self._holder = holder
        self._interval_s = interval_s
        self._lease_s = lease_s

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    await self.tick(datetime.now(UTC))
                except Exception:  # the database may be away for a while; try next tick
                    log.exception("SLI evaluation failed")
                await asyncio.sleep(self._interval_s)
        finally:
            await self._release()

    async def _release(self) -> None:
        try:
            async with self._sessions() as session:
                await lease.release(session, LEASE_NAME, self._holder, datetime.now(UTC))
        except Exception:
            log.warning("could not release the SLI evaluator lease", exc_info=True)

    async def tick(self, now: datetime) -> list[IncidentNotice]:
        """One evaluation if this replica holds the lease; the notices it sent."""
        async with self._sessions() as session:
            if not await lease.acquire(session, LEASE_NAME, self._holder, self._lease_s, now):
                return []
            notices, drained_changed = await evaluate(session, now)
        if drained_changed:
            await self._config_changed()
        for notice in notices:
            try:
                await self._notify(notice)
            except Exception:
                log.exception("could not notify %s", notice.dedup_key)
        return notices


async def evaluate(session: AsyncSession, now: datetime) -> tuple[list[IncidentNotice], bool]:
    """Measure every enabled objective once; commit; (notices, whether drains changed)."""
    objectives = list((await session.exec(
        select(models.SliObjective).where(models.SliObjective.enabled == True)  # noqa: E712
    )).all())
    if not objectives:
        return [], False
    dep_ids = sorted({o.deployment_id for o in objectives})
    deployments = {d.id: d for d in (await session.exec(
        select(models.Deployment).where(col(models.Deployment.id).in_(dep_ids))
    )).all()}
    open_incidents = {i.objective_id: i for i in (await session.exec(
        select(models.Incident).where(models.Incident.status == "open")
    )).all()}
    widest = max(o.window_s for o in objectives)
    samples = await load_samples(session, dep_ids, now - timedelta(seconds=widest))
    notices: list[IncidentNotice] = []
    drains: dict[str, bool] = {}  # deployment -> a draining incident opened this time
    for objective in objectives:
        deployment = deployments.get(objective.deployment_id)
        if deployment is None:
            continue
        since = now - timedelta(seconds=objective.window_s)
        value = measure(SliKind(objective.kind), windowed(samples[deployment.id], since),
                        objective.min_requests)
        incident = open_incidents.get(objective.id)
        notice = apply_value(session, objective, deployment, incident, value, now)
        if notice is not None:
            notices.append(notice)
            if objective.drain:
                opened = notice.event == "incident.opened"
                drains[deployment.id] = drains.get(deployment.id, False) or opened
    changed = settle_drains(session, deployments, drains, open_incidents, objectives)
    if changed:
        await bump_revision(session)
    await session.commit()
    return notices, changed


def apply_value(
    session: AsyncSession, objective: models.SliObjective, deployment: models.Deployment,
    incident: models.Incident | None, value: float | None, now: datetime,
) -> IncidentNotice | None:
    """Fold one measured value into the objective's row; open or resolve its incident."""
    streaks = Streaks(objective.breaching, objective.healthy, incident is not None)
    new, transition = step(streaks, value, objective.threshold, objective.breach_windows,
                           objective.recover_windows)
    objective.breaching, objective.healthy = new.breaching, new.healthy
    objective.last_value, objective.last_evaluated_at = value, now
    session.add(objective)
    if incident is not None and value is not None:
        incident.peak = max(incident.peak, value)
        incident.last_value = value
        session.add(incident)
    if transition is Transition.open:
        assert value is not None
        opened = models.Incident(
            objective_id=objective.id, deployment_id=deployment.id,
            deployment_name=deployment.name, kind=objective.kind,
            threshold=objective.threshold, value=value, peak=value, last_value=value,
            drained=objective.drain, started_at=now,
        )
        session.add(opened)
        log.warning("incident opened: %s %s = %.4g > %.4g", deployment.name, objective.kind,
                    value, objective.threshold)
        return IncidentNotice("incident.opened", incident_payload(opened))
    if transition is Transition.resolve and incident is not None:
        incident.status, incident.resolved_at = "resolved", now
        session.add(incident)
        log.warning("incident resolved: %s %s", deployment.name, objective.kind)
        return IncidentNotice("incident.resolved", incident_payload(incident))
    return None


def settle_drains(
    session: AsyncSession, deployments: dict[str, models.Deployment], drains: dict[str, bool],
    open_before: dict[str, models.Incident], objectives: Sequence[models.SliObjective],
) -> bool:
    """Drain on any draining incident opened; restore once none of them is left open."""
    changed = False
    for dep_id, opened in drains.items():
        deployment = deployments[dep_id]
        draining = {o.id for o in objectives if o.deployment_id == dep_id and o.drain}
        wanted = opened or any(
            oid in open_before and open_before[oid].status == "open" for oid in draining
        )
        if deployment.drained != wanted:
            deployment.drained = wanted
            session.add(deployment)
            changed = True
    return changed
