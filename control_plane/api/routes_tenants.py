"""Admin endpoints for tenants, their members and their key policies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException
from sqlmodel import col, select

from control_plane import access, crud, crud_keys, crud_tenants, models
from control_plane.api.access import TenantScope, require, require_tenant
from control_plane.api.deps import AuditDep, HubDep, SessionDep
from control_plane.api.paging import Limit, Offset, list_page, public
from control_plane.api.schemas import (
    Page,
    TenantCreate,
    TenantPublic,
    TenantRateLimits,
    TenantUpdate,
)
from control_plane.api.schemas_access import (
    MembershipCreate,
    MembershipPublic,
    MembershipUpdate,
)
from control_plane.api.schemas_keys import KeyPolicyPublic, KeyPolicyPut

router = APIRouter(prefix="/api/v1")


@router.get("/tenants", response_model=Page[TenantPublic],
            dependencies=[require("tenants:read")])
async def list_tenants(
    session: SessionDep, name: str | None = None, personal: bool | None = None,
    limit: Limit = 100, offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    statement = select(models.Tenant).order_by(col(models.Tenant.name))
    if name is not None:
        statement = statement.where(models.Tenant.name == name)
    if personal is not None:
        column = col(models.Tenant.personal_user_id)
        statement = statement.where(column.is_not(None) if personal else column.is_(None))
    return await list_page(session, statement, public(TenantPublic), limit, offset)


@router.post("/tenants", response_model=TenantPublic, status_code=201,
             dependencies=[require("tenants:write")])
async def create_tenant(
    body: TenantCreate, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> TenantPublic:
    tenant = await crud_tenants.create_tenant(session, ctx=ctx, name=body.name,
                                              rpm_limit=body.rpm_limit, tpm_limit=body.tpm_limit)
    await hub.refresh()
    return TenantPublic(**tenant.model_dump())


@router.get("/tenants/{tenant_id}", response_model=TenantPublic)
async def get_tenant(
    scope: Annotated[TenantScope, require_tenant("tenant:read")],
) -> TenantPublic:
    return TenantPublic(**scope.tenant.model_dump())


@router.patch("/tenants/{tenant_id}", response_model=TenantPublic)
async def rename_tenant(
    body: TenantUpdate, scope: Annotated[TenantScope, require_tenant("tenant:write")],
    session: SessionDep, ctx: AuditDep,
) -> TenantPublic:
    tenant = await crud_tenants.rename_tenant(session, ctx=ctx, tenant=scope.tenant,
                                              name=body.name)
    return TenantPublic(**tenant.model_dump())


@router.put("/tenants/{tenant_id}/rate-limits", response_model=TenantPublic)
async def put_rate_limits(
    body: TenantRateLimits, scope: Annotated[TenantScope, require_tenant("policies:write")],
    session: SessionDep, hub: HubDep, ctx: AuditDep,
) -> TenantPublic:
    """Requests and tokens per minute for the whole tenant, on top of each key's limits."""
    tenant = await crud_tenants.set_rate_limits(
        session, ctx=ctx, tenant=scope.tenant, rpm_limit=body.rpm_limit,
        tpm_limit=body.tpm_limit,
    )
    await hub.refresh()
    return TenantPublic(**tenant.model_dump())


@router.delete("/tenants/{tenant_id}", status_code=204)
async def delete_tenant(
    scope: Annotated[TenantScope, require_tenant("tenants:write")], session: SessionDep,
    hub: HubDep, ctx: AuditDep,
) -> None:
    await crud_tenants.delete_tenant(session, ctx=ctx, tenant=scope.tenant)
    await hub.refresh()


def membership_public(row: tuple[models.Membership, models.User]) -> MembershipPublic:
    membership, user = row
    return MembershipPublic(user_name=user.name, **membership.model_dump())


@router.get("/tenants/{tenant_id}/members", response_model=Page[MembershipPublic])
async def list_members(
    scope: Annotated[TenantScope, require_tenant("members:read")], session: SessionDep,
    limit: Limit = 100, offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    statement = (
        select(models.Membership, models.User).join(models.User)
        .where(models.Membership.tenant_id == scope.tenant.id).order_by(col(models.User.name))
    )
    return await list_page(session, statement, membership_public, limit, offset)


async def _check_grant(session: SessionDep, scope: TenantScope, role: str) -> None:
    """Roles can be given or taken only by someone who holds all they grant."""
    permissions = await crud_tenants.role_permissions(session, role)
    if not access.may_grant(scope.caller, scope.tenant.id, permissions):
        raise HTTPException(403, f"you cannot grant or change role {role!r}: it holds "
                                 "permissions you do not have in this tenant")


@router.post("/tenants/{tenant_id}/members", response_model=MembershipPublic, status_code=201)
async def add_member(
    body: MembershipCreate, scope: Annotated[TenantScope, require_tenant("members:write")],
    session: SessionDep, ctx: AuditDep,
) -> MembershipPublic:
    user = await crud.get_by_ref(session, models.User, body.user)
    await _check_grant(session, scope, body.role)
    membership = await crud_tenants.add_member(session, ctx=ctx, tenant=scope.tenant, user=user,
                                               role=body.role)
    return membership_public((membership, user))


async def _member(
    session: SessionDep, scope: TenantScope, user_ref: str
) -> tuple[models.Membership, models.User]:
    user = await crud.get_by_ref(session, models.User, user_ref)
    membership = await crud_tenants.get_membership(session, tenant_id=scope.tenant.id,
                                                   user_id=user.id)
    return membership, user


@router.patch("/tenants/{tenant_id}/members/{user}", response_model=MembershipPublic)
async def set_member_role(
    user: str, body: MembershipUpdate,
    scope: Annotated[TenantScope, require_tenant("members:write")], session: SessionDep,
    ctx: AuditDep,
) -> MembershipPublic:
    membership, user_row = await _member(session, scope, user)
    await _check_grant(session, scope, membership.role)
    await _check_grant(session, scope, body.role)
    membership = await crud_tenants.set_member_role(
        session, ctx=ctx, tenant=scope.tenant, membership=membership, role=body.role
    )
    return membership_public((membership, user_row))


@router.delete("/tenants/{tenant_id}/members/{user}", status_code=204)
async def remove_member(
    user: str, scope: Annotated[TenantScope, require_tenant("members:write")],
    session: SessionDep, hub: HubDep, ctx: AuditDep,
) -> None:
    membership, _ = await _member(session, scope, user)
    await _check_grant(session, scope, membership.role)
    await crud_tenants.remove_member(session, ctx=ctx, tenant=scope.tenant,
                                     membership=membership)
    await hub.refresh()


@router.get("/tenants/{tenant_id}/key-policies", response_model=Page[KeyPolicyPublic])
async def list_key_policies(
    scope: Annotated[TenantScope, require_tenant("keys:read")], session: SessionDep,
    limit: Limit = 100, offset: Offset = 0,
) -> Page:  # type: ignore[type-arg]
    statement = (
        select(models.KeyPolicy).where(models.KeyPolicy.tenant_id == scope.tenant.id)
        .order_by(col(models.KeyPolicy.user_id), col(models.KeyPolicy.id))
    )
    return await list_page(session, statement, public(KeyPolicyPublic), limit, offset)


@router.put("/tenants/{tenant_id}/key-policies", response_model=KeyPolicyPublic)
async def put_key_policy(
    body: KeyPolicyPut, scope: Annotated[TenantScope, require_tenant("policies:write")],
    session: SessionDep, ctx: AuditDep,
) -> KeyPolicyPublic:
    """Create or replace the limits of the tenant's keys, or of one member's (`user_id`)."""
    user_id = (await crud.get_by_ref(session, models.User, body.user_id)).id if body.user_id \
        else None
    policy, _ = await crud_keys.put_key_policy(
        session, ctx=ctx, tenant_id=scope.tenant.id, user_id=user_id,
        fields=body.model_dump(exclude={"user_id"}),
    )
    return KeyPolicyPublic.model_validate(policy, from_attributes=True)


@router.delete("/tenants/{tenant_id}/key-policies/{policy_id}", status_code=204)
async def delete_key_policy(
    policy_id: str, scope: Annotated[TenantScope, require_tenant("policies:write")],
    session: SessionDep, ctx: AuditDep,
) -> None:
    policy = await crud_keys.get_key_policy(session, tenant_id=scope.tenant.id,
                                            policy_id=policy_id)
    await crud_keys.delete_key_policy(session, ctx=ctx, policy=policy)
