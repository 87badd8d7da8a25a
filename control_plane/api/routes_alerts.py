"""Admin endpoints for alert channels: a tenant's, and the platform's own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from control_plane.alerting import channels
from control_plane.api.access import TenantScope, require, require_tenant
from control_plane.api.deps import AuditDep, CipherDep, SessionDep
from control_plane.api.paging import Limit
from control_plane.api.schemas_money import (
    AlertPublic,
    ChannelCreate,
    ChannelCreated,
    ChannelPublic,
    DeliveryPublic,
)

router = APIRouter(prefix="/api/v1")


async def _list(session: SessionDep, tenant_id: str | None) -> list[ChannelPublic]:
    rows = (await session.exec(channels.channels_of(tenant_id))).all()  # type: ignore[call-overload]
    return [ChannelPublic.model_validate(r, from_attributes=True) for r in rows]


async def _create(session: SessionDep, cipher: CipherDep, ctx: AuditDep, tenant_id: str | None,
                  body: ChannelCreate) -> ChannelCreated:
    channel, secret = await channels.create_channel(
        session, ctx=ctx, cipher=cipher, tenant_id=tenant_id, name=body.name, kind=body.kind,
        target=body.target)
    return ChannelCreated(secret=secret, **ChannelPublic.model_validate(
        channel, from_attributes=True).model_dump())


@router.get("/tenants/{tenant_id}/alert-channels", response_model=list[ChannelPublic])
async def list_tenant_channels(
    scope: Annotated[TenantScope, require_tenant("alerts:read")], session: SessionDep,
) -> list[ChannelPublic]:
    return await _list(session, scope.tenant.id)


@router.post("/tenants/{tenant_id}/alert-channels", response_model=ChannelCreated,
             status_code=201)
async def create_tenant_channel(
    body: ChannelCreate, scope: Annotated[TenantScope, require_tenant("alerts:write")],
    session: SessionDep, cipher: CipherDep, ctx: AuditDep,
) -> ChannelCreated:
    """A webhook's signing secret is in this response only."""
    return await _create(session, cipher, ctx, scope.tenant.id, body)


@router.delete("/tenants/{tenant_id}/alert-channels/{channel_id}", status_code=204)
async def delete_tenant_channel(
    channel_id: str, scope: Annotated[TenantScope, require_tenant("alerts:write")],
    session: SessionDep, ctx: AuditDep,
) -> None:
    await channels.delete_channel(session, ctx=ctx, tenant_id=scope.tenant.id,
                                  channel_id=channel_id)


@router.get("/alert-channels", response_model=list[ChannelPublic],
            dependencies=[require("platform_alerts:write")])
async def list_platform_channels(session: SessionDep) -> list[ChannelPublic]:
    """The platform's own channels (platform-level alerts, e.g. SLI incidents)."""
    return await _list(session, None)


@router.post("/alert-channels", response_model=ChannelCreated, status_code=201,
             dependencies=[require("platform_alerts:write")])
async def create_platform_channel(
    body: ChannelCreate, session: SessionDep, cipher: CipherDep, ctx: AuditDep,
) -> ChannelCreated:
    return await _create(session, cipher, ctx, None, body)


@router.delete("/alert-channels/{channel_id}", status_code=204,
               dependencies=[require("platform_alerts:write")])
async def delete_platform_channel(channel_id: str, session: SessionDep, ctx: AuditDep) -> None:
    await channels.delete_channel(session, ctx=ctx, tenant_id=None, channel_id=channel_id)


async def _alerts(session: SessionDep, tenant_id: str | None, limit: int) -> list[AlertPublic]:
    found = await channels.recent_alerts(session, tenant_id, limit)
    return [AlertPublic(**alert.model_dump(), deliveries=[
        DeliveryPublic.model_validate(d, from_attributes=True) for d in deliveries])
        for alert, deliveries in found]


@router.get("/tenants/{tenant_id}/alerts", response_model=list[AlertPublic])
async def list_tenant_alerts(
    scope: Annotated[TenantScope, require_tenant("alerts:read")], session: SessionDep,
    limit: Limit = 50,
) -> list[AlertPublic]:
    """The tenant's alerts, newest first, with every delivery attempt (failed ones too)."""
    return await _alerts(session, scope.tenant.id, limit)


@router.get("/alerts", response_model=list[AlertPublic],
            dependencies=[require("platform_alerts:write")])
async def list_platform_alerts(session: SessionDep, limit: Limit = 50) -> list[AlertPublic]:
    """The platform's own alerts, newest first, with every delivery attempt."""
    return await _alerts(session, None, limit)
