"""Roster import, as specifications: every encoding a trainer's spreadsheet may arrive in reads the same;
every bad file gets its exact problems, each naming row and column; an import lands whole or not at
all, on SQLite and on PostgreSQL; enrolment codes use only unambiguous characters and expire."""

import codecs
import csv
import io
import re
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import event, func, select

from engine import accounts, roster
from engine.errors import FieldError, InputError
from engine.roster import ParsedRoster, RosterRow, import_roster, new_enrol_code, parse_roster, set_enrol_code
from engine.store.base import utcnow
from engine.store.db import transaction
from engine.store.models import Cohort, Enrolment, User

pytestmark = pytest.mark.trainer

HEADER = ["full_name_km", "full_name_latin", "sex", "province", "org_type", "institution", "position", "phone",
          "username"]
KHMER_HEADER = [" ឈ្មោះ ", "ឈ្មោះឡាតាំង", "ភេទ", "ខេត្ត", "ប្រភេទស្ថាប័ន", "ស្ថាប័ន", "មុខតំណែង", "ទូរស័ព្ទ",
                "ឈ្មោះអ្នកប្រើ"]
GOOD = [
    ["ចាន់ ធីតា", "Chan Thida", "ស្រី", "សៀមរាប", "commune", "ក្រុមប្រឹក្សាឃុំ", "ស្មៀនឃុំ", "012 345 678", ""],
    ["សុខ ដារា", "Sok Dara", "M", "17", "District", "រដ្ឋបាលស្រុក", "អភិបាលរង", "+855 97 123 4567", "dara.sok"],
    ["ស្រី មុំ", "", "female", "Kampot", "cso", "អង្គការ ស, \"ក\"", "", "", ""],
]
EXPECTED = [
    RosterRow(row=2, full_name_km="ចាន់ ធីតា", full_name_latin="Chan Thida", sex="female", province_code="17",
              org_type="commune", institution="ក្រុមប្រឹក្សាឃុំ", position="ស្មៀនឃុំ", phone="012345678",
              username="chan.thida", username_made=True),
    RosterRow(row=3, full_name_km="សុខ ដារា", full_name_latin="Sok Dara", sex="male", province_code="17",
              org_type="district", institution="រដ្ឋបាលស្រុក", position="អភិបាលរង", phone="0971234567",
              username="dara.sok"),
    RosterRow(row=4, full_name_km="ស្រី មុំ", sex="female", province_code="07", org_type="cso",
              institution="អង្គការ ស, \"ក\"", username="learner1", username_made=True),
]


def to_csv(rows, delimiter=","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)  # Excel ends lines with CRLF
    return out.getvalue()


def to_xlsx(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zipped(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def utf8(*rows):
    return to_csv(rows).encode()


SAVED_AS = {
    "UTF-8": lambda rows: to_csv(rows).encode("utf-8"),
    "UTF-8 with BOM (Excel's CSV UTF-8)": lambda rows: to_csv(rows).encode("utf-8-sig"),
    "UTF-16 LE with BOM, tabs (Excel's Unicode text)": lambda rows: codecs.BOM_UTF16_LE + to_csv(rows, "\t").encode("utf-16-le"),
    "UTF-16 BE with BOM, commas": lambda rows: codecs.BOM_UTF16_BE + to_csv(rows).encode("utf-16-be"),
    "semicolons (Excel in a comma-decimal locale)": lambda rows: to_csv(rows, ";").encode("utf-8-sig"),
    "tabs, UTF-8": lambda rows: to_csv(rows, "\t").encode(),
    "LF line ends (LibreOffice)": lambda rows: to_csv(rows).replace("\r\n", "\n").encode(),
    "XLSX": to_xlsx,
}


@pytest.mark.parametrize("header", [HEADER, KHMER_HEADER, [h.upper() + "  " for h in HEADER]],
                         ids=["english header", "khmer header", "capitals and spaces"])
@pytest.mark.parametrize("saved_as", SAVED_AS)
def test_every_encoding_reads_the_same_rows(saved_as, header):
    parsed = parse_roster(SAVED_AS[saved_as]([header, *GOOD, [""] * 9]), "roster.file")
    assert parsed.problems == []
    assert parsed.rows == EXPECTED


def test_xlsx_numbers_keep_their_leading_zero_and_columns_come_in_any_order():
    book = openpyxl.Workbook()
    book.active.append(["Phone", "ខេត្ត", "ឈ្មោះ"])
    book.active.append([12345678, 7, "ចាន់ ធីតា"])  # typed as numbers: Excel drops the zeros
    book.active.append([None, None, None])
    book.active.append([97.0 * 10**7 + 1234567, 17.0, "សុខ ដារា"])
    out = io.BytesIO()
    book.save(out)
    parsed = parse_roster(out.getvalue(), "roster.xlsx")
    assert parsed.problems == []
    assert [(r.row, r.phone, r.province_code, r.username) for r in parsed.rows] == [
        (2, "012345678", "07", "learner1"), (4, "0971234567", "17", "learner2")]


@pytest.mark.parametrize(("column", "written", "kept"), [
    ("phone", "+855 12 345 678", "012345678"),
    ("phone", "85512345678", "012345678"),
    ("phone", "012-345-678", "012345678"),
    ("phone", "12345678", "012345678"),
    ("phone", "(097) 123 4567", "0971234567"),
    ("phone", "", None),
    ("sex", "F", "female"),
    ("sex", "m", "male"),
    ("sex", "ប្រុស", "male"),
    ("sex", "Other", "other"),
    ("sex", "", "undisclosed"),
    ("province", "7", "07"),
    ("province", "siemreap", "17"),
    ("province", "Siem Reap", "17"),
    ("province", "រាជធានីភ្នំពេញ", "12"),
    ("province", "", None),
    ("org_type", "CSO", "cso"),
    ("org_type", "", "other"),
    ("username", "Sok.Dara", "sok.dara"),
])
def test_cells_are_normalised(column, written, kept):
    parsed = parse_roster(utf8(["full_name_km", column], ["ចាន់ ធីតា", written]), "r.csv")
    assert parsed.problems == []
    field = {"province": "province_code"}.get(column, column)
    assert getattr(parsed.rows[0], field) == kept


def test_text_is_nfc_and_html_stays_text():
    decomposed = "Tra\u0302n Va\u0306n"  # â and ă as letter + combining mark, as some keyboards type them
    parsed = parse_roster(utf8(["full_name_km", "full_name_latin"], ["<script>alert('x')</script>", decomposed]), "r.csv")
    assert parsed.problems == []
    assert parsed.rows[0].full_name_km == "<script>alert('x')</script>"
    assert parsed.rows[0].full_name_latin == "Trân Văn"
    assert parsed.rows[0].username == "tran.van"


def test_usernames_are_made_from_the_latin_name_and_never_repeat():
    rows = [["Sok Dara", ""], ["Sok Dara", ""], ["", ""], ["Ly", ""], ["", "sok.dara3"], ["Sok  Dara", ""], ["", ""]]
    parsed = parse_roster(utf8(["full_name_km", "full_name_latin", "username"], *[["ឈ្មោះ", *r] for r in rows]), "r.csv")
    assert parsed.problems == []
    assert [r.username for r in parsed.rows] == [
        "sok.dara", "sok.dara2", "learner1", "ly1", "sok.dara3", "sok.dara4", "learner2"]
    assert [r.username_made for r in parsed.rows] == [True, True, True, True, False, True, True]


ACCEPTED = ("full_name_km (ឈ្មោះ), full_name_latin (ឈ្មោះឡាតាំង), sex (ភេទ), province (ខេត្ត), org_type (ប្រភេទស្ថាប័ន), "
            "institution (ស្ថាប័ន), position (មុខតំណែង), phone (ទូរស័ព្ទ), username (ឈ្មោះអ្នកប្រើ)")
SAVE = "save it from Excel or LibreOffice as .xlsx, or as CSV UTF-8"
FIVE_GOOD = [[f"ឈ្មោះ {n}", "female"] for n in range(5)]

BAD_FILES = {
    "wrong sex": (
        "r.csv", utf8(["full_name_km", "sex"], *FIVE_GOOD, ["ចាន់ ធីតា", "X"]),
        ["row 7, column sex: expected female, male, other or undisclosed (or ស្រី, ប្រុស), got 'X'"], ["bad_sex"]),
    "unknown province": (
        "r.csv", utf8(["full_name_km", "province"], ["ចាន់ ធីតា", "Saigon"], ["សុខ ដារា", "26"]),
        ["row 2, column province: expected a province's 2-digit code (01 to 25) or its Khmer or English name, got 'Saigon'",
         "row 3, column province: expected a province's 2-digit code (01 to 25) or its Khmer or English name, got '26'"],
        ["unknown_province"] * 2),
    "bad phone": (
        "r.csv", utf8(["full_name_km", "phone"], ["ចាន់ ធីតា", "12345"], ["សុខ ដារា", "+1 202 555 0100"]),
        ["row 2, column phone: expected a Cambodian number such as 012345678, got '12345'",
         "row 3, column phone: expected a Cambodian number such as 012345678, got '+1 202 555 0100'"], ["bad_phone"] * 2),
    "duplicate phone in two rows": (
        "r.csv", utf8(["full_name_km", "phone"], ["ចាន់ ធីតា", "012345678"], ["ស្រី មុំ", ""], ["សុខ ដារា", "+855 12 345 678"]),
        ["row 4, column phone: '012345678' is already in row 2"], ["duplicate_phone"]),
    "duplicate username in two rows": (
        "r.csv", utf8(["full_name_km", "username"], ["ចាន់ ធីតា", "thida"], ["សុខ ដារា", "Thida"]),
        ["row 3, column username: 'thida' is already in row 2"], ["duplicate_username"]),
    "missing required column": (
        "r.csv", utf8(["full_name_latin", "sex"], ["Chan Thida", "F"]),
        ["row 1, column full_name_km: the required column is missing: name it full_name_km or ឈ្មោះ"], ["missing_column"]),
    "unknown column": (
        "r.csv", utf8(["full_name_km", "Email"], ["ចាន់ ធីតា", "thida@example.org"]),
        [f"row 1, column Email: unknown column; the columns are {ACCEPTED}"], ["unknown_column"]),
    "the same column twice": (
        "r.csv", utf8(["full_name_km", "sex", "ភេទ"], ["ចាន់ ធីតា", "F", "F"]),
        ["row 1, column ភេទ: the same column as 'sex'"], ["repeated_column"]),
    "values under no column name": (
        "r.csv", utf8(["full_name_km", ""], ["ចាន់ ធីតា", ""], ["សុខ ដារា", "note"], ["ស្រី មុំ", "note"]),
        ["row 3, column B: this column has values but no name in row 1"], ["unnamed_column"]),
    "formula cell": (
        "r.csv", utf8(["full_name_km", "institution", "position"], ["ចាន់ ធីតា", "=cmd|' /C calc'!A0", "@SUM(A1)"],
                      ["-2+3", "", "+ministry"]),
        ["row 2, column institution: a value may not start with = + - or @ (a spreadsheet would run it), got \"=cmd|' /C calc'!A0\"",
         "row 2, column position: a value may not start with = + - or @ (a spreadsheet would run it), got '@SUM(A1)'",
         "row 3, column full_name_km: a value may not start with = + - or @ (a spreadsheet would run it), got '-2+3'",
         "row 3, column position: a value may not start with = + - or @ (a spreadsheet would run it), got '+ministry'"],
        ["formula"] * 4),
    "empty required name": (
        "r.csv", utf8(["full_name_km", "full_name_latin"], ["ចាន់ ធីតា", "Chan Thida"], ["  ", "Sok Dara"]),
        ["row 3, column full_name_km: the name in Khmer is required"], ["required"]),
    "too long a name": (
        "r.csv", utf8(["full_name_km"], ["ក" * 201]),
        ["row 2, column full_name_km: expected at most 200 characters, got 201"], ["too_long"]),
    "bad username": (
        "r.csv", utf8(["full_name_km", "username"], ["ចាន់ ធីតា", "ចាន់"]),
        ["row 2, column username: expected 3-40 lowercase letters, digits, dots, hyphens or underscores, starting with a letter or digit, got 'ចាន់'"],
        ["bad_username"]),
    "header and nothing else": (
        "r.csv", utf8(HEADER), ["r.csv has no learners below its header row"], ["no_rows"]),
    "oversized file": (
        "big.csv", b"full_name_km\n" + "ចាន់ ធីតា\n".encode() * 300_000,
        ["big.csv is 7,800,013 bytes; a roster may be at most 5 MB (5,242,880 bytes)"], ["file_too_large"]),
    "too many rows": (
        "big.csv", utf8(["full_name_km"], *[["ចាន់ ធីតា"]] * 5001),
        ["big.csv has more than 5,000 learners; split it into several files"], ["too_many_rows"]),
    "a PDF renamed .csv": (
        "report.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n",
        [f"report.csv is a PDF document, not a roster: {SAVE}"], ["not_a_roster"]),
    "an old Excel .xls": (
        "roster.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        [f"roster.xls is an old-style Office file (.xls or .doc), not a roster: {SAVE}"], ["not_a_roster"]),
    "a LibreOffice .ods renamed .xlsx": (
        "roster.xlsx", zipped({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}),
        [f"roster.xlsx is an OpenDocument spreadsheet (.ods), not a roster: {SAVE}"], ["not_a_roster"]),
    "a truncated XLSX": (
        "roster.xlsx", to_xlsx([["full_name_km"]])[:2000],
        [f"roster.xlsx is a damaged ZIP or XLSX file: {SAVE}"], ["not_a_roster"]),
    "an empty file": (
        "r.csv", b"", ["row 1, column full_name_km: the required column is missing: name it full_name_km or ឈ្មោះ"],
        ["missing_column"]),
    "binary data": (
        "r.csv", bytes(range(256)) * 4, [f"r.csv is not UTF-8 or UTF-16 text (byte 129 cannot be read): {SAVE}, or as Unicode text"],
        ["encoding"]),
    "a legacy-encoded CSV": (
        "old.csv", "full_name_km\nCafé\n".encode("cp1252"),
        [f"old.csv is not UTF-8 or UTF-16 text (byte 17 cannot be read): {SAVE}, or as Unicode text"], ["encoding"]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_get_every_problem_with_row_and_column(case):
    filename, data, messages, codes = BAD_FILES[case]
    parsed = parse_roster(data, filename)
    assert [str(p) for p in parsed.problems] == messages
    assert [p.code for p in parsed.problems] == codes
    assert all(p.row is None or p.row not in {r.row for r in parsed.rows} for p in parsed.problems)


def test_every_problem_is_collected_in_one_pass_from_an_xlsx():
    parsed = parse_roster(to_xlsx([["ឈ្មោះ", "sex", "province", "phone", "Notes"],
                                   ["ចាន់ ធីតា", "F", "17", "012345678"],
                                   [None, "Z", "Hanoi", "012345678"],
                                   ["សុខ ដារា", "M", "12", "099"]]), "roster.xlsx")
    assert [(p.row, p.column, p.code) for p in parsed.problems] == [
        (1, "Notes", "unknown_column"),
        (3, "full_name_km", "required"), (3, "sex", "bad_sex"), (3, "province", "unknown_province"),
        (3, "phone", "duplicate_phone"), (4, "phone", "bad_phone")]
    assert [r.row for r in parsed.rows] == [2]


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    monkeypatch.setattr(roster, "MAX_UNPACKED", 1000)
    parsed = parse_roster(to_xlsx([["full_name_km"], ["ចាន់ ធីតា"]]), "roster.xlsx")
    assert [str(p) for p in parsed.problems] == ["roster.xlsx unpacks to over 0 MB; a roster is far smaller"]


def test_the_docstring_documents_every_column():
    for column, khmer in roster.COLUMNS.items():
        assert re.search(rf"^    {column} +{khmer} ", roster.__doc__, re.MULTILINE), column


# --- the import, on SQLite and PostgreSQL ------------------------------------------------------------


@pytest.fixture
def cohort(store):
    with transaction(store.sessions) as s:
        c = Cohort(name="Siem Reap 2026", kind="provincial", province_code="17")
        s.add(c)
        s.flush()
        return c.id


def counts(store):
    with store.sessions() as s:
        return (s.scalar(select(func.count()).select_from(User)), s.scalar(select(func.count()).select_from(Enrolment)))


def good_roster():
    return parse_roster(to_xlsx([HEADER, *GOOD]), "roster.xlsx")


def test_an_import_lands_whole_and_its_passwords_sign_in(store, cohort):
    with transaction(store.sessions) as s:
        result = import_roster(s, cohort_id=cohort, parsed=good_roster())
    assert [(r.row, r.username, r.full_name_km) for r in result.learners] == [
        (2, "chan.thida", "ចាន់ ធីតា"), (3, "dara.sok", "សុខ ដារា"), (4, "learner1", "ស្រី មុំ")]
    assert counts(store) == (3, 3)
    assert "temporary_password" not in repr(result)
    with transaction(store.sessions) as s:
        for learner in result.learners:
            assert re.fullmatch("[abcdefghjkmnpqrstuvwxyz23456789]{10}", learner.temporary_password)
            user = accounts.authenticate(s, login=learner.username, password=learner.temporary_password)
            assert user is not None and user.id == learner.user_id and user.role == "learner"
            assert learner.temporary_password not in user.password_hash
        thida = accounts.authenticate(s, login="012345678", password=result.learners[0].temporary_password)
        assert (thida.sex, thida.province_code, thida.org_type, thida.institution) == (
            "female", "17", "commune", "ក្រុមប្រឹក្សាឃុំ")
        assert set(s.scalars(select(Enrolment.user_id).where(Enrolment.cohort_id == cohort))) == {
            learner.user_id for learner in result.learners}


def test_html_in_a_name_round_trips_as_text(store, cohort):
    name = "<script>alert('x')</script> &amp; <b>ធីតា</b>"
    with transaction(store.sessions) as s:
        import_roster(s, cohort_id=cohort, parsed=parse_roster(utf8(["full_name_km"], [name]), "r.csv"))
    with store.sessions() as s:
        assert s.scalar(select(User.full_name_km)) == name


def test_a_roster_with_problems_writes_nothing(store, cohort):
    parsed = parse_roster(utf8(["full_name_km", "sex"], ["ចាន់ ធីតា", "F"], ["សុខ ដារា", "X"]), "r.csv")
    with pytest.raises(InputError) as refused, transaction(store.sessions) as s:
        import_roster(s, cohort_id=cohort, parsed=parsed)
    assert refused.value.problems == parsed.problems
    assert str(refused.value) == ("the roster was not imported: 1 problem(s), the first: row 3, column sex: "
                                  "expected female, male, other or undisclosed (or ស្រី, ប្រុស), got 'X'")
    assert counts(store) == (0, 0)


def test_reimporting_the_same_file_is_refused_naming_the_rows(store, cohort):
    with transaction(store.sessions) as s:
        import_roster(s, cohort_id=cohort, parsed=good_roster())
    with pytest.raises(InputError) as refused, transaction(store.sessions) as s:
        import_roster(s, cohort_id=cohort, parsed=good_roster())
    assert [str(p) for p in refused.value.problems] == [
        "row 2, column phone: '012345678' already has an account",
        "row 3, column phone: '0971234567' already has an account",
        "row 3, column username: 'dara.sok' is already taken",
        "row 4, column full_name_km: someone of this name is already in the cohort; give a phone or a username to add another",
    ]
    assert counts(store) == (3, 3)


def test_a_made_username_that_is_taken_takes_the_next_number(store, cohort):
    with transaction(store.sessions) as s:
        s.add_all([User(username="chan.thida", password_hash="x", full_name_km="ចាន់ ធីតា ផ្សេង"),
                   User(username="chan.thida2", password_hash="x", full_name_km="ចាន់ ធីតា ទៀត")])
    parsed = parse_roster(utf8(["full_name_km", "full_name_latin", "username"], ["ចាន់ ធីតា", "Chan Thida", ""],
                               ["ចាន់ ធីតា", "Chan Thida", ""], ["ចាន់", "", "chan.thida3"]), "r.csv")
    assert [r.username for r in parsed.rows] == ["chan.thida", "chan.thida2", "chan.thida3"]
    with transaction(store.sessions) as s:
        result = import_roster(s, cohort_id=cohort, parsed=parsed)
    assert [r.username for r in result.learners] == ["chan.thida4", "chan.thida5", "chan.thida3"]


def test_a_failure_midway_leaves_nothing_behind(store, cohort):
    rows = good_roster().rows
    slipped = ParsedRoster(rows=[*rows, RosterRow(row=5, full_name_km="ស្ទួន", username=rows[0].username)], problems=[])
    with pytest.raises(Exception, match="(?i)unique|duplicate"), transaction(store.sessions) as s:
        import_roster(s, cohort_id=cohort, parsed=slipped)
    assert counts(store) == (0, 0)


def test_a_failure_while_enrolling_leaves_no_accounts(store, cohort):
    @event.listens_for(store.engine, "before_cursor_execute")
    def disk_full(connection, cursor, statement, *args):
        if statement.startswith("INSERT INTO enrolments"):  # the accounts are already written by now
            raise RuntimeError("the disk is full")
    with pytest.raises(RuntimeError, match="disk is full"), transaction(store.sessions) as s:
        import_roster(s, cohort_id=cohort, parsed=good_roster())
    assert counts(store) == (0, 0)


def test_an_unknown_cohort_is_refused(store):
    with pytest.raises(FieldError) as refused, transaction(store.sessions) as s:
        import_roster(s, cohort_id="no-such-cohort", parsed=good_roster())
    assert (refused.value.field, refused.value.code) == ("cohort_id", "unknown")


# --- enrolment codes ---------------------------------------------------------------------------------

CODE = re.compile(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{2}-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}")


@pytest.mark.parametrize(("source", "prefix"), [
    ("Siem Reap 2026", "SR"), ("Kampot 2026", "KA"), ("ToT Ministry of Interior", "TM"), ("17", "SE"),
    ("សៀមរាប ២០២៦", "SE"), ("Phnom Penh", "PP"), ("ក្រុមថ្មី", "SA"), ("", "SA"), ("Lao", "SA"), ("Kep", "KE"),
])
def test_enrol_codes_use_only_unambiguous_characters(source, prefix):
    codes = {new_enrol_code(source) for _ in range(200)}
    assert all(CODE.fullmatch(code) and code.startswith(prefix + "-") for code in codes), codes
    assert len(codes) > 190


def test_a_fresh_enrol_code_works_until_it_expires(store, cohort, monkeypatch):
    with transaction(store.sessions) as s:
        old, _ = set_enrol_code(s, cohort_id=cohort, days=7)
    with transaction(store.sessions) as s:
        code, expires_at = set_enrol_code(s, cohort_id=cohort, days=14)
    assert CODE.fullmatch(code) and code.startswith("SR-") and code != old
    assert abs(expires_at - (utcnow() + timedelta(days=14))) < timedelta(minutes=1)
    with store.sessions() as s:
        assert accounts.cohort_for_code(s, code.lower()).id == cohort
        with pytest.raises(FieldError, match="no cohort has this enrolment code"):
            accounts.cohort_for_code(s, old)
        monkeypatch.setattr(accounts, "utcnow", lambda: utcnow() + timedelta(days=15))
        with pytest.raises(FieldError, match="expired"):
            accounts.cohort_for_code(s, code)


def test_an_enrol_code_collision_is_retried_and_the_callers_work_survives(store, cohort, monkeypatch):
    with transaction(store.sessions) as s:
        s.add(Cohort(name="Kampot 2026", kind="provincial", enrol_code="SR-AAAA"))
    offered = iter(["SR-AAAA", "SR-BBBB"])
    monkeypatch.setattr(roster, "new_enrol_code", lambda source: next(offered))
    with transaction(store.sessions) as s:
        s.add(Cohort(name="Kep 2026", kind="provincial"))
        assert set_enrol_code(s, cohort_id=cohort, days=1)[0] == "SR-BBBB"
    with store.sessions() as s:
        assert dict(s.execute(select(Cohort.name, Cohort.enrol_code)).all()) == {
            "Siem Reap 2026": "SR-BBBB", "Kampot 2026": "SR-AAAA", "Kep 2026": None}


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_an_enrol_code_lasts_one_day_to_ten_years(store, cohort, days):
    with pytest.raises(FieldError) as refused, transaction(store.sessions) as s:
        set_enrol_code(s, cohort_id=cohort, days=days)
    assert refused.value.code == "days_range"
