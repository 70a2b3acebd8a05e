"""The database: an engine made from settings, the schema brought to head, sessions handed out.

Nothing here runs at import time. The app and the CLI call `make_engine` once, then `migrate`, then
pass `session_factory(engine)` to whatever needs a session.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import ConfigError, SchemaTooNew
from engine.settings import Settings
from engine.store.base import new_id, utcnow

try:
    import fcntl
except ImportError:  # Windows: the threads of one process still queue
    fcntl = None

__all__ = [
    "alembic_config",
    "check_connection",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "migrate",
    "new_id",
    "session_factory",
    "transaction",
    "utcnow",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BACKENDS = ("sqlite", "postgresql")
SUPPORTED = "use sqlite:///path/to/sala.db or postgresql+psycopg://user@host/database"
# Any constant will do: it only has to be the same for every Sala process sharing a PostgreSQL server.
MIGRATION_LOCK = 0x5A1A
# The writers' queue of each SQLite file this process writes to (see _SqliteWriters).
_SQLITE_WRITERS: dict[str, _SqliteWriters] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def make_engine(settings_or_url: Settings | str | URL, *, echo: bool = False) -> Engine:
    """An engine for SALA_DATABASE_URL. Nothing connects until the engine is first used.

    Statement parameters never reach the log or an error's message (hide_parameters): a login typed at
    sign-in may be a password typed in the wrong box, and a value in a failed statement may be anything.
    """
    raw = settings_or_url.database_url if isinstance(settings_or_url, Settings) else settings_or_url
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError, TypeError) as exc:
        raise ConfigError(f"SALA_DATABASE_URL: cannot use {str(raw)!r}: not a database URL; {SUPPORTED}") from exc
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() not in BACKENDS:
        raise ConfigError(f"SALA_DATABASE_URL: cannot use {shown!r}: Sala runs on SQLite or PostgreSQL; {SUPPORTED}")
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url, shown, echo=echo)
        return create_engine(url, pool_pre_ping=True, echo=echo, hide_parameters=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"SALA_DATABASE_URL: cannot use {shown!r}: no such database driver ({exc}); {SUPPORTED}"
        ) from exc


def _sqlite_engine(url: URL, shown: str, *, echo: bool) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"SALA_DATABASE_URL: cannot use {shown!r}: {exc.strerror}: {exc.filename}") from exc
    engine = create_engine(url, echo=echo, hide_parameters=True)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins (see _sqlite_on_begin),
    # so DDL is transactional too and a failed migration leaves nothing behind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # busy_timeout first: switching to WAL needs the lock too, and must wait for it, not fail at once,
    # when another process is opening or migrating the same file.
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL is a property of the file, kept once set: a connection that finds it set does not ask again
    # (asking takes the lock, and the pool opens its connections in the middle of a burst of writers).
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    for pragma in ("foreign_keys=ON", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # A transaction that reads and then writes can fail at once with "database is locked" when
    # another writer committed in between; IMMEDIATE takes the write lock first and waits its turn.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def _connect(engine: Engine) -> Iterator[Connection]:
    """A connection, or ConfigError naming SALA_DATABASE_URL when the database cannot be reached."""
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"SALA_DATABASE_URL: cannot connect to {shown!r}: {reason}") from exc
    with connection:
        yield connection


def check_connection(engine: Engine) -> None:
    """Connect once and run a trivial query; ConfigError if the database cannot be reached."""
    with _connect(engine) as connection:
        connection.execute(text("SELECT 1"))


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed to migrate."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "engine/store/migrations/versions holds no revision"
    return head


def _revisions_in(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database Sala never migrated."""
    with _connect(engine) as connection:
        heads = _revisions_in(connection)
    return heads[0] if heads else None


def _refuse_unknown(connection: Connection) -> None:
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    for revision in _revisions_in(connection):
        if revision not in known:
            raise SchemaTooNew(
                f"the database is at schema revision {revision!r}, which this Sala does not know "
                f"(its newest is {head_revision()!r}): a newer Sala migrated it; upgrade Sala to use it"
            )


@contextmanager
def _migration(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole change, with other Sala processes kept out until it ends."""
    with _connect(engine) as connection:
        connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            _refuse_unknown(connection)
            yield connection


def migrate(engine: Engine) -> str:
    """Bring the database to the newest schema (from empty or from an older revision); return it.

    SchemaTooNew if a newer Sala has already migrated it: this code must not touch that schema.
    """
    with _migration(engine) as connection:
        command.upgrade(alembic_config(connection), "head")
        revision = _revisions_in(connection)
    return revision[0]


def downgrade(engine: Engine, *, to: str = "base") -> str | None:
    """Take the schema back to revision `to` ("base" drops every table); return where it now is."""
    with _migration(engine) as connection:
        command.downgrade(alembic_config(connection), to)
        revision = _revisions_in(connection)
    return revision[0] if revision else None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit, for pages that render them afterwards."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed if the block ends normally, rolled back if it raises.

    Use it for anything that writes. On SQLite it takes the write lock at the start (BEGIN IMMEDIATE),
    so two writers queue for up to busy_timeout instead of one failing with "database is locked".
    """
    with factory() as session, _one_writer(session.get_bind()):
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class _SqliteWriters:
    """The turn to write to one SQLite file: first among this process's threads, then among processes.

    SQLite has one writer at a time, and its busy handler does not queue the others: each sleeps and
    polls, so under a burst (200 learners answering at once) a waiter can lose every poll until
    busy_timeout and fail with "database is locked", while the process that holds the lock keeps it
    for its next thread. Here threads queue on a lock, and processes on an flock of `<db>-writer`
    beside the database, which the kernel hands on as soon as it is released (and releases when a
    process dies). Re-entrant: a transaction opened inside another on the same thread goes on to
    SQLite as before. Where flock is missing (Windows) or the file cannot be made, threads still queue.
    """

    def __init__(self, path: str) -> None:
        self.path, self.pid = path, os.getpid()
        self.threads = threading.RLock()
        self.depth = 0
        self.fd: int | None = None

    def __enter__(self) -> None:
        self.threads.acquire()
        try:
            if self.depth == 0 and self._file() is not None:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.threads.release()
            raise
        self.depth += 1

    def __exit__(self, *exc_info) -> None:
        self.depth -= 1
        try:
            if self.depth == 0 and self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()

    def _file(self) -> int | None:
        if fcntl is None or not self.path:
            return None
        if self.fd is None:
            try:
                self.fd = os.open(f"{self.path}-writer", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                self.path = ""  # a read-only folder: threads still queue
        return self.fd


def _one_writer(engine: Engine) -> AbstractContextManager:
    """The writers' queue of this engine's SQLite file (see _SqliteWriters); nothing for PostgreSQL."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    on_disk = database if database and database != ":memory:" and not database.startswith("file:") else ""
    key = str(Path(on_disk).expanduser().resolve()) if on_disk else database
    with _SQLITE_WRITERS_GUARD:
        writers = _SQLITE_WRITERS.get(key)
        if writers is None or writers.pid != os.getpid():  # a forked child must not share its parent's lock
            writers = _SQLITE_WRITERS[key] = _SqliteWriters(on_disk and key)
        return writers
