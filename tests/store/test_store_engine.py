"""The engine: made from SALA_DATABASE_URL, refusing what it cannot use in one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.errors import ConfigError
from engine.settings import load_settings
from engine.store.db import check_connection, current_revision, make_engine, migrate

pytestmark = pytest.mark.store

REPO = Path(__file__).resolve().parents[2]
HINT = "use sqlite:///path/to/sala.db or postgresql+psycopg://user@host/database"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", f"SALA_DATABASE_URL: cannot use 'nonsense': not a database URL; {HINT}"),
        ("", f"SALA_DATABASE_URL: cannot use '': not a database URL; {HINT}"),
        ("foo://bar", f"SALA_DATABASE_URL: cannot use 'foo://bar': Sala runs on SQLite or PostgreSQL; {HINT}"),
        (
            "mysql://sala:secret@db/sala",
            f"SALA_DATABASE_URL: cannot use 'mysql://sala:***@db/sala': Sala runs on SQLite or PostgreSQL; {HINT}",
        ),
        (
            "postgresql+nosuch://db/sala",
            "SALA_DATABASE_URL: cannot use 'postgresql+nosuch://db/sala': no such database driver "
            f"(Can't load plugin: sqlalchemy.dialects:postgresql.nosuch); {HINT}",
        ),
    ],
)
def test_an_unusable_url_is_one_line_naming_the_setting(url, message):
    with pytest.raises(ConfigError) as raised:
        make_engine(url)
    assert str(raised.value) == message


def test_settings_are_accepted_as_well_as_a_url(tmp_path):
    settings = load_settings({"SALA_DATABASE_URL": f"sqlite:///{tmp_path / 'sala.db'}"})
    engine = make_engine(settings)
    try:
        check_connection(engine)
        assert engine.url.database == str(tmp_path / "sala.db")
    finally:
        engine.dispose()


def test_sqlite_creates_the_folder_and_sets_its_pragmas_on_every_connection(tmp_path):
    path = tmp_path / "var" / "deep" / "sala.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert path.parent.is_dir()
        for _ in range(2):  # a fresh connection each time, not one pooled connection
            with engine.connect() as connection:
                pragma = {
                    name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
                }
            assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000, "synchronous": 1}
            engine.pool.dispose()
    finally:
        engine.dispose()


def test_a_failed_migration_step_leaves_sqlite_unchanged(tmp_path):
    # DDL runs inside the transaction (BEGIN is ours, not the sqlite3 module's), so it rolls back.
    engine = make_engine(f"sqlite:///{tmp_path / 'sala.db'}")
    try:
        with pytest.raises(RuntimeError), engine.begin() as connection:
            connection.execute(text("CREATE TABLE scratch (id INTEGER)"))
            raise RuntimeError("a step failed")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("call", [migrate, current_revision, check_connection])
def test_a_postgresql_server_that_cannot_be_reached_is_a_config_error(call):
    engine = make_engine("postgresql+psycopg://sala:secret@127.0.0.1:1/sala")
    try:
        with pytest.raises(ConfigError) as raised:
            call(engine)
    finally:
        engine.dispose()
    message = str(raised.value)
    assert message.startswith("SALA_DATABASE_URL: cannot connect to 'postgresql+psycopg://sala:***@127.0.0.1:1/sala': ")
    assert "secret" not in message and "\n" not in message


def test_a_sqlite_file_that_cannot_be_opened_is_a_config_error(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}")  # a folder, not a file
    try:
        with pytest.raises(ConfigError) as raised:
            migrate(engine)
    finally:
        engine.dispose()
    assert str(raised.value) == (
        f"SALA_DATABASE_URL: cannot connect to 'sqlite:///{tmp_path}': unable to open database file"
    )


def test_importing_the_store_creates_no_engine_and_no_file(tmp_path):
    env = {**os.environ, "SALA_DATABASE_URL": f"sqlite:///{tmp_path / 'sala.db'}"}
    code = "import engine.store, engine.store.db, engine.store.models"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)
    assert list(tmp_path.iterdir()) == []
