"""API shapes of users, tokens, memberships, roles, the caller, and the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from control_plane.api.schemas import NAME, Timestamp

USER_NAME = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = USER_NAME
    email: str = Field(default="", max_length=320)
    platform_role: str | None = Field(default=None, description="e.g. platform_admin")


class UserUpdate(BaseModel):
    """Only the fields sent change; `platform_role: null` removes the platform role."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=320)
    platform_role: str | None = None
    disabled: bool | None = None


class UserPublic(BaseModel):
    id: str
    name: str
    email: str
    platform_role: str | None
    disabled: bool
    created_at: Timestamp


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME
    expires_at: Timestamp | None = None


class TokenPublic(BaseModel):
    id: str
    user_id: str
    name: str
    prefix: str
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    last_used_at: Timestamp | None


class TokenCreated(TokenPublic):
    secret: str = Field(description="shown once; only its hash is stored")


class MembershipCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, description="user id or name")
    role: str = Field(min_length=1, description="a tenant role, see GET /api/v1/roles")


class MembershipUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(min_length=1)


class MembershipPublic(BaseModel):
    tenant_id: str
    user_id: str
    user_name: str
    role: str
    created_at: Timestamp


class PermissionPublic(BaseModel):
    name: str
    scope: str
    description: str


class RolePublic(BaseModel):
    name: str
    scope: str
    description: str
    builtin: bool
    permissions: list[str]


class MyMembership(BaseModel):
    tenant_id: str
    role: str
    permissions: list[str]


class MePublic(BaseModel):
    user: UserPublic
    personal_tenant_id: str | None
    platform_permissions: list[str]
    memberships: list[MyMembership]


class AuditPublic(BaseModel):
    id: str
    created_at: Timestamp
    actor_id: str
    actor_name: str
    tenant_id: str | None
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source_ip: str
    request_id: str
