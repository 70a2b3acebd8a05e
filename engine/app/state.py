"""What every page shares: settings, the database, the course, the signed-in user and the language.

Shared state lives in the database; `st.session_state` holds only this browser tab's own things (its
sign-in token and chosen language). Long-lived resources are cached per process with cache_resource.
"""

from __future__ import annotations

import hashlib
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from engine import accounts
from engine.app.i18n import t
from engine.content import Course, load
from engine.errors import ContentInvalid, SalaError
from engine.settings import Settings, load_settings
from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import User

log = logging.getLogger("sala")


def fingerprint(root: Path) -> str:
    """Changes whenever a content file changes: a cheap key for the content cache (stat only, every rerun).
    os.scandir rather than Path.rglob: it hands back each entry's type without another system call, which
    makes it five times faster (about 1 ms for the course)."""
    found = []
    folders = [os.path.join(root, folder) for folder in ("course", "modules", "content")]
    while folders:
        try:
            entries = os.scandir(folders.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file():
                        stat = entry.stat()
                        found.append(f"{entry.path}:{stat.st_mtime_ns}:{stat.st_size}")
                except OSError:  # a symbolic link loop, or a file gone meanwhile: validation names it
                    found.append(f"{entry.path}:unreadable")
    return hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()


@st.cache_resource(show_spinner=False)
def _course(root: str, _fingerprint: str) -> dict[str, Course] | ContentInvalid:
    try:
        return load(root)
    except ContentInvalid as exc:
        for problem in exc.problems:
            log.error("content: %s", problem)
        return exc


def course_for(settings: Settings, key: str) -> dict[str, Course] | ContentInvalid:
    return _course(str(settings.content_root), key)


@st.cache_resource(show_spinner=False)
def _database(url: str):
    engine = make_engine(url)
    migrate(engine)
    return session_factory(engine)


@dataclass
class Context:
    settings: Settings
    lang: str
    user: User | None
    courses: dict[str, Course]
    factory: object

    @property
    def course(self) -> Course:
        return self.courses[self.lang]

    def t(self, key: str, **values) -> str:
        return t(self.lang, key, **values)

    @contextmanager
    def db(self):
        """A session for reading (and small writes); committed at the end of the block."""
        with self.factory() as session, session.begin():
            yield session

    def write(self):
        """A write transaction that takes the SQLite write lock up front, so writers queue, never fail."""
        return transaction(self.factory)


def _stop_with(lang: str, heading_key: str, detail: str) -> None:
    st.error(t(lang, heading_key))
    st.code(detail, language=None)
    st.stop()


def build_context() -> Context:
    """Everything a page needs, or a translated error on the page (never a traceback)."""
    lang = st.session_state.get("lang")
    try:
        settings = load_settings()
        lang = lang or settings.default_language
        factory = _database(settings.database_url)
    except SalaError as exc:
        log.error("configuration: %s", exc)
        _stop_with(lang or "km", "app.config_error", str(exc))
    courses = course_for(settings, fingerprint(settings.content_root))
    if isinstance(courses, ContentInvalid):
        _stop_with(lang, "app.content_invalid", "\n".join(str(p) for p in courses.problems))
    user = None
    token = st.session_state.get("token")
    if not token and "token_checked" not in st.session_state:
        # A reload starts a new session: the sign-in survives in the browser's cookie (see remember()).
        st.session_state["token_checked"] = True
        token = st.context.cookies.get(COOKIE)
        token = token if isinstance(token, str) else None  # AppTest has no browser, so no cookies
        if token:
            st.session_state["token"] = token
    if token:
        with factory() as session:
            user = accounts.user_for_token(session, token)
            if user is not None:
                session.expunge(user)
        if user is None:
            st.session_state.pop("token", None)
            st.session_state["cookie_to_clear"] = True
        elif "lang" not in st.session_state:
            lang = user.language
    st.session_state["lang"] = lang
    return Context(settings, lang, user, courses, factory)


def require(ctx: Context, *roles: str) -> User:
    """Stop the page unless a user with one of `roles` is signed in (pages check, not only the menu)."""
    if ctx.user is None or (roles and ctx.user.role not in roles):
        st.error(ctx.t("app.not_allowed"))
        st.stop()
    return ctx.user


COOKIE = "sala_token"


def remember(token: str, days: int) -> None:
    st.session_state["cookie_to_set"] = (token, days)


def browser_memory() -> None:
    """Write or clear the sign-in cookie. Streamlit cannot set cookies itself, so a zero-height component
    (same origin) does it; the token is random and only its hash is stored on the server."""
    import streamlit.components.v1 as components

    pending = st.session_state.pop("cookie_to_set", None)
    if pending is not None:
        token, days = pending
        components.html(f"<script>document.cookie = '{COOKIE}={token}; path=/; max-age={days * 86400}; "
                        "samesite=strict';</script>", height=0)
    if st.session_state.pop("cookie_to_clear", False):
        components.html(f"<script>document.cookie = '{COOKIE}=; path=/; max-age=0; samesite=strict';</script>",
                        height=0)


def current() -> Context:
    """The context main.py built for this run of the script (each browser tab has its own)."""
    return st.session_state["_sala_ctx"]
