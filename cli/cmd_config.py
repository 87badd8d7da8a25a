"""`omg models|deployments`: public model names and the upstreams that serve them."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import LimitOpt, OffsetOpt, OutputOpt, admin, fail, page_params
from cli.output import Output, show
from omg_common.providers import PROVIDERS

models_app = typer.Typer(help="Public model names clients ask for.", no_args_is_help=True)
deployments_app = typer.Typer(help="Upstreams that serve a model.", no_args_is_help=True)
providers_app = typer.Typer(help="Provider catalogs.", no_args_is_help=True)

MODEL_COLUMNS = ["id", "name", "aliases", "owned_by", "created_at"]
DEPLOYMENT_COLUMNS = ["id", "name", "model", "provider", "base_url", "weight", "priority",
                      "enabled"]


@models_app.command("list")
def models_list(
    limit: LimitOpt = 100, offset: OffsetOpt = 0, output: OutputOpt = Output.table
) -> None:
    """List public models."""
    show(admin("GET", "/api/v1/models", params=page_params(limit, offset)), MODEL_COLUMNS,
         output)


AliasOpt = Annotated[list[str] | None, typer.Option(
    "--alias", help="another public name for the model, repeatable")]
RetryOnOpt = Annotated[str | None, typer.Option(
    help="fail-over retry conditions, comma-separated (Envoy retry_on); default "
    "connect-failure,reset,5xx,retriable-status-codes (429)")]
NumRetriesOpt = Annotated[int | None, typer.Option(
    help="fail-over retries; default: one per other enabled deployment")]


@models_app.command("create")
def models_create(
    name: str, owned_by: Annotated[str, typer.Option(help="shown in /v1/models")] = "omg",
    alias: AliasOpt = None, retry_on: RetryOnOpt = None, num_retries: NumRetriesOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Create a public model name (and its aliases)."""
    body = {"name": name, "owned_by": owned_by, "aliases": alias or [],
            "retry_on": retry_on or "", "num_retries": num_retries}
    show(admin("POST", "/api/v1/models", json=body), MODEL_COLUMNS, output)


@models_app.command("update")
def models_update(
    name: str, owned_by: Annotated[str | None, typer.Option(help="shown in /v1/models")] = None,
    alias: AliasOpt = None,
    no_aliases: Annotated[bool, typer.Option("--no-aliases", help="remove all aliases")] = False,
    retry_on: RetryOnOpt = None, num_retries: NumRetriesOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Change a model: `--alias` (repeatable) replaces its aliases."""
    body: dict[str, object] = {"owned_by": owned_by, "retry_on": retry_on}
    body = {k: v for k, v in body.items() if v is not None}
    if alias or no_aliases:
        body["aliases"] = alias or []
    if num_retries is not None:
        body["num_retries"] = num_retries
    show(admin("PATCH", f"/api/v1/models/{name}", json=body), MODEL_COLUMNS, output)


@models_app.command("delete")
def models_delete(name: str) -> None:
    """Delete a public model (it must have no deployments)."""
    admin("DELETE", f"/api/v1/models/{name}")
    typer.echo(f"deleted model {name}")


@deployments_app.command("list")
def deployments_list(
    limit: LimitOpt = 100, offset: OffsetOpt = 0, output: OutputOpt = Output.table
) -> None:
    """List deployments (credentials are never shown, only a fingerprint)."""
    show(admin("GET", "/api/v1/deployments", params=page_params(limit, offset)),
         DEPLOYMENT_COLUMNS, output)


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
    weight: Annotated[int, typer.Option(help="share of traffic among equals")] = 1,
    priority: Annotated[int, typer.Option(help="lower is tried first")] = 0,
    timeout_s: Annotated[float, typer.Option(help="upstream timeout")] = 600.0,
    context_window: Annotated[int | None, typer.Option(
        help="tokens the upstream model accepts")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Create a deployment; its credential is stored encrypted."""
    body = {"name": name, "model": model, "base_url": base_url, "api_key": api_key,
            "upstream_model": upstream_model, "provider": provider,
            "options": parse_options(option or []), "weight": weight, "priority": priority,
            "timeout_s": timeout_s, "context_window": context_window}
    show(admin("POST", "/api/v1/deployments", json=body), DEPLOYMENT_COLUMNS, output)


def parse_options(pairs: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--option takes KEY=VALUE, got {pair!r}")
        options[key] = value
    return options


@deployments_app.command("delete")
def deployments_delete(deployment: str) -> None:
    """Delete a deployment (by id or name)."""
    admin("DELETE", f"/api/v1/deployments/{deployment}")
    typer.echo(f"deleted {deployment}")


@providers_app.command("sync")
def providers_sync(
    provider: Annotated[str, typer.Argument(help="provider whose catalog to import: openrouter")],
    template: Annotated[str, typer.Option(
        "--from", help="a deployment of that provider (id or name): base URL and credential")],
    prefix: Annotated[str, typer.Option(help="prepended to every imported model name")] = "",
    output: OutputOpt = Output.table,
) -> None:
    """Import the provider's model catalog: one model and one deployment per entry (rerunnable)."""
    result = admin("POST", f"/api/v1/providers/{provider}/sync",
                   json={"deployment": template, "prefix": prefix})
    if output is Output.json:
        show(result, [], output)
        return
    typer.echo(f"created {len(result['created'])}, already present {len(result['existing'])}")
    for name in result["created"]:
        typer.echo(f"  + {name}")
