"""`omg up`: prepare, start, print how to call, supervise until a signal or a failure."""

from __future__ import annotations

import asyncio

import typer

from cli.gateway import gateway_specs, prepare
from cli.stack import Stack, StackFailed
from omg_common.lifecycle import stop_on_signals
from omg_common.settings import Settings


def banner(settings: Settings, demo_key: str) -> str:
    home = settings.resolved_home
    key_line = demo_key or f"(see {home / 'demo.key'})"
    return "\n".join([
        "Open Model Gateway is up.",
        f"  base URL     {settings.gateway_url}",
        f"  API key      {key_line}   (also in {home / 'demo.key'})",
        f"  admin API    {settings.admin_url}/docs   (token in {home / 'admin.token'})",
        f"  logs         {home / 'logs'}",
        "",
        "Try it:",
        f"  curl {settings.gateway_url}/chat/completions \\",
        f"    -H \"Authorization: Bearer $(cat {home / 'demo.key'})\" \\",
        "    -H 'Content-Type: application/json' \\",
        "    -d '{\"model\": \"mock-gpt\", "
        "\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}'",
        "",
        "Press Ctrl-C to stop.",
    ])


async def run_up(settings: Settings, *, with_mock: bool = True) -> int:
    seeded = await asyncio.to_thread(prepare, settings)
    stack = Stack(gateway_specs(settings, with_mock=with_mock), settings.resolved_home / "logs")
    stop = stop_on_signals()
    try:
        await stack.start()
    except StackFailed as exc:
        typer.echo(f"omg up failed: {exc}", err=True)
        return 1
    typer.echo(banner(settings, seeded.demo_key))
    supervisor = asyncio.ensure_future(stack.supervise())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({supervisor, stopper}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if supervisor.done() and isinstance(supervisor.exception(), StackFailed):
        typer.echo(f"omg up: stopping the gateway: {supervisor.exception()}", err=True)
        code = 1
    supervisor.cancel()
    stopper.cancel()
    await stack.stop()
    typer.echo("Open Model Gateway stopped.")
    return code
