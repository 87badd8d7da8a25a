"""`omg health|incidents|slis`: how each deployment is doing, and what defines "doing well"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from cli.common import LimitOpt, OffsetOpt, OutputOpt, admin, page_params
from cli.output import Output, show
from control_plane.sli.rules import SliKind

incidents_app = typer.Typer(help="Incidents: SLI breaches per deployment, open and resolved.",
                            no_args_is_help=True)
slis_app = typer.Typer(help="SLI objectives per deployment (latency, TTFT, error and 429 rates).",
                       no_args_is_help=True)

HEALTH_COLUMNS = ["name", "model", "provider", "status", "envoy", "slis", "open_incidents"]
INCIDENT_COLUMNS = ["id", "deployment_name", "kind", "status", "threshold", "value", "peak",
                    "started_at", "resolved_at"]
SLI_COLUMNS = ["id", "deployment_id", "kind", "threshold", "window_s", "breach_windows",
               "recover_windows", "drain", "enabled", "last_value", "breaching"]


def reading_text(reading: dict[str, Any]) -> str:
    value = reading["last_value"]
    shown = "n/a" if value is None else f"{value:.4g}"
    return f"{reading['kind']}={shown}/{reading['threshold']:.4g}"


def health_rows(deployments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**d, "slis": " ".join(reading_text(r) for r in d["slis"]),
         "open_incidents": ",".join(i["kind"] for i in d["open_incidents"])}
        for d in deployments
    ]


def health(output: OutputOpt = Output.table) -> None:
    """Live health of every deployment: status, Envoy's view, last SLI values, open incidents."""
    result = admin("GET", "/api/v1/health/deployments")
    if output is Output.json:
        show(result, HEALTH_COLUMNS, output)
        return
    show({"data": health_rows(result)}, HEALTH_COLUMNS, output)


@incidents_app.command("list")
def incidents_list(
    status: Annotated[str | None, typer.Option(help="open or resolved")] = None,
    deployment: Annotated[str | None, typer.Option(help="deployment id or name")] = None,
    since: Annotated[datetime | None, typer.Option(help="started at or after (ISO time)")] = None,
    limit: LimitOpt = 50, offset: OffsetOpt = 0, output: OutputOpt = Output.table,
) -> None:
    """Incident history, newest first."""
    params = page_params(limit, offset, status=status, deployment=deployment,
                         since=since.isoformat() if since else None)
    show(admin("GET", "/api/v1/incidents", params=params), INCIDENT_COLUMNS, output)


@slis_app.command("list")
def slis_list(
    deployment: Annotated[str | None, typer.Option(help="deployment id or name")] = None,
    limit: LimitOpt = 100, offset: OffsetOpt = 0, output: OutputOpt = Output.table,
) -> None:
    """List SLI objectives with their last measured value."""
    params = page_params(limit, offset, deployment=deployment)
    show(admin("GET", "/api/v1/slis", params=params), SLI_COLUMNS, output)


@slis_app.command("create")
def slis_create(
    deployment: Annotated[str, typer.Argument(help="deployment id or name")],
    kind: Annotated[SliKind, typer.Option(help="what to measure")],
    threshold: Annotated[float, typer.Option(
        help="breach above this: ms for *_ms kinds, a fraction 0..1 for rates")],
    window: Annotated[int, typer.Option(help="window in seconds")] = 300,
    min_requests: Annotated[int, typer.Option(help="fewer in the window: no judgement")] = 10,
    breach_windows: Annotated[int, typer.Option(help="consecutive breaches to open")] = 2,
    recover_windows: Annotated[int, typer.Option(help="consecutive healthy to resolve")] = 2,
    drain: Annotated[bool, typer.Option(help="drain the deployment while open")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Define an SLI objective on a deployment."""
    body = {"deployment": deployment, "kind": kind.value, "threshold": threshold,
            "window_s": window, "min_requests": min_requests, "breach_windows": breach_windows,
            "recover_windows": recover_windows, "drain": drain}
    show(admin("POST", "/api/v1/slis", json=body), SLI_COLUMNS, output)


@slis_app.command("delete")
def slis_delete(sli_id: Annotated[str, typer.Argument(help="SLI id")]) -> None:
    """Delete an SLI objective (its incidents stay in the history)."""
    admin("DELETE", f"/api/v1/slis/{sli_id}")
    typer.echo(f"deleted {sli_id}")
