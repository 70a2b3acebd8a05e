"""Every string a user sees exists in Khmer and English, with the same placeholders; pages use the catalog."""

import ast
import re
import string
from pathlib import Path

import pytest

from engine.app.i18n import catalog, day, number

pytestmark = pytest.mark.app
APP = Path(__file__).resolve().parents[2] / "engine" / "app"
KHMER = re.compile(r"[\u1780-\u17FF]")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders():
    km, en = catalog("km"), catalog("en")
    assert sorted(set(km) ^ set(en)) == []
    for key in en:
        assert km[key].strip() and en[key].strip(), key
        assert fields(km[key]) == fields(en[key]), key


def test_khmer_catalog_is_khmer():
    english_left = [key for key, text in catalog("km").items()
                    if not KHMER.search(text) and key not in {"common.none", "app.name"} and text != "English"]
    assert english_left == []


USER_FACING = {"title", "header", "subheader", "caption", "info", "warning", "error", "success", "write",
               "button", "text_input", "radio", "selectbox", "form_submit_button", "metric", "text"}


def test_pages_show_no_hard_coded_words():
    found = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in USER_FACING and node.args
                    and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "log")
                    and not (isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "log")
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                    and re.search(r"[A-Za-z\u1780-\u17FF]{2}", node.args[0].value)):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


@pytest.mark.parametrize("lang,value,expected", [("km", 1234, "១,២៣៤"), ("en", 1234, "1,234")])
def test_numbers_follow_the_language(lang, value, expected):
    assert number(lang, value) == expected


def test_dates_follow_the_language():
    import datetime

    assert day("km", datetime.date(2026, 11, 23)) == "២៣ វិច្ឆិកា ២០២៦"
    assert day("en", datetime.date(2026, 11, 23)) == "23 November 2026"
