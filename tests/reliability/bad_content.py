"""A corpus of broken course trees: each case is one named mutation of a copy of the sample course
(tests/fixtures/sample) and the problem `sala validate` must report for it, as `path:line` and rule id.

The cases are system-level: they go through the whole reader and every rule, as an author's mistake
would. tests/content/test_rules.py has one small case per rule; these are the nasty ones (wrong
encodings, NUL bytes, 50 MB files, alias bombs, links to nowhere, folders and link loops where files
should be) and the common ones in forms that test does not write.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

M = "modules/01-engagement.yaml"
COURSE = "course/course.yaml"
GLOSSARY = "course/glossary/01-engagement.yaml"
EN = "content/en/01-engagement"
KM = "content/km/01-engagement"
MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    """What the issue names: encoding, nul, size, syntax, shape, type, translation, key, duplicate, link,
    file (a file missing, empty, a folder or a link loop)."""
    change: Callable[[Path], None]
    path: str
    line: int
    rule: str

    @property
    def place(self) -> str:
        return f"{self.path}:{self.line}:"


# --- mutations --------------------------------------------------------------------------------------------


def replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"corpus setup: {old!r} not in {path}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return change


def write_text(path: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / path).write_text(text, encoding="utf-8")
    return change


def write_bytes(path: str, data: bytes) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / path).write_bytes(data)
    return change


def reencode(path: str, codec: str) -> Callable[[Path], None]:
    """The file saved again in another encoding, as an editor set to it would."""
    def change(root: Path) -> None:
        file = root / path
        file.write_bytes(file.read_text(encoding="utf-8").encode(codec))
    return change


def insert_bytes(path: str, after: str, data: bytes) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        file = root / path
        raw = file.read_bytes()
        at = raw.index(after.encode()) + len(after.encode())
        file.write_bytes(raw[:at] + data + raw[at:])
    return change


def huge(path: str, head: bytes, megabytes: int) -> Callable[[Path], None]:
    """A file of `megabytes` MB: the head, then lines of text, written in 1 MB blocks."""
    def change(root: Path) -> None:
        line = b"- " + b"x" * 77 + b"\n"
        block = line * (MB // len(line))
        with (root / path).open("wb") as out:
            out.write(head)
            for _ in range(megabytes):
                out.write(block)
    return change


def folder_instead(path: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / path).unlink()
        (root / path).mkdir()
        (root / path / "inside.md").write_text("---\nid: x\n---\nx\n", encoding="utf-8")
    return change


def link_loop(path: str) -> Callable[[Path], None]:
    """The file replaced by a symbolic link to itself: opening it fails with 'too many levels of links'."""
    def change(root: Path) -> None:
        (root / path).unlink()
        os.symlink(Path(path).name, root / path)
    return change


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        for one in changes:
            one(root)
    return change


def billion_laughs() -> str:
    """Nine aliases of nine aliases ... ten levels deep: 400 bytes that expand to 3.5 billion strings."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for letter, previous in zip("bcdefghij", "abcdefghi", strict=True):
        lines.append(f"{letter}: &{letter} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


LESSON_HEAD = b"---\nid: why-engage\ntitle: Why listen to citizens?\n---\n"

CASES = [
    # encodings: the message names the first byte that is not UTF-8
    Case("section saved as Latin-1", "encoding",
         both(replace(f"{EN}/sections/why-engage.md", "A one-window", "A caf\u00e9 one-window"),
              reencode(f"{EN}/sections/why-engage.md", "latin-1")),
         f"{EN}/sections/why-engage.md", 5, "encoding"),
    Case("items saved as UTF-16 without a BOM", "encoding", reencode(f"{EN}/items.yaml", "utf-16-le"),
         f"{EN}/items.yaml", 1, "encoding"),
    Case("Khmer items saved as UTF-16 big-endian without a BOM", "encoding", reencode(f"{KM}/items.yaml", "utf-16-be"),
         f"{KM}/items.yaml", 1, "encoding"),
    Case("module saved as Windows-1252 with curly quotes", "encoding",
         both(replace(M, "id: 01-engagement", "id: 01-engagement  # \u201cengagement\u201d"),
              reencode(M, "cp1252")),
         M, 1, "encoding"),
    Case("Khmer lesson cut in the middle of a character", "encoding",
         lambda root: (root / f"{KM}/notes/dialogue.md").write_bytes(
             (root / f"{KM}/notes/dialogue.md").read_bytes().rstrip()[:-1]),
         f"{KM}/notes/dialogue.md", 4, "encoding"),
    # NUL bytes
    Case("NUL byte in a Markdown lesson", "nul", insert_bytes(f"{EN}/sections/stakeholder-map.md", "two axes", b"\0"),
         f"{EN}/sections/stakeholder-map.md", 5, "encoding"),
    Case("NUL byte in a module's YAML", "nul", insert_bytes(M, "minutes: 25", b"\0"), M, 8, "encoding"),
    # size
    Case("50 MB Markdown section", "size", huge(f"{EN}/sections/why-engage.md", LESSON_HEAD, 50),
         f"{EN}/sections/why-engage.md", 1, "encoding"),
    Case("50 MB YAML glossary", "size", huge(GLOSSARY, b"terms:\n", 50), GLOSSARY, 1, "encoding"),
    # YAML syntax and abuse
    Case("billion laughs alias bomb", "syntax", write_text(GLOSSARY, billion_laughs()), GLOSSARY, 2, "yaml-syntax"),
    Case("alias inside its own anchor", "syntax", write_text(GLOSSARY, "terms: &t [*t]\n"), GLOSSARY, 1, "yaml-syntax"),
    Case("merge key from an anchor", "syntax",
         both(replace(M, "  why-engage-1:\n    type: single\n", "  why-engage-1: &single\n    type: single\n"),
              replace(M, "  stakeholder-map-2:\n    type: single\n", "  stakeholder-map-2:\n    <<: *single\n")),
         M, 30, "yaml-syntax"),
    Case("YAML nested 5,000 levels deep", "syntax", write_text(GLOSSARY, "terms: " + "[" * 5000 + "]" * 5000 + "\n"),
         GLOSSARY, 1, "yaml-syntax"),
    Case("tab used for indentation", "syntax", replace(M, "    minutes: 25", "\tminutes: 25"), M, 8, "yaml-syntax"),
    Case("unclosed quote", "syntax", replace(M, "key: c", 'key: "c'), M, 38, "yaml-syntax"),
    Case("control character in YAML", "syntax", insert_bytes(f"{KM}/items.yaml", "stem:", b"\x1b"), f"{KM}/items.yaml", 2, "yaml-syntax"),
    Case("front matter never closed", "syntax",
         write_text(f"{KM}/notes/why-engage.md", "---\nid: why-engage\n\nនិយាយអំពីអ្នកប្រើសេវា។\n"),
         f"{KM}/notes/why-engage.md", 1, "front-matter"),
    # wrong shapes and types
    Case("module file is a list, not a mapping", "shape",
         write_text(M, "- id: 01-engagement\n- objectives: [o1, o2]\n"), M, 1, "schema"),
    Case("items wording is one string", "shape", write_text(f"{EN}/items.yaml", "The questions are on paper.\n"),
         f"{EN}/items.yaml", 1, "schema"),
    Case("front matter is a list", "shape", write_text(f"{EN}/notes/why-engage.md", "---\n- why-engage\n---\nNotes.\n"),
         f"{EN}/notes/why-engage.md", 2, "front-matter"),
    Case("minutes written as a quoted number", "type", replace(M, "minutes: 25", 'minutes: "25"'), M, 8, "schema"),
    Case("minutes negative", "type", replace(M, "minutes: 60", "minutes: -60"), M, 12, "schema"),
    Case("pass mark as a word", "type", replace(COURSE, "pass_mark: 70", "pass_mark: seventy"), COURSE, 9, "schema"),
    Case("options as a mapping", "type", replace(M, "    options: [a, b]\n    key: a", "    options: {a: 1, b: 2}\n    key: a"),
         M, 31, "schema"),
    Case("course languages include an unknown one", "type",
         replace(COURSE, "languages: [km, en]", "languages: [km, en, fr]"), COURSE, 8, "schema"),
    # translations
    Case("item with no English wording", "translation",
         replace(f"{EN}/items.yaml", "t02:\n  stem: A stakeholder map should include groups who are affected by a "
                 "service but have no voice.\n  options:\n    \"true\":\n      feedback: Right. Those groups are the "
                 "main reason to draw the map.\n    \"false\":\n      feedback: Leaving them out repeats the gap the map "
                 "is meant to reveal.\n", ""),
         f"{EN}/items.yaml", 1, "missing-translation"),
    Case("module title only in English", "translation", replace(COURSE, "      km: ការចូលរួមរបស់ពលរដ្ឋ\n", ""),
         COURSE, 14, "missing-translation"),
    Case("glossary definition only in Khmer", "translation",
         lambda root: (root / GLOSSARY).write_text(
             "\n".join(line for line in (root / GLOSSARY).read_text(encoding="utf-8").split("\n")
                       if not (line.startswith("      en:"))) , encoding="utf-8"),
         GLOSSARY, 6, "missing-translation"),
    # keys
    Case("multiple key names an option the item lacks", "key", replace(M, "key: [a, c]", "key: [a, e]"), M, 28, "key-option"),
    Case("single item keyed with a list", "key", replace(M, "    options: [a, b, c, d]\n    key: c", "    options: [a, b, c, d]\n    key: [c]"),
         M, 38, "key-option"),
    Case("true/false item keyed 'yes'", "key", replace(M, "    type: true_false\n    key: true", "    type: true_false\n    key: \"yes\""),
         M, 42, "key-option"),
    # duplicates
    Case("a section referenced twice", "duplicate",
         replace(M, "exercise:", "  - id: stakeholder-map\n    minutes: 25\n    checks: []\nexercise:"), M, 10, "duplicate-id"),
    Case("an item listed in two sections", "duplicate",
         replace(M, "checks: [stakeholder-map-1, stakeholder-map-2]", "checks: [stakeholder-map-1, stakeholder-map-2, why-engage-1]"),
         M, 9, "duplicate-id"),
    Case("an objective listed twice", "duplicate", replace(M, "objectives: [o1, o2]", "objectives: [o1, o2, o1]"),
         M, 2, "duplicate-id"),
    Case("the module listed twice in the course", "duplicate",
         replace(COURSE, "modules:\n", "modules:\n  - id: 01-engagement\n    title: {km: ម, en: M}\n"), COURSE, 14, "duplicate-id"),
    # links
    Case("lessons linking in a cycle, one link to a missing file", "link",
         both(replace(f"{EN}/sections/stakeholder-map.md", "(../module.md)", "(why-engage.md)"),
              replace(f"{EN}/sections/why-engage.md", "A one-window", "See [the map](stakeholder-map.md) and "
                      "[the plan](plan.md).\nA one-window")),
         f"{EN}/sections/why-engage.md", 5, "broken-link"),
    Case("link to a file outside the course", "link",
         replace(f"{EN}/sections/stakeholder-map.md", "(../module.md)", "(../../../../../../../../../../etc/hostname)"),
         f"{EN}/sections/stakeholder-map.md", 9, "broken-link"),
    Case("image at an absolute path", "link",
         replace(f"{KM}/exercise.md", "រដ្ឋបាលខេត្តចង់", "![ផែនទី](/usr/share/pixmaps/debian-logo.png)\nរដ្ឋបាលខេត្តចង់"),
         f"{KM}/exercise.md", 5, "broken-link"),
    # files: missing, empty, a folder, a link loop
    Case("notes missing in Khmer", "file", lambda root: (root / f"{KM}/notes/stakeholder-map.md").unlink(),
         M, 7, "missing-file"),
    Case("an empty module file", "file", write_text(M, ""), M, 1, "schema"),
    Case("an empty lesson file", "file", write_text(f"{KM}/sections/why-engage.md", ""),
         f"{KM}/sections/why-engage.md", 1, "front-matter"),
    Case("a folder named items.yaml", "file", folder_instead(f"{EN}/items.yaml"), f"{EN}/items.yaml", 1, "missing-file"),
    Case("a folder named like a lesson", "file", folder_instead(f"{KM}/sections/stakeholder-map.md"),
         f"{KM}/sections/stakeholder-map.md", 1, "missing-file"),
    Case("a lesson that is a symbolic link to itself", "file", link_loop(f"{EN}/sections/why-engage.md"),
         f"{EN}/sections/why-engage.md", 1, "missing-file"),
    Case("an image that is a symbolic link loop", "file",
         lambda root: ((root / EN / "images").mkdir(), os.symlink("map.png", root / EN / "images" / "map.png")),
         f"{EN}/images/map.png", 1, "missing-file"),
    Case("course.yaml is a folder", "file", folder_instead(COURSE), COURSE, 1, "missing-file"),
]
