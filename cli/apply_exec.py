"""`omg apply` / `omg export` against the admin API: read the current config, carry out a plan.

Every change goes through the admin API, so permissions are checked and each one is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cli.admin_client import call, fetch_all
from cli.config_file import PERSONAL_PREFIX, GatewayConfig, membership_key, policy_key
from cli.plan import Change
from omg_common.settings import Settings

DEPLOYMENT_FIELDS = ("name", "model", "provider", "base_url", "upstream_model", "options",
                     "weight", "priority", "timeout_s", "context_window", "enabled",
                     "api_key_env")
MODEL_FIELDS = ("name", "owned_by", "aliases", "retry_on", "num_retries")


PRICE_FIELDS = ("input", "output", "cached_input", "reasoning")


def current_price(versions: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The version in force (versions come newest first)."""
    started = [v for v in versions if datetime.fromisoformat(v["effective_from"]) <= now]
    return {k: started[0][k] for k in PRICE_FIELDS} if started else None


def _deployment(settings: Settings, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    versions = list(fetch_all(settings, f"/api/v1/deployments/{row['id']}/prices"))
    return {**{k: row[k] for k in DEPLOYMENT_FIELDS}, "price": current_price(versions, now),
            "_fingerprint": row["credential_fingerprint"]}


def _tenant_children(
    settings: Settings, tenants: list[dict[str, Any]], users: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    memberships: dict[str, dict[str, Any]] = {}
    policies: dict[str, dict[str, Any]] = {}
    for tenant in tenants:
        name = tenant["name"]
        for m in fetch_all(settings, f"/api/v1/tenants/{tenant['id']}/members"):
            if tenant["personal_user_id"] != m["user_id"]:
                memberships[membership_key(name, m["user_name"])] = {
                    "tenant": name, "user": m["user_name"], "role": m["role"]}
        for p in fetch_all(settings, f"/api/v1/tenants/{tenant['id']}/key-policies"):
            user = users.get(p["user_id"]) if p["user_id"] else None
            policies[policy_key(name, user)] = {
                "tenant": name, "user": user, "max_keys": p["max_keys"], "max_rpm": p["max_rpm"],
                "max_tpm": p["max_tpm"], "allowed_models": sorted(p["allowed_models"]),
                "_id": p["id"]}
    return memberships, policies


def current_config(settings: Settings) -> GatewayConfig:
    user_rows = list(fetch_all(settings, "/api/v1/users"))
    tenant_rows = list(fetch_all(settings, "/api/v1/tenants"))
    users = {u["id"]: u["name"] for u in user_rows}
    memberships, policies = _tenant_children(settings, tenant_rows, users)
    now = datetime.now(UTC)
    return {
        "models": {m["name"]: {**_public(m, *MODEL_FIELDS), "aliases": sorted(m["aliases"])}
                   for m in fetch_all(settings, "/api/v1/models")},
        "deployments": {d["name"]: _deployment(settings, d, now)
                        for d in fetch_all(settings, "/api/v1/deployments")},
        "users": {u["name"]: {"name": u["name"], "email": u["email"],
                              "platform_role": u["platform_role"]} for u in user_rows},
        "tenants": {t["name"]: _public(t, "name", "rpm_limit", "tpm_limit") for t in tenant_rows
                    if not t["personal_user_id"] and not t["name"].startswith(PERSONAL_PREFIX)},
        "memberships": memberships,
        "key_policies": policies,
    }


def _public(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: fields[k] for k in names if k in fields}


def _deployment_body(change: Change) -> dict[str, Any]:
    desired = change.desired or {}
    names = DEPLOYMENT_FIELDS if change.action == "create" else change.fields
    body = _public(desired, *(n for n in names
                              if n not in ("name", "api_key", "api_key_env", "price")))
    if change.action == "create" or "api_key" in change.fields:
        body["api_key"] = desired.get("_api_key") or ""
        body["api_key_env"] = desired.get("api_key_env", "")
    if change.action == "create":
        body["name"] = desired["name"]
    return body


def _policy_body(desired: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": desired["user"], **_public(desired, "max_keys", "max_rpm", "max_tpm",
                                                  "allowed_models")}


def _requests(change: Change) -> tuple[str, str, dict[str, Any] | None]:
    d, c, key = change.desired or {}, change.current or {}, change.key
    t = d.get("tenant") or c.get("tenant")
    routes: dict[tuple[str, str], Callable[[], tuple[str, str, dict[str, Any] | None]]] = {
        ("models", "create"): lambda: ("POST", "/api/v1/models", _public(d, *MODEL_FIELDS)),
        ("models", "update"): lambda: ("PATCH", f"/api/v1/models/{key}",
                                       _public(d, *(f for f in change.fields if f != "name"))),
        ("models", "delete"): lambda: ("DELETE", f"/api/v1/models/{key}", None),
        ("deployments", "create"): lambda: ("POST", "/api/v1/deployments",
                                            _deployment_body(change)),
        ("deployments", "update"): lambda: ("PATCH", f"/api/v1/deployments/{key}",
                                            _deployment_body(change)),
        ("deployments", "delete"): lambda: ("DELETE", f"/api/v1/deployments/{key}", None),
        ("users", "create"): lambda: ("POST", "/api/v1/users",
                                      _public(d, "name", "email", "platform_role")),
        ("users", "update"): lambda: ("PATCH", f"/api/v1/users/{key}",
                                      _public(d, *change.fields)),
        ("users", "delete"): lambda: ("DELETE", f"/api/v1/users/{key}", None),
        ("tenants", "create"): lambda: ("POST", "/api/v1/tenants",
                                        _public(d, "name", "rpm_limit", "tpm_limit")),
        ("tenants", "update"): lambda: ("PUT", f"/api/v1/tenants/{key}/rate-limits",
                                        _public(d, "rpm_limit", "tpm_limit")),
        ("tenants", "delete"): lambda: ("DELETE", f"/api/v1/tenants/{key}", None),
        ("memberships", "create"): lambda: ("POST", f"/api/v1/tenants/{t}/members",
                                            {"user": d["user"], "role": d["role"]}),
        ("memberships", "update"): lambda: ("PATCH", f"/api/v1/tenants/{t}/members/{d['user']}",
                                            {"role": d["role"]}),
        ("memberships", "delete"): lambda: ("DELETE",
                                            f"/api/v1/tenants/{t}/members/{c['user']}", None),
        ("key_policies", "create"): lambda: ("PUT", f"/api/v1/tenants/{t}/key-policies",
                                             _policy_body(d)),
        ("key_policies", "update"): lambda: ("PUT", f"/api/v1/tenants/{t}/key-policies",
                                             _policy_body(d)),
        ("key_policies", "delete"): lambda: ("DELETE",
                                             f"/api/v1/tenants/{t}/key-policies/{c['_id']}", None),
    }
    return routes[(change.section, change.action)]()


def carry_out(settings: Settings, change: Change) -> None:
    method, path, body = _requests(change)
    if not (change.action == "update" and change.section == "deployments" and body == {}):
        call(settings, method, path, json=body) if body is not None else call(settings, method,
                                                                               path)
    price = (change.desired or {}).get("price")
    if change.section == "deployments" and price is not None and (
            change.action == "create" or "price" in change.fields):
        call(settings, "POST", f"/api/v1/deployments/{change.key}/prices", json=price)


def caller_name(settings: Settings) -> str:
    return str(call(settings, "GET", "/user/me")["user"]["name"])
