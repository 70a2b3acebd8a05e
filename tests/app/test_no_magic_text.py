"""Streamlit's "magic" writes any bare expression of a page script to the page: a string left as a
constant's docstring in a screen appeared on the Khmer cohort page as an English sentence. No page
script may hold a bare string (its own leading docstring aside, which Streamlit skips)."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.app
APP = Path(__file__).resolve().parents[2] / "engine" / "app"
PAGES = sorted([APP / "main.py", *(APP / "screens").glob("*.py")])


def bare_strings(path: Path) -> list[int]:
    """Lines of bare string expressions that magic would render: outside functions and classes (where
    magic does not reach), other than the module's first statement."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(nodes, top):
        for n, node in enumerate(nodes):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str) and not (top and n == 0)):
                found.append(node.lineno)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []) or [], False)

    visit(tree.body, True)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_shows_a_stray_string(page):
    assert bare_strings(page) == [], f"{page.relative_to(APP)}: bare strings at lines {bare_strings(page)}"


def test_the_check_finds_one(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('"""doc"""\nX = 1\n"""about X"""\nif X:\n    "shown too"\ndef f():\n    "a docstring"\n')
    assert bare_strings(page) == [3, 5]
