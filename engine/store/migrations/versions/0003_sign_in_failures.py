"""Sign-in throttling: one row per failed sign-in, shared by every app process.

Revision ID: 0003
Revises: 0002

Written out in full, like 0001 and 0002, so that this revision means the same schema forever.
Constraint names follow engine.store.base.NAMING_CONVENTION.

A failure is a row of its own rather than a counter per login, so that two processes failing the
same login at once each insert and neither overwrites the other's count. `login` is the account's
username when the login named one (so username and phone share a count), else "?" and a SHA-256 of
the login as typed, lower-cased (never the text: it may be a password typed in the wrong box);
`client` is the address the request came from, when the app can know it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "sign_in_failures"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_login_failed_at"), TABLE, ["login", "failed_at"])
    op.create_index(op.f(f"ix_{TABLE}_client_failed_at"), TABLE, ["client", "failed_at"])


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_client_failed_at"), table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_login_failed_at"), table_name=TABLE)
    op.drop_table(TABLE)
