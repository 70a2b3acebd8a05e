"""Per learner and module summaries, kept on write, for national and cohort figures.

Revision ID: 0004
Revises: 0003

Written out in full, like the earlier revisions. The rows are derived from the attempts and section
progress already in the database; upgrading fills them with engine.summaries.refresh, the same code
that keeps them up to date afterwards (a derived table, so rebuilding it with today's code is right).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "module_results"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("module_id", sa.String(100), nullable=False),
        sa.Column("pre_attempt_id", sa.String(36), nullable=True),
        sa.Column("pre_percent", sa.Double(), nullable=True),
        sa.Column("post_attempt_id", sa.String(36), nullable=True),
        sa.Column("best_post_percent", sa.Double(), nullable=True),
        sa.Column("best_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("sections_done", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{TABLE}_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "module_id", name=op.f(f"pk_{TABLE}")),
    )
    from sqlalchemy.orm import Session

    from engine.summaries import refresh

    with Session(bind=op.get_bind()) as session:
        refresh(session, item_counts=False)  # that table comes with 0005
        session.flush()


def downgrade() -> None:
    op.drop_table(TABLE)
