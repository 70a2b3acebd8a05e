"""The classroom load check: a room of participants submitting a test within the same half-minute
against one laptop running SQLite.

DESIGN's target: 60 participants submitting a 10-item test within the same 30 seconds, no answer lost
or duplicated, and the submit path's p95 latency under 300 ms. This script builds a fresh SQLite
database (migrated), a cohort, the learners and the course (the sample course, whose pre-test has 3
items, or --content-root for the real one, 12 items), then lets every participant submit the pre-test
at a random moment within the window through engine.learning.submit_test, each in its own
transaction, and send it once more with the same idempotency key shortly after, as a phone on bad
Wi-Fi does. It prints what was sent, what was stored and the latency of every submit, beside the
floor: the same INSERTs (one attempt row and its response rows per transaction) done with the raw
sqlite3 module.

Exit status: 0 when nothing was lost or duplicated, 1 otherwise. The latency target is reported, not
enforced: a benchmark prints figures (DESIGN: "Benchmarks are scripts that print figures").

    .venv/bin/python scripts/classroom_load.py [--participants 60] [--window 30] [--processes 4]
        [--content-root .] [--json figures.json]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from engine.accounts import hash_password  # noqa: E402
from engine.content import load  # noqa: E402
from engine.learning import load_record, submit_test  # noqa: E402
from engine.quiz import encode_answer, normalize  # noqa: E402
from engine.store.db import make_engine, migrate, session_factory, transaction  # noqa: E402
from engine.store.models import Attempt, Cohort, Enrolment, Response, User  # noqa: E402

SAMPLE = REPO / "tests" / "fixtures" / "sample"
TARGET_P95_MS = 300.0
RESEND_AFTER = (0.0, 0.5)
"""Seconds between a participant's submit and its resend: sometimes while the first is still in flight."""


@dataclass(frozen=True)
class Participant:
    user_id: str
    key: str
    answers: dict
    at: float
    """Seconds after the start when the first submit leaves the phone."""
    resend_at: float


@dataclass(frozen=True)
class Sent:
    user_id: str
    resend: bool
    ms: float
    duplicate: bool | None
    error: str | None


def answer_for(item, rng: random.Random) -> object:
    options = [o.id for o in item.options]
    if item.type == "multiple":
        return rng.sample(options, rng.randint(1, len(options)))
    if item.type == "short_text":
        return "ស្តាប់ពលរដ្ឋ និងអង្គការសង្គមស៊ីវិល"
    return rng.choice(options) if options else rng.choice(["true", "false"])


def setup(url: str, course, module, count: int, window: float, seed: int) -> list[Participant]:
    """A cohort of `count` learners, and when and what each will submit."""
    migrate(make_engine(url))
    rng = random.Random(seed)
    password = hash_password("classroom-load")  # one hash for all: argon2 is slow on purpose
    people = []
    with transaction(session_factory(make_engine(url))) as s:
        cohort = Cohort(name="Load check", kind="provincial", province_code="17")
        s.add(cohort)
        s.flush()
        for n in range(1, count + 1):
            user = User(username=f"learner{n:03d}", password_hash=password, full_name_km=f"អ្នកសិក្សា {n}")
            s.add(user)
            s.flush()
            s.add(Enrolment(cohort_id=cohort.id, user_id=user.id))
            at = rng.uniform(0, window)
            people.append(Participant(user.id, f"pre-{uuid.uuid4()}", {i.id: answer_for(i, rng) for i in
                                                                       module.pre_test}, at,
                                      at + rng.uniform(*RESEND_AFTER)))
    return people


def submit_once(factory, course, module, person: Participant, resend: bool) -> Sent:
    started = time.perf_counter()
    try:
        with transaction(factory) as s:
            done = submit_test(s, course=course, module=module, user_id=person.user_id, kind="pre",
                               answers=person.answers, key=person.key, source="classroom")
        return Sent(person.user_id, resend, (time.perf_counter() - started) * 1000, done.duplicate, None)
    except Exception as exc:  # a lost submission is a finding to count, not a crash
        return Sent(person.user_id, resend, (time.perf_counter() - started) * 1000, None, repr(exc))


def run_room(url: str, root: str, language: str, people: list[Participant], ready=None) -> list[Sent]:
    """Every participant's submit and resend, each on its own thread, at its moment after the start."""
    course = load(root)[language]
    module = course.modules[0]
    factory = session_factory(make_engine(url))
    with factory() as s:  # a warm server: connected, mappers configured, statements compiled
        load_record(s, user_id=people[0].user_id, module_id=module.id)
    results: list[Sent] = []
    lock = threading.Lock()
    if ready is not None:
        ready.wait()  # every process starts the clock together
    start = time.monotonic()

    def send(person: Participant, resend: bool) -> None:
        time.sleep(max(0.0, start + (person.resend_at if resend else person.at) - time.monotonic()))
        sent = submit_once(factory, course, module, person, resend)
        with lock:
            results.append(sent)

    threads = [threading.Thread(target=send, args=(p, resend)) for p in people for resend in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _process_room(url, root, language, people, ready, queue) -> None:
    queue.put([asdict(s) for s in run_room(url, root, language, people, ready)])


def run_processes(url: str, root: str, language: str, people: list[Participant],
                  processes: int) -> tuple[list[Sent], float]:
    """The participants dealt over several processes, as behind a load balancer; each runs threads."""
    context = multiprocessing.get_context("spawn")
    ready, queue = context.Barrier(processes + 1), context.Queue()
    shares = [people[i::processes] for i in range(processes)]
    workers = [context.Process(target=_process_room, args=(url, root, language, share, ready, queue))
               for share in shares]
    for worker in workers:
        worker.start()
    ready.wait()
    began = time.monotonic()
    results = [Sent(**s) for _ in workers for s in queue.get()]
    elapsed = time.monotonic() - began
    for worker in workers:
        worker.join()
    return results, elapsed


def stored(url: str, module, people: list[Participant]) -> dict[str, int]:
    """What the database holds, checked answer by answer against what each participant sent."""
    expected = {p.user_id: {i.id: encode_answer(normalize(i, p.answers.get(i.id))) for i in module.pre_test}
                for p in people}
    with session_factory(make_engine(url))() as s:
        attempts = s.scalars(select(Attempt).where(Attempt.kind == "pre").order_by(Attempt.submitted_at)).all()
        responses = {}
        for r in s.scalars(select(Response)):
            responses.setdefault(r.attempt_id, {})[r.item_id] = r.answer
    seen, matched, duplicated = set(), 0, 0
    for attempt in attempts:
        answers = responses.get(attempt.id, {})
        if attempt.user_id in seen:
            duplicated += len(answers)  # a second attempt for one submission: every answer twice
            continue
        seen.add(attempt.user_id)
        matched += sum(answers.get(item) == text for item, text in expected[attempt.user_id].items())
    total = len(people) * len(module.pre_test)
    return {"attempts": len(attempts), "responses": sum(len(r) for r in responses.values()),
            "expected_responses": total, "lost": total - matched, "duplicated": duplicated}


def raw_floor(folder: Path, count: int, items: int) -> list[float]:
    """Milliseconds per transaction for the same INSERTs by raw sqlite3: one attempt row and its
    response rows, `count` times, on a migrated database with the app's pragmas."""
    url = f"sqlite:///{folder / 'raw.db'}"
    migrate(make_engine(url))
    db = sqlite3.connect(folder / "raw.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")
    user = str(uuid.uuid4())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    db.execute("INSERT INTO users (id, username, password_hash, full_name_km, full_name_latin, role, sex, org_type, "
               "institution, position, language, active, created_at, password_changed_at) VALUES "
               "(?, 'raw', 'x', 'x', '', 'learner', 'undisclosed', 'other', '', '', 'km', 1, ?, ?)", (user, now, now))
    timings = []
    for _ in range(count):
        attempt = str(uuid.uuid4())
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO attempts (id, user_id, module_id, kind, source, language, content_version, "
                   "idempotency_key, started_at, submitted_at, score, max_score) VALUES "
                   "(?, ?, 'm', 'pre', 'classroom', 'km', 'v', ?, ?, ?, 0, ?)",
                   (attempt, user, str(uuid.uuid4()), now, now, float(items)))
        db.executemany("INSERT INTO responses (id, attempt_id, item_id, answer, correct, points) VALUES "
                       "(?, ?, ?, '\"a\"', 1, 1.0)", [(str(uuid.uuid4()), attempt, f"t{n:02d}") for n in range(items)])
        db.execute("COMMIT")
        timings.append((time.perf_counter() - started) * 1000)
    db.close()
    return timings


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else 0.0


def measure(args) -> dict:
    root = Path(args.content_root).resolve()
    course = load(root)[args.language]
    module = course.modules[0]
    with tempfile.TemporaryDirectory(prefix="sala-load-") as folder:
        url = f"sqlite:///{Path(folder) / 'sala.db'}"
        people = setup(url, course, module, args.participants, args.window, args.seed)
        if args.processes > 1:
            sent, elapsed = run_processes(url, str(root), args.language, people, args.processes)
        else:
            began = time.monotonic()
            sent = run_room(url, str(root), args.language, people)
            elapsed = time.monotonic() - began
        found = stored(url, module, people)
        floor = raw_floor(Path(folder), found["attempts"] or args.participants, len(module.pre_test))
    latencies = [s.ms for s in sent]
    failed = [s.error for s in sent if s.error]
    p95, floor95 = percentile(latencies, 95), percentile(floor, 95)
    return {
        "participants": args.participants, "items": len(module.pre_test), "module": module.id,
        "window_s": args.window, "mode": f"{args.processes} processes" if args.processes > 1 else "threads",
        "elapsed_s": round(elapsed, 1), "sent": len(sent),
        "resends_answered_as_duplicate": sum(bool(s.duplicate) for s in sent if s.resend),
        "errors": len(failed), "error_kinds": sorted(set(failed))[:5], **found,
        "latency_ms": {"p50": percentile(latencies, 50), "p95": p95, "max": max(latencies, default=0.0)},
        "raw_sqlite3_p95_ms": floor95, "ratio": p95 / floor95 if floor95 else None,
        "target_p95_ms": TARGET_P95_MS, "target_met": p95 < TARGET_P95_MS,
    }


def table(r: dict) -> str:
    ms = r["latency_ms"]
    rows = [
        ("participants", r["participants"], ""),
        ("submissions sent", r["sent"], "each participant once, then again with the same key"),
        ("attempts stored", r["attempts"], ""),
        ("responses stored", r["responses"], ""),
        ("expected responses", r["expected_responses"], f"{r['participants']} × {r['items']} items"),
        ("lost", r["lost"], ""),
        ("duplicated", r["duplicated"], ""),
        ("errors", r["errors"], "; ".join(r["error_kinds"])),
        ("p50 latency", f"{ms['p50']:.1f} ms", "submit_test in its own transaction, commit included"),
        ("p95 latency", f"{ms['p95']:.1f} ms", f"target < {r['target_p95_ms']:.0f} ms: "
                                               f"{'met' if r['target_met'] else 'NOT met'}"),
        ("max latency", f"{ms['max']:.1f} ms", ""),
        ("raw sqlite3 p95", f"{r['raw_sqlite3_p95_ms']:.2f} ms", f"1 attempt + {r['items']} responses per transaction"),
        ("ratio", f"{r['ratio']:.1f}×" if r["ratio"] else "n/a", "submit p95 / raw sqlite3 p95"),
    ]
    head = (f"classroom load: module {r['module']} pre-test ({r['items']} items), {r['window_s']:g} s window, "
            f"{r['mode']}, SQLite (WAL), {r['elapsed_s']} s")
    return "\n".join([head] + [f"{label:<20}{str(value):>12}  {note}".rstrip() for label, value, note in rows])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--participants", type=int, default=60)
    p.add_argument("--window", type=float, default=30.0, help="seconds over which first submits spread (30)")
    p.add_argument("--processes", type=int, default=0, help="deal participants over N processes (default: threads)")
    p.add_argument("--content-root", default=str(SAMPLE), help="the course (default: the 3-item sample)")
    p.add_argument("--language", default="en")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    result = measure(args)
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if result["lost"] or result["duplicated"] else 0


if __name__ == "__main__":
    sys.exit(main())
