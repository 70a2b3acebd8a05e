"""No password or sign-in token in the logs or the database: register, sign in (wrong, right, throttled),
a trainer's password reset and sign-out, through the engine on SQLite and PostgreSQL and through the app
(AppTest), with every logger at DEBUG, SQLAlchemy's statements and rows included. Also: a token ends at
sign-out and at a password reset in the app, and the throttling message names the minutes to wait."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from streamlit.util import calc_hash

from engine import accounts
from engine.app.i18n import t
from engine.errors import Throttled
from engine.store.db import make_engine, session_factory, transaction
from engine.store.models import Base, Cohort, User

pytestmark = pytest.mark.reliability

LOGGERS = ("", "sala", "streamlit", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic")


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        parts = []
        for r in self.records:
            parts.append(f"{r.name} {r.getMessage()} {r.args!r}")
            if r.exc_info:
                parts.append("".join(traceback.format_exception(*r.exc_info)))
        return "\n".join(parts)


@pytest.fixture
def logs(caplog):
    """Every record of every logger at DEBUG: pytest's caplog, and a handler on loggers that do not
    propagate (Streamlit's)."""
    caplog.set_level(logging.DEBUG)
    capture = Capture()
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(capture)
    yield capture, caplog
    for logger, level in saved:
        logger.setLevel(level)
        logger.removeHandler(capture)


def assert_nowhere(secrets: list[str], logs, url: str) -> None:
    capture, caplog = logs
    logged = capture.text() + "\n" + caplog.text
    assert "sign-in failed for" in logged and "password reset:" in logged  # the capture works
    assert "SELECT" in logged  # SQLAlchemy's statements (and their parameters) are in it
    for secret in secrets:
        assert secret not in logged
    assert_not_stored(secrets, url)


def assert_not_stored(secrets: list[str], url: str) -> None:
    """No cell of any table holds a secret; for SQLite, neither do the file's bytes, free pages and -wal."""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            for table in inspect(engine).get_table_names():
                for row in c.execute(text(f'SELECT * FROM "{table}"')):
                    cells = " ".join(map(str, row)).lower()
                    assert not [s for s in secrets if s.lower() in cells], table
    finally:
        engine.dispose()
    if url.startswith("sqlite"):
        database = Path(make_url(url).database)
        for part in (database, database.with_name(database.name + "-wal")):
            if part.exists():
                raw = part.read_bytes().lower()
                assert not [s for s in secrets if s.lower().encode() in raw], part


# --- Through the engine, on both databases ----------------------------------------------------------------


def test_the_engine_logs_and_keeps_no_password_or_token(store, logs):
    with transaction(store.sessions) as s:
        trainer = User(username="trainer.sok", password_hash=accounts.hash_password("trainer-pass-1"),
                       full_name_km="សុខ", role="trainer")
        s.add(trainer)
        s.flush()
        s.add(Cohort(name="Kampot", kind="provincial", trainer_id=trainer.id, enrol_code="KAM-07"))
        trainer_id = trainer.id
    first, wrong, second = "Sreyneang-first-9d1", "Sreyneang-wrong-4c2", "Sreyneang-second-7e5"
    profile = accounts.Profile(full_name_km="ស្រីនាង", full_name_latin="Sreyneang", sex="female",
                               province_code="07", org_type="commune", institution="ឃុំ", position="ស្មៀន")
    with transaction(store.sessions) as s:
        learner_id = accounts.register(s, enrol_code="KAM-07", username="sreyneang", phone="012777888",
                                       password=first, profile=profile).id

    assert accounts.sign_in(store.sessions, login="sreyneang", password=wrong, days=1) is None
    _, token1 = accounts.sign_in(store.sessions, login="012777888", password=first, days=1)
    for _ in range(5):
        accounts.sign_in(store.sessions, login=wrong, password=first, days=1)  # a password typed as the login
    with pytest.raises(Throttled):
        accounts.sign_in(store.sessions, login=wrong, password=first, days=1)
    with transaction(store.sessions) as s:
        accounts.reset_password(s, by=s.get(User, trainer_id), learner_id=learner_id, new_password=second)
    _, token2 = accounts.sign_in(store.sessions, login="sreyneang", password=second, days=1)
    with transaction(store.sessions) as s:
        accounts.close_session(s, token2)
        assert accounts.user_for_token(s, token1) is None and accounts.user_for_token(s, token2) is None

    assert_nowhere([first, wrong, second, token1, token2], logs, store.url)
    assert "sign-in failed for a login that names no account" in logs[0].text()


# --- Through the app ----------------------------------------------------------------------------------------


def sign_in_page(at, login: str, password: str):
    at.text_input(key="login").input(login)
    at.text_input(key="password").input(password)
    return at.button(key="FormSubmitter:sign_in-" + t(at.session_state["lang"], "sign_in.submit")).click().run()


def sign_out(at):
    at._page_hash = calc_hash("sign_out")  # the menu's sign-out entry is a function page at /sign_out
    return at.run()


def titles(at) -> list[str]:
    return [el.value for el in at.title]


def test_the_app_logs_and_keeps_no_password_or_token_and_ends_sign_ins(app, demo_env, logs):
    first, wrong, second = "Chanthy-first-51a", "Chanthy-wrong-62b", "Chanthy-second-73c"
    at = app(lang="en")
    at.run()
    at.switch_page("screens/register.py").run()
    fields = {"reg_code": "SIE-17", "reg_name_km": "ចាន់ធី", "reg_username": "chanthy.sr", "reg_password": first,
              "reg_password_again": first}
    for key, value in fields.items():
        at.text_input(key=key).input(value)
    at.radio(key="reg_sex").set_value("female")
    at.selectbox(key="reg_org").set_value("commune")
    at.button(key="FormSubmitter:register-" + t("en", "register.submit")).click().run()
    assert not at.exception and at.session_state["token"]
    token1 = at.session_state["token"]

    sign_out(at)
    assert t("en", "sign_in.title") in titles(at) and "token" not in at.session_state
    replay = app(lang="en")
    replay.session_state["token"] = token1  # the same token from a copied cookie: no longer signs in
    replay.run()
    assert t("en", "sign_in.title") in titles(replay)

    at = app(lang="en")
    at.run()
    sign_in_page(at, "chanthy.sr", wrong)
    assert [e.value for e in at.error] == [t("en", "sign_in.failed")]
    sign_in_page(at, "chanthy.sr", first)
    token2 = at.session_state["token"]
    at.run()
    assert t("en", "sign_in.title") not in titles(at)

    trainer = app("demo.trainer", "en")
    trainer.run()
    trainer.switch_page("screens/cohorts.py").run()
    factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
    with factory() as s:
        learner_id = s.scalar(select(User.id).where(User.username == "chanthy.sr"))
    trainer.selectbox(key="reset_learner").set_value(learner_id)
    trainer.text_input(key="reset_password").input(second)
    trainer.button(key="FormSubmitter:reset_password-" + t("en", "cohorts.reset_submit")).click().run()
    assert trainer.success

    at.run()  # the learner's open tab: the reset ended that sign-in
    assert t("en", "sign_in.title") in titles(at)
    sign_in_page(at, "chanthy.sr", second)
    token3 = at.session_state["token"]
    sign_out(at)

    with factory() as s:
        assert [accounts.user_for_token(s, tok) for tok in (token1, token2, token3)] == [None, None, None]
    assert_nowhere([first, wrong, second, token1, token2, token3], logs, demo_env["SALA_DATABASE_URL"])


@pytest.mark.parametrize("lang,minutes,login", [("en", "15", "learner141"), ("km", "១៥", "learner142")])
def test_the_sign_in_page_says_how_long_to_wait(app, lang, minutes, login):
    at = app(lang=lang)
    at.run()
    for _ in range(5):
        sign_in_page(at, login, "not-the-password")
        assert [e.value for e in at.error] == [t(lang, "sign_in.failed")]
    sign_in_page(at, login, "sala-demo-2026")  # the right password, refused unchecked
    assert [e.value for e in at.error] == [t(lang, "sign_in.throttled", minutes=minutes)]
    assert "token" not in at.session_state
    assert minutes in at.error[0].value


def test_models_know_the_failures_table():
    assert "sign_in_failures" in Base.metadata.tables


@pytest.mark.parametrize("lang", ["en", "km"])
def test_a_learner_changes_their_own_password_and_every_other_tab_is_signed_out(app, demo_env, logs, lang):
    username = {"en": "learner143", "km": "learner144"}[lang]
    here, elsewhere = app(username, lang), app(username, lang)
    here.run()
    elsewhere.run()
    here.switch_page("screens/profile.py").run()
    submit = "FormSubmitter:change_password-" + t(lang, "profile.change_submit")

    here.text_input(key="pw_current").input("not-the-password")
    here.text_input(key="pw_new").input("Kampot-river-2026")
    here.text_input(key="pw_again").input("Kampot-river-2026")
    here.button(key=submit).click().run()
    assert [e.value for e in here.error] == [t(lang, "profile.wrong_current")]

    here.text_input(key="pw_current").input("sala-demo-2026")
    here.text_input(key="pw_new").input("Kampot-river-2026")
    here.text_input(key="pw_again").input("Kampot-river-2026")
    here.button(key=submit).click().run()
    assert not here.exception and [s.value for s in here.success] == [t(lang, "profile.password_changed")]
    assert t(lang, "profile.title") in titles(here)  # this tab stays signed in, with a new token

    elsewhere.run()
    assert t(lang, "sign_in.title") in titles(elsewhere)  # every other sign-in has ended
    factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
    with factory() as s:
        assert accounts.authenticate(s, login=username, password="Kampot-river-2026").username == username
        assert accounts.authenticate(s, login=username, password="sala-demo-2026") is None
    logged = logs[0].text() + logs[1].text
    assert f"password changed: {username}" in logged
    assert "Kampot-river-2026" not in logged and "not-the-password" not in logged
