"""`omg apply -f gateway.yaml` and `omg export`: the gateway's configuration as code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import apply_exec
from cli.admin_client import AdminError
from cli.common import fail, settings
from cli.config_file import ConfigError, dump_yaml, load_config
from cli.plan import plan, render_change, render_plan, undeclared_count


def read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text()
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}")


def apply(
    file: Annotated[str, typer.Option("--file", "-f", help="the YAML file, or - for stdin")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show the plan, change nothing")] =
    False,
    prune: Annotated[bool, typer.Option(
        "--prune", help="also delete objects the file no longer declares")] = False,
) -> None:
    """Make the gateway match a declarative YAML config.

    Sections: models, deployments, users, tenants, memberships, key_policies (see README).
    Prints the plan (+ create, ~ update, - delete), then applies it through the admin API.
    `${VAR}` in the file is read from the environment; an unset credential variable leaves
    an existing deployment's credential as it is.
    """
    try:
        desired = load_config(read_source(file), os.environ)
        current = apply_exec.current_config(settings())
        keep = [apply_exec.caller_name(settings())] if prune else []
        changes = plan(desired, current, prune=prune, keep_users=keep)
    except (ConfigError, AdminError) as exc:
        fail(f"{file}: {exc}" if isinstance(exc, ConfigError) else str(exc))
    typer.echo(render_plan(changes, 0 if prune else undeclared_count(desired, current)))
    if dry_run or not changes:
        if dry_run:
            typer.echo("Dry run: nothing was changed.")
        return
    for change in changes:
        try:
            apply_exec.carry_out(settings(), change)
        except AdminError as exc:
            fail(f"{render_change(change)}: {exc}")
    typer.echo(f"Applied {len(changes)} changes.")


def export(
    output_file: Annotated[Path | None, typer.Option(
        "--output-file", "-f", help="write here instead of stdout")] = None,
) -> None:
    """Write the current config in the `omg apply` format.

    Credentials appear as ${VAR} references, never as secrets, so
    `omg export | omg apply --dry-run -f -` shows no changes.
    """
    try:
        text = dump_yaml(apply_exec.current_config(settings()))
    except AdminError as exc:
        fail(str(exc))
    if output_file is None:
        typer.echo(text, nl=False)
    else:
        output_file.write_text(text)
        typer.echo(f"wrote {output_file}", err=True)
