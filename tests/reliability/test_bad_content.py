"""Bad content, end to end (issue #7, part 4): every case of the corpus in bad_content.py goes through
`sala validate` (engine.cli.main) and gives its `path:line` problem with its rule, exit code 1 and no
traceback; a subset goes through the app, which shows the problem list instead of serving pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bad_content import CASES, Case
from streamlit.testing.v1 import AppTest

from engine.app.i18n import t
from engine.cli import main
from engine.content import load, read_tree, validate
from engine.content.loader import content_version

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "fixtures" / "sample"
APP_MAIN = str(REPO / "engine" / "app" / "main.py")
KINDS = {"encoding", "nul", "size", "syntax", "shape", "type", "translation", "key", "duplicate", "link", "file"}
APP_CASES = [
    "50 MB Markdown section", "items saved as UTF-16 without a BOM", "section saved as Latin-1",
    "billion laughs alias bomb", "module file is a list, not a mapping", "NUL byte in a module's YAML",
    "a lesson that is a symbolic link to itself", "a folder named items.yaml",
]
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(autouse=True)
def _drop_the_tree(tmp_path):
    """pytest keeps the temporary folders of recent runs: the 50 MB files are not kept with them."""
    yield
    shutil.rmtree(tmp_path / "course-root", ignore_errors=True)


def broken(tmp_path: Path, case: Case) -> Path:
    root = tmp_path / "course-root"
    shutil.copytree(SAMPLE, root)
    case.change(root)
    return root


def run_validate(root: Path, capsys) -> tuple[int, str]:
    code = main(["validate", "--root", str(root)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_corpus_covers_every_kind_the_issue_names():
    assert len(CASES) >= 30
    assert len(BY_NAME) == len(CASES), "case names are unique"
    assert {case.kind for case in CASES} == KINDS
    assert set(APP_CASES) <= set(BY_NAME)


def test_the_sample_itself_is_valid(capsys):
    assert run_validate(SAMPLE, capsys) == (0, "The course is valid: no problems.\n")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_sala_validate_names_the_place_and_rule(tmp_path, capsys, case):
    root = broken(tmp_path, case)
    code, output = run_validate(root, capsys)
    assert "Traceback" not in output
    assert code == 1, output
    lines = output.splitlines()
    assert any(line.startswith(case.place) and line.endswith(f"({case.rule})") and "[error]" in line
               for line in lines), f"expected {case.place} ... ({case.rule}) in:\n{output}"
    assert lines[-1].endswith("warning(s).") and not lines[-1].startswith("0 error(s)")
    assert all(line.count(": [") == 1 for line in lines[:-1]), "every problem is one line"


def test_a_50_mb_file_is_refused_without_being_read(tmp_path, monkeypatch):
    """The size is checked by stat: reading the file at all would be the bug (no timing involved)."""
    root = broken(tmp_path, BY_NAME["50 MB Markdown section"])
    big = root / "content/en/01-engagement/sections/why-engage.md"
    opened = []
    real_read_bytes, real_read_text, real_open = Path.read_bytes, Path.read_text, Path.open

    def spy(real):
        def read(self, *args, **kwargs):
            opened.append(self)
            return real(self, *args, **kwargs)
        return read

    monkeypatch.setattr(Path, "read_bytes", spy(real_read_bytes))
    monkeypatch.setattr(Path, "read_text", spy(real_read_text))
    monkeypatch.setattr(Path, "open", spy(real_open))
    problems = [str(p) for p in validate(root)]
    assert problems == ["content/en/01-engagement/sections/why-engage.md:1:1: [error] file is 50.0 MB; "
                        "the limit is 2 MB (encoding)"]
    assert big not in opened


@pytest.mark.parametrize(("make", "changes_version"), [
    (lambda images: (images / "maps").mkdir(), False),
    (lambda images: ((images / "maps").mkdir(), (images / "maps" / "grid.png").write_bytes(b"\x89PNG\r\n")), True),
], ids=["an empty folder in images", "a folder of images in images"])
def test_folders_inside_images_are_valid_and_the_course_loads(tmp_path, make, changes_version):
    root = tmp_path / "course-root"
    shutil.copytree(SAMPLE, root)
    images = root / "content/en/01-engagement/images"
    images.mkdir()
    before = content_version(read_tree(root))
    make(images)
    assert validate(root) == []
    assert (load(root)["en"].version != before) is changes_version


@pytest.mark.app
@pytest.mark.parametrize("lang", ["km", "en"])
@pytest.mark.parametrize("name", APP_CASES)
def test_the_app_shows_the_problem_list_instead_of_pages(tmp_path, monkeypatch, name, lang):
    case = BY_NAME[name]
    root = broken(tmp_path, case)
    monkeypatch.setenv("SALA_CONTENT_ROOT", str(root))
    monkeypatch.setenv("SALA_DATABASE_URL", f"sqlite:///{tmp_path / 'sala.db'}")
    at = AppTest.from_file(APP_MAIN, default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [t(lang, "app.content_invalid")]
    listing = at.code[0].value
    assert any(line.startswith(case.place) and line.endswith(f"({case.rule})") for line in listing.splitlines()), listing
    assert "Traceback" not in listing
    assert not at.text_input and not at.button  # nothing is served: no sign-in form
