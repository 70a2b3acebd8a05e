"""Sign-in throttling: failed sign-ins are rows in the database, so every app process sees the same count.

Rules (DESIGN.md: state two processes share lives in the database):
- after MAX_FAILURES failed sign-ins for one login within WINDOW, that login is refused for LOCKOUT,
  counted from the failure that made it MAX_FAILURES; a refused attempt is not checked and not counted;
- a successful sign-in clears the login's failures;
- from one client address, CLIENT_MAX_FAILURES failures (over any logins) within WINDOW refuse that
  address until the oldest of them leaves the window. The address is known only when the browser
  reaches Sala directly (classroom mode on the local network, or no proxy): Streamlit reports none for
  a proxy on the same machine, and behind a NAT a whole office shares one, so the cap is set high.

A failure is a row of its own (never a counter updated in place), and the check and the row that
records an attempt are written in one transaction that holds the login's lock (SQLite's write lock; a
PostgreSQL advisory lock on the login), so attempts in parallel cannot pass the check together.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from engine.errors import Throttled
from engine.store.models import SignInFailure

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
CLIENT_MAX_FAILURES = 100
KEEP = WINDOW + LOCKOUT
"""Failures older than this can no longer lock anything: they are deleted."""
LOGIN_LOCK_CLASS = 0x5A1B
"""First key of PostgreSQL's two-key advisory locks held per login (engine.store.db uses one-key locks)."""


def locked_until(failures: Sequence[datetime]) -> datetime | None:
    """When the lock that these failure times (any order) put on a login ends, or None if none ever did.

    A lock starts at a failure that is the MAX_FAILURES-th within WINDOW; no failure is recorded during
    a lock, so any MAX_FAILURES consecutive failures that fit in WINDOW mark the start of one.
    """
    times = sorted(failures)
    ends = [times[i] + LOCKOUT for i in range(MAX_FAILURES - 1, len(times))
            if times[i] - times[i - MAX_FAILURES + 1] <= WINDOW]
    return max(ends, default=None)


def minutes_left(until: datetime, now: datetime) -> int:
    """Whole minutes to wait, rounded up: "wait 1 minute" rather than "wait 0 minutes"."""
    return max(1, math.ceil((until - now).total_seconds() / 60))


def hold(session: Session, login: str) -> None:
    """Keep other sign-ins of `login` out until this transaction ends.

    On SQLite the transaction already holds the write lock (engine.store.db.transaction); on PostgreSQL an
    advisory lock on the login serialises its attempts without blocking anyone else's.
    """
    if session.get_bind().dialect.name == "postgresql":
        digest = int.from_bytes(hashlib.sha256(login.encode()).digest()[:4], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:kind, :key)"), {"kind": LOGIN_LOCK_CLASS, "key": digest})


def check(session: Session, *, login: str, client: str | None, now: datetime) -> None:
    """Raise Throttled if `login` is locked, or `client` over its cap, at `now`; otherwise return."""
    times = session.scalars(select(SignInFailure.failed_at).where(
        SignInFailure.login == login, SignInFailure.failed_at > now - KEEP)).all()
    until = locked_until(times)
    if until is not None and until > now:
        # The message never quotes the login: one that names no account may be a password typed in the wrong box.
        raise Throttled(f"the login is refused until {until:%H:%M} UTC: {MAX_FAILURES} failures "
                        f"within {WINDOW.seconds // 60} minutes", minutes_left(until, now))
    if client is None:
        return
    recent = session.scalars(select(SignInFailure.failed_at).where(
        SignInFailure.client == client, SignInFailure.failed_at > now - WINDOW)
        .order_by(SignInFailure.failed_at)).all()
    if len(recent) >= CLIENT_MAX_FAILURES:
        until = recent[len(recent) - CLIENT_MAX_FAILURES] + WINDOW
        raise Throttled(f"the address {client} is refused until {until:%H:%M} UTC: {len(recent)} failures "
                        f"within {WINDOW.seconds // 60} minutes", minutes_left(until, now))


def record_attempt(session: Session, *, login: str, client: str | None, now: datetime) -> None:
    """Count an attempt as failed before its password is checked (clear() undoes it on success), so a
    process that dies mid-check still counts it; also forget failures too old to matter."""
    session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - KEEP))
    session.add(SignInFailure(login=login, client=client, failed_at=now))


def failures(session: Session, *, login: str, now: datetime) -> int:
    """How many failures of `login` are within WINDOW of `now` (for the log)."""
    return session.scalar(select(func.count()).select_from(SignInFailure).where(
        SignInFailure.login == login, SignInFailure.failed_at > now - WINDOW)) or 0


def clear(session: Session, *, login: str) -> None:
    """A successful sign-in: the login starts again from no failures."""
    session.execute(delete(SignInFailure).where(SignInFailure.login == login))
