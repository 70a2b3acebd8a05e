"""The first schema: people, cohorts, progress, attempts and responses, classroom sessions.

Revision ID: 0001
Revises: (none)

Written out in full rather than taken from the models, so that this revision means the same schema
forever, whatever the models become. Constraint names follow engine.store.base.NAMING_CONVENTION.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def create(table: str, *parts) -> None:
    """op.create_table with every constraint named as engine.store.base.NAMING_CONVENTION names it.

    Names are spelled out (op.f) so that this revision does not depend on the models' metadata.
    """
    items = [sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))]
    for part in parts:
        if isinstance(part, sa.Column):
            for fk in part.foreign_keys:
                fk.name = op.f(f"fk_{table}_{part.name}_{fk.target_fullname.split('.')[0]}")
            items.append(part)
        else:
            items.append(part(table))
    op.create_table(table, *items)


def key():
    return sa.Column("id", sa.String(36), nullable=False)


def ref(name: str, target: str, nullable: bool = False, **kw):
    return sa.Column(name, sa.String(36), sa.ForeignKey(target, **kw), nullable=nullable)


def text(name: str, length: int | None = None, nullable: bool = False):
    return sa.Column(name, sa.String(length) if length else sa.Text(), nullable=nullable)


def when(name: str, nullable: bool = False):
    return sa.Column(name, TIME, nullable=nullable)


def check(name: str, sql: str):
    return lambda table: sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))


def one_of(column: str, *values: str):
    listed = ", ".join(f"'{value}'" for value in values)
    return check(column, f"{column} IN ({listed})")


def unique(*columns: str):
    return lambda table: sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def upgrade() -> None:
    create(
        "users",
        key(),
        text("username", 100),
        text("phone", 32, nullable=True),
        text("password_hash", 255),
        text("full_name_km", 200),
        text("full_name_latin", 200),
        text("role", 16),
        text("sex", 16),
        text("province_code", 2, nullable=True),
        text("org_type", 16),
        text("institution"),
        text("position"),
        text("language", 2),
        sa.Column("active", sa.Boolean(), nullable=False),
        when("created_at"),
        when("password_changed_at"),
        one_of("role", "learner", "trainer", "facilitator", "coordinator", "admin"),
        one_of("sex", "female", "male", "other", "undisclosed"),
        one_of("org_type", "ministry", "provincial", "district", "commune", "cso", "other"),
        one_of("language", "km", "en"),
        check("province_code", "length(province_code) = 2"),
        unique("username"),
        unique("phone"),
    )
    create(
        "auth_sessions",
        key(),
        ref("user_id", "users.id", ondelete="CASCADE"),
        text("token_hash", 64),
        when("created_at"),
        when("expires_at"),
        when("revoked_at", nullable=True),
        unique("token_hash"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    create(
        "cohorts",
        key(),
        text("name", 200),
        text("kind", 16),
        ref("parent_id", "cohorts.id", nullable=True),
        ref("trainer_id", "users.id", nullable=True),
        text("province_code", 2, nullable=True),
        text("enrol_code", 32, nullable=True),
        when("enrol_code_expires_at", nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        when("created_at"),
        one_of("kind", "tot", "provincial", "self_study"),
        check("not_own_parent", "parent_id IS NULL OR parent_id <> id"),
        check("province_code", "length(province_code) = 2"),
        unique("enrol_code"),
    )
    op.create_index("ix_cohorts_trainer_id", "cohorts", ["trainer_id"])
    op.create_index("ix_cohorts_parent_id", "cohorts", ["parent_id"])
    create(
        "enrolments",
        key(),
        ref("cohort_id", "cohorts.id"),
        ref("user_id", "users.id"),
        when("enrolled_at"),
        unique("cohort_id", "user_id"),
    )
    op.create_index("ix_enrolments_user_id", "enrolments", ["user_id"])
    create(
        "certificates",
        key(),
        ref("user_id", "users.id"),
        text("code", 32),
        when("issued_at"),
        unique("user_id"),
        unique("code"),
    )
    create(
        "section_progress",
        key(),
        ref("user_id", "users.id"),
        text("module_id", 100),
        text("section_id", 100),
        when("first_opened_at"),
        when("completed_at", nullable=True),
        unique("user_id", "module_id", "section_id"),
    )
    create(
        "classroom_sessions",
        key(),
        ref("cohort_id", "cohorts.id"),
        text("module_id", 100),
        ref("facilitator_id", "users.id"),
        text("venue"),
        sa.Column("held_on", sa.Date(), nullable=False),
        text("join_code", 16),
        text("state", 8),
        text("current_section", 100, nullable=True),
        text("open_test", 8, nullable=True),
        when("opened_at"),
        when("closed_at", nullable=True),
        one_of("state", "open", "closed"),
        one_of("open_test", "pre", "post", "poll"),
        unique("join_code"),
    )
    op.create_index("ix_classroom_sessions_cohort_id", "classroom_sessions", ["cohort_id"])
    create(
        "attempts",
        key(),
        ref("user_id", "users.id"),
        text("module_id", 100),
        text("kind", 8),
        text("section_id", 100, nullable=True),
        text("source", 16),
        text("language", 2),
        text("content_version", 64),
        text("idempotency_key", 100),
        ref("classroom_session_id", "classroom_sessions.id", nullable=True),
        ref("recorded_by_id", "users.id", nullable=True),
        when("started_at"),
        when("submitted_at"),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("max_score", sa.Double(), nullable=False),
        one_of("kind", "pre", "post", "check", "exercise"),
        one_of("source", "online", "classroom", "paper"),
        one_of("language", "km", "en"),
        check("check_has_section", "kind <> 'check' OR section_id IS NOT NULL"),
        check("score_in_range", "score >= 0 AND score <= max_score"),
        unique("idempotency_key"),
    )
    op.create_index("ix_attempts_user_id_module_id_kind", "attempts", ["user_id", "module_id", "kind"])
    op.create_index("ix_attempts_classroom_session_id", "attempts", ["classroom_session_id"])
    create(
        "responses",
        key(),
        ref("attempt_id", "attempts.id"),
        text("item_id", 100),
        text("answer"),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("points", sa.Double(), nullable=False),
        unique("attempt_id", "item_id"),
    )
    create(
        "exercise_answers",
        key(),
        ref("user_id", "users.id"),
        text("module_id", 100),
        text("item_id", 100),
        text("text"),
        when("updated_at"),
        unique("user_id", "module_id", "item_id"),
    )
    create(
        "attendance",
        key(),
        ref("session_id", "classroom_sessions.id"),
        ref("user_id", "users.id"),
        text("method", 8),
        when("checked_in_at"),
        one_of("method", "joined", "ticked", "walk_in"),
        unique("session_id", "user_id"),
    )


def downgrade() -> None:
    for table in (
        "attendance",
        "exercise_answers",
        "responses",
        "attempts",
        "classroom_sessions",
        "section_progress",
        "certificates",
        "enrolments",
        "cohorts",
        "auth_sessions",
        "users",
    ):
        op.drop_table(table)
