"""Who takes part: users, their sign-ins and failed sign-ins, cohorts in the cascade, enrolments, certificates."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from engine.store.base import (
    COHORT_KINDS,
    ID_LENGTH,
    LANGUAGES,
    ORG_TYPES,
    ROLES,
    SEXES,
    Base,
    check_one_of,
    new_id,
    one_of,
    utcnow,
)

PROVINCE_CODE = re.compile(r"\d{2}")


def check_province_code(value: str | None) -> str | None:
    """A province is kept by its 2-digit official code ("17" is Siem Reap), never by its name."""
    if value is not None and not PROVINCE_CODE.fullmatch(value):
        raise ValueError(f"province_code: expected a 2-digit official code such as '17', got {value!r}")
    return value


class User(Base):
    """A person who signs in: learner, trainer, facilitator, coordinator or administrator."""

    __tablename__ = "users"
    __table_args__ = (
        one_of("role", ROLES),
        one_of("sex", SEXES),
        one_of("org_type", ORG_TYPES),
        one_of("language", LANGUAGES),
        CheckConstraint("length(province_code) = 2", name="province_code"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name_km: Mapped[str] = mapped_column(String(200))
    full_name_latin: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="learner")
    # As the person states it; "other" is another answer, "undisclosed" is prefers not to say.
    sex: Mapped[str] = mapped_column(String(16), default="undisclosed")
    province_code: Mapped[str | None] = mapped_column(String(2))
    org_type: Mapped[str] = mapped_column(String(16), default="other")
    institution: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="km")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    @validates("role", "sex", "org_type", "language")
    def _check_enum(self, key: str, value: str) -> str | None:
        allowed = {"role": ROLES, "sex": SEXES, "org_type": ORG_TYPES, "language": LANGUAGES}[key]
        return check_one_of(key, value, allowed)

    @validates("province_code")
    def _check_province(self, key: str, value: str | None) -> str | None:
        return check_province_code(value)


class AuthSession(Base):
    """A sign-in that survives a page reload. Only a SHA-256 of the token is kept, never the token."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SignInFailure(Base):
    """A failed sign-in, kept for throttling (engine.accounts). `login` is the account's username when the
    login named one, else "?" and the SHA-256 of the login as typed, lower-cased (it may be a password typed
    in the wrong box); `client` is the request's address when known."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index(None, "login", "failed_at"), Index(None, "client", "failed_at"))

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    login: Mapped[str] = mapped_column(String(100))
    client: Mapped[str | None] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cohort(Base):
    """A group trained together. `parent` is the cohort its trainer was trained in (the cascade)."""

    __tablename__ = "cohorts"
    __table_args__ = (
        one_of("kind", COHORT_KINDS),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("length(province_code) = 2", name="province_code"),
        Index(None, "trainer_id"),
        Index(None, "parent_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # No ON DELETE: a cohort that others were trained from cannot vanish from under them.
    parent_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), ForeignKey("cohorts.id"))
    trainer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    province_code: Mapped[str | None] = mapped_column(String(2))
    enrol_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    enrol_code_expires_at: Mapped[datetime | None]
    starts_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Cohort | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Cohort]] = relationship(back_populates="parent", order_by="Cohort.name")

    @validates("kind")
    def _check_kind(self, key: str, value: str) -> str | None:
        return check_one_of(key, value, COHORT_KINDS)

    @validates("province_code")
    def _check_province(self, key: str, value: str | None) -> str | None:
        return check_province_code(value)


class Enrolment(Base):
    """A learner's place in a cohort. The unique (cohort_id, user_id) index also serves rosters."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"), Index(None, "user_id"))

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    cohort_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("cohorts.id"))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(Base):
    """The course certificate: one per person, found again by its code."""

    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
