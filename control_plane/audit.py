"""The audit log: who changed what, where from, with before/after snapshots.

`record` adds the event to the session of the mutation, so both commit (or neither).
Secrets, hashes and credentials never reach the log: `redact` replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models

REDACTED = "[redacted]"
_SECRET_NAMES = frozenset({"secret", "token", "password", "api_key", "credential",
                           "credential_encrypted"})
_SECRET_SUFFIXES = ("_hash", "_secret", "_password")


@dataclass(frozen=True)
class AuditContext:
    """The request a mutation comes from."""

    actor_id: str
    actor_name: str = ""
    source_ip: str = ""
    request_id: str = ""


SYSTEM = AuditContext(actor_id="system", actor_name="system")


def is_secret_field(name: str) -> bool:
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


def redact(value: Any) -> Any:
    """A JSON-safe copy of `value` with every secret-looking field replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_field(str(k)) and v else redact(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(row: SQLModel | None) -> dict[str, Any] | None:
    return None if row is None else redact(row.model_dump())


def record(
    session: AsyncSession,
    ctx: AuditContext,
    *,
    action: str,
    target: SQLModel | None = None,
    target_type: str = "",
    target_id: str = "",
    tenant_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one event to the current transaction (the caller commits)."""
    if target is not None:
        target_type = target_type or type(target).__tablename__  # type: ignore[attr-defined]
        target_id = target_id or str(getattr(target, "id", ""))
    session.add(models.AuditEvent(
        actor_id=ctx.actor_id, actor_name=ctx.actor_name, tenant_id=tenant_id, action=action,
        target_type=target_type, target_id=target_id, before=before, after=after,
        source_ip=ctx.source_ip, request_id=ctx.request_id,
    ))
