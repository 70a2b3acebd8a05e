"""What learners type is shown as text, never as HTML, Markdown or a link: four learners named, placed and
titled `<script>alert(1)</script>`, `<b>x</b>`, `**bold**` and `[link](javascript:alert(1))`, seen on the
trainer's roster and progress grid, the password reset, the learner's own pages and certificate, the
public verification page, and the facilitator's attendance and walk-in, through AppTest.

Markdown bodies are rendered as CommonMark (raw HTML allowed, every link accepted: the strictest reading),
and must show each name as its own characters; st.html bodies and plotly labels must carry it escaped."""

from __future__ import annotations

import html
import json
from datetime import date

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import select

from engine import classroom
from engine.app.i18n import t
from engine.content import load
from engine.store.db import make_engine, session_factory, transaction
from engine.store.models import Certificate, Cohort, Enrolment, User

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

PAYLOADS = ["<script>alert(1)</script>", "<b>x</b>", "**bold**", "[link](javascript:alert(1))"]
# What each payload would become if it were taken as markup; none may ever be rendered.
MARKUP = ["<script", "<b>x</b>", "<strong>bold</strong>", 'href="javascript:alert(1)"']
MARKDOWN_KINDS = ("markdown", "caption", "title", "header", "subheader", "success", "error", "warning", "info")

_commonmark = MarkdownIt("commonmark", {"html": True})
_commonmark.validateLink = lambda url: True


def as_text(payload: str) -> str:
    """The payload as literal text in rendered HTML."""
    return html.escape(payload, quote=False)


def rendered(at) -> dict[str, list[str]]:
    """Every Markdown body rendered to HTML, every st.html body, every plotly figure, every plain text."""
    found: dict[str, list[str]] = {"markdown": [], "html": [], "plotly": [], "plain": []}
    for kind in MARKDOWN_KINDS:
        found["markdown"] += [_commonmark.render(el.value) for el in at.get(kind)]
    found["html"] = [el.proto.body for el in at.get("html")]
    found["plotly"] = [str(label) for el in at.get("plotly_chart") for trace in json.loads(el.proto.spec)["data"]
                       for axis in ("x", "y", "labels", "text") for label in _flat(trace.get(axis) or [])]
    found["plain"] = [el.value for el in at.text] + [
        " ".join(map(str, frame.value.to_numpy().ravel())) for frame in at.dataframe]
    return found


def _flat(values) -> list:
    return [v for value in values for v in (_flat(value) if isinstance(value, list) else [value])]


def assert_no_markup(at) -> dict[str, list[str]]:
    assert not at.exception, at.exception
    found = rendered(at)
    for body in found["markdown"] + found["html"]:
        for markup in MARKUP:
            assert markup not in body, body
    for label in found["plotly"]:  # plotly draws <b>, <br> and <a href> in labels
        assert "<" not in label, label
    return found


def shows(found: dict[str, list[str]], kind: str, text: str) -> bool:
    return any(text in body for body in found[kind])


@pytest.fixture(scope="module")
def evil(demo_env):
    """Four certified learners of demo.trainer renamed to the payloads, enrolled with demo.facilitator too
    and checked in to a classroom session of theirs."""
    engine = make_engine(demo_env["SALA_DATABASE_URL"])
    course = load(demo_env["SALA_CONTENT_ROOT"])["km"]
    with transaction(session_factory(engine)) as s:
        trainer = s.scalar(select(User).where(User.username == "demo.trainer"))
        facilitator = s.scalar(select(User).where(User.username == "demo.facilitator"))
        mine = select(Cohort.id).where(Cohort.trainer_id == trainer.id)
        rows = s.execute(select(User, Certificate.code).join(Certificate, Certificate.user_id == User.id)
                         .join(Enrolment, Enrolment.user_id == User.id).where(Enrolment.cohort_id.in_(mine))
                         .order_by(User.username).limit(4)).all()
        assert len(rows) == 4, "the demo population has certified learners in demo.trainer's cohorts"
        room_cohort = s.scalars(select(Cohort).where(Cohort.trainer_id == facilitator.id).order_by(Cohort.name)).first()
        for (user, _), payload in zip(rows, PAYLOADS, strict=True):
            user.full_name_km = user.full_name_latin = user.institution = user.position = payload
            s.add(Enrolment(cohort_id=room_cohort.id, user_id=user.id))
        s.flush()
        room = classroom.open_session(s, by=facilitator, course=course, cohort_id=room_cohort.id,
                                      module_id=course.modules[0].id, venue="សាលប្រជុំ", held_on=date(2026, 9, 7))
        for user, _ in rows:
            classroom.check_in(s, room.id, user.id, "joined")
        found = {"usernames": [u.username for u, _ in rows], "codes": [c for _, c in rows],
                 "ids": [u.id for u, _ in rows], "room": room.id}
    engine.dispose()
    return found


def test_the_trainers_roster_and_progress_grid(app, evil):
    at = app("demo.trainer", "en")
    at.session_state["cohort_id"] = "__all__"  # all of the trainer's cohorts at once
    at.run()
    at.switch_page("screens/cohort.py").run()
    found = assert_no_markup(at)
    for payload in PAYLOADS:
        assert shows(found, "plain", payload)  # the roster table shows the very characters
        assert as_text(payload) in found["plotly"]  # a row of the progress grid


def test_the_password_reset_names_the_learner_as_text(app, evil):
    at = app("demo.trainer", "en")
    at.run()
    at.switch_page("screens/cohorts.py").run()
    for learner_id, payload in zip(evil["ids"], PAYLOADS, strict=True):
        at.selectbox(key="reset_learner").set_value(learner_id)
        at.text_input(key="reset_password").input("temporary-2026")
        at.button(key="FormSubmitter:reset_password-" + t("en", "cohorts.reset_submit")).click().run()
        found = assert_no_markup(at)
        assert shows(found, "markdown", t("en", "cohorts.reset_done", name=as_text(payload)))


@pytest.mark.parametrize("n", range(4))
def test_the_learners_own_pages_and_certificate(app, evil, n):
    payload = PAYLOADS[n]
    at = app(evil["usernames"][n], "en")
    at.run()
    found = assert_no_markup(at)
    assert shows(found, "markdown", t("en", "app.signed_in_as", name=as_text(payload)))
    at.switch_page("screens/profile.py").run()
    found = assert_no_markup(at)
    assert shows(found, "plain", f"{t('en', 'profile.institution')}: {payload}")
    assert shows(found, "plain", f"{t('en', 'profile.position')}: {payload}")
    at.switch_page("screens/certificate.py").run()
    found = assert_no_markup(at)
    assert shows(found, "html", html.escape(payload))


@pytest.mark.parametrize("lang", ["km", "en"])
def test_the_public_verification_page(app, evil, lang):
    at = app(None, lang)
    at.run()
    at.switch_page("screens/verify.py").run()
    for code, payload in zip(evil["codes"], PAYLOADS, strict=True):
        at.text_input(key="verify_code").input(code)
        at.button[0].click().run()
        found = assert_no_markup(at)
        assert [s.value for s in at.success], "the certificate is found"
        assert any(as_text(payload) in body for body in found["markdown"])


def test_the_facilitators_attendance_and_a_walk_in(app, evil):
    at = app("demo.facilitator", "en")
    at.session_state["live_session"] = evil["room"]
    at.run()
    at.switch_page("screens/session.py").run()
    found = assert_no_markup(at)
    for payload in PAYLOADS:  # the attendance grid (a data editor) shows the very characters
        assert shows(found, "plain", payload)
    assert all(shows(found, "html", html.escape(payload)) for payload in PAYLOADS)  # the paper answer sheets

    for payload in PAYLOADS:
        at.text_input(key="walk_name_km").input(payload)
        at.text_input(key="walk_position").input(payload)
        at.button(key="FormSubmitter:walk_in-" + t("en", "session.walk_in")).click().run()
        found = assert_no_markup(at)
        assert any(as_text(payload) in body for body in found["markdown"]), payload
