"""Eight audit chains instead of one: appenders of different subjects no longer take turns.

Every event so far is on chain 1, as it was; the heads of chains 2 to 8 start at the
genesis. An event's chain is chosen by its subject (``kyc_service.vault.audit``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHAINS = 8


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index("ix_audit_events_chain_seq", ["chain", "seq"])
    heads = sa.table(
        "audit_chain",
        sa.column("id", sa.Integer()),
        sa.column("last_seq", sa.BigInteger()),
        sa.column("last_hash", sa.String()),
    )
    op.bulk_insert(
        heads, [{"id": i, "last_seq": 0, "last_hash": "genesis"} for i in range(2, CHAINS + 1)]
    )


def downgrade() -> None:
    """Back to one chain: only chain 1's events can still be verified after this."""
    op.execute(sa.text("DELETE FROM audit_chain WHERE id > 1"))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_chain_seq")
        batch_op.drop_column("chain")
