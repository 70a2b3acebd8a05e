"""The course as the engine serves it: typed, immutable, for one language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    feedback: str


@dataclass(frozen=True)
class Item:
    id: str
    type: str
    """single, multiple, true_false or short_text."""
    stem: str
    options: tuple[Option, ...]
    key: frozenset[str]
    """The right option ids; for true_false {"true"} or {"false"}; empty for short_text."""
    guidance: str = ""
    section: str | None = None
    """For a test item: the section that teaches it (what to review after missing it)."""

    @property
    def graded(self) -> bool:
        return self.type != "short_text"

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    minutes: int
    body: str
    checks: tuple[Item, ...]
    notes: str
    """Facilitator notes: for facilitators' screens only, never a learner's."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    minutes: int
    body: str
    items: tuple[Item, ...]
    notes: str


@dataclass(frozen=True)
class Module:
    id: str
    number: int
    title: str
    pass_mark: int
    objectives: tuple[tuple[str, str], ...]
    overview: str
    sections: tuple[Section, ...]
    exercise: Exercise
    pre_test: tuple[Item, ...]
    post_test: tuple[Item, ...]
    items: Mapping[str, Item]

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.sections) + self.exercise.minutes

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)


@dataclass(frozen=True)
class Term:
    id: str
    en: str
    km: str
    definition: str
    module_id: str | None


@dataclass(frozen=True)
class Course:
    id: str
    language: str
    languages: tuple[str, ...]
    title: str
    issuer: str
    pass_mark: int
    post_test_attempts: int
    modules: tuple[Module, ...]
    glossary: tuple[Term, ...]
    version: str
    """A hash of every content file: attempts record it, so statistics stay tied to the wording."""

    def module(self, module_id: str) -> Module | None:
        return next((m for m in self.modules if m.id == module_id), None)
