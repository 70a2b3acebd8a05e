"""Classroom mode: a facilitator's one-day session for a cohort and a module, in a hall with phones or paper.

What several people share (the session, who is in the room, which test is open) lives in the
database, never in one process's memory: participants' phones poll `live_state`, one row read by its
primary key. Live answers become attempts with source "classroom" and classroom_session_id set, graded
by engine.quiz and kept once per idempotency key, as engine.learning keeps self-study attempts. A poll
asks one knowledge check of the module and is kept as a "check" attempt of that check's section, so it
counts in the learner's record like the same check answered online. Paper tests typed in afterwards
are in engine.classroom_paper. Pure of Streamlit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import String, Text, and_, cast, func, literal, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.accounts import PHONE, hash_password
from engine.analytics import GroupSummary, LearnerScore, Person, PrePostSummary, disaggregate, prepost_summary
from engine.content.model import Course, Item, Module, Section
from engine.errors import FieldError, InputError, NotAllowed, SalaError
from engine.learning import Submitted, keep_attempt
from engine.places import province_codes
from engine.quiz import decode_answer, score
from engine.roster import PASSWORD_ALPHABET, PASSWORD_LENGTH
from engine.store.base import OPEN_TESTS, ORG_TYPES, SEXES, utcnow
from engine.store.models import Attempt, Attendance, ClassroomSession, Cohort, Enrolment, Response, User

JOIN_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
"""Read aloud in a hall and typed on a phone: no 0/O, 1/I/L, 2/Z, 5/S, 8/B."""
JOIN_CODE_LENGTH = 5
RUN_ANY = ("coordinator", "admin")
TEST_NAMES = {"pre": "pre-test", "post": "post-test", "poll": "poll"}
TRIES = 20


@dataclass(frozen=True)
class LiveState:
    state: str
    open_test: str | None
    poll_item: str | None
    current_section: str | None


@dataclass(frozen=True)
class AttendanceRow:
    user_id: str
    name_km: str
    name_latin: str
    sex: str
    present: bool
    method: str | None
    checked_in_at: datetime | None


@dataclass(frozen=True)
class WalkIn:
    """A participant added on the day: hand them the username and temporary password, shown this once."""

    user: User
    temporary_password: str = field(repr=False)
    attendance: Attendance


@dataclass(frozen=True)
class LiveCounts:
    """How many answered, how many are in the room, and per item how often each option was chosen.
    Counts only: never who chose what."""

    answered: int
    present: int
    per_item: dict[str, dict[str, int]]


@dataclass(frozen=True)
class RoomResults:
    module_id: str
    scores: tuple[LearnerScore, ...]
    """Each person in the room: their pre- and post-test in this session (live or paper), else None."""
    overall: PrePostSummary
    by_sex: tuple[GroupSummary, ...]
    """engine.analytics.disaggregate by sex: groups under five people are suppressed."""


# --- opening, finding, and who may run a session -------------------------------------------------------


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def module_of(course: Course, module_id: str) -> Module:
    module = course.module(module_id)
    if module is None:
        raise InputError(f"module_id: {module_id!r} is not a module of the course")
    return module


def open_session(session: Session, *, by: User, course: Course, cohort_id: str, module_id: str, venue: str,
                 held_on: date) -> ClassroomSession:
    """A new session with a free join code. The cohort's trainer, a coordinator or an administrator may
    open one; whoever opens it is its facilitator."""
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise InputError(f"cohort_id: no cohort has the id {cohort_id!r}")
    if cohort.trainer_id != by.id and by.role not in RUN_ANY:
        raise NotAllowed("only the cohort's trainer, a coordinator or an administrator opens a session for it")
    module_of(course, module_id)
    for _ in range(TRIES):
        opened = ClassroomSession(cohort_id=cohort_id, module_id=module_id, facilitator_id=by.id,
                                  venue=venue.strip(), held_on=held_on, join_code=new_join_code())
        try:  # a savepoint: a code already taken undoes only this try, not the caller's transaction
            with session.begin_nested():
                session.add(opened)
                session.flush()
        except IntegrityError:
            continue
        return opened
    raise SalaError(f"no free join code after {TRIES} tries; try again")


def find_open_session(session: Session, code: str) -> ClassroomSession | None:
    """The open session with this join code, as a participant types it (any case, spaces and dashes)."""
    cleaned = "".join(code.split()).replace("-", "").upper()
    if not cleaned:
        return None
    return session.scalar(select(ClassroomSession).where(ClassroomSession.join_code == cleaned,
                                                         ClassroomSession.state == "open"))


def sessions_of(session: Session, *, by: User) -> list[ClassroomSession]:
    """A facilitator's or trainer's own sessions (theirs, or for a cohort they train); all for a
    coordinator or administrator. Newest first."""
    if by.role == "learner":
        raise NotAllowed("only facilitators, trainers, coordinators and administrators run sessions")
    query = select(ClassroomSession)
    if by.role not in RUN_ANY:
        query = query.join(Cohort, Cohort.id == ClassroomSession.cohort_id).where(
            or_(ClassroomSession.facilitator_id == by.id, Cohort.trainer_id == by.id))
    order = (ClassroomSession.held_on.desc(), ClassroomSession.opened_at.desc(), ClassroomSession.id)
    return list(session.scalars(query.order_by(*order)))


def load_session(session: Session, session_id: str, *, lock: str | None = None) -> ClassroomSession:
    """The session's row, read afresh. lock="share" keeps it from changing until the transaction ends
    (a submission against the open test); lock="update" waits for those (closing the test). PostgreSQL
    only: SQLite already runs one writing transaction at a time."""
    query = select(ClassroomSession).where(ClassroomSession.id == session_id).execution_options(
        populate_existing=True)
    if lock:
        query = query.with_for_update(read=lock == "share")
    found = session.scalar(query)
    if found is None:
        raise InputError(f"session_id: no classroom session has the id {session_id!r}")
    return found


def run(session: Session, *, by: User, session_id: str, lock: str | None = None) -> ClassroomSession:
    """The session, if `by` may run it: its facilitator, the cohort's trainer, a coordinator or an admin."""
    found = load_session(session, session_id, lock=lock)
    if by.role in RUN_ANY or found.facilitator_id == by.id:
        return found
    if session.scalar(select(Cohort.trainer_id).where(Cohort.id == found.cohort_id)) != by.id:
        raise NotAllowed("only the session's facilitator, the cohort's trainer, a coordinator or an "
                         "administrator can do this")
    return found


def _still_open(found: ClassroomSession) -> None:
    if found.state != "open":
        raise InputError("this session is closed")


# --- attendance ---------------------------------------------------------------------------------------


def _attendance(session: Session, session_id: str, user_id: str, *, lock: bool = False) -> Attendance | None:
    query = select(Attendance).where(Attendance.session_id == session_id, Attendance.user_id == user_id)
    return session.scalar(query.with_for_update() if lock else query)


def check_in(session: Session, session_id: str, user_id: str, method: str) -> Attendance:
    """The person's attendance row, made with `method` if there was none (twice at once: one row)."""
    row = _attendance(session, session_id, user_id)
    if row is not None:
        return row
    row = Attendance(session_id=session_id, user_id=user_id, method=method)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        row = _attendance(session, session_id, user_id)
        if row is None:
            raise
    return row


def _enrol(session: Session, cohort_id: str, user_id: str) -> None:
    query = select(Enrolment.id).where(Enrolment.cohort_id == cohort_id, Enrolment.user_id == user_id)
    if session.scalar(query) is None:
        try:
            with session.begin_nested():
                session.add(Enrolment(cohort_id=cohort_id, user_id=user_id))
                session.flush()
        except IntegrityError:
            if session.scalar(query) is None:
                raise


def join(session: Session, *, session_id: str, user: User) -> Attendance:
    """A participant checks in with the session's code. They are in the room, so a learner not yet in
    the cohort is enrolled. Joining again returns the same row."""
    found = load_session(session, session_id)
    _still_open(found)
    if user.role != "learner":
        raise NotAllowed("only learners check in to a session")
    _enrol(session, found.cohort_id, user.id)
    return check_in(session, found.id, user.id, "joined")


def outside_cohort(session: Session, found: ClassroomSession, user_ids: list[str]) -> list[str]:
    """Those of `user_ids` neither enrolled in the session's cohort nor checked in to it."""
    known: set[str] = set()
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start:start + 500]
        known.update(session.scalars(select(Enrolment.user_id).where(
            Enrolment.cohort_id == found.cohort_id, Enrolment.user_id.in_(chunk))))
        known.update(session.scalars(select(Attendance.user_id).where(
            Attendance.session_id == found.id, Attendance.user_id.in_(chunk))))
    return [user_id for user_id in user_ids if user_id not in known]


def in_room_or_cohort(session: Session, found: ClassroomSession, user_ids: list[str]) -> None:
    """InputError unless every person is enrolled in the session's cohort or already checked in."""
    missing = outside_cohort(session, found, user_ids)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"user_id: {missing[0]!r}{more} is not in this session's cohort; add them as a walk-in")


def tick(session: Session, *, by: User, session_id: str, user_id: str, present: bool) -> Attendance | None:
    """The facilitator marks a person of the cohort present (method "ticked") or not. Unticking removes
    only a ticked row: someone who joined on their phone or was added as a walk-in stays. Returns the
    row as it now is (None: absent)."""
    found = run(session, by=by, session_id=session_id)
    row = _attendance(session, found.id, user_id)
    if present:
        if row is None:
            in_room_or_cohort(session, found, [user_id])
            row = check_in(session, found.id, user_id, "ticked")
        return row
    if row is not None and row.method == "ticked":
        session.delete(row)
        session.flush()
        return None
    return row


def tick_many(session: Session, *, by: User, session_id: str, user_ids: list[str]) -> int:
    """Tick everyone in `user_ids` present at once (for a room of 40: one tap each, one save); returns
    how many were newly marked. Nobody is changed if one of them is not in the cohort."""
    found = run(session, by=by, session_id=session_id)
    wanted = list(dict.fromkeys(user_ids))
    in_room_or_cohort(session, found, wanted)
    there = set(session.scalars(select(Attendance.user_id).where(Attendance.session_id == found.id)))
    new = [user_id for user_id in wanted if user_id not in there]
    try:
        with session.begin_nested():
            session.add_all(Attendance(session_id=found.id, user_id=user_id, method="ticked") for user_id in new)
            session.flush()
    except IntegrityError:  # someone joined on their phone meanwhile: take the rows one by one
        for user_id in new:
            check_in(session, found.id, user_id, "ticked")
    return len(new)


def _check_person(session: Session, *, full_name_km: str, sex: str, province_code: str | None, org_type: str,
                  phone: str | None) -> None:
    if not full_name_km:
        raise FieldError("full_name_km", "required", "the name in Khmer is required")
    if sex not in SEXES:
        raise FieldError("sex", "choice", f"expected one of {', '.join(SEXES)}, got {sex!r}")
    if org_type not in ORG_TYPES:
        raise FieldError("org_type", "choice", f"expected one of {', '.join(ORG_TYPES)}, got {org_type!r}")
    if province_code is not None and province_code not in province_codes():
        raise FieldError("province_code", "choice", f"no province has the code {province_code!r}")
    if phone is not None:
        if not PHONE.match(phone):
            raise FieldError("phone", "phone_format", "a Cambodian number such as 012345678")
        if session.scalar(select(User.id).where(User.phone == phone)):
            raise FieldError("phone", "phone_taken", "this phone number already has an account")


def add_walk_in(session: Session, *, by: User, session_id: str, full_name_km: str, full_name_latin: str, sex: str,
                province_code: str | None, org_type: str, position: str, phone: str | None = None) -> WalkIn:
    """Someone in the room who has no account: a learner is made (username walkin-xxxxxx, a temporary
    password returned once), enrolled in the cohort and marked present as a walk-in."""
    found = run(session, by=by, session_id=session_id)
    full_name_km, phone = full_name_km.strip(), (phone or "").strip().replace(" ", "") or None
    _check_person(session, full_name_km=full_name_km, sex=sex, province_code=province_code or None,
                  org_type=org_type, phone=phone)
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
    for _ in range(TRIES):
        user = User(username="walkin-" + "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(6)), phone=phone,
                    password_hash=hash_password(password), full_name_km=full_name_km,
                    full_name_latin=full_name_latin.strip(), role="learner", sex=sex,
                    province_code=province_code or None, org_type=org_type, position=position.strip())
        try:
            with session.begin_nested():
                session.add(user)
                session.flush()
        except IntegrityError:
            continue
        _enrol(session, found.cohort_id, user.id)
        return WalkIn(user, password, check_in(session, found.id, user.id, "walk_in"))
    raise SalaError(f"no free walk-in username after {TRIES} tries; try again")


def attendance(session: Session, session_id: str) -> list[AttendanceRow]:
    """Every learner of the cohort, and anyone else checked in, present or not, by Khmer name."""
    found = load_session(session, session_id)
    enrolled = select(Enrolment.user_id).where(Enrolment.cohort_id == found.cohort_id)
    rows = session.execute(
        select(User.id, User.full_name_km, User.full_name_latin, User.sex, Attendance.method, Attendance.checked_in_at)
        .outerjoin(Attendance, and_(Attendance.user_id == User.id, Attendance.session_id == found.id))
        .where(or_(and_(User.id.in_(enrolled), User.role == "learner"), Attendance.id.is_not(None)))
    ).all()
    # Sorted here, not in SQL: the two databases collate Khmer differently.
    return sorted((AttendanceRow(uid, km, latin, sex, method is not None, method, when)
                   for uid, km, latin, sex, method, when in rows), key=lambda r: (r.name_km, r.name_latin, r.user_id))


# --- presenting and the live test -------------------------------------------------------------------------


def set_section(session: Session, *, by: User, course: Course, session_id: str, section_id: str | None) -> None:
    """The section on the projector, or the module's exercise id (None: the module's overview)."""
    found = run(session, by=by, session_id=session_id)
    _still_open(found)
    module = module_of(course, found.module_id)
    if section_id is not None and module.section(section_id) is None and section_id != module.exercise.id:
        raise InputError(f"section_id: {section_id!r} is not a section or the exercise of module {module.id}")
    found.current_section = section_id
    session.flush()


def poll_check(module: Module, item_id: str | None) -> tuple[Section, Item]:
    """The knowledge check `item_id` and its section, or InputError."""
    for section in module.sections:
        for item in section.checks:
            if item.id == item_id:
                return section, item
    raise InputError(f"poll_item_id: {item_id!r} is not a knowledge check of module {module.id}")


def open_test(session: Session, *, by: User, course: Course, session_id: str, kind: str,
              poll_item_id: str | None = None) -> None:
    """Open the pre-test, the post-test, or a poll of one knowledge check, in place of whatever was open."""
    if kind not in OPEN_TESTS:
        raise InputError(f"kind: expected one of {', '.join(OPEN_TESTS)}, got {kind!r}")
    found = run(session, by=by, session_id=session_id, lock="update")
    _still_open(found)
    module = module_of(course, found.module_id)
    if kind == "poll":
        poll_check(module, poll_item_id)
    elif poll_item_id is not None:
        raise InputError("poll_item_id: only a poll asks one item")
    found.open_test, found.poll_item = kind, poll_item_id
    session.flush()


def close_test(session: Session, *, by: User, session_id: str) -> None:
    """No more answers. The poll's item stays named, so its answers can still be shown."""
    found = run(session, by=by, session_id=session_id, lock="update")
    found.open_test = None
    session.flush()


def close_session(session: Session, *, by: User, session_id: str) -> None:
    found = run(session, by=by, session_id=session_id, lock="update")
    if found.state != "closed":
        found.state, found.open_test, found.closed_at = "closed", None, utcnow()
        session.flush()


def live_state(session: Session, session_id: str) -> LiveState:
    """What participants' pages show now; cheap enough to poll every second or two."""
    row = session.execute(select(ClassroomSession.state, ClassroomSession.open_test, ClassroomSession.poll_item,
                                 ClassroomSession.current_section).where(ClassroomSession.id == session_id)).first()
    if row is None:
        raise InputError(f"session_id: no classroom session has the id {session_id!r}")
    return LiveState(*row)


# --- live answers, counts and results ----------------------------------------------------------------------


def _replay(session: Session, attempt: Attempt, module: Module) -> Submitted:
    rows = session.scalars(select(Response).where(Response.attempt_id == attempt.id)).all()
    items = {"pre": module.pre_test, "post": module.post_test}.get(attempt.kind) or [
        module.items[r.item_id] for r in rows if r.item_id in module.items]
    return Submitted(attempt.id, score(items, {r.item_id: decode_answer(r.answer) for r in rows}), duplicate=True)


def _kept(session: Session, key: str, user_id: str, session_id: str) -> Attempt | None:
    found = session.scalar(select(Attempt).where(Attempt.idempotency_key == key))
    if found is not None and (found.user_id != user_id or found.classroom_session_id != session_id):
        raise InputError("idempotency key belongs to another submission")
    return found


def _what_is_open(module: Module, found: ClassroomSession, kind: str | None,
                  answers: dict[str, object]) -> tuple[str, str | None, tuple[Item, ...]]:
    """(attempt kind, section id, items) of the test open now, or InputError saying why nothing is."""
    _still_open(found)
    if found.module_id != module.id:
        raise InputError(f"module: this session teaches {found.module_id}, not {module.id}")
    if found.open_test is None or (kind is not None and kind != found.open_test):
        raise InputError(f"the {TEST_NAMES.get(kind or '', 'test')} is not open now")
    if found.open_test != "poll":
        return found.open_test, None, module.pre_test if found.open_test == "pre" else module.post_test
    section, item = poll_check(module, found.poll_item)
    if answers and item.id not in answers:
        raise InputError("the poll has moved on to another question")
    return "check", section.id, (item,)


def submit_live(session: Session, *, course: Course, module: Module, session_id: str, user_id: str,
                answers: dict[str, object], key: str, kind: str | None = None) -> Submitted:
    """Grade and keep a participant's answers to the test open in the session, once per idempotency
    `key` (the same key again returns the first result, even after the test closed). Only while that
    test is open (`kind`, when given, must be it: answers to a test that has since changed are
    refused) and the participant is checked in. One answer each per session and test, or per poll item:
    a second one with a new key returns the first."""
    if not 1 <= len(key) <= 100:
        raise InputError("key: expected 1 to 100 characters")
    found = _kept(session, key, user_id, session_id)
    if found is not None:
        return _replay(session, found, module)
    room = load_session(session, session_id, lock="share")
    attempt_kind, section_id, items = _what_is_open(module, room, kind, answers)
    if _attendance(session, room.id, user_id, lock=True) is None:
        raise InputError("check in to the session with its join code first")
    earlier = select(Attempt).where(Attempt.classroom_session_id == room.id, Attempt.user_id == user_id,
                                    Attempt.kind == attempt_kind, Attempt.source == "classroom")
    if section_id is not None:
        earlier = earlier.join(Response, Response.attempt_id == Attempt.id).where(Response.item_id == items[0].id)
    found = session.scalar(earlier.limit(1))
    if found is not None:
        return _replay(session, found, module)
    result = score(items, answers)  # InputError naming a bad answer before anything is written
    attempt = Attempt(user_id=user_id, module_id=module.id, kind=attempt_kind, section_id=section_id,
                      source="classroom", language=course.language, content_version=course.version,
                      idempotency_key=key, classroom_session_id=room.id, submitted_at=utcnow(),
                      score=result.points, max_score=result.max_points)
    if not keep_attempt(session, attempt, result):  # the same submission arrived twice at once
        found = _kept(session, key, user_id, session_id)
        if found is None:
            raise InputError("this submission's key was already used for another session")
        return _replay(session, found, module)
    return Submitted(attempt.id, result, duplicate=False)


def live_counts(session: Session, *, session_id: str, kind: str, module: Module,
                poll_item_id: str | None = None) -> LiveCounts:
    """Answers arriving for the session's live `kind` (a poll: `poll_item_id`, by default the item the
    session last polled), in one grouped query. Paper attempts are not counted."""
    if kind not in OPEN_TESTS:
        raise InputError(f"kind: expected one of {', '.join(OPEN_TESTS)}, got {kind!r}")
    if kind == "poll":
        items: tuple[Item, ...] = ()
        poll_item_id = poll_item_id or live_state(session, session_id).poll_item
        if poll_item_id is not None:
            items = (poll_check(module, poll_item_id)[1],)
    else:
        items = module.pre_test if kind == "pre" else module.post_test
    ids = [item.id for item in items] or [""]
    live = and_(Attempt.classroom_session_id == session_id, Attempt.source == "classroom",
                Attempt.kind == ("check" if kind == "poll" else kind), Response.item_id.in_(ids))
    nothing = cast(null(), String), cast(null(), Text)
    rows = session.execute(union_all(
        select(literal("answered"), *nothing, func.count(func.distinct(Attempt.user_id)))
        .join(Response, Response.attempt_id == Attempt.id).where(live),
        select(literal("present"), *nothing, func.count()).select_from(Attendance)
        .where(Attendance.session_id == session_id),
        select(literal("answer"), Response.item_id, Response.answer, func.count())
        .join(Attempt, Attempt.id == Response.attempt_id).where(live).group_by(Response.item_id, Response.answer),
    )).all()
    per_item = {item.id: {option.id: 0 for option in item.options} for item in items}
    totals = {"answered": 0, "present": 0}
    for what, item_id, answer, n in rows:
        if what != "answer":
            totals[what] = n
            continue
        chosen = decode_answer(answer)
        for option_id in [chosen] if isinstance(chosen, str) else chosen or []:
            if option_id in per_item.get(item_id, {}):
                per_item[item_id][option_id] += n
    return LiveCounts(totals["answered"], totals["present"], per_item)


def room_results(session: Session, *, session_id: str, course: Course) -> RoomResults:
    """Pre vs post for the people in the room, from their tests in this session (live or on paper):
    the first pre-test and the best post-test, as a trainer's pages count them."""
    found = load_session(session, session_id)
    module = module_of(course, found.module_id)
    pre: dict[str, float] = {}
    post: dict[str, float] = {}
    for user_id, kind, points, max_points in session.execute(
        select(Attempt.user_id, Attempt.kind, Attempt.score, Attempt.max_score)
        .where(Attempt.classroom_session_id == found.id, Attempt.kind.in_(("pre", "post")))
        .order_by(Attempt.submitted_at, Attempt.id)
    ):
        value = 100.0 * points / max_points if max_points else None
        if value is not None and kind == "pre":
            pre.setdefault(user_id, value)
        elif value is not None:
            post[user_id] = max(post.get(user_id, 0.0), value)
    room = set(session.scalars(select(Attendance.user_id).where(Attendance.session_id == found.id)))
    ids = sorted(room | set(pre) | set(post))
    people = [Person(u.id, u.sex, u.province_code, u.org_type, u.position, found.cohort_id) for u in
              session.scalars(select(User).where(User.id.in_(ids)))] if ids else []
    scores = tuple(LearnerScore(user_id, module.id, pre.get(user_id), post.get(user_id)) for user_id in ids)
    return RoomResults(module.id, scores, prepost_summary(scores, module.pass_mark),
                       disaggregate(scores, people, "sex", module.pass_mark))


def has_answered(session: Session, *, session_id: str, user_id: str, kind: str, poll_item: str | None = None) -> bool:
    """Whether this participant's answers to the test (or poll) open in this session are already kept, so a
    phone that dropped off and rejoined shows "your answers are in" instead of the form again."""
    query = select(Attempt.id).where(Attempt.classroom_session_id == session_id, Attempt.user_id == user_id)
    if kind == "poll":
        query = query.join(Response, Response.attempt_id == Attempt.id).where(Attempt.kind == "check",
                                                                              Response.item_id == poll_item)
    else:
        query = query.where(Attempt.kind == kind)
    return session.scalar(query.limit(1)) is not None
