"""Every role x every admin endpoint, allowed and denied, generated from the declarations.

The endpoints and the permission each needs are read from the routes themselves
(`route_rules(ROUTERS)`), the expected outcome from the role catalog. A new endpoint shows up
here on its own; one without a declaration fails `test_every_route_declares_its_access`.

Requests are built so that an allowed call changes nothing: bodies are invalid (422 after the
access check), objects in paths do not exist (404 for the object, not for the tenant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from control_plane.api.access import AccessRule, declaration_problems, route_rules
from control_plane.app import ROUTERS
from control_plane.rbac_catalog import PLATFORM_ADMIN_ROLE, ROLES, TENANT
from tests.integration.admin_api import AdminApi

pytestmark = pytest.mark.integration

ROLE_PERMISSIONS = {role.name: role.permissions for role in ROLES}
TENANT_ROLES = [role.name for role in ROLES if role.scope == TENANT]
RULES = {route: rules[0] for route, rules in route_rules(ROUTERS).items() if len(rules) == 1}
MISSING = {"key_id": "key_matrix_missing", "user": "matrix-nobody", "token_id": "pat_missing",
           "policy_id": "kpl_missing", "model": "matrix-no-model",
           "deployment": "matrix-no-deployment", "provider": "openrouter",
           "sli_id": "sli_missing",
           "budget_id": "bud_missing", "override_id": "bov_missing", "channel_id": "ach_missing"}


@dataclass(frozen=True)
class Principal:
    name: str
    token: str | None
    platform_role: str | None = None
    tenant_role: str | None = None  # role in the matrix tenant; None: not a member


def expected(principal: Principal, rule: AccessRule) -> str:
    if rule.scope == "public":
        return "allow"
    if principal.token is None:
        return "unauthenticated"
    if rule.scope == "user":
        return "allow"
    platform = ROLE_PERMISSIONS.get(principal.platform_role or "", frozenset())
    if rule.scope == "platform":
        return "allow" if rule.permission in platform else "forbidden"
    if principal.tenant_role is None and "tenants:read" not in platform:
        return "hidden"
    granted = ROLE_PERMISSIONS.get(principal.tenant_role or "", frozenset()) | platform
    return "allow" if rule.permission in granted else "forbidden"


def outcome(response: httpx.Response) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if response.status_code in (401, 403):
        return {401: "unauthenticated", 403: "forbidden"}[response.status_code]
    message = response.json()["error"]["message"] if response.status_code == 404 else ""
    return "hidden" if message.startswith("tenant ") else "allow"


def concrete_path(path: str, tenant_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "tenant_id":
            return tenant_id
        assert name in MISSING, f"the matrix needs a value for path parameter {{{name}}}"
        return MISSING[name]

    return re.sub(r"\{(\w+)\}", value, path)


@pytest.fixture(scope="session")
async def principals(admin_api: AdminApi) -> tuple[list[Principal], str]:
    tenant = await admin_api.ok("POST", "/api/v1/tenants", json={"name": "matrix"})
    found = [Principal("anonymous", None), Principal("platform_admin", admin_api.admin_token,
                                                     platform_role=PLATFORM_ADMIN_ROLE)]
    for role in TENANT_ROLES:
        token = await admin_api.user_with_token(f"matrix-{role}")
        await admin_api.ok("POST", f"/api/v1/tenants/{tenant['id']}/members",
                           json={"user": f"matrix-{role}", "role": role})
        found.append(Principal(role, token, tenant_role=role))
    found.append(Principal("outsider", await admin_api.user_with_token("matrix-outsider")))
    return found, tenant["id"]


async def _call(
    api: AdminApi, method: str, path: str, principal: Principal, tenant_id: str, n: int
) -> httpx.Response:
    if method == "DELETE" and path == "/api/v1/tenants/{tenant_id}":
        # Deleting the tenant is the one call that would break the matrix: use a spare one.
        spare = await api.ok("POST", "/api/v1/tenants", json={"name": f"matrix-spare-{n}"})
        tenant_id = spare["id"]
        if principal.tenant_role:
            await api.ok("POST", f"/api/v1/tenants/{tenant_id}/members",
                         json={"user": f"matrix-{principal.tenant_role}",
                               "role": principal.tenant_role})
    body = {"json": {"matrix_probe": True}} if method in ("POST", "PUT", "PATCH") else {}
    return await api.call(method, concrete_path(path, tenant_id), principal.token or "", **body)


def test_every_route_declares_its_access() -> None:
    assert declaration_problems(ROUTERS) == []
    assert len(RULES) == len(route_rules(ROUTERS)) > 40


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_role_matrix(
    route: tuple[str, str], admin_api: AdminApi, principals: tuple[list[Principal], str]
) -> None:
    method, path = route
    rule = RULES[route]
    people, tenant_id = principals
    mismatches = []
    for n, principal in enumerate(people):
        response = await _call(admin_api, method, path, principal, tenant_id, n)
        want, got = expected(principal, rule), outcome(response)
        if want != got:
            mismatches.append(f"{principal.name}: expected {want}, got {got} "
                              f"({response.status_code} {response.text[:120]})")
    assert not mismatches, f"{method} {path} needs {rule}:\n" + "\n".join(mismatches)


def test_matrix_covers_allowed_and_denied_for_every_tenant_role() -> None:
    """Each tenant role is allowed somewhere and denied somewhere (the matrix is not vacuous)."""
    for role in TENANT_ROLES:
        member = Principal(role, "t", tenant_role=role)
        outcomes = {expected(member, rule) for rule in RULES.values()}
        assert {"allow", "forbidden"} <= outcomes, role
