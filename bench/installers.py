"""Third-party gateways and plotting live in bench/.venvs and bench/.node, never in the project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
VENVS = BENCH_DIR / ".venvs"
NODE_PREFIX = BENCH_DIR / ".node"
PORTKEY_PACKAGE = "@portkey-ai/gateway"
INSTALL_TIMEOUT = 900


class InstallFailed(RuntimeError):
    pass


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallFailed(f"{what}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise InstallFailed(f"{what} failed: {' | '.join(tail)}")


def venv_with(name: str, requirement: str, probe: str) -> Path:
    """bench/.venvs/<name> with ``requirement`` installed; returns its bin directory.

    ``probe`` is a module that must import once the requirement is in.
    """
    venv = VENVS / name
    python = venv / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(venv)], f"creating {venv}")
    check = subprocess.run([str(python), "-c", f"import {probe}"], capture_output=True)
    if check.returncode != 0:
        _run([str(python), "-m", "pip", "install", "-q", requirement], f"pip install {requirement}")
    return venv / "bin"


def litellm_bin() -> Path:
    bin_dir = venv_with("litellm", "litellm[proxy]", "litellm.proxy.proxy_server")
    binary = bin_dir / "litellm"
    if not binary.exists():
        raise InstallFailed(f"litellm installed but {binary} is missing")
    return binary


def plot_python() -> Path:
    return venv_with("plot", "matplotlib", "matplotlib") / "python"


def portkey_entry() -> Path:
    """The script named by the package's ``bin`` (build/start-server.js)."""
    package = NODE_PREFIX / "node_modules" / PORTKEY_PACKAGE
    entry = package / "build" / "start-server.js"
    if not entry.exists():
        _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_PREFIX),
              PORTKEY_PACKAGE], f"npm install {PORTKEY_PACKAGE}")
    if not entry.exists():
        raise InstallFailed(f"{PORTKEY_PACKAGE} installed but {entry} is missing")
    return entry
