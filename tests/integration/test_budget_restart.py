"""Memory mode (no Redis): a budget's spend survives an ext_proc restart.

ext_proc keeps budget counters in process memory; on (re)connecting it gets a full config
snapshot whose budgets carry what the usage records say was spent in the current period, and
a counter it does not hold yet starts from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cli.gateway import gateway_specs, prepare
from cli.stack import Stack
from omg_common.settings import Settings
from tests.integration.conftest import make_settings, wait_for

pytestmark = pytest.mark.integration
BODY = {"model": "mock-gpt", "messages": [{"role": "user", "content": "restart"}],
        "max_tokens": 5}


@pytest.fixture(scope="module")
async def memory_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Settings, Stack, str]]:
    home = tmp_path_factory.mktemp("omg-budget-restart")
    settings = make_settings(home, "")
    seeded = await asyncio.to_thread(prepare, settings)
    stack = Stack(gateway_specs(settings), home / "logs")
    await stack.start()
    try:
        yield settings, stack, seeded.admin_token
    finally:
        await stack.stop()


async def test_spend_survives_an_ext_proc_restart_in_memory_mode(
    memory_stack: tuple[Settings, Stack, str],
) -> None:
    settings, stack, token = memory_stack
    admin = httpx.AsyncClient(base_url=settings.admin_url, timeout=30,
                              headers={"authorization": f"Bearer {token}"})

    async def ok(method: str, path: str, **kwargs: Any) -> Any:
        response = await admin.request(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    await ok("POST", "/api/v1/deployments/mock-gpt-local/prices",
             json={"input": "1000", "output": "1000"})
    key = await ok("POST", "/api/v1/tenants/demo/keys", json={"name": "restart"})
    made = await ok("POST", "/api/v1/tenants/demo/budgets",
                    json={"scope": "key", "subject_id": key["id"], "limit_usd": "0.1",
                          "period": "monthly", "soft_thresholds": []})
    gateway = httpx.AsyncClient(base_url=settings.gateway_url, timeout=30,
                                headers={"authorization": f"Bearer {key['secret']}"})

    async def send() -> httpx.Response:
        return await gateway.post("/chat/completions", json=BODY)

    async def until_refused() -> int:
        for sent in range(1, 200):
            response = await send()
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "budget_exceeded"
                return sent
            assert response.status_code == 200, response.text
        raise AssertionError("the budget never ran out")

    await asyncio.sleep(0.3)  # the key and its budget reach ext_proc
    sent = await until_refused()
    assert sent > 2

    async def stored() -> list[dict[str, Any]]:
        page = await ok("GET", "/api/v1/usage", params={"api_key_id": key["id"], "limit": 1000})
        return list(page["data"])

    for _ in range(100):  # every record reached the database
        if len(await stored()) == sent:
            break
        await asyncio.sleep(0.1)
    spent = sum(r["cost_pico"] for r in await stored())
    assert (await ok("GET", f"/api/v1/tenants/demo/budgets/{made['id']}"))["spent_pico"] == spent

    await stack.stop_child("ext_proc")
    await stack.start_child("ext_proc")
    wait_for(lambda: httpx.get(f"{settings.gateway_url}/models", timeout=5, headers={
        "authorization": f"Bearer {key['secret']}"}).is_success, timeout=10)
    after = await send()
    assert after.status_code == 429, after.text  # not a fresh, empty counter
    assert after.json()["error"]["code"] == "budget_exceeded"
    await admin.aclose()
    await gateway.aclose()
