"""Shared reading for the static deployment checks (docker-compose and Kubernetes)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from omg_common.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# A tag with a version number (or a digest): never `latest`, never untagged.
PINNED = re.compile(r"^[\w./-]+(:[\w.-]*\d[\w.-]*)?(@sha256:[0-9a-f]{64})?$")
SETTINGS_FIELDS = {f"OMG_{name.upper()}" for name in Settings.model_fields}


def is_pinned(image: str) -> bool:
    match = PINNED.match(image)
    return bool(match and (match.group(1) or match.group(2)) and ":latest" not in image)


def unknown_settings(env: dict[str, object]) -> set[str]:
    """OMG_* variables no setting reads (a typo would silently fall back to the default)."""
    return {key for key in env if key.startswith("OMG_") and key not in SETTINGS_FIELDS}


def command_exists(command: list[str]) -> bool:
    """`python -m module ...` names an importable module; `omg name ...` a CLI command."""
    if command[:2] == ["python", "-m"]:
        return importlib.util.find_spec(command[2]) is not None
    if command[0] == "omg":
        from cli.main import app

        names = {c.name or (c.callback.__name__ if c.callback else "")
                 for c in app.registered_commands}
        return command[1] in names
    return False
