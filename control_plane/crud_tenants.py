"""Tenants, memberships and roles. Keyword-only, no HTTP here."""

from __future__ import annotations

from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import audit, models
from control_plane.audit import AuditContext
from control_plane.config_hub import bump_revision
from control_plane.crud import Conflict, Invalid, NotFound, ensure_unique_name, save_config
from control_plane.rbac_catalog import TENANT

PERSONAL_PREFIX = "personal:"


def personal_tenant_name(user_name: str) -> str:
    return f"{PERSONAL_PREFIX}{user_name}"


async def role_permissions(session: AsyncSession, role: str) -> frozenset[str]:
    rows = await session.exec(
        select(models.RolePermission.permission).where(models.RolePermission.role == role)
    )
    return frozenset(rows.all())


async def ensure_role(session: AsyncSession, name: str, scope: str, param: str) -> None:
    row = await session.get(models.Role, name)
    if row is None or row.scope != scope:
        raise Invalid(f"{name!r} is not a {scope} role; see GET /api/v1/roles", param)


async def create_tenant(
    session: AsyncSession, *, ctx: AuditContext, name: str, personal_user_id: str | None = None,
    commit: bool = True, rpm_limit: int | None = None, tpm_limit: int | None = None,
) -> models.Tenant:
    await ensure_unique_name(session, models.Tenant, name)
    tenant = models.Tenant(name=name, personal_user_id=personal_user_id, rpm_limit=rpm_limit,
                           tpm_limit=tpm_limit)
    audit.record(session, ctx, action="tenant.create", target=tenant, tenant_id=tenant.id,
                 after=audit.snapshot(tenant))
    if commit:
        await save_config(session, tenant)
    else:
        session.add(tenant)
    return tenant


async def rename_tenant(
    session: AsyncSession, *, ctx: AuditContext, tenant: models.Tenant, name: str
) -> models.Tenant:
    if tenant.personal_user_id:
        raise Conflict("a personal tenant is named after its user and cannot be renamed")
    if name != tenant.name:
        await ensure_unique_name(session, models.Tenant, name)
    before = audit.snapshot(tenant)
    tenant.name = name
    audit.record(session, ctx, action="tenant.update", target=tenant, tenant_id=tenant.id,
                 before=before, after=audit.snapshot(tenant))
    await save_config(session, tenant)
    return tenant


async def set_rate_limits(
    session: AsyncSession, *, ctx: AuditContext, tenant: models.Tenant, rpm_limit: int | None,
    tpm_limit: int | None,
) -> models.Tenant:
    """The tenant-wide limits, enforced by ext_proc on top of each key's own."""
    before = audit.snapshot(tenant)
    tenant.rpm_limit, tenant.tpm_limit = rpm_limit, tpm_limit
    audit.record(session, ctx, action="tenant.rate_limits", target=tenant, tenant_id=tenant.id,
                 before=before, after=audit.snapshot(tenant))
    await save_config(session, tenant)
    return tenant


async def purge_tenant_rows(session: AsyncSession, tenant_id: str) -> None:
    """Everything that belongs to a tenant (usage and audit stay: they are history)."""
    for table in (models.Membership, models.KeyPolicy, models.ApiKey, models.BudgetOverride,
                  models.Budget, models.AlertChannel):
        await session.exec(delete(table).where(table.tenant_id == tenant_id))  # type: ignore[call-overload,attr-defined]


async def delete_tenant(
    session: AsyncSession, *, ctx: AuditContext, tenant: models.Tenant
) -> None:
    if tenant.personal_user_id:
        raise Conflict("a personal tenant goes away with its user; delete the user instead")
    audit.record(session, ctx, action="tenant.delete", target=tenant, tenant_id=tenant.id,
                 before=audit.snapshot(tenant))
    await purge_tenant_rows(session, tenant.id)
    await session.delete(tenant)
    await bump_revision(session)
    await session.commit()


async def get_membership(
    session: AsyncSession, *, tenant_id: str, user_id: str
) -> models.Membership:
    row = await session.get(models.Membership, (tenant_id, user_id))
    if row is None:
        raise NotFound(f"user {user_id!r} is not a member of this tenant")
    return row


async def add_member(
    session: AsyncSession, *, ctx: AuditContext, tenant: models.Tenant, user: models.User,
    role: str,
) -> models.Membership:
    await ensure_role(session, role, TENANT, "role")
    if await session.get(models.Membership, (tenant.id, user.id)) is not None:
        raise Conflict(f"user {user.name!r} is already a member of {tenant.name!r}")
    membership = models.Membership(tenant_id=tenant.id, user_id=user.id, role=role)
    audit.record(session, ctx, action="member.add", target_type="membership",
                 target_id=user.id, tenant_id=tenant.id, after=audit.snapshot(membership))
    session.add(membership)
    await session.commit()
    return membership


async def _owners(session: AsyncSession, tenant_id: str) -> int:
    statement = select(func.count()).select_from(models.Membership).where(
        models.Membership.tenant_id == tenant_id, models.Membership.role == "owner"
    )
    return int((await session.exec(statement)).one())


async def _guard_owner_change(
    session: AsyncSession, tenant: models.Tenant, membership: models.Membership
) -> None:
    if tenant.personal_user_id == membership.user_id:
        raise Conflict("the owner of a personal tenant cannot be removed or demoted")
    if membership.role == "owner" and await _owners(session, tenant.id) <= 1:
        raise Conflict("a tenant needs at least one owner; add another owner first")


async def set_member_role(
    session: AsyncSession, *, ctx: AuditContext, tenant: models.Tenant,
    membership: models.Membership, role: str,
) -> models.Membership:
    await ensure_role(session, role, TENANT, "role")
    if role == membership.role:
        return membership
    await _guard_owner_change(session, tenant, membership)
    before = audit.snapshot(membership)
    membership.role = role
    audit.record(session, ctx, action="member.role_change", target_type="membership",
                 target_id=membership.user_id, tenant_id=tenant.id, before=before,
                 after=audit.snapshot(membership))
    session.add(membership)
    await session.commit()
    return membership


async def remove_member(
    session: AsyncSession, *, ctx: AuditContext, tenant: models.Tenant,
    membership: models.Membership,
) -> None:
    await _guard_owner_change(session, tenant, membership)
    audit.record(session, ctx, action="member.remove", target_type="membership",
                 target_id=membership.user_id, tenant_id=tenant.id,
                 before=audit.snapshot(membership))
    # The member's personal keys in this tenant stop working with the membership.
    await session.exec(update(models.ApiKey).where(  # type: ignore[call-overload]
        col(models.ApiKey.tenant_id) == tenant.id,
        col(models.ApiKey.user_id) == membership.user_id,
        col(models.ApiKey.revoked_at).is_(None),
    ).values(revoked_at=models.utcnow()))
    await session.exec(delete(models.KeyPolicy).where(  # type: ignore[call-overload]
        col(models.KeyPolicy.tenant_id) == tenant.id,
        col(models.KeyPolicy.user_id) == membership.user_id,
    ))
    await session.delete(membership)
    await bump_revision(session)
    await session.commit()
