"""The National overview page: for coordinators and administrators, on the demo population; its figures
are engine.national's (tests/store/test_summaries.py checks those against the row-by-row figures)."""

import pytest
from sqlalchemy import select

from engine import national
from engine.app.i18n import number, t
from engine.content import load
from engine.store.db import make_engine, session_factory
from engine.store.models import User
from tests.app.conftest import SAMPLE

pytestmark = pytest.mark.trainer


def cells(at) -> list[str]:
    return [str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()]


@pytest.mark.parametrize("lang", ["km", "en"])
def test_the_administrator_sees_the_country(app, demo_env, lang):
    at = app("demo.admin", lang)
    at.run()
    at.switch_page("screens/national.py").run()
    assert not at.exception, at.exception
    assert t(lang, "national.title") in [el.value for el in at.title]
    factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
    with factory() as session:
        admin = session.scalar(select(User).where(User.username == "demo.admin"))
        overview = national.overview(session, user=admin, course=load(SAMPLE)[lang])
    learners = next(m for m in at.metric if m.label == t(lang, "national.learners"))
    assert learners.value == number(lang, overview.learners)
    assert overview.learners > 100
    at.radio(key="national_split").set_value("province_code").run()
    assert not at.exception, at.exception
    assert t(lang, "national.items_title") in [el.value for el in at.subheader]
    at.radio(key="national_test").set_value("pre").run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("username", ["demo.trainer", "demo.facilitator", "demo.learner"])
def test_no_one_else_gets_the_page(app, username):
    at = app(username, "en")
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("screens/national.py")
