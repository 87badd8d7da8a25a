"""Users, their personal tenants and personal access tokens; loading a request's caller."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import audit, models
from control_plane.access import Caller
from control_plane.audit import AuditContext
from control_plane.config_hub import bump_revision
from control_plane.crud import Conflict, ensure_unique_name
from control_plane.crud_tenants import (
    create_tenant,
    ensure_role,
    personal_tenant_name,
    purge_tenant_rows,
    role_permissions,
)
from control_plane.rbac_catalog import PERSONAL_TENANT_ROLE, PLATFORM
from omg_common.keys import ADMIN_TOKEN_PREFIX, hash_secret, new_secret, visible_prefix

PAT_TOUCH_INTERVAL = timedelta(minutes=1)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=models.utcnow().tzinfo)


async def create_user(
    session: AsyncSession, *, ctx: AuditContext, name: str, email: str = "",
    platform_role: str | None = None,
) -> models.User:
    """A user and their personal tenant, which they own."""
    await ensure_unique_name(session, models.User, name)
    if platform_role is not None:
        await ensure_role(session, platform_role, PLATFORM, "platform_role")
    user = models.User(name=name, email=email, platform_role=platform_role)
    session.add(user)
    tenant = await create_tenant(session, ctx=ctx, name=personal_tenant_name(name),
                                 personal_user_id=user.id, commit=False)
    await session.flush()
    session.add(models.Membership(tenant_id=tenant.id, user_id=user.id,
                                  role=PERSONAL_TENANT_ROLE))
    audit.record(session, ctx, action="user.create", target=user, after=audit.snapshot(user))
    await bump_revision(session)
    await session.commit()
    return user


async def _platform_admins(session: AsyncSession) -> int:
    statement = select(func.count()).select_from(models.User).where(
        col(models.User.platform_role).is_not(None), col(models.User.disabled).is_(False)
    )
    return int((await session.exec(statement)).one())


async def _guard_last_admin(session: AsyncSession, user: models.User) -> None:
    if user.platform_role is not None and await _platform_admins(session) <= 1:
        raise Conflict("this is the last platform admin; make someone else one first")


async def update_user(
    session: AsyncSession, *, ctx: AuditContext, user: models.User, changes: dict[str, Any]
) -> models.User:
    if changes.get("platform_role") is not None:
        await ensure_role(session, changes["platform_role"], PLATFORM, "platform_role")
    demoted = "platform_role" in changes and changes["platform_role"] is None
    if demoted or changes.get("disabled"):
        await _guard_last_admin(session, user)
    before = audit.snapshot(user)
    for name, value in changes.items():
        setattr(user, name, value)
    audit.record(session, ctx, action="user.update", target=user, before=before,
                 after=audit.snapshot(user))
    session.add(user)
    await session.commit()
    return user


async def delete_user(session: AsyncSession, *, ctx: AuditContext, user: models.User) -> None:
    if user.id == ctx.actor_id:
        raise Conflict("you cannot delete yourself")
    await _guard_last_admin(session, user)
    audit.record(session, ctx, action="user.delete", target=user, before=audit.snapshot(user))
    personal = (await session.exec(
        select(models.Tenant).where(models.Tenant.personal_user_id == user.id)
    )).all()
    for tenant in personal:
        await purge_tenant_rows(session, tenant.id)
        await session.delete(tenant)
    for table in (models.Membership, models.KeyPolicy, models.ApiKey,
                  models.PersonalAccessToken):
        await session.exec(delete(table).where(table.user_id == user.id))  # type: ignore[call-overload,attr-defined]
    await session.delete(user)
    await bump_revision(session)
    await session.commit()


async def create_pat(
    session: AsyncSession, *, ctx: AuditContext, user: models.User, name: str,
    expires_at: datetime | None = None, secret: str | None = None,
) -> tuple[models.PersonalAccessToken, str]:
    secret = secret or new_secret(ADMIN_TOKEN_PREFIX)
    token = models.PersonalAccessToken(
        user_id=user.id, name=name, prefix=visible_prefix(secret), token_hash=hash_secret(secret),
        expires_at=expires_at,
    )
    audit.record(session, ctx, action="token.create", target=token,
                 after=audit.snapshot(token))
    session.add(token)
    await session.commit()
    return token, secret


async def revoke_pat(
    session: AsyncSession, *, ctx: AuditContext, token: models.PersonalAccessToken
) -> models.PersonalAccessToken:
    if token.revoked_at is None:
        before = audit.snapshot(token)
        token.revoked_at = models.utcnow()
        audit.record(session, ctx, action="token.revoke", target=token, before=before,
                     after=audit.snapshot(token))
        session.add(token)
        await session.commit()
    return token


async def authenticate(
    session: AsyncSession, secret: str
) -> tuple[models.PersonalAccessToken, models.User] | None:
    """The live token and its enabled user, or None."""
    statement = select(models.PersonalAccessToken, models.User).join(models.User).where(
        models.PersonalAccessToken.token_hash == hash_secret(secret),
        col(models.PersonalAccessToken.revoked_at).is_(None),
        col(models.User.disabled).is_(False),
    )
    found = (await session.exec(statement)).first()
    if found is None:
        return None
    token, user = found
    now = models.utcnow()
    if token.expires_at is not None and aware(token.expires_at) <= now:
        return None
    await _touch(session, token, now)
    return token, user


async def _touch(
    session: AsyncSession, token: models.PersonalAccessToken, now: datetime
) -> None:
    """last_used_at, written at most once a minute per token."""
    if token.last_used_at is None or now - aware(token.last_used_at) > PAT_TOUCH_INTERVAL:
        await session.exec(update(models.PersonalAccessToken).where(  # type: ignore[call-overload]
            col(models.PersonalAccessToken.id) == token.id
        ).values(last_used_at=now))
        await session.commit()


async def load_caller(
    session: AsyncSession, user: models.User, token_id: str = ""
) -> Caller:
    platform = (
        await role_permissions(session, user.platform_role) if user.platform_role else frozenset()
    )
    rows = (await session.exec(
        select(models.Membership.tenant_id, models.Membership.role,
               models.RolePermission.permission)
        .join(models.RolePermission, models.RolePermission.role == models.Membership.role,
              isouter=True)
        .where(models.Membership.user_id == user.id)
    )).all()
    granted: dict[str, tuple[str, set[str]]] = {}
    for tenant_id, role, permission in rows:
        _, permissions = granted.setdefault(tenant_id, (role, set()))
        if permission:
            permissions.add(permission)
    roles = {t: (role, frozenset(perms)) for t, (role, perms) in granted.items()}
    personal = (await session.exec(
        select(models.Tenant.id).where(models.Tenant.personal_user_id == user.id)
    )).first()
    return Caller(user.id, user.name, platform, roles, personal, token_id)
