"""What a trainer's pages read: one cohort's (or a few cohorts') learners, scores, progress and item
responses, as the plain rows engine.analytics takes. Every query is bounded by the cohorts asked for, so a
cohort page never scans the country. Access is checked here, not only in the menu."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from engine.analytics import (
    Funnel,
    GroupSummary,
    LearnerScore,
    ModuleCompletion,
    ModuleProgress,
    Person,
    PrePostSummary,
    completion_by_week,
    disaggregate,
    funnel,
    overall_scores,
    prepost_summary,
)
from engine.analytics_items import ItemAnalysis, ItemPrePost, ItemResponse, item_analysis, item_facility_pre_post
from engine.content.model import Course
from engine.errors import NotAllowed
from engine.quiz import decode_answer
from engine.store.base import UTCDateTime, utcnow
from engine.store.models import Attempt, Cohort, Enrolment, ModuleResult, Response, SectionProgress, User
from engine.summaries import passed_case

SEE_ALL = ("coordinator", "admin")
INACTIVE_DAYS = 14
STUCK_DAYS = 7


def _read(session: Session, statement, params: dict | None = None):
    """Run a read of plain columns on the session's connection: past the ORM's result machinery, which
    costs more than the query itself for the few hundred rows of a cohort (anything pending is flushed
    first, as session.execute would)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement, params).all()  # at once: row by row costs a call per row


def cohort_scope(*, user: User, province: str | None = None, kind: str | None = None) -> Select:
    """The ids of the cohorts `user` may see, as a subquery (a trainer or facilitator: those they run;
    coordinator, admin: all), filtered by province and kind. Every cohort read starts here."""
    if user.role not in SEE_ALL + ("trainer", "facilitator"):
        raise NotAllowed("only trainers, facilitators, coordinators and administrators see cohorts")
    query = select(Cohort.id)
    if user.role not in SEE_ALL:
        query = query.where(Cohort.trainer_id == user.id)
    if province:
        query = query.where(Cohort.province_code == province)
    if kind:
        query = query.where(Cohort.kind == kind)
    return query


def visible_cohorts(session: Session, *, user: User, province: str | None = None,
                    kind: str | None = None) -> list[Cohort]:
    """The cohorts `user` may see, ToT cohorts first, then by name."""
    scope = cohort_scope(user=user, province=province, kind=kind)
    return list(session.scalars(select(Cohort).where(Cohort.id.in_(scope))
                                .order_by(Cohort.kind.desc(), Cohort.name)))


def check_cohorts(session: Session, *, user: User, cohort_ids: Sequence[str]) -> list[str]:
    """The requested cohort ids, if `user` may see every one of them; NotAllowed otherwise."""
    allowed = {c.id for c in visible_cohorts(session, user=user)}
    refused = [c for c in cohort_ids if c not in allowed]
    if refused:
        raise NotAllowed("this cohort is not one of yours")
    return list(cohort_ids)


@dataclass(frozen=True)
class LearnerRow:
    id: str
    name_km: str
    name_latin: str
    username: str
    sex: str
    province_code: str | None
    org_type: str
    institution: str
    position: str
    cohort_id: str
    last_activity: datetime | None


# The Cohort page's reads, built once with the cohorts as an expanding parameter: building a statement
# costs about as much as running it on a cohort of forty, and a built one is compiled once per process.
_COHORT_IDS = bindparam("cohort_ids", expanding=True)
_SCOPE = (select(Enrolment.user_id).join(User, User.id == Enrolment.user_id)
          .where(Enrolment.cohort_id.in_(_COHORT_IDS), User.role == "learner"))
_MEMBERS = (select(User.id, User.full_name_km, User.full_name_latin, User.username, User.sex, User.province_code,
                   User.org_type, User.institution, User.position, Enrolment.cohort_id)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.cohort_id.in_(_COHORT_IDS), User.role == "learner").order_by(User.full_name_km))
_LAST_ATTEMPT = (select(Attempt.user_id, func.max(Attempt.submitted_at)).where(Attempt.user_id.in_(_SCOPE))
                 .group_by(Attempt.user_id))
_LAST_OPENED = (select(SectionProgress.user_id, func.max(SectionProgress.first_opened_at))
                .where(SectionProgress.user_id.in_(_SCOPE)).group_by(SectionProgress.user_id))
_TESTS = (select(Attempt.id, Attempt.user_id, Attempt.module_id, Attempt.kind, Attempt.score, Attempt.max_score,
                 Attempt.submitted_at).where(Attempt.user_id.in_(_SCOPE), Attempt.kind.in_(("pre", "post")))
          .order_by(Attempt.submitted_at, Attempt.id))
_TOO_LONG = and_(SectionProgress.completed_at.is_(None),
                 SectionProgress.first_opened_at <= bindparam("stuck_before", type_=UTCDateTime()))
_SECTIONS = (select(SectionProgress.user_id, SectionProgress.module_id, func.count(SectionProgress.completed_at),
                    func.max(SectionProgress.first_opened_at), func.min(case((_TOO_LONG, SectionProgress.section_id))))
             .where(SectionProgress.user_id.in_(_SCOPE))
             .group_by(SectionProgress.user_id, SectionProgress.module_id)
             .order_by(SectionProgress.user_id, SectionProgress.module_id))


def learners(session: Session, cohort_ids: Sequence[str], *,
             opened: dict[str, datetime] | None = None) -> list[LearnerRow]:
    """The learners enrolled in the cohorts, by name, with when each last did anything (three queries; two
    when the caller has `opened`, each learner's latest section opening)."""
    params = {"cohort_ids": list(cohort_ids)}
    members = _read(session, _MEMBERS, params)
    last: dict[str, datetime] = dict(_read(session, _LAST_ATTEMPT, params))
    if opened is None:
        opened = dict(_read(session, _LAST_OPENED, params))
    for uid, when in opened.items():
        if when is not None and (uid not in last or when > last[uid]):
            last[uid] = when
    return [LearnerRow(*row, last.get(row[0])) for row in members]


def enrolled(session: Session, cohort_ids: Sequence[str]) -> int:
    """How many learners the cohorts hold together (one counted once)."""
    return session.scalar(select(func.count(func.distinct(Enrolment.user_id))).join(User, User.id == Enrolment.user_id)
                          .where(Enrolment.cohort_id.in_(cohort_ids), User.role == "learner")) or 0


def people(rows: Sequence[LearnerRow]) -> list[Person]:
    return [Person(r.id, r.sex, r.province_code, r.org_type, r.position, r.cohort_id) for r in rows]


def _tests(session: Session, learner_ids: Sequence[str] | Select, module_id: str | None = None):
    query = select(Attempt.id, Attempt.user_id, Attempt.module_id, Attempt.kind, Attempt.score, Attempt.max_score,
                   Attempt.submitted_at).where(Attempt.user_id.in_(learner_ids), Attempt.kind.in_(("pre", "post")))
    if module_id:
        query = query.where(Attempt.module_id == module_id)
    return _read(session, query.order_by(Attempt.submitted_at, Attempt.id))


def scores(session: Session, learner_ids: Sequence[str], course: Course, *,
           tests=None) -> dict[str, list[LearnerScore]]:
    """Per module: each learner's first pre-test and best post-test, in percent. `tests`: the rows of
    `_tests` for these learners, when the caller has them already."""
    pre: dict[tuple[str, str], float] = {}
    post: dict[tuple[str, str], float] = {}
    for _, uid, mid, kind, score, max_score, _ in _tests(session, learner_ids) if tests is None else tests:
        if not max_score:
            continue
        value = 100.0 * score / max_score
        if kind == "pre":
            pre.setdefault((uid, mid), value)
        else:
            post[(uid, mid)] = max(post.get((uid, mid), 0.0), value)
    result: dict[str, list[LearnerScore]] = {m.id: [] for m in course.modules}
    for uid, mid in sorted(set(pre) | set(post)):
        if mid in result:
            result[mid].append(LearnerScore(uid, mid, pre.get((uid, mid)), post.get((uid, mid))))
    return result


def progress(session: Session, learner_ids: Sequence[str], course: Course, *, tests=None,
             done: dict[tuple[str, str], int] | None = None) -> list[ModuleProgress]:
    """One row per learner and module: pre-test taken, all sections read, post-test passed (and when).
    `done`: sections completed by (learner, module), when the caller has them."""
    if done is None:
        done = {(uid, mid): n for uid, mid, n in _read(session,
            select(SectionProgress.user_id, SectionProgress.module_id, func.count())
            .where(SectionProgress.user_id.in_(learner_ids), SectionProgress.completed_at.is_not(None))
            .group_by(SectionProgress.user_id, SectionProgress.module_id))}
    done = defaultdict(int, {(uid, mid): n for (uid, mid), n in done.items()})
    took_pre, passed_on = set(), {}
    marks = {m.id: m.pass_mark for m in course.modules}
    for _, uid, mid, kind, score, max_score, when in _tests(session, learner_ids) if tests is None else tests:
        if kind == "pre":
            took_pre.add((uid, mid))
        elif max_score and mid in marks and 100.0 * score / max_score + 1e-9 >= marks[mid]:
            passed_on.setdefault((uid, mid), when)
    rows = []
    for uid in learner_ids:
        for m in course.modules:
            key = (uid, m.id)
            when = passed_on.get(key)
            rows.append(ModuleProgress(uid, m.id, key in took_pre, done[key] >= len(m.sections), when is not None,
                                       when.date() if when else None))
    return rows


def first_responses(session: Session, learner_ids: Sequence[str], module_id: str, kind: str, *,
                    tests=None) -> list[ItemResponse]:
    """The responses of each learner's first attempt of `kind` (pre or post) in the module."""
    tests = _tests(session, learner_ids, module_id) if tests is None else tests
    return _first_responses(session, tests, module_id, (kind,))[kind]


def _first_responses(session: Session, tests, module_id: str, kinds: tuple[str, ...]) -> dict[str, list[ItemResponse]]:
    """The first attempts' responses of each of `kinds` in the module, from `_tests` rows, in one query."""
    found = _responses_of_firsts(session, tests, {module_id}, kinds)
    return {k: found.get((module_id, k), []) for k in kinds}


def all_first_responses(session: Session, learner_ids: Sequence[str],
                        course: Course) -> dict[tuple[str, str], list[ItemResponse]]:
    """By (module, pre or post): the responses of each learner's first attempt, every module, two queries."""
    found = _responses_of_firsts(session, _tests(session, learner_ids), {m.id for m in course.modules},
                                 ("pre", "post"))
    return {(m.id, k): found.get((m.id, k), []) for m in course.modules for k in ("pre", "post")}


def _responses_of_firsts(session: Session, tests, modules: set[str],
                         kinds: tuple[str, ...]) -> dict[tuple[str, str], list[ItemResponse]]:
    first: dict[tuple[str, str, str], str] = {}
    for attempt_id, uid, mid, k, *_ in tests:
        if k in kinds and mid in modules:
            first.setdefault((uid, mid, k), attempt_id)
    result: dict[tuple[str, str], list[ItemResponse]] = defaultdict(list)
    owner = {a: key for key, a in first.items()}
    ids = list(owner)
    for start in range(0, len(ids), 5000):  # bounded IN lists, for a cohort of any size
        for attempt_id, item_id, answer, correct in _read(session,
                select(Response.attempt_id, Response.item_id, Response.answer, Response.correct)
                .where(Response.attempt_id.in_(ids[start:start + 5000]))):
            uid, mid, kind = owner[attempt_id]
            chosen = decode_answer(answer)
            options = () if chosen is None else (chosen,) if isinstance(chosen, str) else tuple(chosen)
            result[(mid, kind)].append(ItemResponse(uid, item_id, options, correct))
    return result


@dataclass(frozen=True)
class Flags:
    inactive: bool
    """No activity for 14 days or more (or never)."""
    stuck_section: str | None
    """A section opened 7 or more days ago and still not completed."""
    failed_post_twice: bool


def flags(session: Session, rows: Sequence[LearnerRow], course: Course, *,
          now: datetime | None = None, tests=None, stuck: dict[str, str] | None = None) -> dict[str, Flags]:
    """`stuck`: a section each stuck learner has open too long ("module/section"), when the caller has it."""
    now = now or utcnow()
    ids = [r.id for r in rows]
    if stuck is None:
        stuck = {}
        for uid, mid, sid in _read(session,
            select(SectionProgress.user_id, SectionProgress.module_id, SectionProgress.section_id)
            .where(SectionProgress.user_id.in_(ids), SectionProgress.completed_at.is_(None),
                   SectionProgress.first_opened_at <= now - timedelta(days=STUCK_DAYS))
        ):
            stuck.setdefault(uid, f"{mid}/{sid}")
    marks = {m.id: m.pass_mark for m in course.modules}
    fails = defaultdict(int)
    for _, uid, mid, kind, score, max_score, _ in _tests(session, ids) if tests is None else tests:
        if kind == "post" and max_score and mid in marks and 100.0 * score / max_score + 1e-9 < marks[mid]:
            fails[(uid, mid)] += 1
    twice = {uid for (uid, _), n in fails.items() if n >= 2}
    return {r.id: Flags(r.last_activity is None or r.last_activity <= now - timedelta(days=INACTIVE_DAYS),
                        stuck.get(r.id), r.id in twice) for r in rows}


@dataclass(frozen=True)
class CascadeNode:
    cohort_id: str
    name: str
    parent_id: str | None
    kind: str
    trainer_name: str | None
    learners: int
    completed_all: int
    """Learners who passed every module."""
    mean_gain: float | None
    """Mean paired gain (post − pre, percentage points) over all modules and learners."""


def cascade(session: Session, cohorts: Sequence[Cohort], course: Course) -> list[CascadeNode]:
    """One node per cohort, from the module summaries in three grouped queries, however many cohorts."""
    ids = [c.id for c in cohorts]
    learners_of = dict(_read(session,
        select(Enrolment.cohort_id, func.count()).join(User, User.id == Enrolment.user_id)
        .where(Enrolment.cohort_id.in_(ids), User.role == "learner").group_by(Enrolment.cohort_id)))
    paired = and_(ModuleResult.pre_percent.is_not(None), ModuleResult.best_post_percent.is_not(None))
    gains = {cohort_id: (float(total) / n if n else None) for cohort_id, total, n in _read(session,
        select(Enrolment.cohort_id,
               func.coalesce(func.sum(case((paired, ModuleResult.best_post_percent - ModuleResult.pre_percent),
                                           else_=0.0)), 0.0),
               func.coalesce(func.sum(case((paired, 1), else_=0)), 0))
        .join(ModuleResult, ModuleResult.user_id == Enrolment.user_id).join(User, User.id == Enrolment.user_id)
        .where(Enrolment.cohort_id.in_(ids), User.role == "learner").group_by(Enrolment.cohort_id))}
    passed_all = (select(Enrolment.cohort_id, ModuleResult.user_id)
                  .join(ModuleResult, ModuleResult.user_id == Enrolment.user_id)
                  .join(User, User.id == Enrolment.user_id)
                  .where(Enrolment.cohort_id.in_(ids), User.role == "learner",
                         ModuleResult.module_id.in_([m.id for m in course.modules]), passed_case(course) == 1)
                  .group_by(Enrolment.cohort_id, ModuleResult.user_id)
                  .having(func.count() == len(course.modules)).subquery())
    completed = dict(_read(session, select(passed_all.c.cohort_id, func.count())
                                     .group_by(passed_all.c.cohort_id)))
    trainers = dict(_read(session, select(User.id, User.full_name_km).where(
        User.id.in_({c.trainer_id for c in cohorts if c.trainer_id}))))
    return [CascadeNode(c.id, c.name, c.parent_id, c.kind, trainers.get(c.trainer_id), learners_of.get(c.id, 0),
                        completed.get(c.id, 0), gains.get(c.id)) for c in cohorts]


@dataclass(frozen=True)
class Dashboard:
    """Everything the Cohort page shows, for one cohort or several: its rows and every figure."""

    learners: list[LearnerRow]
    scores: dict[str, list[LearnerScore]]
    progress: list[ModuleProgress]
    flags: dict[str, Flags]
    summaries: dict[str, PrePostSummary]
    """By module id, and OVERALL for all modules together."""
    split: tuple[GroupSummary, ...]
    """The summary of `split_module` split by `split_by`, suppressed as engine.analytics does."""
    weekly: tuple[ModuleCompletion, ...]
    funnel: tuple[Funnel, ...]
    items_module: str
    pre_responses: list[ItemResponse]
    post_responses: list[ItemResponse]
    items: ItemAnalysis
    """Of the post-test of `items_module`."""
    facility: tuple[ItemPrePost, ...]


OVERALL = "__all__"


def _sections(session: Session, cohort_ids: Sequence[str], now: datetime):
    """From one grouped query over the learners' section progress: sections completed by (learner, module),
    each learner's latest opening, and a section each has had open for STUCK_DAYS or more."""
    done, opened, stuck = {}, {}, {}
    for uid, mid, completed, latest, stuck_section in _read(
            session, _SECTIONS, {"cohort_ids": list(cohort_ids), "stuck_before": now - timedelta(days=STUCK_DAYS)}):
        if completed:
            done[(uid, mid)] = completed
        if latest is not None and (uid not in opened or latest > opened[uid]):
            opened[uid] = latest
        if stuck_section is not None:
            stuck.setdefault(uid, f"{mid}/{stuck_section}")
    return done, opened, stuck


def dashboard(session: Session, *, user: User, course: Course, cohort_ids: Sequence[str],
              items_module: str | None = None, split_by: str = "sex", split_module: str = OVERALL,
              now: datetime | None = None) -> Dashboard:
    """The Cohort page's data: access checked, the learners' tests read once, every figure computed."""
    check_cohorts(session, user=user, cohort_ids=cohort_ids)
    now = now or utcnow()
    done_by, opened, stuck = _sections(session, cohort_ids, now)
    rows = learners(session, cohort_ids, opened=opened)
    ids = [r.id for r in rows]
    tests = _read(session, _TESTS, {"cohort_ids": list(cohort_ids)})
    by_module = scores(session, ids, course, tests=tests)
    done = progress(session, ids, course, tests=tests, done=done_by)
    module = course.module(items_module) if items_module else course.modules[0]
    first = _first_responses(session, tests, module.id, ("pre", "post"))
    pre, post = first["pre"], first["post"]
    overall = overall_scores(by_module)
    summaries = {m.id: prepost_summary(by_module[m.id], m.pass_mark) for m in course.modules}
    summaries[OVERALL] = prepost_summary(overall, course.pass_mark)
    split_rows = overall if split_module == OVERALL else by_module[split_module]
    mark = course.pass_mark if split_module == OVERALL else course.module(split_module).pass_mark
    test_items = [i.id for i in module.post_test]
    return Dashboard(
        learners=rows, scores=by_module, progress=done,
        flags=flags(session, rows, course, now=now, tests=tests, stuck=stuck),
        summaries=summaries, split=disaggregate(split_rows, people(rows), split_by, mark),
        weekly=completion_by_week(done), funnel=funnel(done), items_module=module.id,
        pre_responses=pre, post_responses=post,
        items=item_analysis(post, test_items, {i.id: tuple(o.id for o in i.options) for i in module.post_test}),
        facility=item_facility_pre_post(pre, post, test_items))
