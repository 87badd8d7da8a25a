"""Prices and budgets as ext_proc needs them, read from the database.

A budget travels with what was spent in its current period (the seed): a counter ext_proc
does not hold yet (after a restart in memory mode, for a new budget, after Redis lost it)
starts from there. Seeds change with every request, so config diffs ignore them
(`budget_definition`) and only full snapshots and changed budgets carry fresh ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models
from omg_common.periods import period_of
from protos import config_pb2


def _epoch_ms(value: datetime) -> int:
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def price_to_proto(row: models.DeploymentPrice) -> config_pb2.Price:
    price = config_pb2.Price(effective_from_ms=_epoch_ms(row.effective_from),
                             input=row.input_micro, output=row.output_micro)
    if row.cached_input_micro is not None:
        price.cached_input = row.cached_input_micro
    if row.reasoning_micro is not None:
        price.reasoning = row.reasoning_micro
    return price


def current_and_later(prices: list[config_pb2.Price], now_ms: int) -> list[config_pb2.Price]:
    """History is not needed at request time: the version in force and any later ones."""
    started = [i for i, p in enumerate(prices) if p.effective_from_ms <= now_ms]
    return prices[started[-1]:] if started else prices


async def load_prices(session: AsyncSession, now_ms: int) -> dict[str, list[config_pb2.Price]]:
    """Price versions by deployment id, oldest first."""
    rows = (await session.exec(select(models.DeploymentPrice).order_by(
        col(models.DeploymentPrice.effective_from)))).all()
    by_deployment: dict[str, list[config_pb2.Price]] = {}
    for row in rows:
        by_deployment.setdefault(row.deployment_id, []).append(price_to_proto(row))
    return {d: current_and_later(p, now_ms) for d, p in by_deployment.items()}


def usage_of_subject(scope: str, subject_id: str, tenant_id: str) -> sa.ColumnElement[bool]:
    """The usage records a budget counts."""
    usage = models.UsageRecord
    if scope == "key":
        return col(usage.api_key_id) == subject_id
    if scope == "user":
        keys = select(models.ApiKey.id).where(models.ApiKey.user_id == subject_id,
                                              models.ApiKey.tenant_id == tenant_id)
        return col(usage.api_key_id).in_(keys)
    return col(usage.tenant_id) == tenant_id


async def spent_since(
    session: AsyncSession, budget: models.Budget, start_ms: int, end_ms: int = 0
) -> int:
    """Pico-USD spent by a budget's subject from `start_ms` (to `end_ms`; 0: now)."""
    usage = models.UsageRecord
    statement = select(sa.func.coalesce(sa.func.sum(usage.cost_pico), 0)).where(
        usage_of_subject(budget.scope, budget.subject_id, budget.tenant_id),
        col(usage.created_at) >= datetime.fromtimestamp(start_ms / 1000, UTC),
    )
    if end_ms:
        statement = statement.where(
            col(usage.created_at) < datetime.fromtimestamp(end_ms / 1000, UTC))
    return int((await session.exec(statement)).one())  # type: ignore[call-overload]


async def active_overrides(
    session: AsyncSession, now: datetime
) -> dict[str, models.BudgetOverride]:
    """By budget: the unexpired, unrevoked override with the highest limit."""
    rows = (await session.exec(select(models.BudgetOverride).where(
        col(models.BudgetOverride.revoked_at).is_(None),
        col(models.BudgetOverride.expires_at) > now))).all()
    best: dict[str, models.BudgetOverride] = {}
    for row in rows:
        if row.budget_id not in best or row.limit_pico > best[row.budget_id].limit_pico:
            best[row.budget_id] = row
    return best


async def budget_to_proto(
    session: AsyncSession, budget: models.Budget, override: models.BudgetOverride | None,
    now_ms: int,
) -> config_pb2.Budget:
    period = period_of(budget.period, budget.timezone, now_ms)
    proto = config_pb2.Budget(
        id=budget.id, tenant_id=budget.tenant_id, scope=budget.scope,
        subject_id=budget.subject_id, limit_pico=budget.limit_pico, period=budget.period,
        timezone=budget.timezone, seed_period_start_ms=period.start_ms,
        seed_spent_pico=await spent_since(session, budget, period.start_ms),
    )
    if override is not None:
        proto.override_limit_pico = override.limit_pico
        proto.override_expires_at_ms = _epoch_ms(override.expires_at)
    return proto


async def load_budgets(session: AsyncSession, now: datetime) -> dict[str, config_pb2.Budget]:
    budgets = (await session.exec(select(models.Budget))).all()
    overrides = await active_overrides(session, now)
    now_ms = _epoch_ms(now)
    return {b.id: await budget_to_proto(session, b, overrides.get(b.id), now_ms)
            for b in budgets}


def budget_definition(budget: config_pb2.Budget) -> config_pb2.Budget:
    """The budget without its seed: what a config diff compares."""
    plain = config_pb2.Budget()
    plain.CopyFrom(budget)
    plain.ClearField("seed_spent_pico")
    plain.ClearField("seed_period_start_ms")
    return plain


def changed_budgets(
    old: dict[str, config_pb2.Budget], new: dict[str, config_pb2.Budget]
) -> tuple[list[config_pb2.Budget], list[str]]:
    upserts = [b for i, b in new.items()
               if i not in old or budget_definition(old[i]) != budget_definition(b)]
    return upserts, [i for i in old if i not in new]


def with_prices(
    deployments: Iterable[config_pb2.Deployment], prices: dict[str, list[config_pb2.Price]]
) -> None:
    for dep in deployments:
        dep.prices.extend(prices.get(dep.id, ()))
