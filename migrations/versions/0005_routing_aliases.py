"""model aliases and fail-over settings, deployment context window, usage attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_model", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aliases", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("retry_on", sa.String(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("num_retries", sa.Integer(), nullable=True))
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context_window", sa.Integer(), nullable=True))
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.drop_column("attempts")
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("context_window")
    with op.batch_alter_table("gateway_model", schema=None) as batch_op:
        batch_op.drop_column("num_retries")
        batch_op.drop_column("retry_on")
        batch_op.drop_column("aliases")
