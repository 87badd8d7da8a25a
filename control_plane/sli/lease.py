"""A leader lease in the database: one holder at a time among control-plane replicas.

`acquire` takes the lease when it is free, expired or already ours, in one conditional UPDATE
(or the INSERT of the first row), so two replicas racing for it cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane.models import LeaderLease


async def acquire(
    session: AsyncSession, name: str, holder: str, ttl_s: float, now: datetime
) -> bool:
    """True when `holder` holds lease `name` until now + ttl_s (taken or renewed)."""
    table = LeaderLease.__table__  # type: ignore[attr-defined]
    expires = now + timedelta(seconds=ttl_s)
    renewed = await session.execute(
        update(table)
        .where(table.c.name == name)
        .where(or_(table.c.holder == holder, table.c.expires_at < now))
        .values(holder=holder, expires_at=expires)
    )
    if renewed.rowcount == 1:  # type: ignore[attr-defined]
        await session.commit()
        return True
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    created = await session.execute(
        insert(table)
        .values(name=name, holder=holder, expires_at=expires)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await session.commit()
    return created.rowcount == 1  # type: ignore[attr-defined]


async def release(session: AsyncSession, name: str, holder: str, now: datetime) -> None:
    """Let another replica take over at once (on a clean stop)."""
    table = LeaderLease.__table__  # type: ignore[attr-defined]
    await session.execute(
        update(table).where(table.c.name == name).where(table.c.holder == holder)
        .values(expires_at=now)
    )
    await session.commit()
