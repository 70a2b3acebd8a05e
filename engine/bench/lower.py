"""The lower bounds of `sala bench`: the same numbers as Sala's, computed by hand-written SQL through
the raw driver (sqlite3 or psycopg), with no ORM, no SQLAlchemy Core and no engine query code.

Each function returns what the matching engine function returns (or the part of it that is a number),
so the bench can check them equal before it reports a ratio. Where a figure is more than arithmetic on
the rows (a confidence interval, a discrimination index), the same pure function of engine.analytics
finishes it: the bound is on reading the data, which is what the engine's design decides.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from engine.analytics import (
    LearnerScore,
    ModuleProgress,
    Person,
    PrePostSums,
    completion_by_week,
    disaggregate,
    funnel,
    overall_scores,
    prepost_summary,
    summary_from_sums,
)
from engine.analytics_items import (
    ItemCount,
    ItemResponse,
    item_analysis,
    item_analysis_from_counts,
    item_facility_pre_post,
)
from engine.content.model import Course, Module
from engine.quiz import decode_answer

_EPS = 1e-9


class Raw:
    """A DBAPI connection and the little that differs between the two drivers."""

    def __init__(self, connection, dialect: str):
        self.connection, self.postgres = connection, dialect == "postgresql"

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(sql.replace("?", "%s") if self.postgres else sql, params)
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def time(self, value) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value.astimezone(UTC) if isinstance(value, datetime) else None
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def true(self) -> str:
        return "true" if self.postgres else "1"

    def close(self) -> None:
        self.connection.rollback()


def _marks(course: Course) -> str:
    """A CASE giving each module's pass mark, written out from course.yaml."""
    whens = " ".join(f"WHEN '{m.id}' THEN {m.pass_mark}" for m in course.modules)
    return f"CASE m.module_id {whens} ELSE 101 END"


def dashboard(raw: Raw, course: Course, cohort_id: str, items_module: str, now: datetime) -> dict:
    """The Cohort page's figures for one cohort (see engine.trainer.dashboard)."""
    members = raw.rows(
        "SELECT u.id, u.sex, u.province_code, u.org_type, u.position FROM enrolments e "
        "JOIN users u ON u.id = e.user_id WHERE e.cohort_id = ? AND u.role = 'learner'", (cohort_id,))
    tests = raw.rows(
        "SELECT a.id, a.user_id, a.module_id, a.kind, a.score, a.max_score, a.submitted_at FROM enrolments e "
        "JOIN users u ON u.id = e.user_id JOIN attempts a ON a.user_id = u.id "
        "WHERE e.cohort_id = ? AND u.role = 'learner' AND a.kind IN ('pre', 'post') "
        "ORDER BY a.submitted_at, a.id", (cohort_id,))
    stuck_before = now - timedelta(days=7)
    sections = raw.rows(
        "SELECT s.user_id, s.module_id, COUNT(s.completed_at), MAX(s.first_opened_at), "
        "SUM(CASE WHEN s.completed_at IS NULL AND s.first_opened_at <= ? THEN 1 ELSE 0 END) "
        "FROM enrolments e JOIN section_progress s ON s.user_id = e.user_id WHERE e.cohort_id = ? "
        "GROUP BY s.user_id, s.module_id",
        (stuck_before if raw.postgres else stuck_before.replace(tzinfo=None).isoformat(" ", "microseconds"),
         cohort_id))
    last_attempts = dict(raw.rows(
        "SELECT a.user_id, MAX(a.submitted_at) FROM enrolments e JOIN attempts a ON a.user_id = e.user_id "
        "WHERE e.cohort_id = ? GROUP BY a.user_id", (cohort_id,)))
    ids = [m[0] for m in members]
    marks = {m.id: m.pass_mark for m in course.modules}
    pre, post, passed_on, took_pre, fails, first = {}, {}, {}, set(), defaultdict(int), {}
    for attempt_id, uid, mid, kind, score, max_score, when in tests:
        percent = 100.0 * score / max_score if max_score else None
        if mid == items_module:
            first.setdefault((uid, kind), attempt_id)
        if percent is None:
            continue
        if kind == "pre":
            took_pre.add((uid, mid))
            pre.setdefault((uid, mid), percent)
            continue
        post[(uid, mid)] = max(post.get((uid, mid), 0.0), percent)
        if mid in marks and percent + _EPS >= marks[mid]:
            passed_on.setdefault((uid, mid), raw.time(when))
        elif mid in marks:
            fails[(uid, mid)] += 1
    done, stuck, last = defaultdict(int), set(), {u: raw.time(w) for u, w in last_attempts.items()}
    for uid, mid, completed, opened, open_too_long in sections:
        done[(uid, mid)] = completed
        if open_too_long:
            stuck.add(uid)
        opened = raw.time(opened)
        if opened is not None and (last.get(uid) is None or opened > last[uid]):
            last[uid] = opened
    taken = sorted(set(pre) | set(post))
    scores = {m.id: [LearnerScore(u, mid, pre.get((u, mid)), post.get((u, mid))) for u, mid in taken if mid == m.id]
              for m in course.modules}
    progress = [ModuleProgress(u, m.id, (u, m.id) in took_pre, done[(u, m.id)] >= len(m.sections),
                               (u, m.id) in passed_on, passed_on[(u, m.id)].date() if (u, m.id) in passed_on else None)
                for u in ids for m in course.modules]
    summaries = {m.id: prepost_summary(scores[m.id], m.pass_mark) for m in course.modules}
    summaries["__all__"] = prepost_summary(overall_scores(scores), course.pass_mark)
    people = [Person(u, sex, province, org, position, cohort_id) for u, sex, province, org, position in members]
    owner = {attempt: key for key, attempt in first.items()}
    responses = {"pre": [], "post": []}
    if owner:
        marks_in = ", ".join("?" * len(owner))
        for attempt_id, item_id, answer, correct in raw.rows(
                f"SELECT attempt_id, item_id, answer, correct FROM responses WHERE attempt_id IN ({marks_in})",
                tuple(owner)):
            uid, kind = owner[attempt_id]
            chosen = decode_answer(answer)
            options = () if chosen is None else (chosen,) if isinstance(chosen, str) else tuple(chosen)
            responses[kind].append(ItemResponse(uid, item_id, options, None if correct is None else bool(correct)))
    module = course.module(items_module)
    test_items = [i.id for i in module.post_test]
    inactive_before = now - timedelta(days=14)
    return dict(
        learners=len(ids), summaries=summaries,
        split=disaggregate(overall_scores(scores), people, "sex", course.pass_mark),
        weekly=completion_by_week(progress), funnel=funnel(progress),
        flags=(sum(1 for u in ids if last.get(u) is None or last[u] <= inactive_before), len(stuck),
               len({u for (u, _), n in fails.items() if n >= 2})),
        items=item_analysis(responses["post"], test_items, {i.id: tuple(o.id for o in i.options)
                                                            for i in module.post_test}),
        facility=item_facility_pre_post(responses["pre"], responses["post"], test_items))


def national(raw: Raw, course: Course) -> dict:
    """Completion and pre/post sums by sex and by province, module by module (two queries)."""
    paired = "m.pre_percent IS NOT NULL AND m.best_post_percent IS NOT NULL"
    gain = "(m.best_post_percent - m.pre_percent)"
    room = f"{paired} AND m.pre_percent < {100 - _EPS}"
    figures = (
        f"COUNT(*), COUNT(m.pre_percent), COUNT(m.best_post_percent), SUM(CASE WHEN {paired} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {paired} THEN m.pre_percent ELSE 0 END), "
        f"SUM(CASE WHEN {paired} THEN m.best_post_percent ELSE 0 END), "
        f"SUM(CASE WHEN {paired} THEN {gain} ELSE 0 END), SUM(CASE WHEN {paired} THEN {gain} * {gain} ELSE 0 END), "
        f"SUM(CASE WHEN {room} THEN {gain} / (100.0 - m.pre_percent) ELSE 0 END), "
        f"SUM(CASE WHEN {room} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN m.best_post_percent + {_EPS} >= {_marks(course)} THEN 1 ELSE 0 END)")
    base = "FROM module_results m JOIN users u ON u.id = m.user_id WHERE u.role = 'learner'"
    # One pass over the summaries, by (module, sex, province); sums add, so Python folds the cells into
    # the sex and the province groups (faster than two GROUP BYs, one per dimension).
    sums: dict[tuple[str, str | None, str], PrePostSums] = defaultdict(PrePostSums)
    for module_id, sex, province, *values in raw.rows(
            f"SELECT m.module_id, u.sex, u.province_code, {figures} {base} "
            "GROUP BY m.module_id, u.sex, u.province_code"):
        cell = PrePostSums(*(float(v) if 4 <= i <= 8 else int(v) for i, v in enumerate(values)))
        sums[("sex", sex, module_id)] += cell
        sums[("province_code", province, module_id)] += cell
    n_modules = len(course.modules)
    passed_all = (f"SELECT m.user_id FROM module_results m WHERE m.best_post_percent + {_EPS} >= {_marks(course)} "
                  f"GROUP BY m.user_id HAVING COUNT(*) = {n_modules}")
    completion = {}
    for sex, province, learners, completed in raw.rows(
            f"SELECT u.sex, u.province_code, COUNT(*), COUNT(p.user_id) FROM users u LEFT JOIN ({passed_all}) p "
            "ON p.user_id = u.id WHERE u.role = 'learner' GROUP BY u.sex, u.province_code"):
        for key in (("sex", sex), ("province_code", province)):
            was = completion.get(key, (0, 0))
            completion[key] = (was[0] + int(learners), was[1] + int(completed))
    return dict(summaries={k: summary_from_sums(s) for k, s in sums.items()}, completion=completion)


def item_analysis_national(raw: Raw, module: Module, kind: str, *, from_record: bool = False):
    """Item analysis of the module's `kind` test over everyone's first attempt: from the item_counts summary
    Sala keeps (one SELECT), or, `from_record`, by one GROUP BY over the responses themselves."""
    if from_record:
        column = "pre_attempt_id" if kind == "pre" else "post_attempt_id"
        rows = raw.rows(
            "SELECT r.item_id, a.score, r.answer, r.correct, COUNT(*) FROM module_results m "
            f"JOIN attempts a ON a.id = m.{column} JOIN responses r ON r.attempt_id = a.id "
            "WHERE m.module_id = ? AND r.correct IS NOT NULL GROUP BY r.item_id, a.score, r.answer, r.correct",
            (module.id,))
    else:
        rows = raw.rows("SELECT item_id, total, answer, correct, n FROM item_counts WHERE module_id = ? AND kind = ?",
                        (module.id, kind))
    counts = [ItemCount(item_id, int(total), _options(answer), bool(correct), int(n))
              for item_id, total, answer, correct, n in rows]
    items = module.pre_test if kind == "pre" else module.post_test
    return item_analysis_from_counts(counts, [i.id for i in items if i.graded],
                                     {i.id: tuple(o.id for o in i.options) for i in items})


def _options(answer: str) -> tuple[str, ...]:
    chosen = decode_answer(answer)
    return () if chosen is None else (chosen,) if isinstance(chosen, str) else tuple(sorted(chosen))
