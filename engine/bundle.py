"""Classroom bundles: everything a classroom session produced, carried from a facilitator's laptop to
the national server as one file, and merged there without clashes or duplicates. Pure of Streamlit.

A bundle is a ZIP holding two files:
- `bundle.json`: the format version, when and where it was made (Sala version, schema revision, host
  and database), the session it carries, row counts, and the rows of each table as JSON objects with
  every column of the table (read from the table's metadata, so a column added by a migration travels
  without a change here), datetimes as ISO 8601 in UTC, rows in primary-key order; a staff account's
  password hash and another cohort's enrolment code never travel (see NOT_CARRIED);
- `SHA256SUMS`: the SHA-256 of bundle.json, in `sha256sum -c` form.

Importing checks the ZIP, the checksum, the format, the schema revision and every value before it
reads the database, then plans the whole import before it writes anything:
- a row whose id is not on the server is inserted (tables in dependency order, parents first);
- a row whose id is there with the same content is skipped, so importing a bundle twice changes nothing;
- a learner record (session, attendance, attempt, response, paper entry) whose id is there with other
  content is a conflict, and so is a natural-key clash: a username or phone, an attempt's idempotency
  key, an attendance (session, learner) pair or any other unique value already held by another id;
- people and cohorts are maintained on the server (passwords reset, profiles edited, enrolment codes
  renewed), so a user or cohort whose id is there with other content keeps the server's copy, and an
  enrolment the server already holds under another id is the same fact: both are counted in
  `kept_server`, not conflicts.
Any conflict aborts the whole import: every conflict is reported and nothing is written. The caller
runs it in one transaction (`engine.store.db.transaction`); a row that still fails on insert rolls it
all back with an InputError.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import socket
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata as package_metadata

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, Table, UniqueConstraint, inspect, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, TypeDecorator

from engine import summaries
from engine.errors import InputError
from engine.store.base import Base, utcnow
from engine.store.db import alembic_config
from engine.store.models import ClassroomSession

FORMAT = "sala-classroom-bundle"
FORMAT_VERSION = 1
BUNDLE_JSON = "bundle.json"
SUMS = "SHA256SUMS"
MAX_JSON_BYTES = 64 * 1024 * 1024
"""bundle.json unpacked: a session of 500 participants is a few MB; JSON parsed into Python takes tens of
times its size in memory, so the limit is checked on the ZIP's directory, before anything is unpacked."""
MAX_SUMS_BYTES = 4096
ORDER = ("users", "cohorts", "enrolments", "classroom_sessions", "attendance", "attempts", "responses",
         "paper_entries")
"""The tables a bundle carries, in the order they are inserted: every table after those it refers to."""
SERVER_KEEPS = ("users", "cohorts", "enrolments")
"""Kept as the server has them when they differ: people and cohorts are maintained there."""
REFERENCED = ("users", "cohorts")
"""Rows that travel because a carried row refers to them (a facilitator, a trainer, a parent cohort)."""
NO_PASSWORD = "!"
"""Carried instead of the password hash of a staff account (facilitator, trainer, coordinator, administrator):
whoever downloads a session's bundle must not get the hashes of the staff it names (the administrator, as the
parent cohort's trainer). Staff accounts are kept on the server; a learner's hash travels, for an account made
on the laptop. No password matches it."""
NOT_CARRIED = {("users", "password_hash"): NO_PASSWORD, ("cohorts", "enrol_code"): None,
               ("cohorts", "enrol_code_expires_at"): None}
"""What a bundle holds in place of a secret it does not carry: staff password hashes, and the enrolment code
of every cohort but the session's own (a parent cohort's code would let its holder register people into the
ToT cohort). On import, a value equal to its stand-in is never a difference: the server keeps its own."""
CHUNK = 500
_PG_IMPORT_LOCK = 0x5A1B  # one import at a time on a shared PostgreSQL server


class BundleRefused(InputError):
    """A bundle refused before anything was written. `check` names the check that failed, for a page to
    translate: zip (not a ZIP, truncated, encrypted, an unknown compression), member (missing, unexpected
    or damaged file), size, checksum, format, count, schema, value (a row's value), store (the database
    would not take a row)."""

    def __init__(self, name: str, check: str, message: str):
        super().__init__(f"{name}: refused: {message}")
        self.check = check


@dataclass
class ImportReport:
    inserted: dict[str, int]
    skipped_identical: dict[str, int]
    conflicts: list[str]
    kept_server: dict[str, int] = field(default_factory=dict)
    """Users and cohorts the server holds in another version, and enrolments it holds under another id."""
    notes: list[str] = field(default_factory=list)
    """One line per row counted in kept_server."""
    session: dict[str, object] = field(default_factory=dict)
    """The bundle's summary of the classroom session it carries."""

    @property
    def written(self) -> bool:
        """False when a conflict aborted the import: then nothing was written."""
        return not self.conflicts


# --- Schema: the tables as the database has them ------------------------------------------------------


def _schema(connection: Connection) -> dict[str, Table]:
    """The carried tables this database holds, by name: the model's table when its columns are the
    database's; otherwise the reflected table (every column the database has), with the model's types
    for the columns the model knows."""
    present = [name for name in ORDER if inspect(connection).has_table(name)]
    reflected = MetaData()
    reflected.reflect(bind=connection, only=present)
    tables = {}
    for name in present:
        model, found = Base.metadata.tables.get(name), reflected.tables[name]
        if model is not None and set(found.columns.keys()) == set(model.columns.keys()):
            tables[name] = model
            continue
        for column in found.columns:
            if model is not None and column.name in model.columns:
                column.type = model.columns[column.name].type
        tables[name] = found
    return tables


def _key(table: Table) -> str:
    (column,) = table.primary_key.columns
    return column.name


def _uniques(table: Table) -> list[tuple[str, ...]]:
    """Every set of columns that must be unique, besides the primary key."""
    sets = {tuple(c.name for c in constraint.columns) for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)}
    sets |= {tuple(c.name for c in index.columns) for index in table.indexes if index.unique}
    return sorted(s for s in sets if s and s != (_key(table),))


def _references(table: Table, target: str) -> list[str]:
    """The columns of `table` that refer to the primary key of `target`."""
    return sorted({fk.parent.name for fk in table.foreign_keys if fk.column.table.name == target})


def _schema_revision(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


# --- Values: database rows to JSON and back -----------------------------------------------------------


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        # SQLite hands back naive datetimes for columns reflected without the model's type: they are UTC.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode(table: Table, column_name: str, value: object) -> object:
    """The Python value for a JSON value, or ValueError saying what was expected."""
    column_type = table.columns[column_name].type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance  # UTCDateTime: what it stores is a datetime
    if value is None or isinstance(column_type, JSON):
        return value
    try:
        kind = column_type.python_type
    except NotImplementedError:
        return value
    if kind is datetime:
        parsed = datetime.fromisoformat(_expect(value, str, "an ISO datetime"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    if kind is date:
        return date.fromisoformat(_expect(value, str, "an ISO date"))
    if kind is float:
        number = _expect(value, (int, float), "a number")
        if isinstance(number, int) and abs(number) > 2**53 or not math.isfinite(number):
            raise ValueError(f"expected a number, got {_shown(number)}")
        return float(number)
    if kind is Decimal:
        return Decimal(str(_expect(value, (int, float, str), "a number")))
    if kind is bool:
        return _expect(value, bool, "true or false")
    if kind is int:
        number = _expect(value, int, "a whole number")
        if not -(2**63) <= number < 2**63:  # what SQLite and PostgreSQL's bigint hold
            raise ValueError(f"expected a whole number, got {_shown(number)}")
        return number
    if kind is str:
        if "\x00" in _expect(value, str, "text"):
            raise ValueError("expected text, got text with a NUL character")
        length = getattr(column_type, "length", None)
        if length and len(value) > length:  # PostgreSQL would refuse it at the insert, SQLite would keep it
            raise ValueError(f"expected at most {length} characters, got {len(value)}")
        return value
    return value


def _expect(value: object, kinds, what: str):
    if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is not bool):
        raise ValueError(f"expected {what}, got {json.dumps(value, ensure_ascii=False)[:60]}")
    return value


def _as_json(table: Table, row) -> dict[str, object]:
    return {column.name: _encode(row[column.name]) for column in table.columns}


# --- Export -------------------------------------------------------------------------------------------


def find_session(session: Session, id_or_code: str) -> ClassroomSession:
    """The classroom session with this id, or this join code as people type it (any case, spaces and
    dashes), open or closed; InputError if there is none."""
    wanted = id_or_code.strip()
    code = "".join(wanted.split()).replace("-", "").upper()
    found = session.get(ClassroomSession, wanted) or session.scalar(
        select(ClassroomSession).where(ClassroomSession.join_code == code))
    if found is None:
        raise InputError(f"no classroom session has the id or join code {wanted!r}")
    return found


def _fetch(connection: Connection, table: Table, column: str, values: Iterable[object]) -> list[dict]:
    values = sorted(set(values))
    rows = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start:start + CHUNK]
        rows += connection.execute(select(table).where(table.columns[column].in_(chunk))).mappings().all()
    return rows


def _collect(connection: Connection, tables: dict[str, Table], session_id: str) -> dict[str, dict[str, dict]]:
    """Rows by table and id: the session and all it produced, the learners in it, and what those refer to."""
    carried: dict[str, dict[str, dict]] = {name: {} for name in tables}

    def keep(name: str, rows: Iterable) -> None:
        table = tables[name]
        for row in rows:
            carried[name][row[_key(table)]] = _as_json(table, row)

    keep("classroom_sessions", _fetch(connection, tables["classroom_sessions"], "id", [session_id]))
    if not carried["classroom_sessions"]:
        raise InputError(f"no classroom session has the id {session_id!r}")
    for name in ("attendance", "attempts", "paper_entries"):
        for column in _references(tables[name], "classroom_sessions") if name in tables else []:
            keep(name, _fetch(connection, tables[name], column, [session_id]))
    keep("responses", _fetch(connection, tables["responses"], "attempt_id", carried["attempts"]))
    learners = {row["user_id"] for name in ("attendance", "attempts", "paper_entries")
                for row in carried.get(name, {}).values() if row.get("user_id")}
    cohort_id = carried["classroom_sessions"][session_id]["cohort_id"]
    enrolments = _fetch(connection, tables["enrolments"], "user_id", learners)
    keep("enrolments", [row for row in enrolments if row["cohort_id"] == cohort_id])
    keep("cohorts", _fetch(connection, tables["cohorts"], "id", [cohort_id]))
    _close_references(connection, tables, carried, keep)
    for row in carried["users"].values():
        if row.get("role") != "learner":
            row["password_hash"] = NO_PASSWORD
    for row_id, row in carried["cohorts"].items():
        if row_id != cohort_id:
            row.update({column: NOT_CARRIED["cohorts", column] for column in ("enrol_code", "enrol_code_expires_at")
                        if column in row})
    return carried


def _close_references(connection, tables, carried, keep) -> None:
    """Add every user and cohort a carried row refers to, until nothing is missing."""
    while True:
        missing = {target: set() for target in REFERENCED}
        for name, table in tables.items():
            for target in REFERENCED:
                for column in _references(table, target):
                    missing[target] |= {row[column] for row in carried[name].values() if row[column]}
        added = False
        for target in REFERENCED:
            wanted = missing[target] - carried[target].keys()
            if wanted:
                keep(target, _fetch(connection, tables[target], "id", wanted))
                added = True
        if not added:
            return


def _sala_version() -> str:
    try:
        return package_metadata.version("sala")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def export_session(session: Session, *, session_id: str) -> bytes:
    """The bundle of one classroom session, as the bytes of a ZIP file."""
    connection = session.connection()
    tables = _schema(connection)
    carried = _collect(connection, tables, session_id)
    row = carried["classroom_sessions"][session_id]
    created = utcnow().replace(microsecond=0)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created.isoformat(),
        "sala_version": _sala_version(),
        "schema_revision": _schema_revision(connection),
        "source": {"hostname": socket.gethostname(),
                   "database": connection.engine.url.render_as_string(hide_password=True)},
        "session": {key: row.get(key) for key in ("id", "join_code", "module_id", "cohort_id", "held_on", "state")},
        "counts": {name: len(rows) for name, rows in carried.items()},
        "tables": {name: [rows[key] for key in sorted(rows)] for name, rows in carried.items()},
    }
    body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    sums = f"{hashlib.sha256(body).hexdigest()}  {BUNDLE_JSON}\n".encode("ascii")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in ((BUNDLE_JSON, body), (SUMS, sums)):
            info = zipfile.ZipInfo(name, date_time=created.timetuple()[:6])
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            archive.writestr(info, payload)
    return out.getvalue()


# --- Reading and checking a bundle, before the database is touched -------------------------------------


def read_bundle(data: bytes, *, name: str = "bundle") -> dict:
    """bundle.json, once the ZIP, the checksum and the format are checked; InputError naming the check
    that failed otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise BundleRefused(name, "zip", f"not a ZIP archive, or a truncated one (ZIP check failed: {exc})") from exc
    with archive:
        members = set(archive.namelist())
        for wanted in (BUNDLE_JSON, SUMS):
            if wanted not in members:
                raise BundleRefused(name, "member", f"not a Sala bundle: it holds no {wanted}")
        unexpected = sorted(members - {BUNDLE_JSON, SUMS})
        if unexpected:
            raise BundleRefused(name, "member", f"not a Sala bundle: unexpected file {unexpected[0]!r}")
        for member, limit in ((BUNDLE_JSON, MAX_JSON_BYTES), (SUMS, MAX_SUMS_BYTES)):
            if archive.getinfo(member).file_size > limit:
                shown = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit:,} bytes"
                raise BundleRefused(name, "size", f"{member} unpacks to more than {shown}")
        body, sums = _member(archive, name, BUNDLE_JSON), _member(archive, name, SUMS)
    _check_sum(name, body, sums)
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleRefused(name, "format", f"{BUNDLE_JSON} is not valid UTF-8 JSON ({exc})") from exc
    _check_format(name, doc)
    return doc


def _no_constant(word: str):
    raise ValueError(f"{word} is not a number JSON allows")


def _member(archive: zipfile.ZipFile, name: str, member: str) -> bytes:
    """A member's bytes; zipfile reads at most the size the directory declares and checks the CRC."""
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise BundleRefused(name, "member", f"{member} is damaged (ZIP integrity check failed: {exc})") from exc
    except (RuntimeError, NotImplementedError) as exc:  # zipfile's words for encrypted, and for unknown methods
        raise BundleRefused(name, "zip", f"{member} cannot be unpacked ({exc}); a Sala bundle is a plain ZIP, "
                            "never encrypted") from exc


def _check_sum(name: str, body: bytes, sums: bytes) -> None:
    listed = {}
    for line in sums.decode("ascii", "replace").splitlines():
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.strip())
        if match:
            listed[match.group(2)] = match.group(1)
    if BUNDLE_JSON not in listed:
        raise BundleRefused(name, "checksum", f"{SUMS} holds no SHA-256 for {BUNDLE_JSON} (checksum check failed)")
    actual = hashlib.sha256(body).hexdigest()
    if actual != listed[BUNDLE_JSON]:
        raise BundleRefused(name, "checksum", f"{BUNDLE_JSON} does not match its SHA-256 in {SUMS} (checksum "
                            "check failed: the file was edited or damaged after export)")


def _check_format(name: str, doc: object) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleRefused(name, "format", f"{BUNDLE_JSON} is not a Sala classroom bundle (format check failed)")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleRefused(name, "format", f"bundle format version {_shown(version)}; this Sala reads version "
                            f"{FORMAT_VERSION} (format check failed)")
    tables, counts = doc.get("tables"), doc.get("counts")
    if not isinstance(tables, dict) or not isinstance(counts, dict):
        raise BundleRefused(name, "format", f"{BUNDLE_JSON} has no tables or counts (format check failed)")
    for key, kind in (("session", dict), ("schema_revision", str)):
        if key in doc and not isinstance(doc[key], kind):
            raise BundleRefused(name, "format", f"{key}: expected {'a mapping' if kind is dict else 'text'}, got "
                                f"{_shown(doc[key])} (format check failed)")
    for table, rows in tables.items():
        if table not in ORDER:
            raise BundleRefused(name, "format", f"a bundle carries no table {_shown(table)} (format check failed)")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise BundleRefused(name, "format", f"{table}: expected a list of rows (format check failed)")
        if counts.get(table) != len(rows):
            raise BundleRefused(name, "count", f"{table}: the counts say {_shown(counts.get(table))} rows, the "
                                f"bundle holds {len(rows)} (count check failed)")


def _shown(value: object) -> str:
    """A value from the file, for a message: as JSON, and short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_revision(name: str, revision: object) -> None:
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if not isinstance(revision, str) or revision not in known:
        raise BundleRefused(name, "schema", f"made at schema revision {revision!r}, which this Sala does not "
                            "know: upgrade Sala on this server first (schema check failed)")


def _decoded(name: str, doc: dict, tables: dict[str, Table]) -> dict[str, list[dict]]:
    """The bundle's rows as Python values for this database's columns; InputError naming the first bad value."""
    out = {}
    for table_name in ORDER:
        rows = doc["tables"].get(table_name)
        if rows is None or (not rows and table_name not in tables):
            continue
        if table_name not in tables:
            raise BundleRefused(name, "schema", f"it carries {table_name}, which this database does not have")
        table = tables[table_name]
        out[table_name] = [_decode_row(name, table, number, row) for number, row in enumerate(rows, start=1)]
    return out


def _decode_row(name: str, table: Table, number: int, row: dict) -> dict:
    key = _key(table)
    where = f"{table.name} row {number} ({_shown(row.get(key))})"
    unknown = sorted(set(row) - set(table.columns.keys()))
    if unknown:
        raise BundleRefused(name, "value", f"{where}: column {_shown(unknown[0])} does not exist in this database")
    if not isinstance(row.get(key), str) or not row[key]:
        raise BundleRefused(name, "value", f"{where}: {key}: expected an id")
    decoded = {}
    for column, value in row.items():
        try:
            decoded[column] = _decode(table, column, value)
        except ValueError as exc:
            raise BundleRefused(name, "value", f"{where}: {column}: {exc}") from exc
    return decoded


# --- Import -------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    new: dict[str, list[dict]] = field(default_factory=dict)
    report: ImportReport = field(default_factory=lambda: ImportReport({}, {}, []))
    owners: dict[tuple[str, tuple[str, ...]], dict] = field(default_factory=dict)
    """Server ids by unique values, per (table, columns): looked up once per table."""


def import_bundle(session: Session, data: bytes, *, name: str = "bundle") -> ImportReport:
    """Merge a bundle into this database; see the module's docstring for what is inserted, skipped, kept
    or a conflict. With any conflict nothing is written and the report lists every conflict."""
    doc = read_bundle(data, name=name)
    _check_revision(name, doc.get("schema_revision"))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_IMPORT_LOCK})
    tables = _schema(connection)
    rows = _decoded(name, doc, tables)
    plan = _Plan()
    plan.report.session = dict(doc.get("session") or {})
    for table_name, table_rows in rows.items():
        _plan_table(connection, tables[table_name], table_rows, plan)
    report = plan.report
    if report.conflicts:
        return report
    try:
        with session.begin_nested():
            for table_name, new in plan.new.items():
                if new:
                    connection.execute(tables[table_name].insert(), _parents_first(tables[table_name], new))
                report.inserted[table_name] = len(new)
            # The learners' module summaries follow their record (engine.summaries).
            summaries.refresh(session, {row["user_id"] for name in ("attempts", "section_progress")
                                        for row in plan.new.get(name, ())})
    except (IntegrityError, DataError) as exc:  # DataError: PostgreSQL's too long for its column, say
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise BundleRefused(name, "store", f"its rows could not be stored, nothing was written ({reason})") from exc
    return report


def _plan_table(connection: Connection, table: Table, rows: list[dict], plan: _Plan) -> None:
    name, key, report = table.name, _key(table), plan.report
    for counter in (report.inserted, report.skipped_identical, report.kept_server):
        counter[name] = 0
    held = {row[key]: _as_json(table, row) for row in _fetch(connection, table, key, (r[key] for r in rows))}
    new = []
    for row in rows:
        server = held.get(row[key])
        if server is None:
            new.append(row)
            continue
        differing = [column for column, value in row.items() if _encode(value) != server.get(column)
                     and not ((name, column) in NOT_CARRIED and value == NOT_CARRIED[name, column])]
        if not differing:
            report.skipped_identical[name] += 1
        elif name in SERVER_KEEPS:
            report.kept_server[name] += 1
            report.notes.append(f"{name} {row[key]}: the server's copy is kept (it differs in {', '.join(differing)})")
        else:
            report.conflicts.append(f"{name} {row[key]}: the server holds this id with other content "
                                    f"(differs in {', '.join(differing)})")
    plan.new[name] = [row for row in new if not _clashes(connection, table, row, new, plan)]


def _clashes(connection: Connection, table: Table, row: dict, new: list[dict], plan: _Plan) -> bool:
    """Whether a unique value of this new row is already held by another id on the server; reported."""
    name, key, report = table.name, _key(table), plan.report
    for columns in _uniques(table):
        values = tuple(row.get(column) for column in columns)
        if any(value is None for value in values):
            continue
        if (name, columns) not in plan.owners:
            plan.owners[name, columns] = _owners(connection, table, columns, new)
        owners = plan.owners[name, columns]
        other = owners.get(tuple(_encode(v) for v in values))
        if other is None or other == row[key]:
            continue
        shown = ", ".join(f"{column} {value!r}" for column, value in zip(columns, values, strict=True))
        if name == "enrolments":
            report.kept_server[name] += 1
            report.notes.append(f"{name} {row[key]}: the server already holds this enrolment as {other}")
        else:
            report.conflicts.append(f"{name} {row[key]}: {shown} belongs to another id on the server ({other})")
        return True
    return False


def _owners(connection: Connection, table: Table, columns: tuple[str, ...], rows: list[dict]) -> dict:
    """Server ids by their values in `columns`, for the values these rows hold (looked up by the first column)."""
    key = _key(table)
    firsts = {row[columns[0]] for row in rows if row.get(columns[0]) is not None}
    found = _fetch(connection, table, columns[0], firsts)
    return {tuple(_encode(row[column]) for column in columns): row[key] for row in found}


def _parents_first(table: Table, rows: list[dict]) -> list[dict]:
    """Rows ordered so that a row referring to another row of the same table (a cohort's parent) comes after it."""
    columns = _references(table, table.name)
    if not columns:
        return rows
    key, pending, done, ordered = _key(table), list(rows), set(), []
    ids = {row[key] for row in rows}
    while pending:
        ready = [row for row in pending if all(row.get(c) not in ids or row.get(c) in done for c in columns)]
        ready = ready or pending[:1]  # a cycle: let the database say what is wrong
        ordered += ready
        done |= {row[key] for row in ready}
        pending = [row for row in pending if row[key] not in done]
    return ordered


def report_lines(report: ImportReport) -> Iterator[str]:
    """The report as lines for a terminal: one row per table, then conflicts or notes."""
    shown = report.session
    if shown:
        yield (f"classroom session {shown.get('id')} (join code {shown.get('join_code')}, module "
               f"{shown.get('module_id')}, held on {shown.get('held_on')})")
    yield f"{'table':<20}{'inserted':>10}{'identical':>11}{'server kept':>13}"
    for name in ORDER:
        if name in report.skipped_identical:
            yield (f"{name:<20}{report.inserted.get(name, 0):>10}{report.skipped_identical[name]:>11}"
                   f"{report.kept_server.get(name, 0):>13}")
    yield from report.notes
    if report.conflicts:
        yield from report.conflicts
        yield f"nothing was imported: {len(report.conflicts)} conflict(s)"
    else:
        yield f"imported: {sum(report.inserted.values())} row(s) added"
