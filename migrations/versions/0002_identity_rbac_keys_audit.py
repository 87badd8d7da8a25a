"""users, memberships, roles and permissions, personal access tokens, key lifecycle, audit

The admin tokens of 0001 become personal access tokens of a platform admin user ("admin"),
so a token already written to `.omg/admin.token` keeps working.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

from control_plane.catalog_sync import sync_catalog

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STR = sqlmodel.sql.sqltypes.AutoString
TS = sa.DateTime(timezone=True)


def _create_access_tables() -> None:
    op.create_table(
        "permission",
        sa.Column("name", STR(), nullable=False),
        sa.Column("scope", STR(), nullable=False),
        sa.Column("description", STR(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "role",
        sa.Column("name", STR(), nullable=False),
        sa.Column("scope", STR(), nullable=False),
        sa.Column("description", STR(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "role_permission",
        sa.Column("role", STR(), nullable=False),
        sa.Column("permission", STR(), nullable=False),
        sa.ForeignKeyConstraint(["permission"], ["permission.name"]),
        sa.ForeignKeyConstraint(["role"], ["role.name"]),
        sa.PrimaryKeyConstraint("role", "permission"),
    )
    op.create_table(
        "user",
        sa.Column("id", STR(), nullable=False),
        sa.Column("name", STR(), nullable=False),
        sa.Column("email", STR(), nullable=False),
        sa.Column("platform_role", STR(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["platform_role"], ["role.name"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_name", "user", ["name"], unique=True)
    op.create_table(
        "membership",
        sa.Column("tenant_id", STR(), nullable=False),
        sa.Column("user_id", STR(), nullable=False),
        sa.Column("role", STR(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["role"], ["role.name"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "user_id"),
    )
    op.create_index("ix_membership_user_id", "membership", ["user_id"], unique=False)
    op.create_table(
        "pat",
        sa.Column("id", STR(), nullable=False),
        sa.Column("user_id", STR(), nullable=False),
        sa.Column("name", STR(), nullable=False),
        sa.Column("prefix", STR(), nullable=False),
        sa.Column("token_hash", STR(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pat_token_hash", "pat", ["token_hash"], unique=True)
    op.create_index("ix_pat_user_id", "pat", ["user_id"], unique=False)


def _create_policy_and_audit_tables() -> None:
    op.create_table(
        "key_policy",
        sa.Column("id", STR(), nullable=False),
        sa.Column("tenant_id", STR(), nullable=False),
        sa.Column("user_id", STR(), nullable=True),
        sa.Column("max_keys", sa.Integer(), nullable=True),
        sa.Column("max_rpm", sa.Integer(), nullable=True),
        sa.Column("max_tpm", sa.Integer(), nullable=True),
        sa.Column("allowed_models", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_key_policy_tenant_id", "key_policy", ["tenant_id"], unique=False)
    op.create_table(
        "audit_event",
        sa.Column("id", STR(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("actor_id", STR(), nullable=False),
        sa.Column("actor_name", STR(), nullable=False),
        sa.Column("tenant_id", STR(), nullable=True),
        sa.Column("action", STR(), nullable=False),
        sa.Column("target_type", STR(), nullable=False),
        sa.Column("target_id", STR(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("source_ip", STR(), nullable=False),
        sa.Column("request_id", STR(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_event_actor_id", "audit_event", ["actor_id"], unique=False)
    op.create_index("ix_audit_event_tenant_id", "audit_event", ["tenant_id"], unique=False)
    op.create_index("ix_audit_event_action", "audit_event", ["action"], unique=False)
    op.create_index("ix_audit_event_created_at", "audit_event", ["created_at", "id"])


def _alter_existing_tables() -> None:
    with op.batch_alter_table("tenant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal_user_id", STR(), nullable=True))
        batch_op.create_index("ix_tenant_personal_user_id", ["personal_user_id"], unique=False)
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", STR(), nullable=True))
        batch_op.add_column(sa.Column("rpm_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tpm_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("previous_key_hash", STR(), nullable=True))
        batch_op.add_column(sa.Column("previous_expires_at", TS, nullable=True))
        batch_op.create_index("ix_api_key_user_id", ["user_id"], unique=False)
        batch_op.create_index("ix_api_key_previous_key_hash", ["previous_key_hash"], unique=False)
        batch_op.create_foreign_key("fk_api_key_user_id_user", "user", ["user_id"], ["id"])
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("api_key_env", STR(), nullable=False, server_default="")
        )


def _admin_tokens_to_pats(connection: sa.engine.Connection) -> None:
    admin_token = sa.table("admin_token", sa.column("name"), sa.column("token_hash"),
                           sa.column("created_at"), sa.column("revoked_at"))
    tokens = connection.execute(sa.select(admin_token)).mappings().all()
    if not tokens:
        return
    now = datetime.now(UTC)
    user_id, tenant_id = f"usr_{uuid.uuid4().hex[:20]}", f"ten_{uuid.uuid4().hex[:20]}"
    op.bulk_insert(sa.table("user", *(sa.column(c) for c in (
        "id", "name", "email", "platform_role", "disabled", "created_at"))), [
        {"id": user_id, "name": "admin", "email": "", "platform_role": "platform_admin",
         "disabled": False, "created_at": now}])
    op.bulk_insert(sa.table("tenant", *(sa.column(c) for c in (
        "id", "name", "personal_user_id", "created_at"))), [
        {"id": tenant_id, "name": "personal:admin", "personal_user_id": user_id,
         "created_at": now}])
    op.bulk_insert(sa.table("membership", *(sa.column(c) for c in (
        "tenant_id", "user_id", "role", "created_at"))), [
        {"tenant_id": tenant_id, "user_id": user_id, "role": "owner", "created_at": now}])
    op.bulk_insert(sa.table("pat", *(sa.column(c) for c in (
        "id", "user_id", "name", "prefix", "token_hash", "created_at", "revoked_at"))), [
        {"id": f"pat_{uuid.uuid4().hex[:20]}", "user_id": user_id, "name": t["name"],
         "prefix": "omga-", "token_hash": t["token_hash"], "created_at": t["created_at"],
         "revoked_at": t["revoked_at"]} for t in tokens])


def upgrade() -> None:
    _create_access_tables()
    _create_policy_and_audit_tables()
    _alter_existing_tables()
    connection = op.get_bind()
    sync_catalog(connection)
    _admin_tokens_to_pats(connection)
    op.drop_index("ix_admin_token_token_hash", table_name="admin_token")
    op.drop_table("admin_token")


def downgrade() -> None:
    op.create_table(
        "admin_token",
        sa.Column("id", STR(), nullable=False),
        sa.Column("name", STR(), nullable=False),
        sa.Column("token_hash", STR(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_admin_token_token_hash", "admin_token", ["token_hash"], unique=True)
    op.execute(
        "INSERT INTO admin_token (id, name, token_hash, created_at, revoked_at) "
        "SELECT pat.id, pat.name, pat.token_hash, pat.created_at, pat.revoked_at FROM pat "
        "JOIN \"user\" ON \"user\".id = pat.user_id WHERE \"user\".platform_role IS NOT NULL"
    )
    for table in ("audit_event", "key_policy", "pat", "membership"):
        op.drop_table(table)
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("api_key_env")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_key_user_id_user", type_="foreignkey")
        batch_op.drop_index("ix_api_key_previous_key_hash")
        batch_op.drop_index("ix_api_key_user_id")
        for column in ("previous_expires_at", "previous_key_hash", "tpm_limit", "rpm_limit",
                       "user_id"):
            batch_op.drop_column(column)
    op.execute("DELETE FROM tenant WHERE personal_user_id IS NOT NULL AND id NOT IN "
               "(SELECT tenant_id FROM api_key)")
    with op.batch_alter_table("tenant", schema=None) as batch_op:
        batch_op.drop_index("ix_tenant_personal_user_id")
        batch_op.drop_column("personal_user_id")
    for table in ("user", "role_permission", "role", "permission"):
        op.drop_table(table)
