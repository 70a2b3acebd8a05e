"""The learner's path in the engine, on SQLite and PostgreSQL: order, retries, pass mark, attempts,
resume point, idempotent submit, certificate."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import accounts, certificates, learning
from engine.content import load
from engine.errors import FieldError, InputError
from engine.store.db import transaction
from engine.store.models import Attempt, Cohort, Enrolment, Response, User

pytestmark = pytest.mark.learner
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample"
COURSE = load(SAMPLE)["en"]
MODULE = COURSE.modules[0]
RIGHT = {"t01": "c", "t02": "true", "t03": ["a", "b"]}
WRONG = {"t01": "a", "t02": "false", "t03": ["c"]}


def record(store, user_id):
    with store.sessions() as s:
        return learning.load_record(s, user_id=user_id, module_id=MODULE.id)


def submit(store, user_id, kind, answers, key):
    with transaction(store.sessions) as s:
        return learning.submit_test(s, course=COURSE, module=MODULE, user_id=user_id, kind=kind,
                                    answers=answers, key=key)


def check(store, user_id, section, item, answer, key):
    with transaction(store.sessions) as s:
        return learning.submit_check(s, course=COURSE, module=MODULE, user_id=user_id, section_id=section,
                                     item_id=item, answer=answer, key=key)


def count_attempts(store, user_id, kind):
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(Attempt).where(Attempt.user_id == user_id,
                                                                          Attempt.kind == kind))


def walk_to_post_test(store, user_id):
    submit(store, user_id, "pre", WRONG, "pre-1")
    check(store, user_id, "why-engage", "why-engage-1", "b", "c1")
    check(store, user_id, "why-engage", "why-engage-2", "false", "c2")
    check(store, user_id, "stakeholder-map", "stakeholder-map-1", ["a", "c"], "c3")
    check(store, user_id, "stakeholder-map", "stakeholder-map-2", "a", "c4")
    with transaction(store.sessions) as s:
        learning.save_exercise(s, module=MODULE, user_id=user_id, item_id="dialogue-plan", text="ស្តាប់ពលរដ្ឋ")


def test_the_whole_path_in_order(store, learner):
    assert learning.next_step(MODULE, record(store, learner), 2).kind == "pre"
    assert not learning.section_open(MODULE, record(store, learner), "why-engage")
    first = submit(store, learner, "pre", WRONG, "pre-1")
    assert (first.score.points, first.duplicate) == (0.0, False)
    step = learning.next_step(MODULE, record(store, learner), 2)
    assert (step.kind, step.section_id) == ("section", "why-engage")
    assert not learning.section_open(MODULE, record(store, learner), "stakeholder-map")
    # A wrong check answer gives feedback and leaves the section open; retries are unlimited.
    assert check(store, learner, "why-engage", "why-engage-1", "a", "k1").correct is False
    assert check(store, learner, "why-engage", "why-engage-1", "c", "k2").correct is False
    assert check(store, learner, "why-engage", "why-engage-1", "b", "k3").correct is True
    assert learning.next_step(MODULE, record(store, learner), 2).section_id == "why-engage"
    check(store, learner, "why-engage", "why-engage-2", "false", "k4")
    assert learning.next_step(MODULE, record(store, learner), 2).section_id == "stakeholder-map"
    check(store, learner, "stakeholder-map", "stakeholder-map-1", ["a", "c"], "k5")
    check(store, learner, "stakeholder-map", "stakeholder-map-2", "a", "k6")
    assert learning.next_step(MODULE, record(store, learner), 2).kind == "exercise"
    with transaction(store.sessions) as s:
        learning.save_exercise(s, module=MODULE, user_id=learner, item_id="dialogue-plan", text="draft")
        learning.save_exercise(s, module=MODULE, user_id=learner, item_id="dialogue-plan", text="final plan")
    assert record(store, learner).exercise == {"dialogue-plan": "final plan"}
    assert learning.next_step(MODULE, record(store, learner), 2).kind == "post"
    # Below the pass mark (2 of 3 = 66.7% < 70%), then passing; the best score counts.
    assert submit(store, learner, "post", {**RIGHT, "t03": ["a"]}, "post-1").score.percent == pytest.approx(66.67, 0.01)
    assert learning.next_step(MODULE, record(store, learner), 2).kind == "post"
    assert submit(store, learner, "post", RIGHT, "post-2").score.percent == 100.0
    done = record(store, learner)
    assert learning.next_step(MODULE, done, 2).kind == "done" and learning.passed(MODULE, done)
    assert done.best_post.percent == 100.0 and done.pre.percent == 0.0


def test_pre_test_is_taken_once(store, learner):
    submit(store, learner, "pre", WRONG, "pre-1")
    with pytest.raises(InputError, match="the pre-test is taken once"):
        submit(store, learner, "pre", RIGHT, "pre-2")


def test_post_test_waits_for_the_sections_and_counts_attempts(store, learner):
    submit(store, learner, "pre", WRONG, "pre-1")
    with pytest.raises(InputError, match="the post-test is not open now"):
        submit(store, learner, "post", RIGHT, "post-early")
    walk_to_post_test(store, learner)
    submit(store, learner, "post", WRONG, "post-1")
    submit(store, learner, "post", WRONG, "post-2")
    assert learning.next_step(MODULE, record(store, learner), 2).kind == "no_attempts_left"
    with pytest.raises(InputError):
        submit(store, learner, "post", RIGHT, "post-3")
    assert count_attempts(store, learner, "post") == 2


def test_same_submission_twice_is_kept_once(store, learner):
    first = submit(store, learner, "pre", RIGHT, "same-key")
    again = submit(store, learner, "pre", RIGHT, "same-key")
    assert again.duplicate and again.attempt_id == first.attempt_id and again.score == first.score
    assert count_attempts(store, learner, "pre") == 1
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Response)) == 3


def test_a_bad_answer_writes_nothing(store, learner):
    with pytest.raises(InputError, match="item t01: 'z' is not one of its options"):
        submit(store, learner, "pre", {**RIGHT, "t01": "z"}, "bad")
    assert count_attempts(store, learner, "pre") == 0


def test_checks_wait_for_their_section(store, learner):
    submit(store, learner, "pre", WRONG, "pre-1")
    with pytest.raises(InputError, match="section 'stakeholder-map' is not open yet"):
        check(store, learner, "stakeholder-map", "stakeholder-map-2", "a", "k")


def test_resume_point_and_certificate(store, learner):
    with store.sessions() as s:
        records = {MODULE.id: learning.load_record(s, user_id=learner, module_id=MODULE.id)}
    assert learning.resume_point(COURSE, records) == (MODULE.id, learning.Step("pre"))
    walk_to_post_test(store, learner)
    with store.sessions() as s:
        records = {MODULE.id: learning.load_record(s, user_id=learner, module_id=MODULE.id)}
    assert learning.resume_point(COURSE, records) == (MODULE.id, learning.Step("post"))
    with transaction(store.sessions) as s:
        assert certificates.issue(s, user_id=learner, course=COURSE, records=records) is None
    submit(store, learner, "post", RIGHT, "post-1")
    with store.sessions() as s:
        records = {MODULE.id: learning.load_record(s, user_id=learner, module_id=MODULE.id)}
    assert learning.resume_point(COURSE, records) is None
    with transaction(store.sessions) as s:
        cert = certificates.issue(s, user_id=learner, course=COURSE, records=records)
    with transaction(store.sessions) as s:
        again = certificates.issue(s, user_id=learner, course=COURSE, records=records)
    assert cert.code == again.code and cert.code.startswith("SALA-")
    assert set(cert.code[5:].replace("-", "")) <= set(certificates.ALPHABET)


def profile(**changes):
    base = dict(full_name_km="ចាន់ ធីតា", full_name_latin="Chan Thida", sex="female", province_code="16",
                org_type="commune", institution="ក្រុមប្រឹក្សាឃុំ", position="ស្មៀនឃុំ")
    return accounts.Profile(**{**base, **changes})


@pytest.fixture
def cohort(store):
    with transaction(store.sessions) as s:
        c = Cohort(name="Ratanakiri 2026", kind="provincial", province_code="16", enrol_code="RAT-16")
        s.add(c)
        s.flush()
        return c.id


@pytest.mark.parametrize("changes,field,code", [
    ({"enrol_code": "NOPE"}, "enrol_code", "code_unknown"),
    ({"username": "A"}, "username", "username_format"),
    ({"phone": "12345"}, "phone", "phone_format"),
    ({"password": "short"}, "password", "password_short"),
    ({"profile": profile(full_name_km=" ")}, "full_name_km", "required"),
    ({"profile": profile(sex="unknown")}, "sex", "choice"),
    ({"profile": profile(province_code="99")}, "province_code", "choice"),
])
def test_registration_names_the_field_and_writes_nothing(store, cohort, changes, field, code):
    args = dict(enrol_code="rat-16", username="thida", phone="012345678", password="long enough", profile=profile())
    args.update(changes)
    with pytest.raises(FieldError) as err, transaction(store.sessions) as s:
        accounts.register(s, **args)
    assert (err.value.field, err.value.code) == (field, code)
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0


def test_registration_enrols_and_then_signs_in_by_phone(store, cohort):
    with transaction(store.sessions) as s:
        accounts.register(s, enrol_code="rat-16", username="thida", phone="012 345 678", password="long enough",
                          profile=profile())
    with transaction(store.sessions) as s:
        user = accounts.authenticate(s, login="012345678", password="long enough")
        assert user is not None and user.username == "thida"
        assert s.scalar(select(Enrolment.cohort_id).where(Enrolment.user_id == user.id)) == cohort
    with pytest.raises(FieldError, match="already taken"), transaction(store.sessions) as s:
        accounts.register(s, enrol_code="RAT-16", username="thida", phone=None, password="long enough",
                          profile=profile())


def test_trainer_resets_only_their_own_learners_password(store, cohort):
    with transaction(store.sessions) as s:
        learner = accounts.register(s, enrol_code="RAT-16", username="thida", phone=None, password="old password",
                                    profile=profile())
        token = accounts.open_session(s, user=learner, days=1)
        mine = User(username="trainer1", password_hash="x", full_name_km="គ្រូ", role="trainer")
        other = User(username="trainer2", password_hash="x", full_name_km="គ្រូ", role="trainer")
        s.add_all([mine, other])
        s.flush()
        s.get(Cohort, cohort).trainer_id = mine.id
        ids = learner.id, mine.id, other.id
    from engine.errors import NotAllowed

    with pytest.raises(NotAllowed), transaction(store.sessions) as s:
        accounts.reset_password(s, by=s.get(User, ids[2]), learner_id=ids[0], new_password="new password")
    with transaction(store.sessions) as s:
        accounts.reset_password(s, by=s.get(User, ids[1]), learner_id=ids[0], new_password="new password")
    with transaction(store.sessions) as s:
        assert accounts.user_for_token(s, token) is None  # every sign-in ended
        assert accounts.authenticate(s, login="thida", password="new password") is not None
        assert accounts.authenticate(s, login="thida", password="old password") is None


def test_a_module_passed_on_paper_is_done_without_the_online_steps(store, learner):
    with transaction(store.sessions) as s:
        s.add(Attempt(user_id=learner, module_id=MODULE.id, kind="post", source="paper", language="km",
                      content_version=COURSE.version, idempotency_key="paper-1", score=3.0, max_score=3.0))
    assert learning.next_step(MODULE, record(store, learner), 2).kind == "done"
