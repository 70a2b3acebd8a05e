"""Migration 0002 (classroom polls and paper entries): up from 0001 with data in place, down and up
again, on SQLite and PostgreSQL; the models and the migrated schema agree."""

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from engine.store.db import current_revision, downgrade, head_revision, make_engine, migrate
from engine.store.models import Base

pytestmark = pytest.mark.classroom

IDS = {"user": "00000000-0000-4000-8000-000000000001", "cohort": "00000000-0000-4000-8000-000000000002",
       "session": "00000000-0000-4000-8000-000000000003", "attempt": "00000000-0000-4000-8000-000000000004"}


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def fill_0001(engine) -> None:
    """A session that attendance and an attempt point at: what a real 0001 database holds."""
    now = "2026-09-07 08:00:00+00:00"
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (id, username, password_hash, full_name_km, full_name_latin, role, sex, "
                       "org_type, institution, position, language, active, created_at, password_changed_at) VALUES "
                       "(:user, 'sok', 'x', 'សុខ', '', 'learner', 'female', 'other', '', '', 'km', true, :now, :now)"),
                  {**IDS, "now": now})
        c.execute(text("INSERT INTO cohorts (id, name, kind, created_at) VALUES (:cohort, 'SR', 'provincial', :now)"),
                  {**IDS, "now": now})
        c.execute(text("INSERT INTO classroom_sessions (id, cohort_id, module_id, facilitator_id, venue, held_on, "
                       "join_code, state, opened_at) VALUES (:session, :cohort, '01-engagement', :user, 'សាល', "
                       ":day, 'KX7QA', 'open', :now)"), {**IDS, "now": now, "day": date(2026, 9, 7)})
        c.execute(text("INSERT INTO attendance (id, session_id, user_id, method, checked_in_at) VALUES "
                       "(:attempt, :session, :user, 'joined', :now)"), {**IDS, "now": now})
        c.execute(text("INSERT INTO attempts (id, user_id, module_id, kind, source, language, content_version, "
                       "idempotency_key, classroom_session_id, started_at, submitted_at, score, max_score) VALUES "
                       "(:attempt, :user, '01-engagement', 'pre', 'classroom', 'km', 'v', 'k', :session, :now, "
                       ":now, 1, 3)"), {**IDS, "now": now})


def test_0002_adds_the_poll_item_and_paper_entries_and_goes_back_with_the_data_kept(engine):
    migrate(engine)
    downgrade(engine, to="0001")
    assert "paper_entries" not in inspect(engine).get_table_names()
    fill_0001(engine)

    assert migrate(engine) == current_revision(engine) == head_revision()
    assert "poll_item" in columns(engine, "classroom_sessions")
    assert {"session_id", "user_id", "kind", "entry_no", "item_id", "answer", "entered_by_id",
            "entered_at"} <= columns(engine, "paper_entries")
    with engine.begin() as c:
        c.execute(text("UPDATE classroom_sessions SET poll_item = 'why-engage-1'"))
        c.execute(text("INSERT INTO paper_entries (id, session_id, user_id, kind, entry_no, item_id, answer, "
                       "entered_by_id, entered_at) VALUES (:attempt, :session, :user, 'pre', 1, 't01', '\"c\"', "
                       ":user, '2026-09-07 09:00:00+00:00')"), IDS)

    assert downgrade(engine, to="0001") == "0001"
    assert "paper_entries" not in inspect(engine).get_table_names()
    assert "poll_item" not in columns(engine, "classroom_sessions")
    with engine.connect() as c:  # the session and what points at it are untouched
        assert c.execute(text("SELECT join_code FROM classroom_sessions")).scalar() == "KX7QA"
        assert c.execute(text("SELECT classroom_session_id FROM attempts")).scalar() == IDS["session"]
        assert c.execute(text("SELECT count(*) FROM attendance")).scalar() == 1

    assert migrate(engine) == head_revision()
    with engine.connect() as c:
        assert c.execute(text("SELECT poll_item FROM classroom_sessions")).scalar() is None


@pytest.mark.parametrize("values", [
    "'exam', 1",  # kind is pre or post
    "'pre', 3",  # entry 1 or 2
])
def test_paper_entries_refuse_what_the_model_refuses(engine, values):
    migrate(engine)
    fill_0001(engine)
    with pytest.raises(Exception, match="(?i)check"), engine.begin() as c:
        c.execute(text("INSERT INTO paper_entries (id, session_id, user_id, kind, entry_no, item_id, answer, "
                       f"entered_by_id, entered_at) VALUES (:attempt, :session, :user, {values}, 't01', 'null', "
                       ":user, '2026-09-07 09:00:00+00:00')"), IDS)


def test_models_and_the_migrated_schema_agree(engine):
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
