"""The README's two commands stay true: their targets exist, resolve, and do what the README says."""

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.server import running_server

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_leads_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]


@pytest.mark.parametrize("target", ["run", "test"])
def test_make_targets_resolve(target):
    dry = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert ".venv" in dry.stdout


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "CI=true" in ci and re.search(r"^make test$", ci, re.M)


def test_make_test_lints_validates_and_runs_pytest():
    dry = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True).stdout
    assert "ruff check" in dry and "sala validate --strict" in dry and "pytest" in dry


def test_what_make_run_runs_works(tmp_path):
    """`make run` is `sala migrate`, `sala demo`, `sala serve`: run those for real on a fresh database."""
    dry = subprocess.run(["make", "-n", "run"], cwd=REPO, capture_output=True, text=True).stdout
    assert [line.split()[1] for line in dry.splitlines() if "/sala " in line] == ["migrate", "demo", "serve"]
    env = {**os.environ, "SALA_DATABASE_URL": f"sqlite:///{tmp_path / 'sala.db'}"}
    for step in (["migrate"], ["demo"], ["demo"]):
        done = subprocess.run([sys.executable, "-m", "engine.cli", *step], cwd=REPO, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert "already there" in done.stdout  # the demo is idempotent
    with running_server({"SALA_DATABASE_URL": env["SALA_DATABASE_URL"]}) as url:
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200
        with urllib.request.urlopen(f"{url}/app/static/NotoSansKhmer-Regular.ttf", timeout=10) as font:
            assert font.status == 200 and len(font.read()) > 50_000


def test_bad_database_url_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engine.cli", "migrate"], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, "SALA_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("sala: SALA_DATABASE_URL: cannot connect to")
