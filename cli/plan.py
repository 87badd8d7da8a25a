"""What `omg apply` would change: a pure diff of the declared config against the current one."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from cli.config_file import SECTIONS, ConfigError, GatewayConfig

Action = Literal["create", "update", "delete"]
KIND = {"models": "model", "deployments": "deployment", "users": "user", "tenants": "tenant",
        "memberships": "membership", "key_policies": "key_policy"}
CREDENTIAL = "api_key"


@dataclass(frozen=True)
class Change:
    action: Action
    section: str
    key: str
    desired: dict[str, Any] | None = None
    current: dict[str, Any] | None = None
    fields: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:
        return KIND[self.section]


def _credential_changed(desired: dict[str, Any], current: dict[str, Any]) -> bool:
    """Only a known credential (its variable is set) is compared; unknown means unchanged."""
    if desired.get("_fingerprint") is None:
        return False
    return bool(desired["_fingerprint"] != current.get("_fingerprint")
                or desired.get("api_key_env") != current.get("api_key_env"))


def changed_fields(
    section: str, desired: dict[str, Any], current: dict[str, Any]
) -> tuple[str, ...]:
    names = [k for k in desired if not k.startswith("_") and k != "api_key_env"
             and desired[k] != current.get(k)
             and not (k == "price" and desired[k] is None)]  # undeclared: not managed
    if section == "deployments" and _credential_changed(desired, current):
        names.append(CREDENTIAL)
    return tuple(names)


def _section_changes(
    section: str, desired: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[Change]:
    changes = []
    for key, want in desired.items():
        have = current.get(key)
        if have is None:
            if section == "deployments" and want.get("_api_key") is None:
                raise ConfigError(f"deployments.{key}: environment variable "
                                  f"{want['api_key_env']} is not set; a new deployment needs it")
            changes.append(Change("create", section, key, want, None))
            continue
        fields = changed_fields(section, want, have)
        if fields:
            changes.append(Change("update", section, key, want, have, fields))
    return changes


def plan(
    desired: GatewayConfig, current: GatewayConfig, *, prune: bool,
    keep_users: Collection[str] = (),
) -> list[Change]:
    """Creates and updates in dependency order, then (with prune) deletes in reverse."""
    changes = [c for s in SECTIONS for c in _section_changes(s, desired[s], current[s])]
    if prune:
        for section in reversed(SECTIONS):
            gone = sorted(set(current[section]) - set(desired[section]))
            if section == "users":
                gone = [name for name in gone if name not in keep_users]
            changes += [Change("delete", section, key, None, current[section][key])
                        for key in gone]
    return changes


def render_change(change: Change) -> str:
    if change.action == "create":
        return f"+ {change.kind} {change.key}"
    if change.action == "delete":
        return f"- {change.kind} {change.key}"
    before, after = change.current or {}, change.desired or {}
    details = ", ".join(
        f"{name}: (changed)" if name == CREDENTIAL
        else f"{name}: {before.get(name)!r} -> {after.get(name)!r}"
        for name in change.fields
    )
    return f"~ {change.kind} {change.key} ({details})"


def render_plan(changes: list[Change], undeclared: int = 0) -> str:
    if not changes:
        lines = ["No changes."]
    else:
        counts = {a: sum(c.action == a for c in changes) for a in ("create", "update", "delete")}
        lines = [render_change(c) for c in changes]
        lines.append(f"Plan: {counts['create']} to create, {counts['update']} to update, "
                     f"{counts['delete']} to delete.")
    if undeclared:
        lines.append(f"{undeclared} existing objects are not declared; --prune deletes them.")
    return "\n".join(lines)


def undeclared_count(desired: GatewayConfig, current: GatewayConfig) -> int:
    return sum(len(set(current[s]) - set(desired[s])) for s in SECTIONS)
