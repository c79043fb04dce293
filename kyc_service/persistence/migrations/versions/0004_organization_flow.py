"""Organization flow: the awaited micro-deposit of a verification.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verifications") as batch:
        batch.add_column(sa.Column("deposit", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verifications") as batch:
        batch.drop_column("deposit")
