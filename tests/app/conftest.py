"""A demo population on the sample course, and AppTest sessions signed in as each role."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import accounts
from engine.demo import build_demo
from engine.settings import load_settings
from engine.store.db import make_engine, session_factory, transaction
from engine.store.models import User

REPO = Path(__file__).resolve().parents[2]
MAIN = str(REPO / "engine" / "app" / "main.py")
SAMPLE = REPO / "tests" / "fixtures" / "sample"


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('app') / 'sala.db'}"
    env = {"SALA_DATABASE_URL": url, "SALA_CONTENT_ROOT": str(SAMPLE)}
    build_demo(load_settings(env))
    return env


@pytest.fixture
def app(demo_env, monkeypatch):
    """Make an AppTest, optionally signed in as `username` (a real token through engine.accounts)."""
    for key, value in demo_env.items():
        monkeypatch.setenv(key, value)

    def make(username: str | None = None, lang: str | None = None) -> AppTest:
        at = AppTest.from_file(MAIN, default_timeout=30)
        if username:
            factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
            with transaction(factory) as session:
                user = session.query(User).filter_by(username=username).one()
                at.session_state["token"] = accounts.open_session(session, user=user, days=1)
        if lang:
            at.session_state["lang"] = lang
        return at

    return make
