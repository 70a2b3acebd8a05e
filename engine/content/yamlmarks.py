"""YAML parsing that keeps every value's line and column, so a problem can point at the key that is wrong.

`parse(text, line_offset)` returns plain dicts and lists (subclasses that also carry positions), or
raises `YamlProblem` with the place of a syntax error or a duplicate key.
"""

from __future__ import annotations

import yaml
from yaml.constructor import SafeConstructor

Pos = tuple[int, int]


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


class _Builder:
    def __init__(self, offset: int):
        self.offset = offset
        self.scalars = SafeConstructor()

    def build(self, node: yaml.Node):
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
        try:
            return self.scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise YamlProblem(f"cannot read value: {exc.problem or exc}", *_pos(node, self.offset)) from None


# libyaml's composer is about ten times faster than the pure-Python one and keeps the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, line_offset: int = 0):
    """Parse one YAML document. `line_offset` is added to every line (front matter starts on line 2)."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or str(exc)
        if exc.context:
            message = f"{message} ({exc.context})"
        line = (mark.line + 1 + line_offset) if mark else 1 + line_offset
        col = (mark.column + 1) if mark else 1
        raise YamlProblem(f"YAML syntax: {message}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML syntax: {exc}", 1 + line_offset, 1) from None
    if node is None:
        return None
    return _Builder(line_offset).build(node)
