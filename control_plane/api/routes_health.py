"""Admin endpoints for provider health: SLI objectives, incidents, live health per deployment."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from sqlmodel import col, select

from control_plane import audit, crud, models
from control_plane.api.access import require
from control_plane.api.deps import AuditDep, SessionDep
from control_plane.api.paging import Limit, Offset, list_page, public
from control_plane.api.routes_ops import as_utc
from control_plane.api.schemas import Page
from control_plane.api.schemas_sli import (
    DeploymentHealth,
    IncidentPublic,
    SliCreate,
    SliPublic,
    SliReading,
    SliUpdate,
)
from control_plane.envoy_health import EJECTED, FAILED_HEALTH_CHECK, UNKNOWN, envoy_states

router = APIRouter(prefix="/api/v1")


async def get_objective(session: SessionDep, sli_id: str) -> models.SliObjective:
    objective = await session.get(models.SliObjective, sli_id)
    if objective is None:
        raise crud.NotFound(f"SLI {sli_id!r} not found")
    return objective


@router.get("/slis", response_model=Page[SliPublic], dependencies=[require("deployments:read")])
async def list_slis(
    session: SessionDep, deployment: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> Page:  # type: ignore[type-arg]
    table = models.SliObjective
    statement = select(table).order_by(col(table.created_at), col(table.id))
    if deployment is not None:
        dep = await crud.get_by_ref(session, models.Deployment, deployment)
        statement = statement.where(table.deployment_id == dep.id)
    return await list_page(session, statement, public(SliPublic), limit, offset)


@router.post("/slis", response_model=SliPublic, status_code=201,
             dependencies=[require("deployments:write")])
async def create_sli(body: SliCreate, session: SessionDep, ctx: AuditDep) -> SliPublic:
    dep = await crud.get_by_ref(session, models.Deployment, body.deployment)
    objective = models.SliObjective(deployment_id=dep.id,
                                    **body.model_dump(exclude={"deployment"}))
    audit.record(session, ctx, action="sli.create", target=objective,
                 after=audit.snapshot(objective))
    session.add(objective)
    await session.commit()
    return SliPublic.model_validate(objective, from_attributes=True)


@router.patch("/slis/{sli_id}", response_model=SliPublic,
              dependencies=[require("deployments:write")])
async def update_sli(
    sli_id: str, body: SliUpdate, session: SessionDep, ctx: AuditDep
) -> SliPublic:
    objective = await get_objective(session, sli_id)
    before = audit.snapshot(objective)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(objective, name, value)
    audit.record(session, ctx, action="sli.update", target=objective, before=before,
                 after=audit.snapshot(objective))
    session.add(objective)
    await session.commit()
    return SliPublic.model_validate(objective, from_attributes=True)


@router.delete("/slis/{sli_id}", status_code=204, dependencies=[require("deployments:write")])
async def delete_sli(sli_id: str, session: SessionDep, ctx: AuditDep) -> None:
    objective = await get_objective(session, sli_id)
    audit.record(session, ctx, action="sli.delete", target=objective,
                 before=audit.snapshot(objective))
    await session.delete(objective)
    await session.commit()


def incidents_statement(
    status: str | None, deployment_id: str | None, since: datetime | None
) -> Any:
    table = models.Incident
    statement = select(table).order_by(col(table.started_at).desc(), col(table.id))
    if status is not None:
        statement = statement.where(table.status == status)
    if deployment_id is not None:
        statement = statement.where(table.deployment_id == deployment_id)
    if since is not None:
        statement = statement.where(col(table.started_at) >= as_utc(since))
    return statement


@router.get("/incidents", response_model=Page[IncidentPublic],
            dependencies=[require("deployments:read")])
async def list_incidents(
    session: SessionDep, status: Literal["open", "resolved"] | None = None,
    deployment: str | None = None, since: datetime | None = None, limit: Limit = 100,
    offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    """Incident history, newest first (`deployment`: id or name; `since`: started at or after)."""
    dep_id = None
    if deployment is not None:
        dep_id = (await crud.get_by_ref(session, models.Deployment, deployment)).id
    statement = incidents_statement(status, dep_id, since)
    return await list_page(session, statement, public(IncidentPublic), limit, offset)


def health_status(dep: models.Deployment, open_count: int, envoy: str) -> str:
    if not dep.enabled:
        return "disabled"
    if dep.drained:
        return "drained"
    if envoy in (EJECTED, FAILED_HEALTH_CHECK):
        return "unhealthy"
    return "degraded" if open_count else "healthy"


@router.get("/health/deployments", response_model=list[DeploymentHealth],
            dependencies=[require("deployments:read")])
async def deployment_health(session: SessionDep, request: Request) -> list[DeploymentHealth]:
    """Live health of every deployment: Envoy's view (ejected, failing health checks), its
    SLIs' last values and its open incidents."""
    envoy = await envoy_states(request.app.state.envoy_admin_urls)
    deployments = (await session.exec(
        select(models.Deployment).order_by(col(models.Deployment.name))
    )).all()
    slis: dict[str, list[SliReading]] = defaultdict(list)
    for o in (await session.exec(select(models.SliObjective))).all():
        slis[o.deployment_id].append(SliReading.model_validate(o, from_attributes=True))
    incidents: dict[str, list[IncidentPublic]] = defaultdict(list)
    for i in (await session.exec(
        select(models.Incident).where(models.Incident.status == "open")
    )).all():
        incidents[i.deployment_id].append(IncidentPublic.model_validate(i, from_attributes=True))
    return [
        DeploymentHealth(
            id=d.id, name=d.name, model=d.public_model, provider=d.provider, enabled=d.enabled,
            drained=d.drained, envoy=envoy.get(d.id, UNKNOWN),
            status=health_status(d, len(incidents[d.id]), envoy.get(d.id, UNKNOWN)),
            open_incidents=incidents[d.id], slis=slis[d.id],
        )
        for d in deployments
    ]
