"""Paper tests in a classroom: each participant's answer sheet typed into a grid (by hand, or as an
uploaded CSV/XLSX), optionally typed again by a second person (double entry), compared, and only then
committed as attempts with source "paper".

A grid has one row per participant and one column per item of the test: a cell holds the letter
chosen (a, b, c, d; any case), "true" or "false" (also t/f, yes/no, ត្រូវ/ខុស), several letters for a
multiple-choice item ("ac", "a,c" or "a c"), or nothing: left blank on the sheet, which scores as wrong.
A row with every cell blank is no sheet: nothing is kept for it, and nobody gets an attempt from it.
Cells are kept in paper_entries as engine.quiz.encode_answer writes them until the commit; the commit
makes one attempt per participant under a key derived from the session, test and person, so
committing twice adds nothing. Pure of Streamlit.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.classroom import check_in, in_room_or_cohort, outside_cohort, run
from engine.content.model import Course, Item, Module
from engine.errors import InputError
from engine.learning import keep_attempt
from engine.quiz import Answer, decode_answer, encode_answer, normalize, score
from engine.roster import MAX_BYTES, MAX_ROWS, RosterProblem, _Bad, _records
from engine.store.base import utcnow
from engine.store.models import PAPER_KINDS, Attempt, ClassroomSession, PaperEntry, User

GridProblem = RosterProblem
"""One thing wrong with an uploaded grid: the row as the spreadsheet shows it, the column, a code, a message."""
PERSON_COLUMNS = {"username", "user", "user_id", "userid", "id", "ឈ្មោះអ្នកប្រើ"}
_UUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
TRUE_WORDS = {"true", "t", "yes", "y", "ត្រូវ"}
FALSE_WORDS = {"false", "f", "no", "n", "ខុស"}


@dataclass(frozen=True)
class Mismatch:
    """A cell the two entries typed differently."""

    user_id: str
    item_id: str
    first: Answer
    second: Answer


@dataclass(frozen=True)
class TypedOnce:
    """A participant's row typed in one entry only."""

    user_id: str
    entry_no: int


@dataclass(frozen=True)
class GridRow:
    row: int
    person: str
    """The username or user id as written in the file."""
    answers: dict[str, Answer]


@dataclass(frozen=True)
class PaperGrid:
    rows: list[GridRow]
    problems: list[GridProblem]
    filename: str = ""


class PaperRefused(InputError):
    """Nothing was saved or committed; `problems` holds every reason (GridProblem, Mismatch, TypedOnce)."""

    def __init__(self, message: str, problems: list):
        super().__init__(message)
        self.problems = problems


def test_items(module: Module, kind: str) -> tuple[Item, ...]:
    if kind not in PAPER_KINDS:
        raise InputError(f"kind: expected pre or post, got {kind!r}")
    return module.pre_test if kind == "pre" else module.post_test


def read_cell(item: Item, raw: object) -> Answer:
    """A cell as typed from a sheet, in the canonical form of engine.quiz.normalize, or InputError."""
    if raw is None or isinstance(raw, (bool, list, tuple, set)):
        return normalize(item, raw)
    text = str(raw).strip()
    if not text or item.type == "short_text":
        return normalize(item, text)
    word = text.casefold()
    if item.type == "true_false":
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise InputError(f"item {item.id}: expected true or false, got {text!r}")
        return "true" if word in TRUE_WORDS else "false"
    ids = {option.id.casefold(): option.id for option in item.options}
    parts = [word] if word in ids else [part for part in re.split(r"[\s,;/+]+", word) if part]
    if len(parts) == 1 and parts[0] not in ids and all(len(key) == 1 for key in ids):
        parts = list(parts[0])  # "ac": two letters
    return normalize(item, [ids.get(part, part) for part in parts])


def _check_module(found: ClassroomSession, module: Module) -> None:
    if found.module_id != module.id:
        raise InputError(f"module: this session teaches {found.module_id}, not {module.id}")


def paper_key(session_id: str, kind: str, user_id: str) -> str:
    return f"paper:{session_id}:{kind}:{user_id}"


def _committed(session: Session, session_id: str, kind: str, user_ids: list[str]) -> set[str]:
    keys = {paper_key(session_id, kind, user_id): user_id for user_id in user_ids}
    return {keys[k] for k in session.scalars(select(Attempt.idempotency_key).where(Attempt.idempotency_key.in_(keys)))}


def _write_row(session: Session, *, by: User, session_id: str, kind: str, user_id: str, entry_no: int,
               items: tuple[Item, ...], cells: dict[str, Answer]) -> None:
    """Upsert the cells given; an item never typed for this row is kept as blank. A row left wholly
    blank is no sheet at all (the grid lists everyone present): it is not kept, or no longer."""
    kept = {e.item_id: e for e in session.scalars(select(PaperEntry).where(
        PaperEntry.session_id == session_id, PaperEntry.user_id == user_id, PaperEntry.kind == kind,
        PaperEntry.entry_no == entry_no))}
    if all(cells[i] is None if i in cells else i not in kept or decode_answer(kept[i].answer) is None
           for i in (item.id for item in items)):
        for entry in kept.values():
            session.delete(entry)
        session.flush()
        return
    for item in items:
        if item.id in kept and item.id not in cells:
            continue
        answer = encode_answer(cells.get(item.id))
        entry = kept.get(item.id)
        if entry is None:
            session.add(PaperEntry(session_id=session_id, user_id=user_id, kind=kind, entry_no=entry_no,
                                   item_id=item.id, answer=answer, entered_by_id=by.id))
        elif entry.answer != answer:
            entry.answer, entry.entered_by_id, entry.entered_at = answer, by.id, utcnow()
    session.flush()


def _cells(items: tuple[Item, ...], answers: dict[str, object], row: int | None) -> tuple[dict, list[GridProblem]]:
    by_id = {item.id: item for item in items}
    cells, problems = {}, []
    for item_id, raw in answers.items():
        if item_id not in by_id:
            problems.append(GridProblem(row, item_id, "unknown_item", "not an item of this test"))
            continue
        try:
            cells[item_id] = read_cell(by_id[item_id], raw)
        except InputError as exc:
            problems.append(GridProblem(row, item_id, "bad_answer", str(exc).removeprefix(f"item {item_id}: ")))
    return cells, problems


def _refuse(problems: list, what: str) -> PaperRefused:
    return PaperRefused(f"{what}: {len(problems)} problem(s), the first: {problems[0]}", problems)


def save_paper_row(session: Session, *, by: User, session_id: str, module: Module, kind: str, user_id: str,
                   entry_no: int, answers: dict[str, object]) -> None:
    """Keep one participant's row of one entry (1: first typing, 2: the second person's). Every bad
    cell is named (PaperRefused) and nothing is kept; a blank cell is allowed."""
    found = run(session, by=by, session_id=session_id)
    _check_module(found, module)
    items = test_items(module, kind)
    if entry_no not in (1, 2):
        raise InputError(f"entry_no: expected 1 or 2, got {entry_no!r}")
    in_room_or_cohort(session, found, [user_id])
    if _committed(session, found.id, kind, [user_id]):
        raise InputError(f"this participant's paper {kind}-test is already committed; attempts are not changed")
    cells, problems = _cells(items, answers, None)
    if problems:
        raise _refuse(problems, "the row was not saved")
    _write_row(session, by=by, session_id=found.id, kind=kind, user_id=user_id, entry_no=entry_no, items=items,
               cells=cells)


def _entries(session: Session, session_id: str, kind: str) -> dict[str, dict[int, dict[str, Answer]]]:
    """user id -> entry no -> item id -> answer."""
    typed: dict[str, dict[int, dict[str, Answer]]] = defaultdict(lambda: defaultdict(dict))
    for user_id, entry_no, item_id, answer in session.execute(
        select(PaperEntry.user_id, PaperEntry.entry_no, PaperEntry.item_id, PaperEntry.answer)
        .where(PaperEntry.session_id == session_id, PaperEntry.kind == kind)
    ):
        typed[user_id][entry_no][item_id] = decode_answer(answer)
    return typed


def _mismatches(typed) -> list[Mismatch]:
    found = []
    for user_id, entries in sorted(typed.items()):
        if 1 in entries and 2 in entries:
            first, second = entries[1], entries[2]
            found.extend(Mismatch(user_id, item_id, first.get(item_id), second.get(item_id))
                         for item_id in sorted(set(first) | set(second)) if first.get(item_id) != second.get(item_id))
    return found


def _typed_once(typed) -> list[TypedOnce]:
    return [TypedOnce(user_id, next(iter(entries))) for user_id, entries in sorted(typed.items()) if len(entries) == 1]


def mismatches(session: Session, *, session_id: str, kind: str) -> list[Mismatch]:
    """The cells typed differently in the two entries, where both were typed."""
    return _mismatches(_entries(session, session_id, kind))


def typed_once(session: Session, *, session_id: str, kind: str) -> list[TypedOnce]:
    """Participants whose row is in one entry only: with double entry, still to be typed again."""
    return _typed_once(_entries(session, session_id, kind))


def _names(session: Session, user_ids) -> dict[str, str]:
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(list(user_ids)))).all())


def commit_paper(session: Session, *, by: User, session_id: str, kind: str, course: Course, module: Module,
                 require_double_entry: bool) -> list[str]:
    """Make one attempt per participant typed in (source "paper", recorded by `by`), graded by
    engine.quiz; returns every participant's attempt id, those of an earlier commit included. Refused
    (PaperRefused, listing them) while the two entries differ anywhere or, with double entry required,
    while a row is typed once. Whoever has a sheet was in the room: they are marked present."""
    found = run(session, by=by, session_id=session_id, lock="update")
    _check_module(found, module)
    items = test_items(module, kind)
    typed = _entries(session, found.id, kind)
    if not typed:
        raise InputError(f"no paper {kind}-test has been typed in for this session")
    problems = _mismatches(typed) + (_typed_once(typed) if require_double_entry else [])
    if problems:
        names = _names(session, {p.user_id for p in problems})
        shown = [f"{names.get(p.user_id, p.user_id)}, {p.item_id}: {p.first!r} then {p.second!r}"
                 if isinstance(p, Mismatch) else f"{names.get(p.user_id, p.user_id)}: typed once" for p in problems]
        raise PaperRefused(f"the paper {kind}-test was not committed: " + "; ".join(shown), problems)
    done = _committed(session, found.id, kind, list(typed))
    ids = []
    for user_id, entries in sorted(typed.items()):
        key = paper_key(found.id, kind, user_id)
        if user_id not in done:
            _record(session, by=by, course=course, module=module, session_id=found.id, kind=kind, user_id=user_id,
                    items=items, answers=entries.get(1) or entries[2], key=key)
        ids.append(session.scalar(select(Attempt.id).where(Attempt.idempotency_key == key)))
        check_in(session, found.id, user_id, "ticked")
    return ids


def _record(session: Session, *, by: User, course: Course, module: Module, session_id: str, kind: str,
            user_id: str, items: tuple[Item, ...], answers: dict[str, Answer], key: str) -> None:
    result = score(items, answers)
    attempt = Attempt(user_id=user_id, module_id=module.id, kind=kind, source="paper", language=course.language,
                      content_version=course.version, idempotency_key=key, classroom_session_id=session_id,
                      recorded_by_id=by.id, submitted_at=utcnow(), score=result.points, max_score=result.max_points)
    keep_attempt(session, attempt, result)  # False: committed at the same moment elsewhere; that one is kept


# --- an uploaded grid --------------------------------------------------------------------------------------


def parse_paper_grid(data: bytes, filename: str, module: Module, kind: str) -> PaperGrid:
    """Read a grid file (CSV or XLSX, as engine.roster reads rosters): row 1 names the columns, one
    "username" (or "user_id") and one per item id of the test. Every problem names its row and column."""
    items = {item.id.casefold(): item for item in test_items(module, kind)}
    if len(data) > MAX_BYTES:
        return PaperGrid([], [GridProblem(None, None, "file_too_large", f"{filename} is larger than "
                                          f"{MAX_BYTES // 2**20} MB")], filename)
    problems: list[GridProblem] = []
    rows: list[GridRow] = []
    try:
        records = _records(data, filename)
        person, columns = _grid_header(next(records, []), items, problems)
        seen: dict[str, int] = {}
        for number, cells in enumerate(records, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise _Bad("too_many_rows", f"{filename} has more than {MAX_ROWS:,} rows")
            row = _grid_row(number, cells, person, columns, seen, problems)
            if row is not None:
                rows.append(row)
    except _Bad as bad:
        return PaperGrid([], [GridProblem(None, None, bad.code, bad.message)], filename)
    if not rows and not problems:
        problems.append(GridProblem(None, None, "no_rows", f"{filename} has no participants below its header row"))
    return PaperGrid(rows, sorted(problems, key=lambda p: (p.row or 0, p.column or "")), filename)


def _grid_header(cells: list[str], items: dict[str, Item],
                 problems: list[GridProblem]) -> tuple[int | None, dict[int, Item]]:
    person, columns = None, {}
    for index, cell in enumerate(cells):
        label = cell.strip()
        word = label.casefold().replace(" ", "_")
        if not label:
            continue
        if word in PERSON_COLUMNS and person is None:
            person = index
        elif word in items and items[word] not in columns.values():
            columns[index] = items[word]
        else:
            problems.append(GridProblem(1, label, "unknown_column", "expected username and the test's item ids ("
                                        + ", ".join(item.id for item in items.values()) + ") once each"))
    if person is None:
        problems.append(GridProblem(1, "username", "missing_column", "the column naming each participant is missing"))
    problems.extend(GridProblem(1, item.id, "missing_column", "this item of the test has no column")
                    for item in items.values() if item not in columns.values())
    return person, columns


def _grid_row(number: int, cells: list[str], person: int | None, columns: dict[int, Item], seen: dict[str, int],
              problems: list[GridProblem]) -> GridRow | None:
    who = cells[person].strip() if person is not None and person < len(cells) else ""
    if person is not None and not who:
        problems.append(GridProblem(number, "username", "required", "the participant's username is missing"))
    elif who.casefold() in seen:
        first = seen[who.casefold()]
        problems.append(GridProblem(number, "username", "duplicate", f"{who!r} is already in row {first}"))
    seen.setdefault(who.casefold(), number)
    raw = {item.id: cells[index] if index < len(cells) else "" for index, item in columns.items()}
    answers, bad = _cells(tuple(columns.values()), raw, number)
    problems.extend(bad)
    return GridRow(number, who, answers) if who and not bad else None


def save_paper_grid(session: Session, *, by: User, session_id: str, module: Module, kind: str, entry_no: int,
                    grid: PaperGrid) -> int:
    """Keep every row of a parsed grid as entry `entry_no`, or nothing (PaperRefused naming every row and
    column: the file's own problems, unknown people, people outside the cohort, tests already committed)."""
    found = run(session, by=by, session_id=session_id)
    _check_module(found, module)
    items = test_items(module, kind)
    if entry_no not in (1, 2):
        raise InputError(f"entry_no: expected 1 or 2, got {entry_no!r}")
    problems = list(grid.problems)
    people = _people(session, [row.person for row in grid.rows])
    outside = set(outside_cohort(session, found, list(set(people.values()))))
    done = _committed(session, found.id, kind, list(people.values()))
    for row in grid.rows:
        user_id = people.get(row.person.casefold())
        if user_id is None:
            problems.append(GridProblem(row.row, "username", "unknown_user", f"no account is {row.person!r}"))
        elif user_id in outside:
            problems.append(GridProblem(row.row, "username", "not_in_cohort", f"{row.person!r} is not in this "
                                        "session's cohort; add them as a walk-in first"))
        elif user_id in done:
            problems.append(GridProblem(row.row, "username", "committed", f"the paper {kind}-test of "
                                        f"{row.person!r} is already committed"))
    if problems:
        raise _refuse(sorted(problems, key=lambda p: (p.row or 0, p.column or "")), "the grid was not saved")
    for row in grid.rows:
        _write_row(session, by=by, session_id=found.id, kind=kind, user_id=people[row.person.casefold()],
                   entry_no=entry_no, items=items, cells=row.answers)
    return len(grid.rows)


def _people(session: Session, written: list[str]) -> dict[str, str]:
    """User id by what the file wrote (casefolded): a username, or a user id."""
    ids = [str(uuid.UUID(value)) for value in written if _UUID.fullmatch(value.strip())]
    names = [value.casefold() for value in written]
    found = {}
    for user_id, username in session.execute(select(User.id, User.username).where(
            User.username.in_(names) | User.id.in_(ids))):
        found[username.casefold()] = found[user_id.casefold()] = user_id
    return found
