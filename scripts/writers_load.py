"""Concurrent writers: many learners answering at once through engine.learning, every submission sent twice.

Issue #7's check of the submit path under contention. The script makes a cohort of learners through the
roster import, then a plan for each learner through the sample course's module (a pre-test of 3 items,
14 knowledge-check answers with wrong tries and retries over its two sections, the exercise, a post-test
of 3 items: 20 answers in 16 submissions), and runs it from several writer processes, each running one
thread per learner. Every submission goes through the engine's submit functions as the study page calls
them (submit_test_now, which opens its own transactions; submit_check and save_exercise in one each),
and is sent twice with the same idempotency key: one send after the other, or, for about a quarter of
them, both at once from two threads racing on two connections.

A writer prints one JSON line per send to its stdout, flushed as soon as the send returns: an
acknowledgement ("ack": true; the transaction committed) or the error. The check then compares the
database with the plan and the acknowledgements: every acknowledged answer stored exactly once and as
sent, no attempt half-written (every attempt has all its responses) or altered, no attempt under a key
that was never planned, both sends of a test answered with the same attempt.

    .venv/bin/python scripts/writers_load.py [--url URL] [--learners 200] [--processes 10] [--json FILE]
    .venv/bin/python scripts/writers_load.py writer PLAN.json [--share I/N] [--ready FILE --go FILE]

Without --url the burst runs on a fresh SQLite file (WAL). With a PostgreSQL URL, use a few processes:
each process is one engine with SQLAlchemy's default pool (at most 15 connections), as an app process is.
Exit status 0 when nothing was lost, duplicated or half-written and every send was acknowledged.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from engine import roster  # noqa: E402
from engine.content import load  # noqa: E402
from engine.content.model import Item, Module  # noqa: E402
from engine.learning import save_exercise, submit_check, submit_test_now  # noqa: E402
from engine.quiz import encode_answer, grade  # noqa: E402
from engine.store.db import make_engine, migrate, session_factory, transaction  # noqa: E402
from engine.store.models import Attempt, Cohort, Response  # noqa: E402

SAMPLE = REPO / "tests" / "fixtures" / "sample"
ANSWER_KINDS = ("pre", "check", "post")
"""Plan steps that carry answers; the exercise step is saved text, not an attempt."""
RACE_SHARE = 0.25
WRONG_TRIES = 5
"""Knowledge-check answers per section before the right ones: any check, any option, right or wrong."""
EXERCISE_TEXT = "ជួបប្រជុំជាមួយអង្គការសង្គមស៊ីវិល និងស្តាប់សំណូមពររបស់ពលរដ្ឋ"


# --- the plan: who sends what -------------------------------------------------------------------------------


def any_answer(item: Item, rng: random.Random) -> object:
    options = [o.id for o in item.options] or ["true", "false"]
    if item.type == "multiple":
        return rng.sample(options, rng.randint(1, len(options)))
    return rng.choice(options)


def right_answer(item: Item) -> object:
    return sorted(item.key) if item.type == "multiple" else next(iter(item.key))


def _stored(item: Item, raw: object) -> str:
    """The responses.answer text the engine keeps for this answer."""
    return encode_answer(grade(item, raw).answer)


def _step(kind: str, rng: random.Random, **fields) -> dict:
    return {"key": f"{kind}-{uuid.UUID(int=rng.getrandbits(128))}", "kind": kind, "race": rng.random() < RACE_SHARE,
            **fields}


def learner_steps(module: Module, rng: random.Random) -> list[dict]:
    """One learner's way through the module, in order; `expected` is what each submission stores."""
    def test(kind: str, items) -> dict:
        answers = {i.id: any_answer(i, rng) for i in items}
        return _step(kind, rng, answers=answers, expected={i.id: _stored(i, answers[i.id]) for i in items})

    def check(section, item: Item, answer: object) -> dict:
        return _step("check", rng, section=section.id, item=item.id, answer=answer,
                     expected={item.id: _stored(item, answer)})

    steps = [test("pre", module.pre_test)]
    for section in module.sections:
        for _ in range(WRONG_TRIES):
            item = rng.choice(section.checks)
            steps.append(check(section, item, any_answer(item, rng)))
        steps.extend(check(section, item, right_answer(item)) for item in section.checks)
    steps += [_step("exercise", rng, item=i.id, text=EXERCISE_TEXT, expected={}) for i in module.exercise.items]
    return steps + [test("post", module.post_test)]


def make_plan(url: str, content_root: Path, language: str, user_ids: list[str], seed: int) -> dict:
    module = load(content_root)[language].modules[0]
    rng = random.Random(seed)
    return {"url": url, "content_root": str(content_root), "language": language, "module": module.id,
            "learners": [{"user_id": uid, "steps": learner_steps(module, rng)} for uid in user_ids]}


def answers_in(plan: dict) -> int:
    return sum(len(s["expected"]) for learner in plan["learners"] for s in learner["steps"])


# --- the learners, through the roster import -------------------------------------------------------------


@contextmanager
def one_hash():
    """Argon2 takes ~0.1 s a hash on purpose; the writers never sign in, so every learner gets the same one."""
    real = roster.hash_password
    shared = real("writers-load")
    roster.hash_password = lambda password: shared
    try:
        yield
    finally:
        roster.hash_password = real


def create_learners(url: str, count: int) -> list[str]:
    """A cohort of `count` learners imported from a roster file, as a trainer does; their user ids."""
    tag = uuid.uuid4().hex[:6]  # lets the script run twice on one database
    lines = ["full_name_km,full_name_latin,sex,province,username"] + [
        f"អ្នកសិក្សា {n},Learner {n},{'female' if n % 2 else 'male'},17,writer{n:03d}-{tag}" for n in range(1, count + 1)]
    parsed = roster.parse_roster("\n".join(lines).encode(), "writers.csv")
    with one_hash(), transaction(session_factory(make_engine(url))) as session:
        cohort = Cohort(name=f"Writers {tag}", kind="provincial", province_code="17")
        session.add(cohort)
        session.flush()
        result = roster.import_roster(session, cohort_id=cohort.id, parsed=parsed)
    return [learner.user_id for learner in result.learners]


# --- a writer process ----------------------------------------------------------------------------------------


def _submit(factory, course, module: Module, user_id: str, step: dict) -> dict:
    if step["kind"] in ("pre", "post"):  # read and graded first, written under the lock, as the page does
        done = submit_test_now(factory, course=course, module=module, user_id=user_id, kind=step["kind"],
                               answers=step["answers"], key=step["key"])
        return {"attempt": done.attempt_id, "duplicate": done.duplicate}
    with transaction(factory) as session:
        if step["kind"] == "check":
            result = submit_check(session, course=course, module=module, user_id=user_id, section_id=step["section"],
                                  item_id=step["item"], answer=step["answer"], key=step["key"])
            return {"correct": result.correct}
        save_exercise(session, module=module, user_id=user_id, item_id=step["item"], text=step["text"])
        return {}


def send(factory, course, module: Module, user_id: str, step: dict, n: int) -> dict:
    """One send of one step: an acknowledgement once it committed, or the error."""
    line = {"learner": user_id, "key": step["key"], "kind": step["kind"], "send": n}
    started = time.perf_counter()
    try:
        outcome = _submit(factory, course, module, user_id, step)
    except Exception as exc:  # a refused send is a finding to report, not a reason to stop the burst
        return {**line, "ack": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {**line, "ack": True, **outcome, "ms": round((time.perf_counter() - started) * 1000, 2)}


def run_learner(factory, course, module: Module, learner: dict, report) -> None:
    """Every step twice with the same key: in turn, or both at once when the plan says the sends race."""
    for step in learner["steps"]:
        if not step["race"]:
            for n in (1, 2):
                report(send(factory, course, module, learner["user_id"], step, n))
            continue
        together = threading.Barrier(2)

        def racer(n: int, step=step, together=together) -> None:
            together.wait()
            report(send(factory, course, module, learner["user_id"], step, n))

        pair = [threading.Thread(target=racer, args=(n,)) for n in (1, 2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()


def writer(plan: dict, share: tuple[int, int], ready: Path | None = None, go: Path | None = None) -> None:
    """Run this process's share of the learners, one thread each, printing a line per send."""
    course = load(plan["content_root"])[plan["language"]]
    module = next(m for m in course.modules if m.id == plan["module"])
    factory = session_factory(make_engine(plan["url"]))
    with factory() as session:  # connect and configure the mappers before the clock starts
        session.execute(select(Attempt.id).limit(1))
    lock = threading.Lock()

    def report(line: dict) -> None:
        with lock:
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()

    if ready is not None:
        ready.touch()
        while go is not None and not go.exists():
            time.sleep(0.005)
    index, count = share
    threads = [threading.Thread(target=run_learner, args=(factory, course, module, learner, report))
               for learner in plan["learners"][index::count]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def writer_command(plan_path: Path, share: tuple[int, int] = (0, 1), ready: Path | None = None,
                   go: Path | None = None) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "writer", str(plan_path),
               "--share", f"{share[0]}/{share[1]}"]
    if ready is not None and go is not None:
        command += ["--ready", str(ready), "--go", str(go)]
    return command


def run_writers(plan: dict, processes: int, folder: Path, timeout: float = 900.0) -> tuple[list[dict], float]:
    """The plan dealt over `processes` writer processes started together; every line they printed."""
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    go = folder / "go"
    outputs = [(folder / f"writer-{i}.jsonl").open("w") for i in range(processes)]
    workers = [subprocess.Popen(writer_command(plan_path, (i, processes), folder / f"ready-{i}", go), stdout=out,
                                stderr=subprocess.PIPE, text=True) for i, out in enumerate(outputs)]
    try:
        deadline = time.monotonic() + timeout
        while not all((folder / f"ready-{i}").exists() for i in range(processes)):
            if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
                raise RuntimeError("a writer stopped before the start: " + "".join(
                    w.stderr.read() for w in workers if w.poll() is not None))
            time.sleep(0.02)
        began = time.monotonic()
        go.touch()
        for worker in workers:
            _, err = worker.communicate(timeout=max(1.0, deadline - time.monotonic()))
            if worker.returncode != 0:
                raise RuntimeError(f"a writer exited with {worker.returncode}: {err[-2000:]}")
        elapsed = time.monotonic() - began
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        for out in outputs:
            out.close()
    lines = [json.loads(line) for i in range(processes) for line in (folder / f"writer-{i}.jsonl").open()]
    return lines, elapsed


# --- the check --------------------------------------------------------------------------------------------------


def stored_attempts(url: str, user_ids: list[str]) -> dict[str, dict]:
    """Every attempt of these learners by idempotency key: its user, kind, id and {item: answer}."""
    found: dict[str, dict] = {}
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            for start in range(0, len(user_ids), 500):
                chosen = user_ids[start:start + 500]
                for attempt in session.scalars(select(Attempt).where(Attempt.user_id.in_(chosen))):
                    found[attempt.idempotency_key] = {"id": attempt.id, "user_id": attempt.user_id,
                                                      "kind": attempt.kind, "answers": {}}
                by_id = {a["id"]: a for a in found.values()}
                rows = session.execute(select(Response.attempt_id, Response.item_id, Response.answer).join(
                    Attempt, Attempt.id == Response.attempt_id).where(Attempt.user_id.in_(chosen)))
                for attempt_id, item_id, answer in rows:
                    by_id[attempt_id]["answers"][item_id] = answer
    finally:
        engine.dispose()
    return found


def check(plan: dict, lines: list[dict]) -> dict:
    """The database against the plan and what the writers acknowledged; every figure issue #7 asks for."""
    planned = {s["key"]: (learner["user_id"], s) for learner in plan["learners"] for s in learner["steps"]
               if s["kind"] in ANSWER_KINDS}
    acks = [line for line in lines if line["ack"] and line["kind"] in ANSWER_KINDS]
    acked = {line["key"] for line in acks}
    stored = stored_attempts(plan["url"], [learner["user_id"] for learner in plan["learners"]])
    lost = duplicated = half_written = altered = 0
    for key, attempt in stored.items():
        if key not in planned:
            duplicated += len(attempt["answers"])  # nothing but the plan's keys may be stored
            continue
        user_id, step = planned[key]
        if set(attempt["answers"]) != set(step["expected"]):
            half_written += 1
        elif attempt["user_id"] != user_id or attempt["kind"] != step["kind"] or attempt["answers"] != step["expected"]:
            altered += 1
    for key in acked:
        expected = planned[key][1]["expected"]
        kept = stored.get(key, {}).get("answers", {})
        lost += sum(kept.get(item) != answer for item, answer in expected.items())
    tests = {}
    for line in acks:
        if "attempt" in line:
            tests.setdefault(line["key"], []).append(line)
    disagreeing = sum(len({t["attempt"] for t in sent} | {stored.get(key, {}).get("id")}) != 1
                      or sum(not t["duplicate"] for t in sent) > 1 for key, sent in tests.items())
    errors = [f"{line['kind']}: {line['error'].splitlines()[0][:160]}" for line in lines if not line["ack"]]
    latencies = [line["ms"] for line in lines if line["ack"]]
    return {
        "writers": len(plan["learners"]), "submissions": len(planned), "answers": answers_in(plan),
        "sends": len(lines), "acknowledged_sends": len(latencies),
        "acknowledged": sum(len(planned[key][1]["expected"]) for key in acked),
        "stored_attempts": sum(key in planned for key in stored),
        "stored_responses": sum(len(a["answers"]) for a in stored.values()),
        "lost": lost, "duplicated": duplicated, "half_written": half_written, "altered": altered,
        "disagreeing_replies": disagreeing,
        "unacknowledged_but_stored": sum(key in planned and key not in acked for key in stored),
        "errors": len(errors), "error_kinds": dict(Counter(errors).most_common(5)),
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                       "max": max(latencies, default=0.0)},
    }


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else 0.0


def clean(figures: dict) -> bool:
    return not any(figures[k] for k in ("lost", "duplicated", "half_written", "altered", "disagreeing_replies"))


# --- the command line ---------------------------------------------------------------------------------------------


def measure(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="sala-writers-") as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'sala.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        plan = make_plan(url, Path(args.content_root).resolve(), args.language, create_learners(url, args.learners),
                         args.seed)
        lines, elapsed = run_writers(plan, args.processes, Path(folder))
        figures = check(plan, lines)
    backend = url.split(":", 1)[0].split("+")[0]
    return {"database": "SQLite (WAL)" if backend == "sqlite" else "PostgreSQL", "processes": args.processes,
            "elapsed_s": round(elapsed, 1), **figures}


def table(r: dict) -> str:
    ms = r["latency_ms"]
    rows = [
        ("writers", r["writers"], f"learners, one thread each, over {r['processes']} processes"),
        ("submissions", r["submissions"], "pre-test, knowledge checks, post-test"),
        ("answers", r["answers"], ""),
        ("sends", r["sends"], "every submission (and exercise save) twice with its key"),
        ("acknowledged", r["acknowledged"], f"answers; {r['acknowledged_sends']} sends acknowledged"),
        ("stored", r["stored_responses"], f"responses in {r['stored_attempts']} attempts"),
        ("lost", r["lost"], ""),
        ("duplicated", r["duplicated"], ""),
        ("half-written", r["half_written"], "attempts without all their responses"),
        ("altered", r["altered"], "attempts stored otherwise than sent"),
        ("errors", r["errors"], "; ".join(f"{n}× {kind}" for kind, n in r["error_kinds"].items())),
        ("p50 latency", f"{ms['p50']:.1f} ms", "one send in its own transaction, commit included"),
        ("p95 latency", f"{ms['p95']:.1f} ms", ""),
        ("max latency", f"{ms['max']:.1f} ms", ""),
    ]
    head = f"concurrent writers: {r['database']}, {r['elapsed_s']} s"
    return "\n".join([head] + [f"{label:<14}{str(value):>10}  {note}".rstrip() for label, value, note in rows])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["writer"]:
        p = argparse.ArgumentParser(prog="writers_load.py writer")
        p.add_argument("plan", type=Path)
        p.add_argument("--share", default="0/1", help="I/N: every Nth learner from the Ith")
        p.add_argument("--ready", type=Path, help="touched once connected")
        p.add_argument("--go", type=Path, help="start when this file exists")
        args = p.parse_args(argv[1:])
        index, count = (int(n) for n in args.share.split("/"))
        writer(json.loads(args.plan.read_text(encoding="utf-8")), (index, count), args.ready, args.go)
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    p.add_argument("--learners", type=int, default=200)
    p.add_argument("--processes", type=int, default=10)
    p.add_argument("--content-root", default=str(SAMPLE), help="the course (default: the sample course)")
    p.add_argument("--language", default="en")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    result = measure(args)
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if clean(result) and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
