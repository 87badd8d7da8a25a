"""The embedded gateway: prepare the database, then describe the processes to run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cli.envoy_config import envoy_binary, write_bootstrap
from cli.stack import ChildSpec, http_ready, python_module, tcp_ready
from control_plane.crypto import CredentialCipher, load_or_create_secret
from control_plane.db import make_engine, make_sessions, upgrade_database
from control_plane.seed import SeedResult, seed
from ext_proc.metrics_server import MULTIPROC_ENV, reset_multiprocess_dir
from omg_common.settings import Settings


def mock_base_url(settings: Settings) -> str:
    return f"http://{settings.mock_host}:{settings.mock_port}/v1"


async def _seed(settings: Settings) -> SeedResult:
    engine = make_engine(settings.effective_database_url)
    try:
        secret = load_or_create_secret(settings.secret_key, settings.resolved_home)
        cipher = CredentialCipher(secret)
        async with make_sessions(engine)() as session:
            return await seed(session, settings.resolved_home, cipher, mock_base_url(settings))
    finally:
        await engine.dispose()


def prepare(settings: Settings) -> SeedResult:
    """Migrate to head and seed the demo objects on first start (blocking)."""
    settings.resolved_home.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.effective_database_url)
    return asyncio.run(_seed(settings))


def child_env(settings: Settings) -> dict[str, str]:
    """Pin every child to the same settings, whatever their own environment says."""
    env = {f"OMG_{name.upper()}": str(value)
           for name, value in settings.model_dump().items() if value is not None}
    env["OMG_HOME"] = str(settings.resolved_home)
    env["OMG_DATABASE_URL"] = settings.effective_database_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ext_proc_ports(settings: Settings) -> list[int]:
    """One port per ext_proc worker, counting up from OMG_EXT_PROC_PORT."""
    return [settings.ext_proc_port + i for i in range(max(settings.ext_proc_workers, 1))]


def envoy_argv(settings: Settings, bootstrap: Path) -> list[str]:
    return [str(envoy_binary()), "-c", str(bootstrap), "--concurrency",
            str(settings.envoy_concurrency), "--disable-hot-restart", "--log-level", "warning"]


def ext_proc_metrics_dir(settings: Settings) -> Path:
    return settings.resolved_home / "metrics" / "ext_proc"


def ext_proc_spec(settings: Settings, env: dict[str, str], index: int, port: int) -> ChildSpec:
    """Workers share one multiprocess metrics folder; the first one serves the sum."""
    name = "ext_proc" if index == 0 else f"ext_proc_{index}"
    metrics = {MULTIPROC_ENV: str(ext_proc_metrics_dir(settings))}
    if index:
        metrics["OMG_EXT_PROC_METRICS_PORT"] = "0"
    return ChildSpec(name, python_module("ext_proc.main"), tcp_ready("127.0.0.1", port),
                     {**env, "OMG_EXT_PROC_PORT": str(port), **metrics})


def gateway_specs(settings: Settings, *, with_mock: bool = True) -> list[ChildSpec]:
    env = child_env(settings)
    ports = ext_proc_ports(settings)
    bootstrap: Path = write_bootstrap(settings, ports)
    reset_multiprocess_dir(ext_proc_metrics_dir(settings))
    specs = [
        ChildSpec(
            "control_plane", python_module("control_plane.main"),
            http_ready(f"{settings.admin_url}/healthz"), env,
        ),
        *(ext_proc_spec(settings, env, index, port) for index, port in enumerate(ports)),
        ChildSpec(
            "envoy", envoy_argv(settings, bootstrap),
            http_ready(f"http://127.0.0.1:{settings.envoy_admin_port}/ready"), env,
        ),
    ]
    if with_mock:
        mock = ChildSpec(
            "mock_provider",
            python_module("mock_provider", "--port", str(settings.mock_port)),
            http_ready(f"http://127.0.0.1:{settings.mock_port}/healthz"), env,
        )
        specs.insert(0, mock)
    return specs
