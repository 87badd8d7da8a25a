"""Databases for integration tests: SQLite files, and a PostgreSQL the suite starts (pgserver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import pgserver

    data_dir = tmp_path_factory.mktemp("pgdata")
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    yield server
    server.cleanup()


def new_postgres_database(server: Any, name: str) -> str:
    """A fresh database on the suite's PostgreSQL server, as an asyncpg URL."""
    server.psql(f"CREATE DATABASE {name};")
    socket_dir = server.get_uri().split("host=", 1)[1]
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"


@pytest.fixture(scope="session")
def postgres_url(pg_server: Any) -> str:
    return new_postgres_database(pg_server, "omg_test")


def database_url(request: pytest.FixtureRequest, backend: str, home: Path, name: str) -> str:
    if backend == "postgres":
        return new_postgres_database(request.getfixturevalue("pg_server"), name)
    return f"sqlite+aiosqlite:///{home / 'omg.db'}"
