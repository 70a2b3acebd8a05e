"""The module_results summaries: one row per learner and module, derived from the append-only record.

Every write of the record updates the summary of the learner and module it changed, in the same
transaction, so a summary is never behind what was acknowledged: `note_attempt` / `note_test` /
`note_section` for the newest event (one rule, `_after`, for what an attempt changes), `touch` otherwise.
`refresh` recomputes any set of rows (or all of them) from the record; it is what `touch`, the migration
that made the table, bundle imports and `sala summaries --rebuild` run. Readers: engine.national (the
country), engine.trainer.cascade and engine.views.cohort_summaries (many cohorts at once).

Kept independent of the course (no pass marks): a module counts as passed when its best post-test
score reaches the module's pass mark, and it was passed when that best score was first reached.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, case, delete, func, insert, literal, select, text, tuple_, update
from sqlalchemy.orm import Session

from engine.quiz import Score, encode_answer
from engine.store.models import Attempt, ItemCount, ModuleResult, Response, SectionProgress, User

CHUNK = 500
"""Learners per round of queries in a refresh: keeps every IN list well inside both databases' limits."""


def passed_case(course):
    """SQL: 1 when a module_results row's best post-test reaches its module's pass mark, else 0."""
    marks = case({m.id: m.pass_mark for m in course.modules}, value=ModuleResult.module_id, else_=literal(101.0))
    return case((ModuleResult.best_post_percent + 1e-9 >= marks, 1), else_=0)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _rows(db: Session | Connection, user_ids: Sequence[str], module_id: str | None) -> list[dict]:
    """The summaries of `user_ids` (in `module_id` only, if given), computed from the record."""
    def scoped(query, model):
        query = query.where(model.user_id.in_(user_ids))
        return query.where(model.module_id == module_id) if module_id else query

    rows: dict[tuple[str, str], dict] = {}

    def row(uid: str, mid: str) -> dict:
        return rows.setdefault((uid, mid), dict(
            user_id=uid, module_id=mid, pre_attempt_id=None, pre_percent=None, post_attempt_id=None,
            best_post_percent=None, best_post_at=None, posts=0, sections_done=0, last_activity_at=None))

    tests = scoped(select(Attempt.id, Attempt.user_id, Attempt.module_id, Attempt.kind, Attempt.score,
                          Attempt.max_score, Attempt.submitted_at), Attempt)
    for attempt_id, uid, mid, kind, score, max_score, when in db.execute(
            tests.where(Attempt.kind.in_(("pre", "post"))).order_by(Attempt.submitted_at, Attempt.id)):
        r = row(uid, mid)
        percent = 100.0 * score / max_score if max_score else 0.0
        if kind == "pre":
            if r["pre_attempt_id"] is None:
                r["pre_attempt_id"], r["pre_percent"] = attempt_id, percent
            continue
        r["posts"] += 1
        if r["post_attempt_id"] is None:
            r["post_attempt_id"] = attempt_id
        if r["best_post_percent"] is None or percent > r["best_post_percent"]:
            r["best_post_percent"], r["best_post_at"] = percent, when
    for uid, mid, when in db.execute(scoped(select(Attempt.user_id, Attempt.module_id, func.max(Attempt.submitted_at)),
                                            Attempt).group_by(Attempt.user_id, Attempt.module_id)):
        row(uid, mid)["last_activity_at"] = when
    for uid, mid, done, opened, completed in db.execute(
            scoped(select(SectionProgress.user_id, SectionProgress.module_id, func.count(SectionProgress.completed_at),
                          func.max(SectionProgress.first_opened_at), func.max(SectionProgress.completed_at)),
                   SectionProgress).group_by(SectionProgress.user_id, SectionProgress.module_id)):
        r = row(uid, mid)
        r["sections_done"] = done
        r["last_activity_at"] = _later(r["last_activity_at"], _later(opened, completed))
    return list(rows.values())


def refresh(db: Session | Connection, user_ids: Iterable[str] | None = None, module_id: str | None = None, *,
            item_counts: bool = True) -> int:
    """Recompute the summaries of `user_ids` (every user when None), in `module_id` only if given, from
    the record; returns the number of rows written. The item counts of the modules concerned are rebuilt
    too (a national GROUP BY per module: for imports and repairs, not for the submit path). Works on a
    Session or a Connection, in its transaction."""
    everyone = user_ids is None
    if user_ids is None:
        user_ids = db.execute(select(User.id).order_by(User.id)).scalars().all()
    ids = sorted(set(user_ids))
    written, modules = 0, set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = _rows(db, chunk, module_id)
        old = delete(ModuleResult).where(ModuleResult.user_id.in_(chunk))
        db.execute(old.where(ModuleResult.module_id == module_id) if module_id else old)
        if rows:
            db.execute(insert(ModuleResult), rows)
        written += len(rows)
        modules |= {r["module_id"] for r in rows}
    if item_counts and (everyone or modules):
        rebuild_item_counts(db, None if everyone and module_id is None else sorted(modules | {module_id} - {None}))
    return written


def _first_counts(kind: str, modules: Sequence[str] | None):
    """SELECT of the item counts of every first `kind` attempt (in `modules`, if given), from the record."""
    first = ModuleResult.pre_attempt_id if kind == "pre" else ModuleResult.post_attempt_id
    query = (select(ModuleResult.module_id, literal(kind), Response.item_id, Attempt.score, Response.answer,
                    Response.correct, func.count())
             .select_from(ModuleResult).join(Attempt, Attempt.id == first)
             .join(Response, Response.attempt_id == Attempt.id).where(Response.correct.is_not(None)))
    if modules is not None:
        query = query.where(ModuleResult.module_id.in_(modules))
    return query.group_by(ModuleResult.module_id, Response.item_id, Attempt.score, Response.answer, Response.correct)


def rebuild_item_counts(db: Session | Connection, modules: Sequence[str] | None = None) -> None:
    """Recompute the item counts (of `modules`, or all) from module_results' first attempts."""
    old = delete(ItemCount)
    db.execute(old.where(ItemCount.module_id.in_(modules)) if modules is not None else old)
    for kind in ("pre", "post"):
        rows = [dict(module_id=m, kind=k, item_id=i, total=int(t), answer=a, correct=bool(c), n=int(n))
                for m, k, i, t, a, c, n in db.execute(_first_counts(kind, modules))]
        for start in range(0, len(rows), 5000):
            db.execute(insert(ItemCount), rows[start:start + 5000])


def stale_item_counts(db: Session | Connection) -> list[tuple]:
    """The item counts that differ from a recomputation from the record: empty when all is well."""
    stored = {(m, k, i, t, a, bool(c)): n for m, k, i, t, a, c, n in db.execute(
        select(ItemCount.module_id, ItemCount.kind, ItemCount.item_id, ItemCount.total, ItemCount.answer,
               ItemCount.correct, ItemCount.n))}
    expected = {(m, k, i, int(t), a, bool(c)): int(n) for kind in ("pre", "post")
                for m, k, i, t, a, c, n in db.execute(_first_counts(kind, None))}
    return sorted(k for k in stored.keys() | expected.keys() if stored.get(k) != expected.get(k))


def touch(session: Session, *, user_id: str, module_id: str) -> None:
    """Bring one learner's summary of one module up to date with what this session has written, by
    recomputing it from the record (what a write that is not the newest event, or an unusual one, uses)."""
    session.flush()
    refresh(session, [user_id], module_id)


LEARNER_LOCK_CLASS = 0x5A1C
"""First key of the PostgreSQL advisory locks held per learner and module (engine.throttle uses 0x5A1B)."""


def hold(session: Session, *, user_id: str, module_id: str) -> None:
    """Keep other writers of this learner's record in this module out until the transaction ends.

    On SQLite the transaction already holds the write lock. On PostgreSQL two transactions could otherwise
    both read "no pre-test yet" (or "one post-test attempt left") and both write, and both add one to the
    summary row read before the other committed. Take it before reading what the write depends on.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"{user_id}\x1f{module_id}".encode()) - 2**31  # a signed 32-bit key
        session.execute(text("SELECT pg_advisory_xact_lock(:kind, :key)"), {"kind": LEARNER_LOCK_CLASS, "key": key})


def _row(session: Session, user_id: str, module_id: str) -> ModuleResult:
    hold(session, user_id=user_id, module_id=module_id)  # re-entrant: free when the caller already holds it
    row = session.get(ModuleResult, (user_id, module_id))
    if row is None:
        row = ModuleResult(user_id=user_id, module_id=module_id, posts=0, sections_done=0)
        session.add(row)
    return row


def _count_answers(session: Session, *, module_id: str, kind: str, score: float, result: Score) -> None:
    """Add a first attempt's graded answers to the item counts: one upsert per item, in key order (so two
    writers never wait on each other's rows in opposite orders)."""
    total = int(round(score))
    rows = sorted((module_id, kind, r.item_id, total, encode_answer(r.answer), bool(r.correct))
                  for r in result.results if r.correct is not None)
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    keys = ("module_id", "kind", "item_id", "total", "answer", "correct")
    # One statement, executed for each row: its compiled form is cached (a multi-row VALUES would be
    # compiled anew on every submission).
    statement = upsert(ItemCount).on_conflict_do_update(index_elements=list(keys), set_={"n": ItemCount.n + 1})
    session.connection().execute(statement, [dict(zip(keys, row, strict=True), n=1) for row in rows])


TRACKED = ("pre_attempt_id", "pre_percent", "post_attempt_id", "best_post_percent", "best_post_at", "posts",
           "last_activity_at")
"""The columns of a summary row that a new attempt can change."""
EMPTY = dict.fromkeys(TRACKED) | {"posts": 0}


def _after(before: dict, *, kind: str, attempt_id: str, percent: float, when: datetime) -> tuple[dict, bool]:
    """A summary row's tracked columns once one newly kept attempt (the learner's newest event in the
    module) is added, and whether it is the learner's first pre- or post-test there."""
    after, first = dict(before), False
    if kind == "pre" and after["pre_attempt_id"] is None:
        after.update(pre_attempt_id=attempt_id, pre_percent=percent)
        first = True
    elif kind == "post":
        after["posts"] = (after["posts"] or 0) + 1
        if after["post_attempt_id"] is None:
            after["post_attempt_id"], first = attempt_id, True
        if after["best_post_percent"] is None or percent > after["best_post_percent"]:
            after.update(best_post_percent=percent, best_post_at=when)
    after["last_activity_at"] = _later(after["last_activity_at"], when)
    return after, first


def _percent(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def note_attempt(session: Session, attempt: Attempt, result: Score | None = None) -> None:
    """Add one newly kept attempt, the learner's newest event in the module, to their summary: the same
    result as `touch`, from the row alone (one read, one write instead of five statements). The submit
    path runs under the database's write lock, so this keeps that lock for less time."""
    row = _row(session, attempt.user_id, attempt.module_id)
    after, first = _after({c: getattr(row, c) for c in TRACKED}, kind=attempt.kind, attempt_id=attempt.id,
                          percent=_percent(attempt.score, attempt.max_score), when=attempt.submitted_at)
    for column in TRACKED:
        setattr(row, column, after[column])
    if first:
        if result is None:
            raise ValueError("note_attempt: a first test attempt needs its graded answers (result)")
        _count_answers(session, module_id=attempt.module_id, kind=attempt.kind, score=attempt.score, result=result)


_READ_ROW = select(*(getattr(ModuleResult, c) for c in TRACKED)).where(
    ModuleResult.user_id == bindparam("user_id"), ModuleResult.module_id == bindparam("module_id"))
"""Built once: on the submit path, building a statement costs more than SQLite takes to run it."""


def read_row(session: Session, *, user_id: str, module_id: str) -> dict | None:
    """The tracked columns of one summary row as a dict (None if there is none), read without the ORM."""
    found = session.connection().execute(_READ_ROW, {"user_id": user_id, "module_id": module_id}).first()
    return None if found is None else dict(found._mapping)


def note_test(session: Session, before: dict | None, *, attempt: dict, result: Score) -> None:
    """note_attempt for a pre- or post-test written as a plain row (`attempt`, the values inserted), given
    the summary row as `read_row` returned it in this transaction, under `hold`: the same columns,
    written by one INSERT or UPDATE instead of the ORM's unit of work."""
    user_id, module_id = attempt["user_id"], attempt["module_id"]
    after, first = _after(before or EMPTY, kind=attempt["kind"], attempt_id=attempt["id"],
                          percent=_percent(attempt["score"], attempt["max_score"]), when=attempt["submitted_at"])
    connection = session.connection()
    if before is None:
        connection.execute(insert(ModuleResult), [dict(user_id=user_id, module_id=module_id, sections_done=0, **after)])
    else:
        changed = {c: v for c, v in after.items() if v != before[c]}
        if changed:
            connection.execute(update(ModuleResult).where(ModuleResult.user_id == user_id,
                                                          ModuleResult.module_id == module_id).values(**changed))
    if first:
        _count_answers(session, module_id=module_id, kind=attempt["kind"], score=attempt["score"], result=result)


def note_section(session: Session, *, user_id: str, module_id: str, when: datetime, completed: bool) -> None:
    """Add a section just opened (or just completed) to the learner's summary of the module."""
    row = _row(session, user_id, module_id)
    if completed:
        row.sections_done = (row.sections_done or 0) + 1
    row.last_activity_at = _later(row.last_activity_at, when)


def stale(db: Session | Connection, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (user, module) pairs whose stored summary differs from the record: empty when all is well."""
    pairs = sorted(set(pairs))
    wrong = []
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start:start + CHUNK]
        users = sorted({u for u, _ in chunk})
        expected = {(r["user_id"], r["module_id"]): r for r in _rows(db, users, None)}
        stored = {(r.user_id, r.module_id): r for r in db.execute(
            select(ModuleResult).where(tuple_(ModuleResult.user_id, ModuleResult.module_id).in_(chunk))).scalars()}
        for pair in chunk:
            want, have = expected.get(pair), stored.get(pair)
            if want is None and have is None:
                continue
            if want is None or have is None or any(getattr(have, k) != v for k, v in want.items()):
                wrong.append(pair)
    return wrong
