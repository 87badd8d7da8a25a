"""`omg usage|audit`: what happened, and who changed what."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from cli.common import LimitOpt, OffsetOpt, OutputOpt, admin, page_params
from cli.output import Output, show

usage_app = typer.Typer(help="Usage records.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: every change, who made it, from where.",
                        no_args_is_help=True)

USAGE_COLUMNS = ["request_id", "created_at", "model", "deployment_id", "provider", "attempts",
                 "status", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd",
                 "latency_ms"]
AUDIT_COLUMNS = ["created_at", "actor_name", "action", "target_type", "target_id", "tenant_id",
                 "source_ip", "request_id"]
TenantFilter = Annotated[str | None, typer.Option(
    "--tenant", "-t", help="tenant id or name; default every tenant (platform)")]


@usage_app.command("list")
def usage_list(
    tenant: TenantFilter = None,
    model: Annotated[str | None, typer.Option(help="only this public model")] = None,
    key: Annotated[str | None, typer.Option(help="only this API key id")] = None,
    limit: LimitOpt = 20, offset: OffsetOpt = 0, output: OutputOpt = Output.table,
) -> None:
    """List usage records, newest first."""
    path = f"/api/v1/tenants/{tenant}/usage" if tenant else "/api/v1/usage"
    params = page_params(limit, offset, model=model, api_key_id=key)
    show(admin("GET", path, params=params), USAGE_COLUMNS, output)


@audit_app.command("list")
def audit_list(
    tenant: TenantFilter = None,
    actor: Annotated[str | None, typer.Option(help="user id or name")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. key.create, member.role_change")] = None,
    target: Annotated[str | None, typer.Option(help="the changed object's id")] = None,
    since: Annotated[datetime | None, typer.Option(help="ISO time, inclusive")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO time, exclusive")] = None,
    limit: LimitOpt = 50, offset: OffsetOpt = 0, output: OutputOpt = Output.table,
) -> None:
    """List audit events, newest first (-o json shows before/after)."""
    path = f"/api/v1/tenants/{tenant}/audit" if tenant else "/api/v1/audit"
    params = page_params(limit, offset, actor=actor, action=action, target_id=target,
                         since=since.isoformat() if since else None,
                         until=until.isoformat() if until else None)
    show(admin("GET", path, params=params), AUDIT_COLUMNS, output)
