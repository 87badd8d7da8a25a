"""`omg prices|budgets|alerts`: what deployments cost, spending limits, and who hears of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from cli.common import LimitOpt, OffsetOpt, OutputOpt, TenantOpt, admin, fail, page_params
from cli.output import Output, show

prices_app = typer.Typer(help="Deployment prices (USD per million tokens), versioned.",
                         no_args_is_help=True)
budgets_app = typer.Typer(help="Spending limits of tenants, members and keys.",
                          no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts: where budget alerts are delivered.", no_args_is_help=True)
channels_app = typer.Typer(help="Alert channels (webhook, email).", no_args_is_help=True)
alerts_app.add_typer(channels_app, name="channels")

PRICE_COLUMNS = ["effective_from", "input", "output", "cached_input", "reasoning", "created_by"]
BUDGET_COLUMNS = ["id", "scope", "subject_id", "period", "timezone", "limit_usd", "spent_usd",
                  "soft_thresholds", "period_start"]
OVERRIDE_COLUMNS = ["id", "limit_usd", "expires_at", "revoked_at", "created_by", "reason"]
ALERT_COLUMNS = ["created_at", "kind", "message", "delivered"]
CHANNEL_COLUMNS = ["id", "name", "kind", "target", "enabled", "created_at"]
Usd = Annotated[str, typer.Argument(help="USD, e.g. 25 or 0.5")]
PriceOpt = Annotated[str | None, typer.Option(help="USD per million tokens")]
TenantOrNone = Annotated[str | None, typer.Option("--tenant", "-t", help="tenant id or name")]
PlatformOpt = Annotated[bool, typer.Option("--platform", help="the platform's own channels")]


@prices_app.command("list")
def prices_list(deployment: str, limit: LimitOpt = 50, offset: OffsetOpt = 0,
                output: OutputOpt = Output.table) -> None:
    """Every price version of a deployment, newest first."""
    show(admin("GET", f"/api/v1/deployments/{deployment}/prices",
               params=page_params(limit, offset)), PRICE_COLUMNS, output)


@prices_app.command("set")
def prices_set(
    deployment: str,
    input_price: Annotated[str, typer.Option("--input", help="USD per million input tokens")],
    output_price: Annotated[str, typer.Option("--output-price",
                                              help="USD per million output tokens")],
    cached: PriceOpt = None, reasoning: PriceOpt = None,
    effective_from: Annotated[datetime | None, typer.Option(help="ISO time; default now")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Add a price version; records already made keep the price they were made at."""
    body = {"input": input_price, "output": output_price, "cached_input": cached,
            "reasoning": reasoning}
    if effective_from is not None:
        body["effective_from"] = effective_from.isoformat()
    show(admin("POST", f"/api/v1/deployments/{deployment}/prices", json=body), PRICE_COLUMNS,
         output)


@budgets_app.command("list")
def budgets_list(tenant: TenantOpt, output: OutputOpt = Output.table) -> None:
    """The tenant's budgets with what was spent in their current period."""
    show({"data": admin("GET", f"/api/v1/tenants/{tenant}/budgets")}, BUDGET_COLUMNS, output)


@budgets_app.command("create")
def budgets_create(
    tenant: TenantOpt, limit_usd: Usd,
    period: Annotated[str, typer.Option(help="daily, weekly, monthly or total")] = "monthly",
    key: Annotated[str | None, typer.Option(help="a key's budget (key id)")] = None,
    user: Annotated[str | None, typer.Option(help="a member's budget (user id)")] = None,
    timezone: Annotated[str, typer.Option(help="IANA zone of the calendar")] = "UTC",
    alert_at: Annotated[list[int] | None, typer.Option(help="soft threshold, percent")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """A budget on the tenant (default), a member (--user) or a key (--key)."""
    if key and user:
        fail("give --key or --user, not both")
    scope, subject = ("key", key) if key else ("user", user) if user else ("tenant", "")
    body = {"scope": scope, "subject_id": subject, "limit_usd": limit_usd, "period": period,
            "timezone": timezone, "soft_thresholds": [80] if alert_at is None else alert_at}
    show(admin("POST", f"/api/v1/tenants/{tenant}/budgets", json=body), BUDGET_COLUMNS, output)


@budgets_app.command("update")
def budgets_update(
    tenant: TenantOpt, budget_id: str,
    limit_usd: Annotated[str | None, typer.Option(help="new limit, USD")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA zone")] = None,
    alert_at: Annotated[list[int] | None, typer.Option(help="soft thresholds, percent")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Change a budget's limit, time zone or soft thresholds."""
    body = {k: v for k, v in (("limit_usd", limit_usd), ("timezone", timezone),
                              ("soft_thresholds", alert_at)) if v is not None}
    show(admin("PATCH", f"/api/v1/tenants/{tenant}/budgets/{budget_id}", json=body),
         BUDGET_COLUMNS, output)


@budgets_app.command("delete")
def budgets_delete(tenant: TenantOpt, budget_id: str) -> None:
    """Delete a budget (its spend stays in the usage records)."""
    admin("DELETE", f"/api/v1/tenants/{tenant}/budgets/{budget_id}")
    typer.echo(f"deleted budget {budget_id}")


@budgets_app.command("override")
def budgets_override(
    tenant: TenantOpt, budget_id: str, limit_usd: Usd,
    reason: Annotated[str, typer.Option(help="why (kept in the audit log)")],
    hours: Annotated[float, typer.Option(help="how long it lasts", min=0.01)] = 24.0,
    output: OutputOpt = Output.table,
) -> None:
    """Raise a budget's limit temporarily (needs budgets:override; audited)."""
    expires = datetime.now(UTC) + timedelta(hours=hours)
    body = {"limit_usd": limit_usd, "expires_at": expires.isoformat(), "reason": reason}
    show(admin("POST", f"/api/v1/tenants/{tenant}/budgets/{budget_id}/overrides", json=body),
         OVERRIDE_COLUMNS, output)


@budgets_app.command("overrides")
def budgets_overrides(tenant: TenantOpt, budget_id: str, output: OutputOpt = Output.table
                      ) -> None:
    """A budget's overrides, newest first."""
    show(admin("GET", f"/api/v1/tenants/{tenant}/budgets/{budget_id}/overrides"),
         OVERRIDE_COLUMNS, output)


@budgets_app.command("revoke-override")
def budgets_revoke_override(tenant: TenantOpt, budget_id: str, override_id: str) -> None:
    """End an override now (audited)."""
    admin("DELETE", f"/api/v1/tenants/{tenant}/budgets/{budget_id}/overrides/{override_id}")
    typer.echo(f"revoked override {override_id}")


@alerts_app.command("list")
def alerts_list(tenant: TenantOrNone = None, platform: PlatformOpt = False,
                limit: LimitOpt = 20, output: OutputOpt = Output.table) -> None:
    """Alerts fired, newest first, and how their deliveries went (-o json: every attempt)."""
    path = _channels_path(tenant, platform).replace("alert-channels", "alerts")
    alerts = admin("GET", path, params={"limit": limit})
    for alert in alerts:
        attempts = alert["deliveries"]
        alert["delivered"] = f"{sum(d['ok'] for d in attempts)}/{len(attempts)} ok"
        alert["message"] = alert["payload"].get("message", "")
    show({"data": alerts}, ALERT_COLUMNS, output)


def _channels_path(tenant: str | None, platform: bool) -> str:
    if platform == bool(tenant):
        fail("give --tenant or --platform")
    return "/api/v1/alert-channels" if platform else f"/api/v1/tenants/{tenant}/alert-channels"


@channels_app.command("list")
def channels_list(tenant: TenantOrNone = None, platform: PlatformOpt = False,
                  output: OutputOpt = Output.table) -> None:
    """A tenant's channels (--tenant) or the platform's (--platform); never their secrets."""
    show({"data": admin("GET", _channels_path(tenant, platform))}, CHANNEL_COLUMNS, output)


@channels_app.command("create")
def channels_create(
    name: str, kind: Annotated[str, typer.Option(help="webhook or email")],
    target: Annotated[str, typer.Option(help="webhook URL or comma-separated addresses")],
    tenant: TenantOrNone = None, platform: PlatformOpt = False, output: OutputOpt = Output.table,
) -> None:
    """Add a channel; a webhook's signing secret is printed once."""
    body = {"name": name, "kind": kind, "target": target}
    created = admin("POST", _channels_path(tenant, platform), json=body)
    show(created, [*CHANNEL_COLUMNS, "secret"], output)


@channels_app.command("delete")
def channels_delete(channel_id: str, tenant: TenantOrNone = None,
                    platform: PlatformOpt = False) -> None:
    """Delete a channel."""
    admin("DELETE", f"{_channels_path(tenant, platform)}/{channel_id}")
    typer.echo(f"deleted channel {channel_id}")
