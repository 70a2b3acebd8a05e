"""What learners and facilitators do: progress, attempts and responses, exercises, classroom sessions.

Attempts and responses are an append-only record; summaries (scores per module, completion) are
derived from them and can be rebuilt. Section progress and exercise answers are the two records a
learner edits as they go.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from engine.store.base import (
    ATTEMPT_KINDS,
    ATTEMPT_SOURCES,
    ATTENDANCE_METHODS,
    CONTENT_ID_LENGTH,
    ID_LENGTH,
    LANGUAGES,
    OPEN_TESTS,
    SESSION_STATES,
    Base,
    check_one_of,
    new_id,
    one_of,
    utcnow,
)

PAPER_KINDS = ("pre", "post")
"""The tests a facilitator may run on paper and type in afterwards."""

_ENUMS = {
    "kind": ATTEMPT_KINDS,
    "source": ATTEMPT_SOURCES,
    "language": LANGUAGES,
    "state": SESSION_STATES,
    "open_test": OPEN_TESTS,
    "method": ATTENDANCE_METHODS,
}


def _enum_validator(*fields: str):
    """A fresh validator per class: `validates` marks the function object it is given."""

    def check(self: Base, key: str, value: str | None) -> str | None:
        return check_one_of(key, value, _ENUMS[key])

    return validates(*fields)(check)


class SectionProgress(Base):
    """When a learner first opened a section of a module, and when they completed it."""

    __tablename__ = "section_progress"
    # The unique index leads with (user_id, module_id): it serves "my progress in this module".
    __table_args__ = (UniqueConstraint("user_id", "module_id", "section_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    module_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    section_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    first_opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class ClassroomSession(Base):
    """A facilitator's live session: a cohort, a module, a room, a join code for learners' phones."""

    __tablename__ = "classroom_sessions"
    __table_args__ = (
        one_of("state", SESSION_STATES),
        one_of("open_test", OPEN_TESTS),
        Index(None, "cohort_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    cohort_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("cohorts.id"))
    module_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    facilitator_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    venue: Mapped[str] = mapped_column(Text, default="")
    held_on: Mapped[date] = mapped_column(Date)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[str] = mapped_column(String(8), default="open")
    current_section: Mapped[str | None] = mapped_column(String(CONTENT_ID_LENGTH))
    open_test: Mapped[str | None] = mapped_column(String(8))
    # The item of the module asked as a poll (a knowledge check): kept after the poll closes, so its
    # answers can still be shown, until another test or poll opens.
    poll_item: Mapped[str | None] = mapped_column(String(CONTENT_ID_LENGTH))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    _check_enum = _enum_validator("state", "open_test")


class Attempt(Base):
    """One submitted pre-test, post-test, knowledge check or exercise, online, in class or on paper."""

    __tablename__ = "attempts"
    __table_args__ = (
        one_of("kind", ATTEMPT_KINDS),
        one_of("source", ATTEMPT_SOURCES),
        one_of("language", LANGUAGES),
        CheckConstraint("kind <> 'check' OR section_id IS NOT NULL", name="check_has_section"),
        CheckConstraint("score >= 0 AND score <= max_score", name="score_in_range"),
        Index(None, "user_id", "module_id", "kind"),
        Index(None, "classroom_session_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    module_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(8))
    section_id: Mapped[str | None] = mapped_column(String(CONTENT_ID_LENGTH))
    source: Mapped[str] = mapped_column(String(16), default="online")
    language: Mapped[str] = mapped_column(String(2))
    content_version: Mapped[str] = mapped_column(String(64))
    # The client makes this key before sending; a resubmitted form finds its attempt already kept.
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    classroom_session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), ForeignKey("classroom_sessions.id"))
    recorded_by_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[float] = mapped_column(Double)
    max_score: Mapped[float] = mapped_column(Double)

    responses: Mapped[list[Response]] = relationship(back_populates="attempt", order_by="Response.item_id")

    _check_enum = _enum_validator("kind", "source", "language")


class Response(Base):
    """The answer to one item within an attempt, as JSON text: option ids, "true"/"false", or words."""

    __tablename__ = "responses"
    # The unique index leads with attempt_id: it serves "the responses of this attempt".
    __table_args__ = (UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    attempt_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("attempts.id"))
    item_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    answer: Mapped[str] = mapped_column(Text)
    # None for short text that is not graded (a reflection).
    correct: Mapped[bool | None] = mapped_column(Boolean)
    points: Mapped[float] = mapped_column(Double, default=0.0)

    attempt: Mapped[Attempt] = relationship(back_populates="responses")


class ExerciseAnswer(Base):
    """A learner's written answer to an exercise item, saved as they type and editable until done."""

    __tablename__ = "exercise_answers"
    __table_args__ = (UniqueConstraint("user_id", "module_id", "item_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    module_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    item_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Attendance(Base):
    """Who was in the room: joined on their phone, ticked by the facilitator, or added as a walk-in."""

    __tablename__ = "attendance"
    __table_args__ = (one_of("method", ATTENDANCE_METHODS), UniqueConstraint("session_id", "user_id"))

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("classroom_sessions.id"))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(String(8))
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)

    _check_enum = _enum_validator("method")


class PaperEntry(Base):
    """One cell of a paper test as typed from a participant's sheet, before it becomes an attempt.

    Double entry: a second person types the same sheets again (entry_no 2), and the two must agree
    before the test is committed. `answer` is JSON as engine.quiz.encode_answer writes it ("null":
    left blank on the sheet)."""

    __tablename__ = "paper_entries"
    # The unique index leads with session_id: it serves "the entries of this session's test".
    __table_args__ = (
        one_of("kind", PAPER_KINDS),
        CheckConstraint("entry_no IN (1, 2)", name="entry_no"),
        UniqueConstraint("session_id", "user_id", "kind", "entry_no", "item_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("classroom_sessions.id"))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    entry_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH))
    answer: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @validates("kind")
    def _check_kind(self, key: str, value: str) -> str | None:
        return check_one_of(key, value, PAPER_KINDS)


class ModuleResult(Base):
    """One learner's standing in one module, kept up to date on every write (engine.summaries) so that
    national and per-cohort figures read one row per learner and module instead of every attempt.

    Derived, never edited by hand: the attempts, responses and section progress above are the record,
    and `engine.summaries.refresh` rebuilds any of these rows from them (`sala summaries --rebuild`)."""

    __tablename__ = "module_results"

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    module_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH), primary_key=True)
    pre_attempt_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """The first pre-test: the one that counts, and the one item analysis reads."""
    pre_percent: Mapped[float | None] = mapped_column(Double)
    post_attempt_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """The first post-test, which item analysis reads."""
    best_post_percent: Mapped[float | None] = mapped_column(Double)
    best_post_at: Mapped[datetime | None]
    """When the best post-test score was first reached: the day a passed module was passed."""
    posts: Mapped[int] = mapped_column(Integer, default=0)
    sections_done: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None]


class ItemCount(Base):
    """How many first attempts at a module's pre- or post-test, with total score `total`, answered `item_id`
    with `answer` (right or not): the national item analysis reads these few hundred rows instead of
    grouping a million responses. Derived like ModuleResult, kept on write by engine.summaries."""

    __tablename__ = "item_counts"

    module_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(CONTENT_ID_LENGTH), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer: Mapped[str] = mapped_column(Text, primary_key=True)
    correct: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
