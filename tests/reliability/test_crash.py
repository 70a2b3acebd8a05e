"""Issue #7, part 3: a writer killed with SIGKILL in the middle of a burst loses nothing it acknowledged.

One writer process (scripts/writers_load.py's, a thread per learner) submits answers through
engine.learning and prints a line for each send as soon as its transaction has committed. The test
reads the lines, kills the writer after N acknowledgements, and looks at the database: SQLite passes
`PRAGMA integrity_check` and has no dangling reference, every acknowledged answer is there once, and no
attempt lacks any of its responses. Then a new writer resends the whole plan with the same keys and is
killed at a later point, and so on, until one runs to the end: the engine keeps writing where the
killed ones stopped, and the database ends holding every answer once.
"""

import importlib.util
import json
import os
import selectors
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import Attempt, Response

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
LEARNERS = 8
KILL_AFTER = (5, 60, 150)
"""Acknowledgements a writer prints before it is killed; each later writer first replays what was kept."""
TIMEOUT = 300.0


def _script():
    spec = importlib.util.spec_from_file_location("writers_load", REPO / "scripts" / "writers_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wl = _script()


def run_writer(plan_path: Path, kill_after: int | None) -> tuple[list[dict], int]:
    """Run a writer, SIGKILL it once it has acknowledged `kill_after` sends (never, if None); every
    complete line it printed, and its exit status."""
    writer = subprocess.Popen(wl.writer_command(plan_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    buffer, lines = b"", []
    waiting = selectors.DefaultSelector()
    waiting.register(writer.stdout, selectors.EVENT_READ)
    try:
        deadline = time.monotonic() + TIMEOUT
        while kill_after is None or sum(line["ack"] for line in lines) < kill_after:
            assert waiting.select(max(0.0, deadline - time.monotonic())), f"the writer printed nothing for {TIMEOUT} s"
            chunk = os.read(writer.stdout.fileno(), 65536)
            if not chunk:
                break
            *complete, buffer = (buffer + chunk).split(b"\n")
            lines += [json.loads(text) for text in complete]
        if kill_after is not None:
            assert writer.poll() is None, "the writer finished before it could be killed mid-burst"
            os.kill(writer.pid, signal.SIGKILL)
        # Lines already in the pipe were printed, so acknowledged, before the kill; a cut line was not.
        buffer += writer.stdout.read()
        writer.wait(timeout=TIMEOUT)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        error = writer.stderr.read().decode(errors="replace")
        waiting.close()
        writer.stdout.close()
        writer.stderr.close()
    lines += [json.loads(text) for text in buffer.split(b"\n")[:-1]]
    assert kill_after is not None or writer.returncode == 0, error
    return lines, writer.returncode


def sqlite_file_is_sound(url: str) -> None:
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        db.close()


def test_a_killed_writer_loses_nothing_it_acknowledged(db_url, tmp_path, capsys):
    engine = make_engine(db_url)
    migrate(engine)
    engine.dispose()
    plan = wl.make_plan(db_url, wl.SAMPLE, "en", wl.create_learners(db_url, LEARNERS), seed=3)
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    sends = LEARNERS * 34
    assert max(KILL_AFTER) < sends

    seen: list[dict] = []
    for kill_after in (*KILL_AFTER, None):
        lines, status = run_writer(plan_path, kill_after)
        seen += lines
        if kill_after is not None:
            assert status == -signal.SIGKILL
            assert kill_after <= sum(line["ack"] for line in lines) < sends
        if db_url.startswith("sqlite"):
            sqlite_file_is_sound(db_url)
        figures = wl.check(plan, seen)
        with capsys.disabled():
            print(f"\nkilled after {kill_after} acks: " if kill_after else "\nran to the end: ",
                  {k: figures[k] for k in ("acknowledged", "stored_responses", "lost", "duplicated", "half_written",
                                           "unacknowledged_but_stored", "errors")})
        assert figures["error_kinds"] == {}
        assert [figures[k] for k in ("lost", "duplicated", "half_written", "altered", "disagreeing_replies")] == [
            0, 0, 0, 0, 0]

    # The last writer ran to the end: everything is there once, acknowledged.
    assert (figures["acknowledged"], figures["stored_responses"], figures["stored_attempts"]) == (
        LEARNERS * 20, LEARNERS * 20, LEARNERS * 16)
    assert figures["unacknowledged_but_stored"] == 0

    # The check is not blind: one response taken away and one answer changed are both seen.
    engine = make_engine(db_url)
    try:
        with transaction(session_factory(engine)) as session:
            pre, post = (session.scalar(select(Attempt.id).where(Attempt.kind == kind).limit(1))
                         for kind in ("pre", "post"))
            session.execute(delete(Response).where(Response.attempt_id == pre, Response.item_id == "t01"))
            session.execute(update(Response).where(Response.attempt_id == post, Response.item_id == "t02")
                            .values(answer='"nonsense"'))
    finally:
        engine.dispose()
    figures = wl.check(plan, seen)
    assert (figures["lost"], figures["half_written"], figures["altered"]) == (2, 1, 1)
