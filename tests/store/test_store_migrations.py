"""Migrations: from empty to head, again, down and up, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from engine.errors import SchemaTooNew
from engine.store.db import current_revision, downgrade, head_revision, make_engine, migrate
from engine.store.models import Base

pytestmark = pytest.mark.store

TABLES = {
    "attempts",
    "attendance",
    "auth_sessions",
    "certificates",
    "classroom_sessions",
    "cohorts",
    "enrolments",
    "paper_entries",
    "exercise_answers",
    "item_counts",
    "module_results",
    "responses",
    "section_progress",
    "sign_in_failures",
    "users",
}


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_the_models_name_every_table_the_migration_creates():
    assert set(Base.metadata.tables) == TABLES


def test_migrate_from_empty_reaches_head(engine):
    assert current_revision(engine) is None
    assert tables(engine) == set()

    assert migrate(engine) == head_revision() == "0005"

    assert current_revision(engine) == "0005"
    assert tables(engine) == TABLES


def test_a_second_migrate_changes_nothing(engine):
    migrate(engine)
    assert migrate(engine) == head_revision()
    assert tables(engine) == TABLES
    assert differences(engine) == []


def test_models_and_migrated_database_agree(engine):
    migrate(engine)
    assert differences(engine) == []


def test_the_comparison_would_notice_a_missing_index(engine):
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_attempts_classroom_session_id"))
    assert [diff[0] for diff in differences(engine)] == ["add_index"]


def test_downgrade_to_base_drops_everything_and_upgrade_restores_it(engine):
    migrate(engine)
    assert downgrade(engine, to="base") is None
    assert tables(engine) == set()
    assert current_revision(engine) is None

    assert migrate(engine) == head_revision()
    assert tables(engine) == TABLES
    assert differences(engine) == []


def test_a_schema_from_a_newer_sala_is_refused_untouched(engine):
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0042_future'"))

    with pytest.raises(SchemaTooNew) as raised:
        migrate(engine)

    assert str(raised.value) == (
        "the database is at schema revision '0042_future', which this Sala does not know "
        "(its newest is '0005'): a newer Sala migrated it; upgrade Sala to use it"
    )
    assert current_revision(engine) == "0042_future"
    assert tables(engine) == TABLES
    with pytest.raises(SchemaTooNew):
        downgrade(engine)


def test_processes_migrating_at_once_do_not_collide(db_url):
    # Several app processes start together against one database; each calls migrate().
    engines = [make_engine(db_url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            revisions = list(pool.map(migrate, engines))
        assert revisions == [head_revision()] * len(engines)
        assert tables(engines[0]) == TABLES
    finally:
        for engine in engines:
            engine.dispose()
