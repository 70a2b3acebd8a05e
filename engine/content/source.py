"""Read the course tree from disk into `Tree`: every file's text, parsed data and reading problems.

Reading never raises for bad content: an unreadable file becomes a problem with its place, and the
file is left out of what the rules see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.content.problems import ERROR, WARNING, Problem
from engine.content.yamlmarks import YamlProblem, YMap, parse

MAX_BYTES = 2 * 1024 * 1024
LANGUAGES = ("km", "en")


@dataclass
class SourceFile:
    path: str
    """Relative to the content root, POSIX form: what problems name."""
    data: object = None
    """The parsed YAML (or front matter): YMap/YList/scalars, None when absent or unreadable."""
    body: str = ""
    """For Markdown: the text after the front matter."""
    body_line: int = 1
    """The line of the file on which `body` starts."""
    readable: bool = True


@dataclass
class ModuleText:
    """One module's wording in one language: content/<lang>/<module>/."""

    folder: str
    module_md: SourceFile | None = None
    exercise_md: SourceFile | None = None
    items: SourceFile | None = None
    sections: dict[str, SourceFile] = field(default_factory=dict)
    notes: dict[str, SourceFile] = field(default_factory=dict)


@dataclass
class Tree:
    root: Path
    course: SourceFile | None = None
    glossaries: dict[str, SourceFile] = field(default_factory=dict)
    modules: dict[str, SourceFile] = field(default_factory=dict)
    text: dict[str, dict[str, ModuleText]] = field(default_factory=dict)
    """language -> module id (folder name) -> wording."""
    reading_problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every file of the course, relative: what the content version hashes."""
    texts: dict[str, str] = field(default_factory=dict)
    """The decoded text of every YAML and Markdown file that could be read, by relative path: the rules
    that look at raw lines use it, so a file refused while reading (too large, not UTF-8) is never read
    again."""


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 without a byte order mark: ASCII text leaves a NUL in every other byte, all on one side."""
    sample = raw[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(even, odd) >= max(2, len(sample) // 10) and min(even, odd) <= max(even, odd) // 10


def not_a_file(path: Path) -> str | None:
    """Why something at `path` that should be a file is not one; None for a regular file or nothing at all."""
    if path.is_symlink() and not path.exists():
        return "a symbolic link that leads nowhere (a loop, or its target is missing)"
    if path.is_dir():
        return "a folder"
    if path.exists() and not path.is_file():
        return "something that is not a regular file (a pipe or a device)"
    return None


def _line_of(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    return line, offset - (before.rfind(b"\n") + 1) + 1


class Reader:
    def __init__(self, root: Path):
        self.tree = Tree(root=root)

    def problem(self, path: str, line: int, col: int, message: str, rule: str, level: str = ERROR):
        self.tree.reading_problems.append(Problem(path, line, col, level, message, rule))

    def is_file(self, path: Path) -> bool:
        """Whether `path` is a regular file; something else under that name (a folder, a broken link)
        is a problem with its place."""
        why = not_a_file(path)
        if why is not None:
            self.problem(path.relative_to(self.tree.root).as_posix(), 1, 1, f"expected a file, found {why}",
                         "missing-file")
        return path.is_file()

    def files(self, folder: Path, suffix: str) -> list[Path]:
        """The files named *suffix in `folder` (not hidden, not editor backups); reports what has such a
        name and is no file."""
        if not folder.is_dir():
            return []
        named = sorted(p for p in folder.iterdir() if p.suffix == suffix and not _SKIP.search(p.name))
        return [p for p in named if self.is_file(p)]

    def text_of(self, file: Path) -> tuple[str, str] | None:
        rel = file.relative_to(self.tree.root).as_posix()
        self.tree.files.append(rel)
        try:
            size = file.stat().st_size
            if size > MAX_BYTES:
                # Checked before reading: a 50 MB file is refused in the time a stat takes.
                self.problem(rel, 1, 1, f"file is {size / 1048576:.1f} MB; the limit is {MAX_BYTES // 1048576} MB",
                             "encoding")
                return None
            raw = file.read_bytes()
        except OSError as exc:
            self.problem(rel, 1, 1, f"cannot read the file: {exc.strerror or exc}", "missing-file")
            return None
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            self.problem(rel, 1, 1, "the file is UTF-16; save it as UTF-8", "encoding")
            return None
        if b"\x00" in raw and _looks_utf16(raw):
            self.problem(rel, 1, 1, "the file is UTF-16 without a byte order mark; save it as UTF-8", "encoding")
            return None
        if b"\x00" in raw:
            line, col = _line_of(raw, raw.index(b"\x00"))
            self.problem(rel, line, col, "NUL byte: the file is binary or corrupted", "encoding")
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, col = _line_of(raw, exc.start)
            self.problem(rel, line, col, f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; "
                         "save the file as UTF-8", "encoding")
            return None
        if text.startswith("\ufeff"):
            self.problem(rel, 1, 1, "byte order mark at the start of the file; save as UTF-8 without BOM",
                         "encoding", WARNING)
            text = text[1:]
        text = text.replace("\r\n", "\n")
        self.tree.texts[rel] = text
        return rel, text

    def yaml_file(self, file: Path) -> SourceFile | None:
        got = self.text_of(file)
        if got is None:
            return SourceFile(path=file.relative_to(self.tree.root).as_posix(), readable=False)
        rel, text = got
        try:
            return SourceFile(path=rel, data=parse(text))
        except YamlProblem as exc:
            self.problem(rel, exc.line, exc.col, exc.message, "yaml-syntax")
            return SourceFile(path=rel, readable=False)

    def markdown_file(self, file: Path) -> SourceFile:
        got = self.text_of(file)
        if got is None:
            return SourceFile(path=file.relative_to(self.tree.root).as_posix(), readable=False)
        rel, text = got
        lines = text.split("\n")
        if not lines or lines[0].strip() != "---":
            self.problem(rel, 1, 1, "missing front matter: the file must start with a line '---', "
                         "then YAML (id, title), then '---'", "front-matter")
            return SourceFile(path=rel, body=text, readable=False)
        closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if closing is None:
            self.problem(rel, 1, 1, "front matter is not closed: no second '---' line", "front-matter")
            return SourceFile(path=rel, readable=False)
        body = "\n".join(lines[closing + 1:])
        try:
            data = parse("\n".join(lines[1:closing]), line_offset=1)
        except YamlProblem as exc:
            self.problem(rel, exc.line, exc.col, exc.message, "yaml-syntax")
            return SourceFile(path=rel, body=body, body_line=closing + 2, readable=False)
        if not isinstance(data, YMap):
            self.problem(rel, 2, 1, f"front matter: expected a mapping (id: ..., title: ...), "
                         f"got {type(data).__name__ if data is not None else 'nothing'}", "front-matter")
            return SourceFile(path=rel, body=body, body_line=closing + 2, readable=False)
        return SourceFile(path=rel, data=data, body=body, body_line=closing + 2)


_SKIP = re.compile(r"^(\.|#|~)|~$")


def _images(reader: Reader, folder: Path) -> None:
    """Every file under images/ is part of the content version; folders in it are only places, and a
    link in it that leads nowhere is a problem (the version could not be computed)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            reader.tree.files.append(path.relative_to(reader.tree.root).as_posix())
        elif path.is_symlink() and not path.exists():
            reader.is_file(path)


def read_tree(root: Path) -> Tree:
    """Read course/, modules/ and content/<lang>/ under `root`."""
    reader = Reader(Path(root))
    tree = reader.tree
    course = tree.root / "course" / "course.yaml"
    if reader.is_file(course):
        tree.course = reader.yaml_file(course)
    elif not_a_file(course) is None:
        reader.problem("course/course.yaml", 1, 1, "the course file is missing", "missing-file")
    for file in reader.files(tree.root / "course" / "glossary", ".yaml"):
        tree.glossaries[file.stem] = reader.yaml_file(file)
    for file in reader.files(tree.root / "modules", ".yaml"):
        tree.modules[file.stem] = reader.yaml_file(file)
    for lang in LANGUAGES:
        tree.text[lang] = {}
        lang_root = tree.root / "content" / lang
        if not lang_root.is_dir():
            continue
        for folder in sorted(p for p in lang_root.iterdir() if p.is_dir() and not _SKIP.search(p.name)):
            text = ModuleText(folder=folder.relative_to(tree.root).as_posix())
            if reader.is_file(folder / "module.md"):
                text.module_md = reader.markdown_file(folder / "module.md")
            if reader.is_file(folder / "exercise.md"):
                text.exercise_md = reader.markdown_file(folder / "exercise.md")
            if reader.is_file(folder / "items.yaml"):
                text.items = reader.yaml_file(folder / "items.yaml")
            for file in reader.files(folder / "sections", ".md"):
                text.sections[file.stem] = reader.markdown_file(file)
            for file in reader.files(folder / "notes", ".md"):
                text.notes[file.stem] = reader.markdown_file(file)
            _images(reader, folder / "images")
            tree.text[lang][folder.name] = text
    return tree
