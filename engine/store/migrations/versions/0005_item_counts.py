"""Counts of first-attempt answers per item and total score, kept on write, for national item analysis.

Revision ID: 0005
Revises: 0004

Written out in full. Derived from module_results' first attempts and their responses; upgrading fills
the table with engine.summaries.rebuild_item_counts, the same code that rebuilds it later.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "item_counts"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("module_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("module_id", "kind", "item_id", "total", "answer", "correct", name=op.f(f"pk_{TABLE}")),
    )
    from engine.summaries import rebuild_item_counts

    rebuild_item_counts(op.get_bind())


def downgrade() -> None:
    op.drop_table(TABLE)
