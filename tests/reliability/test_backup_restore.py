"""`sala backup` and `sala restore`: a backup taken while the app writes is a whole, consistent snapshot
(every table's rows equal after a restore into a new path, on SQLite and PostgreSQL); restore refuses a
damaged or unknown backup, a database in use or at a newer schema unless forced, keeps the replaced
files aside, and migrates an older backup."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from engine import backup as backups
from engine.cli import main
from engine.demo import build_demo
from engine.errors import InputError, SalaError, SchemaTooNew
from engine.settings import load_settings
from engine.store.db import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
    session_factory,
    transaction,
)
from engine.store.models import Base, SignInFailure, User

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "fixtures" / "sample"
T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
WRITER = "writer-"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def every_row(url: str) -> dict[str, list[tuple]]:
    """Every table's rows in primary-key order, and the schema revision."""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            rows = {table.name: [tuple(r) for r in c.execute(select(table).order_by(*table.primary_key.columns))]
                    for table in Base.metadata.sorted_tables}
            rows["alembic_version"] = [tuple(r) for r in c.execute(text("SELECT version_num FROM alembic_version"))]
        return rows
    finally:
        engine.dispose()


def small_db(path: Path, names: tuple[str, ...] = ("sokha", "dara")) -> str:
    url = sqlite_url(path)
    engine = make_engine(url)
    try:
        migrate(engine)
        with transaction(session_factory(engine)) as s:
            for name in names:
                s.add(User(username=name, password_hash="x", full_name_km="សុខា " + name))
    finally:
        engine.dispose()
    return url


def usernames(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return list(c.execute(text("SELECT username FROM users ORDER BY username")).scalars())
    finally:
        engine.dispose()


class Writer:
    """Another thread writing numbered rows into the database, as the app would, until stopped."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.factory = session_factory(self.engine)
        self.count = 0
        self.warmed = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        while not self.stop.is_set():
            with transaction(self.factory) as s:
                s.add(SignInFailure(login=f"{WRITER}{self.count:06d}", failed_at=T0 + timedelta(seconds=self.count)))
            self.count += 1
            if self.count == 10:
                self.warmed.set()

    def __enter__(self) -> Writer:
        self.thread.start()
        assert self.warmed.wait(120), "the writer never got going"
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.engine.dispose()

    def keep_writing(self, more: int) -> None:
        """Wait until `more` rows are written after now: the writer went on past the backup."""
        target = self.count + more
        while self.count < target and self.thread.is_alive():
            self.stop.wait(0.01)


def assert_snapshot(source: dict[str, list[tuple]], restored: dict[str, list[tuple]]) -> int:
    """Every table equal, except the writer's rows, of which the copy holds an unbroken first part."""
    assert restored.keys() == source.keys()
    for table in source:
        if table == "sign_in_failures":
            continue
        assert restored[table] == source[table], table
    ours = sorted(r for r in restored["sign_in_failures"] if r[1].startswith(WRITER))
    theirs = {r[0]: r for r in source["sign_in_failures"]}
    assert all(theirs[r[0]] == r for r in ours)
    logins = sorted(r[1] for r in ours)
    assert logins == [f"{WRITER}{n:06d}" for n in range(len(logins))]  # a prefix: no gap, nothing torn
    return len(logins)


# --- SQLite: round trip with the demo population ---------------------------------------------------------


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory) -> str:
    url = sqlite_url(tmp_path_factory.mktemp("demo") / "sala.db")
    build_demo(load_settings({"SALA_DATABASE_URL": url, "SALA_CONTENT_ROOT": str(SAMPLE)}))
    return url


@pytest.mark.slow
def test_sqlite_backup_while_the_app_writes_then_restore_into_a_new_path_gives_every_row(demo_sqlite, tmp_path):
    dump = tmp_path / "backups" / "sala.db"
    with Writer(demo_sqlite) as writer:
        started_at = writer.count
        report = backups.backup(demo_sqlite, dump)
        writer.keep_writing(10)
    assert report.path == dump and report.revision == head_revision() and report.size == dump.stat().st_size
    assert not dump.with_name("sala.db.partial").exists() and not Path(f"{dump}-wal").exists()
    with sqlite3.connect(dump) as c:
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert c.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    target = tmp_path / "restored" / "sala.db"
    restored = backups.restore(sqlite_url(target), dump)
    assert (restored.target, restored.backup_revision, restored.revision, restored.aside) == (
        target, head_revision(), head_revision(), None)

    source_rows = every_row(demo_sqlite)
    copied = assert_snapshot(source_rows, every_row(sqlite_url(target)))
    assert started_at <= copied < writer.count
    assert len(source_rows["users"]) > 150 and len(source_rows["responses"]) > 800


# --- SQLite: the rules of restore -----------------------------------------------------------------------


def test_restore_over_a_database_keeps_the_old_one_aside(tmp_path):
    dump = tmp_path / "monday.db"
    backups.backup(small_db(tmp_path / "monday-source.db", ("sokha", "dara")), dump)
    live = small_db(tmp_path / "live" / "sala.db", ("sokha", "dara", "vanna"))
    engine = make_engine(live)  # leave committed data in the -wal, as a stopped app may
    with engine.connect() as c:
        c.execute(text("PRAGMA wal_autocheckpoint=0"))
    engine.dispose()

    report = backups.restore(live, dump, now=T0)

    assert usernames(live) == ["dara", "sokha"]
    assert report.aside == tmp_path / "live" / "sala.db.before-restore-20260907T080000Z"
    assert usernames(sqlite_url(report.aside)) == ["dara", "sokha", "vanna"]
    assert not (tmp_path / "live" / "sala.db.restoring").exists()


def test_restore_refuses_a_database_another_process_has_open_unless_forced(tmp_path):
    dump = tmp_path / "backup.db"
    backups.backup(small_db(tmp_path / "source.db", ("sokha",)), dump)
    live = small_db(tmp_path / "sala.db", ("dara",))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT count(*) FROM users').fetchone(); print('open', flush=True); sys.stdin.read()",
         str(tmp_path / "sala.db")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert backups.in_use(tmp_path / "sala.db")
        with pytest.raises(SalaError) as refused:
            backups.restore(live, dump)
        assert str(refused.value) == (f"{tmp_path / 'sala.db'}: the database is in use by another process (is the "
                                      "app running?); stop it first, or pass --force")
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert usernames(live) == ["dara"]  # untouched
    assert not backups.in_use(tmp_path / "sala.db")
    assert backups.restore(live, dump).aside is not None
    assert usernames(live) == ["sokha"]


def test_an_older_backup_is_migrated_and_refused_over_a_newer_database_unless_forced(tmp_path):
    older = backups.known_revisions()[-2]
    old_url = small_db(tmp_path / "old.db", ("sokha",))
    engine = make_engine(old_url)
    downgrade(engine, to=older)
    engine.dispose()
    dump = tmp_path / "old-backup.db"
    assert backups.backup(old_url, dump).revision == older

    fresh = backups.restore(sqlite_url(tmp_path / "new" / "sala.db"), dump)
    assert (fresh.backup_revision, fresh.revision) == (older, head_revision())

    live = small_db(tmp_path / "sala.db", ("dara",))
    with pytest.raises(SalaError) as refused:
        backups.restore(live, dump)
    assert str(refused.value) == (f"{tmp_path / 'sala.db'}: its schema revision {head_revision()!r} is newer than "
                                  f"the backup's {older!r}; pass --force to restore the backup anyway")
    assert usernames(live) == ["dara"]

    forced = backups.restore(live, dump, force=True)
    assert (forced.backup_revision, forced.revision) == (older, head_revision())
    assert usernames(live) == ["sokha"] and usernames(sqlite_url(forced.aside)) == ["dara"]
    engine = make_engine(live)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_backup_from_a_newer_sala_is_refused(tmp_path):
    url = small_db(tmp_path / "future.db")
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0042_future'"))
    engine.dispose()
    dump = tmp_path / "future-backup.db"
    assert backups.backup(url, dump).revision == "0042_future"
    live = small_db(tmp_path / "sala.db", ("dara",))
    with pytest.raises(SchemaTooNew, match=r"future-backup.db: the backup is at schema revision '0042_future', "
                                           r"which this Sala does not know"):
        backups.restore(live, dump, force=True)
    assert usernames(live) == ["dara"]


@pytest.mark.parametrize("damage,message", [
    (lambda p: p.write_bytes(b"name,sex\nsokha,female\n"), "not a SQLite database"),
    (lambda p: p.write_bytes(p.read_bytes()[:4096]), "damaged"),
    (lambda p: p.write_bytes(b""), "not a SQLite database"),
])
def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path, damage, message):
    dump = tmp_path / "backup.db"
    backups.backup(small_db(tmp_path / "source.db", ("sokha",)), dump)
    damage(dump)
    live = small_db(tmp_path / "sala.db", ("dara",))
    with pytest.raises(InputError, match=message) as refused:
        backups.restore(live, dump, force=True)
    assert str(refused.value).startswith(f"{dump}: ")
    assert usernames(live) == ["dara"]
    assert not [p.name for p in tmp_path.iterdir() if ".before-restore-" in p.name or p.name.endswith(".restoring")]


def test_a_restore_that_names_no_file_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"missing.db: cannot read the backup: No such file"):
        backups.restore(sqlite_url(tmp_path / "sala.db"), tmp_path / "missing.db")


def test_backup_never_replaces_a_file_unless_forced_and_needs_a_database(tmp_path):
    url = small_db(tmp_path / "sala.db")
    dump = tmp_path / "b.db"
    dump.write_text("keep me")
    with pytest.raises(SalaError, match="already exists; choose another name, or pass --force"):
        backups.backup(url, dump)
    assert dump.read_text() == "keep me"
    assert backups.backup(url, dump, force=True).revision == head_revision()
    with pytest.raises(SalaError, match="there is no database to back up"):
        backups.backup(sqlite_url(tmp_path / "nothing.db"), tmp_path / "c.db")
    assert not (tmp_path / "nothing.db").exists()


def test_the_default_backup_goes_beside_the_database(tmp_path):
    url = small_db(tmp_path / "var" / "sala.db")
    assert backups.default_backup_path(url, T0) == tmp_path / "var" / "backups" / "sala-20260907T080000Z.db"
    report = backups.backup(url)
    assert report.path.parent == tmp_path / "var" / "backups" and report.path.name.startswith("sala-")


def test_the_command_line(tmp_path, monkeypatch, capsys):
    url = small_db(tmp_path / "sala.db", ("sokha",))
    monkeypatch.setenv("SALA_DATABASE_URL", url)
    dump = tmp_path / "b.db"
    assert main(["backup", str(dump)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {dump}: schema revision {head_revision()}, ") and "sha256 " in out

    assert main(["restore", str(dump)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"restored {dump} into {tmp_path / 'sala.db'}: schema revision {head_revision()}"
    assert out[1].startswith(f"the database it replaced is kept as {tmp_path / 'sala.db'}.before-restore-")

    assert main(["restore", str(tmp_path / "nope.db")]) == 2
    assert capsys.readouterr().err.startswith(f"sala: {tmp_path / 'nope.db'}: cannot read the backup")


# --- PostgreSQL --------------------------------------------------------------------------------------------


def test_the_postgresql_commands_never_show_the_password():
    url = make_url("postgresql+psycopg://sala:s3cret@db.example:5433/sala")
    assert backups.pg_commands(url, Path("/srv/b/sala.dump")) == [
        "pg_dump --format=custom --no-owner --file=/srv/b/sala.dump postgresql://sala@db.example:5433/sala",
        "createdb --template=template0 --encoding=UTF8 --maintenance-db=postgresql://sala@db.example:5433/postgres "
        "sala_restored",
        "pg_restore --no-owner --exit-on-error --dbname=postgresql://sala@db.example:5433/sala_restored "
        "/srv/b/sala.dump",
        "SALA_DATABASE_URL='postgresql+psycopg://sala:***@db.example:5433/sala_restored' sala migrate",
    ]


def test_restore_on_postgresql_prints_the_commands_and_changes_nothing(monkeypatch, capsys):
    monkeypatch.setenv("SALA_DATABASE_URL", "postgresql+psycopg://sala:s3cret@db.example:5433/sala")
    assert main(["restore", "/srv/b/sala.dump"]) == 2
    err = capsys.readouterr().err
    assert "pg_restore --no-owner --exit-on-error" in err and "s3cret" not in err


@pytest.fixture
def pg_demo(pg_database_url):
    build_demo(load_settings({"SALA_DATABASE_URL": pg_database_url, "SALA_CONTENT_ROOT": str(SAMPLE)}))
    return pg_database_url


@pytest.mark.slow
def test_postgresql_backup_while_the_app_writes_then_the_printed_restore_gives_every_row(pg_demo, tmp_path):
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is not installed (it comes with the PostgreSQL packages the tests use)")
    url = make_url(pg_demo)
    dump = tmp_path / "sala.dump"
    with Writer(pg_demo) as writer:
        started_at = writer.count
        report = backups.backup(pg_demo, dump)
        writer.keep_writing(10)
    assert report.revision == head_revision() and report.size == dump.stat().st_size > 0

    commands = backups.pg_commands(url, dump)
    restored_name = f"{url.database}_restored"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        for command in commands[1:3]:
            done = subprocess.run(command, shell=True, capture_output=True, text=True)
            assert done.returncode == 0, (command, done.stderr)
        restored_url = url.set(database=restored_name).render_as_string(hide_password=False)
        engine = make_engine(restored_url)
        assert migrate(engine) == head_revision()
        engine.dispose()
        copied = assert_snapshot(every_row(pg_demo), every_row(restored_url))
        assert started_at <= copied < writer.count
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)'))
        admin.dispose()
