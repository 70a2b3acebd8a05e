"""The models on a migrated database: text, times, keys and constraints hold on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from engine.store.db import new_id, transaction, utcnow
from engine.store.models import (
    Attempt,
    Attendance,
    Certificate,
    ClassroomSession,
    Cohort,
    Enrolment,
    Response,
    SectionProgress,
    User,
)

pytestmark = pytest.mark.store

KHMER_NAME = "សុខ ចាន់ថា"


def add_user(session, username: str = "sok", **fields) -> User:
    user = User(username=username, password_hash="argon2id$...", full_name_km=KHMER_NAME, **fields)
    session.add(user)
    session.flush()
    return user


def add_cohort(session, name: str = "ToT Ministry of Interior", **fields) -> Cohort:
    cohort = Cohort(name=name, kind=fields.pop("kind", "tot"), **fields)
    session.add(cohort)
    session.flush()
    return cohort


def add_attempt(session, user: User, key: str = "k1", **fields) -> Attempt:
    values = {"module_id": "01-engagement", "kind": "pre", "language": "km", "content_version": "abc123"}
    attempt = Attempt(user_id=user.id, idempotency_key=key, score=3.0, max_score=5.0, **(values | fields))
    session.add(attempt)
    session.flush()
    return attempt


def add_session(session, cohort: Cohort, facilitator: User, join_code: str = "K7Q2") -> ClassroomSession:
    classroom = ClassroomSession(
        cohort_id=cohort.id,
        module_id="01-engagement",
        facilitator_id=facilitator.id,
        held_on=date(2025, 3, 4),
        join_code=join_code,
    )
    session.add(classroom)
    session.flush()
    return classroom


def test_ids_are_uuid_strings_and_defaults_fill_in(store):
    with transaction(store.sessions) as session:
        user = add_user(session)
    assert len(user.id) == 36 and user.id.count("-") == 4
    assert (user.role, user.sex, user.org_type, user.language, user.active) == (
        "learner",
        "undisclosed",
        "other",
        "km",
        True,
    )
    assert user.created_at.tzinfo is UTC


def test_khmer_text_round_trips(store):
    with transaction(store.sessions) as session:
        user_id = add_user(session, institution="រដ្ឋបាលខេត្តសៀមរាប", position="មន្ត្រី").id
        add_attempt(session, session.get(User, user_id))
        session.add(
            Response(
                attempt_id=session.scalars(select(Attempt.id)).one(),
                item_id="t01",
                answer='"ការចូលរួមរបស់ពលរដ្ឋ"',
                correct=None,
                points=0,
            )
        )
    with store.sessions() as session:
        user = session.get(User, user_id)
        assert (user.full_name_km, user.institution, user.position) == (KHMER_NAME, "រដ្ឋបាលខេត្តសៀមរាប", "មន្ត្រី")
        assert session.scalars(select(User.id).where(User.full_name_km == KHMER_NAME)).one() == user_id
        assert session.scalars(select(Response.answer)).one() == '"ការចូលរួមរបស់ពលរដ្ឋ"'


def test_times_come_back_aware_and_in_utc(store):
    phnom_penh = timezone(timedelta(hours=7))
    opened = datetime(2025, 3, 4, 8, 30, 15, 123456, tzinfo=phnom_penh)
    with transaction(store.sessions) as session:
        user_id = add_user(session, created_at=opened).id
    with store.sessions() as session:
        if store.dialect == "postgresql":  # the server answers in the session's zone
            session.execute(text("SET TIME ZONE 'Asia/Phnom_Penh'"))
        created = session.get(User, user_id).created_at
    assert created == opened
    assert created.tzinfo is UTC and created.hour == 1


def test_a_naive_time_is_refused(store):
    with (
        pytest.raises(StatementError, match="expected a timezone-aware datetime"),
        transaction(store.sessions) as session,
    ):
        add_user(session, created_at=datetime(2025, 3, 4, 8, 30))


def test_utcnow_is_aware_utc():
    assert utcnow().tzinfo is UTC


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "role",
            "superuser",
            "role: expected one of learner, trainer, facilitator, coordinator, admin, got 'superuser'",
        ),
        ("sex", "f", "sex: expected one of female, male, other, undisclosed, got 'f'"),
        ("language", "fr", "language: expected one of km, en, got 'fr'"),
        ("province_code", "Siem Reap", "province_code: expected a 2-digit official code such as '17', got 'Siem Reap'"),
    ],
)
def test_a_value_outside_its_list_is_refused_on_assignment(field, value, message):
    with pytest.raises(ValueError) as raised:
        User(**{field: value})
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [("users", "role", "superuser"), ("users", "sex", "f"), ("users", "province_code", "7")],
)
def test_the_database_checks_the_lists_too(store, table, column, value):
    with transaction(store.sessions) as session:
        user_id = add_user(session).id
    with pytest.raises(IntegrityError), transaction(store.sessions) as session:
        session.execute(text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), {"value": value, "id": user_id})


def test_a_duplicate_idempotency_key_is_refused(store):
    with transaction(store.sessions) as session:
        user = add_user(session)
        add_attempt(session, user, key="submit-7f3a")
    with pytest.raises(IntegrityError), transaction(store.sessions) as session:
        add_attempt(session, user, key="submit-7f3a")
    with store.sessions() as session:
        assert session.scalars(select(Attempt.idempotency_key)).all() == ["submit-7f3a"]


def _duplicate_enrolment(session, user, cohort, other):
    return [Enrolment(cohort_id=cohort.id, user_id=user.id) for _ in range(2)]


def _duplicate_username(session, user, cohort, other):
    return [User(username=user.username, password_hash="x", full_name_km="x")]


def _duplicate_phone(session, user, cohort, other):
    other.phone = "012345678"
    session.flush()
    return [User(username="dara", phone="012345678", password_hash="x", full_name_km="x")]


def _duplicate_progress(session, user, cohort, other):
    return [SectionProgress(user_id=user.id, module_id="01-engagement", section_id="why-engage") for _ in range(2)]


def _duplicate_response(session, user, cohort, other):
    attempt = add_attempt(session, user)
    return [Response(attempt_id=attempt.id, item_id="t01", answer='["a"]', correct=True, points=1) for _ in range(2)]


def _duplicate_attendance(session, user, cohort, other):
    classroom = add_session(session, cohort, other)
    return [Attendance(session_id=classroom.id, user_id=user.id, method=m) for m in ("joined", "ticked")]


def _second_certificate(session, user, cohort, other):
    return [Certificate(user_id=user.id, code=code) for code in ("NASLA-0001", "NASLA-0002")]


@pytest.mark.parametrize(
    "rows",
    [
        _duplicate_enrolment,
        _duplicate_username,
        _duplicate_phone,
        _duplicate_progress,
        _duplicate_response,
        _duplicate_attendance,
        _second_certificate,
    ],
)
def test_a_unique_rule_holds(store, rows):
    with pytest.raises(IntegrityError), transaction(store.sessions) as session:
        user, other = add_user(session), add_user(session, "dara")
        for row in rows(session, user, add_cohort(session), other):
            session.add(row)
            session.flush()


def test_a_foreign_key_must_point_at_a_row(store):
    with pytest.raises(IntegrityError), transaction(store.sessions) as session:
        user = add_user(session)
        session.add(Enrolment(cohort_id=new_id(), user_id=user.id))
        session.flush()


def test_a_check_attempt_names_its_section(store):
    with pytest.raises(IntegrityError), transaction(store.sessions) as session:
        add_attempt(session, add_user(session), kind="check", section_id=None)


def test_the_training_cascade_links_cohorts(store):
    with transaction(store.sessions) as session:
        tot = add_cohort(session, "ToT Ministry of Interior")
        for name, code in (("Siem Reap 2025", "17"), ("Kampot 2025", "07")):
            add_cohort(session, name, kind="provincial", parent_id=tot.id, province_code=code)
        tot_id = tot.id
    with store.sessions() as session:
        tot = session.get(Cohort, tot_id)
        assert [child.name for child in tot.children] == ["Kampot 2025", "Siem Reap 2025"]
        assert {child.parent.name for child in tot.children} == {"ToT Ministry of Interior"}
        assert tot.parent is None
    with pytest.raises(IntegrityError), transaction(store.sessions) as session:
        # Cohorts were trained from it: it cannot be deleted from under them.
        session.execute(text("DELETE FROM cohorts WHERE id = :id"), {"id": tot_id})
    with pytest.raises(IntegrityError), transaction(store.sessions) as session:
        session.get(Cohort, tot_id).parent_id = tot_id


def test_a_transaction_that_raises_keeps_nothing(store):
    with pytest.raises(RuntimeError), transaction(store.sessions) as session:
        add_user(session)
        raise RuntimeError("the roster had a bad row")
    with store.sessions() as session:
        assert session.scalars(select(User)).all() == []


def test_objects_stay_readable_after_commit(store):
    with transaction(store.sessions) as session:
        user = add_user(session)
    assert user.username == "sok"  # expire_on_commit=False: no reload, no detached-instance error
