"""`sala validate` prints every problem, sorted, then one summary line; exit codes follow the levels."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.content
REPO = Path(__file__).resolve().parents[2]


def validate(*args):
    return subprocess.run([sys.executable, "-m", "engine.cli", "validate", *args], cwd=REPO,
                          capture_output=True, text=True)


def test_valid_course_exits_zero(sample):
    done = validate("--root", str(sample), "--strict")
    assert (done.returncode, done.stdout) == (0, "The course is valid: no problems.\n")


def test_errors_are_listed_sorted_with_a_summary_and_exit_one(sample):
    (sample / "content/en/01-engagement/notes/dialogue.md").unlink()
    module = sample / "modules/01-engagement.yaml"
    module.write_text(module.read_text(encoding="utf-8").replace("minutes: 20", "minutes: x"), encoding="utf-8")
    done = validate("--root", str(sample))
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert lines == [
        "modules/01-engagement.yaml:5:14: [error] section: field 'minutes': expected a whole number, "
        "got text 'x' (schema)",
        "modules/01-engagement.yaml:11:7: [error] exercise 'dialogue' has no facilitator notes in en: "
        "expected content/en/01-engagement/notes/dialogue.md (missing-file)",
        "2 error(s), 0 warning(s).",
    ]


def test_warnings_fail_only_in_strict_mode(sample):
    glossary = sample / "course/glossary/01-engagement.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("en: stakeholder map", "en: power map"),
                        encoding="utf-8")
    assert validate("--root", str(sample)).returncode == 0
    strict = validate("--root", str(sample), "--strict")
    assert strict.returncode == 1 and strict.stdout.endswith("0 error(s), 1 warning(s).\n")
