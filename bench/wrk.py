"""Run wrk with bench/post.lua and read the JSON line its done() hook prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA_SCRIPT = Path(__file__).resolve().parent / "post.lua"
MARKER = "BENCH_JSON "


class WrkError(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int
    errors: int
    wrk_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise WrkError("wrk is not installed; run `sudo apt-get install -y wrk` and retry")
    subprocess.run(["apt-get", "update"], check=False, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise WrkError("apt-get install wrk succeeded but wrk is not on PATH")
    return found


def threads_for(connections: int) -> int:
    return 1 if connections <= 1 else 2


def header_lines(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def parse_output(stdout: str, wrk_cpu_s: float) -> WrkResult:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            data: dict[str, Any] = json.loads(line[len(MARKER):])
            return WrkResult(
                requests=int(data["requests"]),
                duration_s=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1e3,
                p90_ms=data["p90_us"] / 1e3,
                p99_ms=data["p99_us"] / 1e3,
                max_ms=data["max_us"] / 1e3,
                non2xx=int(data["non2xx"]),
                socket_errors=int(data["socket_errors"]),
                errors=int(data["errors"]),
                wrk_cpu_s=wrk_cpu_s,
            )
    raise WrkError(f"no {MARKER.strip()} line in wrk output:\n{stdout[-2000:]}")


def run_wrk(
    url: str, body: bytes, headers: dict[str, str], connections: int, duration_s: float
) -> WrkResult:
    """One wrk run; wrk's own CPU time comes from wait4's rusage."""
    binary = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        out_file = Path(tmp) / "out.txt"
        env = {**os.environ, "BENCH_BODY_FILE": str(body_file),
               "BENCH_HEADERS": header_lines(headers)}
        argv = [binary, f"-t{threads_for(connections)}", f"-c{connections}",
                f"-d{max(1, round(duration_s))}s", "--timeout", "30s", "-s", str(LUA_SCRIPT), url]
        with out_file.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        stdout = out_file.read_text(errors="replace")
    if process.returncode != 0:
        raise WrkError(f"wrk exited with {process.returncode}:\n{stdout[-2000:]}")
    return parse_output(stdout, usage.ru_utime + usage.ru_stime)
