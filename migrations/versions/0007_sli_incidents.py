"""SLIs per deployment, incidents, leader leases, drained deployments

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drained", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        "sli_objective",
        sa.Column("id", _STR, nullable=False),
        sa.Column("deployment_id", _STR, nullable=False),
        sa.Column("kind", _STR, nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("window_s", sa.Integer(), nullable=False),
        sa.Column("min_requests", sa.Integer(), nullable=False),
        sa.Column("breach_windows", sa.Integer(), nullable=False),
        sa.Column("recover_windows", sa.Integer(), nullable=False),
        sa.Column("drain", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("breaching", sa.Integer(), nullable=False),
        sa.Column("healthy", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sli_objective_deployment_id", "sli_objective", ["deployment_id"])
    op.create_table(
        "incident",
        sa.Column("id", _STR, nullable=False),
        sa.Column("objective_id", _STR, nullable=False),
        sa.Column("deployment_id", _STR, nullable=False),
        sa.Column("deployment_name", _STR, nullable=False),
        sa.Column("kind", _STR, nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("peak", sa.Float(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.Column("status", _STR, nullable=False),
        sa.Column("drained", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_objective_id", "incident", ["objective_id"])
    op.create_index("ix_incident_deployment_id", "incident", ["deployment_id"])
    op.create_index("ix_incident_status", "incident", ["status"])
    op.create_index("ix_incident_started_at", "incident", ["started_at"])
    op.create_table(
        "leader_lease",
        sa.Column("name", _STR, nullable=False),
        sa.Column("holder", _STR, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("leader_lease")
    for index in ("ix_incident_started_at", "ix_incident_status", "ix_incident_deployment_id",
                  "ix_incident_objective_id"):
        op.drop_index(index, table_name="incident")
    op.drop_table("incident")
    op.drop_index("ix_sli_objective_deployment_id", table_name="sli_objective")
    op.drop_table("sli_objective")
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("drained")
