"""Classroom mode through AppTest: one facilitator session and two participant sessions sharing one
database: open a session, participants join with the code, attendance, a live pre-test opened, answered
and closed, live counts, and the paper grid typed twice with a mismatch to resolve."""

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from engine import accounts
from engine.app.i18n import t
from engine.store.db import make_engine, session_factory, transaction
from engine.store.models import Attempt, ClassroomSession, Cohort, Enrolment, User
from tests.app.conftest import MAIN

pytestmark = pytest.mark.classroom
KEYS = {"t01": "c", "t02": "true", "t03": ["a", "b"]}


def button(at, label):
    return next(b for b in at.button if b.label == label)


def signed_in(factory, username, lang="en"):
    with transaction(factory) as s:
        user = s.scalar(select(User).where(User.username == username))
        token = accounts.open_session(s, user=user, days=1)
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.session_state["token"] = token
    at.session_state["lang"] = lang
    at.run()
    return at


def test_facilitator_and_two_participants(demo_env, monkeypatch):
    for key, value in demo_env.items():
        monkeypatch.setenv(key, value)
    factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
    with factory() as s:
        kampot = s.scalar(select(Cohort).where(Cohort.name == "Kampot 2026"))
        names = s.scalars(select(User.username).join(Enrolment, Enrolment.user_id == User.id)
                          .where(Enrolment.cohort_id == kampot.id).order_by(User.username).limit(2)).all()
    # The facilitator opens a session for their Kampot cohort.
    fac = signed_in(factory, "demo.facilitator")
    fac.switch_page("screens/classroom.py").run()
    fac.selectbox(key="new_cohort").set_value(kampot.id)
    fac.text_input(key="new_venue").input("សាលប្រជុំរដ្ឋបាលខេត្តកំពត")
    fac.button(key="FormSubmitter:open_session-" + t("en", "session.open")).click().run()
    assert not fac.exception, fac.exception
    with factory() as s:
        live = s.scalar(select(ClassroomSession).where(ClassroomSession.venue == "សាលប្រជុំរដ្ឋបាលខេត្តកំពត"))
    fac.session_state["live_session"] = live.id
    fac.switch_page("screens/session.py").run()
    assert live.join_code in " ".join(m.value for m in fac.markdown)
    # Two participants join on their phones with the code.
    phones = []
    for username in names:
        p = signed_in(factory, username)
        p.switch_page("screens/join.py").run()
        p.text_input(key="join_code_input").input(live.join_code.lower())
        p.button(key="FormSubmitter:join-" + t("en", "join.submit")).click().run()
        # Checked in, the phone follows the section on the facilitator's screen (the first one).
        assert not p.exception and "Why listen to citizens?" in [h.value for h in p.subheader]
        phones.append(p)
    fac.run()
    assert fac.metric[0].value.startswith("2 /")
    # The pre-test is opened for the room; both answer; the counts arrive; then it is closed.
    fac.radio(key="test_kind").set_value("pre")
    fac.button(key="open_test").click().run()
    for n, p in enumerate(phones):
        p.run()
        for item_id, value in KEYS.items():
            scope = f"live:{live.id}:pre:{item_id}"
            if isinstance(value, list):
                for option in "abc":
                    p.checkbox(key=f"{scope}:{option}").set_value(option in value)
            else:
                p.radio(key=scope).set_value(value if n == 0 else "a" if item_id == "t01" else value)
        button(p, t("en", "study.submit_test")).click().run()
        assert t("en", "join.sent") in [s.value for s in p.success], [e.value for e in p.error]
    fac.run()
    answered = next(m for m in fac.metric if m.label == t("en", "session.answered"))
    assert answered.value.startswith("2 /")
    with factory() as s:
        kept = s.scalar(select(func.count()).select_from(Attempt).where(Attempt.classroom_session_id == live.id))
    assert kept == 2
    fac.button(key="close_test").click().run()
    assert not fac.exception


def test_paper_grid_typed_twice_mismatch_then_recorded(demo_env, monkeypatch):
    for key, value in demo_env.items():
        monkeypatch.setenv(key, value)
    factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
    with factory() as s:
        kampong_cham = s.scalar(select(Cohort).where(Cohort.name == "Kampong Cham 2026"))
    fac = signed_in(factory, "demo.facilitator")
    fac.switch_page("screens/classroom.py").run()
    fac.selectbox(key="new_cohort").set_value(kampong_cham.id)
    fac.text_input(key="new_venue").input("Paper hall")
    fac.button(key="FormSubmitter:open_session-" + t("en", "session.open")).click().run()
    with factory() as s:
        live = s.scalar(select(ClassroomSession).where(ClassroomSession.venue == "Paper hall"))
    fac.session_state["live_session"] = live.id
    fac.switch_page("screens/session.py").run()
    # Attendance: tick the first three people on the roster (keyboard-only grid), then save.
    fac.session_state["attendance_grid"] = {"edited_rows": {0: {"Here": True}, 1: {"Here": True},
                                                            2: {"Here": True}}, "added_rows": [], "deleted_rows": []}
    fac.run()
    fac.button(key="save_attendance").click().run()
    assert fac.metric[0].value.startswith("3 /"), fac.metric[0].value
    # Entry 1, then entry 2 with one cell different: a mismatch is listed and recording is refused.
    typed = {0: {"1": "c", "2": "t", "3": "ab"}, 1: {"1": "a", "2": "f", "3": "a"}, 2: {"1": "d", "2": "t", "3": "b"}}
    fac.radio(key="paper_kind").set_value("pre")
    fac.radio(key="paper_entry").set_value(1).run()
    fac.session_state["paper:pre:1"] = {"edited_rows": typed, "added_rows": [], "deleted_rows": []}
    fac.run()
    fac.button(key="save_paper").click().run()
    assert not fac.error, [e.value for e in fac.error]
    second = {**typed, 1: {"1": "b", "2": "f", "3": "a"}}
    fac.radio(key="paper_entry").set_value(2).run()
    fac.session_state["paper:pre:2"] = {"edited_rows": second, "added_rows": [], "deleted_rows": []}
    fac.run()
    fac.button(key="save_paper").click().run()
    assert t("en", "session.mismatches", n="1") in [w.value for w in fac.warning]
    fac.checkbox(key="require_double").check()
    fac.button(key="commit_paper").click().run()
    assert fac.error  # refused while the two entries disagree
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Attempt).where(Attempt.classroom_session_id == live.id)) == 0
    # The second person fixes the cell after checking the paper; now it records, once.
    fac.session_state["paper:pre:2"] = {"edited_rows": typed, "added_rows": [], "deleted_rows": []}
    fac.run()
    fac.button(key="save_paper").click().run()
    fac.button(key="commit_paper").click().run()
    fac.button(key="commit_paper").click().run()
    with factory() as s:
        kept = s.scalars(select(Attempt).where(Attempt.classroom_session_id == live.id)).all()
    assert len(kept) == 3 and {a.source for a in kept} == {"paper"} and sorted(a.score for a in kept) == [0, 1, 3]
