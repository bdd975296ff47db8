"""YAML loading that remembers where every value came from, so errors can name line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

KeyPath = tuple  # e.g. ("components", 2, "check", "url")
# PyYAML is imported where it is used: a rebuild whose site.yaml is cached and whose incident
# front matter takes the fast path below never needs it (importing it took 20 ms).


@dataclass
class Positions:
    """1-based (line, column) of every mapping key and value, by key path."""

    file: str
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    line_offset: int = 0

    def of_value(self, path: KeyPath) -> tuple[int | None, int | None]:
        return self._nearest(self.values, path)

    def of_key(self, path: KeyPath) -> tuple[int | None, int | None]:
        if path in self.keys:
            line, col = self.keys[path]
            return line + self.line_offset, col
        return self._nearest(self.values, path)

    def _nearest(self, table: dict, path: KeyPath) -> tuple[int | None, int | None]:
        path = tuple(path)
        while True:
            if path in table:
                line, col = table[path]
                return line + self.line_offset, col
            if not path:
                return None, None
            path = path[:-1]


class YamlSyntaxError(Exception):
    def __init__(self, file: str, line: int | None, column: int | None, message: str):
        self.file, self.line, self.column, self.message = file, line, column, message
        super().__init__(f"{file}:{line}:{column}: {message}")


def decode_yaml_bytes(data: bytes, file: str) -> str:
    """A YAML file's bytes as text (files.text_of), or YamlSyntaxError at the first byte that
    is not UTF-8 or the first NUL, which no YAML file holds."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_and_column(data, exc.start, b"\n")
        raise YamlSyntaxError(file, line, column, f"not UTF-8 text ({exc.reason} 0x{data[exc.start]:02x}); "
                              "save the file as UTF-8") from None
    nul = text.find("\0")
    if nul >= 0:
        line, column = _line_and_column(text, nul, "\n")
        raise YamlSyntaxError(file, line, column, "a NUL character, which a text file never holds; "
                              "is this a binary file?")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_and_column(text: Any, at: int, newline: Any) -> tuple[int, int]:
    """1-based line and column of offset `at` in `text` (str or bytes)."""
    return text.count(newline, 0, at) + 1, at - (text.rfind(newline, 0, at) + 1) + 1


# An alias repeats a whole subtree where it is used, so a few lines of anchors ("billion laughs")
# can stand for billions of values. A document may hold at most this many values per byte of
# it (plus a few for tiny ones): far more than any real use of anchors and `<<` merges gives,
# and a bound on what a hostile file can make us build.
MAX_VALUES_PER_BYTE = 4
MIN_VALUE_BUDGET = 10_000
MAX_DEPTH = 200  # nesting of mappings and lists; Python's own recursion would end far above it


class _Budget:
    def __init__(self, text: str):
        self.left = MIN_VALUE_BUDGET + MAX_VALUES_PER_BYTE * len(text)


def load_with_positions(text: str, file: str, line_offset: int = 0) -> tuple[Any, Positions]:
    """Parse one YAML document into plain Python values plus the position of each one.
    Raises YamlSyntaxError for a syntax error, a duplicate key, nesting deeper than MAX_DEPTH
    or aliases that expand past the value budget."""
    import yaml  # here: 18 ms to import, and most rebuilds take site.yaml and incidents from their caches

    positions = Positions(file=file, line_offset=line_offset)
    try:
        # libyaml's parser keeps marks too, and is several times faster on large site.yaml files.
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        column = mark.column + 1 if mark else None
        raise YamlSyntaxError(file, line, column, f"YAML syntax error: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # the reader's: a character YAML does not allow, with no mark
        position = getattr(exc, "position", None)
        line, column = _line_and_column(text, position, "\n") if isinstance(position, int) else (None, None)
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        character = getattr(exc, "character", None)
        if isinstance(character, str):
            reason = f"character U+{ord(character):04X}: {reason}"
        raise YamlSyntaxError(file, line + line_offset if line else None, column,
                              f"YAML syntax error: {reason}") from None
    if node is None:
        return None, positions
    constructor = yaml.SafeLoader("")  # reuses PyYAML's scalar resolution (ints, bools, dates)
    return _to_python(node, (), positions, constructor, _Budget(text)), positions


def _to_python(node: yaml.Node, path: KeyPath, positions: Positions, constructor: yaml.SafeLoader,
               budget: _Budget) -> Any:
    import yaml  # not at the top: 16 ms of imports, paid only here

    where = (node.start_mark.line + 1, node.start_mark.column + 1)
    budget.left -= 1
    if budget.left < 0:
        raise YamlSyntaxError(positions.file, where[0] + positions.line_offset, where[1],
                              "aliases (*name) here expand to more values than the file could hold written out "
                              f"({MAX_VALUES_PER_BYTE} per byte); write the values out instead of repeating anchors")
    if len(path) > MAX_DEPTH:
        raise YamlSyntaxError(positions.file, where[0] + positions.line_offset, where[1],
                              f"nested more than {MAX_DEPTH} levels deep")
    positions.values[path] = where
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):  # `? [a, b]`: an alias bomb could hide there too
                raise YamlSyntaxError(positions.file, key_node.start_mark.line + 1 + positions.line_offset,
                                      key_node.start_mark.column + 1, "a key must be plain text, not a list or mapping")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlSyntaxError(positions.file, key_node.start_mark.line + 1 + positions.line_offset,
                                      key_node.start_mark.column + 1, "merge keys (<<) are not supported; "
                                      "write the keys out")
            key = _scalar_value(key_node, positions, constructor)
            child = path + (key,)
            key_at = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                # A second `components:` would silently drop every component of the first.
                first_line = positions.keys[child][0] + positions.line_offset
                raise YamlSyntaxError(positions.file, key_at[0] + positions.line_offset, key_at[1],
                                      f"duplicate key {key!r} (first at line {first_line}); "
                                      "YAML keeps only the last, so merge the two")
            positions.keys[child] = key_at
            result[key] = _to_python(value_node, child, positions, constructor, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), positions, constructor, budget) for i, item in enumerate(node.value)]
    return _scalar_value(node, positions, constructor)


def _scalar_value(node: yaml.Node, positions: Positions, constructor: yaml.SafeLoader) -> Any:
    """A scalar as PyYAML reads it, or YamlSyntaxError where it cannot: an unknown tag
    (`!!python/object`), a date that does not exist (2026-02-30), `!!int x`."""
    import yaml  # not at the top: 16 ms of imports, paid only here

    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        message = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(positions.file, node.start_mark.line + 1 + positions.line_offset,
                              node.start_mark.column + 1, f"cannot read this value: {message}") from None


# --- a fast path for the small, flat YAML most incident front matter is ----------------------
#
# `key: plain text`, `key: [a, b]`, and a key over an indented block of `- item` or `id: value`
# lines: PyYAML takes about 0.2 ms for such a front matter, a third of parsing an incident file,
# while this takes a tenth of that. It gives exactly what load_with_positions gives, or None for
# anything else or anything in doubt (tests/test_yamlsource_fast.py compares the two on many
# generated texts). It keeps no positions: they only serve error messages, which then come from
# load_with_positions.

_TOP_KEY = re.compile(r"([a-z_]+):(?: +(.*))?")
_BLOCK_ITEM = re.compile(r"( +)- +(.*)")
_BLOCK_ENTRY = re.compile(r"( +)([A-Za-z0-9_-]+): +(.*)")
_PLAIN_START_NOT = set("-?:,[]{}#&*!|>'\"%@`\\ \t")
# The plain scalars PyYAML reads as something other than a string: its implicit resolvers
# (yaml/resolver.py: bool, float, int, merge, null, timestamp, value, and the documentary
# yaml), as written there. Each applies only to values starting with certain characters, which
# its own pattern requires anyway. tests/test_yamlsource_fast.py compares this with PyYAML.
_NOT_A_STRING = [re.compile(pattern, re.X) for pattern in (
    r"""^(?:yes|Yes|YES|no|No|NO
        |true|True|TRUE|false|False|FALSE
        |on|On|ON|off|Off|OFF)$""",
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
    r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
    r"^(?:<<)$",
    r"""^(?: ~
        |null|Null|NULL
        | )$""",
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
         (?:[Tt]|[ \t]+)[0-9][0-9]?
         :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
         (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    r"^(?:=)$",
    r"^(?:!|&|\*)$",
)]


def simple_mapping(text: str) -> dict | None:
    """The mapping a small flat YAML document holds, or None when the fast path is not sure."""
    result: dict = {}
    lines = [line for line in text.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    index = 0
    while index < len(lines):
        match = _TOP_KEY.fullmatch(lines[index])
        index += 1
        if match is None or match[1] in result or _resolved(match[1]) is None:
            return None
        text = _without_comment(match[2] or "")
        if not text:  # a block below, or nothing (None)
            block = []
            while index < len(lines) and lines[index].startswith(" "):
                block.append(lines[index])
                index += 1
            value = _block(block) if block else None
            if block and value is None:
                return None
        else:
            value = _value(text)
            if value is _UNSURE:
                return None
        result[match[1]] = value
    return result or None  # an empty document is None to YAML


_UNSURE = object()  # what a scalar the fast path cannot vouch for reads as


def _without_comment(value: str) -> str:
    """A plain value without its ` # comment` and trailing spaces."""
    if value.startswith("#"):
        return ""
    return value.split(" #", 1)[0].rstrip(" ")


def _value(text: str) -> Any:
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip(" ")
        if not inner:
            return []
        items = [_scalar(item.strip(" "), flow=True) for item in inner.split(",")]
        return _UNSURE if any(item is _UNSURE for item in items) else items
    return _scalar(text, flow=False)


def _block(lines: list[str]) -> Any:
    """An indented block of `- item` lines (a list) or `key: value` lines (a mapping)."""
    indent = len(lines[0]) - len(lines[0].lstrip(" "))
    if _BLOCK_ITEM.fullmatch(lines[0]):
        items = []
        for line in lines:
            match = _BLOCK_ITEM.fullmatch(line)
            if match is None or len(match[1]) != indent:
                return None
            item = _scalar(_without_comment(match[2]), flow=False)
            if item is _UNSURE:
                return None
            items.append(item)
        return items
    mapping = {}
    for line in lines:
        match = _BLOCK_ENTRY.fullmatch(line)
        if match is None or len(match[1]) != indent or match[2] in mapping or _resolved(match[2]) is None:
            return None
        value = _scalar(_without_comment(match[3]), flow=False)
        if value is _UNSURE:
            return None
        mapping[match[2]] = value
    return mapping


def _scalar(text: str, *, flow: bool) -> Any:
    """A one-line scalar that YAML reads as a string: plain, or quoted with nothing to unescape."""
    if not text or not text.isprintable():
        return _UNSURE
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        inner = text[1:-1]
        return _UNSURE if any(c in inner for c in "\"'\\") else inner
    if (text[0] in _PLAIN_START_NOT or ": " in text or text.endswith(":") or "\t" in text
            or (flow and any(c in text for c in ",[]{}:"))):
        return _UNSURE
    return text if _resolved(text) is not None else _UNSURE


def _resolved(text: str) -> str | None:
    """`text` if YAML reads it, plain, as a string (not a number, a date, a bool or null)."""
    return None if any(pattern.match(text) for pattern in _NOT_A_STRING) else text
