"""Admin endpoints for users and their tokens (platform), and the role catalog (anyone)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import col, select

from control_plane import crud, crud_users, models
from control_plane.api.access import require, require_user
from control_plane.api.deps import AuditDep, HubDep, SessionDep
from control_plane.api.paging import Limit, Offset, list_page, public
from control_plane.api.schemas import Page
from control_plane.api.schemas_access import (
    PermissionPublic,
    RolePublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1")


@router.get("/users", response_model=Page[UserPublic], dependencies=[require("users:read")])
async def list_users(
    session: SessionDep, name: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> Page:  # type: ignore[type-arg]
    statement = select(models.User).order_by(col(models.User.name))
    if name is not None:
        statement = statement.where(models.User.name == name)
    return await list_page(session, statement, public(UserPublic), limit, offset)


@router.post("/users", response_model=UserPublic, status_code=201,
             dependencies=[require("users:write")])
async def create_user(
    body: UserCreate, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> UserPublic:
    """A user, with a personal tenant they own (named `personal:<name>`)."""
    user = await crud_users.create_user(session, ctx=ctx, **body.model_dump())
    await hub.refresh()
    return UserPublic(**user.model_dump())


@router.get("/users/{user}", response_model=UserPublic, dependencies=[require("users:read")])
async def get_user(user: str, session: SessionDep) -> UserPublic:
    return UserPublic(**(await crud.get_by_ref(session, models.User, user)).model_dump())


@router.patch("/users/{user}", response_model=UserPublic, dependencies=[require("users:write")])
async def update_user(
    user: str, body: UserUpdate, session: SessionDep, ctx: AuditDep
) -> UserPublic:
    row = await crud.get_by_ref(session, models.User, user)
    changes = body.model_dump(exclude_unset=True)
    row = await crud_users.update_user(session, ctx=ctx, user=row, changes=changes)
    return UserPublic(**row.model_dump())


@router.delete("/users/{user}", status_code=204, dependencies=[require("users:write")])
async def delete_user(user: str, session: SessionDep, hub: HubDep, ctx: AuditDep) -> None:
    """The user, their tokens, memberships, personal keys and personal tenant."""
    row = await crud.get_by_ref(session, models.User, user)
    await crud_users.delete_user(session, ctx=ctx, user=row)
    await hub.refresh()


@router.get("/users/{user}/tokens", response_model=Page[TokenPublic],
            dependencies=[require("users:read")])
async def list_user_tokens(
    user: str, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> Page:  # type: ignore[type-arg]
    row = await crud.get_by_ref(session, models.User, user)
    table = models.PersonalAccessToken
    statement = select(table).where(table.user_id == row.id).order_by(
        col(table.created_at), col(table.id))
    return await list_page(session, statement, public(TokenPublic), limit, offset)


@router.post("/users/{user}/tokens", response_model=TokenCreated, status_code=201,
             dependencies=[require("users:write")])
async def create_user_token(
    user: str, body: TokenCreate, session: SessionDep, ctx: AuditDep
) -> TokenCreated:
    """A personal access token for the user (hand it over; `omg login` stores it)."""
    row = await crud.get_by_ref(session, models.User, user)
    token, secret = await crud_users.create_pat(session, ctx=ctx, user=row, name=body.name,
                                                expires_at=body.expires_at)
    return TokenCreated(secret=secret, **token.model_dump())


@router.delete("/users/{user}/tokens/{token_id}", status_code=204,
               dependencies=[require("users:write")])
async def revoke_user_token(user: str, token_id: str, session: SessionDep, ctx: AuditDep) -> None:
    row = await crud.get_by_ref(session, models.User, user)
    token = await session.get(models.PersonalAccessToken, token_id)
    if token is None or token.user_id != row.id:
        raise crud.NotFound(f"token {token_id!r} not found")
    await crud_users.revoke_pat(session, ctx=ctx, token=token)


@router.get("/roles", response_model=Page[RolePublic], dependencies=[require_user()])
async def list_roles(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page:  # type: ignore[type-arg]
    """Every role and the permissions it grants."""
    rows, more = await crud.page(session, select(models.Role).order_by(
        col(models.Role.scope).desc(), col(models.Role.name)), limit=limit, offset=offset)
    grants = (await session.exec(select(models.RolePermission))).all()
    by_role: dict[str, list[str]] = {}
    for grant in grants:
        by_role.setdefault(grant.role, []).append(grant.permission)
    data = [RolePublic(permissions=sorted(by_role.get(r.name, [])), **r.model_dump())
            for r in rows]
    return Page(data=data, limit=limit, offset=offset, has_more=more)


@router.get("/permissions", response_model=Page[PermissionPublic],
            dependencies=[require_user()])
async def list_permissions(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page:  # type: ignore[type-arg]
    statement = select(models.Permission).order_by(col(models.Permission.name))
    return await list_page(session, statement, public(PermissionPublic), limit, offset)
