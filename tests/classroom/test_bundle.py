"""Classroom bundles, on SQLite and PostgreSQL: a session's results carried from a facilitator's laptop
(database A) to the national server (database B) land whole, once, or not at all; and the classroom
load script runs."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, inspect, select, text, update
from sqlalchemy.engine import make_url

from engine import accounts, learning
from engine.bundle import NO_PASSWORD, ORDER, export_session, import_bundle, read_bundle
from engine.cli import main
from engine.content import load
from engine.errors import InputError
from engine.quiz import decode_answer, score
from engine.store.base import new_id
from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import (
    Attempt,
    Attendance,
    ClassroomSession,
    Cohort,
    Enrolment,
    Response,
    User,
)
from tests.conftest import Store

pytestmark = pytest.mark.classroom
REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "fixtures" / "sample"
COURSE = load(SAMPLE)["en"]
MODULE = COURSE.modules[0]
PASSWORD = "walk-in-2026"
ANSWERS = {"alice": {"t01": "c", "t02": "true", "t03": ["a", "b"]},
           "bora": {"t01": "a", "t02": "true", "t03": ["c"]},
           "dara": {"t01": "c", "t02": "false", "t03": ["b", "a"]}}


# --- Database B, and the classroom session made in database A -------------------------------------------


@contextmanager
def second_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh migrated database beside the test's own: a SQLite file, or a database on the test server."""
    if kind == "sqlite":
        url, admin = f"sqlite:///{tmp_path / 'server.db'}", None
    else:
        base = request.getfixturevalue("pg_server_url")
        name = f"sala_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    try:
        yield Store(url=url, engine=engine, sessions=session_factory(engine))
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def server(store: Store, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The national server: a second database of the same kind as `store`."""
    with second_database(store.dialect, request, tmp_path) as db:
        yield db


@pytest.fixture
def other_server(store: Store, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A national server of the other kind: PostgreSQL for a SQLite laptop, and the reverse."""
    with second_database("postgresql" if store.dialect == "sqlite" else "sqlite", request, tmp_path) as db:
        yield db


@dataclass(frozen=True)
class Room:
    session_id: str
    join_code: str
    cohort_id: str
    ids: dict[str, str]
    """User ids by username."""


HASH = accounts.hash_password("x" * 8)  # argon2 is slow on purpose: hash once, except the walk-in's own


def person(username: str, role: str = "learner", phone: str | None = None, password: str | None = None) -> User:
    return User(id=new_id(), username=username, phone=phone,
                password_hash=accounts.hash_password(password) if password else HASH,
                full_name_km=f"ឈ្មោះ {username}", full_name_latin=username.title(), role=role, sex="female")


def submit(s, user_id: str, answers: dict, session_id: str | None) -> str:
    done = learning.submit_test(s, course=COURSE, module=MODULE, user_id=user_id, kind="pre", answers=answers,
                                key=f"pre-{user_id}", source="classroom" if session_id else "online")
    s.get(Attempt, done.attempt_id).classroom_session_id = session_id
    return done.attempt_id


@pytest.fixture
def room(store: Store) -> Room:
    """A session in A: a provincial cohort trained from a ToT cohort; alice and bora joined on their
    phones, dara walked in and was registered on the spot; chan is enrolled but stayed away."""
    with transaction(store.sessions) as s:
        admin, facilitator = person("admin", "admin"), person("facilitator", "facilitator")
        alice, bora, chan = person("alice", phone="012345678"), person("bora"), person("chan")
        s.add_all([admin, facilitator, alice, bora, chan])
        s.flush()
        tot = Cohort(id=new_id(), name="ToT 2026", kind="tot", trainer_id=admin.id, province_code="12")
        s.add(tot)
        s.flush()
        cohort = Cohort(id=new_id(), name="សៀមរាប 2026", kind="provincial", parent_id=tot.id,
                        trainer_id=facilitator.id, province_code="17", enrol_code="SR-17")
        s.add(cohort)
        s.flush()
        s.add_all(Enrolment(cohort_id=cohort.id, user_id=u.id) for u in (alice, bora, chan))
        live = ClassroomSession(id=new_id(), cohort_id=cohort.id, module_id=MODULE.id, facilitator_id=facilitator.id,
                                venue="សាលាខេត្ត", held_on=date(2026, 9, 7), join_code="K7QX")
        s.add(live)
        s.flush()
        dara = person("dara", password=PASSWORD)
        s.add(dara)
        s.flush()
        s.add(Enrolment(cohort_id=cohort.id, user_id=dara.id))
        s.add_all([Attendance(session_id=live.id, user_id=alice.id, method="joined"),
                   Attendance(session_id=live.id, user_id=bora.id, method="joined"),
                   Attendance(session_id=live.id, user_id=dara.id, method="walk_in")])
        ids = {u.username: u.id for u in (admin, facilitator, alice, bora, chan, dara)}
        for name, answers in ANSWERS.items():
            submit(s, ids[name], answers, live.id)
        submit(s, chan.id, ANSWERS["alice"], None)  # at home, online: not part of the session
        accounts.open_session(s, user=alice, days=1)
        if inspect(s.connection()).has_table("paper_entries"):
            s.execute(text("INSERT INTO paper_entries (id, session_id, user_id, kind, entry_no, item_id, answer, "
                           "entered_by_id, entered_at) VALUES (:id, :s, :u, 'post', 1, 't01', '\"c\"', :f, :t)"),
                      {"id": new_id(), "s": live.id, "u": bora.id, "f": facilitator.id, "t": datetime.now(UTC)})
        return Room(live.id, live.join_code, cohort.id, ids)


def bundle_of(store: Store, room: Room) -> bytes:
    with store.sessions() as s:
        return export_session(s, session_id=room.session_id)


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        present = [name for name in ORDER if inspect(connection).has_table(name)] + ["auth_sessions"]
        return {name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() for name in present}


def load_into(server: Store, data: bytes):
    with transaction(server.sessions) as s:
        return import_bundle(s, data)


def rebuilt(data: bytes, edit, *, update_sums: bool = True) -> bytes:
    """The bundle with bundle.json edited by `edit(doc)`, zipped again with SHA256SUMS updated or not."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        doc, sums = json.loads(archive.read("bundle.json")), archive.read("SHA256SUMS")
    edit(doc)
    body = json.dumps(doc, ensure_ascii=False, indent=1).encode()
    if update_sums:
        sums = f"{hashlib.sha256(body).hexdigest()}  bundle.json\n".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bundle.json", body)
        archive.writestr("SHA256SUMS", sums)
    return out.getvalue()


# --- What a bundle holds ----------------------------------------------------------------------------------


def test_a_bundle_holds_the_session_and_only_what_it_needs(store, room):
    data = bundle_of(store, room)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["bundle.json", "SHA256SUMS"]
        body, sums = archive.read("bundle.json"), archive.read("SHA256SUMS").decode()
    assert sums == f"{hashlib.sha256(body).hexdigest()}  bundle.json\n"
    doc = read_bundle(data)
    assert (doc["format"], doc["format_version"], doc["session"]["join_code"]) == ("sala-classroom-bundle", 1, "K7QX")
    assert doc["schema_revision"] and doc["source"]["hostname"] and doc["sala_version"]
    tables = doc["tables"]
    names = {row["username"] for row in tables["users"]}
    # The learners in the room, the facilitator and the cohorts' trainers; never chan, who stayed away.
    assert names == {"alice", "bora", "dara", "facilitator", "admin"}
    assert {row["name"] for row in tables["cohorts"]} == {"ToT 2026", "សៀមរាប 2026"}
    assert len(tables["enrolments"]) == 3 and len(tables["attendance"]) == 3
    assert len(tables["attempts"]) == 3 and len(tables["responses"]) == 9
    assert {row["source"] for row in tables["attempts"]} == {"classroom"}
    # A learner's hash travels (an account made on the laptop signs in on the server); a staff account's never.
    assert {row["username"]: row["password_hash"].startswith("$argon2") for row in tables["users"]} == {
        "alice": True, "bora": True, "dara": True, "facilitator": False, "admin": False}
    assert {row["password_hash"] for row in tables["users"] if row["role"] != "learner"} == {NO_PASSWORD}
    assert "auth_sessions" not in tables
    assert "poll_item" in tables["classroom_sessions"][0] or "paper_entries" not in tables
    assert doc["counts"] == {name: len(rows) for name, rows in tables.items()}
    for rows in tables.values():
        assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert tables["attempts"][0]["submitted_at"].endswith("+00:00")


def test_two_exports_of_one_session_carry_the_same_rows(store, room):
    first, second = read_bundle(bundle_of(store, room)), read_bundle(bundle_of(store, room))
    assert first["tables"] == second["tables"]


# --- Import -------------------------------------------------------------------------------------------------


def test_round_trip_inserts_once_then_changes_nothing(store, server, room):
    data = bundle_of(store, room)
    carried = read_bundle(data)["counts"]
    before = counts(server)
    first = load_into(server, data)
    assert first.conflicts == [] and first.written
    assert first.inserted == carried
    assert first.skipped_identical == {name: 0 for name in carried}
    after_first = counts(server)
    assert {name: after_first[name] - before[name] for name in carried} == carried
    assert after_first["auth_sessions"] == 0

    second = load_into(server, data)
    assert (second.conflicts, second.inserted) == ([], {name: 0 for name in carried})
    assert second.skipped_identical == carried
    assert counts(server) == after_first


def test_a_sqlite_laptop_merges_into_postgresql_and_back(store, other_server, room):
    data = bundle_of(store, room)
    carried = read_bundle(data)["counts"]
    assert load_into(other_server, data).inserted == carried
    again = load_into(other_server, data)
    assert (again.conflicts, again.skipped_identical) == ([], carried)
    with other_server.sessions() as s:
        # What the server now holds exports to the same rows: nothing changed on the way.
        assert read_bundle(export_session(s, session_id=room.session_id))["tables"] == read_bundle(data)["tables"]


def test_imported_attempts_grade_the_same_and_the_walk_in_can_sign_in(store, server, room):
    load_into(server, bundle_of(store, room))

    def graded(db: Store) -> dict[str, tuple]:
        with db.sessions() as s:
            found = {}
            for a in s.scalars(select(Attempt).where(Attempt.classroom_session_id == room.session_id)):
                answers = {r.item_id: decode_answer(r.answer) for r in a.responses}
                found[a.id] = (a.user_id, a.score, a.max_score, score(MODULE.pre_test, answers).points)
            return found

    there = graded(server)
    assert there == graded(store) and len(there) == 3
    assert all(stored == regraded for _, stored, _, regraded in there.values())
    with server.sessions() as s:
        assert learning.load_record(s, user_id=room.ids["alice"], module_id=MODULE.id).pre.points == 3.0
        assert accounts.authenticate(s, login="dara", password=PASSWORD).id == room.ids["dara"]
        assert s.get(User, room.ids["chan"]) is None


def byte_flipped(data: bytes) -> bytes:
    """One byte changed in the middle of bundle.json's compressed data."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("bundle.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    at = start + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def score_edited(doc: dict) -> None:
    doc["tables"]["attempts"][0]["score"] = 0.0


REFUSALS = [
    ("one byte changed", byte_flipped, "refused: bundle.json is damaged (ZIP integrity check failed"),
    ("truncated", lambda d: d[: len(d) // 2], "refused: not a ZIP archive, or a truncated one (ZIP check failed"),
    ("edited without SHA256SUMS", lambda d: rebuilt(d, score_edited, update_sums=False),
     "refused: bundle.json does not match its SHA-256 in SHA256SUMS (checksum check failed: the file was edited or damaged after export)"),
    ("not a ZIP", lambda d: b"attempts,responses\n", "refused: not a ZIP archive, or a truncated one (ZIP check failed"),
    ("no SHA256SUMS", lambda d: zipped({"bundle.json": b"{}"}), "refused: not a Sala bundle: it holds no SHA256SUMS"),
    ("counts do not match", lambda d: rebuilt(d, lambda doc: doc["counts"].update(attempts=2)),
     "refused: attempts: the counts say 2 rows, the bundle holds 3 (count check failed)"),
    ("newer format", lambda d: rebuilt(d, lambda doc: doc.update(format_version=2)),
     "refused: bundle format version 2; this Sala reads version 1 (format check failed)"),
    ("unknown schema", lambda d: rebuilt(d, lambda doc: doc.update(schema_revision="9999")),
     "refused: made at schema revision '9999', which this Sala does not know: upgrade Sala on this server first (schema check failed)"),
    ("a bad value", lambda d: rebuilt(d, lambda doc: doc["tables"]["attempts"][0].update(score="high")),
     "refused: attempts row 1 ("),
]


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return out.getvalue()


@pytest.mark.parametrize(("case", "spoil", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_damaged_or_edited_bundle_is_refused_and_nothing_written(store, server, room, case, spoil, message):
    before = counts(server)
    with pytest.raises(InputError) as refused:
        load_into(server, spoil(bundle_of(store, room)))
    assert str(refused.value).startswith("bundle: ")
    assert message in str(refused.value)
    assert counts(server) == before


def test_a_conflicting_edit_aborts_the_whole_import(store, server, room):
    load_into(server, bundle_of(store, room))
    before = counts(server)
    with transaction(store.sessions) as s:
        # After the first export: the attempt is edited (it should never be) and a second walk-in arrives.
        edited = s.scalar(select(Attempt).where(Attempt.user_id == room.ids["bora"]))
        edited.score = 2.0
        late = person("eang")
        s.add(late)
        s.flush()
        s.add(Attendance(session_id=room.session_id, user_id=late.id, method="walk_in"))
    report = load_into(server, bundle_of(store, room))
    assert report.conflicts == [f"attempts {edited.id}: the server holds this id with other content (differs in score)"]
    assert not report.written and sum(report.inserted.values()) == 0
    assert counts(server) == before  # not even the new walk-in's rows


def clash_username(server: Store, room: Room) -> str:
    with transaction(server.sessions) as s:
        other = person("dara")
        s.add(other)
    return f"users {room.ids['dara']}: username 'dara' belongs to another id on the server ({other.id})"


def clash_phone(server: Store, room: Room) -> str:
    with transaction(server.sessions) as s:
        other = person("alice.k", phone="012345678")
        s.add(other)
    return f"users {room.ids['alice']}: phone '012345678' belongs to another id on the server ({other.id})"


def clash_idempotency_key(server: Store, room: Room) -> str:
    """The attempt is on the server under another id with the same key (made by hand, say)."""
    with transaction(server.sessions) as s:
        kept = s.scalar(select(Attempt).where(Attempt.user_id == room.ids["bora"]))
        s.execute(delete(Response).where(Response.attempt_id == kept.id))
        s.execute(delete(Attempt).where(Attempt.id == kept.id))
        s.add(Attempt(user_id=kept.user_id, module_id=kept.module_id, kind="pre", language="en",
                      content_version="x", idempotency_key=kept.idempotency_key, score=0.0, max_score=3.0))
        s.flush()
        other = s.scalar(select(Attempt.id).where(Attempt.idempotency_key == kept.idempotency_key))
    return f"attempts {kept.id}: idempotency_key 'pre-{room.ids['bora']}' belongs to another id on the server ({other})"


def clash_attendance(server: Store, room: Room) -> str:
    with transaction(server.sessions) as s:
        kept = s.scalar(select(Attendance).where(Attendance.user_id == room.ids["alice"]))
        s.execute(delete(Attendance).where(Attendance.id == kept.id))
        other = Attendance(session_id=room.session_id, user_id=room.ids["alice"], method="ticked")
        s.add(other)
    return (f"attendance {kept.id}: session_id '{room.session_id}', user_id '{room.ids['alice']}' belongs to another "
            f"id on the server ({other.id})")


@pytest.mark.parametrize("clash", [clash_username, clash_phone, clash_idempotency_key, clash_attendance])
def test_a_natural_key_held_by_another_id_is_a_conflict(store, server, room, clash):
    data = bundle_of(store, room)
    if clash in (clash_idempotency_key, clash_attendance):
        load_into(server, data)
    expected = clash(server, room)
    before = counts(server)
    report = load_into(server, data)
    assert report.conflicts == [expected]
    assert counts(server) == before


def test_the_server_keeps_its_own_people_and_cohorts(store, server, room):
    data = bundle_of(store, room)
    load_into(server, data)
    with transaction(server.sessions) as s:
        # On the server since: alice's password was reset, the cohort got a new enrolment code, and
        # bora's enrolment was made again by a roster import (another id, the same fact).
        s.execute(update(User).where(User.id == room.ids["alice"]).values(password_hash="$argon2id$reset"))
        s.execute(update(Cohort).where(Cohort.id == room.cohort_id).values(enrol_code="SR-17-B"))
        s.execute(delete(Enrolment).where(Enrolment.user_id == room.ids["bora"]))
        s.add(Enrolment(cohort_id=room.cohort_id, user_id=room.ids["bora"]))
    before = counts(server)
    report = load_into(server, data)
    assert report.conflicts == [] and sum(report.inserted.values()) == 0
    assert report.kept_server == {**{name: 0 for name in report.inserted}, "users": 1, "cohorts": 1, "enrolments": 1}
    assert report.notes[0] == f"users {room.ids['alice']}: the server's copy is kept (it differs in password_hash)"
    assert counts(server) == before
    with server.sessions() as s:
        assert s.get(User, room.ids["alice"]).password_hash == "$argon2id$reset"


def test_a_row_that_cannot_be_stored_rolls_back_everything(store, server, room):
    def without_facilitator(doc):
        doc["tables"]["users"] = [u for u in doc["tables"]["users"] if u["username"] != "facilitator"]
        doc["counts"]["users"] -= 1

    before = counts(server)
    with pytest.raises(InputError, match=r"^bundle: refused: its rows could not be stored, nothing was written \("):
        load_into(server, rebuilt(bundle_of(store, room), without_facilitator))
    assert counts(server) == before


# --- The command line ---------------------------------------------------------------------------------------


def test_the_cli_exports_by_join_code_and_imports(store, server, room, tmp_path, monkeypatch, capsys):
    out = tmp_path / "K7QX.zip"
    monkeypatch.setenv("SALA_DATABASE_URL", store.url)
    assert main(["export-session", "k7-qx", "-o", str(out)]) == 0
    wrote = capsys.readouterr().out.splitlines()
    assert wrote[0].startswith(f"wrote {out}: classroom session {room.session_id} (join code K7QX), ")
    assert wrote[1].startswith("note: the session is still open; ")
    monkeypatch.setenv("SALA_DATABASE_URL", server.url)
    assert main(["import-bundle", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"classroom session {room.session_id} (join code K7QX, module {MODULE.id}, held on 2026-09-07)"
    assert "attempts                     3          0            0" in printed
    assert printed[-1].startswith("imported: ")
    assert main(["import-bundle", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "imported: 0 row(s) added"


@pytest.mark.parametrize(("argv", "message"), [
    (["export-session", "NOPE", "-o", "x.zip"], "sala: no classroom session has the id or join code 'NOPE'"),
    (["import-bundle", "missing.zip"], "sala: missing.zip: cannot read the bundle: No such file or directory"),
])
def test_cli_errors_are_one_line(store, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("SALA_DATABASE_URL", store.url)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert capsys.readouterr().err == message + "\n"


def test_the_cli_reports_conflicts_and_exits_1(store, server, room, tmp_path, monkeypatch, capsys):
    out = tmp_path / "bundle.zip"
    out.write_bytes(bundle_of(store, room))
    clash_username(server, room)
    monkeypatch.setenv("SALA_DATABASE_URL", server.url)
    assert main(["import-bundle", str(out)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "nothing was imported: 1 conflict(s)"


# --- The load script ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_classroom_load_script_runs_and_loses_nothing(tmp_path):
    figures = tmp_path / "load.json"
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "classroom_load.py"), "--participants", "10",
                          "--window", "2", "--json", str(figures)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    for label in ("participants", "submissions sent", "attempts stored", "responses stored", "lost", "duplicated",
                  "p95 latency", "raw sqlite3 p95"):
        assert label in run.stdout
    result = json.loads(figures.read_text())
    assert (result["participants"], result["sent"], result["attempts"], result["lost"], result["duplicated"]) == (
        10, 20, 10, 0, 0)
    assert result["responses"] == result["expected_responses"] == 30

