"""What the benchmark ran on: hardware and the versions of the software under test."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil

from bench.installers import NODE_PREFIX, PORTKEY_PACKAGE, VENVS


def _first_line(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _pip_version(venv: str, package: str) -> str | None:
    python = VENVS / venv / "bin" / "python"
    if not python.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return _first_line([str(python), "-c", code])


def _portkey_version() -> str | None:
    manifest = NODE_PREFIX / "node_modules" / PORTKEY_PACKAGE / "package.json"
    if not manifest.exists():
        return None
    import json

    return str(json.loads(manifest.read_text()).get("version"))


def machine_info() -> dict[str, Any]:
    from cli.envoy_config import envoy_binary

    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "logical_cpus": psutil.cpu_count(),
        "physical_cpus": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "wrk": _first_line(["wrk", "-v"]),
        "envoy": _first_line([str(envoy_binary()), "--version"]),
        "node": _first_line(["node", "--version"]),
        "litellm": _pip_version("litellm", "litellm"),
        "portkey_gateway": _portkey_version(),
    }
