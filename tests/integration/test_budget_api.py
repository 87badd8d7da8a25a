"""Budgets in the admin API on SQLite and PostgreSQL: spend from usage records for each
scope, seeds in the config snapshot, isolation, and alerts that fire once across restarts."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from control_plane.alerting.deliver import SmtpSettings
from control_plane.alerting.dispatch import AlertDispatcher
from control_plane.budget_alerts import BudgetAlertJob
from control_plane.crypto import CredentialCipher
from control_plane.usage_store import store_usage
from protos import usage_pb2
from tests.integration.admin_api import AdminApi

pytestmark = pytest.mark.integration


async def spend(api: AdminApi, tenant_id: str, key_id: str, *costs: int) -> None:
    now_ms = int(time.time() * 1000)
    records = [usage_pb2.UsageRecord(request_id=uuid.uuid4().hex, created_at_ms=now_ms,
                                     tenant_id=tenant_id, api_key_id=key_id, status=200,
                                     cost_pico=c) for c in costs]
    async with api.sessions() as session:
        await store_usage(session, records)


async def setup_tenant(api: AdminApi) -> tuple[dict[str, Any], dict[str, Any], str]:
    tenant = await api.ok("POST", "/api/v1/tenants", json={"name": f"bud-{uuid.uuid4().hex[:6]}"})
    name = f"spender-{uuid.uuid4().hex[:6]}"
    user = await api.ok("POST", "/api/v1/users", json={"name": name})
    await api.ok("POST", f"/api/v1/tenants/{tenant['id']}/members",
                 json={"user": name, "role": "viewer"})
    key = await api.ok("POST", f"/api/v1/tenants/{tenant['id']}/keys",
                       json={"name": "k", "user_id": user["id"]})
    return tenant, key, user["id"]


async def test_spend_per_scope_and_seeds_in_the_snapshot(admin_api: AdminApi) -> None:
    tenant, key, user_id = await setup_tenant(admin_api)
    other = await admin_api.ok("POST", f"/api/v1/tenants/{tenant['id']}/keys",
                               json={"name": "service"})
    big = 5 * 10**15  # beyond a double's exact range once summed: sums stay exact
    await spend(admin_api, tenant["id"], key["id"], big, big + 1, 3)
    await spend(admin_api, tenant["id"], other["id"], 10)
    base = f"/api/v1/tenants/{tenant['id']}/budgets"
    made = {}
    for scope, subject in (("key", key["id"]), ("user", user_id), ("tenant", "")):
        made[scope] = await admin_api.ok("POST", base, json={
            "scope": scope, "subject_id": subject, "limit_usd": "100000", "period": "monthly",
            "timezone": "Europe/Berlin"})
    expected = {"key": 2 * big + 4, "user": 2 * big + 4, "tenant": 2 * big + 14}
    assert {s: b["spent_pico"] for s, b in made.items()} == expected
    assert made["tenant"]["spent_usd"] == "10000.000000000014"
    seeds = admin_api.hub.state.budgets
    assert {s: seeds[b["id"]].seed_spent_pico for s, b in made.items()} == expected
    listed = await admin_api.ok("GET", base)
    assert {b["id"] for b in listed} == {b["id"] for b in made.values()}

    again = await admin_api.call("POST", base, json={"scope": "key", "subject_id": key["id"],
                                                     "limit_usd": "1", "period": "monthly"})
    assert again.status_code == 409
    bad = await admin_api.call("POST", base, json={"scope": "tenant", "limit_usd": "1",
                                                   "period": "daily", "timezone": "Mars/Base"})
    assert bad.status_code == 422


async def test_another_tenants_budget_is_not_found(admin_api: AdminApi) -> None:
    tenant, key, _ = await setup_tenant(admin_api)
    made = await admin_api.ok("POST", f"/api/v1/tenants/{tenant['id']}/budgets", json={
        "scope": "key", "subject_id": key["id"], "limit_usd": "1", "period": "daily"})
    stranger, _, _ = await setup_tenant(admin_api)
    found = await admin_api.call("GET",
                                 f"/api/v1/tenants/{stranger['id']}/budgets/{made['id']}")
    assert found.status_code == 404
    owner = await admin_api.user_with_token(f"owner-{uuid.uuid4().hex[:6]}")
    hidden = await admin_api.call("GET", f"/api/v1/tenants/{tenant['id']}/budgets", token=owner)
    assert hidden.status_code == 404  # not a member: the tenant does not exist for them


async def test_a_threshold_fires_once_even_after_a_restart(admin_api: AdminApi) -> None:
    tenant, key, _ = await setup_tenant(admin_api)
    made = await admin_api.ok("POST", f"/api/v1/tenants/{tenant['id']}/budgets", json={
        "scope": "key", "subject_id": key["id"], "limit_usd": "0.000000001000",
        "period": "daily", "soft_thresholds": [50]})
    await spend(admin_api, tenant["id"], key["id"], 600)  # 60%: the 50% threshold

    def job() -> BudgetAlertJob:  # a fresh control plane: nothing in memory
        dispatcher = AlertDispatcher(admin_api.sessions, CredentialCipher("x"),
                                     SmtpSettings("", 25, "omg@test"), retries=1)
        return BudgetAlertJob(admin_api.sessions, dispatcher)

    assert await job().tick() == 1
    assert await job().tick() == 0  # dedup is in the database
    first = job()
    first.touch_all()
    assert await first.tick() == 0
    alerts = await admin_api.ok("GET", f"/api/v1/tenants/{tenant['id']}/alerts")
    assert [a["payload"]["data"]["threshold_percent"] for a in alerts] == [50]
    assert alerts[0]["payload"]["data"]["budget_id"] == made["id"]
    assert datetime.fromisoformat(alerts[0]["created_at"]) <= datetime.now(UTC)
