"""Usage records into the database: batched, idempotent by request id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane.config_state import PREVIOUS_SUFFIX
from control_plane.models import ApiKey, FailedAttempt, UsageRecord
from protos import usage_pb2

_COPIED = (
    "request_id", "tenant_id", "api_key_id", "model", "deployment_id", "provider", "endpoint",
    "status", "error_type", "stream", "prompt_tokens", "completion_tokens", "total_tokens",
    "cached_tokens", "reasoning_tokens", "latency_ms", "attempts", "cost_pico",
    "refused_by_budget",
)


def key_id_of(api_key_id: str) -> str:
    """A request made with a rotated key's previous secret is billed to that key."""
    return api_key_id.removesuffix(PREVIOUS_SUFFIX)


def record_row(record: usage_pb2.UsageRecord) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in _COPIED}
    row["api_key_id"] = key_id_of(record.api_key_id)
    row["created_at"] = datetime.fromtimestamp(record.created_at_ms / 1000, UTC)
    row["ttft_ms"] = record.ttft_ms if record.stream and record.ttft_ms else None
    return row


def _insert_ignoring_duplicates(dialect: str, table: Any = None,
                                keys: tuple[str, ...] = ("request_id",)) -> Any:
    table = UsageRecord.__table__ if table is None else table  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys))


def failed_attempt_row(attempt: usage_pb2.FailedAttempt) -> dict[str, Any]:
    return {
        "request_id": attempt.request_id, "deployment_id": attempt.deployment_id,
        "created_at": datetime.fromtimestamp(attempt.created_at_ms / 1000, UTC),
        "provider": attempt.provider, "model": attempt.model, "status": attempt.status,
        "latency_ms": attempt.latency_ms,
    }


async def store_failed_attempts(
    session: AsyncSession, attempts: Sequence[usage_pb2.FailedAttempt]
) -> None:
    """Idempotent by (request id, deployment): a redelivered batch adds nothing."""
    rows = [failed_attempt_row(a) for a in attempts if a.request_id and a.deployment_id]
    if rows:
        table = FailedAttempt.__table__  # type: ignore[attr-defined]
        statement = _insert_ignoring_duplicates(session.bind.dialect.name, table,
                                                ("request_id", "deployment_id"))
        await session.execute(statement, rows)
        await session.commit()


async def store_usage(session: AsyncSession, records: Sequence[usage_pb2.UsageRecord]) -> int:
    """Insert what is new; a record seen before (a redelivery) is ignored. Returns new rows."""
    rows = [record_row(r) for r in records if r.request_id]
    if not rows:
        return 0
    ids = [row["request_id"] for row in rows]
    seen = await session.execute(
        select(UsageRecord.request_id).where(UsageRecord.request_id.in_(ids))  # type: ignore[attr-defined]
    )
    existing = set(seen.scalars())
    unique = {row["request_id"]: row for row in rows if row["request_id"] not in existing}
    fresh = list(unique.values())
    if fresh:
        # ON CONFLICT DO NOTHING still guards against a concurrent writer of the same ids.
        await session.execute(_insert_ignoring_duplicates(session.bind.dialect.name), fresh)
        await touch_keys(session, last_used_by_key(fresh))
    await session.commit()
    return len(fresh)


def last_used_by_key(rows: Sequence[dict[str, Any]]) -> dict[str, datetime]:
    latest: dict[str, datetime] = {}
    for row in rows:
        key_id, at = row["api_key_id"], row["created_at"]
        if key_id and (key_id not in latest or at > latest[key_id]):
            latest[key_id] = at
    return latest


async def touch_keys(session: AsyncSession, latest: dict[str, datetime]) -> None:
    """`api_key.last_used_at` for a whole batch in one executemany UPDATE, off the hot path."""
    if not latest:
        return
    table = ApiKey.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("key_id"))
        .where(or_(table.c.last_used_at.is_(None), table.c.last_used_at < bindparam("used_at")))
        .values(last_used_at=bindparam("used_at"))
    )
    params = [{"key_id": k, "used_at": at} for k, at in latest.items()]
    await session.execute(statement, params)
