"""Self-service for any signed-in user: who am I, my tokens, and my personal API keys.

Personal keys live in the caller's personal tenant; the key policies an admin set on that
tenant or on the user bound them exactly as they bound an admin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException
from sqlmodel import col, select

from control_plane import crud, crud_keys, crud_users, models
from control_plane.access import Caller
from control_plane.api.access import require_user
from control_plane.api.deps import AuditDep, HubDep, SessionDep
from control_plane.api.paging import Limit, Offset, list_page, public
from control_plane.api.routes_keys import keys_statement
from control_plane.api.schemas import Page
from control_plane.api.schemas_access import (
    MePublic,
    MyMembership,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserPublic,
)
from control_plane.api.schemas_keys import (
    KeyCreated,
    KeyPublic,
    KeyRotate,
    KeyUpdate,
    SelfKeyCreate,
)

router = APIRouter(prefix="/user")
Me = Annotated[Caller, require_user()]


def personal_tenant(caller: Caller) -> str:
    if caller.personal_tenant_id is None:
        raise HTTPException(409, "you have no personal tenant")
    return caller.personal_tenant_id


@router.get("/me", response_model=MePublic)
async def me(caller: Me, session: SessionDep) -> MePublic:
    user = await crud.get_or_404(session, models.User, caller.user_id)
    memberships = [MyMembership(tenant_id=t, role=role, permissions=sorted(perms))
                   for t, (role, perms) in sorted(caller.tenant_roles.items())]
    return MePublic(user=UserPublic(**user.model_dump()),
                    personal_tenant_id=caller.personal_tenant_id,
                    platform_permissions=sorted(caller.platform_permissions),
                    memberships=memberships)


@router.get("/api-keys", response_model=Page[KeyPublic])
async def list_my_keys(
    caller: Me, session: SessionDep, include_revoked: bool = True, limit: Limit = 100,
    offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    statement = keys_statement(personal_tenant(caller), caller.user_id, include_revoked)
    return await list_page(session, statement, public(KeyPublic), limit, offset)


@router.post("/api-keys", response_model=KeyCreated, status_code=201)
async def create_my_key(
    body: SelfKeyCreate, caller: Me, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> KeyCreated:
    key, secret = await crud_keys.create_api_key(
        session, ctx=ctx, tenant_id=personal_tenant(caller), user_id=caller.user_id,
        **body.model_dump(),
    )
    await hub.refresh()
    return KeyCreated(secret=secret, **key.model_dump())


async def _my_key(session: SessionDep, caller: Caller, key_id: str) -> models.ApiKey:
    key = await crud_keys.get_key(session, tenant_id=personal_tenant(caller), key_id=key_id)
    if key.user_id != caller.user_id:
        raise crud.NotFound(f"api key {key_id!r} not found")
    return key


@router.get("/api-keys/{key_id}", response_model=KeyPublic)
async def get_my_key(key_id: str, caller: Me, session: SessionDep) -> KeyPublic:
    return KeyPublic(**(await _my_key(session, caller, key_id)).model_dump())


@router.patch("/api-keys/{key_id}", response_model=KeyPublic)
async def update_my_key(
    key_id: str, body: KeyUpdate, caller: Me, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> KeyPublic:
    key = await _my_key(session, caller, key_id)
    key = await crud_keys.update_api_key(session, ctx=ctx, key=key,
                                         changes=body.model_dump(exclude_unset=True))
    await hub.refresh()
    return KeyPublic(**key.model_dump())


@router.post("/api-keys/{key_id}/rotate", response_model=KeyCreated)
async def rotate_my_key(
    key_id: str, body: KeyRotate, caller: Me, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> KeyCreated:
    key = await _my_key(session, caller, key_id)
    key, secret = await crud_keys.rotate_api_key(session, ctx=ctx, key=key,
                                                 grace_seconds=body.grace_seconds)
    await hub.refresh()
    return KeyCreated(secret=secret, **key.model_dump())


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_my_key(
    key_id: str, caller: Me, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> None:
    """Revokes the key (it stays listed, with `revoked_at`, for the record)."""
    key = await _my_key(session, caller, key_id)
    await crud_keys.revoke_api_key(session, ctx=ctx, key=key)
    await hub.refresh()


@router.get("/tokens", response_model=Page[TokenPublic])
async def list_my_tokens(
    caller: Me, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> Page:  # type: ignore[type-arg]
    table = models.PersonalAccessToken
    statement = select(table).where(table.user_id == caller.user_id).order_by(
        col(table.created_at), col(table.id))
    return await list_page(session, statement, public(TokenPublic), limit, offset)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
async def create_my_token(
    body: TokenCreate, caller: Me, session: SessionDep, ctx: AuditDep
) -> TokenCreated:
    user = await crud.get_or_404(session, models.User, caller.user_id)
    token, secret = await crud_users.create_pat(session, ctx=ctx, user=user, name=body.name,
                                                expires_at=body.expires_at)
    return TokenCreated(secret=secret, **token.model_dump())


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_my_token(token_id: str, caller: Me, session: SessionDep, ctx: AuditDep) -> None:
    token = await session.get(models.PersonalAccessToken, token_id)
    if token is None or token.user_id != caller.user_id:
        raise crud.NotFound(f"token {token_id!r} not found")
    await crud_users.revoke_pat(session, ctx=ctx, token=token)
