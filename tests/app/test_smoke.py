"""Every page, for every role, in both languages: it renders without an exception and shows its title;
a role never gets a page it is not given."""

import pytest

from engine.app.i18n import t

pytestmark = pytest.mark.app

ROLE_PAGES = {
    None: ["sign_in", "register", "verify"],
    "demo.learner": ["course_map", "study", "results", "certificate", "join", "profile", "verify"],
    "demo.trainer": ["cohorts", "cohort", "cascade", "report", "classroom", "session", "profile", "verify"],
    "demo.facilitator": ["classroom", "session", "cohorts", "cohort", "report", "profile", "verify"],
    "demo.admin": ["cohorts", "cohort", "cascade", "report", "classroom", "session", "national", "users", "content",
                   "bundles", "profile", "verify"],
}
ALL_PAGES = {"sign_in", "register", "verify", "course_map", "study", "results", "certificate", "cohorts", "cohort",
             "cascade", "report", "classroom", "session", "join", "users", "content", "bundles", "profile", "national"}
CASES = [(user, page, lang) for user, pages in ROLE_PAGES.items() for page in pages for lang in ("km", "en")]


STUDY_TITLES = {"km": "ការចូលរួមរបស់ពលរដ្ឋ", "en": "Citizen engagement"}  # the sample's module 1


def titles(at):
    return [el.value for el in at.title]


@pytest.mark.parametrize("user,page,lang", CASES)
def test_page_renders_for_role(app, user, page, lang):
    at = app(user, lang)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(f"screens/{page}.py").run()
    assert not at.exception, at.exception
    if page == "session":  # titled by the session's module
        assert titles(at) and titles(at)[0] in STUDY_TITLES.values()
        return
    if page == "report":  # titled by its cohort
        assert titles(at) and titles(at)[0].startswith(t(lang, "report.title", cohort=""))
        return
    expected = STUDY_TITLES[lang] if page == "study" else t(lang, f"{page}.title")
    assert expected in titles(at)


@pytest.mark.parametrize("user", list(ROLE_PAGES))
def test_pages_not_given_to_a_role_are_refused(app, user):
    allowed = set(ROLE_PAGES[user])
    at = app(user, "en")
    at.run()
    for page in sorted(ALL_PAGES - allowed):
        # The router registers only the role's pages: any other page does not exist for this session.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"screens/{page}.py")


def test_khmer_is_the_default_language(app):
    at = app()
    at.run()
    assert t("km", "sign_in.title") in titles(at)


def test_sign_in_with_a_wrong_password_is_refused_then_the_right_one_works(app):
    at = app(lang="en")
    at.run()
    at.text_input(key="login").input("demo.learner")
    at.text_input(key="password").input("wrong")
    at.button[0].click().run()
    assert at.error and at.error[0].value == t("en", "sign_in.failed")
    at.text_input(key="password").input("sala-demo-2026")
    at.button[0].click().run()
    assert not at.exception
    assert t("km", "course_map.title") in titles(at)  # the learner's own language (km) applies


def test_language_switch_changes_the_page(app):
    at = app("demo.learner")
    at.run()
    assert t("km", "course_map.title") in titles(at)
    at.radio(key="lang_choice").set_value("en").run()
    assert t("en", "course_map.title") in titles(at)
