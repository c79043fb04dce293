"""The call ledger: one row per upstream verifier call, one billable row per request id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_calls",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("verification_id", sa.String(length=40), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("check_name", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(
        "ix_upstream_calls_scope", "upstream_calls", ["tenant_id", "mode", "created_at"]
    )
    op.create_index("ix_upstream_calls_verification_id", "upstream_calls", ["verification_id"])
    op.create_index(
        "uq_upstream_calls_billed",
        "upstream_calls",
        ["request_id"],
        unique=True,
        postgresql_where=sa.text("billable"),
        sqlite_where=sa.text("billable"),
    )


def downgrade() -> None:
    op.drop_table("upstream_calls")
