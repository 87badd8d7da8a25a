"""Print API results as a plain aligned table or as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import typer


class Output(StrEnum):
    table = "table"
    json = "json"


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def show(result: Any, columns: Sequence[str], output: Output) -> None:
    if output is Output.json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    rows = result["data"] if isinstance(result, dict) and "data" in result else [result]
    typer.echo(render_table(rows, columns))
