"""YAML parsing that keeps every value's line and column, so a problem can point at the key that is wrong.

`parse(text, line_offset)` returns plain dicts and lists (subclasses that also carry positions), or
raises `YamlProblem` with the place of a syntax error or a duplicate key.

Course files are plain data, so two YAML features are refused rather than expanded: aliases (`*name`,
and `<<: *name` merges), since nine aliases of nine aliases of ... ("billion laughs") turn a few
hundred bytes into gigabytes and an alias inside its own anchor into an endless loop; and nesting
deeper than MAX_DEPTH levels, which no course file needs and which would exhaust Python's stack.
"""

from __future__ import annotations

import yaml
from yaml.constructor import SafeConstructor

Pos = tuple[int, int]
MAX_DEPTH = 50


class YMap(dict):
    """A mapping that remembers where it, its keys and its values were written (1-based)."""

    def __init__(self, pos: Pos):
        super().__init__()
        self.pos = pos
        self.key_pos: dict[object, Pos] = {}
        self.value_pos: dict[object, Pos] = {}

    def at(self, key: object) -> Pos:
        """The place of `key`'s value, or of the mapping itself when the key is absent."""
        return self.value_pos.get(key, self.pos)

    def key_at(self, key: object) -> Pos:
        return self.key_pos.get(key, self.pos)


class YList(list):
    def __init__(self, pos: Pos):
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []

    def at(self, index: int) -> Pos:
        return self.item_pos[index] if 0 <= index < len(self.item_pos) else self.pos


class YamlProblem(Exception):
    def __init__(self, message: str, line: int, col: int):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def _pos(node: yaml.Node, offset: int) -> Pos:
    return (node.start_mark.line + 1 + offset, node.start_mark.column + 1)


def _first_alias(text: str, offset: int) -> Pos:
    """Where the first alias (*name) is written: composing loses that place, the events keep it."""
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            return (event.start_mark.line + 1 + offset, event.start_mark.column + 1)
    return (1 + offset, 1)


class _AliasFound(Exception):
    pass


class _Builder:
    def __init__(self, offset: int):
        self.offset = offset
        self.scalars = SafeConstructor()
        self.seen: set[int] = set()
        self.depth = 0

    def build(self, node: yaml.Node):
        if id(node) in self.seen:
            raise _AliasFound  # composing made an alias the very node it names: the second visit is the alias
        self.seen.add(id(node))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if self.depth == MAX_DEPTH:
                raise YamlProblem(f"YAML nested more than {MAX_DEPTH} levels deep; a course file needs a few",
                                  *_pos(node, self.offset))
            self.depth += 1
            try:
                return self.collection(node)
            finally:
                self.depth -= 1
        try:
            return self.scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise YamlProblem(f"cannot read value: {_one_line(exc.problem or exc)}",
                              *_pos(node, self.offset)) from None

    def collection(self, node: yaml.Node):
        if isinstance(node, yaml.MappingNode):
            result = YMap(_pos(node, self.offset))
            self.scalars.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = self.build(key_node)
                if isinstance(key, bool):
                    # `true:` and `false:` are option ids of true/false items, not booleans.
                    key = "true" if key else "false"
                if isinstance(key, (YMap, YList)):
                    raise YamlProblem("a mapping key must be a plain value", *_pos(key_node, self.offset))
                if key in result:
                    line, col = _pos(key_node, self.offset)
                    first = result.key_pos[key][0]
                    raise YamlProblem(f"duplicate key {key!r} (first on line {first})", line, col)
                result[key] = self.build(value_node)
                result.key_pos[key] = _pos(key_node, self.offset)
                result.value_pos[key] = _pos(value_node, self.offset)
            return result
        if isinstance(node, yaml.SequenceNode):
            result = YList(_pos(node, self.offset))
            for child in node.value:
                result.append(self.build(child))
                result.item_pos.append(_pos(child, self.offset))
            return result
        raise TypeError(node)


# libyaml's composer is about ten times faster than the pure-Python one and keeps the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _one_line(message: object) -> str:
    """A parser's message on one line: a problem is printed as one line of `sala validate`."""
    return " ".join(str(message).split())


def _place(text: str, position: int, offset: int) -> Pos:
    before = text[:position]
    return (before.count("\n") + 1 + offset, position - (before.rfind("\n") + 1) + 1)


def parse(text: str, line_offset: int = 0):
    """Parse one YAML document. `line_offset` is added to every line (front matter starts on line 2)."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and exc.problem and "end of stream" in exc.problem:
            mark = exc.context_mark  # an unclosed quote or bracket: the end of the file is not where it went wrong
        message = exc.problem or str(exc)
        if exc.context:
            message = f"{message} ({exc.context})"
        line = (mark.line + 1 + line_offset) if mark else 1 + line_offset
        col = (mark.column + 1) if mark else 1
        raise YamlProblem(f"YAML syntax: {_one_line(message)}", line, col) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (a control character, say): the reader knows only its offset.
        raise YamlProblem(f"YAML syntax: character U+{exc.character:04X} is not allowed ({exc.reason}); "
                          "remove it", *_place(text, exc.position, line_offset)) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML syntax: {_one_line(exc)}", 1 + line_offset, 1) from None
    if node is None:
        return None
    try:
        return _Builder(line_offset).build(node)
    except _AliasFound:
        raise YamlProblem("YAML aliases (*name) are not allowed in course files: write the value out in full",
                          *_first_alias(text, line_offset)) from None
