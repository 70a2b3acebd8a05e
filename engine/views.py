"""What each page shows, read from the store as plain values. Pages call these and never run SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from engine.content.model import Course
from engine.learning import ModuleRecord, passed
from engine.store.base import utcnow
from engine.store.models import (
    Certificate,
    ClassroomSession,
    Cohort,
    Enrolment,
    ModuleResult,
    User,
)
from engine.trainer import SEE_ALL, cohort_scope


@dataclass(frozen=True)
class ModuleProgress:
    module_id: str
    sections_done: int
    sections_total: int
    pre_percent: float | None
    best_post_percent: float | None
    passed: bool
    minutes_left: int

    @property
    def state(self) -> str:
        if self.passed:
            return "passed"
        if self.sections_done:
            return "in_progress"
        if self.pre_percent is not None:
            return "pre_done"
        return "not_started"


def learner_progress(course: Course, records: dict[str, ModuleRecord]) -> list[ModuleProgress]:
    """The learner's own progress in every module, in course order, from their module records."""
    result = []
    for module in course.modules:
        record = records.get(module.id, ModuleRecord())
        n_done = sum(s.id in record.completed for s in module.sections)
        best = record.best_post.percent if record.best_post else None
        done = passed(module, record)
        left = 0 if done else sum(s.minutes for s in module.sections if s.id not in record.completed) \
            + module.exercise.minutes
        result.append(ModuleProgress(module.id, n_done, len(module.sections),
                                     record.pre.percent if record.pre else None, best, done, left))
    return result


@dataclass(frozen=True)
class CohortSummary:
    id: str
    name: str
    kind: str
    province_code: str | None
    parent_name: str | None
    trainer_name: str | None
    learners: int
    active_7d: int
    mean_pre: float | None
    """Mean over learners and modules of the first pre-test (percent)."""
    mean_post: float | None
    """Mean over learners and modules of the best post-test (percent)."""



def cohort_summaries(session: Session, *, user: User, now: datetime | None = None, province: str | None = None,
                     kind: str | None = None) -> list[CohortSummary]:
    now = now or utcnow()
    ids = cohort_scope(user=user, province=province, kind=kind)
    parent = aliased(Cohort)
    trainer = aliased(User)
    cohorts = session.execute(
        select(Cohort, parent.name, trainer.full_name_km)
        .outerjoin(parent, Cohort.parent_id == parent.id)
        .outerjoin(trainer, Cohort.trainer_id == trainer.id)
        .where(Cohort.id.in_(ids)).order_by(Cohort.kind.desc(), Cohort.name)
    ).all()
    learners = dict(session.execute(
        select(Enrolment.cohort_id, func.count()).where(Enrolment.cohort_id.in_(ids)).group_by(Enrolment.cohort_id)
    ).all())
    # From the module summaries (engine.summaries): one row per learner and module, not every attempt, so an
    # administrator's list of every cohort in the country stays a few grouped queries.
    active = dict(session.execute(
        select(Enrolment.cohort_id, func.count(func.distinct(ModuleResult.user_id)))
        .join(ModuleResult, ModuleResult.user_id == Enrolment.user_id)
        .where(Enrolment.cohort_id.in_(ids), ModuleResult.last_activity_at >= now - timedelta(days=7))
        .group_by(Enrolment.cohort_id)
    ).all())
    means: dict[tuple[str, str], float] = {}
    for cohort_id, mean_pre, mean_post in session.execute(
        select(Enrolment.cohort_id, func.avg(ModuleResult.pre_percent), func.avg(ModuleResult.best_post_percent))
        .join(ModuleResult, ModuleResult.user_id == Enrolment.user_id)
        .where(Enrolment.cohort_id.in_(ids)).group_by(Enrolment.cohort_id)
    ):
        for kind, mean in (("pre", mean_pre), ("post", mean_post)):
            if mean is not None:
                means[(cohort_id, kind)] = float(mean)
    return [
        CohortSummary(c.id, c.name, c.kind, c.province_code, parent_name, trainer_name, learners.get(c.id, 0),
                      active.get(c.id, 0), means.get((c.id, "pre")), means.get((c.id, "post")))
        for c, parent_name, trainer_name in cohorts
    ]


@dataclass(frozen=True)
class SessionRow:
    module_id: str
    cohort_name: str
    venue: str
    held_on: date
    state: str
    join_code: str


def facilitator_sessions(session: Session, *, user: User) -> list[SessionRow]:
    query = select(ClassroomSession, Cohort.name).join(Cohort, Cohort.id == ClassroomSession.cohort_id)
    if user.role not in SEE_ALL:
        query = query.where(ClassroomSession.facilitator_id == user.id)
    rows = session.execute(query.order_by(ClassroomSession.held_on.desc())).all()
    return [SessionRow(s.module_id, name, s.venue, s.held_on, s.state, s.join_code) for s, name in rows]


def users_by_role(session: Session) -> dict[str, int]:
    return dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())


def user_list(session: Session, *, limit: int = 500) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.username).limit(limit)))


def verify_certificate(session: Session, code: str) -> tuple[str, str, datetime] | None:
    """(name in Khmer, name in Latin letters, date) of the certificate with `code`, and nothing more."""
    row = session.execute(
        select(User.full_name_km, User.full_name_latin, Certificate.issued_at)
        .join(Certificate, Certificate.user_id == User.id).where(Certificate.code == code.strip().upper())
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def my_learners(session: Session, *, user: User) -> list[tuple[str, str, str, str]]:
    """(user id, Khmer name, username, cohort name) of the learners in the cohorts `user` may see."""
    rows = session.execute(
        select(User.id, User.full_name_km, User.username, Cohort.name)
        .join(Enrolment, Enrolment.user_id == User.id).join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.id.in_(cohort_scope(user=user)), User.role == "learner")
        .order_by(Cohort.name, User.full_name_km)
    ).all()
    return [tuple(r) for r in rows]
