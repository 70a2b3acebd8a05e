"""Sign-in throttling and sign-in tokens, on SQLite and PostgreSQL: 5 failures within 15 minutes lock a
login for 15 minutes without a look at the password; a success clears the count; the count lives in the
database, so two app processes (two engines) and attempts in parallel share it; tokens expire and end at
sign-out and when the password is reset."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from engine import accounts, throttle
from engine.errors import FieldError, Throttled
from engine.store.db import make_engine, session_factory, transaction
from engine.store.models import AuthSession, Cohort, Enrolment, SignInFailure, User

pytestmark = pytest.mark.reliability

PASSWORD = "right-horse-7"
WRONG = "wrong-horse-7"
T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def add_user(store, username: str, *, phone: str | None = None, role: str = "learner", active: bool = True) -> str:
    with transaction(store.sessions) as s:
        user = User(username=username, phone=phone, password_hash=accounts.hash_password(PASSWORD),
                    full_name_km="សុខា", role=role, active=active)
        s.add(user)
        s.flush()
        return user.id


def attempt(store, login: str, password: str, at: datetime, client: str | None = None, factory=None):
    """'ok', 'wrong', or ('throttled', minutes)."""
    try:
        signed = accounts.sign_in(factory or store.sessions, login=login, password=password, days=1, client=client,
                                  now=at)
    except Throttled as exc:
        return ("throttled", exc.minutes)
    return "wrong" if signed is None else "ok"


def failure_rows(store) -> list[tuple[str, str | None]]:
    with store.sessions() as s:
        return sorted(s.execute(select(SignInFailure.login, SignInFailure.client)).all(),
                      key=lambda r: (r[0], r[1] or ""))


@pytest.mark.parametrize("offsets,expected", [
    ([], None),
    ([0, 1, 2, 3], None),  # four failures lock nothing
    ([0, 1, 2, 3, 4], minutes(19)),  # the fifth within 15 minutes starts a 15-minute lock
    ([4, 0, 3, 1, 2], minutes(19)),  # in any order
    ([0, 1, 2, 3, 15], minutes(30)),  # 0 to 15 is "within 15 minutes"
    ([0, 1, 2, 3, 15.5], None),  # the first has left the window
    ([0, 1, 2, 3, 4, 19.5, 20, 21, 22], minutes(19)),  # after a lock, the count starts again
    ([0, 1, 2, 3, 4, 19.5, 20, 21, 22, 23], minutes(38)),
])
def test_when_a_lock_ends(offsets, expected):
    assert throttle.locked_until([minutes(m) for m in offsets]) == expected


@pytest.mark.parametrize("until,now,wait", [
    (minutes(19), minutes(4), 15), (minutes(19), minutes(18.1), 1), (minutes(19), minutes(18.99), 1),
    (minutes(19), minutes(10.5), 9),
])
def test_minutes_to_wait_round_up(until, now, wait):
    assert throttle.minutes_left(until, now) == wait


def test_five_failures_lock_the_login_for_fifteen_minutes_without_checking_the_password(store, monkeypatch):
    add_user(store, "sokha")
    checks = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: checks.append(p) or real(h, p))

    assert [attempt(store, "sokha", WRONG, minutes(m)) for m in range(5)] == ["wrong"] * 5
    assert len(checks) == 5
    # Locked: even the right password is refused, and is not even checked.
    assert attempt(store, "sokha", PASSWORD, minutes(4)) == ("throttled", 15)
    assert attempt(store, "sokha", PASSWORD, minutes(10.5)) == ("throttled", 9)
    assert attempt(store, "sokha", PASSWORD, minutes(18.5)) == ("throttled", 1)
    assert len(checks) == 5
    assert failure_rows(store) == [("sokha", None)] * 5  # refused attempts are not counted

    assert attempt(store, "sokha", PASSWORD, minutes(19)) == "ok"
    assert failure_rows(store) == []  # a success clears the count


def test_a_success_clears_the_count(store):
    add_user(store, "dara")
    assert [attempt(store, "dara", WRONG, minutes(m)) for m in range(4)] == ["wrong"] * 4
    assert attempt(store, "dara", PASSWORD, minutes(4)) == "ok"
    assert [attempt(store, "dara", WRONG, minutes(m)) for m in range(5, 9)] == ["wrong"] * 4
    assert attempt(store, "dara", PASSWORD, minutes(9)) == "ok"


def test_failures_older_than_the_window_do_not_count(store):
    add_user(store, "vanna")
    assert [attempt(store, "vanna", WRONG, minutes(m)) for m in (0, 1, 2, 3, 16)] == ["wrong"] * 5
    assert attempt(store, "vanna", PASSWORD, minutes(17)) == "ok"


def test_username_and_phone_share_one_count_and_a_login_that_names_no_one_is_throttled_alike(store):
    add_user(store, "chenda", phone="012345678")
    logins = ["chenda", "012345678", " chenda ", "012345678", "chenda"]
    assert [attempt(store, login, WRONG, minutes(m)) for m, login in enumerate(logins)] == ["wrong"] * 5
    assert attempt(store, "012345678", PASSWORD, minutes(5)) == ("throttled", 14)
    assert attempt(store, "chenda", PASSWORD, minutes(5)) == ("throttled", 14)

    # Nobody can tell from the answers whether a login names an account.
    assert [attempt(store, "Nobody.Here", WRONG, minutes(m)) for m in range(5)] == ["wrong"] * 5
    assert attempt(store, "nobody.here", WRONG, minutes(5)) == ("throttled", 14)
    # Counted under a digest: a login that names no one may be a password typed in the wrong box.
    assert [login for login, _ in failure_rows(store) if "nobody" in login] == []
    assert ("?" + hashlib.sha256(b"nobody.here").hexdigest(), None) in failure_rows(store)


def test_an_inactive_account_fails_like_a_wrong_password_and_counts(store):
    add_user(store, "inactive", active=False)
    assert [attempt(store, "inactive", PASSWORD, minutes(m)) for m in range(5)] == ["wrong"] * 5
    assert attempt(store, "inactive", PASSWORD, minutes(5)) == ("throttled", 14)


def test_one_login_locked_leaves_every_other_login_alone(store):
    add_user(store, "target")
    add_user(store, "bystander")
    for m in range(5):
        attempt(store, "target", WRONG, minutes(m))
    assert attempt(store, "bystander", PASSWORD, minutes(5)) == "ok"


def test_two_app_processes_share_the_count(store):
    add_user(store, "shared")
    other = make_engine(store.url)  # a second app process has its own engine and pool
    try:
        factories = [store.sessions, session_factory(other)]
        results = [attempt(store, "shared", WRONG, minutes(m), factory=factories[m % 2]) for m in range(5)]
        assert results == ["wrong"] * 5
        assert attempt(store, "shared", PASSWORD, minutes(6), factory=factories[1]) == ("throttled", 13)
        assert attempt(store, "shared", PASSWORD, minutes(6), factory=factories[0]) == ("throttled", 13)
    finally:
        other.dispose()


def test_attempts_in_parallel_get_at_most_five_password_checks(store, monkeypatch):
    add_user(store, "rushed")
    checked = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: checked.append(p) or real(h, p))
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda i: attempt(store, "rushed", f"{WRONG}-{i}", T0), range(12)))
    assert sorted(map(str, results)) == sorted(["wrong"] * 5 + [str(("throttled", 15))] * 7)
    assert len(checked) == 5
    assert failure_rows(store) == [("rushed", None)] * 5


def test_one_address_failing_over_many_logins_is_capped(store, monkeypatch):
    monkeypatch.setattr(throttle, "CLIENT_MAX_FAILURES", 3)
    add_user(store, "kosal")
    spray = [attempt(store, f"guess{n}", WRONG, minutes(n), client="203.0.113.9") for n in range(3)]
    assert spray == ["wrong"] * 3
    # The address is refused (until its oldest failure leaves the window), whatever login it tries...
    assert attempt(store, "kosal", PASSWORD, minutes(3), client="203.0.113.9") == ("throttled", 12)
    # ...while the same account from another address, or with no known address, signs in.
    assert attempt(store, "kosal", PASSWORD, minutes(3), client="198.51.100.4") == "ok"
    assert attempt(store, "kosal", PASSWORD, minutes(3)) == "ok"
    assert attempt(store, "kosal", PASSWORD, minutes(15.5), client="203.0.113.9") == "ok"


def test_old_failures_are_forgotten(store):
    add_user(store, "old")
    add_user(store, "someone")
    for m in range(3):
        attempt(store, "old", WRONG, minutes(m))
    attempt(store, "someone", WRONG, minutes(40))
    assert failure_rows(store) == [("someone", None)]


# --- Tokens ------------------------------------------------------------------------------------------------


def token_for(store, username: str, days: int = 1) -> str:
    with transaction(store.sessions) as s:
        user = s.scalar(select(User).where(User.username == username))
        return accounts.open_session(s, user=user, days=days)


def who(store, token: str | None) -> str | None:
    with store.sessions() as s:
        user = accounts.user_for_token(s, token)
        return user.username if user else None


def test_a_token_signs_in_until_it_expires(store):
    add_user(store, "bopha")
    token = token_for(store, "bopha", days=14)
    assert who(store, token) == "bopha"
    with transaction(store.sessions) as s:
        row = s.scalar(select(AuthSession))
        assert abs(row.expires_at - row.created_at - timedelta(days=14)) < timedelta(minutes=1)
        s.execute(update(AuthSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert who(store, token) is None
    assert who(store, None) is None and who(store, "") is None and who(store, token + "x") is None


def test_sign_out_ends_that_token_only(store):
    add_user(store, "sreymom")
    phone, laptop = token_for(store, "sreymom"), token_for(store, "sreymom")
    with transaction(store.sessions) as s:
        accounts.close_session(s, phone)
    assert who(store, phone) is None
    assert who(store, laptop) == "sreymom"
    with transaction(store.sessions) as s:  # signing out twice, or with no token, is harmless
        accounts.close_session(s, phone)
        accounts.close_session(s, None)
    assert who(store, phone) is None


def test_a_password_reset_ends_every_sign_in_of_that_learner_and_no_one_elses(store):
    learner_id = add_user(store, "piseth")
    trainer_id = add_user(store, "trainer1", role="trainer")
    add_user(store, "neighbour")
    with transaction(store.sessions) as s:
        cohort = Cohort(name="Kampot", kind="provincial", trainer_id=trainer_id)
        s.add(cohort)
        s.flush()
        s.add(Enrolment(cohort_id=cohort.id, user_id=learner_id))
    tokens = [token_for(store, "piseth") for _ in range(3)]
    kept = token_for(store, "neighbour")
    trainer_token = token_for(store, "trainer1")

    with transaction(store.sessions) as s:
        accounts.reset_password(s, by=s.get(User, trainer_id), learner_id=learner_id, new_password="new-pass-2026")

    assert [who(store, t) for t in tokens] == [None, None, None]
    assert who(store, kept) == "neighbour"
    assert who(store, trainer_token) == "trainer1"
    assert attempt(store, "piseth", PASSWORD, T0) == "wrong"
    assert attempt(store, "piseth", "new-pass-2026", T0) == "ok"
    with store.sessions() as s:
        assert s.get(User, learner_id).password_changed_at > T0


def test_the_database_keeps_only_digests_of_tokens(store):
    add_user(store, "rith")
    signed = accounts.sign_in(store.sessions, login="rith", password=PASSWORD, days=1)
    assert signed is not None
    token = signed[1]
    assert len(token) >= 43  # 32 random bytes
    with store.sessions() as s:
        digests = s.scalars(select(AuthSession.token_hash)).all()
    assert token not in digests and len(digests) == 1 and len(digests[0]) == 64


# --- Changing one's own password ------------------------------------------------------------------------------


def test_changing_ones_own_password_ends_every_other_sign_in(store):
    add_user(store, "sovann")
    add_user(store, "neighbour2")
    phone, laptop, other = token_for(store, "sovann"), token_for(store, "sovann"), token_for(store, "neighbour2")

    fresh = accounts.change_password(store.sessions, user_id=user_id(store, "sovann"), current=PASSWORD,
                                     new="my-own-pass-2026", days=1)

    assert [who(store, t) for t in (phone, laptop, fresh, other)] == [None, None, "sovann", "neighbour2"]
    assert attempt(store, "sovann", PASSWORD, T0) == "wrong"
    assert attempt(store, "sovann", "my-own-pass-2026", T0 + timedelta(seconds=1)) == "ok"


def test_a_wrong_current_password_changes_nothing_and_counts_like_a_failed_sign_in(store):
    add_user(store, "sophea")
    kept = token_for(store, "sophea")
    uid = user_id(store, "sophea")
    for m in range(5):
        with pytest.raises(FieldError) as wrong:
            accounts.change_password(store.sessions, user_id=uid, current=WRONG, new="my-own-pass-2026", days=1,
                                     now=minutes(m))
        assert (wrong.value.field, wrong.value.code) == ("current_password", "wrong_current")
    with pytest.raises(Throttled):
        accounts.change_password(store.sessions, user_id=uid, current=PASSWORD, new="my-own-pass-2026", days=1,
                                 now=minutes(5))
    with pytest.raises(FieldError) as short:
        accounts.change_password(store.sessions, user_id=uid, current=PASSWORD, new="short", days=1, now=minutes(30))
    assert short.value.code == "password_short"
    assert who(store, kept) == "sophea"
    assert attempt(store, "sophea", PASSWORD, minutes(30)) == "ok"


def user_id(store, username: str) -> str:
    with store.sessions() as s:
        return s.scalar(select(User.id).where(User.username == username))
