"""The embedded gateway: prepare the database, then describe the processes to run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cli.envoy_config import envoy_binary, write_bootstrap
from cli.stack import ChildSpec, http_ready, python_module, tcp_ready
from control_plane.crypto import CredentialCipher, load_or_create_secret
from control_plane.db import make_engine, make_sessions, upgrade_database
from control_plane.seed import SeedResult, seed
from omg_common.settings import Settings


def mock_base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.mock_port}/v1"


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
    return {
        "OMG_HOME": str(settings.resolved_home),
        "OMG_DATABASE_URL": settings.effective_database_url,
        "OMG_LISTEN_PORT": str(settings.listen_port),
        "OMG_ADMIN_PORT": str(settings.admin_port),
        "OMG_XDS_PORT": str(settings.xds_port),
        "OMG_EXT_PROC_PORT": str(settings.ext_proc_port),
        "OMG_MOCK_PORT": str(settings.mock_port),
        "OMG_ENVOY_ADMIN_PORT": str(settings.envoy_admin_port),
        "OMG_MAX_BODY_BYTES": str(settings.max_body_bytes),
        "OMG_LOG_LEVEL": settings.log_level,
        "OMG_REDIS_URL": settings.redis_url,
        "OMG_REDIS_TIMEOUT_SECONDS": str(settings.redis_timeout_seconds),
        "OMG_RATE_LIMIT_FAILURE_MODE": settings.rate_limit_failure_mode,
        "OMG_BUDGET_FAILURE_MODE": settings.budget_failure_mode,
        **alert_env(settings),
        "PYTHONUNBUFFERED": "1",
    }


def alert_env(settings: Settings) -> dict[str, str]:
    """The control plane's alert delivery settings (SMTP included)."""
    return {
        "OMG_ALERT_INTERVAL_SECONDS": str(settings.alert_interval_seconds),
        "OMG_ALERT_RETRIES": str(settings.alert_retries),
        "OMG_ALERT_BACKOFF_SECONDS": str(settings.alert_backoff_seconds),
        "OMG_SMTP_HOST": settings.smtp_host,
        "OMG_SMTP_PORT": str(settings.smtp_port),
        "OMG_SMTP_FROM": settings.smtp_from,
        "OMG_SMTP_USER": settings.smtp_user,
        "OMG_SMTP_PASSWORD": settings.smtp_password,
        "OMG_SMTP_STARTTLS": str(settings.smtp_starttls).lower(),
    }


def ext_proc_ports(settings: Settings) -> list[int]:
    """One port per ext_proc worker, counting up from OMG_EXT_PROC_PORT."""
    return [settings.ext_proc_port + i for i in range(max(settings.ext_proc_workers, 1))]


def ext_proc_spec(settings: Settings, env: dict[str, str], index: int, port: int) -> ChildSpec:
    name = "ext_proc" if index == 0 else f"ext_proc_{index}"
    return ChildSpec(name, python_module("ext_proc.main"), tcp_ready("127.0.0.1", port),
                     {**env, "OMG_EXT_PROC_PORT": str(port)})


def gateway_specs(settings: Settings, *, with_mock: bool = True) -> list[ChildSpec]:
    env = child_env(settings)
    ports = ext_proc_ports(settings)
    bootstrap: Path = write_bootstrap(settings, ports)
    specs = [
        ChildSpec(
            "control_plane", python_module("control_plane.main"),
            http_ready(f"{settings.admin_url}/healthz"), env,
        ),
        *(ext_proc_spec(settings, env, index, port) for index, port in enumerate(ports)),
        ChildSpec(
            "envoy",
            [str(envoy_binary()), "-c", str(bootstrap), "--concurrency",
             str(settings.envoy_concurrency), "--disable-hot-restart", "--log-level", "warning"],
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
