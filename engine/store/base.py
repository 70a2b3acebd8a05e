"""What every table shares: the declarative base, constraint names, ids, UTC times and short enums."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Fixed constraint names: SQLite batch migrations can only alter or drop a constraint that has a name,
# and the same name on both databases keeps one migration valid for both.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 36
"""A key is str(uuid4()): records made offline on a facilitator's laptop merge without clashes."""
CONTENT_ID_LENGTH = 100
"""Module, section and item ids from the content tree, e.g. "01-engagement", "why-engage", "t01"."""

# The short enums, as stored. A CHECK constraint holds each on both databases.
ROLES = ("learner", "trainer", "facilitator", "coordinator", "admin")
SEXES = ("female", "male", "other", "undisclosed")
ORG_TYPES = ("ministry", "provincial", "district", "commune", "cso", "other")
LANGUAGES = ("km", "en")
COHORT_KINDS = ("tot", "provincial", "self_study")
ATTEMPT_KINDS = ("pre", "post", "check", "exercise")
ATTEMPT_SOURCES = ("online", "classroom", "paper")
SESSION_STATES = ("open", "closed")
OPEN_TESTS = ("pre", "post", "poll")
ATTENDANCE_METHODS = ("joined", "ticked", "walk_in")


def new_id() -> str:
    """A fresh primary key: a random UUID as its 36-character string."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """CHECK that `column` holds one of `values`; named after the column (ck_<table>_<column>)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def check_one_of(field: str, value: str | None, values: tuple[str, ...]) -> str | None:
    """Refuse a value outside `values` when it is set, before the database would."""
    if value is not None and value not in values:
        raise ValueError(f"{field}: expected one of {', '.join(values)}, got {value!r}")
    return value


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases.

    SQLite keeps no offset, so values are stored as UTC wall-clock time and read back with UTC
    attached; PostgreSQL's timestamptz is read back converted to UTC. A naive datetime is refused:
    whether it meant local time or UTC cannot be known.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got naive {value.isoformat()}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}
