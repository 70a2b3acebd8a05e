"""Issue #7, part 1 — the access table through the engine: each export and action a page offers, called
the way the page calls it, with the ids a page would pass, for each signed-in role and each target.

- Cohort exports (CSV/XLSX) and the printable report: trainer.check_cohorts, then trainer.learners.
- The session bundle download and every classroom action: classroom.sessions_of and classroom.run; the
  bundle carries no staff password hash and no enrolment code but the room's.
- Resetting a learner's password (cohorts page) and opening a classroom session (classroom page).
- The national overview: administrators (and coordinators) only.
- Certificates: issued for the signed-in learner only; the public verification tells name and date only.
Writes are rolled back: the demo database stays as the other tests expect it.
"""

from datetime import date

import pytest
from sqlalchemy import select

from engine import accounts, bundle, certificates, classroom, learning, national, trainer, views
from engine.errors import NotAllowed
from engine.store.models import Attendance, User
from tests.reliability.access_support import (
    ALL_COHORTS,
    COHORTS_OF,
    COURSES,
    MODULE_ID,
    ROLES,
    ROOMS_OF,
    World,
    build_world,
)

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def world(demo_env) -> World:
    return build_world(demo_env)


SIGNED_IN = ROLES[1:]


def staff(world: World, role: str, s) -> User:
    return s.scalar(select(User).where(User.username == world.usernames[role]))


@pytest.mark.parametrize("role", SIGNED_IN)
@pytest.mark.parametrize("cohort", sorted(ALL_COHORTS))
def test_cohort_export_and_report(world, role, cohort):
    """The cohort page's CSV/XLSX exports and the printable report read trainer.learners after
    trainer.check_cohorts: only for the role's own cohorts (all for the administrator), and only that
    cohort's learners."""
    with world.factory() as s:
        me = staff(world, role, s)
        allowed = cohort in COHORTS_OF.get(role, set())
        if not allowed:
            with pytest.raises(NotAllowed):
                trainer.check_cohorts(s, user=me, cohort_ids=[world.cohort_ids[cohort]])
            return
        chosen = trainer.check_cohorts(s, user=me, cohort_ids=[world.cohort_ids[cohort]])
        rows = trainer.learners(s, chosen)
    members = {p.username for p in world.people.values() if p.role == "learner" and cohort in p.cohorts}
    assert {r.username for r in rows} == members and members


@pytest.mark.parametrize("role", SIGNED_IN)
@pytest.mark.parametrize("room", ["Siem Reap 2026", "Ratanakiri 2026", "Preah Vihear 2026"])
def test_session_bundle_and_running_a_session(world, role, room):
    """The Session screen offers the sessions classroom.sessions_of lists and downloads the chosen one's
    bundle; classroom.run guards every action on it (attendance, sections, tests, close)."""
    session_id = world.sessions[room]
    with world.factory() as s:
        me = staff(world, role, s)
        if role in ("learner", "learner_other"):
            with pytest.raises(NotAllowed):
                classroom.sessions_of(s, by=me)
            with pytest.raises(NotAllowed):
                classroom.run(s, by=me, session_id=session_id)
            return
        allowed = room in ROOMS_OF[role]
        assert (session_id in {r.id for r in classroom.sessions_of(s, by=me)}) == allowed
        if not allowed:
            with pytest.raises(NotAllowed):
                classroom.run(s, by=me, session_id=session_id)
            return
        classroom.run(s, by=me, session_id=session_id)
        doc = bundle.read_bundle(bundle.export_session(s, session_id=session_id))
        present = set(s.scalars(select(Attendance.user_id).where(Attendance.session_id == session_id)))
    users, cohorts = doc["tables"]["users"], doc["tables"]["cohorts"]
    assert {u["password_hash"] for u in users if u["role"] != "learner"} == {bundle.NO_PASSWORD}
    assert {c["id"]: c["enrol_code"] for c in cohorts if c["enrol_code"]} == {
        world.cohort_ids[room]: world.enrol_codes[room]}  # the room's cohort only, never its parent's
    assert {u["id"] for u in users if u["role"] == "learner"} == present  # those in the room, nobody else


TARGETS = {"learner": "Siem Reap 2026", "learner_other": "Kampot 2026", "pv.learner": "Preah Vihear 2026"}


@pytest.mark.parametrize("role", SIGNED_IN)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_resetting_a_learners_password(world, role, target):
    """The cohorts page's reset form: a learner's own trainer (or the administrator) only. Rolled back."""
    username = world.usernames.get(target, target)
    allowed = role == "admin" or (role not in ("learner", "learner_other")
                                  and TARGETS[target] in COHORTS_OF[role])
    with world.factory() as s:
        me = staff(world, role, s)
        learner_id = s.scalar(select(User.id).where(User.username == username))
        if allowed:
            accounts.reset_password(s, by=me, learner_id=learner_id, new_password="a-new-password")
        else:
            with pytest.raises(NotAllowed):
                accounts.reset_password(s, by=me, learner_id=learner_id, new_password="a-new-password")
        s.rollback()


@pytest.mark.parametrize("role", SIGNED_IN)
@pytest.mark.parametrize("cohort", sorted(ALL_COHORTS))
def test_opening_a_classroom_session(world, role, cohort):
    """The classroom page's form: the cohort's trainer or the administrator. Rolled back."""
    allowed = role == "admin" or (role not in ("learner", "learner_other") and cohort in COHORTS_OF[role])
    with world.factory() as s:
        me = staff(world, role, s)

        def open_one():
            return classroom.open_session(s, by=me, course=COURSES["en"], cohort_id=world.cohort_ids[cohort],
                                          module_id=MODULE_ID, venue="x", held_on=date(2026, 11, 2))

        if allowed:
            assert open_one().facilitator_id == me.id
        else:
            with pytest.raises(NotAllowed):
                open_one()
        s.rollback()


def test_certificates_are_only_ones_own_and_verification_tells_only_name_and_date(world):
    """The certificate page issues for the signed-in learner only (no id comes from the page); the public
    verification returns the holder's names and the date, nothing more."""
    holder = world.person("learner_other")
    code = world.certificate_of[holder.username]
    with world.factory() as s:
        found = views.verify_certificate(s, f"  {code.lower()} ")
        records = learning.load_records(s, user_id=world.person("trainer_other").id, course=COURSES["en"])
        assert certificates.issue(s, user_id=world.person("trainer_other").id, course=COURSES["en"],
                                  records=records) is None
        s.rollback()
    assert found is not None and found[:2] == (holder.name_km, holder.name_latin) and len(found) == 3
    assert views.verify_certificate(world.factory(), "SALA-NOPE") is None


@pytest.mark.parametrize("role", SIGNED_IN)
def test_national_overview(world, role):
    """The national page's figures cover the whole country: for the administrator only."""
    with world.factory() as s:
        me = staff(world, role, s)
        if role == "admin":
            assert national.overview(s, user=me, course=COURSES["en"]).learners > 0
        else:
            with pytest.raises(NotAllowed):
                national.overview(s, user=me, course=COURSES["en"])
