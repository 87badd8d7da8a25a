"""Permission resolution, the role catalog, and the route declarations (pure)."""

from __future__ import annotations

from fastapi import APIRouter

from control_plane.access import Caller, Decision, decide_platform, decide_tenant, may_grant
from control_plane.api.access import declaration_problems, require, require_tenant
from control_plane.app import ROUTERS
from control_plane.rbac_catalog import PERMISSIONS, catalog_problems, role_by_name

ROLES_BY_NAME = role_by_name()


def member(role: str, tenant: str = "ten_a", platform: str | None = None) -> Caller:
    return Caller(
        "usr_1", "u",
        platform_permissions=ROLES_BY_NAME[platform].permissions if platform else frozenset(),
        tenant_roles={tenant: (role, ROLES_BY_NAME[role].permissions)},
    )


def test_catalog_is_consistent() -> None:
    assert catalog_problems() == []
    assert len({p.name for p in PERMISSIONS}) == len(PERMISSIONS)
    assert {"owner", "admin", "operator", "analyst", "support", "viewer"} <= set(ROLES_BY_NAME)
    for name in ("keys:write", "budgets:override", "models:write", "usage:read", "members:write",
                 "audit:read", "guardrails:write"):
        assert name in {p.name for p in PERMISSIONS}


def test_tenant_decision_allows_forbids_and_hides() -> None:
    viewer = member("viewer")
    assert decide_tenant(viewer, "keys:read", "ten_a") is Decision.allow
    assert decide_tenant(viewer, "keys:write", "ten_a") is Decision.forbidden
    assert decide_tenant(viewer, "keys:read", "ten_b") is Decision.hidden
    assert decide_tenant(viewer, "keys:write", "ten_b") is Decision.hidden


def test_platform_admin_acts_in_every_tenant_and_members_not_on_the_platform() -> None:
    admin = Caller("usr_0", "admin",
                   platform_permissions=ROLES_BY_NAME["platform_admin"].permissions)
    assert decide_tenant(admin, "keys:write", "ten_any") is Decision.allow
    assert decide_platform(admin, "tenants:write") is Decision.allow
    assert decide_platform(member("owner"), "tenants:write") is Decision.forbidden
    assert decide_platform(member("owner"), "models:read") is Decision.forbidden


def test_no_escalation_admin_cannot_grant_owner() -> None:
    owner, admin = member("owner"), member("admin")
    assert may_grant(owner, "ten_a", ROLES_BY_NAME["owner"].permissions)
    assert may_grant(admin, "ten_a", ROLES_BY_NAME["operator"].permissions)
    assert not may_grant(admin, "ten_a", ROLES_BY_NAME["owner"].permissions)
    assert not may_grant(admin, "ten_b", ROLES_BY_NAME["viewer"].permissions)


def test_every_admin_route_declares_exactly_one_access_rule() -> None:
    assert declaration_problems(ROUTERS) == []


def test_an_undeclared_or_doubly_declared_route_is_reported() -> None:
    router = APIRouter()

    @router.get("/undeclared")
    async def undeclared() -> None:
        return None

    @router.get("/twice", dependencies=[require("models:read"), require("models:write")])
    async def twice() -> None:
        return None

    @router.get("/tenants/{tenant_id}/things", dependencies=[require("keys:read")])
    async def platform_rule_on_tenant_path() -> None:
        return None

    @router.get("/other", dependencies=[require_tenant("keys:read")])
    async def tenant_rule_without_tenant() -> None:
        return None

    problems = declaration_problems([router])
    assert len(problems) == 4
    assert any("/undeclared declares 0" in p for p in problems)
    assert any("/twice declares 2" in p for p in problems)


def test_openapi_and_docs_are_served_and_describe_every_route() -> None:
    from fastapi.testclient import TestClient

    from control_plane.api.access import route_rules
    from control_plane.app import create_app

    client = TestClient(create_app(sessions=None, hub=None, cipher=None, ads=None))
    spec = client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert documented == set(route_rules(ROUTERS))
    assert client.get("/docs").status_code == 200
