"""YAML loading that remembers where every value came from, so errors can name line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple  # e.g. ("components", 2, "check", "url")
# libyaml's parser keeps marks too, and is several times faster on large site.yaml files.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def load_with_positions(text: str, file: str, line_offset: int = 0) -> tuple[Any, Positions]:
    """Parse one YAML document into plain Python values plus the position of each one."""
    positions = Positions(file=file, line_offset=line_offset)
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        column = mark.column + 1 if mark else None
        raise YamlSyntaxError(file, line, column, f"YAML syntax error: {exc.problem or exc}") from None
    if node is None:
        return None, positions
    constructor = yaml.SafeLoader("")  # reuses PyYAML's scalar resolution (ints, bools, dates)
    return _to_python(node, (), positions, constructor), positions


def _to_python(node: yaml.Node, path: KeyPath, positions: Positions, constructor: yaml.SafeLoader) -> Any:
    positions.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                key = str(key)
            child = path + (key,)
            positions.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                positions.keys[path + ("__duplicate__", key)] = positions.keys[child]
            result[key] = _to_python(value_node, child, positions, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), positions, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)
