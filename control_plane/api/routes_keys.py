"""Admin endpoints for a tenant's data-plane API keys (service keys and members' keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from sqlmodel import col, select

from control_plane import crud, crud_keys, models
from control_plane.api.access import TenantScope, require_tenant
from control_plane.api.deps import AuditDep, HubDep, SessionDep
from control_plane.api.paging import Limit, Offset, list_page, public
from control_plane.api.schemas import Page
from control_plane.api.schemas_keys import (
    KeyCreate,
    KeyCreated,
    KeyPublic,
    KeyRotate,
    KeyUpdate,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/keys")
ReadScope = Annotated[TenantScope, require_tenant("keys:read")]
WriteScope = Annotated[TenantScope, require_tenant("keys:write")]


def keys_statement(tenant_id: str, user_id: str | None, include_revoked: bool):  # type: ignore[no-untyped-def]
    statement = (
        select(models.ApiKey).where(models.ApiKey.tenant_id == tenant_id)
        .order_by(col(models.ApiKey.created_at), col(models.ApiKey.id))
    )
    if user_id is not None:
        statement = statement.where(models.ApiKey.user_id == user_id)
    if not include_revoked:
        statement = statement.where(col(models.ApiKey.revoked_at).is_(None))
    return statement


@router.get("", response_model=Page[KeyPublic])
async def list_keys(
    scope: ReadScope, session: SessionDep, user_id: str | None = None,
    include_revoked: bool = True, limit: Limit = 100, offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    statement = keys_statement(scope.tenant.id, user_id, include_revoked)
    return await list_page(session, statement, public(KeyPublic), limit, offset)


@router.post("", response_model=KeyCreated, status_code=201)
async def create_key(
    body: KeyCreate, scope: WriteScope, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> KeyCreated:
    """A service key, or with `user_id` a member's personal key. The secret is shown once."""
    user_id = (await crud.get_by_ref(session, models.User, body.user_id)).id if body.user_id \
        else None
    key, secret = await crud_keys.create_api_key(
        session, ctx=ctx, tenant_id=scope.tenant.id, **body.model_dump(exclude={"user_id"}),
        user_id=user_id,
    )
    await hub.refresh()
    return KeyCreated(secret=secret, **key.model_dump())


@router.get("/{key_id}", response_model=KeyPublic)
async def get_key(key_id: str, scope: ReadScope, session: SessionDep) -> KeyPublic:
    key = await crud_keys.get_key(session, tenant_id=scope.tenant.id, key_id=key_id)
    return KeyPublic(**key.model_dump())


@router.patch("/{key_id}", response_model=KeyPublic)
async def update_key(
    key_id: str, body: KeyUpdate, scope: WriteScope, session: SessionDep, hub: HubDep,
    ctx: AuditDep,
) -> KeyPublic:
    key = await crud_keys.get_key(session, tenant_id=scope.tenant.id, key_id=key_id)
    key = await crud_keys.update_api_key(session, ctx=ctx, key=key,
                                         changes=body.model_dump(exclude_unset=True))
    await hub.refresh()
    return KeyPublic(**key.model_dump())


@router.post("/{key_id}/rotate", response_model=KeyCreated)
async def rotate_key(
    key_id: str, body: KeyRotate, scope: WriteScope, session: SessionDep, hub: HubDep,
    ctx: AuditDep,
) -> KeyCreated:
    """A new secret (shown once); the old one keeps working for `grace_seconds`."""
    key = await crud_keys.get_key(session, tenant_id=scope.tenant.id, key_id=key_id)
    key, secret = await crud_keys.rotate_api_key(session, ctx=ctx, key=key,
                                                 grace_seconds=body.grace_seconds)
    await hub.refresh()
    return KeyCreated(secret=secret, **key.model_dump())


@router.post("/{key_id}/revoke", response_model=KeyPublic)
async def revoke_key(
    key_id: str, scope: WriteScope, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> KeyPublic:
    key = await crud_keys.get_key(session, tenant_id=scope.tenant.id, key_id=key_id)
    key = await crud_keys.revoke_api_key(session, ctx=ctx, key=key)
    await hub.refresh()
    return KeyPublic(**key.model_dump())
