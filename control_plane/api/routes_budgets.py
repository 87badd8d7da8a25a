"""Admin endpoints for deployment prices, budgets and budget overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import crud, crud_budgets, models
from control_plane.api.access import TenantScope, require, require_tenant
from control_plane.api.deps import AuditDep, HubDep, SessionDep
from control_plane.api.paging import Limit, Offset, list_page, public
from control_plane.api.schemas import Page
from control_plane.api.schemas_money import (
    BudgetCreate,
    BudgetPublic,
    BudgetUpdate,
    OverrideCreate,
    OverridePublic,
    PriceCreate,
    PricePublic,
)
from control_plane.budget_state import active_overrides, spent_since
from omg_common.money import price_to_micro, usd_to_pico
from omg_common.periods import period_of

router = APIRouter(prefix="/api/v1")


def _micro(value: object) -> int | None:
    return None if value is None else price_to_micro(value)  # type: ignore[arg-type]


@router.get("/deployments/{deployment}/prices", response_model=Page[PricePublic],
            dependencies=[require("deployments:read")])
async def list_prices(
    deployment: str, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> Page:  # type: ignore[type-arg]
    """Every price version of a deployment, newest first."""
    dep = await crud.get_by_ref(session, models.Deployment, deployment)
    table = models.DeploymentPrice
    statement = select(table).where(table.deployment_id == dep.id).order_by(
        col(table.effective_from).desc())
    return await list_page(session, statement, public(PricePublic), limit, offset)


@router.post("/deployments/{deployment}/prices", response_model=PricePublic, status_code=201,
             dependencies=[require("deployments:write")])
async def add_price(
    deployment: str, body: PriceCreate, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> PricePublic:
    """A new price version (USD per million tokens), in force from `effective_from`."""
    dep = await crud.get_by_ref(session, models.Deployment, deployment)
    price = await crud_budgets.add_price(
        session, ctx=ctx, deployment=dep, input_micro=price_to_micro(body.input),
        output_micro=price_to_micro(body.output), cached_input_micro=_micro(body.cached_input),
        reasoning_micro=_micro(body.reasoning), effective_from=body.effective_from)
    await hub.refresh()
    return PricePublic.model_validate(price, from_attributes=True)


async def budget_public(session: AsyncSession, budget: models.Budget) -> BudgetPublic:
    now = datetime.now(UTC)
    period = period_of(budget.period, budget.timezone, int(now.timestamp() * 1000))
    override = (await active_overrides(session, now)).get(budget.id)
    return BudgetPublic(
        **budget.model_dump(),
        period_start=datetime.fromtimestamp(period.start_ms / 1000, UTC),
        spent_pico=await spent_since(session, budget, period.start_ms),
        override=None if override is None else OverridePublic.model_validate(
            override, from_attributes=True),
    )


@router.get("/tenants/{tenant_id}/budgets", response_model=list[BudgetPublic])
async def list_budgets(
    scope: Annotated[TenantScope, require_tenant("budgets:read")], session: SessionDep,
) -> list[BudgetPublic]:
    """The tenant's budgets with what was spent in their current period."""
    rows = (await session.exec(select(models.Budget).where(
        models.Budget.tenant_id == scope.tenant.id).order_by(col(models.Budget.created_at)))).all()
    return [await budget_public(session, b) for b in rows]


@router.post("/tenants/{tenant_id}/budgets", response_model=BudgetPublic, status_code=201)
async def create_budget(
    body: BudgetCreate, scope: Annotated[TenantScope, require_tenant("budgets:write")],
    session: SessionDep, hub: HubDep, ctx: AuditDep,
) -> BudgetPublic:
    fields = body.model_dump(exclude={"limit_usd"})
    fields["limit_pico"] = usd_to_pico(body.limit_usd)
    budget = await crud_budgets.create_budget(session, ctx=ctx, tenant=scope.tenant,
                                              fields=fields)
    await hub.refresh()
    return await budget_public(session, budget)


@router.get("/tenants/{tenant_id}/budgets/{budget_id}", response_model=BudgetPublic)
async def get_budget(
    budget_id: str, scope: Annotated[TenantScope, require_tenant("budgets:read")],
    session: SessionDep,
) -> BudgetPublic:
    budget = await crud_budgets.get_budget(session, tenant=scope.tenant, budget_id=budget_id)
    return await budget_public(session, budget)


@router.patch("/tenants/{tenant_id}/budgets/{budget_id}", response_model=BudgetPublic)
async def update_budget(
    budget_id: str, body: BudgetUpdate,
    scope: Annotated[TenantScope, require_tenant("budgets:write")],
    session: SessionDep, hub: HubDep, ctx: AuditDep,
) -> BudgetPublic:
    budget = await crud_budgets.get_budget(session, tenant=scope.tenant, budget_id=budget_id)
    changes = body.model_dump(exclude_unset=True, exclude={"limit_usd"})
    if body.limit_usd is not None:
        changes["limit_pico"] = usd_to_pico(body.limit_usd)
    budget = await crud_budgets.update_budget(session, ctx=ctx, budget=budget, changes=changes)
    await hub.refresh()
    return await budget_public(session, budget)


@router.delete("/tenants/{tenant_id}/budgets/{budget_id}", status_code=204)
async def delete_budget(
    budget_id: str, scope: Annotated[TenantScope, require_tenant("budgets:write")],
    session: SessionDep, hub: HubDep, ctx: AuditDep,
) -> None:
    budget = await crud_budgets.get_budget(session, tenant=scope.tenant, budget_id=budget_id)
    await crud_budgets.delete_budget(session, ctx=ctx, budget=budget)
    await hub.refresh()


@router.get("/tenants/{tenant_id}/budgets/{budget_id}/overrides",
            response_model=Page[OverridePublic])
async def list_overrides(
    budget_id: str, scope: Annotated[TenantScope, require_tenant("budgets:read")],
    session: SessionDep, limit: Limit = 100, offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    budget = await crud_budgets.get_budget(session, tenant=scope.tenant, budget_id=budget_id)
    return await list_page(session, crud_budgets.overrides_of(budget.id),
                           public(OverridePublic), limit, offset)


@router.post("/tenants/{tenant_id}/budgets/{budget_id}/overrides",
             response_model=OverridePublic, status_code=201)
async def add_override(
    budget_id: str, body: OverrideCreate,
    scope: Annotated[TenantScope, require_tenant("budgets:override")],
    session: SessionDep, hub: HubDep, ctx: AuditDep,
) -> OverridePublic:
    """Replace the budget's limit until `expires_at` (audited; needs budgets:override)."""
    budget = await crud_budgets.get_budget(session, tenant=scope.tenant, budget_id=budget_id)
    override = await crud_budgets.add_override(
        session, ctx=ctx, budget=budget, limit_pico=usd_to_pico(body.limit_usd),
        expires_at=body.expires_at, reason=body.reason)
    await hub.refresh()
    return OverridePublic.model_validate(override, from_attributes=True)


@router.delete("/tenants/{tenant_id}/budgets/{budget_id}/overrides/{override_id}",
               response_model=OverridePublic)
async def revoke_override(
    budget_id: str, override_id: str,
    scope: Annotated[TenantScope, require_tenant("budgets:override")],
    session: SessionDep, hub: HubDep, ctx: AuditDep,
) -> OverridePublic:
    budget = await crud_budgets.get_budget(session, tenant=scope.tenant, budget_id=budget_id)
    override = await crud_budgets.revoke_override(session, ctx=ctx, budget=budget,
                                                  override_id=override_id)
    await hub.refresh()
    return OverridePublic.model_validate(override, from_attributes=True)
