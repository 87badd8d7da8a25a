"""The ext_proc server's event loop: uvloop when enabled and installed, else asyncio's own.

Most of ext_proc's CPU goes to gRPC aio and asyncio scheduling per message, not to the
pipeline (bench/results/PROFILE.md); uvloop's cheaper scheduling measurably lowers it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def run(main: Coroutine[Any, Any, None], use_uvloop: bool) -> None:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(main)
            return
    asyncio.run(main)
