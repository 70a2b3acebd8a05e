"""Load, validate and index the course. Pure: no database, no Streamlit.

    problems = validate(root)              # every problem, sorted
    courses = load(root)                   # {"km": Course, "en": Course}, or ContentInvalid
"""

from __future__ import annotations

from pathlib import Path

from engine.content.loader import build_course, content_version
from engine.content.model import Course, Exercise, Item, Module, Option, Section, Term
from engine.content.problems import ERROR, WARNING, Problem, summary
from engine.content.rules import REGISTRY
from engine.content.source import Tree, read_tree
from engine.errors import ContentInvalid

__all__ = [
    "Course", "Exercise", "Item", "Module", "Option", "Section", "Term", "Problem", "ERROR", "WARNING",
    "validate", "load", "summary", "check_tree", "read_tree", "ContentInvalid",
]


def check_tree(tree: Tree) -> list[Problem]:
    problems: set[Problem] = set()
    for rule in REGISTRY:
        problems.update(rule.check(tree))
    return sorted(problems)


def validate(root: Path | str) -> list[Problem]:
    """Every problem in the course under `root`, sorted by file and position."""
    return check_tree(read_tree(Path(root)))


def load(root: Path | str) -> dict[str, Course]:
    """The course in each of its languages. Raises ContentInvalid (with every problem) on any error."""
    tree = read_tree(Path(root))
    problems = check_tree(tree)
    if any(p.level == ERROR for p in problems):
        raise ContentInvalid(problems)
    version = content_version(tree)
    return {lang: build_course(tree, lang, version) for lang in tree.course.data["languages"]}
