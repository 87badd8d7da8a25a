"""`omg up` as a user runs it: starts everything, prints how to call it, supervises, stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import psutil
import pytest

from tests.conftest import free_port
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration
READY_LINE = "Press Ctrl-C to stop."


def omg_env(home: Path) -> dict[str, str]:
    ports = {name: str(free_port()) for name in (
        "LISTEN_PORT", "ADMIN_PORT", "ENVOY_ADMIN_PORT", "XDS_PORT", "EXT_PROC_PORT", "MOCK_PORT",
        "EXT_PROC_METRICS_PORT")}
    return {**os.environ, "OMG_HOME": str(home), "OMG_NODE_ID": "omg-up-test",
            **{f"OMG_{k}": v for k, v in ports.items()}}


def start_up(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up"], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    for line in process.stdout:
        lines.append(line)
        if READY_LINE in line or time.monotonic() > deadline:
            break
    return process, "".join(lines)


def omg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env=env, text=True,
                          capture_output=True, timeout=60)


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(30)


@pytest.fixture
def omg_up(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, dict[str, str]]]:
    env = omg_env(tmp_path / "home")
    process, banner = start_up(env)
    try:
        yield process, banner, env
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def chat(base_url: str, key: str) -> str | None:
    client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)
    try:
        reply = client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "hi"}]
        )
    except openai.APIError:
        return None
    return reply.choices[0].message.content


def test_omg_up_serves_supervises_and_stops(omg_up) -> None:  # type: ignore[no-untyped-def]
    process, banner, env = omg_up
    home = Path(env["OMG_HOME"])
    assert READY_LINE in banner, banner
    base_url = f"http://127.0.0.1:{env['OMG_LISTEN_PORT']}/v1"
    demo_key = (home / "demo.key").read_text().strip()
    assert base_url in banner and demo_key in banner
    assert (home / "admin.token").stat().st_mode & 0o077 == 0
    assert chat(base_url, demo_key) == "Mock response to: hi"

    # The CLI drives the admin API with the token `omg up` wrote.
    models = json.loads(omg(env, "models", "list", "-o", "json").stdout)
    assert [m["name"] for m in models["data"]] == ["mock-gpt"]
    usage = omg(env, "usage", "list", "-o", "json")
    assert usage.returncode == 0 and json.loads(usage.stdout)["data"]
    failed = omg(env, "keys", "revoke", "key_does_not_exist")
    assert failed.returncode == 1 and "not found" in failed.stderr

    # A child that dies is restarted.
    children = {c.pid: " ".join(c.cmdline()) for c in psutil.Process(process.pid).children()}
    [mock_pid] = [pid for pid, cmd in children.items() if "mock_provider" in cmd]
    os.kill(mock_pid, signal.SIGKILL)
    wait_for(lambda: chat(base_url, demo_key), timeout=20, every=0.2)
    assert process.poll() is None

    # SIGTERM stops every child and exits 0.
    pids = [c.pid for c in psutil.Process(process.pid).children()]
    assert stop(process) == 0
    wait_for(lambda: not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
                             for p in pids), timeout=5)

    # A second start reuses the seeded state.
    again, banner2 = start_up(env)
    try:
        assert READY_LINE in banner2 and demo_key in banner2
        assert chat(base_url, demo_key) == "Mock response to: hi"
    finally:
        assert stop(again) == 0


def test_omg_up_exits_non_zero_when_a_child_cannot_start(tmp_path: Path) -> None:
    env = omg_env(tmp_path / "home")
    with socket.socket() as taken:  # Envoy's admin port is in use: Envoy cannot start
        taken.bind(("127.0.0.1", int(env["OMG_ENVOY_ADMIN_PORT"])))
        taken.listen()
        result = subprocess.run([sys.executable, "-m", "cli.main", "up"], env=env, text=True,
                                capture_output=True, timeout=120)
    assert result.returncode == 1
    assert "omg up failed: envoy exited during start" in result.stderr
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
    assert not leftovers, "no child may outlive a failed start"
