"""A real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real server."""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.demo import build_demo
from engine.settings import load_settings
from tests.server import running_server

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample"


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists() or not shutil.which("chromium"):
        message = f"{CHROMIUM} is missing: apt-get install chromium fonts-khmeros (make test does it as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@contextmanager
def serving_demo(content_root: Path, folder: Path):
    """`sala serve` on `content_root` with the demo population in a fresh SQLite file: (url, env)."""
    env = {"SALA_DATABASE_URL": f"sqlite:///{folder / 'sala.db'}", "SALA_CONTENT_ROOT": str(content_root)}
    build_demo(load_settings(env))
    with running_server(env) as url:
        yield url, env


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The sample course (one module) with the demo population."""
    with serving_demo(SAMPLE, tmp_path_factory.mktemp("browser")) as (url, _):
        yield url


def settle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script for the last action (the short pause first
    lets the run that the action starts begin)."""
    page.wait_for_timeout(250)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(200)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
