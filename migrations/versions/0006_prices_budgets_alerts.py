"""deployment prices, usage cost, budgets and overrides, alert channels and deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=nullable,
                     server_default=None if nullable else "0")


def _str(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.add_column(_money("cost_pico"))
        batch_op.add_column(sa.Column("refused_by_budget", sa.String(), nullable=False,
                                      server_default=""))
    op.create_table(
        "deployment_price",
        _str("id"), _str("deployment_id"), _ts("effective_from"),
        _money("input_micro"), _money("output_micro"),
        _money("cached_input_micro", True), _money("reasoning_micro", True),
        _str("created_by"), _ts("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deployment_id", "effective_from"),
    )
    op.create_index("ix_deployment_price_deployment_id", "deployment_price", ["deployment_id"])
    op.create_table(
        "budget",
        _str("id"), _str("tenant_id"), _str("scope"), _str("subject_id"), _money("limit_pico"),
        _str("period"), _str("timezone"), sa.Column("soft_thresholds", sa.JSON(), nullable=True),
        _ts("created_at"), _ts("updated_at"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "scope", "subject_id", "period"),
    )
    op.create_index("ix_budget_tenant_id", "budget", ["tenant_id"])
    op.create_table(
        "budget_override",
        _str("id"), _str("budget_id"), _str("tenant_id"), _money("limit_pico"),
        _ts("expires_at"), _str("reason"), _str("created_by"), _ts("created_at"),
        _ts("revoked_at", True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_budget_override_budget_id", "budget_override", ["budget_id"])
    op.create_index("ix_budget_override_tenant_id", "budget_override", ["tenant_id"])
    op.create_table(
        "alert_channel",
        _str("id"), _str("tenant_id", True), _str("name"), _str("kind"), _str("target"),
        _str("secret_encrypted"), sa.Column("enabled", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_channel_tenant_id", "alert_channel", ["tenant_id"])
    op.create_table(
        "alert_event",
        _str("id"), _str("dedup_key"), _str("tenant_id", True), _str("kind"),
        sa.Column("payload", sa.JSON(), nullable=True), _ts("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_event_dedup_key", "alert_event", ["dedup_key"], unique=True)
    op.create_index("ix_alert_event_tenant_id", "alert_event", ["tenant_id"])
    op.create_table(
        "alert_delivery",
        _str("id"), _str("alert_id"), _str("channel_id"),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False), _str("error"), _ts("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_delivery_alert_id", "alert_delivery", ["alert_id"])
    op.create_index("ix_alert_delivery_channel_id", "alert_delivery", ["channel_id"])


def downgrade() -> None:
    for table in ("alert_delivery", "alert_event", "alert_channel", "budget_override", "budget",
                  "deployment_price"):
        op.drop_table(table)
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.drop_column("refused_by_budget")
        batch_op.drop_column("cost_pico")
