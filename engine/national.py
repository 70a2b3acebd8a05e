"""The country at once, for coordinators and administrators: completion and pre/post by sex and by
province, and the item analysis of a module's tests over every learner's first attempt.

Every figure comes from a GROUP BY in the database (over engine.summaries' module_results, one row per
learner and module, and over the responses of first attempts), never from rows fetched one by one:
a hundred thousand learners cost a few aggregate queries. The pure halves live in engine.analytics
(summary_from_sums, disaggregate_sums) and engine.analytics_items (item_analysis_from_counts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from engine.analytics import GroupSummary, PrePostSums, disaggregate_sums
from engine.analytics_items import ItemAnalysis, ItemCount, item_analysis_from_counts
from engine.content.model import Course, Module
from engine.errors import InputError, NotAllowed
from engine.quiz import decode_answer
from engine.store.models import Attempt, ModuleResult, Response, User
from engine.store.models import ItemCount as Counted
from engine.summaries import passed_case
from engine.trainer import SEE_ALL

DIMENSIONS = ("sex", "province_code")
_EPS = 1e-9


def _check(user: User) -> None:
    if user.role not in SEE_ALL:
        raise NotAllowed("only coordinators and administrators see the national figures")


@dataclass(frozen=True)
class GroupCompletion:
    group: str | None
    learners: int
    completed: int
    """Learners who passed every module of the course."""


@dataclass(frozen=True)
class NationalOverview:
    learners: int
    completion: dict[str, tuple[GroupCompletion, ...]]
    """By dimension (sex, province_code): each group's learners and course completions."""
    modules: dict[str, dict[str, tuple[GroupSummary, ...]]]
    """By module, then dimension: the pre/post figures of each group, suppressed as on the cohort page."""
    passed: dict[str, int]
    """By module: learners who passed it."""


def overview(session: Session, *, user: User, course: Course) -> NationalOverview:
    """Completion and pre/post by sex and by province, every learner of the country."""
    _check(user)
    learner = User.role == "learner"
    paired = and_(ModuleResult.pre_percent.is_not(None), ModuleResult.best_post_percent.is_not(None))
    gain = ModuleResult.best_post_percent - ModuleResult.pre_percent

    def when_paired(value, otherwise=0.0):
        return func.coalesce(func.sum(case((paired, value), else_=otherwise)), 0)

    has_room = and_(paired, ModuleResult.pre_percent < 100.0 - _EPS)
    cells = session.execute(
        select(ModuleResult.module_id, User.sex, User.province_code, func.count(),
               func.count(ModuleResult.pre_percent), func.count(ModuleResult.best_post_percent),
               when_paired(1, 0), when_paired(ModuleResult.pre_percent), when_paired(ModuleResult.best_post_percent),
               when_paired(gain), when_paired(gain * gain),
               func.coalesce(func.sum(case((has_room, gain / (100.0 - ModuleResult.pre_percent)), else_=0.0)), 0),
               func.coalesce(func.sum(case((has_room, 1), else_=0)), 0),
               func.coalesce(func.sum(passed_case(course)), 0))
        .join(User, User.id == ModuleResult.user_id).where(learner)
        .group_by(ModuleResult.module_id, User.sex, User.province_code)
    ).all()
    sums: dict[str, dict[str, dict[str | None, PrePostSums]]] = {
        m.id: {d: defaultdict(PrePostSums) for d in DIMENSIONS} for m in course.modules}
    passed: dict[str, int] = defaultdict(int)
    for module_id, sex, province, *figures in cells:
        if module_id not in sums:
            continue  # a module no longer in the course
        s = PrePostSums(*(int(v) if i not in (4, 5, 6, 7, 8) else float(v) for i, v in enumerate(figures)))
        passed[module_id] += s.n_passed
        for dimension, group in (("sex", sex), ("province_code", province)):
            sums[module_id][dimension][group or None] += s
    people = session.execute(select(User.sex, User.province_code, func.count()).where(learner)
                             .group_by(User.sex, User.province_code)).all()
    done_all = (select(ModuleResult.user_id).where(ModuleResult.module_id.in_([m.id for m in course.modules]),
                                                   passed_case(course) == 1)
                .group_by(ModuleResult.user_id).having(func.count() == len(course.modules)).subquery())
    completed = session.execute(select(User.sex, User.province_code, func.count()).join(done_all, done_all.c.user_id
                                == User.id).where(learner).group_by(User.sex, User.province_code)).all()
    completion = {}
    for index, dimension in enumerate(DIMENSIONS):
        learners, done = defaultdict(int), defaultdict(int)
        for row in people:
            learners[row[index] or None] += row[2]
        for row in completed:
            done[row[index] or None] += row[2]
        completion[dimension] = tuple(GroupCompletion(g, learners[g], done[g])
                                      for g in sorted(learners, key=lambda g: (g is None, str(g))))
    return NationalOverview(
        learners=sum(r[2] for r in people), completion=completion,
        modules={m: {d: disaggregate_sums(dict(groups)) for d, groups in by_dimension.items()}
                 for m, by_dimension in sums.items()},
        passed={m.id: passed[m.id] for m in course.modules})


def item_counts(session: Session, *, module: Module, kind: str) -> tuple[list[ItemCount], int]:
    """Counts of (item, total score, answer, right) over everyone's first `kind` test of `module`, and
    how many of those attempts lack some of the test's items (left out).

    Read from the item_counts summary (engine.summaries keeps it on write): a few hundred rows, however
    large the country. The counts presume each first attempt answered exactly this test's items; when any
    did not (one taken on an earlier version of the test), they disagree with the number of attempts, and
    the exact query, which totals the responses themselves and leaves such attempts out, runs instead."""
    if kind not in ("pre", "post"):
        raise InputError(f"kind: expected pre or post, got {kind!r}")
    items = [i.id for i in (module.pre_test if kind == "pre" else module.post_test) if i.graded]
    first = ModuleResult.pre_attempt_id if kind == "pre" else ModuleResult.post_attempt_id
    rows = session.execute(select(Counted.item_id, Counted.total, Counted.answer, Counted.correct, Counted.n)
                           .where(Counted.module_id == module.id, Counted.kind == kind)).all()
    per_item: dict[str, int] = defaultdict(int)
    for item_id, _, _, _, count in rows:
        per_item[item_id] += count
    attempts = session.scalar(select(func.count()).select_from(ModuleResult)
                              .where(ModuleResult.module_id == module.id, first.is_not(None)))
    if set(per_item.values()) - {attempts} or (attempts and set(per_item) != set(items)):
        firsts = (select(Attempt.id).select_from(ModuleResult).join(Attempt, Attempt.id == first)
                  .where(ModuleResult.module_id == module.id).subquery())
        graded = and_(Response.item_id.in_(items), Response.correct.is_not(None))
        return _exact_item_counts(session, firsts, items, graded)
    return [_count(*row) for row in rows], 0


def _count(item_id: str, total, answer: str, correct, count) -> ItemCount:
    chosen = decode_answer(answer)
    options = () if chosen is None else (chosen,) if isinstance(chosen, str) else tuple(sorted(chosen))
    return ItemCount(item_id, int(total), options, bool(correct), int(count))


def _exact_item_counts(session: Session, attempts, items: list[str], graded) -> tuple[list[ItemCount], int]:
    totals = (select(Response.attempt_id, func.sum(case((Response.correct, 1), else_=0)).label("total"),
                     func.count().label("answered"))
              .join(attempts, attempts.c.id == Response.attempt_id).where(graded)
              .group_by(Response.attempt_id).subquery())
    rows = session.execute(
        select(Response.item_id, totals.c.total, Response.answer, Response.correct, func.count())
        .join(totals, totals.c.attempt_id == Response.attempt_id).where(graded, totals.c.answered == len(items))
        .group_by(Response.item_id, totals.c.total, Response.answer, Response.correct)).all()
    excluded = session.scalar(select(func.count()).select_from(totals).where(totals.c.answered < len(items)))
    return [_count(*row) for row in rows], int(excluded or 0)


def item_analysis(session: Session, *, user: User, module: Module, kind: str) -> ItemAnalysis:
    """Moodle-style item analysis of the module's `kind` test over everyone's first attempt (learners, and
    trainers who took the course in their ToT cohort)."""
    _check(user)
    counts, excluded = item_counts(session, module=module, kind=kind)
    items = module.pre_test if kind == "pre" else module.post_test
    return item_analysis_from_counts(counts, [i.id for i in items if i.graded],
                                     {i.id: tuple(o.id for o in i.options) for i in items}, excluded)
