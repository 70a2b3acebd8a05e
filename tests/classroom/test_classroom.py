"""Classroom mode in the engine, on SQLite and PostgreSQL: a session and its join code, attendance
(joined, ticked, walk-ins), the live test and poll, live counts, the room's results by sex, and paper
tests typed in twice and committed."""

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from engine import accounts, classroom, classroom_paper, learning
from engine.content import load
from engine.errors import InputError, NotAllowed
from engine.store.db import transaction
from engine.store.models import Attempt, Attendance, ClassroomSession, Cohort, Enrolment, PaperEntry, Response, User

pytestmark = pytest.mark.classroom
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample"
COURSE = load(SAMPLE)["en"]
MODULE = COURSE.modules[0]
RIGHT = {"t01": "c", "t02": "true", "t03": ["a", "b"]}
WRONG = {"t01": "a", "t02": "false", "t03": ["c"]}
NAMES = ["ហេង សុផល", "កែវ ចាន់ថា", "សុខ សុភា", "ចាន់ ដារ៉ា"]


@dataclass
class Room:
    facilitator: str
    outsider: str
    admin: str
    cohort: str
    learners: list[str]
    stranger: str
    """A learner of no cohort, who comes to the hall with the code."""


def add_user(s, username, role="learner", **fields) -> str:
    user = User(username=username, password_hash="x", full_name_km=fields.pop("full_name_km", username),
                role=role, **fields)
    s.add(user)
    s.flush()
    return user.id


@pytest.fixture
def room(store) -> Room:
    with transaction(store.sessions) as s:
        facilitator = add_user(s, "keo.chantha", "facilitator")
        cohort = Cohort(name="Siem Reap 2026", kind="provincial", province_code="17", trainer_id=facilitator)
        s.add(cohort)
        s.flush()
        learners = [add_user(s, f"learner{n}", full_name_km=name, sex="female" if n % 2 else "male")
                    for n, name in enumerate(NAMES)]
        s.add_all(Enrolment(cohort_id=cohort.id, user_id=u) for u in learners)
        return Room(facilitator, add_user(s, "other.facilitator", "facilitator"), add_user(s, "admin", "admin"),
                    cohort.id, learners, add_user(s, "stranger", full_name_km="ឡុង វណ្ណា"))


def open_one(store, room, by=None) -> str:
    with transaction(store.sessions) as s:
        found = classroom.open_session(s, by=s.get(User, by or room.facilitator), course=COURSE,
                                       cohort_id=room.cohort, module_id=MODULE.id, venue="សាលប្រជុំខេត្ត",
                                       held_on=date(2026, 9, 7))
        return found.id


def act(store, fn, by, **kw):
    """Run a facilitator action as `by` in its own transaction."""
    with transaction(store.sessions) as s:
        return fn(s, by=s.get(User, by), **kw)


def join(store, session_id, user_id):
    with transaction(store.sessions) as s:
        return classroom.join(s, session_id=session_id, user=s.get(User, user_id))


def submit(store, session_id, user_id, answers, key, kind=None):
    with transaction(store.sessions) as s:
        return classroom.submit_live(s, course=COURSE, module=MODULE, session_id=session_id, user_id=user_id,
                                     answers=answers, key=key, kind=kind)


def count(store, model, *where):
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


# --- the session -----------------------------------------------------------------------------------------


def test_open_a_session_and_find_it_by_its_code(store, room):
    session_id = open_one(store, room)
    with store.sessions() as s:
        code = s.get(ClassroomSession, session_id).join_code
        assert len(code) == 5 and set(code) <= set(classroom.JOIN_ALPHABET)
        assert not set(classroom.JOIN_ALPHABET) & set("0O1IL2Z5S8B")
        typed = " ".join(code.lower())  # as a participant types it on a phone
        assert classroom.find_open_session(s, typed).id == session_id
        assert classroom.find_open_session(s, "") is None
        assert classroom.live_state(s, session_id) == classroom.LiveState("open", None, None, None)
    act(store, classroom.close_session, room.facilitator, session_id=session_id)
    with store.sessions() as s:
        assert classroom.find_open_session(s, code) is None
        assert classroom.live_state(s, session_id).state == "closed"


def test_join_codes_differ_between_sessions(store, room):
    ids = [open_one(store, room) for _ in range(5)]
    with store.sessions() as s:
        codes = {s.get(ClassroomSession, i).join_code for i in ids}
    assert len(codes) == 5


def test_who_may_open_and_see_sessions(store, room):
    with pytest.raises(NotAllowed, match="only the cohort's trainer"):
        open_one(store, room, by=room.outsider)
    mine, by_admin = open_one(store, room), open_one(store, room, by=room.admin)
    with pytest.raises(InputError, match="module_id: '99-nothing' is not a module of the course"), \
            transaction(store.sessions) as s:
        classroom.open_session(s, by=s.get(User, room.admin), course=COURSE, cohort_id=room.cohort,
                               module_id="99-nothing", venue="", held_on=date(2026, 9, 7))
    with store.sessions() as s:
        # The cohort's trainer sees both (one they facilitate, one for their cohort); newest first.
        assert {x.id for x in classroom.sessions_of(s, by=s.get(User, room.facilitator))} == {mine, by_admin}
        assert classroom.sessions_of(s, by=s.get(User, room.outsider)) == []
        assert len(classroom.sessions_of(s, by=s.get(User, room.admin))) == 2
        with pytest.raises(NotAllowed):
            classroom.sessions_of(s, by=s.get(User, room.learners[0]))


@pytest.mark.parametrize("action,kw", [
    (classroom.tick, {"user_id": None, "present": True}),
    (classroom.tick_many, {"user_ids": []}),
    (classroom.open_test, {"course": COURSE, "kind": "pre"}),
    (classroom.close_test, {}),
    (classroom.set_section, {"course": COURSE, "section_id": "why-engage"}),
    (classroom.close_session, {}),
    (classroom.add_walk_in, {"full_name_km": "ណុប ធីតា", "full_name_latin": "", "sex": "female",
                             "province_code": "17", "org_type": "commune", "position": ""}),
])
def test_outsiders_may_not_run_the_session(store, room, action, kw):
    session_id = open_one(store, room)
    kw = {k: (room.learners[0] if k == "user_id" else v) for k, v in kw.items()}
    with pytest.raises(NotAllowed, match="only the session's facilitator"):
        act(store, action, room.outsider, session_id=session_id, **kw)
    act(store, action, room.admin, session_id=session_id, **kw)  # a coordinator or administrator may


# --- attendance -------------------------------------------------------------------------------------------


def test_joining_twice_keeps_one_row_and_a_stranger_is_enrolled(store, room):
    session_id = open_one(store, room)
    first = join(store, session_id, room.learners[0])
    again = join(store, session_id, room.learners[0])
    assert (again.id, again.method) == (first.id, "joined")
    join(store, session_id, room.stranger)
    assert count(store, Attendance) == 2
    assert count(store, Enrolment, Enrolment.user_id == room.stranger, Enrolment.cohort_id == room.cohort) == 1
    with pytest.raises(NotAllowed, match="only learners"):
        join(store, session_id, room.outsider)
    act(store, classroom.close_session, room.facilitator, session_id=session_id)
    with pytest.raises(InputError, match="this session is closed"):
        join(store, session_id, room.learners[1])


def test_joining_at_once_from_two_phones_keeps_one_row(store, room):
    session_id = open_one(store, room)
    with ThreadPoolExecutor(4) as pool:
        rows = list(pool.map(lambda _: join(store, session_id, room.stranger).id, range(4)))
    assert len(set(rows)) == 1
    assert count(store, Attendance) == 1
    assert count(store, Enrolment, Enrolment.user_id == room.stranger) == 1


def test_tick_many_then_untick_and_the_list_by_khmer_name(store, room):
    session_id = open_one(store, room)
    join(store, session_id, room.learners[0])
    added = act(store, classroom.tick_many, room.facilitator, session_id=session_id,
                user_ids=room.learners + room.learners[:1])
    assert added == 3  # the one who joined on their phone keeps "joined"
    with store.sessions() as s:
        rows = classroom.attendance(s, session_id)
    assert [r.name_km for r in rows] == sorted(NAMES)
    assert {r.user_id: r.method for r in rows}[room.learners[0]] == "joined"
    assert all(r.present and r.checked_in_at is not None for r in rows)
    # Unticking removes a ticked row; someone who joined on their phone stays.
    assert act(store, classroom.tick, room.facilitator, session_id=session_id, user_id=room.learners[1],
               present=False) is None
    kept = act(store, classroom.tick, room.facilitator, session_id=session_id, user_id=room.learners[0],
               present=False)
    assert kept.method == "joined"
    with store.sessions() as s:
        rows = {r.user_id: r for r in classroom.attendance(s, session_id)}
    assert (rows[room.learners[1]].present, rows[room.learners[1]].method) == (False, None)
    assert room.stranger not in rows  # not in the cohort, not in the room
    with pytest.raises(InputError, match="is not in this session's cohort; add them as a walk-in"):
        act(store, classroom.tick_many, room.facilitator, session_id=session_id,
            user_ids=[room.learners[1], room.stranger])
    assert count(store, Attendance, Attendance.user_id == room.learners[1]) == 0  # nobody was changed


def test_a_walk_in_gets_an_account_that_signs_in(store, room):
    session_id = open_one(store, room)
    walk_in = act(store, classroom.add_walk_in, room.facilitator, session_id=session_id,
                  full_name_km=" ពៅ ស្រីនាង ", full_name_latin="Pov Sreyneang", sex="female", province_code="17",
                  org_type="commune", position="ស្មៀនឃុំ", phone="012 999 888")
    assert walk_in.user.username.startswith("walkin-") and walk_in.attendance.method == "walk_in"
    assert walk_in.temporary_password not in repr(walk_in)
    with transaction(store.sessions) as s:
        user = accounts.authenticate(s, login=walk_in.user.username, password=walk_in.temporary_password)
        assert user is not None and user.full_name_km == "ពៅ ស្រីនាង" and user.phone == "012999888"
        assert s.scalar(select(Enrolment.cohort_id).where(Enrolment.user_id == user.id)) == room.cohort
        rows = {r.user_id: r for r in classroom.attendance(s, session_id)}
    assert rows[user.id].method == "walk_in"
    from engine.errors import FieldError

    with pytest.raises(FieldError, match="phone: this phone number already has an account"):
        act(store, classroom.add_walk_in, room.facilitator, session_id=session_id, full_name_km="ណុប ធីតា",
            full_name_latin="", sex="female", province_code=None, org_type="commune", position="",
            phone="012999888")


# --- presenting and the live test ---------------------------------------------------------------------------


def test_sections_and_tests_are_shared_state(store, room):
    session_id = open_one(store, room)
    act(store, classroom.set_section, room.facilitator, course=COURSE, session_id=session_id,
        section_id="stakeholder-map")
    with pytest.raises(InputError, match="section_id: 'nowhere' is not a section or the exercise of module 01-engagement"):
        act(store, classroom.set_section, room.facilitator, course=COURSE, session_id=session_id,
            section_id="nowhere")
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="poll",
        poll_item_id="why-engage-1")
    with store.sessions() as s:  # what every phone sees, from any app process
        assert classroom.live_state(s, session_id) == classroom.LiveState("open", "poll", "why-engage-1",
                                                                           "stakeholder-map")
    with pytest.raises(InputError, match="poll_item_id: 't01' is not a knowledge check of module 01-engagement"):
        act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="poll",
            poll_item_id="t01")
    with pytest.raises(InputError, match="kind: expected one of pre, post, poll, got 'exam'"):
        act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="exam")
    act(store, classroom.close_test, room.facilitator, session_id=session_id)
    with store.sessions() as s:
        assert classroom.live_state(s, session_id).open_test is None


def test_live_test_accepts_answers_only_while_open_and_keeps_one_per_key(store, room):
    session_id = open_one(store, room)
    me = room.learners[0]
    join(store, session_id, me)
    with pytest.raises(InputError, match="the test is not open now"):
        submit(store, session_id, me, RIGHT, "k-early")
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="pre")
    with pytest.raises(InputError, match="check in to the session with its join code first"):
        submit(store, session_id, room.learners[1], RIGHT, "k-not-here")
    with pytest.raises(InputError, match="the post-test is not open now"):
        submit(store, session_id, me, RIGHT, "k-wrong-test", kind="post")
    first = submit(store, session_id, me, WRONG, "k-pre", kind="pre")
    again = submit(store, session_id, me, WRONG, "k-pre", kind="pre")
    assert (first.duplicate, again.duplicate, again.attempt_id, again.score) == (False, True, first.attempt_id,
                                                                                 first.score)
    # A reloaded phone with a fresh key finds the answer it already gave.
    assert submit(store, session_id, me, RIGHT, "k-pre-reload").attempt_id == first.attempt_id
    with store.sessions() as s:
        attempt = s.get(Attempt, first.attempt_id)
        assert (attempt.kind, attempt.source, attempt.classroom_session_id) == ("pre", "classroom", session_id)
        assert s.scalar(select(func.count()).select_from(Attempt)) == 1
        assert s.scalar(select(func.count()).select_from(Response)) == 3
        # The live pre-test is the learner's pre-test: the self-study path goes on from it.
        assert learning.load_record(s, user_id=me, module_id=MODULE.id).pre.id == first.attempt_id
    act(store, classroom.close_test, room.facilitator, session_id=session_id)
    with pytest.raises(InputError, match="the test is not open now"):
        submit(store, session_id, room.learners[0], RIGHT, "k-late")
    assert submit(store, session_id, me, WRONG, "k-pre").duplicate  # a retry after closing gets its result
    with pytest.raises(InputError, match="idempotency key belongs to another submission"):
        submit(store, session_id, room.learners[1], WRONG, "k-pre")
    assert count(store, Attempt) == 1


def test_the_same_answer_sent_at_once_is_kept_once(store, room):
    session_id = open_one(store, room)
    join(store, session_id, room.learners[0])
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="post")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: submit(store, session_id, room.learners[0], RIGHT, "same"), range(4)))
    assert len({r.attempt_id for r in results}) == 1 and sum(not r.duplicate for r in results) == 1
    assert count(store, Attempt) == 1


def test_a_bad_live_answer_writes_nothing(store, room):
    session_id = open_one(store, room)
    join(store, session_id, room.learners[0])
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="pre")
    with pytest.raises(InputError, match="item t01: 'z' is not one of its options"):
        submit(store, session_id, room.learners[0], {**RIGHT, "t01": "z"}, "bad")
    assert count(store, Attempt) == 0


def test_a_poll_is_a_knowledge_check_and_its_counts_name_nobody(store, room):
    session_id = open_one(store, room)
    for user_id in room.learners:
        join(store, session_id, user_id)
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="poll",
        poll_item_id="stakeholder-map-1")
    for n, (user_id, answer) in enumerate(zip(room.learners[:3], [["a", "c"], ["a"], ["a", "c"]], strict=True)):
        submit(store, session_id, user_id, {"stakeholder-map-1": answer}, f"poll-{n}", kind="poll")
    with pytest.raises(InputError, match="the poll has moved on to another question"):
        submit(store, session_id, room.learners[3], {"why-engage-1": "b"}, "poll-old", kind="poll")
    with store.sessions() as s:
        attempts = s.scalars(select(Attempt)).all()
        assert {(a.kind, a.section_id, a.source, a.score) for a in attempts} == {
            ("check", "stakeholder-map", "classroom", 1.0), ("check", "stakeholder-map", "classroom", 0.0)}
        counts = classroom.live_counts(s, session_id=session_id, kind="poll", module=MODULE)
    assert counts == classroom.LiveCounts(answered=3, present=4,
                                          per_item={"stakeholder-map-1": {"a": 3, "b": 0, "c": 2, "d": 0}})
    shown = repr(counts)
    assert not any(user_id in shown for user_id in room.learners) and "learner" not in shown


def test_live_counts_of_a_test(store, room):
    session_id = open_one(store, room)
    for user_id in room.learners[:3]:
        join(store, session_id, user_id)
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="pre")
    with store.sessions() as s:
        assert classroom.live_counts(s, session_id=session_id, kind="pre", module=MODULE).answered == 0
    submit(store, session_id, room.learners[0], RIGHT, "a")
    submit(store, session_id, room.learners[1], WRONG, "b")
    submit(store, session_id, room.learners[2], {"t01": "c"}, "c")  # two left blank
    with store.sessions() as s:
        counts = classroom.live_counts(s, session_id=session_id, kind="pre", module=MODULE)
        assert classroom.live_counts(s, session_id=session_id, kind="post", module=MODULE).answered == 0
    assert (counts.answered, counts.present) == (3, 3)
    assert counts.per_item == {"t01": {"a": 1, "b": 0, "c": 2, "d": 0}, "t02": {"true": 1, "false": 1},
                               "t03": {"a": 1, "b": 1, "c": 1}}


def test_room_results_by_sex_suppress_small_groups(store, room):
    with transaction(store.sessions) as s:
        people = [add_user(s, f"p{n}", sex=sex) for n, sex in enumerate(["female"] * 7 + ["male"] * 5 + ["other"] * 2)]
        s.add_all(Enrolment(cohort_id=room.cohort, user_id=u) for u in people)
    session_id = open_one(store, room)
    for user_id in people:
        join(store, session_id, user_id)
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="pre")
    for user_id in people:
        submit(store, session_id, user_id, WRONG, f"pre-{user_id}")
    act(store, classroom.open_test, room.facilitator, course=COURSE, session_id=session_id, kind="post")
    for user_id in people[:-1]:  # one leaves before the post-test
        submit(store, session_id, user_id, RIGHT, f"post-{user_id}")
    with store.sessions() as s:
        results = classroom.room_results(s, session_id=session_id, course=COURSE)
    assert (results.overall.n, results.overall.n_pre, results.overall.n_post) == (14, 14, 13)
    assert (results.overall.mean_pre, results.overall.mean_post, results.overall.share_passed) == (0.0, 100.0, 1.0)
    rows = {(g.group, g.total): (g.suppressed, g.n) for g in results.by_sex}
    # "other" (2) is too small; hidden alone it could be had from the total, so "male" (5) goes too.
    assert rows == {("female", False): (False, 7), ("male", False): (True, None), ("other", False): (True, None),
                    (None, True): (False, 14)}


def test_room_results_count_only_this_sessions_tests(store, room):
    session_id = open_one(store, room)
    join(store, session_id, room.learners[0])
    with transaction(store.sessions) as s:  # an online pre-test before the day does not count here
        learning.submit_test(s, course=COURSE, module=MODULE, user_id=room.learners[0], kind="pre", answers=RIGHT,
                             key="online-pre")
    with store.sessions() as s:
        results = classroom.room_results(s, session_id=session_id, course=COURSE)
    assert [(r.learner_id, r.pre, r.post) for r in results.scores] == [(room.learners[0], None, None)]
    assert all(g.suppressed for g in results.by_sex)


# --- paper ---------------------------------------------------------------------------------------------------


def save_row(store, by, session_id, user_id, entry_no, answers, kind="pre"):
    with transaction(store.sessions) as s:
        classroom_paper.save_paper_row(s, by=s.get(User, by), session_id=session_id, module=MODULE, kind=kind,
                                       user_id=user_id, entry_no=entry_no, answers=answers)


def commit(store, by, session_id, double=True, kind="pre"):
    with transaction(store.sessions) as s:
        return classroom_paper.commit_paper(s, by=s.get(User, by), session_id=session_id, kind=kind, course=COURSE,
                                            module=MODULE, require_double_entry=double)


def test_paper_double_entry_mismatch_then_resolved_and_committed_once(store, room):
    session_id = open_one(store, room)
    first, second = room.learners[:2]
    save_row(store, room.facilitator, session_id, first, 1, {"t01": "C", "t02": "t", "t03": "ab"})
    save_row(store, room.facilitator, session_id, second, 1, {"t01": "a", "t02": "", "t03": "c"})
    save_row(store, room.admin, session_id, first, 2, {"t01": "c", "t02": "true", "t03": "a, b"})
    save_row(store, room.admin, session_id, second, 2, {"t01": "b", "t03": "c"})  # t02 left blank
    with store.sessions() as s:
        assert classroom_paper.mismatches(s, session_id=session_id, kind="pre") == [
            classroom_paper.Mismatch(second, "t01", "a", "b")]
        assert classroom_paper.typed_once(s, session_id=session_id, kind="pre") == []
    with pytest.raises(classroom_paper.PaperRefused,
                       match=r"not committed: learner1, t01: 'a' then 'b'$"):
        commit(store, room.facilitator, session_id)
    save_row(store, room.admin, session_id, second, 2, {"t01": "a"})  # checked against the sheet
    third = room.learners[2]
    save_row(store, room.facilitator, session_id, third, 1, RIGHT)
    with pytest.raises(classroom_paper.PaperRefused, match="learner2: typed once"):
        commit(store, room.facilitator, session_id)
    save_row(store, room.admin, session_id, third, 2, RIGHT)
    ids = commit(store, room.facilitator, session_id)
    assert commit(store, room.facilitator, session_id) == ids  # committing twice adds nothing
    assert count(store, Attempt) == 3
    with store.sessions() as s:
        attempts = {a.user_id: a for a in s.scalars(select(Attempt))}
        assert {u: (a.score, a.source, a.recorded_by_id, a.classroom_session_id) for u, a in attempts.items()} == {
            first: (3.0, "paper", room.facilitator, session_id), second: (0.0, "paper", room.facilitator, session_id),
            third: (3.0, "paper", room.facilitator, session_id)}
        assert {r.user_id: r.method for r in classroom.attendance(s, session_id) if r.present} == {
            first: "ticked", second: "ticked", third: "ticked"}  # a sheet means they were there
        assert classroom.room_results(s, session_id=session_id, course=COURSE).overall.n_pre == 3
    with pytest.raises(InputError, match="already committed"):
        save_row(store, room.facilitator, session_id, first, 1, {"t01": "a"})


def test_single_entry_commits_when_double_entry_is_not_required(store, room):
    session_id = open_one(store, room)
    save_row(store, room.facilitator, session_id, room.learners[0], 1, RIGHT, kind="post")
    # The grid lists everyone present: a wholly blank row is no sheet, and clearing a row removes it.
    save_row(store, room.facilitator, session_id, room.learners[1], 1, {"t01": "", "t02": None}, kind="post")
    save_row(store, room.facilitator, session_id, room.learners[2], 1, {"t01": "a"}, kind="post")
    save_row(store, room.facilitator, session_id, room.learners[2], 1, {"t01": " "}, kind="post")
    assert count(store, PaperEntry) == 3
    with pytest.raises(InputError, match="no paper pre-test has been typed in"):
        commit(store, room.facilitator, session_id, double=False)
    assert len(commit(store, room.facilitator, session_id, double=False, kind="post")) == 1
    with store.sessions() as s:
        assert s.scalar(select(Attempt.kind)) == "post"


def test_a_bad_paper_row_names_every_cell_and_keeps_nothing(store, room):
    session_id = open_one(store, room)
    with pytest.raises(classroom_paper.PaperRefused) as refused:
        save_row(store, room.facilitator, session_id, room.learners[0], 1, {"t01": "e", "t02": "maybe", "t09": "a"})
    assert [str(p) for p in refused.value.problems] == [
        "column t01: 'e' is not one of its options (a, b, c, d)",
        "column t02: expected true or false, got 'maybe'",
        "column t09: not an item of this test",
    ]
    assert count(store, PaperEntry) == 0
    with pytest.raises(InputError, match="is not in this session's cohort"):
        save_row(store, room.facilitator, session_id, room.stranger, 1, RIGHT)
    with pytest.raises(NotAllowed):
        save_row(store, room.outsider, session_id, room.learners[0], 1, RIGHT)


GOOD_GRID = "username,t01,t02,t03\nlearner0,c,true,ab\nLEARNER1, a ,f,\n\n"


def grid_problems(store, room, session_id, data, filename="sheet.csv"):
    grid = classroom_paper.parse_paper_grid(data, filename, MODULE, "pre")
    with pytest.raises(classroom_paper.PaperRefused) as refused, transaction(store.sessions) as s:
        classroom_paper.save_paper_grid(s, by=s.get(User, room.facilitator), session_id=session_id, module=MODULE,
                                        kind="pre", entry_no=1, grid=grid)
    return [(p.row, p.column, p.code) for p in refused.value.problems]


def test_a_paper_grid_file_with_problems_is_named_by_row_and_column_and_saves_nothing(store, room):
    session_id = open_one(store, room)
    data = (b"username,t01,t02,t03,t04\n"
            b"learner0,c,true,ab,\n"
            b"learner1,z,yes,ad,\n"
            b",a,true,a,\n"
            b"learner0,a,true,a,\n"
            b"nobody,a,true,a,\n"
            b"stranger,b,no,c,\n")
    assert grid_problems(store, room, session_id, data) == [
        (1, "t04", "unknown_column"),
        (3, "t01", "bad_answer"),
        (3, "t03", "bad_answer"),
        (4, "username", "required"),
        (5, "username", "duplicate"),
        (6, "username", "unknown_user"),
        (7, "username", "not_in_cohort"),
    ]
    assert count(store, PaperEntry) == 0
    grid = classroom_paper.parse_paper_grid(b"name,t01\n", "sheet.csv", MODULE, "pre")
    assert [(p.row, p.column, p.code) for p in grid.problems] == [
        (1, "name", "unknown_column"), (1, "t02", "missing_column"), (1, "t03", "missing_column"),
        (1, "username", "missing_column")]
    assert [p.code for p in classroom_paper.parse_paper_grid(b"%PDF-1.4", "sheet.pdf", MODULE, "pre").problems] == [
        "not_a_roster"]


def test_a_good_paper_grid_as_xlsx_saves_every_row(store, room):
    session_id = open_one(store, room)
    book = openpyxl.Workbook()
    for line in GOOD_GRID.splitlines():
        book.active.append(line.split(",") if line else [])
    buffer = io.BytesIO()
    book.save(buffer)
    grid = classroom_paper.parse_paper_grid(buffer.getvalue(), "sheet.xlsx", MODULE, "pre")
    assert grid.problems == []
    assert [(r.row, r.person, r.answers) for r in grid.rows] == [
        (2, "learner0", {"t01": "c", "t02": "true", "t03": ["a", "b"]}),
        (3, "LEARNER1", {"t01": "a", "t02": "false", "t03": None})]
    with transaction(store.sessions) as s:
        saved = classroom_paper.save_paper_grid(s, by=s.get(User, room.facilitator), session_id=session_id,
                                                module=MODULE, kind="pre", entry_no=1, grid=grid)
    assert saved == 2 and count(store, PaperEntry) == 6
    assert commit(store, room.facilitator, session_id, double=False) and count(store, Attempt) == 2
