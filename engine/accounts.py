"""Accounts: argon2id password hashes, throttled sign-in, and sign-in tokens that survive a page reload.

Only a SHA-256 of a token is stored; the token itself lives in the browser. Neither a password nor a
token is ever logged: the log names the account (or says the login named none), the address and the
outcome. Pure of Streamlit.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from engine import throttle
from engine.errors import FieldError, NotAllowed, Throttled
from engine.places import province_codes
from engine.store.base import LANGUAGES, ORG_TYPES, SEXES, utcnow
from engine.store.db import transaction
from engine.store.models import AuthSession, Cohort, Enrolment, User

log = logging.getLogger("sala.accounts")

_hasher = PasswordHasher()
# A hash checked when the login names no one, so a wrong username costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _find(session: Session, login: str) -> User | None:
    login = login.strip()
    return session.scalar(select(User).where(or_(User.username == login, User.phone == login)))


def authenticate(session: Session, *, login: str, password: str) -> User | None:
    """The active user whose username or phone is `login` and whose password matches, else None.

    The password check alone, not throttled: people sign in through sign_in()."""
    user = _find(session, login)
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def _unknown_login_key(login: str) -> str:
    """What a login that names no account is counted under: a digest, since it may be a password typed
    in the wrong box, which must not be kept. No username can take this form (no "?" in one)."""
    return "?" + hashlib.sha256(login.strip().lower().encode()).hexdigest()


def sign_in(factory: sessionmaker[Session], *, login: str, password: str, days: int, client: str | None = None,
            now: datetime | None = None) -> tuple[User, str] | None:
    """Sign in with throttling (engine.throttle): (user, token to hand to the browser), or None if wrong.

    Throttled, without a look at the password, if the login or the client address has failed too often.
    Failures are counted per account (its username and phone share one count), else per login as typed
    (kept as a digest only), so a login that names no one is throttled exactly like one that does. The
    password is checked between two short transactions, so a slow hash never holds the write lock.
    """
    now = now or utcnow()
    with transaction(factory) as session:
        user = _find(session, login)
        key = user.username if user is not None else _unknown_login_key(login)
        shown = key if user is not None else "a login that names no account"
        throttle.hold(session, key)
        try:
            throttle.check(session, login=key, client=client, now=now)
        except Throttled as exc:
            log.warning("sign-in refused for %s from %s: %s", shown, client or "an unknown address", exc)
            raise
        throttle.record_attempt(session, login=key, client=client, now=now)
        stored = user.password_hash if user is not None and user.active else None
    if stored is None or not verify_password(stored, password):
        if stored is None:
            verify_password(_DUMMY_HASH, password)  # the same time as a wrong password
        with factory() as session:
            count = throttle.failures(session, login=key, now=now)
        log.warning("sign-in failed for %s from %s (%d of %d within %d minutes)", shown,
                    client or "an unknown address", count, throttle.MAX_FAILURES, throttle.WINDOW.seconds // 60)
        return None
    with transaction(factory) as session:
        throttle.clear(session, login=key)
        user = session.get(User, user.id)
        token = open_session(session, user=user, days=days)
    log.info("sign-in: %s from %s", key, client or "an unknown address")
    return user, token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, *, user: User, days: int) -> str:
    """Start a sign-in; returns the token to hand to the browser (and nowhere else)."""
    token = secrets.token_urlsafe(32)
    session.add(AuthSession(user_id=user.id, token_hash=_digest(token), expires_at=utcnow() + timedelta(days=days)))
    return token


def user_for_token(session: Session, token: str | None) -> User | None:
    """The user a live, unexpired, unrevoked token belongs to."""
    if not token:
        return None
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def close_session(session: Session, token: str | None) -> None:
    """Sign out: the token stops working at once, in every app process."""
    if not token:
        return
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        log.info("sign-out: user %s (session %s)", row.user_id, row.id)


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
PHONE = re.compile(r"^0\d{8,9}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Profile:
    full_name_km: str
    full_name_latin: str
    sex: str
    province_code: str | None
    org_type: str
    institution: str
    position: str
    language: str = "km"


def _check_profile(profile: Profile) -> None:
    if not profile.full_name_km.strip():
        raise FieldError("full_name_km", "required", "the name in Khmer is required")
    if profile.sex not in SEXES:
        raise FieldError("sex", "choice", f"expected one of {', '.join(SEXES)}, got {profile.sex!r}")
    if profile.org_type not in ORG_TYPES:
        raise FieldError("org_type", "choice", f"expected one of {', '.join(ORG_TYPES)}, got {profile.org_type!r}")
    if profile.province_code is not None and profile.province_code not in province_codes():
        raise FieldError("province_code", "choice", f"no province has the code {profile.province_code!r}")
    if profile.language not in LANGUAGES:
        raise FieldError("language", "choice", f"expected km or en, got {profile.language!r}")


def _check_login(session: Session, username: str, phone: str | None, password: str) -> None:
    if not USERNAME.match(username):
        raise FieldError("username", "username_format", "3-40 lowercase letters, digits, dots, hyphens or "
                         "underscores, starting with a letter or digit")
    if session.scalar(select(User.id).where(User.username == username)):
        raise FieldError("username", "username_taken", f"{username!r} is already taken")
    if phone is not None:
        if not PHONE.match(phone):
            raise FieldError("phone", "phone_format", "a Cambodian number such as 012345678")
        if session.scalar(select(User.id).where(User.phone == phone)):
            raise FieldError("phone", "phone_taken", "this phone number already has an account")
    if len(password) < MIN_PASSWORD:
        raise FieldError("password", "password_short", f"at least {MIN_PASSWORD} characters")


def cohort_for_code(session: Session, code: str) -> Cohort:
    cohort = session.scalar(select(Cohort).where(Cohort.enrol_code == code.strip().upper()))
    if cohort is None:
        raise FieldError("enrol_code", "code_unknown", "no cohort has this enrolment code")
    if cohort.enrol_code_expires_at is not None and cohort.enrol_code_expires_at <= utcnow():
        raise FieldError("enrol_code", "code_expired", "this enrolment code has expired")
    return cohort


def register(session: Session, *, enrol_code: str, username: str, phone: str | None, password: str,
             profile: Profile) -> User:
    """A learner signs up with a cohort's enrolment code: account and enrolment land together or not at all."""
    cohort = cohort_for_code(session, enrol_code)
    username = username.strip().lower()
    phone = (phone or "").strip().replace(" ", "") or None
    _check_login(session, username, phone, password)
    _check_profile(profile)
    user = User(username=username, phone=phone, password_hash=hash_password(password), role="learner",
                **{k: (v.strip() if isinstance(v, str) else v) for k, v in profile.__dict__.items()})
    session.add(user)
    session.flush()
    session.add(Enrolment(cohort_id=cohort.id, user_id=user.id))
    session.flush()
    log.info("registered: %s in cohort %s", user.username, cohort.id)
    return user


def reset_password(session: Session, *, by: User, learner_id: str, new_password: str) -> None:
    """A trainer resets the password of a learner in one of their cohorts (an administrator: anyone's).
    Every sign-in of that learner ends."""
    learner = session.get(User, learner_id)
    if learner is None:
        raise FieldError("learner", "unknown", "no such learner")
    if by.role != "admin":
        mine = session.scalar(select(Enrolment.id).join(Cohort, Cohort.id == Enrolment.cohort_id).where(
            Enrolment.user_id == learner_id, Cohort.trainer_id == by.id))
        if mine is None or learner.role != "learner":
            raise NotAllowed("only a learner's own trainer or an administrator can reset the password")
    if len(new_password) < MIN_PASSWORD:
        raise FieldError("password", "password_short", f"at least {MIN_PASSWORD} characters")
    learner.password_hash = hash_password(new_password)
    learner.password_changed_at = utcnow()
    ended = revoke_all(session, user_id=learner_id)
    log.info("password reset: %s by %s; %d sign-in(s) ended", learner.username, by.username, ended)


def change_password(factory: sessionmaker[Session], *, user_id: str, current: str, new: str, days: int,
                    now: datetime | None = None) -> str:
    """A user changes their own password, proving the current one (throttled and counted like a sign-in).

    Every sign-in of the user ends, on every device; returns a fresh token for the tab that asked.
    """
    if len(new) < MIN_PASSWORD:
        raise FieldError("password", "password_short", f"at least {MIN_PASSWORD} characters")
    with factory() as session:
        user = session.get(User, user_id)
        if user is None:
            raise FieldError("user", "unknown", "no such user")
        username = user.username
    if sign_in(factory, login=username, password=current, days=days, now=now) is None:
        raise FieldError("current_password", "wrong_current", "the current password is not right")
    with transaction(factory) as session:
        user = session.get(User, user_id)
        user.password_hash = hash_password(new)
        user.password_changed_at = utcnow()
        ended = revoke_all(session, user_id=user_id)
        token = open_session(session, user=user, days=days)
    log.info("password changed: %s; %d sign-in(s) ended", username, ended)
    return token


def revoke_all(session: Session, *, user_id: str) -> int:
    """End every live sign-in of a user (after a password change); returns how many there were."""
    rows = session.scalars(select(AuthSession).where(AuthSession.user_id == user_id,
                                                     AuthSession.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)
