"""The data path keeps serving without the control plane, and loses no usage record."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cli.gateway import gateway_specs, prepare
from cli.stack import Stack, tcp_ready
from tests.integration.conftest import Gateway, make_settings, wait_for

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


async def test_ext_proc_serves_only_after_its_first_snapshot(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", "")
    await asyncio.to_thread(prepare, settings)
    specs = {s.name: s for s in gateway_specs(settings, with_mock=False)}
    ext_proc = Stack([specs["ext_proc"]], tmp_path / "logs-ext")
    control_plane = Stack([specs["control_plane"]], tmp_path / "logs-cp")
    listening = tcp_ready("127.0.0.1", settings.ext_proc_port)
    child = ext_proc.children["ext_proc"]
    await child.start()
    try:
        await asyncio.sleep(2.0)  # no control plane yet: alive, but not serving
        assert child.process is not None and child.process.returncode is None
        assert not await listening()
        await control_plane.start()
        await child.wait_ready()
    finally:
        await ext_proc.stop()
        await control_plane.stop()
