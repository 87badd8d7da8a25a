"""Migrations on SQLite and PostgreSQL: 0001 data survives 0002 (the admin token becomes a
platform admin's personal access token), downgrade works, and head matches the models."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import control_plane.models  # noqa: F401  (the tables)
from control_plane import crud_users
from control_plane.db import alembic_config, make_engine, make_sessions
from omg_common.keys import hash_secret
from tests.integration.databases import database_url

pytestmark = pytest.mark.integration
LEGACY_TOKEN = "omga-legacy-token"


def _seed_0001(connection: sa.engine.Connection) -> None:
    now = "2026-01-01 00:00:00"
    connection.execute(sa.text(
        "INSERT INTO admin_token (id, name, token_hash, created_at) VALUES "
        f"('adm_1', 'bootstrap', '{hash_secret(LEGACY_TOKEN)}', '{now}')"))
    connection.execute(sa.text(
        f"INSERT INTO tenant (id, name, created_at) VALUES ('ten_1', 'demo', '{now}')"))
    connection.execute(sa.text(
        "INSERT INTO api_key (id, tenant_id, name, prefix, key_hash, allowed_models, created_at) "
        f"VALUES ('key_1', 'ten_1', 'demo', 'omg-', 'h', '[]', '{now}')"))


def _model_drift(connection: sa.engine.Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))


async def _authenticated_user(url: str) -> Any:
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            found = await crud_users.authenticate(session, LEGACY_TOKEN)
            return None if found is None else found[1]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_upgrade_keeps_data_and_the_admin_token_then_downgrades(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_url(request, backend, tmp_path, "omg_migrations")
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "0001")
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_seed_0001)
    await asyncio.to_thread(command.upgrade, config, "head")
    async with engine.connect() as connection:
        assert await connection.run_sync(_model_drift) == []
        keys = (await connection.execute(sa.text("SELECT user_id FROM api_key"))).all()
        assert keys == [(None,)]
    user = await _authenticated_user(url)
    assert user is not None and user.name == "admin" and user.platform_role == "platform_admin"

    await asyncio.to_thread(command.downgrade, config, "0001")
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT token_hash FROM admin_token"))).all()
        assert rows == [(hash_secret(LEGACY_TOKEN),)]
    await asyncio.to_thread(command.upgrade, config, "head")
    assert (await _authenticated_user(url)) is not None
    await engine.dispose()


async def test_drift_check_sees_a_schema_that_lags_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0001")
    engine = make_engine(url)
    async with engine.connect() as connection:
        drift = await connection.run_sync(_model_drift)
    await engine.dispose()
    assert any(d[0] == "add_table" and d[1].name == "pat" for d in drift)
