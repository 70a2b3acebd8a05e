"""The module path in the app (AppTest), for one learner in each language: pre-test, a wrong then a right
knowledge check, the exercise, a failed then a passed post-test, the resume point, a double submit."""

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from engine import accounts
from engine.app.i18n import t
from engine.settings import load_settings
from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import Attempt, Cohort, User
from tests.app.conftest import MAIN, SAMPLE

pytestmark = pytest.mark.learner
KEYS = {"t01": "c", "t02": "true", "t03": ["a", "b"]}


@pytest.fixture
def env(tmp_path, monkeypatch):
    env = {"SALA_DATABASE_URL": f"sqlite:///{tmp_path / 'sala.db'}", "SALA_CONTENT_ROOT": str(SAMPLE)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    factory = session_factory(make_engine(load_settings(env)))
    migrate(make_engine(load_settings(env)))
    with transaction(factory) as s:
        s.add(Cohort(name="Kampot 2026", kind="provincial", province_code="07", enrol_code="KAM-07"))
    return factory


def button(at, label):
    return next(b for b in at.button if b.label == label)


def answer_test(at, scope, answers):
    for item_id, value in answers.items():
        if isinstance(value, list):
            for option in ("a", "b", "c"):
                box = [c for c in at.checkbox if c.key == f"{scope}:{item_id}:{option}"]
                if box:
                    box[0].set_value(option in value)
        else:
            at.radio(key=f"{scope}:{item_id}").set_value(value)


def signed_in(factory, username: str, *, lang: str = "en") -> tuple[AppTest, str]:
    """A new learner, signed in through a real token, and an AppTest of the app for them."""
    with transaction(factory) as s:
        user = User(username=username, password_hash="x", full_name_km="សិក្ខាកាម")
        s.add(user)
        s.flush()
        token = accounts.open_session(s, user=user, days=1)
        user_id = user.id
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.session_state["token"] = token
    at.session_state["lang"] = lang
    at.run()
    return at, user_id


def attempts(factory, kind):
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Attempt).where(Attempt.kind == kind))


@pytest.mark.parametrize("lang", ["km", "en"])
def test_a_learner_walks_the_module(env, lang):
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.session_state["lang"] = lang
    at.run()
    # Register with the cohort's code; the account is signed in at once.
    at.switch_page("screens/register.py").run()
    for key, value in {"reg_code": "kam-07", "reg_name_km": "ម៉ៅ ស្រីមុំ", "reg_name_latin": "Mao Sreymom",
                       "reg_institution": "ឃុំកំពង់ត្រាច", "reg_position": "ស្មៀនឃុំ", "reg_username": f"sreymom.{lang}",
                       "reg_phone": "", "reg_password": "a good password", "reg_password_again": "a good password"}.items():
        at.text_input(key=key).input(value)
    at.radio(key="reg_sex").set_value("female")
    at.selectbox(key="reg_province").set_value("07")
    at.selectbox(key="reg_org").set_value("commune")
    button(at, t(lang, "register.submit")).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert t(lang, "course_map.title") in [x.value for x in at.title]
    # "Continue where I left off" opens the module at its pre-test.
    button(at, t(lang, "study.continue")).click().run()
    assert t(lang, "study.pre_title") in [x.value for x in at.subheader]
    at.switch_page("screens/study.py")  # AppTest does not follow st.switch_page on later runs by itself
    # Nothing of the key or the feedback is on the page before the answers are sent.
    page_text = " ".join(str(el.value) for el in at.markdown)
    assert "Right." not in page_text and "ត្រឹមត្រូវ។" not in page_text
    answer_test(at, "pre:01-engagement", {"t01": "a", "t02": "false", "t03": ["c"]})
    button(at, t(lang, "study.submit_test")).click().run()
    assert t(lang, "study.pre_done") in [c.value for c in at.caption]
    # A wrong knowledge-check answer (widgets in a form are sent with the form's button, as in a browser): feedback, no progress; then the right one.
    at.radio(key="check:01-engagement:why-engage-1").set_value("a")
    at.button(key="FormSubmitter:check:01-engagement:why-engage-1-" + t(lang, "study.check")).click().run()
    assert t(lang, "quiz.not_right") in [e.value for e in at.error]
    at.radio(key="check:01-engagement:why-engage-1").set_value("b")
    at.button(key="FormSubmitter:check:01-engagement:why-engage-1-" + t(lang, "study.check")).click().run()
    assert t(lang, "quiz.right") in [s.value for s in at.success]
    at.radio(key="check:01-engagement:why-engage-2").set_value("false")
    at.button(key="FormSubmitter:check:01-engagement:why-engage-2-" + t(lang, "study.check")).click().run()
    for box in at.checkbox:
        if box.key.startswith("check:01-engagement:stakeholder-map-1:"):
            box.set_value(box.key[-1] in "ac")
    at.button(key="FormSubmitter:check:01-engagement:stakeholder-map-1-" + t(lang, "study.check")).click().run()
    at.radio(key="check:01-engagement:stakeholder-map-2").set_value("a")
    at.button(key="FormSubmitter:check:01-engagement:stakeholder-map-2-" + t(lang, "study.check")).click().run()
    # The exercise is saved as the learner writes it.
    at.text_area(key="exercise:01-engagement:dialogue-plan").input("សួរអំពីការរង់ចាំ").run()
    assert t(lang, "study.saved") in [c.value for c in at.caption]
    # A post-test below the pass mark, then a pass; the best score counts.
    answer_test(at, "post:01-engagement", {"t01": "a", "t02": "true", "t03": ["a", "b"]})
    button(at, t(lang, "study.submit_test")).click().run()
    assert not at.exception
    button(at, t(lang, "study.try_again")).click().run()
    answer_test(at, "post:01-engagement", KEYS)
    submit = button(at, t(lang, "study.submit_test"))
    submit.click().run()
    assert t(lang, "study.passed", mark="៧០%" if lang == "km" else "70%") in [s.value for s in at.success]
    assert attempts(env, "post") == 2 and attempts(env, "pre") == 1
    # Back on the course map, the module reads as passed.
    at.switch_page("screens/course_map.py").run()
    assert t(lang, "course_map.state_passed") in " ".join(c.value for c in at.caption)


def test_double_submit_keeps_one_attempt(env):
    at, user_id = signed_in(env, "dara")
    at.switch_page("screens/study.py").run()
    answer_test(at, "pre:01-engagement", KEYS)
    key = at.session_state["attempt_key:pre:01-engagement"]
    form_button = button(at, t("en", "study.submit_test"))
    form_button.click().run()
    # The same form sent again (a second click that arrives late, or a resend after a dropped link).
    from engine import learning
    from engine.content import load

    course = load(SAMPLE)["en"]
    with transaction(env) as s:
        again = learning.submit_test(s, course=course, module=course.modules[0], user_id=user_id, kind="pre",
                                     answers=KEYS, key=key)
    assert again.duplicate
    assert attempts(env, "pre") == 1


def test_results_show_pre_post_gain_chart_and_what_to_review(env):
    from engine import learning
    from engine.content import load

    course = load(SAMPLE)["en"]
    module = course.modules[0]
    with transaction(env) as s:
        user = User(username="vanna", password_hash="x", full_name_km="វណ្ណា")
        s.add(user)
        s.flush()
        token = accounts.open_session(s, user=user, days=1)
        learning.submit_test(s, course=course, module=module, user_id=user.id, kind="pre",
                             answers={"t01": "a", "t02": "false", "t03": ["c"]}, key="p")
        for section in module.sections:
            learning.complete_section(s, user_id=user.id, module_id=module.id, section_id=section.id)
        learning.save_exercise(s, module=module, user_id=user.id, item_id="dialogue-plan", text="plan")
        learning.submit_test(s, course=course, module=module, user_id=user.id, kind="post",
                             answers={"t01": "a", "t02": "true", "t03": ["a", "b"]}, key="q")
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.session_state["token"] = token
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("screens/results.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.iloc[0]) == ["1. Citizen engagement", "0%", "67%", "67%"]
    spec = at.get("plotly_chart")[0].proto.spec
    assert '"y":[0' in spec.replace(" ", "") and "66.66" in spec
    # t01 (missed) is taught in "why-engage": the learner is sent back there.
    assert "Why listen to citizens?" in " ".join(m.value for m in at.markdown)


def test_trainer_resets_a_password_from_the_cohorts_page(tmp_path, monkeypatch):
    from engine.demo import build_demo
    from engine.settings import load_settings

    env = {"SALA_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "SALA_CONTENT_ROOT": str(SAMPLE)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    build_demo(load_settings(env))
    factory = session_factory(make_engine(env["SALA_DATABASE_URL"]))
    with transaction(factory) as s:
        trainer = s.query(User).filter_by(username="demo.trainer").one()
        token = accounts.open_session(s, user=trainer, days=1)
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.session_state["token"] = token
    at.session_state["lang"] = "en"
    at.run()
    options = at.selectbox(key="reset_learner").options
    # Only learners of the trainer's own cohorts (Siem Reap and Ratanakiri) are offered.
    assert options and all(("Siem Reap" in o or "Ratanakiri" in o) for o in options)
    learner_username = options[0].split("(")[1].split(")")[0]
    with factory() as s:
        learner_id = s.query(User.id).filter_by(username=learner_username).scalar()
    at.selectbox(key="reset_learner").set_value(learner_id)
    at.text_input(key="reset_password").input("temporary-123")
    at.button(key="FormSubmitter:reset_password-" + t("en", "cohorts.reset_submit")).click().run()
    assert not at.exception and at.success, [e.value for e in at.error]
    with transaction(factory) as s:
        assert accounts.authenticate(s, login=learner_username, password="temporary-123") is not None


def test_learner_pages_never_show_facilitator_notes(env):
    at, _ = signed_in(env, "piseth")
    at.switch_page("screens/study.py").run()
    answer_test(at, "pre:01-engagement", KEYS)
    button(at, t("en", "study.submit_test")).click().run()
    assert "A one-window office" in " ".join(m.value for m in at.markdown)  # the lesson is there
    everything = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    for note in ("Ask two participants", "flip chart", "Keep groups mixed"):
        assert note not in everything


@pytest.mark.parametrize("lang", ["km", "en"])
def test_public_verification_confirms_name_course_and_date_only(tmp_path, monkeypatch, lang):
    from engine.demo import build_demo
    from engine.settings import load_settings
    from engine.store.models import Certificate

    env = {"SALA_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "SALA_CONTENT_ROOT": str(SAMPLE)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    build_demo(load_settings(env))
    with session_factory(make_engine(env["SALA_DATABASE_URL"]))() as s:
        code, name_km, name_latin, username = s.execute(
            select(Certificate.code, User.full_name_km, User.full_name_latin, User.username)
            .join(User, User.id == Certificate.user_id).limit(1)).one()
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("screens/verify.py").run()
    at.text_input(key="verify_code").input(code.lower())
    at.button[0].click().run()
    message = at.success[0].value
    assert (name_km if lang == "km" else name_latin) in message
    assert username not in message and "@" not in message
    at.text_input(key="verify_code").input("SALA-XXXX-XXXX")
    at.button[0].click().run()
    assert at.error[0].value == t(lang, "verify.invalid")
