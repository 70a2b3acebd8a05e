"""Broken content or a bad setting: the page says what is wrong, in the user's language, never a traceback."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from engine.app.i18n import t
from tests.app.conftest import MAIN, SAMPLE

pytestmark = pytest.mark.app


def test_broken_content_shows_every_problem_instead_of_pages(tmp_path, monkeypatch):
    root = tmp_path / "broken"
    shutil.copytree(SAMPLE, root)
    (root / "content/km/01-engagement/sections/why-engage.md").unlink()
    items = root / "modules/01-engagement.yaml"
    items.write_text(items.read_text(encoding="utf-8").replace("key: c", "key: z"), encoding="utf-8")
    monkeypatch.setenv("SALA_CONTENT_ROOT", str(root))
    monkeypatch.setenv("SALA_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.run()
    assert not at.exception
    assert at.error[0].value == t("km", "app.content_invalid")
    listing = at.code[0].value
    assert "modules/01-engagement.yaml:4:9: [error] section 'why-engage' has no lesson in km" in listing
    assert "key 'z' names no option of t01" in listing
    assert not at.text_input  # no sign-in form: nothing is served half-valid


@pytest.mark.parametrize("url,expected", [
    ("nonsense", "SALA_DATABASE_URL: cannot use 'nonsense'"),
    ("mysql://db/sala", "SALA_DATABASE_URL: cannot use 'mysql://db/sala': Sala runs on SQLite or PostgreSQL"),
])
def test_bad_database_url_is_one_clear_line(tmp_path, monkeypatch, url, expected):
    monkeypatch.setenv("SALA_CONTENT_ROOT", str(SAMPLE))
    monkeypatch.setenv("SALA_DATABASE_URL", url)
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert at.error[0].value == t("en", "app.config_error")
    assert at.code[0].value.startswith(expected)
