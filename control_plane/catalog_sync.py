"""Make the permission and role tables match `rbac_catalog` (idempotent, SQLAlchemy Core).

Runs in migration 0002 and at every start, over a plain synchronous connection, so it does
not depend on the ORM models of any later schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from control_plane.rbac_catalog import PERMISSIONS, ROLES

_permission = sa.table(
    "permission", sa.column("name"), sa.column("scope"), sa.column("description")
)
_role = sa.table(
    "role", sa.column("name"), sa.column("scope"), sa.column("description"), sa.column("builtin")
)
_role_permission = sa.table("role_permission", sa.column("role"), sa.column("permission"))


def _upsert(connection: Connection, table: sa.TableClause, rows: list[dict[str, object]]) -> None:
    existing = set(connection.execute(sa.select(table.c.name)).scalars())
    for row in rows:
        if row["name"] in existing:
            values = {k: v for k, v in row.items() if k != "name"}
            connection.execute(sa.update(table).where(table.c.name == row["name"]).values(values))
        else:
            connection.execute(sa.insert(table).values(row))


def sync_catalog(connection: Connection) -> None:
    _upsert(connection, _permission, [
        {"name": p.name, "scope": p.scope, "description": p.description} for p in PERMISSIONS
    ])
    _upsert(connection, _role, [
        {"name": r.name, "scope": r.scope, "description": r.description, "builtin": True}
        for r in ROLES
    ])
    builtin = [r.name for r in ROLES]
    connection.execute(
        sa.delete(_role_permission).where(_role_permission.c.role.in_(builtin))
    )
    connection.execute(sa.insert(_role_permission), [
        {"role": r.name, "permission": p} for r in ROLES for p in sorted(r.permissions)
    ])
    known = [p.name for p in PERMISSIONS]
    connection.execute(
        sa.delete(_role_permission).where(_role_permission.c.permission.not_in(known))
    )
    connection.execute(sa.delete(_permission).where(_permission.c.name.not_in(known)))
