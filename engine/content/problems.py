"""A problem is a value that carries its place: file, line, column, level, message and rule id."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    """The file, relative to the content root, in POSIX form."""
    line: int
    col: int
    level: str
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: [{self.level}] {self.message} ({self.rule})"


def summary(problems: list[Problem]) -> str:
    errors = sum(p.level == ERROR for p in problems)
    warnings = sum(p.level == WARNING for p in problems)
    if not problems:
        return "The course is valid: no problems."
    return f"{errors} error(s), {warnings} warning(s)."
