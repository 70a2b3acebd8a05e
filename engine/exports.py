"""Exports for trainers: a page's tables as CSV or as an XLSX workbook, safe to open in a spreadsheet.

Pure: no Streamlit, no database. A page builds `Table`s from the rows it shows and hands them here.
Every text cell goes through `safe_cell`, so a learner who types `=HYPERLINK(...)` as their name
cannot make a trainer's spreadsheet run it. Numbers stay numbers and dates stay dates.

What a spreadsheet cannot hold is settled here, once, and documented where it happens:
- an empty text and a missing value are the same empty cell (CSV reads it back as "", XLSX as None);
- a timezone-aware datetime is written in UTC, to the second (Excel has no time zones);
- XLSX stores a line break as "\\n" and has no place for other control characters (they become U+FFFD);
- XLSX numbers are doubles, so an int past 2**53 (an ID, say) belongs in a text cell.
`csv_view` and `xlsx_view` say exactly what `read_csv` and `read_xlsx` give back, so the app's
"the export equals the page" check is `read_xlsx(data) == xlsx_view(tables)`.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from engine.errors import InputError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
"""A text cell starting with one of these may run as a formula: OWASP's list, plus NUL (ASVS 5.0, 1.2.10)."""
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MAX_TITLE = 31  # Excel's limit on a sheet title
MAX_WIDTH = 60  # characters: a column never gets wider, however long its longest cell
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_CELL_TYPES = (str, int, float, date, type(None))  # bool is an int; datetime is a date


@dataclass(frozen=True)
class Table:
    """One table of a page: its name (the sheet title in XLSX), column headers and rows of cells.

    Cells are str, int, float, bool, None, date or datetime. Rows may be given as lists; they are
    kept as tuples. A row of the wrong length, an unsupported cell or a NaN or infinite float raises
    `InputError` naming every such cell, here, rather than halfway through writing a file."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]

    def __post_init__(self):
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(tuple(row) for row in self.rows))
        problems = []
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                problems.append(f"row {number}: expected {len(self.columns)} cells, received {len(row)}")
            for column, value in zip(self.columns, row, strict=False):
                if not isinstance(value, _CELL_TYPES) or (isinstance(value, float) and not math.isfinite(value)):
                    problems.append(f"row {number}, column {column!r}: cannot export {value!r}")
        if problems:
            raise InputError(f"table {self.name!r}: " + "; ".join(problems))


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should receive it: text that would run as a formula gets a leading
    apostrophe; everything else is returned unchanged.

    OWASP's CSV-injection guidance: a cell starting with =, +, -, @, tab or carriage return is a
    formula to Excel, LibreOffice and Google Sheets (`=cmd|' /C calc'!A0`, `@SUM(A1)`, `+1+1`,
    `-2+3`); an apostrophe in front makes it text. Only text is touched: the number -5 stays the
    number -5, while the text "-5" becomes "'-5". The apostrophe stays in the data, visibly, so
    `read_csv` and `read_xlsx` give it back. Quotes and separators inside a cell, which could start a
    new cell, are the CSV writer's job (RFC 4180 quoting)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _utc(value: datetime) -> datetime:
    """A datetime to the second, an aware one moved to UTC."""
    return value.replace(microsecond=0).astimezone(UTC) if value.tzinfo else value.replace(microsecond=0)


# --- CSV -------------------------------------------------------------------------------------------


def _csv_text(value: object) -> str:
    value = safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # what Excel writes and reads
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)  # str of a float is its shortest exact form


def csv_view(table: Table) -> Table:
    """The table as its CSV holds it, which is what `read_csv` returns: every cell the text written
    (None as "", dates ISO 8601, booleans TRUE/FALSE, formula-like text with its apostrophe)."""
    return Table(table.name, tuple(_csv_text(c) for c in table.columns),
                 tuple(tuple(_csv_text(c) for c in row) for row in table.rows))


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark (without it Excel reads Khmer as mojibake), comma-separated,
    quoted as RFC 4180 says (CRLF line ends, a quote doubled, a field quoted when it needs it)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    view = csv_view(table)
    writer.writerow(view.columns)
    writer.writerows(view.rows)
    return out.getvalue().encode("utf-8-sig")


def read_csv(data: bytes, name: str) -> Table:
    """A CSV written by `to_csv` (with or without its byte-order mark) as a table of text cells."""
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return Table(name, tuple(header), tuple(tuple(row) for row in rows))


# --- XLSX ------------------------------------------------------------------------------------------


def _fit(base: str, suffix: str = "") -> str:
    """The base cut to leave room for the suffix, never ending on an apostrophe or a Khmer coeng
    (U+17D2, which would join the next consonant to nothing)."""
    return (base[: MAX_TITLE - len(suffix)].rstrip("'\u17d2") or "Sheet") + suffix


def sheet_titles(names: list[str]) -> list[str]:
    """Valid, unique sheet titles for these table names, in order: []:*?/\\ become "_", at most 31
    characters, no apostrophe at either end (Excel refuses one), "History" is Excel's own, and a
    title met again (ignoring case, as Excel does) gets " (2)", " (3)", ... ."""
    titles: list[str] = []
    taken: set[str] = set()
    for name in names:
        base = ILLEGAL_CHARACTERS_RE.sub("_", _BAD_TITLE.sub("_", name)).strip().strip("'") or "Sheet"
        base = base + "_" if base.casefold() == "history" else base
        title, n = _fit(base), 1
        while title.casefold() in taken:
            n += 1
            title = _fit(base, f" ({n})")
        taken.add(title.casefold())
        titles.append(title)
    return titles


def _xlsx_value(value: object) -> object:
    value = safe_cell(value)
    if value == "":
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value.replace("\r\n", "\n").replace("\r", "\n"))
    if isinstance(value, datetime):
        return _utc(value).replace(tzinfo=None)
    return value


def xlsx_view(tables: list[Table]) -> list[Table]:
    """The tables as their workbook holds them, which is what `read_xlsx` returns: sheet titles for
    names, text through `safe_cell` with line breaks as "\\n", "" as None, datetimes as naive UTC."""
    return [Table(title, tuple(_xlsx_value(c) for c in t.columns),
                  tuple(tuple(_xlsx_value(c) for c in row) for row in t.rows))
            for title, t in zip(sheet_titles([t.name for t in tables]), tables, strict=True)]


def _width(value: object) -> int:
    """Roughly how many characters wide a cell shows: Khmer vowel signs and subscripts take no column."""
    text = value.isoformat() if isinstance(value, date) else str(value) if value is not None else ""
    longest = max(text.split("\n"), key=len)
    return sum(1 for ch in longest if unicodedata.category(ch) not in ("Mn", "Cf"))


def to_xlsx(tables: list[Table]) -> bytes:
    """A workbook with one sheet per table: a bold, frozen header row, columns fitted to their
    content, numbers as numbers, dates as dates (yyyy-mm-dd, with hh:mm:ss for a datetime)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in xlsx_view(tables):
        sheet = workbook.create_sheet(table.name)
        for row in (table.columns, *table.rows):
            sheet.append(row)
        for cells in sheet.iter_rows():
            for cell in cells:
                cell.font = Font(bold=cell.row == 1)
                if isinstance(cell.value, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(cell.value, date):
                    cell.number_format = DATE_FORMAT
                elif cell.data_type == "e":  # openpyxl makes the text "#N/A" an error value; it is text
                    cell.data_type = "s"
        for index, column in enumerate(zip(table.columns, *table.rows, strict=True), start=1):
            width = max(_width(value) for value in column)
            sheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH) + 2
        sheet.freeze_panes = "A2"
    workbook.properties.creator = "Sala"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _read_value(cell) -> object:
    if isinstance(cell.value, datetime) and cell.number_format == DATE_FORMAT:
        return cell.value.date()
    return cell.value


def read_xlsx(data: bytes) -> list[Table]:
    """Every sheet of a workbook written by `to_xlsx` as a table: the first row is the header."""
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        tables = []
        for sheet in workbook.worksheets:
            header, *rows = [tuple(_read_value(c) for c in row) for row in sheet.iter_rows()] or [()]
            tables.append(Table(sheet.title, header, tuple(row[: len(header)] for row in rows)))
        return tables
    finally:
        workbook.close()
