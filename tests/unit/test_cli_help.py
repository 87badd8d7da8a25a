"""Every `omg` command has a --help that renders and says what it does."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from cli.main import app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(prefix, group)]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


def test_every_command_has_help() -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 40
    runner = CliRunner()
    for path, command in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.stdout
        assert command.help or command.short_help, f"omg {' '.join(path)} has no help"
