"""Start, probe and stop the benchmark's own child processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx


class StartFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def spawn(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True,
        )


def wait_http(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0,
    any_status: bool = False,
) -> None:
    """Poll ``url`` until it answers 200 (or anything, with ``any_status``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartFailed(f"exited with {process.returncode}: {log_tail(log_path)}")
        with contextlib.suppress(httpx.HTTPError):
            status = httpx.get(url, timeout=2.0).status_code
            if any_status or status == 200:
                return
        time.sleep(0.2)
    raise StartFailed(f"not ready after {timeout:.0f}s at {url}: {log_tail(log_path)}")


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running(
    argv: Sequence[str], log_path: Path, ready_url: str, *, env: Mapping[str, str] | None = None,
    timeout: float = 60.0, any_status: bool = False, cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    process = spawn(argv, log_path, env, cwd)
    try:
        wait_http(ready_url, process, log_path, timeout, any_status)
        yield process
    finally:
        stop(process)
