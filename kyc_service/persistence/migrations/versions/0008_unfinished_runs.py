"""Count the runs of a verification's checks that started and recorded nothing.

A run whose worker is killed (or fails) each time — an image that crashes a model, say —
was brought back by its lapsed lease forever. ``unfinished_runs`` goes up when a run
claims the verification and back to 0 when a run records; past
``KYC_UNFINISHED_RUNS_LIMIT`` the verification goes to review. Existing rows start at 0.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unfinished_runs", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_column("unfinished_runs")
