"""`omg`: run the gateway and manage its configuration from the command line."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli import admin_client, cmd_apply
from cli.cmd_budgets import alerts_app, budgets_app, prices_app
from cli.cmd_config import deployments_app, models_app, providers_app
from cli.cmd_health import health, incidents_app, slis_app
from cli.cmd_identity import members_app, roles_app, tenants_app, users_app
from cli.cmd_keys import keys_app
from cli.cmd_ops import audit_app, usage_app
from cli.common import OutputOpt, admin, fail, settings
from cli.output import Output, show

app = typer.Typer(help="Open Model Gateway: an OpenAI-compatible, multi-tenant LLM gateway.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (tenants_app, "tenants"), (users_app, "users"),
                  (members_app, "members"), (roles_app, "roles"), (keys_app, "keys"),
                  (models_app, "models"), (deployments_app, "deployments"),
                  (providers_app, "providers"), (usage_app, "usage"), (audit_app, "audit"),
                  (incidents_app, "incidents"), (slis_app, "slis"),
                  (prices_app, "prices"), (budgets_app, "budgets"), (alerts_app, "alerts")):
    app.add_typer(sub, name=name)
app.command("apply")(cmd_apply.apply)
app.command("export")(cmd_apply.export)
app.command("health")(health)


@app.command()
def up(
    mock: Annotated[bool, typer.Option(help="also run the built-in mock provider")] = True,
) -> None:
    """Start the whole gateway (control plane, ext_proc, Envoy, mock provider) and supervise it."""
    from cli.up import run_up

    raise typer.Exit(asyncio.run(run_up(settings(), with_mock=mock)))


@app.command()
def init() -> None:
    """Migrate the database and seed the first admin and demo objects (once; containers)."""
    from cli.gateway import prepare

    result = prepare(settings())
    home = settings().resolved_home
    typer.echo(f"database at head; admin token in {home / 'admin.token'}"
               + ("" if not result.demo_key else f", demo key in {home / 'demo.key'}"))


@app.command()
def envoy() -> None:
    """Run Envoy alone with the gateway's bootstrap (containers: OMG_EXT_PROC_TARGETS)."""
    import os

    from cli.envoy_config import write_bootstrap
    from cli.gateway import envoy_argv, ext_proc_ports

    current = settings()
    current.resolved_home.mkdir(parents=True, exist_ok=True)
    argv = envoy_argv(current, write_bootstrap(current, ext_proc_ports(current)))
    os.execv(argv[0], argv)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration (SQLite file, or OMG_DATABASE_URL)."""
    from control_plane.db import upgrade_database

    upgrade_database(settings().effective_database_url)
    typer.echo("database at head")


@app.command()
def login(
    token: Annotated[str, typer.Option(
        prompt=True, hide_input=True, envvar="OMG_LOGIN_TOKEN",
        help="a personal access token (`omg users token <you>` issues one)")],
    url: Annotated[str | None, typer.Option(
        help="admin API URL; default OMG_ADMIN_URL or this machine's")] = None,
) -> None:
    """Check a personal access token and save it (with the URL) in <OMG_HOME>/cli.json, 0600."""
    current = settings()
    target = (url or admin_client.admin_url(current)).rstrip("/")
    try:
        me = admin_client.request(target, token, "GET", "/user/me")
    except admin_client.AdminError as exc:
        fail(f"login failed: {exc}")
    path = admin_client.save_login(current, target, token)
    typer.echo(f"logged in to {target} as {me['user']['name']} (saved in {path})")


@app.command()
def logout() -> None:
    """Forget the token saved by `omg login`."""
    path = admin_client.login_path(settings())
    path.unlink(missing_ok=True)
    typer.echo(f"logged out (removed {path})")


@app.command()
def whoami(output: OutputOpt = Output.table) -> None:
    """Show who the CLI acts as: your user, platform role and tenant roles."""
    me = admin("GET", "/user/me")
    if output is Output.json:
        show(me, [], output)
        return
    user = me["user"]
    typer.echo(f"{user['name']} ({user['id']}), platform role: {user['platform_role'] or '-'}")
    typer.echo(f"personal tenant: {me['personal_tenant_id']}")
    show({"data": me["memberships"]}, ["tenant_id", "role"], output)


if __name__ == "__main__":
    app()
