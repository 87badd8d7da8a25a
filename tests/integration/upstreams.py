"""Upstreams the fail-over tests start: mock and fake providers in their own processes (knobs
per process, so each deployment fails its own way) and a TCP server that resets connections."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import free_port
from tests.integration.conftest import wait_for


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def upstream_process(module_args: list[str], env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `python -m <module_args> --port P`; yield http://127.0.0.1:P."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", *module_args, "--port", str(port)],
        env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _healthy(port), timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(5)


def mock(**knobs: str) -> Iterator[str]:  # type: ignore[misc]
    """The OpenAI-compatible mock; knobs as OMG_MOCK_* (e.g. error_status="500")."""
    env = {f"OMG_MOCK_{name.upper()}": value for name, value in knobs.items()}
    return upstream_process(["mock_provider"], env)  # type: ignore[return-value]


def fake(provider: str) -> Iterator[str]:  # type: ignore[misc]
    return upstream_process(["fake_providers", provider])  # type: ignore[return-value]


@contextmanager
def resetting_server() -> Iterator[str]:
    """Accepts connections and resets them at once (RST, no response)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def refused_url() -> str:
    """A port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"
