"""Every table of the store, importable from one place: `from engine.store.models import User`."""

from engine.store.activity import (
    Attempt,
    Attendance,
    ClassroomSession,
    ExerciseAnswer,
    Response,
    SectionProgress,
)
from engine.store.base import (
    ATTEMPT_KINDS,
    ATTEMPT_SOURCES,
    ATTENDANCE_METHODS,
    COHORT_KINDS,
    LANGUAGES,
    OPEN_TESTS,
    ORG_TYPES,
    ROLES,
    SESSION_STATES,
    SEXES,
    Base,
    UTCDateTime,
)
from engine.store.people import AuthSession, Certificate, Cohort, Enrolment, User

__all__ = [
    "ATTEMPT_KINDS",
    "ATTEMPT_SOURCES",
    "ATTENDANCE_METHODS",
    "COHORT_KINDS",
    "LANGUAGES",
    "OPEN_TESTS",
    "ORG_TYPES",
    "ROLES",
    "SESSION_STATES",
    "SEXES",
    "Attempt",
    "Attendance",
    "AuthSession",
    "Base",
    "Certificate",
    "ClassroomSession",
    "Cohort",
    "Enrolment",
    "ExerciseAnswer",
    "Response",
    "SectionProgress",
    "User",
    "UTCDateTime",
]
