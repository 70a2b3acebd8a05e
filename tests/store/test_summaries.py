"""The module summaries follow the record, and the figures read from them (national overview, item
analysis of the country, the cohort dashboard) equal the same figures computed row by row from the
record. On SQLite and PostgreSQL, on the demo population of the sample course."""

from __future__ import annotations

import math
import uuid

import pytest
from sqlalchemy import delete, select

from engine import learning, national, summaries, trainer
from engine.analytics import disaggregate, prepost_summary
from engine.analytics_items import item_analysis
from engine.content import load
from engine.demo import build_demo
from engine.errors import NotAllowed
from engine.settings import load_settings
from engine.store.db import transaction
from engine.store.models import Cohort, ItemCount, ModuleResult, User
from tests.app.conftest import SAMPLE

pytestmark = pytest.mark.store

COURSE = load(SAMPLE)["en"]


@pytest.fixture
def demo(store):
    build_demo(load_settings({"SALA_DATABASE_URL": store.url, "SALA_CONTENT_ROOT": str(SAMPLE)}))
    return store


def everyone(session) -> list[str]:
    return list(session.scalars(select(User.id).where(User.role == "learner").order_by(User.id)))


def pairs(session) -> list[tuple[str, str]]:
    return [(u, m.id) for u in session.scalars(select(User.id)) for m in COURSE.modules]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, tuple):
        return all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(close(a[k], b[k]) for k in a)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) if isinstance(a, float) else a == b


def same(x, y) -> None:
    for field in x.__dataclass_fields__:
        assert close(getattr(x, field), getattr(y, field)), field


def test_the_demo_summaries_equal_the_record(demo):
    with transaction(demo.sessions) as session:
        assert session.scalar(select(ModuleResult.user_id).limit(1)) is not None
        assert summaries.stale(session, pairs(session)) == []
        assert session.scalar(select(ItemCount.n).limit(1)) is not None
        assert summaries.stale_item_counts(session) == []


def test_a_summary_that_drifted_is_seen_and_rebuilt(demo):
    with transaction(demo.sessions) as session:
        row = session.scalars(select(ModuleResult).where(ModuleResult.posts > 0)).first()
        row.best_post_percent = 1.0
        session.flush()
        assert summaries.stale(session, pairs(session)) == [(row.user_id, row.module_id)]
        session.execute(delete(ItemCount))
        assert summaries.stale_item_counts(session)
        session.execute(delete(ModuleResult))
        assert summaries.stale(session, pairs(session))
        summaries.refresh(session)
        assert summaries.stale(session, pairs(session)) == []
        assert summaries.stale_item_counts(session) == []


def test_every_write_of_the_record_keeps_its_summary(demo):
    module = COURSE.modules[0]
    with transaction(demo.sessions) as session:  # a learner who has not started: their summary row is new
        started = select(ModuleResult.user_id).where(ModuleResult.module_id == module.id)
        uid = session.scalar(select(User.id).where(User.role == "learner", User.id.not_in(started)).limit(1))
    with transaction(demo.sessions) as session:
        record = learning.load_record(session, user_id=uid, module_id=module.id)
        if record.pre is None:
            learning.submit_test(session, course=COURSE, module=module, user_id=uid, kind="pre",
                                 answers={}, key=str(uuid.uuid4()))
        section = module.sections[0]
        learning.open_section(session, user_id=uid, module_id=module.id, section_id=section.id)
        for item in section.checks:
            learning.submit_check(session, course=COURSE, module=module, user_id=uid, section_id=section.id,
                                  item_id=item.id, answer=sorted(item.key) if item.type == "multiple"
                                  else next(iter(item.key)), key=str(uuid.uuid4()))
    with transaction(demo.sessions) as session:
        assert summaries.stale(session, [(uid, m.id) for m in COURSE.modules]) == []
        row = session.get(ModuleResult, (uid, module.id))
        assert row.pre_attempt_id is not None and row.sections_done >= 1 and row.last_activity_at is not None
    # Further writes to a summary that exists (a pass through the post-test included) stay equal too.
    with transaction(demo.sessions) as session:
        for section in module.sections[1:]:
            learning.open_section(session, user_id=uid, module_id=module.id, section_id=section.id)
            for item in section.checks:
                wrong = next(o.id for o in item.options if o.id not in item.key)
                for answer in ([wrong] if item.type == "multiple" else wrong,
                               sorted(item.key) if item.type == "multiple" else next(iter(item.key))):
                    learning.submit_check(session, course=COURSE, module=module, user_id=uid,
                                          section_id=section.id, item_id=item.id, answer=answer, key=str(uuid.uuid4()))
        for item in module.exercise.items:
            learning.save_exercise(session, module=module, user_id=uid, item_id=item.id, text="ផែនការ")
        for _ in range(2):
            learning.submit_test(session, course=COURSE, module=module, user_id=uid, kind="post", answers={},
                                 key=str(uuid.uuid4()))
    with transaction(demo.sessions) as session:
        assert summaries.stale(session, [(uid, m.id) for m in COURSE.modules]) == []
        row = session.get(ModuleResult, (uid, module.id))
        assert row.posts == 2 and row.sections_done == len(module.sections) and row.best_post_percent == 0.0
        assert summaries.stale_item_counts(session) == []


def test_the_national_overview_equals_the_figures_row_by_row(demo):
    with transaction(demo.sessions) as session:
        admin = session.scalar(select(User).where(User.username == "demo.admin"))
        got = national.overview(session, user=admin, course=COURSE)
        ids = everyone(session)
        rows = trainer.learners(session, session.scalars(select(Cohort.id)).all())
        people = {r.id: r for r in rows}
        by_module = trainer.scores(session, ids, COURSE)
        progress = trainer.progress(session, ids, COURSE)
    assert got.learners == len(ids)
    for module in COURSE.modules:
        assert got.passed[module.id] == sum(p.passed_post_test for p in progress if p.module_id == module.id)
        for dimension in national.DIMENSIONS:
            expected = disaggregate(by_module[module.id], trainer.people(people.values()), dimension,
                                    module.pass_mark)
            shown = got.modules[module.id][dimension]
            assert [(g.group, g.suppressed, g.n) for g in shown] == [(g.group, g.suppressed, g.n) for g in expected]
            for a, b in zip(shown, expected, strict=True):
                if a.summary is not None:
                    same(a.summary, b.summary)
    passed_all = {uid for uid in ids if all(p.passed_post_test for p in progress if p.learner_id == uid)}
    by_sex = {g.group: g for g in got.completion["sex"]}
    for sex, group in by_sex.items():
        assert group.learners == sum(1 for uid in ids if people[uid].sex == sex)
        assert group.completed == sum(1 for uid in passed_all if people[uid].sex == sex)


@pytest.mark.parametrize("kind", ["pre", "post"])
def test_the_national_item_analysis_equals_item_analysis_of_the_first_attempts(demo, kind):
    module = COURSE.modules[0]
    items = module.pre_test if kind == "pre" else module.post_test
    with transaction(demo.sessions) as session:
        admin = session.scalar(select(User).where(User.username == "demo.admin"))
        got = national.item_analysis(session, user=admin, module=module, kind=kind)
        everybody = list(session.scalars(select(User.id).order_by(User.id)))  # trainers took the course too
        rows = trainer.first_responses(session, everybody, module.id, kind)
    expected = item_analysis(rows, [i.id for i in items], {i.id: tuple(o.id for o in i.options) for i in items})
    assert got.overall.n > 20
    same(got.overall, expected.overall)
    for a, b in zip(got.items, expected.items, strict=True):
        same(a, b)


def test_only_coordinators_and_administrators_see_the_country(demo):
    with transaction(demo.sessions) as session:
        for username in ("demo.trainer", "demo.facilitator", "demo.learner"):
            user = session.scalar(select(User).where(User.username == username))
            with pytest.raises(NotAllowed):
                national.overview(session, user=user, course=COURSE)
            with pytest.raises(NotAllowed):
                national.item_analysis(session, user=user, module=COURSE.modules[0], kind="post")


def test_the_dashboard_equals_the_figures_one_by_one(demo):
    with transaction(demo.sessions) as session:
        me = session.scalar(select(User).where(User.username == "demo.trainer"))
        cohort = trainer.visible_cohorts(session, user=me)[0]
        board = trainer.dashboard(session, user=me, course=COURSE, cohort_ids=[cohort.id])
        ids = [r.id for r in board.learners]
        assert board.scores == trainer.scores(session, ids, COURSE)
        assert board.progress == trainer.progress(session, ids, COURSE)
        assert board.post_responses == trainer.first_responses(session, ids, COURSE.modules[0].id, "post")
        module = COURSE.modules[0]
        assert board.summaries[module.id] == prepost_summary(board.scores[module.id], module.pass_mark)
        other = session.scalar(select(User).where(User.username == "demo.facilitator"))
        theirs = trainer.visible_cohorts(session, user=other)[0]
        with pytest.raises(NotAllowed):
            trainer.dashboard(session, user=me, course=COURSE, cohort_ids=[theirs.id])


def test_the_cascade_from_summaries_equals_each_cohort_row_by_row(demo):
    with transaction(demo.sessions) as session:
        admin = session.scalar(select(User).where(User.username == "demo.admin"))
        cohorts = trainer.visible_cohorts(session, user=admin)
        nodes = trainer.cascade(session, cohorts, COURSE)
        assert len(nodes) == len(cohorts) >= 3
        for cohort, node in zip(cohorts, nodes, strict=True):
            ids = [r.id for r in trainer.learners(session, [cohort.id])]
            by_module = trainer.scores(session, ids, COURSE)
            gains = [s.post - s.pre for m in by_module.values() for s in m if s.pre is not None and s.post is not None]
            passed = {uid: 0 for uid in ids}
            for p in trainer.progress(session, ids, COURSE):
                passed[p.learner_id] += p.passed_post_test
            assert node.learners == len(ids)
            assert node.completed_all == sum(1 for n in passed.values() if n == len(COURSE.modules))
            assert close(node.mean_gain, sum(gains) / len(gains) if gains else None)
