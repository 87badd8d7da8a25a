"""API key lifecycle through the real data plane (Envoy + ext_proc) with the openai SDK:
rotation with a grace period, expiry, allowed models, self-service revocation, last use."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import openai
import pytest

from tests.integration.conftest import Gateway, wait_for

pytestmark = pytest.mark.integration
MESSAGES = [{"role": "user", "content": "lifecycle"}]
PROPAGATION_S = 2.0  # ext_proc must honour a change within this


def works(client: openai.OpenAI, model: str = "mock-gpt") -> bool:
    try:
        client.chat.completions.create(model=model, messages=MESSAGES)  # type: ignore[arg-type]
    except (openai.AuthenticationError, openai.NotFoundError):
        return False
    return True


def refused(client: openai.OpenAI, model: str = "mock-gpt") -> bool:
    return not works(client, model)


def admin_ok(gateway: Gateway, method: str, path: str, **kwargs: Any) -> Any:
    with gateway.admin() as admin:
        response = admin.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def new_key(gateway: Gateway, **fields: Any) -> dict[str, Any]:
    key = admin_ok(gateway, "POST", "/api/v1/tenants/demo/keys", json={"name": "lc", **fields})
    wait_for(lambda: works(gateway.client(key["secret"]), *(fields.get("allowed_models") or [])),
             timeout=5)
    return key  # type: ignore[no-any-return]


def test_rotation_with_grace_keeps_the_old_secret_working_until_the_grace_ends(
    gateway: Gateway,
) -> None:
    key = new_key(gateway)
    old = gateway.client(key["secret"])
    grace = 4
    rotated = admin_ok(gateway, "POST", f"/api/v1/tenants/demo/keys/{key['id']}/rotate",
                       json={"grace_seconds": grace})
    rotated_at = time.monotonic()
    new = gateway.client(rotated["secret"])
    assert rotated["id"] == key["id"] and rotated["secret"] != key["secret"]
    wait_for(lambda: works(new), timeout=PROPAGATION_S)
    assert works(old), "the old secret works during the grace period"
    wait_for(lambda: refused(old), timeout=grace + PROPAGATION_S)
    assert time.monotonic() - rotated_at >= grace - 0.5, "not refused before the grace ended"
    assert works(new)


def test_rotation_without_grace_refuses_the_old_secret_within_two_seconds(
    gateway: Gateway,
) -> None:
    key = new_key(gateway)
    old = gateway.client(key["secret"])
    rotated = admin_ok(gateway, "POST", f"/api/v1/tenants/demo/keys/{key['id']}/rotate",
                       json={})
    wait_for(lambda: refused(old), timeout=PROPAGATION_S)
    assert works(gateway.client(rotated["secret"]))


def test_expired_key_is_refused(gateway: Gateway) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=3)
    key = new_key(gateway, expires_at=expires.isoformat())
    client = gateway.client(key["secret"])
    wait_for(lambda: refused(client), timeout=3 + PROPAGATION_S)
    with pytest.raises(openai.AuthenticationError, match="expired"):
        client.chat.completions.create(model="mock-gpt", messages=MESSAGES)  # type: ignore[arg-type]


def test_allowed_models_are_enforced_and_changes_apply_within_two_seconds(
    gateway: Gateway,
) -> None:
    other = f"lc-other-{gateway.backend}"
    admin_ok(gateway, "POST", "/api/v1/models", json={"name": other})
    key = new_key(gateway, allowed_models=["mock-gpt"])
    client = gateway.client(key["secret"])
    admin_ok(gateway, "PATCH", f"/api/v1/tenants/demo/keys/{key['id']}",
             json={"allowed_models": [other]})
    wait_for(lambda: refused(client), timeout=PROPAGATION_S)
    assert "mock-gpt" not in [m.id for m in client.models.list()]
    admin_ok(gateway, "PATCH", f"/api/v1/tenants/demo/keys/{key['id']}",
             json={"allowed_models": []})
    wait_for(lambda: works(client), timeout=PROPAGATION_S)


def test_self_service_key_is_served_then_revoked_within_two_seconds(gateway: Gateway) -> None:
    user = f"lc-user-{gateway.backend}"
    admin_ok(gateway, "POST", "/api/v1/users", json={"name": user})
    token = admin_ok(gateway, "POST", f"/api/v1/users/{user}/tokens", json={"name": "t"})
    headers = {"authorization": f"Bearer {token['secret']}"}
    key = admin_ok(gateway, "POST", "/user/api-keys", json={"name": "mine"}, headers=headers)
    client = gateway.client(key["secret"])
    wait_for(lambda: works(client), timeout=PROPAGATION_S)
    admin_ok(gateway, "DELETE", f"/user/api-keys/{key['id']}", headers=headers)
    revoked_at = time.monotonic()
    wait_for(lambda: refused(client), timeout=PROPAGATION_S)
    assert time.monotonic() - revoked_at < PROPAGATION_S


def test_last_used_at_follows_usage(gateway: Gateway) -> None:
    key = new_key(gateway)
    path = f"/api/v1/tenants/demo/keys/{key['id']}"
    used = wait_for(lambda: admin_ok(gateway, "GET", path)["last_used_at"], timeout=10)
    assert used is not None
    rotated = admin_ok(gateway, "POST", f"{path}/rotate", json={"grace_seconds": 60})
    old = gateway.client(key["secret"])
    raw = old.chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES  # type: ignore[arg-type]
    )
    [record] = wait_for(lambda: gateway.usage(raw.headers["x-request-id"]))
    assert record["api_key_id"] == key["id"], "the previous secret's use counts for its key"
    assert rotated["previous_expires_at"]
