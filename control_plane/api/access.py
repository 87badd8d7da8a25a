"""Every admin endpoint declares who may call it, through exactly one of these dependencies.

`require("models:write")` (platform), `require_tenant("keys:write")` (the tenant in the path),
`require_user()` (any valid token) or `public()`. Each check function carries its `AccessRule`,
so `route_rules(ROUTERS)` reads the declarations back from the routes themselves: the RBAC matrix
test is generated from them, and a route without one fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlmodel import select

from control_plane import models
from control_plane.access import Caller, Decision, decide_platform, decide_tenant
from control_plane.api.deps import CallerDep, SessionDep

Scope = Literal["public", "user", "platform", "tenant"]
RULE_ATTR = "omg_access_rule"


@dataclass(frozen=True)
class AccessRule:
    scope: Scope
    permission: str | None = None


@dataclass(frozen=True)
class TenantScope:
    """A caller allowed to act in the tenant named by the path."""

    caller: Caller
    tenant: models.Tenant


def _declare(check: Callable[..., Any], rule: AccessRule) -> Any:
    setattr(check, RULE_ATTR, rule)
    return Depends(check)


def forbidden(permission: str) -> HTTPException:
    return HTTPException(403, f"permission {permission!r} is required for this operation")


def require(permission: str) -> Any:
    async def check_platform(caller: CallerDep) -> Caller:
        if decide_platform(caller, permission) is not Decision.allow:
            raise forbidden(permission)
        return caller

    return _declare(check_platform, AccessRule("platform", permission))


async def find_tenant(session: SessionDep, ref: str) -> models.Tenant | None:
    tenant = await session.get(models.Tenant, ref)
    if tenant is None:
        by_name = select(models.Tenant).where(models.Tenant.name == ref)
        tenant = (await session.exec(by_name)).first()
    return tenant


def require_tenant(permission: str) -> Any:
    async def check_tenant(tenant_id: str, caller: CallerDep, session: SessionDep) -> TenantScope:
        tenant = await find_tenant(session, tenant_id)
        decision = Decision.hidden if tenant is None else decide_tenant(caller, permission,
                                                                        tenant.id)
        if decision is Decision.hidden:
            raise HTTPException(404, f"tenant {tenant_id!r} not found")
        if decision is Decision.forbidden:
            raise forbidden(permission)
        assert tenant is not None
        return TenantScope(caller, tenant)

    return _declare(check_tenant, AccessRule("tenant", permission))


def require_user() -> Any:
    async def check_user(caller: CallerDep) -> Caller:
        return caller

    return _declare(check_user, AccessRule("user"))


def public() -> Any:
    def check_public() -> None:
        return None

    return _declare(check_public, AccessRule("public"))


def _rules(dependant: Dependant) -> list[AccessRule]:
    found = [getattr(dependant.call, RULE_ATTR)] if hasattr(dependant.call, RULE_ATTR) else []
    for sub in dependant.dependencies:
        found.extend(_rules(sub))
    return found


def route_rules(routers: Iterable[APIRouter]) -> dict[tuple[str, str], list[AccessRule]]:
    """(method, path) -> the access rules its dependencies declare (exactly one is right)."""
    rules: dict[tuple[str, str], list[AccessRule]] = {}
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods):
                    rules[(method, route.path)] = _rules(route.dependant)
    return rules


def declaration_problems(routers: Iterable[APIRouter]) -> list[str]:
    problems = []
    for (method, path), rules in route_rules(routers).items():
        if len(rules) != 1:
            problems.append(f"{method} {path} declares {len(rules)} access rules, not 1")
        elif (rules[0].scope == "tenant") != ("{tenant_id}" in path):
            problems.append(f"{method} {path}: a {{tenant_id}} path needs require_tenant, "
                            "and only such a path")
    return problems
