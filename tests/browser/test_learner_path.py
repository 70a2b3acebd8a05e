"""The learner path in a real browser on the real course: register with a cohort code, switch language,
reload and stay signed in, take the pre-test, read a section and answer its checks, write the exercise,
take the post-test; then the certificate of a learner who passed all six modules. Screenshots at desktop
width and at 360 px go to artifacts/screenshots/."""

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app.i18n import t
from engine.content import load
from engine.demo import DEMO_PASSWORD
from engine.store.db import make_engine, session_factory
from engine.store.models import Certificate, User
from tests.browser.conftest import serving_demo, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.learner]
REPO = Path(__file__).resolve().parents[2]
KM = load(REPO)["km"]
MODULE = KM.modules[0]


@pytest.fixture(scope="module")
def course_server(tmp_path_factory):
    """The real course with the demo population."""
    with serving_demo(REPO, tmp_path_factory.mktemp("learner")) as served:
        yield served


def click_and_settle(page, locator):
    locator.click()
    settle(page)


def sidebar(page, want_open: bool) -> None:
    """On a phone the sidebar is a drawer over the page: open it to use the menu, close it to read."""
    if page.viewport_size["width"] >= 700:
        return
    shown = page.locator('[data-testid="stSidebar"][data-collapsed="false"]').count() > 0
    if want_open and not shown:
        page.locator('[data-testid="stExpandSidebarButton"]').first.click()
    elif not want_open and shown:
        page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
    page.wait_for_timeout(400)


def nav(page, name: str) -> None:
    sidebar(page, True)
    link = page.get_by_role("link", name=name)
    target = link.get_attribute("href")
    click_and_settle(page, link)
    if page.url != target and link.count():  # a click that landed while the app was still busy: once more
        click_and_settle(page, link)
    sidebar(page, False)


def form_with(page, text):
    return page.locator('[data-testid="stForm"]').filter(has_text=text).first


def choose(scope, item, option_ids):
    """Tick or pick the options, found by their visible text (the order is shuffled per attempt)."""
    for option in item.options:
        if option.id in option_ids:
            label = t("km", f"quiz.{option.id}") if item.type == "true_false" else option.text
            scope.locator("label").filter(has_text=label).first.click()


def answer_test(page, items, right: bool):
    form = form_with(page, items[0].stem[:40])
    for item in items:
        box = form.locator('[data-testid="stVerticalBlock"]').filter(has_text=item.stem[:40]).last
        wanted = sorted(item.key) if right else [o.id for o in item.options if o.id not in item.key][:1]
        choose(form if item.type == "true_false" else box, item, wanted)
    click_and_settle(page, form.get_by_role("button", name=t("km", "study.submit_test")))


@pytest.mark.parametrize("width", [1280, 360])
def test_register_study_and_certificate(chromium, course_server, width):
    url, env = course_server
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        walk(page, url, env, width)
    except Exception:
        shot(page, f"FAILED-learner-path-{width}")
        raise
    finally:
        context.close()


def walk(page, url, env, width):
    page.goto(url)
    settle(page)
    # Switch to English, then back to Khmer, on the public pages.
    sidebar(page, True)
    click_and_settle(page, page.get_by_text("English", exact=True))
    page.get_by_role("heading", name=t("en", "sign_in.title")).wait_for()
    click_and_settle(page, page.get_by_text("ខ្មែរ", exact=True))
    nav(page, t("km", "nav.register"))
    fields = {"register.enrol_code": "SIE-17", "profile.name_km": "ឡុង សុខលី", "profile.name_latin": "Long Sokly",
              "profile.institution": "រដ្ឋបាលស្រុកពួក", "profile.position": "មន្ត្រីច្រកចេញចូលតែមួយ",
              "register.username": f"sokly{width}", "sign_in.password": "sokly-password",
              "register.password_again": "sokly-password"}
    for key, value in fields.items():
        page.get_by_label(t("km", key), exact=True).fill(value)
    page.get_by_text(t("km", "sex.female"), exact=True).click()
    for key, value in (("profile.province", "សៀមរាប"), ("register.org_type", t("km", "org.district"))):
        page.get_by_label(t("km", key)).click()
        page.get_by_role("option", name=value).first.click()
    shot(page, f"register-km-{width}")
    click_and_settle(page, page.get_by_role("button", name=t("km", "register.submit")))
    page.get_by_role("heading", name=t("km", "course_map.title")).wait_for(timeout=20_000)
    # A reload starts a new session: the sign-in cookie keeps the learner signed in.
    page.wait_for_function("document.cookie.includes('sala_token=')", timeout=10_000)
    page.reload()
    settle(page)
    page.get_by_role("heading", name=t("km", "course_map.title")).wait_for(timeout=20_000)
    shot(page, f"course-map-km-{width}")
    click_and_settle(page, page.get_by_role("button", name=t("km", "study.continue")))
    page.get_by_text(t("km", "study.pre_title"), exact=True).wait_for()
    answer_test(page, MODULE.pre_test, right=False)
    page.get_by_text(t("km", "study.pre_done")).wait_for()
    # The first section: a wrong check answer, feedback, then the right one; then the rest of the checks.
    section = MODULE.sections[0]
    first = section.checks[0]
    form = form_with(page, first.stem[:40])
    wrong = [o.id for o in first.options if o.id not in first.key][:1]
    choose(form, first, wrong)
    click_and_settle(page, form.get_by_role("button", name=t("km", "study.check")))
    page.get_by_text(t("km", "quiz.not_right")).first.wait_for()
    shot(page, f"check-feedback-km-{width}")
    for module_section in MODULE.sections:
        for item in module_section.checks:
            form = form_with(page, item.stem[:40])
            if item.type == "multiple":  # untick what a previous try left ticked
                for box in form.get_by_role("checkbox").all():
                    if box.is_checked():
                        box.uncheck(force=True)
            choose(form, item, sorted(item.key))
            click_and_settle(page, form.get_by_role("button", name=t("km", "study.check")))
    for item in MODULE.exercise.items:
        area = page.get_by_label(item.stem[:60], exact=False).first
        area.fill("ផែនការ៖ ជួបប្រជុំជាមួយអង្គការសង្គមស៊ីវិលនៅខែក្រោយ")
        area.press("Tab")
        settle(page)
    page.get_by_text(t("km", "study.post_title"), exact=True).wait_for(timeout=20_000)
    answer_test(page, MODULE.post_test, right=True)
    page.get_by_text(t("km", "study.passed", mark="៧០%")).wait_for(timeout=20_000)
    shot(page, f"post-test-passed-km-{width}")
    # Sign out; sign in as a demo learner who has passed all six modules; open the certificate.
    factory = session_factory(make_engine(env["SALA_DATABASE_URL"]))
    with factory() as session:
        graduate = session.scalar(select(User.username).join(Certificate, Certificate.user_id == User.id)
                                  .where(User.language == "km").limit(1))
    assert graduate is not None
    nav(page, t("km", "nav.sign_out"))
    page.get_by_label(t("km", "sign_in.login")).fill(graduate)
    page.get_by_label(t("km", "sign_in.password")).fill(DEMO_PASSWORD)
    page.get_by_label(t("km", "sign_in.password")).press("Enter")
    settle(page)
    nav(page, t("km", "nav.certificate"))
    page.get_by_text(t("km", "certificate.heading")).wait_for(timeout=20_000)
    page.get_by_text(t("en", "certificate.heading")).wait_for()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow} px wider than the screen"
    shot(page, f"certificate-{width}")
