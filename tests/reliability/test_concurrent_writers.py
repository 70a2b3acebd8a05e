"""Issue #7, part 2: 200 learners answering at once, every submission sent twice, on SQLite and PostgreSQL.

The burst is scripts/writers_load.py's: learners made through the roster import, then writer processes
(one thread per learner, each process one engine, as an app process is) sending every step of the
sample module's path through engine.learning (pre-test, 14 knowledge-check answers, the exercise,
post-test: 20 answers in 16 submissions), each twice with the same idempotency key, a quarter of them
with both sends racing. What a writer acknowledged (the transaction committed) it printed at once.
"""

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from engine import learning, summaries
from engine.content import load
from engine.store.db import make_engine, migrate, session_factory

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
LEARNERS = 200
# SQLite: processes, so the GIL does not serialise the writers. PostgreSQL: fewer, since every process
# holds up to 15 connections (SQLAlchemy's default pool) and the test cluster, shared with other
# tests, allows 100.
PROCESSES = {"sqlite": 10, "postgresql": 3}


def _script():
    spec = importlib.util.spec_from_file_location("writers_load", REPO / "scripts" / "writers_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wl = _script()


def test_every_acknowledged_answer_is_stored_once(db_url, tmp_path, capsys):
    engine = make_engine(db_url)
    migrate(engine)
    plan = wl.make_plan(db_url, wl.SAMPLE, "en", wl.create_learners(db_url, LEARNERS), seed=7)
    steps = [step for learner in plan["learners"] for step in learner["steps"]]
    assert (len(steps), wl.answers_in(plan)) == (LEARNERS * 17, LEARNERS * 20)  # 16 submissions + the exercise
    assert 0 < sum(step["race"] for step in steps) < len(steps)

    lines, elapsed = wl.run_writers(plan, PROCESSES[engine.dialect.name], tmp_path)
    figures = wl.check(plan, lines)
    shown = {"database": engine.dialect.name, "processes": PROCESSES[engine.dialect.name],
             "elapsed_s": round(elapsed, 1), **figures}
    with capsys.disabled():
        print("\n" + wl.table(shown))

    assert figures["error_kinds"] == {}
    assert {k: figures[k] for k in ("sends", "acknowledged_sends", "acknowledged", "stored_attempts",
                                    "stored_responses", "lost", "duplicated", "half_written", "altered",
                                    "disagreeing_replies", "unacknowledged_but_stored")} == {
        "sends": LEARNERS * 34, "acknowledged_sends": LEARNERS * 34, "acknowledged": LEARNERS * 20,
        "stored_attempts": LEARNERS * 16, "stored_responses": LEARNERS * 20, "lost": 0, "duplicated": 0,
        "half_written": 0, "altered": 0, "disagreeing_replies": 0, "unacknowledged_but_stored": 0}
    # Of the two sends of a test, exactly one kept it and the other was answered with it.
    kept = Counter(line["key"] for line in lines if "duplicate" in line and not line["duplicate"])
    replayed = Counter(line["key"] for line in lines if line.get("duplicate"))
    tests = {step["key"] for step in steps if step["kind"] in ("pre", "post")}
    assert set(kept) == set(replayed) == tests
    assert set(kept.values()) == set(replayed.values()) == {1}

    course = load(wl.SAMPLE)["en"]
    module = course.modules[0]
    with session_factory(engine)() as session:
        for learner in plan["learners"]:
            record = learning.load_record(session, user_id=learner["user_id"], module_id=module.id)
            assert record.pre is not None and len(record.posts) == 1
            assert record.completed == {s.id for s in module.sections}
            assert record.checks_right == {c.id for s in module.sections for c in s.checks}
            assert record.exercise == {"dialogue-plan": wl.EXERCISE_TEXT}
        assert summaries.stale(session, [(learner["user_id"], module.id) for learner in plan["learners"]]) == []
    engine.dispose()
