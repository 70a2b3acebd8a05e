"""The course certificate: issued once, when every module's post-test is passed; found again by code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.content.model import Course
from engine.learning import ModuleRecord, passed
from engine.store.models import Certificate

# No 0/O, 1/I/L: a code read aloud or typed from paper cannot be mistaken.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"SALA-{body[:4]}-{body[4:]}"


def passed_all(course: Course, records: dict[str, ModuleRecord]) -> bool:
    return all(passed(m, records.get(m.id, ModuleRecord())) for m in course.modules)


@dataclass(frozen=True)
class CertificateView:
    code: str
    issued_at: datetime
    passed_on: dict[str, datetime]
    """module id -> when its best passing post-test was submitted."""


def issue(session: Session, *, user_id: str, course: Course,
          records: dict[str, ModuleRecord]) -> CertificateView | None:
    """The learner's certificate, issued now if they have just become eligible; None if not eligible."""
    if not passed_all(course, records):
        return None
    row = session.scalar(select(Certificate).where(Certificate.user_id == user_id))
    if row is None:
        row = Certificate(user_id=user_id, code=new_code())
        session.add(row)
        session.flush()
    dates = {}
    for module in course.modules:
        best = records[module.id].best_post
        dates[module.id] = best.submitted_at
    return CertificateView(row.code, row.issued_at, dates)
