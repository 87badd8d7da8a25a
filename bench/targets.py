"""The systems under test. Each launcher starts one target in front of the shared mock provider
and yields an Endpoint: the chat-completions URL, the headers it needs and its processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from bench import installers, procs

BENCH_DIR = Path(__file__).resolve().parent
CHAT_PATH = "/v1/chat/completions"
MODEL = "mock-gpt"
LITELLM_MASTER_KEY = "sk-bench-master-key"


class TargetUnavailable(RuntimeError):
    """The target could not be installed or started; the run records it and goes on."""


@dataclass(frozen=True)
class Context:
    mock_port: int
    work_dir: Path

    @property
    def mock_base(self) -> str:
        return f"http://127.0.0.1:{self.mock_port}/v1"


@dataclass(frozen=True)
class Endpoint:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)  # the target's own, not the mock's
    notes: str = ""
    envoy_admin: str = ""  # the gateway's Envoy admin URL, for ext_proc message counts


Launcher = Callable[[Context], AbstractContextManager[Endpoint]]


@contextlib.contextmanager
def mock_provider(port: int, work_dir: Path) -> Iterator[int]:
    """The built-in mock provider every target talks to; yields its pid."""
    log = work_dir / "logs" / "mock_provider.log"
    argv = [sys.executable, "-m", "mock_provider", "--port", str(port)]
    with procs.running(argv, log, f"http://127.0.0.1:{port}/healthz") as process:
        yield process.pid


@contextlib.contextmanager
def direct(ctx: Context) -> Iterator[Endpoint]:
    yield Endpoint(url=f"http://127.0.0.1:{ctx.mock_port}{CHAT_PATH}")


def render_envoy_only(listen_port: int, admin_port: int, mock_port: int) -> str:
    template = Template((BENCH_DIR / "envoy_only.yaml").read_text())
    return template.substitute(listen_port=listen_port, admin_port=admin_port,
                               mock_port=mock_port)


@contextlib.contextmanager
def envoy_only(ctx: Context) -> Iterator[Endpoint]:
    from cli.envoy_config import envoy_binary
    from omg_common.settings import Settings

    port, admin = procs.free_port(), procs.free_port()
    config = ctx.work_dir / "envoy-only.yaml"
    config.write_text(render_envoy_only(port, admin, ctx.mock_port))
    argv = [str(envoy_binary()), "-c", str(config), "--concurrency",
            str(Settings().envoy_concurrency), "--disable-hot-restart", "--log-level", "warning"]
    log = ctx.work_dir / "logs" / "envoy-only.log"
    with procs.running(argv, log, f"http://127.0.0.1:{admin}/ready") as process:
        yield Endpoint(url=f"http://127.0.0.1:{port}{CHAT_PATH}", pids={"envoy": process.pid})


@contextlib.contextmanager
def gateway(ctx: Context) -> Iterator[Endpoint]:
    """The full stack as `omg up` runs it, minus its own mock (it uses the shared one)."""
    from cli.gateway import gateway_specs, prepare
    from cli.stack import Stack
    from omg_common.settings import Settings

    home = ctx.work_dir / "omg-home"
    settings = Settings(
        home=home, listen_port=procs.free_port(), admin_port=procs.free_port(),
        envoy_admin_port=procs.free_port(), xds_port=procs.free_port(),
        ext_proc_port=procs.free_port(), mock_port=ctx.mock_port, log_level="warning",
        ext_proc_metrics_port=procs.free_port(),
    )
    seeded = prepare(settings)
    stack = Stack(gateway_specs(settings, with_mock=False), home / "logs")
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(stack.start())
        pids = {name: child.process.pid for name, child in stack.children.items()
                if child.process is not None}
        yield Endpoint(url=f"http://127.0.0.1:{settings.listen_port}{CHAT_PATH}",
                       headers={"Authorization": f"Bearer {seeded.demo_key}"}, pids=pids,
                       envoy_admin=f"http://127.0.0.1:{settings.envoy_admin_port}")
    finally:
        loop.run_until_complete(stack.stop())
        loop.close()


def litellm_config(mock_base: str) -> str:
    config = {
        "model_list": [{
            "model_name": MODEL,
            "litellm_params": {"model": f"openai/{MODEL}", "api_base": mock_base,
                               "api_key": "sk-mock"},
        }],
        "general_settings": {"master_key": LITELLM_MASTER_KEY},
        "litellm_settings": {"telemetry": False, "set_verbose": False},
    }
    return json.dumps(config, indent=2)  # JSON is YAML


LITELLM_ENV = {"LITELLM_TELEMETRY": "False", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
               "LITELLM_LOG": "ERROR", "DISABLE_SCHEMA_UPDATE": "True"}


def litellm(workers: int) -> Launcher:
    @contextlib.contextmanager
    def launch(ctx: Context) -> Iterator[Endpoint]:
        try:
            binary = installers.litellm_bin()
        except installers.InstallFailed as exc:
            raise TargetUnavailable(str(exc)) from exc
        config = ctx.work_dir / "litellm.yaml"
        config.write_text(litellm_config(ctx.mock_base))
        port = procs.free_port()
        argv = [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                "--num_workers", str(workers)]
        log = ctx.work_dir / "logs" / f"litellm-{workers}w.log"
        env = {**LITELLM_ENV, "PYTHONUNBUFFERED": "1"}
        try:
            with procs.running(argv, log, f"http://127.0.0.1:{port}/health/liveliness",
                               env=env, timeout=180) as process:
                yield Endpoint(url=f"http://127.0.0.1:{port}{CHAT_PATH}",
                               headers={"Authorization": f"Bearer {LITELLM_MASTER_KEY}"},
                               pids={f"litellm-{workers}w": process.pid})
        except procs.StartFailed as exc:
            raise TargetUnavailable(f"litellm --num_workers {workers}: {exc}") from exc

    return launch


@contextlib.contextmanager
def portkey(ctx: Context) -> Iterator[Endpoint]:
    try:
        entry = installers.portkey_entry()
    except installers.InstallFailed as exc:
        raise TargetUnavailable(str(exc)) from exc
    port = procs.free_port()
    argv = ["node", str(entry), f"--port={port}", "--headless"]
    log = ctx.work_dir / "logs" / "portkey.log"
    headers = {"x-portkey-provider": "openai", "x-portkey-custom-host": ctx.mock_base,
               "Authorization": "Bearer x"}
    try:
        with procs.running(argv, log, f"http://127.0.0.1:{port}/", env={"NODE_ENV": "production"},
                           any_status=True, cwd=entry.parent.parent) as process:
            yield Endpoint(url=f"http://127.0.0.1:{port}{CHAT_PATH}", headers=headers,
                           pids={"portkey": process.pid})
    except procs.StartFailed as exc:
        raise TargetUnavailable(f"portkey: {exc}") from exc


LAUNCHERS: dict[str, Launcher] = {
    "direct": direct,
    "envoy-only": envoy_only,
    "gateway": gateway,
    "litellm-1w": litellm(1),
    "litellm-2w": litellm(2),
    "portkey": portkey,
}
ALIASES = {"litellm": ["litellm-1w", "litellm-2w"]}
