"""Rate limits through the real Envoy with the openai SDK (embedded mode: memory counters)."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest

from tests.integration.conftest import Gateway, wait_for, wait_until_known
from tests.integration.redis_server import wait_for_fresh_window

pytestmark = pytest.mark.integration
MESSAGES: Any = [{"role": "user", "content": "count me"}]
HEADERS = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
           "x-ratelimit-reset-requests")


def admin_ok(gateway: Gateway, method: str, path: str, **kwargs: Any) -> Any:
    with gateway.admin() as admin:
        response = admin.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def live_key(gateway: Gateway, tenant: str = "demo", **fields: Any) -> openai.OpenAI:
    """A new key, once ext_proc knows it (/v1/models is never rate limited)."""
    key = admin_ok(gateway, "POST", f"/api/v1/tenants/{tenant}/keys",
                   json={"name": "rl", **fields})
    client = gateway.client(key["secret"])
    wait_until_known(client)
    return client


def chat(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES, **kwargs)


def test_over_the_rpm_limit_is_openais_429_with_retry_after(gateway: Gateway) -> None:
    wait_for_fresh_window(10)
    client = live_key(gateway, rpm_limit=2)
    first = chat(client)
    second = chat(client, stream=True)  # streamed responses carry the headers too
    for raw, remaining in ((first, "1"), (second, "0")):
        assert raw.headers["x-ratelimit-limit-requests"] == "2"
        assert raw.headers["x-ratelimit-remaining-requests"] == remaining
        assert raw.headers["x-ratelimit-reset-requests"].endswith("s")
        assert "x-ratelimit-limit-tokens" not in raw.headers  # no token limit applies
    list(second.parse())
    with pytest.raises(openai.RateLimitError) as info:
        chat(client)
    response = info.value.response
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("requests", "rate_limit_exceeded",
                                                              None)
    assert error["message"].startswith("Rate limit reached for key ")


def test_a_key_without_limits_gets_no_ratelimit_headers(gateway: Gateway) -> None:
    raw = chat(gateway.client())
    assert not [h for h in raw.headers if h.startswith("x-ratelimit-")]


def test_tokens_are_reserved_then_settled_to_the_real_usage(gateway: Gateway) -> None:
    wait_for_fresh_window(10)
    client = live_key(gateway, tpm_limit=1000)
    first = chat(client, max_tokens=600)
    remaining = int(first.headers["x-ratelimit-remaining-tokens"])
    estimate = 1000 - remaining
    assert estimate > 600, "the reservation covers max_tokens plus the prompt"
    real = first.parse().usage.total_tokens
    time.sleep(0.3)  # settling happens after the response, off the request's path
    # Without settling, a second reservation of the same size would not fit (2 x 600 > 1000).
    second = chat(client, max_tokens=600)
    assert int(second.headers["x-ratelimit-remaining-tokens"]) == 1000 - real - estimate


def test_tenant_limit_is_shared_by_its_keys_set_through_the_api_and_audited(
    gateway: Gateway,
) -> None:
    name = f"rl-tenant-{gateway.backend}"
    tenant = admin_ok(gateway, "POST", "/api/v1/tenants", json={"name": name})
    updated = admin_ok(gateway, "PUT", f"/api/v1/tenants/{name}/rate-limits",
                       json={"rpm_limit": 3})
    assert (updated["rpm_limit"], updated["tpm_limit"]) == (3, None)
    wait_for_fresh_window(10)
    a, b = live_key(gateway, name), live_key(gateway, name)
    chat(a), chat(b)
    assert chat(a).headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(openai.RateLimitError, match="tenant"):
        chat(b)
    audit = admin_ok(gateway, "GET", "/api/v1/audit",
                     params={"action": "tenant.rate_limits", "tenant_id": tenant["id"]})
    assert [e["after"]["rpm_limit"] for e in audit["data"]] == [3]
    admin_ok(gateway, "PUT", f"/api/v1/tenants/{name}/rate-limits", json={})
    wait_for(lambda: "x-ratelimit-limit-requests" not in chat(b).headers, timeout=3)
