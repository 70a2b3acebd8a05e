"""Shared fixtures: every database test runs on a real SQLite file and on a real PostgreSQL server.

PostgreSQL comes from, in order:
1. SALA_TEST_PG_URL (CI's .ci/run starts a cluster and sets it);
2. a throwaway cluster started here with scripts/pg-cluster.sh, when running as root with the
   PostgreSQL server packages installed; the last pytest process using it drops it at exit;
3. nowhere: PostgreSQL tests are skipped, except under CI=true, where they fail.
Each test gets its own database on that server, created for it and dropped after it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from engine import accounts
from engine.demo import build_demo
from engine.settings import load_settings
from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import User

REPO = Path(__file__).resolve().parent.parent
PG_SCRIPT = REPO / "scripts" / "pg-cluster.sh"
# Several pytest processes may share the cluster: each holds this lock shared while it runs, and only
# the one that can take it exclusively at exit (the last) stops the cluster.
PG_LOCK = Path(tempfile.gettempdir()) / "sala-pg-cluster.lock"


def _no_postgresql(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A URL for a PostgreSQL server where the tests may create and drop databases."""
    given = os.environ.get("SALA_TEST_PG_URL")
    if given:
        yield given
        return
    if os.geteuid() != 0 or not shutil.which("pg_createcluster"):
        _no_postgresql("set SALA_TEST_PG_URL, or run as root with the PostgreSQL server packages installed")
    lock = PG_LOCK.open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = subprocess.run([str(PG_SCRIPT), "start"], capture_output=True, text=True)
        fcntl.flock(lock, fcntl.LOCK_SH)
        if started.returncode != 0:
            _no_postgresql(f"scripts/pg-cluster.sh start failed: {started.stderr.strip()}")
        yield started.stdout.strip().splitlines()[-1]
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another pytest process still uses the cluster; it will stop it
        subprocess.run([str(PG_SCRIPT), "stop"], capture_output=True, text=True)
    finally:
        lock.close()


@pytest.fixture
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    name = f"sala_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file in tmp_path, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sala.db'}"
    return request.getfixturevalue("pg_database_url")


@dataclass(frozen=True)
class Store:
    """A migrated database ready for a test: `with transaction(store.sessions) as session: ...`."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    engine = make_engine(db_url)
    migrate(engine)
    try:
        yield Store(url=db_url, engine=engine, sessions=session_factory(engine))
    finally:
        engine.dispose()


# --- The app on the demo population: AppTest sessions signed in as each role --------------------------

APP_MAIN = str(REPO / "engine" / "app" / "main.py")
SAMPLE_COURSE = REPO / "tests" / "fixtures" / "sample"


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('app') / 'sala.db'}"
    env = {"SALA_DATABASE_URL": url, "SALA_CONTENT_ROOT": str(SAMPLE_COURSE)}
    build_demo(load_settings(env))
    return env


@pytest.fixture
def app(demo_env, monkeypatch):
    """Make an AppTest, optionally signed in as `username` (a real token through engine.accounts)."""
    for key, value in demo_env.items():
        monkeypatch.setenv(key, value)

    def make(username: str | None = None, lang: str | None = None) -> AppTest:
        at = AppTest.from_file(APP_MAIN, default_timeout=30)
        if username:
            factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
            with transaction(factory) as session:
                user = session.query(User).filter_by(username=username).one()
                at.session_state["token"] = accounts.open_session(session, user=user, days=1)
        if lang:
            at.session_state["lang"] = lang
        return at

    return make
