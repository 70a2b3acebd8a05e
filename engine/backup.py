"""Backups: `sala backup` and `sala restore`.

SQLite: the online backup API copies the database in one step from one consistent snapshot, while the
app goes on writing (WAL mode: readers never block writers). The copy is checked with
`PRAGMA integrity_check`, made a single self-contained file (journal mode DELETE) and only then given
its name, so a backup that exists is a whole one. Restore checks the backup the same way, refuses to
replace a database that another process has open, or whose schema is newer than the backup's, unless
forced; it keeps the replaced files aside and migrates the restored database if it is older.

PostgreSQL: `sala backup` runs `pg_dump --format=custom` when it is on PATH (the password, if the URL
has one, goes through the environment, never the command line), and otherwise prints the command.
Restoring a national database is an operator's act: `sala restore` prints the exact `createdb` and
`pg_restore` commands for the URL (without its password) and changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from engine.errors import InputError, SalaError, SchemaTooNew
from engine.settings import Settings
from engine.store.base import utcnow
from engine.store.db import alembic_config, current_revision, make_engine, migrate

SQLITE_HEADER = b"SQLite format 3\x00"
# SQLite's unix VFS: every connection to a WAL database holds a shared lock on this byte of the -shm
# file for as long as it is open (the "dead man switch"); another process's lock means it is in use.
SHM_DMS_BYTE = 128


@dataclass(frozen=True)
class BackupReport:
    path: Path
    revision: str | None
    size: int
    sha256: str


@dataclass(frozen=True)
class RestoreReport:
    target: Path
    backup_revision: str
    revision: str
    aside: Path | None


def _url(settings_or_url: Settings | str | URL) -> URL:
    make_engine(settings_or_url).dispose()  # the same checks, and the same one-line errors, as the app
    return make_url(settings_or_url.database_url if isinstance(settings_or_url, Settings) else settings_or_url)


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def known_revisions() -> list[str]:
    """This Sala's schema revisions, oldest first."""
    return [s.revision for s in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))]


# --- SQLite -----------------------------------------------------------------------------------------------


def _open_read_only(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _check(connection: sqlite3.Connection, name: Path) -> None:
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        raise InputError(f"{name}: the database is damaged: {'; '.join(problems[:3])}")


def _copy(source: sqlite3.Connection, dest: Path, name: Path) -> str | None:
    """Copy `source` into a new file `dest` (one step, one snapshot), check it, return its revision."""
    copy = sqlite3.connect(dest)
    try:
        source.backup(copy)
        _check(copy, name)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, with no -wal beside it
        return _revision(copy)
    finally:
        copy.close()


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise SalaError(f"SALA_DATABASE_URL: {url.database or 'an in-memory database'} is not a file to back up")
    return Path(url.database).expanduser()


def _sqlite_backup(database: Path, dest: Path, *, force: bool) -> BackupReport:
    if not database.is_file():
        raise SalaError(f"{database}: there is no database to back up")
    if dest.exists() and not force:
        raise SalaError(f"{dest}: already exists; choose another name, or pass --force to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    source = _open_read_only(database)
    try:
        revision = _copy(source, partial, database)
    except (sqlite3.DatabaseError, InputError) as exc:
        partial.unlink(missing_ok=True)
        raise SalaError(f"{database}: cannot back up: {exc}") from exc
    finally:
        source.close()
    partial.replace(dest)
    return BackupReport(dest, revision, dest.stat().st_size, _sha256(dest))


def in_use(database: Path) -> bool:
    """True if another process has this SQLite (WAL) database open, e.g. a running app."""
    shm = database.with_name(database.name + "-shm")
    try:
        import fcntl
    except ImportError:  # not POSIX: cannot tell
        return False
    try:
        handle = shm.open("r+b")
    except FileNotFoundError:
        return False  # the last connection to close removes it
    with handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_BYTE)
        except OSError:
            return True
        fcntl.lockf(handle, fcntl.LOCK_UN, 1, SHM_DMS_BYTE)
    return False


def inspect_backup(path: Path) -> str:
    """The schema revision of a SQLite backup, after checking it is whole and one this Sala can use."""
    try:
        header = path.open("rb").read(len(SQLITE_HEADER))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the backup: {exc.strerror}") from exc
    if header != SQLITE_HEADER:
        raise InputError(f"{path}: not a SQLite database (a PostgreSQL backup is restored with pg_restore)")
    try:
        connection = _open_read_only(path)
        try:
            _check(connection, path)
            revision = _revision(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: the backup is damaged: {exc}") from exc
    if revision is None:
        raise InputError(f"{path}: not a Sala database: it has no schema revision")
    known = known_revisions()
    if revision not in known:
        raise SchemaTooNew(f"{path}: the backup is at schema revision {revision!r}, which this Sala does not know "
                           f"(its newest is {known[-1]!r}): restore it with the Sala that made it")
    return revision


def _target_revision(database: Path) -> str | None:
    connection = _open_read_only(database)
    try:
        return _revision(connection)
    finally:
        connection.close()


def _refuse_unless_forced(database: Path, backup_revision: str, *, force: bool) -> None:
    if force or not database.exists():
        return
    if in_use(database):
        raise SalaError(f"{database}: the database is in use by another process (is the app running?); "
                        "stop it first, or pass --force")
    current = _target_revision(database)
    known = known_revisions()
    if current is not None and (current not in known or known.index(current) > known.index(backup_revision)):
        raise SalaError(f"{database}: its schema revision {current!r} is newer than the backup's "
                        f"{backup_revision!r}; pass --force to restore the backup anyway")


def _sqlite_restore(url: URL, source: Path, *, force: bool, now: datetime) -> RestoreReport:
    database = _sqlite_path(url)
    backup_revision = inspect_backup(source)
    _refuse_unless_forced(database, backup_revision, force=force)
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".restoring")
    partial.unlink(missing_ok=True)
    reader = _open_read_only(source)
    try:
        _copy(reader, partial, source)
    except (sqlite3.DatabaseError, InputError) as exc:
        partial.unlink(missing_ok=True)
        raise SalaError(f"{source}: cannot restore: {exc}") from exc
    finally:
        reader.close()
    aside = None
    if database.exists():
        aside = database.with_name(f"{database.name}.before-restore-{_stamp(now)}")
        for suffix in ("", "-wal", "-shm"):  # the -wal holds committed data: it goes with its database
            part = database.with_name(database.name + suffix)
            if part.exists():
                part.replace(aside.with_name(aside.name + suffix))
    partial.replace(database)
    engine = make_engine(url)
    try:
        revision = migrate(engine)
    finally:
        engine.dispose()
    return RestoreReport(database, backup_revision, revision, aside)


# --- PostgreSQL -------------------------------------------------------------------------------------------


def libpq_url(url: URL, database: str | None = None) -> str:
    """The URL as pg_dump and psql take it: no driver name, no password."""
    # URL.set(password=None) keeps the password (None means "unchanged"): build the URL anew without it.
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=database if database is not None else url.database, query=url.query)
    return plain.render_as_string(hide_password=False)


def pg_commands(url: URL, dump: Path) -> list[str]:
    """The commands that back up the database at `url` into `dump` and restore it into a new database."""
    new = f"{url.database}_restored"
    q = shlex.quote
    return [
        f"pg_dump --format=custom --no-owner --file={q(str(dump))} {q(libpq_url(url))}",
        f"createdb --template=template0 --encoding=UTF8 --maintenance-db={q(libpq_url(url, 'postgres'))} {q(new)}",
        f"pg_restore --no-owner --exit-on-error --dbname={q(libpq_url(url, new))} {q(str(dump))}",
        f"SALA_DATABASE_URL={q(url.set(database=new).render_as_string(hide_password=True))} sala migrate",
    ]


def _pg_backup(url: URL, dest: Path, *, force: bool) -> BackupReport:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise SalaError("pg_dump is not installed (Debian: apt-get install postgresql-client); back up with:\n  "
                        + pg_commands(url, dest)[0])
    if dest.exists() and not force:
        raise SalaError(f"{dest}: already exists; choose another name, or pass --force to replace it")
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    env = dict(os.environ, **({"PGPASSWORD": url.password} if url.password else {}))
    done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={partial}", libpq_url(url)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SalaError(f"pg_dump failed for {libpq_url(url)}: {reason}")
    listed = subprocess.run([shutil.which("pg_restore") or "pg_restore", "--list", str(partial)],
                            capture_output=True, text=True)
    if listed.returncode != 0 or "alembic_version" not in listed.stdout:
        partial.unlink(missing_ok=True)
        raise SalaError(f"{dest}: pg_dump wrote an archive that pg_restore cannot read")
    partial.replace(dest)
    return BackupReport(dest, revision, dest.stat().st_size, _sha256(dest))


# --- Entry points -----------------------------------------------------------------------------------------


def default_backup_path(settings_or_url: Settings | str | URL, now: datetime | None = None) -> Path:
    """var/backups/sala-<UTC time>.db beside a SQLite database; ./sala-<db>-<UTC time>.dump for PostgreSQL."""
    url = _url(settings_or_url)
    stamp = _stamp(now or utcnow())
    if url.get_backend_name() == "sqlite":
        database = _sqlite_path(url)
        return database.parent / "backups" / f"{database.stem}-{stamp}.db"
    return Path(f"sala-{url.database}-{stamp}.dump")


def backup(settings_or_url: Settings | str | URL, dest: Path | None = None, *, force: bool = False) -> BackupReport:
    """Back the database up into `dest` (default: default_backup_path); safe while the app is running."""
    url = _url(settings_or_url)
    dest = Path(dest) if dest is not None else default_backup_path(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_backup(_sqlite_path(url), dest, force=force)
    return _pg_backup(url, dest, force=force)


def restore(settings_or_url: Settings | str | URL, source: Path, *, force: bool = False,
            now: datetime | None = None) -> RestoreReport:
    """Replace the SQLite database with the backup `source` (see the module's docstring for the rules)."""
    url = _url(settings_or_url)
    if url.get_backend_name() != "sqlite":
        raise SalaError("restoring PostgreSQL is done with pg_restore into a new database:\n  "
                        + "\n  ".join(pg_commands(url, Path(source))[1:]))
    return _sqlite_restore(url, Path(source), force=force, now=now or utcnow())
