"""The data path keeps serving without the control plane, and loses no usage record."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.conftest import Gateway, wait_for

pytestmark = pytest.mark.integration

MESSAGES = [{"role": "user", "content": "count me once"}]


def _chat_request_id(gateway: Gateway) -> str:
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES  # type: ignore[arg-type]
    )
    return str(raw.headers["x-request-id"])


async def test_usage_survives_control_plane_restart_exactly_once(gateway: Gateway) -> None:
    await gateway.stack.stop_child("control_plane")
    try:
        # ext_proc serves from its last snapshot, Envoy from its last xDS config.
        request_ids = [await asyncio.to_thread(_chat_request_id, gateway) for _ in range(20)]
        await asyncio.sleep(0.5)  # let ext_proc try (and fail) to deliver: they are spooled
    finally:
        await gateway.stack.start_child("control_plane")

    def all_delivered() -> list[list[dict[str, object]]] | None:
        found = [gateway.usage(rid) for rid in request_ids]
        return found if all(found) else None

    records = await asyncio.to_thread(wait_for, all_delivered, 15.0, 0.2)
    assert all(len(r) == 1 for r in records), "each record stored exactly once"
    assert {r[0]["request_id"] for r in records} == set(request_ids)
    # After the restart, the config stream is back: a new request still works and is recorded.
    request_id = await asyncio.to_thread(_chat_request_id, gateway)
    await asyncio.to_thread(wait_for, lambda: gateway.usage(request_id), 10.0)
