"""Accounts: argon2id password hashes, sign-in, and sign-in tokens that survive a page reload.

Only a SHA-256 of a token is stored; the token itself lives in the browser. Pure of Streamlit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.store.base import utcnow
from engine.store.models import AuthSession, User

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


def authenticate(session: Session, *, login: str, password: str) -> User | None:
    """The active user whose username or phone is `login` and whose password matches, else None."""
    login = login.strip()
    user = session.scalar(select(User).where(or_(User.username == login, User.phone == login)))
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


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
    if not token:
        return
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
