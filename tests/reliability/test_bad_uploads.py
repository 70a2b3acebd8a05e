"""Bad uploads (issue #7, part 5): rosters, paper grids and session bundles that are malformed, in the
wrong encoding, oversized, with formulas or HTML in them, are refused with a message naming the row and
column (or the check that failed), and nothing is half-imported: rows are counted before and after, on
SQLite and PostgreSQL. Exports of a learner whose name is a formula never hold a cell a spreadsheet runs."""

from __future__ import annotations

import ast
import csv
import hashlib
import html
import io
import json
import random
import re
import uuid
import zipfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula
from sqlalchemy import create_engine, func, select, text

from engine import bundle, classroom, classroom_paper, roster, trainer
from engine.app.i18n import t
from engine.app.trainerview import roster_table, scores_table
from engine.content import load
from engine.exports import FORMULA_STARTS, Table, read_csv, to_csv, to_xlsx
from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import Cohort, Enrolment, PaperEntry, User

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "fixtures" / "sample"
APP_MAIN = str(REPO / "engine" / "app" / "main.py")
COURSE = load(SAMPLE)["en"]
MODULE = COURSE.modules[0]
MB = 1024 * 1024
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
            '=HYPERLINK("http://example.invalid/?"&A1,"click")']
HTML = "<script>alert(1)</script>"


# --- files ----------------------------------------------------------------------------------------------


def csv_bytes(*rows: list[str], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(*rows: list[object]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_array_formula(data: bytes, cell: str) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    book.active[cell] = ArrayFormula(cell, "=SUM(A1:A2)")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb(data: bytes, megabytes: int = 80) -> bytes:
    """A real XLSX with one more member of `megabytes` MB of zeros: about 80 KB on the wire."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info.filename, source.read(info.filename))
        bomb.writestr("xl/media/padding.bin", bytes(megabytes * MB))
    return out.getvalue()


def random_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def big_csv(header: str, line: str, size: int) -> bytes:
    body = line.encode() * (size // len(line.encode()) + 1)
    return header.encode() + b"\n" + body


# --- rosters --------------------------------------------------------------------------------------------

ROSTER_HEADER = ["full_name_km", "full_name_latin", "institution", "position", "phone"]
GOOD_ROW = ["ចាន់ ធីតា", "Chan Thida", "រដ្ឋបាលខេត្តសៀមរាប", "មន្ត្រី", "012345678"]

ROSTERS = {
    # name: (filename, data, [(row, column, code)], words the first message must hold)
    "Windows-1252 CSV": ("old.csv", csv_bytes(["full_name_km", "institution"], ["Dara", "Ministère"], encoding="cp1252"),
                         [(None, None, "encoding")], ["not UTF-8"]),
    "UTF-16 without a BOM": ("r.csv", csv_bytes(ROSTER_HEADER, GOOD_ROW, encoding="utf-16-le"),
                             [(None, None, "encoding")], ["not UTF-8 or UTF-16"]),
    "random bytes": ("r.csv", random_bytes(4096), [(None, None, "encoding")], ["cannot be read"]),
    "a NUL byte": ("r.csv", b"full_name_km\nDa\x00ra\n", [(None, None, "not_a_roster")], ["binary data"]),
    "10 MB": ("big.csv", big_csv("full_name_km", "ចាន់ ធីតា\n", 10 * MB), [(None, None, "file_too_large")], ["5 MB"]),
    "100,000 rows in a small CSV": ("many.csv", big_csv("full_name_km", "ក\n", 100_000 * 4),
                                    [(None, None, "too_many_rows")], ["more than 5,000 learners"]),
    "100,000 rows in an XLSX": ("many.xlsx", xlsx_bytes(["full_name_km"], *[[f"ក {n}"] for n in range(100_000)]),
                                [(None, None, "too_many_rows")], ["more than 5,000 learners"]),
    "an XLSX zip bomb": ("bomb.xlsx", zip_bomb(xlsx_bytes(ROSTER_HEADER, GOOD_ROW)), [(None, None, "file_too_large")],
                         ["unpacks to over 50 MB"]),
    "an XLSX cut short": ("cut.xlsx", xlsx_bytes(ROSTER_HEADER, GOOD_ROW)[:-200], [(None, None, "not_a_roster")],
                          ["damaged"]),
    "a field over the CSV field limit": ("r.csv", b'full_name_km\n"' + b"x" * 200_000 + b'"\n',
                                         [(None, None, "not_a_roster")], ["cannot be read as CSV"]),
    "formulas in CSV cells": (
        "r.csv", csv_bytes(["full_name_km", "institution"], *[["ចាន់ ធីតា", f] for f in FORMULAS], GOOD_ROW[:1] + [HTML]),
        [(n, "institution", "formula") for n in range(2, 2 + len(FORMULAS))], ["a spreadsheet would run it"]),
    "formula cells in an XLSX": (
        "r.xlsx", xlsx_bytes(["full_name_km", "institution"], ["=A1&\"x\"", "ok"], ["ចាន់ ធីតា", "=1+1"]),
        [(2, "full_name_km", "formula"), (3, "institution", "formula")], ["a spreadsheet would run it"]),
    "an array formula in an XLSX": (
        "r.xlsx", with_array_formula(xlsx_bytes(["full_name_km", "institution"], ["ចាន់ ធីតា", None]), "B2"),
        [(2, "institution", "formula")], ["=SUM(A1:A2)"]),
    "an unclosed quote": ("r.csv", b'full_name_km,institution\n"Dara,x\nSok,y\n', [(2, "full_name_km", "control_character")],
                          ["quote that is never closed"]),
    "control and bidi characters": (
        "r.csv", csv_bytes(["full_name_km", "position"], ["ចាន់\x07", ""], ["\u202eនាម", ""], ["សុខ", "a\x1bb"]),
        [(2, "full_name_km", "control_character"), (3, "full_name_km", "control_character"),
         (4, "position", "control_character")], ["U+0007"]),
}


@pytest.mark.parametrize("case", ROSTERS)
def test_a_bad_roster_is_refused_naming_row_and_column(case):
    filename, data, expected, words = ROSTERS[case]
    parsed = roster.parse_roster(data, filename)
    assert [(p.row, p.column, p.code) for p in parsed.problems] == expected
    assert all(word in parsed.problems[0].message for word in words), parsed.problems[0].message
    assert not {r.row for r in parsed.rows} & {p.row for p in parsed.problems}


def test_every_roster_problem_code_is_translated():
    codes = set(re.findall(r'_Bad\("(\w+)"', Path(roster.__file__).read_text(encoding="utf-8")))
    codes |= {p.code for case in ROSTERS.values() for p in roster.parse_roster(case[1], case[0]).problems}
    for lang in ("en", "km"):
        for code in codes:
            assert t(lang, f"roster.err_{code}") != f"roster.err_{code}", (lang, code)


@pytest.fixture
def cohort(store) -> str:
    with transaction(store.sessions) as s:
        c = Cohort(name="Siem Reap 2026", kind="provincial", province_code="17")
        s.add(c)
        s.flush()
        return c.id


def users_and_enrolments(store) -> tuple[int, int]:
    with store.sessions() as s:
        return (s.scalar(select(func.count()).select_from(User)), s.scalar(select(func.count()).select_from(Enrolment)))


def test_no_bad_roster_lands_even_in_part(store, cohort):
    with transaction(store.sessions) as s:
        roster.import_roster(s, cohort_id=cohort, parsed=roster.parse_roster(csv_bytes(ROSTER_HEADER, GOOD_ROW), "r.csv"))
    before = users_and_enrolments(store)
    assert before == (1, 1)
    # Every bad file, and a file of good rows whose last row's phone already has an account.
    taken = csv_bytes(ROSTER_HEADER, ["សុខ ដារា", "Sok Dara", "", "", "099111222"], ["ស្រី មុំ", "", "", "", "012345678"])
    for filename, data, *_ in [*ROSTERS.values(), ("taken.csv", taken, [], [])]:
        with pytest.raises(roster.RosterRefused) as refused, transaction(store.sessions) as s:
            roster.import_roster(s, cohort_id=cohort, parsed=roster.parse_roster(data, filename))
        assert refused.value.problems and str(refused.value).startswith("the roster was not imported: ")
        assert users_and_enrolments(store) == before, filename


def test_html_and_markup_in_names_are_kept_as_plain_text(store, cohort):
    names = [HTML, "<img src=x onerror=alert(1)>", "**ដារា** [click](http://example.invalid)", "ចាន់ & <b>ថា</b>"]
    parsed = roster.parse_roster(csv_bytes(["full_name_km", "institution"], *[[n, n] for n in names]), "r.csv")
    assert parsed.problems == []
    with transaction(store.sessions) as s:
        roster.import_roster(s, cohort_id=cohort, parsed=parsed)
    with store.sessions() as s:
        stored = s.execute(select(User.full_name_km, User.institution).order_by(User.created_at, User.username)).all()
    assert sorted(stored) == sorted((n, n) for n in names)


# --- paper grids ----------------------------------------------------------------------------------------


@pytest.fixture
def room(store):
    """A classroom session of the sample module, with three learners of the cohort and one outsider."""
    with transaction(store.sessions) as s:
        facilitator = User(username="keo.chantha", password_hash="x", full_name_km="កែវ ចាន់ថា", role="facilitator")
        s.add(facilitator)
        s.flush()
        cohort = Cohort(name="Kampot 2026", kind="provincial", province_code="07", trainer_id=facilitator.id)
        learners = [User(username=f"learner{n}", password_hash="x", full_name_km=f"សិស្ស {n}") for n in range(3)]
        outsider = User(username="outsider", password_hash="x", full_name_km="អ្នកក្រៅ")
        s.add_all([cohort, *learners, outsider])
        s.flush()
        s.add_all(Enrolment(cohort_id=cohort.id, user_id=u.id) for u in learners)
        found = classroom.open_session(s, by=facilitator, course=COURSE, cohort_id=cohort.id, module_id=MODULE.id,
                                       venue="សាលា", held_on=date(2026, 9, 7))
        return found.id, facilitator.id


GRID_HEADER = ["username", "t01", "t02", "t03"]
GOOD_GRID_ROWS = [["learner0", "c", "true", "ab"], ["learner1", "a", "f", ""]]

GRIDS = {
    # name: (filename, data, problems as (row, column, code) after parsing and saving)
    "Windows-1252 CSV": ("g.csv", csv_bytes(GRID_HEADER, ["learnér0", "c", "true", "ab"], encoding="cp1252"),
                         [(None, None, "encoding")]),
    "random bytes": ("g.csv", random_bytes(8192, seed=11), [(None, None, "encoding")]),
    "10 MB": ("g.csv", big_csv("username,t01,t02,t03", "learner0,c,true,ab\n", 10 * MB), [(None, None, "file_too_large")]),
    "100,000 rows": ("g.csv", big_csv("username,t01,t02,t03", "learner0,c,t,a\n", 100_000 * 16),
                     [(None, None, "too_many_rows")]),
    "an XLSX zip bomb": ("g.xlsx", zip_bomb(xlsx_bytes(GRID_HEADER, *GOOD_GRID_ROWS)), [(None, None, "file_too_large")]),
    "a ZIP cut in half": ("g.xlsx", xlsx_bytes(GRID_HEADER, *GOOD_GRID_ROWS)[:3000], [(None, None, "not_a_roster")]),
    "formulas in answer cells": (
        "g.csv", csv_bytes(GRID_HEADER, *GOOD_GRID_ROWS, ["learner2", "=1+1", "@SUM(A1)", "\t=a"]),
        [(4, "t01", "bad_answer"), (4, "t02", "bad_answer"), (4, "t03", "bad_answer")]),
    "a formula cell in an XLSX answer": (
        "g.xlsx", xlsx_bytes(GRID_HEADER, *GOOD_GRID_ROWS, ["learner2", '=IF(1,"c","a")', "true", "a"]),
        [(4, "t01", "bad_answer")]),
    "a formula and HTML for usernames": (
        "g.csv", csv_bytes(GRID_HEADER, *GOOD_GRID_ROWS, [FORMULAS[0], "c", "true", "a"], [HTML, "c", "true", "a"]),
        [(4, "username", "unknown_user"), (5, "username", "unknown_user")]),
    "good rows and one outsider": (
        "g.csv", csv_bytes(GRID_HEADER, *GOOD_GRID_ROWS, ["outsider", "c", "true", "a"]),
        [(4, "username", "not_in_cohort")]),
}


def paper_entries(store) -> int:
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(PaperEntry))


def save_grid(store, session_id, facilitator, data, filename, entry_no=1):
    grid = classroom_paper.parse_paper_grid(data, filename, MODULE, "pre")
    with transaction(store.sessions) as s:
        return classroom_paper.save_paper_grid(s, by=s.get(User, facilitator), session_id=session_id, module=MODULE,
                                               kind="pre", entry_no=entry_no, grid=grid)


def test_no_bad_paper_grid_lands_even_in_part(store, room):
    session_id, facilitator = room
    assert save_grid(store, session_id, facilitator, csv_bytes(GRID_HEADER, ["learner2", "b", "false", "c"]), "g.csv") == 1
    before = paper_entries(store)
    assert before == 3
    for case, (filename, data, expected) in GRIDS.items():
        with pytest.raises(classroom_paper.PaperRefused) as refused:
            save_grid(store, session_id, facilitator, data, filename)
        assert [(p.row, p.column, p.code) for p in refused.value.problems] == expected, case
        assert paper_entries(store) == before, case


def problem_codes(module, call: str, position: int) -> set[str]:
    """The string constants passed as argument `position` to `call(...)` in a module's source."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    return {node.args[position].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == call and len(node.args) > position
            and isinstance(node.args[position], ast.Constant)}


def test_every_paper_grid_problem_code_is_translated():
    codes = problem_codes(classroom_paper, "GridProblem", 2) | problem_codes(classroom_paper, "_Bad", 0)
    codes |= {"encoding", "not_a_roster", "file_too_large"}  # what engine.roster's reader refuses a file for
    assert {"bad_answer", "unknown_user", "not_in_cohort", "committed", "too_many_rows"} <= codes
    for lang in ("en", "km"):
        assert not [code for code in sorted(codes) if t(lang, f"grid.err_{code}") == f"grid.err_{code}"], lang


# --- session bundles ------------------------------------------------------------------------------------


def rezip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return out.getvalue()


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def signed(doc: object) -> bytes:
    """A bundle holding `doc` with a correct SHA256SUMS: the checksum is no defence against a crafted file."""
    body = json.dumps(doc, ensure_ascii=False).encode()
    return rezip({"bundle.json": body, "SHA256SUMS": f"{hashlib.sha256(body).hexdigest()}  bundle.json\n".encode()})


def edited(data: bytes, edit) -> bytes:
    doc = json.loads(members_of(data)["bundle.json"])
    edit(doc)
    return signed(doc)


def flag_bits(data: bytes, bit: int) -> bytes:
    """Set a general-purpose flag bit in every local and central header (bit 0: encrypted)."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        while at >= 0:
            raw[at + offset] |= bit
            at = raw.find(signature, at + 4)
    return bytes(raw)


def method_99(data: bytes) -> bytes:
    """Every member claims compression method 99 (AES), which zipfile cannot unpack."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = raw.find(signature)
        while at >= 0:
            raw[at + offset], raw[at + offset + 1] = 99, 0
            at = raw.find(signature, at + 4)
    return bytes(raw)


def users_row(doc: dict) -> dict:
    return next(row for row in doc["tables"]["users"] if row["role"] == "learner")


def set_in_row(table: str, column: str, value: object):
    def edit(doc):
        doc["tables"][table][0][column] = value
    return edit


BUNDLES = [
    # (name, spoil(good bundle bytes) -> bytes, the failed check, words of the message)
    ("truncated to a third", lambda d: d[: len(d) // 3], "zip", "not a ZIP archive, or a truncated one"),
    ("empty file", lambda d: b"", "zip", "not a ZIP archive"),
    ("encrypted members", lambda d: flag_bits(d, 1), "zip", "never encrypted"),
    ("an unknown compression method", method_99, "zip", "cannot be unpacked"),
    ("a path-traversal member", lambda d: rezip({**members_of(d), "../../etc/cron.d/x": b"* * * * * root id\n"}),
     "member", "unexpected file '../../etc/cron.d/x'"),
    ("an absolute member name", lambda d: rezip({**members_of(d), "/tmp/x": b"x"}), "member", "unexpected file"),
    ("bundle.json over the size limit", lambda d: rezip({"bundle.json": b" " * (bundle.MAX_JSON_BYTES + 1),
                                                         "SHA256SUMS": members_of(d)["SHA256SUMS"]}),
     "size", "bundle.json unpacks to more than 64 MB"),
    ("a SHA256SUMS zip bomb", lambda d: rezip({"bundle.json": members_of(d)["bundle.json"], "SHA256SUMS": b"0" * (20 * MB)}),
     "size", "SHA256SUMS unpacks to more than 4,096 bytes"),
    ("a wrong checksum", lambda d: rezip({"bundle.json": members_of(d)["bundle.json"] + b" ",
                                          "SHA256SUMS": members_of(d)["SHA256SUMS"]}),
     "checksum", "does not match its SHA-256"),
    ("not JSON", lambda d: signed_raw(b"{'tables': }"), "format", "not valid UTF-8 JSON"),
    ("JSON with NaN", lambda d: signed_raw(members_of(d)["bundle.json"].replace(b'"score": 3.0', b'"score": NaN', 1)),
     "format", "NaN is not a number JSON allows"),
    ("JSON nested 100,000 deep", lambda d: signed_raw(b"[" * 100_000 + b"]" * 100_000), "format", "not valid"),
    ("a list, not a bundle", lambda d: signed([1, 2, 3]), "format", "not a Sala classroom bundle"),
    ("tables as a list", lambda d: edited(d, lambda doc: doc.update(tables=[])), "format", "no tables or counts"),
    ("rows as strings", lambda d: edited(d, lambda doc: (doc["tables"].update(attempts=["x"] * 3))), "format",
     "attempts: expected a list of rows"),
    ("session as text", lambda d: edited(d, lambda doc: doc.update(session="K7QX")), "format",
     'session: expected a mapping, got "K7QX"'),
    ("schema revision as a list", lambda d: edited(d, lambda doc: doc.update(schema_revision=["0001"])), "format",
     'schema_revision: expected text, got ["0001"]'),
    ("an unknown table", lambda d: edited(d, lambda doc: (doc["tables"].update(passwords=[]),
                                                          doc["counts"].update(passwords=0))),
     "format", 'a bundle carries no table "passwords"'),
    ("counts that lie", lambda d: edited(d, lambda doc: doc["counts"].update(responses=1)), "count", "count check failed"),
    ("a score of 1e400", lambda d: signed_raw(members_of(d)["bundle.json"].replace(b'"score": 3.0', b'"score": 1e400', 1)),
     "value", "score: expected a number, got"),
    ("a score past 2**53", lambda d: edited(d, set_in_row("attempts", "score", 10**400)), "value",
     "score: expected a number"),
    ("an id as a number", lambda d: edited(d, set_in_row("attempts", "id", 7)), "value", "id: expected an id"),
    ("a nested value for text", lambda d: edited(d, lambda doc: users_row(doc).update(full_name_km={"km": "x"})),
     "value", 'full_name_km: expected text, got {"km": "x"}'),
    ("a NUL inside a name", lambda d: edited(d, lambda doc: users_row(doc).update(full_name_km="ចាន់\x00")), "value",
     "full_name_km: expected text, got text with a NUL character"),
    ("an unknown column", lambda d: edited(d, lambda doc: users_row(doc).update(is_superuser=True)), "value",
     "column \"is_superuser\" does not exist"),
    ("a name too long for its column", lambda d: edited(d, lambda doc: users_row(doc).update(username="u" * 500)),
     "value", "username: expected at most 100 characters, got 500"),
    ("a role that does not exist", lambda d: edited(d, lambda doc: users_row(doc).update(role="superuser")),
     "store", "its rows could not be stored, nothing was written"),
    ("the same username under two ids", lambda d: edited(d, two_of_a_learner), "store",
     "its rows could not be stored, nothing was written"),
]


def signed_raw(body: bytes) -> bytes:
    return rezip({"bundle.json": body, "SHA256SUMS": f"{hashlib.sha256(body).hexdigest()}  bundle.json\n".encode()})


def two_of_a_learner(doc: dict) -> None:
    twin = {**users_row(doc), "id": "00000000-0000-4000-8000-00000000beef", "phone": None}
    doc["tables"]["users"].append(twin)
    doc["counts"]["users"] += 1


@pytest.fixture
def session_bundle(store, room) -> bytes:
    """The bundle of a classroom session on this database: two paper sheets committed as attempts."""
    session_id, facilitator = room
    save_grid(store, session_id, facilitator, csv_bytes(GRID_HEADER, *GOOD_GRID_ROWS), "g.csv")
    with transaction(store.sessions) as s:
        classroom_paper.commit_paper(s, by=s.get(User, facilitator), session_id=session_id, kind="pre", course=COURSE,
                                     module=MODULE, require_double_entry=False)
    with store.sessions() as s:
        return bundle.export_session(s, session_id=session_id)


@pytest.fixture
def server(store, tmp_path, request):
    """The national server: a second, empty database of the same kind (on the same PostgreSQL server)."""
    admin = None
    if store.dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
    else:
        name = f"sala_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(request.getfixturevalue("pg_server_url"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def all_rows(sessions) -> dict[str, int]:
    with sessions() as s:
        connection = s.connection()
        return {name: connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one() for name in bundle.ORDER}


def test_the_good_bundle_imports(session_bundle, server):
    assert b'"score": 3.0' in members_of(session_bundle)["bundle.json"]  # the edits below rely on it
    with transaction(server) as s:
        report = bundle.import_bundle(s, session_bundle)
    assert report.written and report.inserted["attempts"] == 2


def test_no_bad_bundle_lands_even_in_part(session_bundle, server):
    before = all_rows(server)
    for case, spoil, check, words in BUNDLES:
        with pytest.raises(bundle.BundleRefused) as refused, transaction(server) as s:
            bundle.import_bundle(s, spoil(session_bundle), name="K7QX.zip")
        message = str(refused.value)
        assert message.startswith("K7QX.zip: refused: ") and "\n" not in message, (case, message)
        assert refused.value.check == check, (case, message)
        assert words in message, (case, message)
        assert all_rows(server) == before, case


def test_every_bundle_check_is_translated():
    checks = set(re.findall(r'BundleRefused\(name, "(\w+)"', Path(bundle.__file__).read_text(encoding="utf-8")))
    assert checks == {"zip", "member", "size", "checksum", "format", "count", "schema", "value", "store"}
    for lang in ("en", "km"):
        for check in checks:
            assert t(lang, f"bundles.why_{check}") != f"bundles.why_{check}", (lang, check)


# --- exports --------------------------------------------------------------------------------------------


def spreadsheet_cells(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("lang", ["km", "en"])
def test_a_learner_named_as_a_formula_exports_as_text(session_bundle, server, lang):
    """A bundle is the one way in that does not go through the roster's checks: a learner named with a
    formula, with HTML for an institution, lands on the server as text, and the trainer's exports of that
    cohort hold no formula and no cell a spreadsheet would run."""
    hostile = {"full_name_km": FORMULAS[0], "full_name_latin": "-2+3", "institution": HTML, "position": "@SUM(A1)"}
    with transaction(server) as s:
        assert bundle.import_bundle(s, edited(session_bundle, lambda doc: users_row(doc).update(hostile))).written
    with server() as s:
        cohort_ids = list(s.scalars(select(Cohort.id)))
        rows = trainer.learners(s, cohort_ids)
        scores = trainer.scores(s, [r.id for r in rows], COURSE)
    assert [(r.name_km, r.institution) for r in rows if r.name_km == FORMULAS[0]] == [(FORMULAS[0], HTML)]
    ctx = SimpleNamespace(lang=lang, t=lambda key, **values: t(lang, key, **values))
    tables = [roster_table(ctx, rows), scores_table(ctx, rows, scores, COURSE)]
    cells = spreadsheet_cells(to_xlsx(tables))
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not [text for text in texts if text.startswith(FORMULA_STARTS)]
    assert {"'" + FORMULAS[0], "'-2+3", "'@SUM(A1)", HTML} <= set(texts)  # neutralised, and kept visible
    for table in tables:
        written = read_csv(to_csv(table), table.name)
        assert not [cell for row in (written.columns, *written.rows) for cell in row if cell.startswith(FORMULA_STARTS)]


def test_no_export_cell_runs_whatever_the_text():
    """Every formula opener, alone or after others, in headers, sheet names and cells; numbers stay numbers."""
    names = FORMULAS + ["=1+1", "-", "@", "+855 12 345 678", "\x00=1+1", "\r\n=1+1", "=" * 40]
    table = Table("=ឈ្មោះ", ["=name", "institution", "score"], [[name, HTML, -5] for name in names])
    cells = spreadsheet_cells(to_xlsx([table]))
    assert len(cells) == 3 * (len(names) + 1)
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert not [cell.value for cell in cells if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)]
    assert [cell.value for cell in cells if cell.column == 3][1:] == [-5] * len(names)
    written = read_csv(to_csv(table), "t")
    text_cells = [*written.columns, *(cell for row in written.rows for cell in row[:2])]
    assert not [cell for cell in text_cells if cell.startswith(FORMULA_STARTS)]
    assert {row[2] for row in written.rows} == {"-5"}  # a number, written as the number it is


# --- the pages: every refusal says why, in the user's language, and writes nothing ---------------------------


def demo_factory(demo_env):
    return session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))


def demo_count(factory, model, *where) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.app
def test_the_cohort_page_lists_a_bad_roster_and_imports_nothing(app, demo_env):
    factory = demo_factory(demo_env)
    before = demo_count(factory, User), demo_count(factory, Enrolment)
    at = app("demo.trainer", "en")
    at.default_timeout = 120  # the machine is shared: a slow run is not a failure
    at.run()
    at.switch_page("screens/cohort.py").run()
    _, data, expected, _ = ROSTERS["formula cells in an XLSX"]
    at.file_uploader(key="roster_file").upload("roster.xlsx", data).run()
    assert not at.exception
    assert t("en", "roster.refused", n=str(len(expected))) in [e.value for e in at.error]
    listing = [m.value for m in at.markdown if m.value.startswith("- Row ")]
    assert listing and listing[0].count("\n- ") + 1 == len(expected)
    assert t("en", "roster.err_formula") in listing[0]
    assert "roster_import" not in [b.key for b in at.button]  # no way to import it anyway
    assert (demo_count(factory, User), demo_count(factory, Enrolment)) == before


@pytest.fixture
def kampot_session(demo_env):
    """A classroom session of demo.facilitator's Kampot cohort, and two of its learners' usernames."""
    factory = demo_factory(demo_env)
    with transaction(factory) as s:
        facilitator = s.scalar(select(User).where(User.username == "demo.facilitator"))
        kampot = s.scalar(select(Cohort).where(Cohort.name == "Kampot 2026"))
        found = classroom.open_session(s, by=facilitator, course=COURSE, cohort_id=kampot.id, module_id=MODULE.id,
                                       venue="Bad uploads hall", held_on=date(2026, 9, 8))
        names = s.scalars(select(User.username).join(Enrolment, Enrolment.user_id == User.id)
                          .where(Enrolment.cohort_id == kampot.id).order_by(User.username).limit(2)).all()
        return found.id, names


@pytest.mark.app
def test_the_session_page_lists_a_bad_paper_grid_and_saves_nothing(app, demo_env, kampot_session):
    session_id, (first, second) = kampot_session
    factory = demo_factory(demo_env)
    at = app("demo.facilitator", "km")
    at.default_timeout = 120  # the machine is shared: a slow run is not a failure
    at.session_state["live_session"] = session_id
    at.run()
    at.switch_page("screens/session.py").run()
    at.radio(key="paper_kind").set_value("pre")
    at.radio(key="paper_entry").set_value(1).run()
    grid = xlsx_bytes(GRID_HEADER, [first, "c", "true", "ab"], [second, '=IF(1,"c","a")', "f", "a"],
                      [FORMULAS[0], "c", "true", "a"])
    at.file_uploader(key="paper_file").upload("ក្រដាស.xlsx", grid).run()
    at.button(key="paper_upload_save").click().run()
    assert not at.exception
    assert t("km", "grid.refused", n="២") in [e.value for e in at.error], [e.value for e in at.error]
    listing = next(m.value for m in at.markdown if t("km", "grid.err_bad_answer") in m.value)
    assert t("km", "grid.err_unknown_user") in listing and listing.count("\n- ") == 1
    assert demo_count(factory, PaperEntry, PaperEntry.session_id == session_id) == 0


@pytest.mark.app
@pytest.mark.parametrize(("spoil", "check"), [
    (lambda d: flag_bits(d, 1), "zip"),
    (lambda d: rezip({"bundle.json": members_of(d)["bundle.json"] + b" ", "SHA256SUMS": members_of(d)["SHA256SUMS"]}),
     "checksum"),
    (lambda d: edited(d, lambda doc: doc.update(session="K7QX")), "format"),
    (lambda d: edited(d, lambda doc: doc["tables"]["users"][0].update(full_name_km="ចាន់\x00")), "value"),
], ids=["encrypted", "wrong checksum", "session as text", "NUL in a name"])
def test_the_bundle_page_says_which_check_failed(app, demo_env, kampot_session, spoil, check):
    session_id, _ = kampot_session
    factory = demo_factory(demo_env)
    with factory() as s:
        data = spoil(bundle.export_session(s, session_id=session_id))
    tables = {name: demo_count(factory, model) for name, model in (("users", User), ("paper", PaperEntry))}
    at = app("demo.admin", "km")
    at.default_timeout = 120  # the machine is shared: a slow run is not a failure
    at.run()
    at.switch_page("screens/bundles.py").run()
    at.file_uploader(key="bundle_file").upload("K7QX.zip", data, "application/zip").run()
    at.button(key="bundle_import").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("km", "bundles.refused")]
    assert t("km", f"bundles.why_{check}") in [c.value for c in at.caption]
    assert {name: demo_count(factory, model) for name, model in (("users", User), ("paper", PaperEntry))} == tables


@pytest.mark.app
def test_bundle_conflicts_show_usernames_as_text(app, demo_env, kampot_session):
    """A conflict line names the username the bundle carries: a username made of Markdown is shown as its
    characters, never as a link or bold (CommonMark with raw HTML and every link allowed: the strictest)."""
    from markdown_it import MarkdownIt

    session_id, _ = kampot_session
    factory = demo_factory(demo_env)
    hostile = "**bold** [link](javascript:alert(1)) <b>x</b>"
    with transaction(factory) as s:
        s.add(User(username=hostile, password_hash="x", full_name_km="ឈ្មោះ"))
    with factory() as s:
        data = bundle.export_session(s, session_id=session_id)

    def add_twin(doc):
        twin = {**doc["tables"]["users"][0], "id": "00000000-0000-4000-8000-0000000000aa", "username": hostile,
                "phone": None}
        doc["tables"]["users"].append(twin)
        doc["counts"]["users"] += 1

    at = app("demo.admin", "en")
    at.default_timeout = 120
    at.run()
    at.switch_page("screens/bundles.py").run()
    at.file_uploader(key="bundle_file").upload("K7QX.zip", edited(data, add_twin), "application/zip").run()
    at.button(key="bundle_import").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("en", "bundles.conflicts", n="1")]
    commonmark = MarkdownIt("commonmark", {"html": True})
    commonmark.validateLink = lambda url: True
    shown = " ".join(commonmark.render(m.value) for m in at.markdown if "belongs to another id" in m.value)
    assert "belongs to another id" in shown
    assert "<strong>" not in shown and "<a " not in shown and "<b>" not in shown
    assert html.escape(hostile, quote=False) in shown  # every character of it, as written
