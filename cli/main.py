"""`omg`: run the gateway and manage its configuration from the command line."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import typer

from cli import admin_client
from cli.output import Output, show
from omg_common.providers import PROVIDERS
from omg_common.settings import Settings, load_settings

app = typer.Typer(help="Open Model Gateway: an OpenAI-compatible, multi-tenant LLM gateway.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants.", no_args_is_help=True)
models_app = typer.Typer(help="Public model names clients ask for.", no_args_is_help=True)
deployments_app = typer.Typer(help="Upstreams that serve a model.", no_args_is_help=True)
keys_app = typer.Typer(help="Data-plane API keys.", no_args_is_help=True)
usage_app = typer.Typer(help="Usage records.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (tenants_app, "tenants"), (models_app, "models"),
                  (deployments_app, "deployments"), (keys_app, "keys"), (usage_app, "usage")):
    app.add_typer(sub, name=name)

OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table or json")]


def settings() -> Settings:
    return load_settings()


def admin(method: str, path: str, **kwargs: Any) -> Any:
    try:
        return admin_client.call(settings(), method, path, **kwargs)
    except admin_client.AdminError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command()
def up(
    mock: Annotated[bool, typer.Option(help="also run the built-in mock provider")] = True,
) -> None:
    """Start the whole gateway (control plane, ext_proc, Envoy, mock provider) and supervise it."""
    from cli.up import run_up

    raise typer.Exit(asyncio.run(run_up(settings(), with_mock=mock)))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration (SQLite file, or OMG_DATABASE_URL)."""
    from control_plane.db import upgrade_database

    upgrade_database(settings().effective_database_url)
    typer.echo("database at head")


@tenants_app.command("list")
def tenants_list(output: OutputOpt = Output.table) -> None:
    show(admin("GET", "/api/v1/tenants"), ["id", "name", "created_at"], output)


@tenants_app.command("create")
def tenants_create(name: str, output: OutputOpt = Output.table) -> None:
    show(admin("POST", "/api/v1/tenants", json={"name": name}), ["id", "name"], output)


@models_app.command("list")
def models_list(output: OutputOpt = Output.table) -> None:
    show(admin("GET", "/api/v1/models"), ["name", "owned_by", "created_at"], output)


@models_app.command("create")
def models_create(name: str, owned_by: str = "omg", output: OutputOpt = Output.table) -> None:
    body = {"name": name, "owned_by": owned_by}
    show(admin("POST", "/api/v1/models", json=body), ["id", "name"], output)


DEPLOYMENT_COLUMNS = ["id", "name", "model", "provider", "base_url", "weight", "priority",
                      "enabled"]


def parse_options(pairs: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            typer.echo(f"error: --option takes KEY=VALUE, got {pair!r}", err=True)
            raise typer.Exit(1)
        options[key] = value
    return options


@deployments_app.command("list")
def deployments_list(output: OutputOpt = Output.table) -> None:
    show(admin("GET", "/api/v1/deployments"), DEPLOYMENT_COLUMNS, output)


@deployments_app.command("create")
def deployments_create(
    name: Annotated[str, typer.Option(help="unique deployment name")],
    model: Annotated[str, typer.Option(help="public model name it serves")],
    base_url: Annotated[str, typer.Option(help="e.g. https://api.openai.com/v1")],
    api_key: Annotated[str, typer.Option(
        envvar="OMG_PROVIDER_API_KEY", help="provider credential (or OMG_PROVIDER_API_KEY)"
    )] = "",
    upstream_model: Annotated[str, typer.Option(help="model name the provider expects")] = "",
    provider: Annotated[str, typer.Option(help=", ".join(PROVIDERS))] = "openai",
    option: Annotated[list[str] | None, typer.Option(
        help="provider option KEY=VALUE, repeatable (e.g. region=us-east-1)")] = None,
    weight: int = 1,
    priority: int = 0,
    timeout_s: float = 600.0,
    output: OutputOpt = Output.table,
) -> None:
    body = {"name": name, "model": model, "base_url": base_url, "api_key": api_key,
            "upstream_model": upstream_model, "provider": provider,
            "options": parse_options(option or []), "weight": weight, "priority": priority,
            "timeout_s": timeout_s}
    show(admin("POST", "/api/v1/deployments", json=body), DEPLOYMENT_COLUMNS, output)


@deployments_app.command("delete")
def deployments_delete(deployment_id: str) -> None:
    admin("DELETE", f"/api/v1/deployments/{deployment_id}")
    typer.echo(f"deleted {deployment_id}")


KEY_COLUMNS = ["id", "tenant_id", "name", "prefix", "expires_at", "revoked_at"]


@keys_app.command("list")
def keys_list(tenant: str | None = None, output: OutputOpt = Output.table) -> None:
    params = {"tenant_id": tenant} if tenant else {}
    show(admin("GET", "/api/v1/keys", params=params), KEY_COLUMNS, output)


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    name: Annotated[str, typer.Option(help="a label for the key")],
    expires_at: Annotated[datetime | None, typer.Option(help="ISO time; default never")] = None,
    allowed_model: Annotated[list[str] | None, typer.Option(help="repeat; default all")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Create a key. The secret is printed once; only its hash is stored."""
    body = {"tenant_id": tenant, "name": name, "allowed_models": allowed_model or [],
            "expires_at": expires_at.isoformat() if expires_at else None}
    show(admin("POST", "/api/v1/keys", json=body), ["id", "name", "prefix", "secret"], output)


@keys_app.command("revoke")
def keys_revoke(key_id: str, output: OutputOpt = Output.table) -> None:
    show(admin("POST", f"/api/v1/keys/{key_id}/revoke"), KEY_COLUMNS, output)


USAGE_COLUMNS = ["request_id", "created_at", "model", "status", "prompt_tokens",
                 "completion_tokens", "total_tokens", "latency_ms"]


@usage_app.command("list")
def usage_list(
    limit: int = 20, tenant: str | None = None, model: str | None = None,
    output: OutputOpt = Output.table,
) -> None:
    params: dict[str, Any] = {"limit": limit}
    params.update({k: v for k, v in (("tenant_id", tenant), ("model", model)) if v})
    show(admin("GET", "/api/v1/usage", params=params), USAGE_COLUMNS, output)



if __name__ == "__main__":
    app()
