"""Classroom mode: the item asked as a live poll, and paper tests typed in (twice) before they count.

Revision ID: 0002
Revises: 0001

Written out in full, like 0001, so that this revision means the same schema forever. Constraint
names follow engine.store.base.NAMING_CONVENTION.

The column is added and dropped in batch mode without recreating the table: SQLite (3.35 and later)
adds and drops a plain column in place, whereas a recreated classroom_sessions would have to be
dropped while attempts and attendance rows still point at it, which SQLite refuses with foreign
keys on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "paper_entries"


def _fk(column: str, target: str) -> sa.Column:
    table = target.split(".")[0]
    return sa.Column(column, sa.String(36), sa.ForeignKey(target, name=op.f(f"fk_{TABLE}_{column}_{table}")),
                     nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("classroom_sessions", recreate="never") as batch:
        batch.add_column(sa.Column("poll_item", sa.String(100), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(36), nullable=False),
        _fk("session_id", "classroom_sessions.id"),
        _fk("user_id", "users.id"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("entry_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        _fk("entered_by_id", "users.id"),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.CheckConstraint("kind IN ('pre', 'post')", name=op.f(f"ck_{TABLE}_kind")),
        sa.CheckConstraint("entry_no IN (1, 2)", name=op.f(f"ck_{TABLE}_entry_no")),
        sa.UniqueConstraint("session_id", "user_id", "kind", "entry_no", "item_id",
                            name=op.f(f"uq_{TABLE}_session_id_user_id_kind_entry_no_item_id")),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
    with op.batch_alter_table("classroom_sessions", recreate="never") as batch:
        batch.drop_column("poll_item")
