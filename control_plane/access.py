"""Who may do what: the caller's grants and the one decision every admin endpoint goes through.

Pure: the grants are loaded once per request (`crud_identity.load_caller`), the decision is
made here. Another tenant's objects are hidden (404), never forbidden (403): a caller must not
learn that a tenant it does not belong to exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Decision(StrEnum):
    allow = "allow"
    forbidden = "forbidden"  # 403: the caller sees the tenant but lacks the permission
    hidden = "hidden"  # 404: the caller has no access to the tenant at all


@dataclass(frozen=True)
class Caller:
    user_id: str
    user_name: str
    platform_permissions: frozenset[str] = frozenset()
    # tenant id -> (role name, permissions of that role)
    tenant_roles: Mapping[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    personal_tenant_id: str | None = None
    token_id: str = ""

    def tenant_permissions(self, tenant_id: str) -> frozenset[str]:
        role = self.tenant_roles.get(tenant_id)
        granted = role[1] if role else frozenset()
        return granted | self.platform_permissions

    def sees_every_tenant(self) -> bool:
        return "tenants:read" in self.platform_permissions


def decide_platform(caller: Caller, permission: str) -> Decision:
    return Decision.allow if permission in caller.platform_permissions else Decision.forbidden


def decide_tenant(caller: Caller, permission: str, tenant_id: str) -> Decision:
    if tenant_id not in caller.tenant_roles and not caller.sees_every_tenant():
        return Decision.hidden
    if permission in caller.tenant_permissions(tenant_id):
        return Decision.allow
    return Decision.forbidden


def may_grant(caller: Caller, tenant_id: str, role_permissions: frozenset[str]) -> bool:
    """No escalation: a role can be given (or taken away) only by someone holding all of it."""
    return role_permissions <= caller.tenant_permissions(tenant_id)
