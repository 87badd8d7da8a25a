"""What every `omg` command shares: settings, the admin call, output, and how to fail."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer

from cli import admin_client
from cli.output import Output
from omg_common.settings import Settings, load_settings

OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table or json")]
TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="tenant id or name")]
LimitOpt = Annotated[int, typer.Option(help="rows per page", min=1, max=1000)]
OffsetOpt = Annotated[int, typer.Option(help="rows to skip", min=0)]


def settings() -> Settings:
    return load_settings()


def fail(message: str) -> NoReturn:
    """Exit 1 with `error: <one line>` on stderr."""
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(1)


def admin(method: str, path: str, **kwargs: Any) -> Any:
    try:
        return admin_client.call(settings(), method, path, **kwargs)
    except admin_client.AdminError as exc:
        fail(str(exc))


def page_params(limit: int, offset: int, **filters: Any) -> dict[str, Any]:
    return {"limit": limit, "offset": offset, **{k: v for k, v in filters.items() if v is not None}}
