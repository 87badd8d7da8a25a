"""Starts and supervises the gateway's processes: mock provider, control plane, ext_proc, Envoy.

Used by `omg up` and by the integration tests alike. A child that dies is restarted (a few
times within a window); past that the whole stack stops and reports why: never half-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

log = logging.getLogger("omg.stack")

ReadyCheck = Callable[[], Awaitable[bool]]
RESTARTS_ALLOWED = 3
RESTART_WINDOW_SECONDS = 60.0


class StackFailed(RuntimeError):
    pass


def http_ready(url: str) -> ReadyCheck:
    async def check() -> bool:
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def tcp_ready(host: str, port: int) -> ReadyCheck:
    async def check() -> bool:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    return check


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    ready: ReadyCheck
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout: float = 60.0


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def log_tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Child:
    def __init__(self, spec: ChildSpec, log_dir: Path) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.restarts: list[float] = []

    async def start(self) -> None:
        env = {**os.environ, **self.spec.env}
        with self.log_path.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                *self.spec.argv, stdout=out, stderr=out, env=env, start_new_session=True
            )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + self.spec.ready_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.returncode is not None:
                raise StackFailed(self.failure("exited during start"))
            if await self.spec.ready():
                return
            await asyncio.sleep(0.1)
        raise StackFailed(self.failure(f"not ready after {self.spec.ready_timeout:.0f}s"))

    def failure(self, what: str) -> str:
        code = self.process.returncode if self.process else None
        return (f"{self.spec.name} {what} (exit code {code}); last lines of {self.log_path}:\n"
                f"{log_tail(self.log_path)}")

    async def stop(self, timeout: float = 10.0) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    def may_restart(self, now: float) -> bool:
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_SECONDS]
        return len(self.restarts) < RESTARTS_ALLOWED


class Stack:
    def __init__(self, specs: list[ChildSpec], log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.children = {spec.name: Child(spec, log_dir) for spec in specs}

    async def start(self) -> None:
        for child in self.children.values():
            await child.start()
            try:
                await child.wait_ready()
            except StackFailed:
                await self.stop()
                raise

    async def stop(self) -> None:
        for child in reversed(self.children.values()):
            await child.stop()

    async def stop_child(self, name: str) -> None:
        await self.children[name].stop()

    async def start_child(self, name: str) -> None:
        child = self.children[name]
        await child.start()
        await child.wait_ready()

    async def supervise(self) -> None:
        """Restart children that die; raise StackFailed once one keeps dying."""
        while True:
            await asyncio.sleep(0.2)
            for child in self.children.values():
                process = child.process
                if process is None or process.returncode is None:
                    continue
                await self._restart(child)

    async def _restart(self, child: Child) -> None:
        now = time.monotonic()
        if not child.may_restart(now):
            raise StackFailed(child.failure(f"died {RESTARTS_ALLOWED + 1} times in a minute"))
        log.warning(child.failure("died; restarting"))
        child.restarts.append(now)
        await child.start()
        await child.wait_ready()
