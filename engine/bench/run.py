"""`sala bench`: a synthetic country in the database, Sala's figures timed on it beside their lower
bounds, printed as a table and written as JSON. A script, never a timed test: see README, Performance.

Every timed figure is the median of `--runs` runs after one warm-up run; its lower bound (engine.bench.
lower: hand-written SQL through the raw driver) is timed the same way, and the two results are checked
equal before the ratio is printed: a bench that is fast because it is wrong stops with an error.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from engine import national, summaries, trainer
from engine.bench import lower
from engine.bench.population import DASHBOARD_COHORT_SIZE, NOW, SHARED_PASSWORD, Plan, generate
from engine.content import Course, load
from engine.errors import SalaError
from engine.settings import REPO_ROOT, load_settings
from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import Attempt, Cohort, ModuleResult, Response, User

DASHBOARD_CODE = "BENCH-00001"


@dataclass
class Figure:
    name: str
    target: str
    sala: float | None = None
    """Milliseconds (or the unit in `unit`)."""
    lower: float | None = None
    unit: str = "ms"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.sala / self.lower if self.sala is not None and self.lower else None


@dataclass
class Report:
    learners: int
    database: str
    machine: dict
    rows: dict[str, int] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(_line(figure), flush=True)
        return figure

    def as_json(self) -> dict:
        return {"learners": self.learners, "database": self.database, "machine": self.machine, "rows": self.rows,
                "figures": [dataclasses.asdict(f) | {"ratio": f.ratio} for f in self.figures]}


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _line(f: Figure) -> str:
    ratio = "—" if f.ratio is None else f"{f.ratio:.2f}"
    return f"{f.name:<58} {_fmt(f.sala):>10} {_fmt(f.lower):>10} {ratio:>6}  {f.unit:<4} {f.target:<22} {f.note}"


HEADER = f"{'figure':<58} {'Sala':>10} {'lower':>10} {'ratio':>6}  unit target                 note"


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median milliseconds of `runs` calls after a warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


# --- equality of Sala's figures and the lower bound's ---------------------------------------------------


def _close(a, b, path: str = "") -> None:
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        for f in dataclasses.fields(a):
            _close(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            raise SalaError(f"bench: Sala and the lower bound differ at {path}: keys {sorted(a)} vs {sorted(b)}")
        for k in a:
            _close(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            raise SalaError(f"bench: Sala and the lower bound differ at {path}: {len(a)} vs {len(b)} entries")
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or not math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-7):
            raise SalaError(f"bench: Sala and the lower bound differ at {path}: {a!r} vs {b!r}")
    elif a != b:
        raise SalaError(f"bench: Sala and the lower bound differ at {path}: {a!r} vs {b!r}")


def _dashboard_numbers(board: trainer.Dashboard) -> dict:
    return dict(learners=len(board.learners), summaries=board.summaries, split=board.split, weekly=board.weekly,
                funnel=board.funnel, flags=(sum(f.inactive for f in board.flags.values()),
                                            sum(f.stuck_section is not None for f in board.flags.values()),
                                            sum(f.failed_post_twice for f in board.flags.values())),
                items=board.items, facility=board.facility)


def _national_numbers(overview: national.NationalOverview, course: Course) -> dict:
    """Sala's overview in the lower bound's shape: every shown (not suppressed) group's summary."""
    shown, completion = {}, {}
    for module in course.modules:
        for dimension in national.DIMENSIONS:
            for g in overview.modules[module.id][dimension]:
                if not g.total and not g.suppressed:
                    shown[(dimension, g.group, module.id)] = g.summary
    for dimension in national.DIMENSIONS:
        for g in overview.completion[dimension]:
            completion[(dimension, g.group)] = (g.learners, g.completed)
    return dict(summaries=shown, completion=completion)


def _lower_national(found: dict, sala_shape: dict) -> dict:
    return dict(summaries={k: v for k, v in found["summaries"].items() if k in sala_shape["summaries"]},
                completion=found["completion"])


# --- the population ---------------------------------------------------------------------------------------


def _machine() -> dict:
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 1024
    except OSError:
        pass
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_mib": memory, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def _prepare(url: str, learners: int, fresh: bool, course: Course, report: Report) -> tuple:
    engine = make_engine(url)
    if fresh and engine.dialect.name == "sqlite":
        engine.dispose()
        for suffix in ("", "-wal", "-shm", "-writer"):
            Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)
        engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    with factory() as session:
        users = session.scalar(select(func.count()).select_from(User))
        marker = session.scalar(select(Cohort.id).where(Cohort.enrol_code == DASHBOARD_CODE))
        learners_there = session.scalar(select(func.count()).select_from(User).where(User.role == "learner"))
    if users and not marker:
        raise SalaError(f"sala bench: {make_url(url).render_as_string(hide_password=True)} already holds {users} "
                        "users that are not a bench population; point SALA_DATABASE_URL (or --db) at an empty "
                        "database")
    if marker and learners_there != learners:
        raise SalaError(f"sala bench: the database holds a bench population of {learners_there:,} learners, "
                        f"not {learners:,}; use --fresh (SQLite) or another database")
    if marker:
        report.add(Figure("generate the population (reused: already in the database)", "≤ 300 s", unit="s"))
    else:
        from engine.accounts import hash_password

        start = time.perf_counter()
        rows = generate(engine, course, Plan(learners), hash_password(SHARED_PASSWORD))
        generated = time.perf_counter() - start
        with transaction(factory) as session:
            summaries.refresh(session)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        total = time.perf_counter() - start
        report.add(Figure(f"generate the population ({sum(rows.values()):,} rows)", "≤ 300 s", total / 1, unit="s",
                          note=f"rows {generated:.0f} s, summaries and ANALYZE {total - generated:.0f} s"))
    with factory() as session:
        for model in (User, Cohort, Attempt, Response, ModuleResult):
            report.rows[model.__tablename__] = session.scalar(select(func.count()).select_from(model))
    if engine.dialect.name == "sqlite":
        report.rows["database_bytes"] = Path(make_url(url).database).stat().st_size
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in report.rows.items()), flush=True)
    return engine, factory


# --- the figures ------------------------------------------------------------------------------------------


def _course_figures(report: Report, root: Path, runs: int) -> None:
    code = ("import sys, time; t = time.perf_counter(); from engine.content import load, validate; "
            "load(sys.argv[1]); print((time.perf_counter() - t) * 1000)")
    raw = ("import sys, time, pathlib, yaml; t = time.perf_counter(); root = pathlib.Path(sys.argv[1]); "
           "[yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader) if p.suffix == '.yaml' else p.read_text('utf-8') "
           "for d in ('course', 'modules', 'content') for p in sorted((root / d).rglob('*')) if p.is_file()]; "
           "print((time.perf_counter() - t) * 1000)")

    def fresh_process(source: str) -> float:
        out = subprocess.run([sys.executable, "-c", source, str(root)], check=True, capture_output=True, text=True)
        return float(out.stdout.strip().splitlines()[-1])

    cold = statistics.median(fresh_process(code) for _ in range(max(3, runs)))
    bound = statistics.median(fresh_process(raw) for _ in range(max(3, runs)))
    report.add(Figure("course cold load + validate (6 modules × 2 languages)", "≤ 500 ms", cold, bound,
                      note="fresh process each run; lower bound: read every file, parse YAML with libyaml"))
    from engine.app.bench import cached_course_ms

    report.add(cached_course_ms(root, runs))


def _dashboard_figure(report: Report, factory, raw: lower.Raw, course: Course, runs: int) -> None:
    with factory() as session:
        cohort = session.scalar(select(Cohort).where(Cohort.enrol_code == DASHBOARD_CODE))
        owner = session.get(User, cohort.trainer_id)
        session.expunge(owner)
        cohort_id = cohort.id

    def sala():
        with factory() as session:
            return trainer.dashboard(session, user=owner, course=course, cohort_ids=[cohort_id], now=NOW)

    def bound():
        try:
            return lower.dashboard(raw, course, cohort_id, course.modules[0].id, NOW)
        finally:
            raw.close()

    sala_ms, board = timed(sala, runs)
    lower_ms, found = timed(bound, runs)
    _close(_dashboard_numbers(board), found, "dashboard")
    report.add(Figure(f"one cohort's dashboard data ({len(board.learners)} learners)", "≤ 50 ms, ratio ≤ 1.5",
                      sala_ms, lower_ms, note="trainer.dashboard: every figure of the Cohort page; equal"))


def _national_figures(report: Report, factory, raw: lower.Raw, course: Course, runs: int) -> None:
    admin = User(id="bench-admin", role="admin", username="bench.admin")

    def sala():
        with factory() as session:
            return national.overview(session, user=admin, course=course)

    def bound():
        try:
            return lower.national(raw, course)
        finally:
            raw.close()

    sala_ms, overview = timed(sala, runs)
    lower_ms, found = timed(bound, runs)
    mine = _national_numbers(overview, course)
    _close(mine, _lower_national(found, mine), "national")
    report.add(Figure("national overview (completion, pre/post by sex and province)", "≤ 1 s, ratio ≤ 1.5",
                      sala_ms, lower_ms, note=f"{overview.learners:,} learners; equal"))
    module = course.modules[0]

    def sala_items():
        with factory() as session:
            return national.item_analysis(session, user=admin, module=module, kind="post")

    def bound_items():
        try:
            return lower.item_analysis_national(raw, module, "post")
        finally:
            raw.close()

    sala_ms, analysis = timed(sala_items, runs)
    lower_ms, found = timed(bound_items, runs)
    _close(analysis, found, "item analysis")
    start = time.perf_counter()
    try:
        _close(analysis, lower.item_analysis_national(raw, module, "post", from_record=True), "item analysis")
    finally:
        raw.close()
    record_ms = (time.perf_counter() - start) * 1000
    report.add(Figure(f"item analysis of one module's post-test, national ({analysis.overall.n:,} attempts)",
                      "≤ 1 s, ratio ≤ 1.5", sala_ms, lower_ms,
                      note=f"from the item counts kept on write; equal to one GROUP BY over the responses "
                           f"themselves, which takes {record_ms:,.0f} ms"))


def _fresh_pairs(factory, course: Course, count: int) -> list[tuple[str, str]]:
    """(learner, module) pairs with no pre-test yet: each can take one, through the real submit path."""
    pairs = []
    with factory() as session:
        for module in course.modules[::-1]:
            started = select(ModuleResult.user_id).where(ModuleResult.module_id == module.id,
                                                         ModuleResult.pre_attempt_id.is_not(None))
            for uid in session.scalars(select(User.id).where(User.role == "learner", User.id.not_in(started))
                                       .order_by(User.id).limit(count - len(pairs))):
                pairs.append((uid, module.id))
            if len(pairs) >= count:
                break
    return pairs


def _answers(module) -> dict[str, object]:
    return {item.id: item.options[0].id for item in module.pre_test}


def _submit_figures(report: Report, engine, factory, course: Course, runs: int, concurrent: int) -> None:
    from engine import learning

    n = max(40, runs * 20)
    pairs = _fresh_pairs(factory, course, n + concurrent)
    single, crowd = pairs[:n], pairs[n:]
    latencies = []
    for uid, mid in single:
        module = course.module(mid)
        start = time.perf_counter()
        learning.submit_test_now(factory, course=course, module=module, user_id=uid, kind="pre",  # as the page
                                 answers=_answers(module), key=f"bench-single-{uid}-{mid}")
        latencies.append((time.perf_counter() - start) * 1000)
    raw_latencies = _raw_submits(engine, course, single[: max(10, n // 2)])
    report.add(Figure(f"submit path, single learner, p95 ({len(latencies)} pre-tests of 12 answers)", "≤ 50 ms",
                      percentile(latencies, 95), percentile(raw_latencies, 95),
                      note=f"p50 {statistics.median(latencies):.1f} ms; lower bound: the same rows by raw INSERTs"))
    if not crowd:
        return
    results: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(crowd))

    def participant(uid: str, mid: str) -> None:
        module = course.module(mid)
        key = f"bench-crowd-{uid}-{mid}"
        barrier.wait()
        for _ in range(2):  # each sends twice with the same key, as a phone on a bad link does
            start = time.perf_counter()
            try:  # as the study page does
                learning.submit_test_now(factory, course=course, module=module, user_id=uid, kind="pre",
                                         answers=_answers(module), key=key)
            except Exception as exc:  # counted and reported: a lost answer fails the bench
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                results.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=participant, args=pair) for pair in crowd]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with factory() as session:
        keys = [f"bench-crowd-{uid}-{mid}" for uid, mid in crowd]
        kept = session.scalar(select(func.count()).select_from(Attempt).where(Attempt.idempotency_key.in_(keys)))
        answers = session.scalar(select(func.count()).select_from(Response).join(Attempt)
                                 .where(Attempt.idempotency_key.in_(keys)))
    lost = len(crowd) - kept
    if failures or lost:
        raise SalaError(f"bench: {len(failures)} submissions failed and {lost} were lost under {len(crowd)} "
                        f"concurrent participants: {failures[:3]}")
    report.add(Figure(f"submit path, concurrent participants, p95 ({len(crowd)} at once)", "≤ 300 ms, nothing lost",
                      percentile(results, 95), note=f"{len(results)} sends (each twice), {kept} attempts, "
                      f"{answers} answers kept, lost 0, duplicated {kept - len(crowd)}"))


def _raw_submits(engine, course: Course, pairs: list[tuple[str, str]]) -> list[float]:
    """The lower bound of a submit: one attempt and its responses by INSERTs through the raw driver, in
    one transaction, then rolled back (so the database is left as it was)."""
    connection = engine.raw_connection()
    postgres = engine.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    now = NOW if postgres else NOW.replace(tzinfo=None).isoformat(" ", "microseconds")
    times = []
    try:
        for uid, mid in pairs:
            module = course.module(mid)
            start = time.perf_counter()
            cursor = connection.cursor()
            if not postgres:
                cursor.execute("BEGIN IMMEDIATE")
            attempt_id = str(uuid.uuid4())
            cursor.execute(
                "INSERT INTO attempts (id, user_id, module_id, kind, source, language, content_version, "
                "idempotency_key, started_at, submitted_at, score, max_score) VALUES "
                f"({', '.join([mark] * 12)})",
                (attempt_id, uid, mid, "pre", "online", "km", course.version, f"raw-{attempt_id}", now, now, 0.0,
                 float(len(module.pre_test))))
            cursor.executemany(f"INSERT INTO responses (id, attempt_id, item_id, answer, correct, points) VALUES "
                               f"({', '.join([mark] * 6)})",
                               [(str(uuid.uuid4()), attempt_id, item.id, '"a"', False, 0.0)
                                for item in module.pre_test])
            cursor.close()
            connection.rollback()
            times.append((time.perf_counter() - start) * 1000)
    finally:
        connection.close()
    return times


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="sala bench", description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000,
                        help="size of the synthetic country (1000, 10000, 100000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (the median is reported)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--db", help="SQLite file to use when SALA_DATABASE_URL is not set "
                                     "(default var/bench/sala-bench-<learners>.db)")
    parser.add_argument("--fresh", action="store_true", help="delete the SQLite bench file first and generate anew")
    parser.add_argument("--concurrent", type=int, default=60, help="participants submitting at once")
    parser.add_argument("--sessions", type=int, default=60,
                        help="browser sessions held open against a real app server for the memory figure "
                             "(0 to skip; needs Chromium)")
    parser.add_argument("--no-pages", action="store_true", help="skip the AppTest page timings")
    args = parser.parse_args(argv)
    if args.learners < DASHBOARD_COHORT_SIZE:
        raise SalaError(f"--learners: at least {DASHBOARD_COHORT_SIZE} (the dashboard cohort's size)")
    default = REPO_ROOT / "var" / "bench" / f"sala-bench-{args.learners}.db"
    url = os.environ.get("SALA_DATABASE_URL") or f"sqlite:///{Path(args.db or default).resolve()}"
    settings = load_settings({**os.environ, "SALA_DATABASE_URL": url})
    course = load(settings.content_root)["km"]
    shown_url = make_url(url).render_as_string(hide_password=True)
    report = Report(args.learners, shown_url, _machine())
    print(f"sala bench: {args.learners:,} learners on {shown_url}; {report.machine['cores']} cores, "
          f"{report.machine['cpu']}, {report.machine['memory_mib']:,} MiB; median of {args.runs} runs", flush=True)
    print(HEADER, flush=True)
    engine, factory = _prepare(url, args.learners, args.fresh, course, report)
    raw = lower.Raw(engine.raw_connection(), engine.dialect.name)
    try:
        _course_figures(report, settings.content_root, args.runs)
        _dashboard_figure(report, factory, raw, course, args.runs)
        _national_figures(report, factory, raw, course, args.runs)
    finally:
        raw.connection.close()
    if not args.no_pages:
        from engine.app.bench import page_figures

        for figure in page_figures(url, settings.content_root, factory, args.runs):
            report.add(figure)
    _submit_figures(report, engine, factory, course, args.runs, args.concurrent)
    if args.sessions:
        from engine.app.bench import server_memory

        report.add(server_memory(url, settings.content_root, factory, args.sessions))
    print("\n" + HEADER)
    for figure in report.figures:
        print(_line(figure))
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    engine.dispose()
    return 0
