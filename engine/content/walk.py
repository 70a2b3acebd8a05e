"""Well-typed views over a possibly broken tree. Rules use these so that each rule reports only its
own kind of problem: a value of the wrong type is the schema rule's business and is skipped here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from engine.content.problems import ERROR, Problem
from engine.content.source import SourceFile, Tree
from engine.content.yamlmarks import Pos, YList, YMap


def as_map(value: object) -> YMap | None:
    return value if isinstance(value, YMap) else None


def as_list(value: object) -> YList:
    return value if isinstance(value, YList) else YList((1, 1))


def ids_in(value: object) -> Iterator[tuple[str, Pos]]:
    """The string entries of a YAML list, with their places."""
    seq = as_list(value)
    for i, v in enumerate(seq):
        if isinstance(v, str):
            yield v, seq.at(i)


def maps_in(value: object) -> Iterator[YMap]:
    for v in as_list(value):
        if isinstance(v, YMap):
            yield v


@dataclass
class ModuleDecl:
    """modules/<id>.yaml, when it parsed to a mapping."""

    id: str
    file: SourceFile
    data: YMap

    @property
    def items(self) -> YMap:
        return as_map(self.data.get("items")) or YMap(self.data.at("items"))

    def sections(self) -> Iterator[YMap]:
        for s in maps_in(self.data.get("sections")):
            if isinstance(s.get("id"), str):
                yield s

    def section_ids(self) -> list[str]:
        return [s["id"] for s in self.sections()]

    def exercise(self) -> YMap | None:
        ex = as_map(self.data.get("exercise"))
        return ex if ex is not None and isinstance(ex.get("id"), str) else None

    def uses(self) -> Iterator[tuple[str, str, YList | YMap, Pos]]:
        """Every place an item id is used: (item id, where, container, position)."""
        for s in self.sections():
            for item_id, pos in ids_in(s.get("checks")):
                yield item_id, f"checks of section {s['id']!r}", s, pos
        ex = self.exercise()
        if ex is not None:
            for item_id, pos in ids_in(ex.get("items")):
                yield item_id, "exercise items", ex, pos
        tests = as_map(self.data.get("tests")) or {}
        for kind in ("pre", "post"):
            for item_id, pos in ids_in(tests.get(kind)):
                yield item_id, f"the {kind}-test", tests, pos


def module_decls(tree: Tree) -> Iterator[ModuleDecl]:
    for module_id, file in sorted(tree.modules.items()):
        if isinstance(file.data, YMap):
            yield ModuleDecl(module_id, file, file.data)


def course_map(tree: Tree) -> YMap | None:
    return as_map(tree.course.data) if tree.course else None


def course_languages(tree: Tree) -> list[str]:
    course = course_map(tree)
    langs = [lang for lang, _ in ids_in(course.get("languages"))] if course else []
    return [lang for lang in langs if lang in tree.text] or list(tree.text)


class Report:
    """Collects the problems of one rule."""

    def __init__(self, rule: str, level: str = ERROR):
        self.rule, self.level, self.problems = rule, level, []

    def __call__(self, path: str, pos: Pos, message: str, level: str | None = None) -> None:
        self.problems.append(Problem(path, pos[0], pos[1], level or self.level, message, self.rule))
