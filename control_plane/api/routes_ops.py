"""Admin endpoints for operations: usage records, the audit log, xDS status, health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlmodel import col, select

from control_plane import models
from control_plane.api.access import TenantScope, public, require, require_tenant
from control_plane.api.deps import SessionDep
from control_plane.api.paging import Limit, Offset, list_page
from control_plane.api.paging import public as as_public
from control_plane.api.schemas import Page, UsagePublic
from control_plane.api.schemas_access import AuditPublic

router = APIRouter(prefix="/api/v1")
health_router = APIRouter()


def usage_statement(**filters: str | None) -> Any:
    table = models.UsageRecord
    statement = select(table).order_by(col(table.created_at).desc(), col(table.request_id))
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(table, name) == value)
    return statement


@router.get("/usage", response_model=Page[UsagePublic], dependencies=[require("usage:read")])
async def list_usage(
    session: SessionDep, tenant_id: str | None = None, api_key_id: str | None = None,
    model: str | None = None, request_id: str | None = None, limit: Limit = 100,
    offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    """Usage of every tenant (platform); a tenant's own is under /tenants/{id}/usage."""
    statement = usage_statement(tenant_id=tenant_id, api_key_id=api_key_id, model=model,
                                request_id=request_id)
    return await list_page(session, statement, as_public(UsagePublic), limit, offset)


@router.get("/tenants/{tenant_id}/usage", response_model=Page[UsagePublic])
async def list_tenant_usage(
    scope: Annotated[TenantScope, require_tenant("usage:read")], session: SessionDep,
    api_key_id: str | None = None, model: str | None = None, request_id: str | None = None,
    limit: Limit = 100, offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    statement = usage_statement(tenant_id=scope.tenant.id, api_key_id=api_key_id, model=model,
                                request_id=request_id)
    return await list_page(session, statement, as_public(UsagePublic), limit, offset)


def as_utc(value: datetime) -> datetime:
    """Stored times are UTC (SQLite keeps no offset), so compare in UTC."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def audit_statement(
    tenant_id: str | None, actor: str | None, action: str | None, target_id: str | None,
    since: datetime | None, until: datetime | None,
) -> Any:
    table = models.AuditEvent
    statement = select(table).order_by(col(table.created_at).desc(), col(table.id).desc())
    for column, value in ((table.tenant_id, tenant_id), (table.action, action),
                          (table.target_id, target_id)):
        if value is not None:
            statement = statement.where(column == value)
    if actor is not None:
        statement = statement.where((table.actor_id == actor) | (table.actor_name == actor))
    if since is not None:
        statement = statement.where(col(table.created_at) >= as_utc(since))
    if until is not None:
        statement = statement.where(col(table.created_at) < as_utc(until))
    return statement


AuditFilter = Annotated[str | None, "exact match"]


@router.get("/audit", response_model=Page[AuditPublic], dependencies=[require("audit:read")])
async def list_audit(
    session: SessionDep, tenant_id: AuditFilter = None, actor: AuditFilter = None,
    action: AuditFilter = None, target_id: AuditFilter = None, since: datetime | None = None,
    until: datetime | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    """The audit log of the whole platform, newest first (`actor`: a user id or name)."""
    statement = audit_statement(tenant_id, actor, action, target_id, since, until)
    return await list_page(session, statement, as_public(AuditPublic), limit, offset)


@router.get("/tenants/{tenant_id}/audit", response_model=Page[AuditPublic])
async def list_tenant_audit(
    scope: Annotated[TenantScope, require_tenant("audit:read")], session: SessionDep,
    actor: AuditFilter = None, action: AuditFilter = None, target_id: AuditFilter = None,
    since: datetime | None = None, until: datetime | None = None, limit: Limit = 100,
    offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    statement = audit_statement(scope.tenant.id, actor, action, target_id, since, until)
    return await list_page(session, statement, as_public(AuditPublic), limit, offset)


@router.get("/xds/status", dependencies=[require("system:read")])
async def xds_status(request: Request) -> dict[str, Any]:
    """What each connected Envoy accepted (ACK) or rejected (NACK, with Envoy's reason)."""
    nodes = request.app.state.ads.nodes
    return {
        node: {url.rsplit(".", 1)[-1]: vars(state) for url, state in status.types.items()}
        for node, status in nodes.items()
    }


@health_router.get("/metrics", dependencies=[public()], response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus exposition of the control plane (usage intake, config distribution)."""
    body = generate_latest(request.app.state.metrics.registry)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


@health_router.get("/healthz", dependencies=[public()])
async def healthz(request: Request) -> dict[str, str]:
    return {"status": "ok", "config_version": request.app.state.hub.version}
