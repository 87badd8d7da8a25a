"""Admin endpoints for operations: usage records, xDS status, health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlmodel import col, select

from control_plane import crud, models
from control_plane.api.deps import AdminDep, SessionDep
from control_plane.api.schemas import Page, UsagePublic

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep])
health_router = APIRouter()


@router.get("/usage", response_model=Page[UsagePublic])
async def list_usage(
    session: SessionDep,
    tenant_id: str | None = None,
    api_key_id: str | None = None,
    model: str | None = None,
    request_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page:  # type: ignore[type-arg]
    table = models.UsageRecord
    statement = select(table).order_by(col(table.created_at).desc(), col(table.request_id))
    filters = {"tenant_id": tenant_id, "api_key_id": api_key_id, "model": model,
               "request_id": request_id}
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(table, name) == value)
    rows, more = await crud.page(session, statement, limit=limit, offset=offset)
    return Page(data=[UsagePublic(**r.model_dump()) for r in rows], limit=limit, offset=offset,
                has_more=more)


@router.get("/xds/status")
async def xds_status(request: Request) -> dict[str, Any]:
    """What each connected Envoy accepted (ACK) or rejected (NACK, with Envoy's reason)."""
    nodes = request.app.state.ads.nodes
    return {
        node: {url.rsplit(".", 1)[-1]: vars(state) for url, state in status.types.items()}
        for node, status in nodes.items()
    }


@health_router.get("/healthz")
async def healthz(request: Request) -> dict[str, str]:
    return {"status": "ok", "config_version": request.app.state.hub.version}
