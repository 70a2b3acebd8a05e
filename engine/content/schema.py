"""The shape of every content file, declared once. Each field says what it holds; the `schema` rule
checks files against these declarations and reports "expected X, got Y"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.content.yamlmarks import YList, YMap

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ITEM_TYPES = ("single", "multiple", "true_false", "short_text")
TRUE_FALSE_OPTIONS = ("true", "false")


@dataclass(frozen=True)
class Field:
    kind: str
    """One of: text, id, ids, number, key, mapping, list, texts (a mapping language -> text)."""
    required: bool
    doc: str


def f(kind: str, doc: str, required: bool = True) -> Field:
    return Field(kind, required, doc)


COURSE = {
    "id": f("id", "The course's stable id."),
    "title": f("texts", "The course title in every language: {km: ..., en: ...}."),
    "issuer": f("texts", "Who awards the certificate, in every language."),
    "languages": f("ids", "The languages the course is served in; the first is the default."),
    "pass_mark": f("number", "Percent needed on a post-test to pass a module (0-100)."),
    "post_test_attempts": f("number", "How many post-test attempts a learner has (1 or more)."),
    "modules": f("list", "The modules in teaching order: a list of {id, title}."),
}
COURSE_MODULE = {
    "id": f("id", "The module id; modules/<id>.yaml and content/<lang>/<id>/ must exist."),
    "title": f("texts", "The module title in every language."),
}
GLOSSARY = {"terms": f("list", "The module's key terms.")}
TERM = {
    "id": f("id", "The term's stable id."),
    "en": f("text", "The English term, as the English content writes it."),
    "km": f("text", "The Khmer term, as the Khmer content writes it."),
    "definition": f("texts", "A one-sentence definition in every language."),
}
MODULE = {
    "id": f("id", "The module id: the file name without .yaml."),
    "pass_mark": f("number", "Optional: overrides the course's pass mark.", required=False),
    "objectives": f("ids", "3-5 objective ids; the wording is in module.md of each language."),
    "sections": f("list", "The sections in teaching order: a list of {id, minutes, checks}."),
    "exercise": f("mapping", "The situation-based exercise: {id, minutes, items}."),
    "tests": f("mapping", "The test item lists: {pre: [...], post: [...]}."),
    "items": f("mapping", "Every item of the module by id: {type, options, key}."),
}
SECTION = {
    "id": f("id", "The section id; content/<lang>/<module>/sections/<id>.md holds its lesson."),
    "minutes": f("number", "Minutes a learner needs for the section."),
    "checks": f("ids", "The knowledge-check items shown after the section."),
}
EXERCISE = {
    "id": f("id", "The exercise id; notes/<id>.md holds its facilitator notes."),
    "minutes": f("number", "Minutes the exercise takes in a room."),
    "items": f("ids", "The short_text items each learner writes."),
}
TESTS = {
    "pre": f("ids", "The pre-test items, in order."),
    "post": f("ids", "The post-test items, in order (the same as pre, so gains compare)."),
}
ITEM = {
    "type": f("text", "single, multiple, true_false or short_text."),
    "options": f("ids", "The option ids of a single or multiple item.", required=False),
    "key": f("key", "The right answer: an option id, a list of them, or true/false.", required=False),
    "section": f("id", "For a test item: the section that teaches it, shown to a learner who missed it.",
                 required=False),
}
MODULE_MD = {
    "id": f("id", "The module id."),
    "objectives": f("mapping", "Objective id -> what the learner can do by the end."),
}
SECTION_MD = {
    "id": f("id", "The section id: the file name without .md."),
    "title": f("text", "The section title."),
    "minutes": f("number", "Optional; must equal the minutes in modules/.", required=False),
}
EXERCISE_MD = {
    "id": f("id", "The exercise id."),
    "title": f("text", "The exercise title."),
}
NOTES_MD = {
    "id": f("id", "The section or exercise the notes are for: the file name without .md."),
    "minutes": f("number", "Optional: minutes the facilitator plans.", required=False),
}
WORDING = {
    "stem": f("text", "The question, or what to write."),
    "options": f("mapping", "Option id -> {text, feedback}.", required=False),
    "guidance": f("text", "For short_text: what a good answer contains.", required=False),
}
OPTION = {
    "text": f("text", "The option as the learner sees it (none for true_false)."),
    "feedback": f("text", "Why this option is right or wrong, shown after answering."),
}


def describe(value: object) -> str:
    """How a wrong value is named in a message: 'text "seventy"', 'a list', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"text {shown!r}"
    if isinstance(value, (YMap, dict)):
        return "a mapping"
    if isinstance(value, (YList, list)):
        return "a list"
    return type(value).__name__


EXPECTED = {
    "text": "text",
    "id": "an id (lowercase letters, digits, hyphens)",
    "ids": "a list of ids",
    "number": "a whole number",
    "key": "an option id, a list of option ids, or true/false",
    "mapping": "a mapping",
    "list": "a list",
    "texts": "a mapping of language to text ({km: ..., en: ...})",
}


def fits(kind: str, value: object) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "id":
        return isinstance(value, str) and bool(ID_PATTERN.match(value))
    if kind == "ids":
        return isinstance(value, list) and all(fits("id", v) for v in value)
    if kind == "number":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "key":
        return isinstance(value, (str, bool)) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if kind == "mapping":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind == "texts":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    raise ValueError(kind)
