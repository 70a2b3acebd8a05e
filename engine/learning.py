"""The self-study path through a module: pre-test → sections with knowledge checks → exercise →
post-test → done. What the learner did is read from the append-only record (attempts, responses,
section progress); what comes next is computed from it. Pure of Streamlit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine import summaries
from engine.content.model import Course, Module
from engine.errors import InputError
from engine.quiz import ItemResult, Score, decode_answer, encode_answer, grade, score
from engine.store.base import new_id, utcnow
from engine.store.db import transaction
from engine.store.models import Attempt, ExerciseAnswer, Response, SectionProgress


@dataclass(frozen=True)
class TestAttempt:
    id: str
    kind: str
    points: float
    max_points: float
    submitted_at: datetime
    answers: dict[str, object]
    correct: dict[str, bool | None]

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0


@dataclass(frozen=True)
class ModuleRecord:
    """Everything one learner has done in one module."""

    pre: TestAttempt | None = None
    posts: tuple[TestAttempt, ...] = ()
    opened: frozenset[str] = frozenset()
    completed: frozenset[str] = frozenset()
    checks_right: frozenset[str] = frozenset()
    last_check: dict[str, tuple[object, bool]] = field(default_factory=dict)
    exercise: dict[str, str] = field(default_factory=dict)

    @property
    def best_post(self) -> TestAttempt | None:
        return max(self.posts, key=lambda a: (a.percent, -a.submitted_at.timestamp()), default=None)


def load_record(session: Session, *, user_id: str, module_id: str) -> ModuleRecord:
    attempts = session.scalars(
        select(Attempt).where(Attempt.user_id == user_id, Attempt.module_id == module_id)
        .order_by(Attempt.submitted_at, Attempt.id)
    ).all()
    responses: dict[str, list[Response]] = {}
    if attempts:
        for r in session.scalars(select(Response).where(Response.attempt_id.in_([a.id for a in attempts]))):
            responses.setdefault(r.attempt_id, []).append(r)
    pre, posts, right, last = None, [], set(), {}
    for a in attempts:
        rows = responses.get(a.id, [])
        if a.kind == "check":
            for r in rows:
                last[r.item_id] = (decode_answer(r.answer), bool(r.correct))
                if r.correct:
                    right.add(r.item_id)
            continue
        if a.kind not in ("pre", "post"):
            continue
        view = TestAttempt(a.id, a.kind, a.score, a.max_score, a.submitted_at,
                           {r.item_id: decode_answer(r.answer) for r in rows}, {r.item_id: r.correct for r in rows})
        if a.kind == "pre":
            pre = pre or view  # the first pre-test is the one that counts
        else:
            posts.append(view)
    progress = session.scalars(select(SectionProgress).where(
        SectionProgress.user_id == user_id, SectionProgress.module_id == module_id)).all()
    exercise = {e.item_id: e.text for e in session.scalars(select(ExerciseAnswer).where(
        ExerciseAnswer.user_id == user_id, ExerciseAnswer.module_id == module_id))}
    return ModuleRecord(pre, tuple(posts), frozenset(p.section_id for p in progress),
                        frozenset(p.section_id for p in progress if p.completed_at), frozenset(right), last, exercise)


def load_records(session: Session, *, user_id: str, course: Course) -> dict[str, ModuleRecord]:
    """The learner's record in every module of the course."""
    return {m.id: load_record(session, user_id=user_id, module_id=m.id) for m in course.modules}


@dataclass(frozen=True)
class Step:
    kind: str
    """pre, section, exercise, post, done, or no_attempts_left."""
    section_id: str | None = None


def next_step(module: Module, record: ModuleRecord, attempts_allowed: int) -> Step:
    """Where the learner should be now: the resume point within the module. A passed module is done,
    however it was passed (online, or on paper in a classroom)."""
    if passed(module, record):
        return Step("done")
    if record.pre is None:
        return Step("pre")
    for section in module.sections:
        if section.id not in record.completed:
            return Step("section", section.id)
    if any(not record.exercise.get(item.id, "").strip() for item in module.exercise.items):
        return Step("exercise")
    if len(record.posts) >= attempts_allowed:
        return Step("no_attempts_left")
    return Step("post")


def section_open(module: Module, record: ModuleRecord, section_id: str) -> bool:
    """A section can be read once the pre-test is done and every earlier section is complete; sections
    already read stay open for review."""
    if record.pre is None:
        return False
    for section in module.sections:
        if section.id == section_id:
            return True
        if section.id not in record.completed:
            return False
    return False


def passed(module: Module, record: ModuleRecord) -> bool:
    best = record.best_post
    return best is not None and best.percent + 1e-9 >= module.pass_mark


def post_test_open(module: Module, record: ModuleRecord, attempts_allowed: int) -> bool:
    return next_step(module, record, attempts_allowed).kind == "post"


@dataclass(frozen=True)
class Submitted:
    attempt_id: str
    score: Score
    duplicate: bool
    """True when this idempotency key was already kept: the earlier result is returned, nothing is added."""


_BY_KEY = select(Attempt.id, Attempt.user_id).where(Attempt.idempotency_key == bindparam("key"))
"""Built once: it runs on every submission (statement building costs more than SQLite takes to run it)."""


def _existing(session: Session, key: str, user_id: str):
    """The (id, user_id) of the attempt kept under this idempotency key, or None."""
    found = session.connection().execute(_BY_KEY, {"key": key}).first()
    if found is not None and found.user_id != user_id:
        raise InputError("idempotency key belongs to another learner")
    return found


def _replay(session: Session, attempt, items) -> Submitted:
    answers = {r.item_id: decode_answer(r.answer) for r in
               session.scalars(select(Response).where(Response.attempt_id == attempt.id))}
    return Submitted(attempt.id, score(items, answers), duplicate=True)


def _response_rows(attempt_id: str, result: Score) -> list[dict]:
    """An attempt's graded answers as plain rows, for one executemany (the ORM would build and track an
    object per answer)."""
    return [dict(id=new_id(), attempt_id=attempt_id, item_id=r.item_id, answer=encode_answer(r.answer),
                 correct=r.correct, points=r.points) for r in result.results]


def keep_attempt(session: Session, attempt: Attempt, result: Score) -> bool:
    """Write an attempt and its responses, all or nothing, in a savepoint. False when another writer kept
    an attempt with the same idempotency key at the same moment (nothing of this one is written)."""
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
            if result.results:
                session.connection().execute(insert(Response), _response_rows(attempt.id, result))
    except IntegrityError:
        if session.connection().execute(_BY_KEY, {"key": attempt.idempotency_key}).first() is None:
            raise
        return False
    summaries.note_attempt(session, attempt, result)
    return True


def submit_test(session: Session, *, course: Course, module: Module, user_id: str, kind: str,
                answers: dict[str, object], key: str, started_at: datetime | None = None,
                source: str = "online") -> Submitted:
    """Grade and keep a pre- or post-test attempt, once per idempotency `key`. Refuses an attempt the
    path does not allow (a second pre-test, a post-test before the sections, no attempts left)."""
    items = module.pre_test if kind == "pre" else module.post_test
    found = _existing(session, key, user_id)
    if found is not None:
        return _replay(session, found, items)
    summaries.hold(session, user_id=user_id, module_id=module.id)  # what follows is read by no other writer
    record = load_record(session, user_id=user_id, module_id=module.id)
    refusal = (f"{module.id}: the pre-test is taken once, and it was taken" if kind == "pre" and record.pre
               else f"{module.id}: the post-test is not open now"
               if kind == "post" and not post_test_open(module, record, course.post_test_attempts) else None)
    if refusal is not None:
        # The other send of this same submission may have been kept since the first look (PostgreSQL
        # reads what committed in between): then the record shows it, and this send is answered with it.
        found = _existing(session, key, user_id)
        if found is not None:
            return _replay(session, found, items)
        raise InputError(refusal)
    result = score(items, answers)  # raises InputError naming a bad answer before anything is written
    attempt = Attempt(user_id=user_id, module_id=module.id, kind=kind, source=source, language=course.language,
                      content_version=course.version, idempotency_key=key, started_at=started_at or utcnow(),
                      submitted_at=utcnow(), score=result.points, max_score=result.max_points)
    if not keep_attempt(session, attempt, result):
        # The same submission arrived twice at once: the other one was kept; answer with it.
        found = _existing(session, key, user_id)
        if found is None:
            raise
        return _replay(session, found, items)
    return Submitted(attempt.id, result, duplicate=False)


def submit_test_now(factory: sessionmaker[Session], *, course: Course, module: Module, user_id: str, kind: str,
                    answers: dict[str, object], key: str, started_at: datetime | None = None,
                    source: str = "online") -> Submitted:
    """submit_test as a page calls it, in a transaction of its own, with the reading and the grading done
    before the write lock is taken: a room of sixty submitting at once queues only for the writes, and a
    resend is answered from a read alone. Under the lock, what a concurrent submission of the same learner
    could have changed (the pre-test taken, post-test attempts used up, the module passed) is checked again
    from the learner's summary row; anything unusual goes through submit_test itself.

    The common case (a new attempt the learner may make) is written as plain rows: the attempt, its
    responses, the summary row and the item counts, one statement each, with no ORM unit of work; in a
    burst every submission's Python time is spent one after another (the GIL), so this is what sets how
    long the sixtieth learner waits."""
    items = module.pre_test if kind == "pre" else module.post_test
    with factory() as session:
        found = _existing(session, key, user_id)
        if found is not None:
            return _replay(session, found, items)
        if kind == "pre":  # the summary row says whether the pre-test was taken; the record is not read
            allowed = (summaries.read_row(session, user_id=user_id, module_id=module.id) or {}).get(
                "pre_attempt_id") is None
        else:
            record = load_record(session, user_id=user_id, module_id=module.id)
            allowed = post_test_open(module, record, course.post_test_attempts)
    result = score(items, answers) if allowed else None  # a bad answer is refused before the lock
    with transaction(factory) as session:
        summaries.hold(session, user_id=user_id, module_id=module.id)
        row = summaries.read_row(session, user_id=user_id, module_id=module.id)
        unchanged = row is None or (row["pre_attempt_id"] is None if kind == "pre" else
                                    (row["posts"] or 0) < course.post_test_attempts and
                                    (row["best_post_percent"] is None or
                                     row["best_post_percent"] + 1e-9 < module.pass_mark))
        if result is None or not unchanged:
            return submit_test(session, course=course, module=module, user_id=user_id, kind=kind, answers=answers,
                               key=key, started_at=started_at, source=source)
        now = utcnow()
        attempt = dict(id=new_id(), user_id=user_id, module_id=module.id, kind=kind, source=source,
                       language=course.language, content_version=course.version, idempotency_key=key,
                       started_at=started_at or now, submitted_at=now, score=result.points,
                       max_score=result.max_points)
        try:
            with session.begin_nested():
                connection = session.connection()
                connection.execute(insert(Attempt), [attempt])
                if result.results:
                    connection.execute(insert(Response), _response_rows(attempt["id"], result))
        except IntegrityError:  # the key was kept since the first look (by another module's form, say)
            found = _existing(session, key, user_id)
            if found is None:
                raise
            return _replay(session, found, items)
        summaries.note_test(session, row, attempt=attempt, result=result)
        return Submitted(attempt["id"], result, duplicate=False)


def open_section(session: Session, *, user_id: str, module_id: str, section_id: str) -> None:
    exists = session.scalar(select(SectionProgress.id).where(
        SectionProgress.user_id == user_id, SectionProgress.module_id == module_id,
        SectionProgress.section_id == section_id))
    if exists is None:
        now = utcnow()
        session.add(SectionProgress(user_id=user_id, module_id=module_id, section_id=section_id, first_opened_at=now))
        summaries.note_section(session, user_id=user_id, module_id=module_id, when=now, completed=False)


def complete_section(session: Session, *, user_id: str, module_id: str, section_id: str) -> None:
    open_section(session, user_id=user_id, module_id=module_id, section_id=section_id)
    row = session.scalar(select(SectionProgress).where(
        SectionProgress.user_id == user_id, SectionProgress.module_id == module_id,
        SectionProgress.section_id == section_id))
    if row.completed_at is None:
        row.completed_at = utcnow()
        summaries.note_section(session, user_id=user_id, module_id=module_id, when=row.completed_at, completed=True)


def submit_check(session: Session, *, course: Course, module: Module, user_id: str, section_id: str,
                 item_id: str, answer: object, key: str) -> ItemResult:
    """Grade one knowledge-check answer (retries are unlimited) and keep it. A section is complete
    once every one of its checks has been answered right."""
    section = module.section(section_id)
    item = next((i for i in section.checks if i.id == item_id), None) if section else None
    if item is None:
        raise InputError(f"{module.id}: {item_id!r} is not a check of section {section_id!r}")
    record = load_record(session, user_id=user_id, module_id=module.id)
    if not section_open(module, record, section_id):
        raise InputError(f"{module.id}: section {section_id!r} is not open yet")
    result = grade(item, answer)
    found = _existing(session, key, user_id)
    if found is None:
        attempt = Attempt(user_id=user_id, module_id=module.id, kind="check", section_id=section_id,
                          language=course.language, content_version=course.version, idempotency_key=key,
                          score=result.points, max_score=1.0)
        if not keep_attempt(session, attempt, Score((result,), result.points, 1.0)):
            _existing(session, key, user_id)  # the same answer sent twice at once: the other send kept it
    right = set(record.checks_right) | ({item.id} if result.correct else set())
    if all(c.id in right for c in section.checks):
        complete_section(session, user_id=user_id, module_id=module.id, section_id=section_id)
    return result


def save_exercise(session: Session, *, module: Module, user_id: str, item_id: str, text: str) -> None:
    if item_id not in {i.id for i in module.exercise.items}:
        raise InputError(f"{module.id}: {item_id!r} is not an exercise item")
    if len(text) > 20_000:
        raise InputError(f"{module.id}: {item_id}: the text is longer than 20,000 characters")
    mine = select(ExerciseAnswer).where(
        ExerciseAnswer.user_id == user_id, ExerciseAnswer.module_id == module.id, ExerciseAnswer.item_id == item_id)
    row = session.scalar(mine)
    if row is None:
        try:
            with session.begin_nested():
                session.add(ExerciseAnswer(user_id=user_id, module_id=module.id, item_id=item_id, text=text))
            return
        except IntegrityError:  # saved at the same moment by another send (a second tab, a resend): update it
            row = session.scalar(mine)
            if row is None:
                raise
    if row.text != text:
        row.text = text
    session.flush()


def resume_point(course: Course, records: dict[str, ModuleRecord]) -> tuple[str, Step] | None:
    """The first module that is not done, and the step to take in it; None when all are passed."""
    for module in course.modules:
        step = next_step(module, records.get(module.id, ModuleRecord()), course.post_test_attempts)
        if step.kind != "done":
            return module.id, step
    return None


def sections_to_review(module: Module, record: ModuleRecord) -> list[str]:
    """The sections behind the test items missed in the latest post-test, in teaching order."""
    if not record.posts:
        return []
    latest = record.posts[-1]
    missed = {item.section for item in module.post_test if item.section and latest.correct.get(item.id) is False}
    return [s.id for s in module.sections if s.id in missed]
