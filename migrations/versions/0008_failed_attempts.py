"""failed fail-over attempts, for SLIs per deployment

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table(
        "failed_attempt",
        sa.Column("request_id", _STR, nullable=False),
        sa.Column("deployment_id", _STR, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", _STR, nullable=False),
        sa.Column("model", _STR, nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "deployment_id"),
    )
    op.create_index("ix_failed_attempt_created_at", "failed_attempt", ["created_at"])
    op.create_index("ix_failed_attempt_deployment_id", "failed_attempt", ["deployment_id"])


def downgrade() -> None:
    op.drop_index("ix_failed_attempt_deployment_id", table_name="failed_attempt")
    op.drop_index("ix_failed_attempt_created_at", table_name="failed_attempt")
    op.drop_table("failed_attempt")
