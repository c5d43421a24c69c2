"""YAML with lines: the catalog text as plain values that remember where they were written.

`load` composes the document into nodes, not Python objects: YAML 1.1 implicit typing would
turn `18:00` into 1080, `2026-12-01` into a date and `yes` into True, and would silently keep
the last of two duplicate keys. Each scalar comes out as the text the owner wrote (a `Text`,
a `str` that knows its line); mappings and lists come out as `Map` and `Seq`, which know
theirs. `line_of` finds the line of a value from its location in the tree, as a schema
error names it.

A key written twice in one mapping is kept under a name no schema can declare (see
`repeated_key`), so that the schema refuses it where it refuses unknown fields; a key that
is itself a list or a mapping is kept the same way. Aliases (`*name`) are refused.
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Keys written twice, or written as a list or a mapping, are kept under a name with this
# character in it: YAML does not allow it in a document, so no real field can have it.
_MARK = "\x00"
_NULL_TAG = "tag:yaml.org,2002:null"
_TOO_DEEP = "the file is nested too deeply"


class Text(str):
    """A scalar as the owner wrote it."""

    line: int


class Null(Text):
    """`field:` with nothing after it (or `~`, `null`): a mapping treats it as absent.

    `after_key` is the rest of the key's line: in `colour: #ffcc00` YAML took the colour for
    a comment, and only the text shows it.
    """

    after_key: str = ""


class Map(dict[str, object]):
    """A mapping in file order; `key_lines` has each key's line (also a null field's),
    `positions` its place among the keys."""

    line: int
    key_lines: dict[str, int]
    positions: dict[str, int]


class Seq(list[object]):
    line: int


class YamlRefused(Exception):
    """The text is not a YAML document we read; `line` is 0 when unknown."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(line, detail)
        self.line = line
        self.detail = detail


class AliasRefused(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def repeated_key(name: str, position: int) -> str:
    """The name under which the key at `position` is kept when `name` came earlier."""
    return f"{name}{_MARK}{position}"


def written_key(key: str) -> str | None:
    """The name of a key as written: None for a list or mapping used as a key."""
    if _MARK not in key:
        return key
    name = key.partition(_MARK)[0]
    return name or None


def load(text: str) -> object | None:
    """The document as plain values (None for an empty file)."""
    root = _compose(text)
    try:
        return None if root is None else _plain(root)
    except RecursionError:
        raise YamlRefused(0, _TOO_DEEP) from None


def line_of(value: object, loc: Iterable[str | int]) -> int:
    """The line of the value at `loc` under `value`; for a field that is absent (or empty),
    the line of its key if it has one, else of the mapping that lacks it."""
    line = getattr(value, "line", 0)
    for part in loc:
        if isinstance(value, Map) and isinstance(part, str):
            if isinstance(value.get(part), Null | None):
                return value.key_lines.get(part, value.line)
            value = value[part]
        elif isinstance(value, Seq) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return line
        line = getattr(value, "line", line)
    return line


def key_line(mapping: object, key: str) -> int:
    """The line of a key of `mapping` (the mapping's own line when it has no such key)."""
    if isinstance(mapping, Map):
        return mapping.key_lines.get(key, mapping.line)
    return getattr(mapping, "line", 0)


# --- composing -----------------------------------------------------------------------------


class _NoAliasLoader(yaml.SafeLoader):
    """Refuses `*alias` references.

    The format has no use for them, and they are a cheap way to make a small file expand
    into an enormous catalog (the "billion laughs" pattern).
    """

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            raise AliasRefused(self.peek_event().start_mark.line + 1)
        return super().compose_node(parent, index)


def _compose(text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=_NoAliasLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise YamlRefused(line, exc.problem or exc.context or str(exc)) from None
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML forbids; it knows the offset, not the line.
        raise YamlRefused(text.count("\n", 0, exc.position) + 1, exc.reason) from None
    except yaml.YAMLError as exc:
        raise YamlRefused(0, str(exc)) from None
    except RecursionError:
        # The composer recurses once per nesting level; thousands of `[` exhaust the stack.
        raise YamlRefused(0, _TOO_DEEP) from None


def _plain(node: Node) -> object:
    line = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        value = (Null if node.tag == _NULL_TAG else Text)(node.value)
    elif isinstance(node, SequenceNode):
        value = Seq(_plain(item) for item in node.value)
    elif isinstance(node, MappingNode):
        value = _mapping(node)
    else:  # pragma: no cover - the composer makes only these three
        raise TypeError(node)
    value.line = line
    return value


def _mapping(node: MappingNode) -> Map:
    mapping = Map()
    mapping.key_lines, mapping.positions = {}, {}
    for position, (key_node, value_node) in enumerate(node.value):
        if not isinstance(key_node, ScalarNode):  # `? [a, b]`: a list used as a key
            key = repeated_key("", position)
        elif key_node.value in mapping:
            key = repeated_key(key_node.value, position)
        else:
            key = key_node.value
        value = mapping[key] = _plain(value_node)
        mapping.key_lines[key] = key_node.start_mark.line + 1
        mapping.positions[key] = position
        if isinstance(value, Null):
            value.after_key = _rest_of_line(key_node.end_mark)
    return mapping


def _rest_of_line(mark: yaml.Mark) -> str:
    buffer = mark.buffer or ""  # PyYAML keeps the text of a str document (not of a stream)
    end = buffer.find("\n", mark.pointer)
    return buffer[mark.pointer : None if end < 0 else end]
