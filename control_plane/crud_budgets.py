"""Prices, budgets and budget overrides: database writes behind the admin API, audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import audit, models
from control_plane.audit import AuditContext
from control_plane.crud import Conflict, Invalid, NotFound, save_config
from control_plane.models import utcnow


async def add_price(
    session: AsyncSession, *, ctx: AuditContext, deployment: models.Deployment,
    input_micro: int, output_micro: int, cached_input_micro: int | None,
    reasoning_micro: int | None, effective_from: datetime | None,
) -> models.DeploymentPrice:
    """A new price version; earlier versions stay, so past records keep their cost."""
    price = models.DeploymentPrice(
        deployment_id=deployment.id, effective_from=effective_from or utcnow(),
        input_micro=input_micro, output_micro=output_micro,
        cached_input_micro=cached_input_micro, reasoning_micro=reasoning_micro,
        created_by=ctx.actor_name or ctx.actor_id,
    )
    same = await session.exec(select(models.DeploymentPrice).where(
        models.DeploymentPrice.deployment_id == deployment.id,
        models.DeploymentPrice.effective_from == price.effective_from))
    if same.first() is not None:
        raise Conflict("a price version with this effective_from exists; prices never change")
    audit.record(session, ctx, action="deployment.price.create", target=price,
                 after=audit.snapshot(price))
    await save_config(session, price)
    return price


async def check_subject(
    session: AsyncSession, *, tenant: models.Tenant, scope: str, subject_id: str
) -> str:
    """The subject's id, checked to belong to the tenant (a stranger's id is not found)."""
    if scope == "tenant":
        if subject_id not in ("", tenant.id):
            raise Invalid("a tenant budget's subject is the tenant itself", "subject_id")
        return tenant.id
    if scope == "key":
        key = await session.get(models.ApiKey, subject_id)
        if key is None or key.tenant_id != tenant.id:
            raise Invalid(f"no key {subject_id!r} in this tenant", "subject_id")
        return subject_id
    member = await session.get(models.Membership, (tenant.id, subject_id))
    if member is None:
        raise Invalid(f"user {subject_id!r} is not a member of this tenant", "subject_id")
    return subject_id


async def create_budget(
    session: AsyncSession, *, ctx: AuditContext, tenant: models.Tenant, fields: dict[str, Any]
) -> models.Budget:
    fields["subject_id"] = await check_subject(session, tenant=tenant, scope=fields["scope"],
                                               subject_id=fields["subject_id"])
    taken = await session.exec(select(models.Budget).where(
        models.Budget.tenant_id == tenant.id, models.Budget.scope == fields["scope"],
        models.Budget.subject_id == fields["subject_id"],
        models.Budget.period == fields["period"]))
    if taken.first() is not None:
        raise Conflict(f"this {fields['scope']} already has a {fields['period']} budget")
    budget = models.Budget(tenant_id=tenant.id, **fields)
    audit.record(session, ctx, action="budget.create", target=budget, tenant_id=tenant.id,
                 after=audit.snapshot(budget))
    await save_config(session, budget)
    return budget


async def get_budget(session: AsyncSession, *, tenant: models.Tenant, budget_id: str
                     ) -> models.Budget:
    budget = await session.get(models.Budget, budget_id)
    if budget is None or budget.tenant_id != tenant.id:
        raise NotFound(f"budget {budget_id!r} not found")
    return budget


async def update_budget(
    session: AsyncSession, *, ctx: AuditContext, budget: models.Budget, changes: dict[str, Any]
) -> models.Budget:
    before = audit.snapshot(budget)
    for name, value in changes.items():
        setattr(budget, name, value)
    budget.updated_at = utcnow()
    audit.record(session, ctx, action="budget.update", target=budget,
                 tenant_id=budget.tenant_id, before=before, after=audit.snapshot(budget))
    await save_config(session, budget)
    return budget


async def delete_budget(session: AsyncSession, *, ctx: AuditContext, budget: models.Budget
                        ) -> None:
    audit.record(session, ctx, action="budget.delete", target=budget,
                 tenant_id=budget.tenant_id, before=audit.snapshot(budget))
    await session.delete(budget)
    await save_config(session)


async def add_override(
    session: AsyncSession, *, ctx: AuditContext, budget: models.Budget, limit_pico: int,
    expires_at: datetime, reason: str,
) -> models.BudgetOverride:
    if expires_at <= utcnow():
        raise Invalid("an override must expire in the future", "expires_at")
    override = models.BudgetOverride(
        budget_id=budget.id, tenant_id=budget.tenant_id, limit_pico=limit_pico,
        expires_at=expires_at, reason=reason, created_by=ctx.actor_name or ctx.actor_id)
    audit.record(session, ctx, action="budget.override.create", target=override,
                 tenant_id=budget.tenant_id, after=audit.snapshot(override))
    await save_config(session, override)
    return override


async def revoke_override(
    session: AsyncSession, *, ctx: AuditContext, budget: models.Budget, override_id: str
) -> models.BudgetOverride:
    override = await session.get(models.BudgetOverride, override_id)
    if override is None or override.budget_id != budget.id:
        raise NotFound(f"budget override {override_id!r} not found")
    before = audit.snapshot(override)
    override.revoked_at = override.revoked_at or utcnow()
    audit.record(session, ctx, action="budget.override.revoke", target=override,
                 tenant_id=budget.tenant_id, before=before, after=audit.snapshot(override))
    await save_config(session, override)
    return override


def overrides_of(budget_id: str) -> Any:
    table = models.BudgetOverride
    return select(table).where(table.budget_id == budget_id).order_by(
        col(table.created_at).desc())
