"""The admin API on SQLite and PostgreSQL: isolation, validation, conflicts, pagination,
audit, self-service limits, token lifecycle, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.admin_api import AdminApi

pytestmark = pytest.mark.integration


async def tenant_with_owner(api: AdminApi, tenant: str, owner: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    created = await api.ok("POST", "/api/v1/tenants", json={"name": tenant})
    token = await api.user_with_token(owner)
    await api.ok("POST", f"/api/v1/tenants/{tenant}/members", json={"user": owner,
                                                                     "role": "owner"})
    return created, token


async def test_other_tenants_objects_are_404_never_403_never_listed(admin_api: AdminApi) -> None:
    api = admin_api
    acme, acme_owner = await tenant_with_owner(api, "iso-acme", "iso-alice")
    other, outsider = await tenant_with_owner(api, "iso-other", "iso-bob")
    key = await api.ok("POST", "/api/v1/tenants/iso-acme/keys", json={"name": "acme-key"})
    policy = await api.ok("PUT", "/api/v1/tenants/iso-acme/key-policies", json={"max_keys": 9})
    await api.ok("POST", "/api/v1/tenants/iso-other/keys", json={"name": "other-key"})

    for ref in (acme["id"], "iso-acme"):
        for method, path in (("GET", ""), ("GET", "/keys"), ("GET", "/members"),
                             ("GET", "/usage"), ("GET", "/audit"), ("GET", "/key-policies"),
                             ("GET", f"/keys/{key['id']}"), ("POST", f"/keys/{key['id']}/revoke"),
                             ("DELETE", "/members/iso-alice")):
            response = await api.call(method, f"/api/v1/tenants/{ref}{path}", outsider)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["message"] == f"tenant {ref!r} not found"
    # Same answer as for a tenant that does not exist: nothing to learn.
    missing = await api.call("GET", "/api/v1/tenants/iso-nope", outsider)
    assert missing.json()["error"]["message"] == "tenant 'iso-nope' not found"

    # Through the outsider's own tenant, another tenant's objects do not exist either.
    for method, path, body in (
        ("GET", f"/keys/{key['id']}", None), ("PATCH", f"/keys/{key['id']}", {"name": "x"}),
        ("POST", f"/keys/{key['id']}/rotate", {}), ("POST", f"/keys/{key['id']}/revoke", None),
        ("DELETE", f"/key-policies/{policy['id']}", None),
    ):
        response = await api.call(method, f"/api/v1/tenants/iso-other{path}", api.admin_token,
                                  json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert (await api.call("GET", f"/user/api-keys/{key['id']}", outsider)).status_code == 404

    listed = await api.ok("GET", "/api/v1/tenants/iso-other/keys", outsider)
    assert [k["name"] for k in listed["data"]] == ["other-key"]
    filtered = await api.ok("GET", "/api/v1/tenants/iso-other/usage", outsider,
                            params={"api_key_id": key["id"]})
    assert filtered["data"] == []
    audit = await api.ok("GET", "/api/v1/tenants/iso-other/audit", outsider)
    assert audit["data"] and {e["tenant_id"] for e in audit["data"]} == {other["id"]}
    assert (await api.call("GET", "/api/v1/tenants", outsider)).status_code == 403
    me = await api.ok("GET", "/user/me", acme_owner)
    assert acme["id"] in {m["tenant_id"] for m in me["memberships"]}
    assert other["id"] not in {m["tenant_id"] for m in me["memberships"]}


async def test_validation_errors_are_422_with_field_paths(admin_api: AdminApi) -> None:
    await admin_api.ok("POST", "/api/v1/tenants", json={"name": "val-t"})
    response = await admin_api.call("POST", "/api/v1/tenants/val-t/keys", json={
        "name": "ok", "rpm_limit": 0, "allowed_models": ["a", 7], "expires_at": "soon"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "validation_error"
    params = {d["param"] for d in error["details"]}
    assert {"rpm_limit", "allowed_models.1", "expires_at"} <= params
    unknown = await admin_api.call("POST", "/api/v1/tenants/val-t/keys",
                                   json={"name": "k", "allowed_models": ["no-such-model"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["param"] == "allowed_models"
    role = await admin_api.call("POST", "/api/v1/users",
                                json={"name": "val-u", "platform_role": "owner"})
    assert role.status_code == 422 and role.json()["error"]["param"] == "platform_role"


async def test_conflicts_are_409(admin_api: AdminApi) -> None:
    api = admin_api
    _, owner = await tenant_with_owner(api, "conf-t", "conf-owner")
    again = await api.call("POST", "/api/v1/tenants", json={"name": "conf-t"})
    assert again.status_code == 409 and again.json()["error"]["type"] == "conflict_error"
    twice = await api.call("POST", "/api/v1/tenants/conf-t/members",
                           json={"user": "conf-owner", "role": "viewer"})
    assert twice.status_code == 409
    last_owner = await api.call("DELETE", "/api/v1/tenants/conf-t/members/conf-owner", owner)
    assert last_owner.status_code == 409 and "at least one owner" in last_owner.text
    personal = await api.call("DELETE", "/api/v1/tenants/personal:conf-owner")
    assert personal.status_code == 409
    myself = await api.call("DELETE", "/api/v1/users/admin")
    assert myself.status_code == 409


async def test_lists_paginate_in_a_stable_order(admin_api: AdminApi) -> None:
    await admin_api.ok("POST", "/api/v1/tenants", json={"name": "page-t"})
    for i in range(5):
        await admin_api.ok("POST", "/api/v1/tenants/page-t/keys", json={"name": f"k{i}"})
    seen = []
    offset = 0
    while True:
        page = await admin_api.ok("GET", "/api/v1/tenants/page-t/keys",
                                  params={"limit": 2, "offset": offset})
        seen += [k["name"] for k in page["data"]]
        assert page["limit"] == 2 and page["offset"] == offset
        if not page["has_more"]:
            break
        offset += 2
    assert seen == [f"k{i}" for i in range(5)]
    assert page["data"][0]["created_at"].endswith("Z"), "times read back are UTC on every backend"
    bad = await admin_api.call("GET", "/api/v1/tenants/page-t/keys", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "limit"


async def test_mutations_are_audited_with_actor_ip_request_id_and_no_secrets(
    admin_api: AdminApi,
) -> None:
    api = admin_api
    tenant, owner = await tenant_with_owner(api, "aud-t", "aud-owner")
    await api.user_with_token("aud-member")
    await api.ok("POST", "/api/v1/tenants/aud-t/members",
                 json={"user": "aud-member", "role": "viewer"})
    response = await api.call("POST", "/api/v1/tenants/aud-t/keys", owner,
                              json={"name": "audited"}, headers={"x-request-id": "req-aud-1"})
    assert response.headers["x-request-id"] == "req-aud-1"
    key = response.json()
    await api.ok("POST", f"/api/v1/tenants/aud-t/keys/{key['id']}/rotate", owner,
                 json={"grace_seconds": 60})
    await api.ok("PATCH", "/api/v1/tenants/aud-t/members/aud-member", owner,
                 json={"role": "analyst"})

    events = (await api.ok("GET", "/api/v1/tenants/aud-t/audit", owner))["data"]
    actions = [e["action"] for e in events]
    assert actions[:3] == ["member.role_change", "key.rotate", "key.create"]
    created = events[2]
    assert created["actor_name"] == "aud-owner" and created["tenant_id"] == tenant["id"]
    assert created["request_id"] == "req-aud-1" and created["source_ip"]
    assert created["target_type"] == "api_key" and created["target_id"] == key["id"]
    assert created["after"]["key_hash"] == "[redacted]"
    rotated = events[1]
    assert rotated["before"]["key_hash"] == "[redacted]"
    assert rotated["after"]["previous_key_hash"] == "[redacted]"
    assert key["secret"] not in str(events)
    role_change = events[0]
    assert (role_change["before"]["role"], role_change["after"]["role"]) == ("viewer", "analyst")

    by_action = await api.ok("GET", "/api/v1/audit", params={"action": "key.rotate",
                                                             "actor": "aud-owner"})
    assert [e["target_id"] for e in by_action["data"]] == [key["id"]]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await api.ok("GET", "/api/v1/audit", params={"since": future}))["data"] == []
    assert (await api.ok("GET", "/api/v1/audit", params={"until": future, "limit": 1}))["data"]
    # Append-only: there is no way to change or remove an event.
    for method in ("PATCH", "DELETE", "PUT"):
        assert (await api.call(method, "/api/v1/audit")).status_code == 405


async def test_self_service_keys_within_the_limits_an_admin_set(admin_api: AdminApi) -> None:
    api = admin_api
    token = await api.user_with_token("self-carol")
    api_models = (await api.ok("GET", "/api/v1/models"))["data"]
    model = api_models[0]["name"]
    await api.ok("PUT", "/api/v1/tenants/personal:self-carol/key-policies",
                 json={"max_keys": 2, "max_rpm": 60, "allowed_models": [model]})

    key = await api.ok("POST", "/user/api-keys", token, json={"name": "laptop"})
    assert key["secret"].startswith("omg-") and key["user_id"]
    assert (key["rpm_limit"], key["allowed_models"]) == (60, [model])
    too_fast = await api.call("POST", "/user/api-keys", token, json={"name": "x",
                                                                     "rpm_limit": 61})
    assert too_fast.status_code == 403
    assert too_fast.json()["error"]["param"] == "rpm_limit"
    assert "limit of 60" in too_fast.json()["error"]["message"]
    raise_it = await api.call("PATCH", f"/user/api-keys/{key['id']}", token,
                              json={"rpm_limit": 1000})
    assert raise_it.status_code == 403
    # The user owns their personal tenant, yet cannot lift their own limits.
    lift = await api.call("PUT", "/api/v1/tenants/personal:self-carol/key-policies", token,
                          json={"max_keys": 100})
    assert lift.status_code == 403
    around = await api.call("POST", "/api/v1/tenants/personal:self-carol/keys", token,
                            json={"name": "around", "rpm_limit": 500})
    assert around.status_code == 403

    await api.ok("POST", "/user/api-keys", token, json={"name": "second"})
    third = await api.call("POST", "/user/api-keys", token, json={"name": "third"})
    assert third.status_code == 403 and third.json()["error"]["param"] == "max_keys"

    rotated = await api.ok("POST", f"/user/api-keys/{key['id']}/rotate", token,
                           json={"grace_seconds": 30})
    assert rotated["secret"] != key["secret"] and rotated["previous_expires_at"]
    await api.ok("DELETE", f"/user/api-keys/{key['id']}", token)
    mine = await api.ok("GET", "/user/api-keys", token, params={"include_revoked": False})
    assert [k["name"] for k in mine["data"]] == ["second"]
    await api.ok("POST", "/user/api-keys", token, json={"name": "third-after-revoke"})


async def test_tokens_expire_are_revoked_and_die_with_a_disabled_user(admin_api: AdminApi) -> None:
    api = admin_api
    await api.user_with_token("tok-dave")
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    expired = await api.ok("POST", "/api/v1/users/tok-dave/tokens",
                           json={"name": "old", "expires_at": past})
    assert (await api.call("GET", "/user/me", expired["secret"])).status_code == 401
    own = await api.ok("POST", "/user/tokens", api.tokens["tok-dave"], json={"name": "mine"})
    assert (await api.call("GET", "/user/me", own["secret"])).status_code == 200
    await api.ok("DELETE", f"/user/tokens/{own['id']}", api.tokens["tok-dave"])
    revoked = await api.call("GET", "/user/me", own["secret"])
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "invalid_token"
    await api.ok("PATCH", "/api/v1/users/tok-dave", json={"disabled": True})
    assert (await api.call("GET", "/user/me", api.tokens["tok-dave"])).status_code == 401
    assert (await api.call("GET", "/user/me", "omga-made-up")).status_code == 401


async def test_roles_are_granted_only_by_those_who_hold_them(admin_api: AdminApi) -> None:
    api = admin_api
    await tenant_with_owner(api, "esc-t", "esc-owner")
    admin_token = await api.user_with_token("esc-admin")
    await api.user_with_token("esc-eve")
    await api.ok("POST", "/api/v1/tenants/esc-t/members", json={"user": "esc-admin",
                                                                 "role": "admin"})
    owner_grant = await api.call("POST", "/api/v1/tenants/esc-t/members", admin_token,
                                 json={"user": "esc-eve", "role": "owner"})
    assert owner_grant.status_code == 403
    await api.ok("POST", "/api/v1/tenants/esc-t/members", admin_token,
                 json={"user": "esc-eve", "role": "operator"})
    demote_owner = await api.call("PATCH", "/api/v1/tenants/esc-t/members/esc-owner",
                                  admin_token, json={"role": "viewer"})
    assert demote_owner.status_code == 403
    self_promote = await api.call("PATCH", "/api/v1/tenants/esc-t/members/esc-admin",
                                  admin_token, json={"role": "owner"})
    assert self_promote.status_code == 403
    roles = (await api.ok("GET", "/api/v1/roles", admin_token))["data"]
    viewer = next(r for r in roles if r["name"] == "viewer")
    assert viewer["scope"] == "tenant" and "keys:read" in viewer["permissions"]
