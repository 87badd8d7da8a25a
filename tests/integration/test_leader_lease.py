"""The leader lease on real databases: one holder at a time, taken over when it expires or is
released, so several control-plane replicas run one SLI evaluator between them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from control_plane.db import make_engine, make_sessions, upgrade_database
from control_plane.sli import lease
from tests.integration.databases import database_url

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_one_holder_at_a_time_then_takeover(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_url(request, backend, tmp_path, "omg_lease")
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    sessions = make_sessions(engine)

    async def take(holder: str, at: datetime) -> bool:
        async with sessions() as session:
            return await lease.acquire(session, "job", holder, 10, at)

    try:
        # Ten replicas race for a free lease: exactly one wins.
        wins = await asyncio.gather(*(take(f"r{i}", T0) for i in range(10)))
        assert sum(wins) == 1
        winner = f"r{wins.index(True)}"
        other = "r9" if winner != "r9" else "r0"
        assert await take(winner, T0 + timedelta(seconds=5))  # renewal
        assert not await take(other, T0 + timedelta(seconds=12))  # renewed until +15
        assert await take(other, T0 + timedelta(seconds=16))  # expired: taken over
        assert not await take(winner, T0 + timedelta(seconds=17))
        async with sessions() as session:
            await lease.release(session, "job", other, T0 + timedelta(seconds=18))
        assert await take(winner, T0 + timedelta(seconds=18, milliseconds=1))
    finally:
        await engine.dispose()
