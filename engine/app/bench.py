"""The figures of `sala bench` that need the app: the content cache a rerun pays for, the server time of
a rerun of two pages (AppTest), and the memory of a real app server holding browser sessions open.
Called by engine.bench.run; here because only engine/app may import Streamlit."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from engine import accounts
from engine.app.state import fingerprint
from engine.bench.run import DASHBOARD_CODE, Figure, timed
from engine.errors import SalaError
from engine.store.db import transaction
from engine.store.models import Cohort, Enrolment, ModuleResult, User

MAIN = Path(__file__).resolve().parent / "main.py"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def cached_course_ms(root: Path, runs: int) -> Figure:
    """What a rerun pays to know the cached course is still current: a stat of every content file (the
    cache key), beside the bare os.stat calls."""
    files = [p for folder in ("course", "modules", "content") for p in sorted((root / folder).rglob("*"))]

    def stats():
        for path in files:
            path.stat()

    sala_ms, _ = timed(lambda: fingerprint(root), max(runs, 20))
    lower_ms, _ = timed(stats, max(runs, 20))
    return Figure("course, cached access per rerun (cache key)", "≤ 5 ms", sala_ms, lower_ms,
                  note=f"stat of {len(files)} paths; lower bound: the same os.stat calls")


@contextmanager
def _environment(url: str, root: Path):
    saved = {k: os.environ.get(k) for k in ("SALA_DATABASE_URL", "SALA_CONTENT_ROOT")}
    os.environ.update(SALA_DATABASE_URL=url, SALA_CONTENT_ROOT=str(root))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _people(factory) -> tuple[str, str, str]:
    """A learner of the dashboard cohort with the most progress, its trainer, and the cohort's id."""
    with factory() as session:
        cohort = session.scalar(select(Cohort).where(Cohort.enrol_code == DASHBOARD_CODE))
        learner = session.scalar(
            select(ModuleResult.user_id).join(Enrolment, Enrolment.user_id == ModuleResult.user_id)
            .where(Enrolment.cohort_id == cohort.id).group_by(ModuleResult.user_id)
            .order_by(ModuleResult.user_id.desc()).limit(1))
        return learner, cohort.trainer_id, cohort.id


def _token(factory, user_id: str) -> str:
    with transaction(factory) as session:
        return accounts.open_session(session, user=session.get(User, user_id), days=1)


def page_figures(url: str, root: Path, factory, runs: int) -> list[Figure]:
    """Server time of one rerun of the learner's course map and of the trainer's Cohort page."""
    from streamlit.testing.v1 import AppTest

    learner, owner, cohort_id = _people(factory)
    figures = []
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("streamlit")]:
        logging.getLogger(name).setLevel(logging.ERROR)  # AppTest's bare-mode warnings, once per rerun
    with _environment(url, root):
        for name, user_id, page, state, target in (
                ("learner course map, server time per rerun (AppTest)", learner, None, {}, "≤ 100 ms"),
                ("trainer cohort page, server time per rerun (AppTest)", owner, "screens/cohort.py",
                 {"cohort_id": cohort_id}, "≤ 300 ms")):
            at = AppTest.from_file(str(MAIN), default_timeout=120)
            at.session_state["token"] = _token(factory, user_id)
            at.session_state["lang"] = "km"
            for key, value in state.items():
                at.session_state[key] = value
            at.run()
            if page:
                at.switch_page(page)
                at.run()
            if at.exception:
                raise SalaError(f"bench: {name}: the page raised {at.exception[0].value}")
            sala_ms, _ = timed(at.run, max(runs, 5))
            figures.append(Figure(name, target, sala_ms, note=f"{len(at.main.children)} elements on the page"))
    return figures


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib(pid: int) -> float:
    """Resident memory of the process and its children, in MiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def server_memory(url: str, root: Path, factory, sessions: int) -> Figure:
    """Start `sala serve`, open `sessions` browser tabs (each its own signed-in learner, each showing the
    course map), and read the server's resident memory with all of them open."""
    if not Path(CHROMIUM).exists():
        raise SalaError(f"bench: {CHROMIUM} is missing (apt-get install chromium), or pass --sessions 0")
    from playwright.sync_api import sync_playwright

    with factory() as session:
        learners = session.scalars(select(User.id).where(User.role == "learner").order_by(User.id)
                                   .limit(sessions)).all()
    tokens = [_token(factory, uid) for uid in learners]
    port = _free_port()
    env = {**os.environ, "SALA_DATABASE_URL": url, "SALA_CONTENT_ROOT": str(root)}
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SalaError("bench: the app server did not start") from None
                time.sleep(0.3)
        idle = _rss_mib(server.pid)
        opened = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                for token in tokens:
                    context = browser.new_context(viewport={"width": 360, "height": 740})
                    context.add_cookies([{"name": "sala_token", "value": token, "url": base}])
                    page = context.new_page()
                    page.goto(base, wait_until="domcontentloaded")
                    page.wait_for_selector('[data-testid="stHeading"]', timeout=60_000)
                    opened.append(page)
                time.sleep(2)
                samples = [_rss_mib(server.pid)]
                for page in opened[: min(10, len(opened))]:  # a rerun in some, as learners click on
                    page.reload(wait_until="domcontentloaded")
                    page.wait_for_selector('[data-testid="stHeading"]', timeout=60_000)
                samples.append(_rss_mib(server.pid))
            finally:
                browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return Figure(f"app server memory, sessions open ({len(opened)} sessions)", "≤ 1,024 MiB", max(samples), idle,
                  unit="MiB",
                  note="RSS of the server process; lower column: the same server before any session")
