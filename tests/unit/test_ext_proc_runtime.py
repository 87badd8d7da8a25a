"""ext_proc's event loop choice: uvloop when enabled, asyncio's own otherwise."""

from __future__ import annotations

import asyncio

import uvloop

from ext_proc.runtime import run


def loop_type(use_uvloop: bool) -> type:
    seen: list[type] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()))

    run(main(), use_uvloop)
    return seen[0]


def test_uvloop_when_enabled() -> None:
    assert loop_type(True) is uvloop.Loop


def test_asyncio_loop_when_disabled() -> None:
    assert not issubclass(loop_type(False), uvloop.Loop)
