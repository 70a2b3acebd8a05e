"""The access table's machinery (issue #7, part 1), used by test_access.py and test_access_engine.py.

- The spec: the seven roles, the pages each is given in its menu, its home page, the cohorts whose learners a
  staff role may see and the classroom rooms it runs. Written out here, not read from the app.
- `rendered(at)`: every string a person could read or download from an AppTest page — every element's
  strings (Markdown, captions, titles, alerts, widget labels and options, HTML, plotly figures decoded),
  every dataframe's cells, and every download's contents (CSV, XLSX cells, the ZIP's files), deferred
  downloads made as a click would make them.
- `build_world`: the demo population plus a second trainer with their own cohort (Preah Vihear), a learner
  in it and an open classroom session, made through the engine's functions, read into a `World`.
- Needles: what must never be in a role's rendered page — facilitator notes, feedback and keys not yet
  earned (learners and visitors), the names, usernames, phones and ids of people outside the role's cohorts,
  other cohorts' names, ids and enrolment codes, and every password hash.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import streamlit.testing.v1.app_test as app_test_module
from sqlalchemy import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from engine import accounts, classroom, learning
from engine.app.i18n import t
from engine.content import load
from engine.demo import DEMO_PASSWORD
from engine.exports import read_xlsx
from engine.store.db import make_engine, session_factory, transaction
from engine.store.models import Attendance, Certificate, ClassroomSession, Cohort, Enrolment, User

REPO = Path(__file__).resolve().parents[2]
SCREENS = REPO / "engine" / "app" / "screens"
SAMPLE = REPO / "tests" / "fixtures" / "sample"
COURSES = load(SAMPLE)
MODULE_ID = COURSES["km"].modules[0].id
KEYS = {"t01": "c", "t02": "true", "t03": ["a", "b"]}  # the sample's pre/post-test, all right

# --- The spec: what each role is given ----------------------------------------------------------------------

ROLES = ("anon", "learner", "learner_other", "trainer", "trainer_other", "facilitator", "admin")
PUBLIC = {"sign_in", "register", "verify"}
LEARN = {"course_map", "study", "results", "certificate", "join", "profile", "verify"}
TEACH = {"cohorts", "cohort", "cascade", "report", "classroom", "session", "profile", "verify"}
MENU = {
    "anon": PUBLIC,
    "learner": LEARN,
    "learner_other": LEARN,
    "trainer": TEACH,
    "trainer_other": TEACH,
    "facilitator": TEACH - {"cascade"},
    "admin": TEACH | {"users", "content", "bundles", "national"},
}
HOME = {"anon": "sign_in", "learner": "course_map", "learner_other": "course_map", "trainer": "cohorts",
        "trainer_other": "cohorts", "facilitator": "classroom", "admin": "cohorts"}
PAGES = sorted({p for pages in MENU.values() for p in pages})
CASES = [(page, role) for page in PAGES for role in ROLES]
SHOWN = [(page, role) for page, role in CASES if page in MENU[role]]

# The cohorts whose learners a staff role may see; on the classroom pages also the rooms they run.
ALL_COHORTS = {"ToT", "Siem Reap 2026", "Ratanakiri 2026", "Kampot 2026", "Kampong Cham 2026", "Preah Vihear 2026"}
COHORTS_OF = {"trainer": {"Siem Reap 2026", "Ratanakiri 2026"}, "trainer_other": {"Preah Vihear 2026"},
              "facilitator": {"Kampot 2026", "Kampong Cham 2026"}, "admin": ALL_COHORTS}
ROOMS_OF = {"trainer": {"Siem Reap 2026", "Ratanakiri 2026"},  # the demo's two sessions are for their cohorts
            "facilitator": {"Siem Reap 2026", "Ratanakiri 2026"},  # and the facilitator runs them
            "trainer_other": {"Preah Vihear 2026"}, "admin": ALL_COHORTS}
ROOM_PAGES = {"classroom", "session"}


# --- Downloads: a media store that keeps what each download button would serve -------------------------

class KeptFiles(MemoryMediaFileStorage):
    """AppTest's in-memory media store, keeping every file by URL so a test can read a download."""

    kept: dict[str, tuple[str | None, str, bytes]] = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        self.kept[self.get_url(file_id)] = (filename, mimetype, self._files_by_id[file_id].content)
        return file_id


class KeptDeferred(MediaFileManager):
    """AppTest's media manager, keeping the callable of every deferred download (made on the click)."""

    kept: dict[str, tuple[object, str | None, str | None]] = {}

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
        file_id = super().add_deferred(data_callable, mimetype, coordinates, file_name, element_id=element_id)
        self.kept[file_id] = (data_callable, mimetype, file_name)
        return file_id


def keep_downloads(monkeypatch) -> None:
    """Make every AppTest run keep its downloads (undone by the monkeypatch at the end of the test)."""
    KeptFiles.kept.clear()
    KeptDeferred.kept.clear()
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", KeptFiles)
    monkeypatch.setattr(app_test_module, "MediaFileManager", KeptDeferred)


def download(proto) -> tuple[str | None, str, bytes]:
    """(file name, MIME type, bytes) of a download button, as a click gets them: made now if deferred."""
    if proto.url:
        return KeptFiles.kept[proto.url]
    make, mimetype, filename = KeptDeferred.kept[proto.deferred_file_id]
    data = make()
    return filename, mimetype or "", data.encode("utf-8") if isinstance(data, str) else data


def _strings(value) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [] if value is None else [str(value)]


def download_text(filename: str | None, mimetype: str, data: bytes) -> list[str]:
    name = (filename or "").lower()
    if name.endswith(".csv") or mimetype.startswith("text/"):
        return [data.decode("utf-8-sig")]
    if name.endswith(".xlsx"):
        return [str(cell) for table in read_xlsx(data) for row in (table.columns, *table.rows) for cell in row]
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [archive.read(member).decode("utf-8", "replace") for member in archive.namelist()]
    return []  # images (the join QR code)


def _proto_strings(message) -> list[str]:
    """Every string field of a protobuf message, recursively; JSON strings (plotly figures) decoded."""
    found = []
    for descriptor, value in message.ListFields():
        values = value if descriptor.is_repeated else [value]
        for v in values:
            if descriptor.type == descriptor.TYPE_MESSAGE:
                found += _proto_strings(v)
            elif descriptor.type == descriptor.TYPE_STRING:
                if v[:1] in "{[":
                    try:
                        found += _strings(json.loads(v))
                        continue
                    except ValueError:
                        pass
                found.append(v)
    return found


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def rendered(at: AppTest) -> str:
    """All the text a person could read or download from the page as rendered: every element's strings,
    every dataframe's cells, every download's contents."""
    parts: list[str] = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        parts += _proto_strings(proto)
        if getattr(node, "type", None) in ("dataframe", "arrow_data_frame", "table", "arrow_table"):
            parts.append(node.value.to_csv())
        if getattr(node, "type", None) == "download_button":
            parts += download_text(*download(proto))
    return "\n".join(parts)


# --- The population: the demo, plus a second trainer with their own cohort, learner and open session ---------

@dataclass
class Person:
    id: str
    username: str
    name_km: str
    name_latin: str
    phone: str | None
    role: str
    password_hash: str
    cohorts: set[str] = field(default_factory=set)


@dataclass
class World:
    factory: object
    usernames: dict[str, str | None]
    tokens: dict[str, str]
    people: dict[str, Person]
    cohort_ids: dict[str, str]  # short cohort name ("ToT", "Kampot 2026", ...) -> id
    cohort_names: dict[str, str]  # short name -> the name as stored and shown
    parent_of: dict[str, str | None]  # short name -> short name of the cohort its trainer was trained in
    enrol_codes: dict[str, str]  # short name -> the code that lets anyone register into the cohort
    sessions: dict[str, str]  # cohort name -> classroom session id
    attendees: dict[str, set[str]]  # cohort name -> ids of the people checked in to its sessions
    join_code: str  # the open session of the other trainer's cohort
    certificate_of: dict[str, str]  # username -> certificate code
    _needles: dict = field(default_factory=dict)

    def person(self, role: str) -> Person | None:
        username = self.usernames[role]
        return next((p for p in self.people.values() if p.username == username), None) if username else None

    def needles(self, role: str, page: str) -> dict[str, re.Pattern]:
        key = (role, page in ROOM_PAGES)
        if key not in self._needles:
            self._needles[key] = _needles_for(self, role, page in ROOM_PAGES)
        return self._needles[key]


def _learner_of(session, cohort_name: str, *, certified: bool) -> str:
    query = (select(User.username).join(Enrolment, Enrolment.user_id == User.id)
             .join(Cohort, Cohort.id == Enrolment.cohort_id).where(Cohort.name == cohort_name)
             .order_by(User.username))
    if certified:
        query = query.join(Certificate, Certificate.user_id == User.id)
    return session.scalars(query).first()


def _add_other_trainer(session) -> tuple[str, str]:
    """A second trainer with a cohort of their own (Preah Vihear), a learner who took the pre-test, and an
    open classroom session that learner joined. Returns (trainer's username, join code)."""
    course = COURSES["km"]
    module = course.modules[0]
    other = User(username="trainer.pv", password_hash=accounts.hash_password(DEMO_PASSWORD),
                 full_name_km="ទេព វណ្ណារី", full_name_latin="Tep Vannary", role="trainer", sex="female",
                 province_code="13", org_type="provincial", institution="រដ្ឋបាលខេត្តព្រះវិហារ",
                 position="គ្រូបង្គោល")
    session.add(other)
    session.flush()
    cohort = Cohort(name="Preah Vihear 2026", kind="provincial", trainer_id=other.id, province_code="13",
                    enrol_code="PRE-13", starts_on=date(2026, 10, 5))
    session.add(cohort)
    session.flush()
    learner = accounts.register(session, enrol_code="PRE-13", username="pv.learner", phone="012777013",
                                password=DEMO_PASSWORD, profile=accounts.Profile(
                                    full_name_km="ម៉ែន សុខា", full_name_latin="Men Sokha", sex="female",
                                    province_code="13", org_type="commune", institution="ក្រុមប្រឹក្សាឃុំរំដោះ",
                                    position="ស្មៀនឃុំ"))
    learning.submit_test(session, course=course, module=module, user_id=learner.id, kind="pre",
                         answers=KEYS, key="access-table-pv-pre")
    room = classroom.open_session(session, by=other, course=course, cohort_id=cohort.id, module_id=module.id,
                                  venue="សាលប្រជុំរដ្ឋបាលខេត្តព្រះវិហារ", held_on=date(2026, 10, 12))
    classroom.join(session, session_id=room.id, user=learner)
    classroom.set_section(session, by=other, course=course, session_id=room.id,
                          section_id=module.sections[0].id)
    return other.username, room.join_code


def build_world(demo_env: dict[str, str]) -> World:
    """The demo database of `demo_env`, with the other trainer's cohort added, read into a World."""
    factory = session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))
    with transaction(factory) as s:
        other_trainer, join_code = _add_other_trainer(s)
        usernames = {"anon": None, "learner": "demo.learner",
                     "learner_other": _learner_of(s, "Kampot 2026", certified=True),
                     "trainer": "demo.trainer", "trainer_other": other_trainer,
                     "facilitator": "demo.facilitator", "admin": "demo.admin"}
        tokens = {role: accounts.open_session(s, user=s.scalar(select(User).where(User.username == name)), days=1)
                  for role, name in usernames.items() if name}
        people = {u.id: Person(u.id, u.username, u.full_name_km, u.full_name_latin, u.phone, u.role,
                               u.password_hash) for u in s.scalars(select(User))}
        cohorts = list(s.scalars(select(Cohort)))
        names = {c.id: "ToT" if c.kind == "tot" else c.name for c in cohorts}
        cohort_ids = {name: cid for cid, name in names.items()}
        cohort_names = {names[c.id]: c.name for c in cohorts}
        parent_of = {names[c.id]: names.get(c.parent_id) for c in cohorts}
        enrol_codes = {names[c.id]: c.enrol_code for c in cohorts if c.enrol_code}
        for user_id, cohort_id in s.execute(select(Enrolment.user_id, Enrolment.cohort_id)):
            people[user_id].cohorts.add(names[cohort_id])
        sessions = {names[r.cohort_id]: r.id for r in s.scalars(select(ClassroomSession))}
        attendees = {name: set() for name in names.values()}
        for user_id, cohort_id in s.execute(select(Attendance.user_id, ClassroomSession.cohort_id).join(
                ClassroomSession, ClassroomSession.id == Attendance.session_id)):
            attendees[names[cohort_id]].add(user_id)
        codes = {people[c.user_id].username: c.code for c in s.scalars(select(Certificate))}
    assert set(cohort_ids) == ALL_COHORTS and set(sessions) == {"Siem Reap 2026", "Ratanakiri 2026",
                                                                "Preah Vihear 2026"}
    return World(factory, usernames, tokens, people, cohort_ids, cohort_names, parent_of, enrol_codes, sessions,
                 attendees, join_code, codes)


# --- Needles: what must never be on a role's page ---------------------------------------------------------

def _item_texts(item) -> set[str]:
    return {o.feedback.strip() for o in item.options if o.feedback.strip()}


def content_needles(world: World, user_id: str | None) -> dict[str, set[str]]:
    """For a learner (or a visitor: None), as their record stands now: the facilitator notes, always; the
    per-option feedback not yet earned (a check's only for the option last chosen, a test's only after a
    post-test); the exercise guidance before the exercise is written."""
    records = {}
    if user_id is not None:
        with world.factory() as s:
            records = learning.load_records(s, user_id=user_id, course=COURSES["km"])
    notes, feedback, guidance = set(), set(), set()
    for course in COURSES.values():
        for module in course.modules:
            record = records.get(module.id, learning.ModuleRecord())
            notes |= {sec.notes.strip() for sec in module.sections} | {module.exercise.notes.strip()}
            for item in module.items.values():
                allowed = set()
                if item.id in {i.id for i in module.post_test} and record.posts:
                    allowed = _item_texts(item)
                if item.id in record.last_check:
                    given = record.last_check[item.id][0]
                    chosen = {given} if isinstance(given, str) else set(given or ())
                    allowed = {o.feedback.strip() for o in item.options if o.id in chosen}
                feedback |= _item_texts(item) - allowed
                if item.guidance and not record.exercise.get(item.id, "").strip():
                    guidance.add(item.guidance.strip())
    return {"facilitator notes": notes - {""}, "feedback before an answer": feedback,
            "guidance before the exercise": guidance}


def patterns_of(groups: dict[str, set[str]]) -> dict[str, re.Pattern]:
    return {what: re.compile("|".join(map(re.escape, sorted(texts)))) for what, texts in groups.items() if texts}


def _people_needles(world: World, role: str, rooms: bool) -> tuple[set[str], set[str]]:
    """(names, exact tokens: usernames, phones, ids) of the people `role` must not see."""
    me = world.person(role)
    if role == "admin":
        return set(), set()
    if role in ("anon", "learner", "learner_other"):
        hidden = [p for p in world.people.values() if me is None or p.id != me.id]
        allowed_names = set() if me is None else {me.name_km, me.name_latin}
    else:
        mine = COHORTS_OF[role] | (ROOMS_OF[role] if rooms else set())
        hidden = [p for p in world.people.values() if p.role == "learner" and not p.cohorts & mine]
        allowed_names = {n for p in world.people.values() if p.role != "learner" or p.cohorts & mine
                         for n in (p.name_km, p.name_latin)}
    names = {n for p in hidden for n in (p.name_km, p.name_latin) if n} - allowed_names
    tokens = {x for p in hidden for x in (p.username, p.id, p.phone) if x}
    return names, tokens


def _cohort_needles(world: World, role: str, rooms: bool) -> tuple[set[str], set[str]]:
    """(names, ids and enrolment codes) of the cohorts `role` must not see: a staff member sees their own
    cohorts and the cohorts those were trained from (the cascade), but the enrolment codes of the cohorts
    they train (or whose room they run) only; a learner sees their own cohort, and no enrolment code."""
    if role == "admin":
        return set(), set()
    me = world.person(role)
    if role in ("anon", "learner", "learner_other"):
        mine = me.cohorts if me else set()
        codes = set(world.enrol_codes.values())
    else:
        mine = COHORTS_OF[role] | (ROOMS_OF[role] if rooms else set())
        codes = {code for c, code in world.enrol_codes.items() if c not in mine}
        mine |= {world.parent_of[c] for c in mine if world.parent_of[c]}
    hidden = set(world.cohort_ids) - mine
    return {world.cohort_names[c] for c in hidden}, {world.cohort_ids[c] for c in hidden} | codes


def _needles_for(world: World, role: str, rooms: bool) -> dict[str, re.Pattern]:
    me = world.person(role)
    learner = role in ("anon", "learner", "learner_other")
    patterns = patterns_of(content_needles(world, me and me.id)) if learner else {}
    names, tokens = _people_needles(world, role, rooms)
    cohort_names, cohort_ids = _cohort_needles(world, role, rooms)
    if cohort_names:
        patterns["a cohort not theirs"] = re.compile("|".join(map(re.escape, sorted(cohort_names))))
    tokens |= cohort_ids
    if names:
        patterns["another person's name"] = re.compile("|".join(map(re.escape, sorted(names))))
    if tokens:
        patterns["another person's username, phone or id, or a cohort's id or enrolment code"] = re.compile(
            r"(?<![\w.-])(?:" + "|".join(map(re.escape, sorted(tokens))) + r")(?![\w.-])")
    # A session's bundle carries the password hashes of the learners checked in to it (see engine.bundle).
    carried = {p for name in (ROOMS_OF.get(role, set()) if rooms else ()) for p in world.attendees[name]}
    hashes = {p.password_hash for p in world.people.values() if p.id not in carried}
    patterns["a password hash"] = re.compile("|".join(map(re.escape, sorted(hashes))))
    return patterns


def found(patterns: dict[str, re.Pattern], text: str) -> list[str]:
    text = re.sub(r"\\(.)", r"\1", text)  # Markdown escapes, as in "demo\.learner"
    return [f"{what}: {m.group(0)!r}" for what, pattern in patterns.items() if (m := pattern.search(text))]


def leaks(world: World, role: str, page: str, text: str) -> list[str]:
    return found(world.needles(role, page), text)


# --- Driving the app ------------------------------------------------------------------------------------------

def open_app(app, world: World, role: str, lang: str) -> AppTest:
    at = app(None, lang)
    if role != "anon":
        at.session_state["token"] = world.tokens[role]
    return at


def by_url(at: AppTest, page: str, params: dict[str, str] | None = None) -> AppTest:
    """The first request of a browser session for /<page>?<params>: Streamlit resolves a URL path to the
    page whose url_path hashes to it, and falls back to the default page when the menu has none. AppTest has
    no public call for this (switch_page reaches only the pages already in the menu), hence its private
    `_page_hash`, set before the first run as a browser's first request sets it."""
    at._page_hash = calc_hash(page)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at.run()


def page_alone(page_path: str) -> None:
    """The page's own file, with the context main.py would build, and no router in front of it."""
    import runpy

    import streamlit as st

    from engine.app import state

    st.session_state["_sala_ctx"] = state.build_context()
    runpy.run_path(page_path)


def titles(at: AppTest) -> list[str]:
    return [el.value for el in at.title]


def shows(at: AppTest, page: str, lang: str) -> bool:
    """Whether the page on screen is `page`, judged by its title."""
    if page in ("study", "session"):  # titled by the module
        return COURSES[lang].modules[0].title in titles(at)
    if page == "report":  # titled by its cohort
        return any(x.startswith(t(lang, "report.title", cohort="")) for x in titles(at))
    return t(lang, f"{page}.title") in titles(at)


def refused(at: AppTest, lang: str) -> bool:
    return t(lang, "app.not_allowed") in [e.value for e in at.error]


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)
