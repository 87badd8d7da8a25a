"""When a shared counter store cannot answer: the policy both the rate limiter and the budget
guard follow, and the background tasks that settle reservations off the request's path.

`failure_mode` "open" serves the request unchecked, "closed" raises the caller's refusal.
Either way the request is counted in `unavailable` and a warning is logged at most every
`warn_every_s`. After a failure the store is left alone for `cooldown_s`, so an outage costs
one timeout, not one per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from ext_proc import errors

FailureMode = Literal["open", "closed"]


class OutagePolicy:
    def __init__(
        self, what: str, failure_mode: FailureMode, refusal: Callable[[], errors.GatewayError],
        log: logging.Logger, cooldown_s: float = 1.0, warn_every_s: float = 10.0,
    ) -> None:
        self._what = what
        self.failure_mode = failure_mode
        self._refusal = refusal
        self._log = log
        self._cooldown_s = cooldown_s
        self._warn_every_s = warn_every_s
        self._down_until = 0.0
        self._last_warning = -warn_every_s
        self.unavailable = 0  # requests decided without the store (an operator signal)

    @property
    def cooling_down(self) -> bool:
        return time.monotonic() < self._down_until

    def failed(self, reason: str) -> None:
        """The store just failed: stay away for the cool-down, then decide."""
        self._down_until = time.monotonic() + self._cooldown_s
        self.decide(reason)

    def decide(self, reason: str) -> None:
        """Count and (now and then) log the request; raise the refusal when failing closed."""
        self.unavailable += 1
        now = time.monotonic()
        if now - self._last_warning >= self._warn_every_s:
            self._last_warning = now
            self._log.warning("%s unavailable (%s); failing %s (%d requests so far)",
                              self._what, reason, self.failure_mode, self.unavailable)
        if self.failure_mode == "closed":
            raise self._refusal()


class Settlements:
    """Fire-and-forget settlement tasks, kept referenced and awaited at close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
