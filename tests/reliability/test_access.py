"""Issue #7, part 1 — the access table through the app: every page × every role, what each may see.

Seven roles on the demo population: not signed in, a learner (Siem Reap), a learner of another cohort
(Kampot), a trainer (Siem Reap, Ratanakiri), a trainer of another cohort (Preah Vihear, added through the
engine), the facilitator (Kampot, Kampong Cham; runs the demo's two classroom sessions) and the
administrator. Each role's menu holds exactly its pages, each opened through the menu; every page × role
(19 × 7 = 133 cases) is opened by its URL path as a browser's first request, with query parameters naming
another learner, cohort, session and certificate: the role gets the page, or its home page instead; a page
it is not given, run from its own file for that user (no router in front), refuses and shows nothing else.
Then: a room's code in the URL, widget state naming another's data, the public verification, a new
learner's path from pre-test to post-test, and positive controls that the needles do find what they look for.

Every leak assertion is on the rendered output (access_support.rendered): nothing a role must not see is
in any string, table, figure or download of the page. The exports' engine functions are in
test_access_engine.py.
"""

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from engine import accounts, classroom, learning
from engine.app.i18n import t
from engine.demo import DEMO_PASSWORD
from engine.store.db import transaction
from engine.store.models import Attendance, User
from tests.reliability.access_support import (
    CASES,
    COURSES,
    HOME,
    KEYS,
    MENU,
    PAGES,
    PUBLIC,
    ROLES,
    SCREENS,
    SHOWN,
    KeptDeferred,
    World,
    build_world,
    button,
    by_url,
    content_needles,
    download,
    download_text,
    found,
    keep_downloads,
    leaks,
    open_app,
    page_alone,
    patterns_of,
    refused,
    rendered,
    shows,
    titles,
)

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def world(demo_env) -> World:
    return build_world(demo_env)


@pytest.fixture(autouse=True)
def _keep_downloads(monkeypatch):
    keep_downloads(monkeypatch)


# --- 1. The menu of each role: exactly its pages, and each opens with nothing it must not show --------------

def test_the_table_covers_every_screen():
    assert set(PAGES) == {p.stem for p in SCREENS.glob("*.py")}
    assert len(CASES) == len(PAGES) * len(ROLES) == 19 * 7
    assert len(SHOWN) == 3 + 7 + 7 + 8 + 8 + 7 + 12  # visitor, learners, trainers, facilitator, administrator


@pytest.mark.parametrize("role", ROLES)
def test_menu_of_role(app, world, role):
    at = open_app(app, world, role, "en").run()
    assert not at.exception, at.exception
    assert shows(at, HOME[role], "en"), titles(at)
    in_menu = set()
    for page in PAGES:
        try:
            at.switch_page(f"screens/{page}.py")
        except ValueError as exc:
            assert "Could not find a navigation page" in str(exc)
            continue
        in_menu.add(page)
        at.run()
        assert not at.exception, (page, at.exception)
        assert shows(at, page, "en") and not refused(at, "en"), (page, titles(at))
        assert leaks(world, role, page, rendered(at)) == [], page
    assert in_menu == MENU[role]


# --- 2. The page table: pages × roles, by URL with hostile query parameters, and the page's own guard ---------

HOSTILE = {  # role: (a learner, a cohort, a classroom session's cohort) that are not the role's own
    "anon": ("learner", "Siem Reap 2026", "Preah Vihear 2026"),
    "learner": ("learner_other", "Kampot 2026", "Preah Vihear 2026"),
    "learner_other": ("learner", "Siem Reap 2026", "Preah Vihear 2026"),
    "trainer": ("learner_other", "Kampot 2026", "Preah Vihear 2026"),
    "trainer_other": ("learner", "Siem Reap 2026", "Siem Reap 2026"),
    "facilitator": ("learner", "Siem Reap 2026", "Preah Vihear 2026"),
    "admin": ("learner_other", "Preah Vihear 2026", "Preah Vihear 2026"),  # all are theirs: ignored all the same
}


def hostile_params(world: World, role: str) -> dict[str, str]:
    """Query parameters naming a learner, a cohort, a classroom session and a certificate that are not the
    role's own, under the names a curious user would try in the address bar."""
    learner_role, cohort, room = HOSTILE[role]
    learner = world.person(learner_role)
    code = world.certificate_of[world.usernames["learner_other"]] if role != "learner_other" else next(
        c for u, c in sorted(world.certificate_of.items()) if u != world.usernames[role])
    return {"learner": learner.id, "user": learner.username, "user_id": learner.id,
            "cohort": world.cohort_ids[cohort], "cohort_id": world.cohort_ids[cohort],
            "session": world.sessions[room], "session_id": world.sessions[room], "cert": code, "certificate": code}


@pytest.mark.parametrize("page,role", CASES)
def test_page_for_role(app, world, page, role):
    """By URL, as the first request of a browser session (Khmer): the page itself if the role has it, else
    the role's home page; the query parameters change neither. A page the role does not have, run on its
    own for that user, refuses and shows nothing else."""
    given = page in MENU[role]
    at = by_url(open_app(app, world, role, "km"), page, hostile_params(world, role))
    assert not at.exception, at.exception
    assert shows(at, page if given else HOME[role], "km"), titles(at)
    assert not refused(at, "km")
    assert leaks(world, role, page if given else HOME[role], rendered(at)) == []
    if given or page in PUBLIC:
        return
    at = AppTest.from_function(page_alone, args=(str(SCREENS / f"{page}.py"),), default_timeout=30)
    if role != "anon":
        at.session_state["token"] = world.tokens[role]
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    assert refused(at, "en") and not titles(at)
    assert [el.type for el in at.main.children.values()] == ["error"]
    assert leaks(world, role, page, rendered(at)) == []


# --- 3. A room's code in the URL; widget state naming what is not the role's ------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_a_rooms_code_in_the_url(app, world, role):
    """/?code=<another cohort's open session>: a learner lands on the join form with the code filled in and
    is not checked in until they send it; a visitor keeps it through signing in; staff pages ignore it."""
    at = open_app(app, world, role, "en")
    at.query_params["code"] = world.join_code
    at.run()
    assert not at.exception, at.exception
    learner = role in ("learner", "learner_other")
    assert shows(at, "join" if learner else HOME[role], "en"), titles(at)
    if learner:
        assert at.text_input(key="join_code_input").value == world.join_code
        with world.factory() as s:
            assert world.person(role).id not in set(s.scalars(select(Attendance.user_id).where(
                Attendance.session_id == world.sessions["Preah Vihear 2026"])))
    if role == "anon":
        assert at.session_state["join_code"] == world.join_code
    assert leaks(world, role, "join" if learner else HOME[role], rendered(at)) == []


TAMPERED = [  # (role, page, widget key, what it is set to): a value the page never offers that role
    ("trainer", "cohort", "cohort_id", ("cohort", "Kampot 2026")),
    ("facilitator", "cohort", "cohort_id", ("cohort", "Siem Reap 2026")),
    ("trainer_other", "cohort", "cohort_id", ("cohort", "Siem Reap 2026")),
    ("trainer_other", "cohort", "cohort_id", ("literal", "__all__")),
    ("trainer", "cohort", "cohort_learner", ("person", "learner_other")),
    ("trainer", "report", "report_cohort", ("cohort", "Kampot 2026")),
    ("facilitator", "report", "report_cohort", ("cohort", "Preah Vihear 2026")),
    ("trainer_other", "session", "live_session", ("session", "Siem Reap 2026")),
    ("facilitator", "session", "live_session", ("session", "Preah Vihear 2026")),
    ("trainer", "cohorts", "reset_learner", ("person", "learner_other")),
    ("learner", "study", "study_module", ("literal", "02-data")),
]


@pytest.mark.parametrize("role,page,key,value", TAMPERED)
def test_widget_state_naming_anothers_data(app, world, role, page, key, value):
    """Streamlit drops a widget value that is not one of the widget's options; the page then shows the role's
    own data, and the engine's own check (check_cohorts, sessions_of) stands behind it."""
    kind, what = value
    ids = {"cohort": world.cohort_ids, "session": world.sessions,
           "person": {r: world.person(r).id for r in ROLES if r != "anon"}}
    at = open_app(app, world, role, "en")
    at.session_state[key] = ids[kind][what] if kind in ids else what
    by_url(at, page)
    assert not at.exception, at.exception
    assert shows(at, page, "en") and not refused(at, "en"), titles(at)
    assert leaks(world, role, page, rendered(at)) == []


# --- 4. The public verification: a certificate's holder by name and date, nothing else ---------------------

@pytest.mark.parametrize("role", ROLES)
def test_verification_page_shows_a_holders_name_and_nothing_else(app, world, role):
    """Anyone with a certificate's code may check it (the public verification): the page names the holder,
    the course and the date; nothing else of theirs (username, phone, id, scores, cohort) is on it."""
    holder = world.person("learner_other")
    at = by_url(open_app(app, world, role, "en"), "verify")
    at.text_input(key="verify_code").input(world.certificate_of[holder.username])
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] and holder.name_latin in at.success[0].value
    text = rendered(at).replace(holder.name_km, "").replace(holder.name_latin, "")  # public, by design
    assert leaks(world, role, "verify", text) == []


# --- 5. Before submitting: a new learner's path, checked on every screen they see -------------------------

def test_a_learner_never_sees_keys_feedback_or_notes_before_answering(app, world):
    """A new learner of the other trainer's cohort: the pre-test, the sections and their checks, the room's
    screen on their phone (a section, then a poll), the post-test. At each step the rendered page holds no
    facilitator notes and no feedback or key they have not earned; after answering, exactly what they chose."""
    module = COURSES["en"].modules[0]
    with transaction(world.factory) as s:
        me = accounts.register(s, enrol_code="PRE-13", username="pv.journey", phone=None, password=DEMO_PASSWORD,
                               profile=accounts.Profile("អ៊ុក ចរិយា", "Ouk Chariya", "female", "13", "commune",
                                                        "ក្រុមប្រឹក្សាឃុំរំដោះ", "ស្មៀនឃុំ", language="en"))
        me_id, token = me.id, accounts.open_session(s, user=me, days=1)

    def check(at: AppTest) -> str:
        assert not at.exception, at.exception
        text = rendered(at)
        assert found(patterns_of(content_needles(world, me_id)), text) == []
        return text

    at = app(None, "en")
    at.session_state["token"] = token
    text = check(by_url(at, "study"))  # 1. the pre-test form
    assert t("en", "study.pre_title") in [h.value for h in at.subheader] and module.pre_test[0].stem in text
    scope = f"pre:{module.id}"
    at.radio(key=f"{scope}:t01").set_value("a")
    at.radio(key=f"{scope}:t02").set_value("false")
    at.checkbox(key=f"{scope}:t03:c").check()
    button(at, f"FormSubmitter:form:{scope}-{t('en', 'study.submit_test')}").click().run()
    text = check(at)  # 2. the sections: the pre-test's answers are not marked, no check answered yet
    assert module.sections[0].body.strip()[:40] in text
    first = module.sections[0].checks[0]  # why-engage-1, a single choice; "a" is wrong
    at.radio(key=f"check:{module.id}:{first.id}").set_value("a")
    button(at, f"FormSubmitter:check:{module.id}:{first.id}-{t('en', 'study.check')}").click().run()
    text = check(at)  # 3. feedback for the option chosen, and for no other
    assert first.option("a").feedback.strip() in text and t("en", "quiz.not_right") in text

    # 4. On the phone in the other trainer's room: the section on the projector, then a poll.
    at = app(None, "en")
    at.session_state["token"] = token
    by_url(at, "join")
    at.text_input(key="join_code_input").input(world.join_code)
    button(at, f"FormSubmitter:join-{t('en', 'join.submit')}").click().run()
    text = check(at)
    assert module.sections[0].title in [h.value for h in at.subheader]
    poll = module.sections[0].checks[1]
    with transaction(world.factory) as s:
        host = s.scalar(select(User).where(User.username == world.usernames["trainer_other"]))
        classroom.open_test(s, by=host, course=COURSES["en"], session_id=world.sessions["Preah Vihear 2026"],
                            kind="poll", poll_item_id=poll.id)
    try:
        text = check(at.run())
        assert poll.stem in text
    finally:
        with transaction(world.factory) as s:
            classroom.close_test(s, by=s.merge(host), session_id=world.sessions["Preah Vihear 2026"])

    # 5. Every check answered right and the exercise written (through the engine): the post-test form.
    with transaction(world.factory) as s:
        for section in module.sections:
            for item in section.checks:
                right = sorted(item.key) if item.type == "multiple" else next(iter(item.key))
                learning.submit_check(s, course=COURSES["en"], module=module, user_id=me_id, section_id=section.id,
                                      item_id=item.id, answer=right, key=f"journey:{item.id}")
        for item in module.exercise.items:
            learning.save_exercise(s, module=module, user_id=me_id, item_id=item.id, text="សួរអំពីរយៈពេលរង់ចាំ")
    at = app(None, "en")
    at.session_state["token"] = token
    text = check(by_url(at, "study"))
    assert t("en", "study.post_title") in [h.value for h in at.subheader]
    scope = f"post:{module.id}"
    for item_id, answer in KEYS.items():
        if isinstance(answer, list):
            for option in answer:
                at.checkbox(key=f"{scope}:{item_id}:{option}").check()
        else:
            at.radio(key=f"{scope}:{item_id}").set_value(answer)
    button(at, f"FormSubmitter:form:{scope}-{t('en', 'study.submit_test')}").click().run()
    text = check(at)  # 6. submitted: now the review shows each item's feedback and the key
    right = module.post_test[0].option("c").feedback.strip()
    assert right in text and t("en", "study.passed", mark="70%") in [x.value for x in at.success]


# --- 6. The needles find what they look for, where it may be shown ---------------------------------------

def test_the_needles_find_what_they_look_for(app, world):
    """Positive controls: the same needles and the same rendered() find the facilitator notes on the
    facilitator's session screen, a trainer's learners on their cohort page and in its exports, and a room's
    learner's password hash in the bundle their trainer downloads."""
    at = by_url(open_app(app, world, "facilitator", "en"), "session")
    assert "facilitator notes" in " ".join(found(world.needles("learner", "study"), rendered(at)))
    at = by_url(open_app(app, world, "trainer", "en"), "cohort")
    text = rendered(at)
    assert any("username" in m and "'learner" in m for m in found(world.needles("trainer_other", "cohort"), text))
    csv = [d.proto for d in at.get("download_button") if (d.proto.url or "").endswith(".csv")
           or KeptDeferred.kept.get(d.proto.deferred_file_id, ("", "", ""))[2].endswith(".csv")]
    assert len(csv) == 4 and all(found(world.needles("facilitator", "cohort"), "\n".join(download_text(
        *download(d)))) for d in csv[:3])
    at = by_url(open_app(app, world, "trainer_other", "en"), "session")
    assert "a password hash" in " ".join(found(world.needles("facilitator", "session"), rendered(at)))
