"""The built-in permissions and roles: plain data, synced into the `permission`, `role` and
`role_permission` tables by migration 0002 and again at every start (`sync_catalog`).

A later feature adds a permission here (and to the roles that should hold it); no role code
changes. Tenant roles may only hold tenant-scope permissions; a platform role holds its
permissions in every tenant too.
"""

from __future__ import annotations

from dataclasses import dataclass

TENANT = "tenant"
PLATFORM = "platform"


@dataclass(frozen=True)
class PermissionDef:
    name: str
    scope: str
    description: str


@dataclass(frozen=True)
class RoleDef:
    name: str
    scope: str
    description: str
    permissions: frozenset[str]


PERMISSIONS: tuple[PermissionDef, ...] = (
    PermissionDef("tenant:read", TENANT, "see the tenant"),
    PermissionDef("tenant:write", TENANT, "rename the tenant"),
    PermissionDef("members:read", TENANT, "list members and their roles"),
    PermissionDef("members:write", TENANT, "add, remove and change the role of members"),
    PermissionDef("keys:read", TENANT, "list API keys and key policies (never secrets)"),
    PermissionDef("keys:write", TENANT, "create, update, rotate and revoke API keys"),
    PermissionDef("usage:read", TENANT, "read usage records"),
    PermissionDef("audit:read", TENANT, "read the audit log"),
    PermissionDef("budgets:read", TENANT, "see budgets, their spend and overrides"),
    PermissionDef("budgets:write", TENANT, "create, change and delete budgets"),
    PermissionDef("budgets:override", TENANT,
                  "raise a budget's limit temporarily (with expiry, audited)"),
    PermissionDef("alerts:read", TENANT, "list alert channels (never their secrets)"),
    PermissionDef("alerts:write", TENANT, "create and delete alert channels"),
    PermissionDef("guardrails:write", TENANT, "configure guardrails"),
    PermissionDef("tenants:read", PLATFORM, "list every tenant"),
    PermissionDef("tenants:write", PLATFORM, "create and delete tenants"),
    PermissionDef("users:read", PLATFORM, "list users and their tokens"),
    PermissionDef("users:write", PLATFORM, "create, change and delete users; issue tokens"),
    PermissionDef("models:read", PLATFORM, "list public models"),
    PermissionDef("models:write", PLATFORM, "create, change and delete public models"),
    PermissionDef("deployments:read", PLATFORM, "list deployments (never credentials)"),
    PermissionDef("deployments:write", PLATFORM, "create, change and delete deployments"),
    PermissionDef("policies:write", PLATFORM, "set the key limits of tenants and users"),
    PermissionDef("system:read", PLATFORM, "read xDS status"),
    PermissionDef("platform_alerts:write", PLATFORM, "manage the platform's alert channels"),
)

_ALL_TENANT = frozenset(p.name for p in PERMISSIONS if p.scope == TENANT)
_READ = frozenset({"tenant:read", "members:read", "keys:read"})

ROLES: tuple[RoleDef, ...] = (
    RoleDef("owner", TENANT, "everything in the tenant", _ALL_TENANT),
    RoleDef("admin", TENANT, "everything but renaming the tenant; cannot grant owner",
            _ALL_TENANT - {"tenant:write"}),
    RoleDef("operator", TENANT, "runs the tenant's traffic: keys, guardrails, budgets",
            _READ | {"keys:write", "usage:read", "budgets:read", "budgets:override",
                     "alerts:read", "guardrails:write"}),
    RoleDef("analyst", TENANT, "reads usage and budgets",
            frozenset({"tenant:read", "keys:read", "usage:read", "budgets:read"})),
    RoleDef("support", TENANT, "reads usage, budgets and the audit log to help users",
            _READ | {"usage:read", "budgets:read", "audit:read"}),
    RoleDef("viewer", TENANT, "sees the tenant, its members and keys", _READ),
    RoleDef("platform_admin", PLATFORM, "everything, in every tenant",
            frozenset(p.name for p in PERMISSIONS)),
)

PERSONAL_TENANT_ROLE = "owner"
PLATFORM_ADMIN_ROLE = "platform_admin"


def role_by_name() -> dict[str, RoleDef]:
    return {role.name: role for role in ROLES}


def catalog_problems() -> list[str]:
    """What is inconsistent in the data above (a unit test keeps this empty)."""
    scopes = {p.name: p.scope for p in PERMISSIONS}
    problems = []
    for role in ROLES:
        for name in sorted(role.permissions):
            if name not in scopes:
                problems.append(f"role {role.name}: unknown permission {name}")
            elif role.scope == TENANT and scopes[name] != TENANT:
                problems.append(f"tenant role {role.name} holds platform permission {name}")
    return problems
