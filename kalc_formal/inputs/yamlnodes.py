"""Input stage: YAML composed safely into nodes (which keep their positions), nodes turned
into plain values within bounds, and the node at a path.

Composition is libyaml's (PyYAML's ``CSafeLoader`` where PyYAML has it): only the safe
tags, no Python objects. Turning nodes into dicts, lists and scalars is done here, with
bounds on nesting depth and on the nodes reached through aliases ("billion laughs").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "MERGE",
    "NULL",
    "NodeError",
    "child",
    "compose_documents",
    "merge_sources",
    "node_at",
    "to_value",
    "value_at",
]

TAG = "tag:yaml.org,2002:"
NULL, STR, BOOL, INT, FLOAT, MERGE = (
    TAG + t for t in ("null", "str", "bool", "int", "float", "merge")
)
_TEXT_TAGS = frozenset({TAG + "timestamp", TAG + "binary"})
_SEQUENCE_TAGS = frozenset({TAG + "seq", TAG + "omap", TAG + "pairs"})
_MAPPING_TAGS = frozenset({TAG + "map", TAG + "set"})
_SCALARS = SafeConstructor()

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_IMPLICIT: dict[str, Any] = dict(_BASE_LOADER.yaml_implicit_resolvers)
_RESOLVED_LIMIT = 50_000
_RESOLVED_LENGTH = 64
"""The most plain scalars whose tag is remembered, and their longest text (bounded: the
texts come from input, and the memory outlives one read)."""
_resolved: dict[str, str] = {}
_BY_TEXT = not _BASE_LOADER.yaml_path_resolvers and None not in _IMPLICIT
"""Whether a plain scalar's tag depends on its text alone (no path or wildcard resolvers)."""


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """PyYAML's safe loader with the same tags, resolved faster.

    A plain scalar's tag depends on its text only (the safe loader has no path
    resolvers), so it is looked up once per distinct text; a text whose first
    character starts no implicit tag (most keys and names) is a string at once.
    """

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and _BY_TEXT:
            if not implicit[0]:
                return STR
            assert value is not None
            if value[:1] not in _IMPLICIT:
                return STR
            tag = _resolved.get(value)
            if tag is None:
                tag = str(super().resolve(kind, value, implicit))
                if len(value) <= _RESOLVED_LENGTH and len(_resolved) < _RESOLVED_LIMIT:
                    _resolved[value] = tag
            return tag
        return str(super().resolve(kind, value, implicit))

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        """No path resolvers: nothing to follow."""

    def ascend_resolver(self) -> None:
        """No path resolvers: nothing to follow."""


def compose_documents(text: str) -> list[Node]:
    """The composed node of every document of ``text`` (a null scalar for an empty one).

    Raises ``yaml.YAMLError`` (or ``RecursionError``) as ``yaml.compose_all`` does.
    """
    loader = _Loader(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
        return nodes
    finally:
        loader.dispose()


class NodeError(Exception):
    """A value that cannot be read, at ``mark`` (0-based, relative to the composed text)."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Shared(Exception):
    """A node that the plain conversion does not handle: the checked one decides."""


def to_value(
    node: Node, *, max_depth: int, max_alias_nodes: int, line_offset: int, aliases: bool
) -> Any:
    """The dicts, lists and scalars of a composed document; NodeError if a bound is passed
    or a value cannot be read. ``line_offset`` is added to the lines in messages;
    ``aliases`` is False only when the composed text has no anchor (so no node is
    shared), which allows a faster conversion that gives the same values."""
    if not aliases:
        try:
            return _plain(node, 0, max_depth)
        except (_Shared, NodeError):
            pass
    return _Converter(max_depth, max_alias_nodes, line_offset).convert(node)


def _plain(node: Node, depth: int, max_depth: int) -> Any:
    """The value of a tree without shared nodes, merge keys, duplicate keys or anything
    else to report (_Shared when there is, and the checked conversion says what)."""
    if depth > max_depth:
        raise _Shared
    kind = type(node)
    if kind is ScalarNode:
        return node.value if node.tag == STR else _scalar(node)  # type: ignore[arg-type]
    depth += 1
    if kind is MappingNode:
        if node.tag not in _MAPPING_TAGS:
            raise _Shared
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode or key_node.tag == MERGE:
                raise _Shared
            name = key_node.value
            if name in result:
                raise _Shared
            result[name] = _plain(value_node, depth, max_depth)
        return result
    if kind is SequenceNode:
        if node.tag not in _SEQUENCE_TAGS:
            raise _Shared
        return [_plain(item, depth, max_depth) for item in node.value]
    raise _Shared


class _Converter:
    """Turns one document's nodes into dicts, lists and scalars, within limits.

    Composed YAML shares one node between an anchor and its aliases; a node
    met a second time is an alias expansion, and every node converted below it
    counts against ``max_alias_nodes``, so a "billion laughs" document is
    refused instead of expanded.
    """

    def __init__(self, max_depth: int, max_alias_nodes: int, line_offset: int) -> None:
        self.max_depth = max_depth
        self.max_alias_nodes = max_alias_nodes
        self.line_offset = line_offset
        self.alias_nodes = 0
        self.seen: set[int] = set()
        self.active: set[int] = set()

    def convert(self, node: Node) -> Any:
        return self._value(node, 0, False, node.start_mark)

    def _value(self, node: Node, depth: int, via_alias: bool, where: yaml.Mark) -> Any:
        if depth > self.max_depth:
            raise NodeError(
                node.start_mark, f"nested more than {self.max_depth} levels deep"
            )
        key = id(node)
        if key in self.active:
            raise NodeError(
                where,
                "a YAML alias refers to a node that contains it (a recursive structure)",
            )
        via_alias = via_alias or key in self.seen
        if via_alias:
            self.alias_nodes += 1
            if self.alias_nodes > self.max_alias_nodes:
                raise NodeError(
                    where,
                    f"YAML aliases here expand to more than {self.max_alias_nodes} nodes in this document (an alias bomb?); not expanded",
                )
        self.seen.add(key)
        if isinstance(node, ScalarNode):
            return _scalar(node)
        self.active.add(key)
        try:
            if isinstance(node, SequenceNode):
                return self._sequence(node, depth, via_alias, where)
            if isinstance(node, MappingNode):
                return self._mapping(node, depth, via_alias)
            raise NodeError(node.start_mark, "unexpected YAML node")
        finally:
            self.active.discard(key)

    def _sequence(
        self, node: SequenceNode, depth: int, via_alias: bool, where: yaml.Mark
    ) -> list[Any]:
        if node.tag not in _SEQUENCE_TAGS:
            raise NodeError(node.start_mark, f"unsupported YAML tag {node.tag}")
        return [
            self._value(
                item,
                depth + 1,
                via_alias,
                where if id(item) in self.seen else item.start_mark,
            )
            for item in node.value
        ]

    def _mapping(
        self, node: MappingNode, depth: int, via_alias: bool
    ) -> dict[str, Any]:
        if node.tag not in _MAPPING_TAGS:
            raise NodeError(node.start_mark, f"unsupported YAML tag {node.tag}")
        result: dict[str, Any] = {}
        first_lines: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                raise NodeError(
                    key_node.start_mark,
                    "a mapping key that is not a plain value (a template expression?)",
                )
            name = str(key_node.value)
            if name in first_lines:
                raise NodeError(
                    key_node.start_mark,
                    f"duplicate key {name!r} (first at line {first_lines[name]})",
                )
            first_lines[name] = self.line_offset + key_node.start_mark.line + 1
            result[name] = self._value(
                value_node, depth + 1, via_alias, key_node.start_mark
            )
        if not merges:
            return result
        merged: dict[str, Any] = {}
        for source in reversed([s for m in merges for s in merge_sources(m)]):
            value = self._value(source, depth + 1, via_alias, source.start_mark)
            merged.update(value)
        merged.update(result)
        return merged


def merge_sources(node: Node) -> list[MappingNode]:
    """The mappings a merge key (``<<``) brings in; NodeError if it names none."""
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode) and all(
        isinstance(n, MappingNode) for n in node.value
    ):
        return list(node.value)
    raise NodeError(
        node.start_mark, "a merge key (<<) needs a mapping or a list of mappings"
    )


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == STR or tag in _TEXT_TAGS:
        return node.value
    if tag == NULL:
        return None
    try:
        if tag == BOOL:
            return _SCALARS.construct_yaml_bool(node)
        if tag == INT:
            return _SCALARS.construct_yaml_int(node)
        if tag == FLOAT:
            return _SCALARS.construct_yaml_float(node)
    except ValueError as error:
        raise NodeError(node.start_mark, f"cannot read this number: {error}") from None
    raise NodeError(node.start_mark, f"unsupported YAML tag {tag}")


def node_at(node: Node, path: Sequence[str | int]) -> Node:
    """The node at ``path`` (keys and list indices), or the deepest one present."""
    for step in path:
        found = child(node, step)
        if found is None:
            return node
        node = found
    return node


def child(node: Node, step: str | int) -> Node | None:
    """The value node under key or index ``step`` (merge keys followed), or None."""
    if isinstance(node, SequenceNode) and isinstance(step, int):
        return node.value[step] if 0 <= step < len(node.value) else None
    if not isinstance(node, MappingNode) or not isinstance(step, str):
        return None
    merges = []
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
            merges.append(value_node)
        elif isinstance(key_node, ScalarNode) and key_node.value == step:
            found: Node = value_node
            return found
    for merge in merges:
        for source in merge_sources(merge):
            merged = child(source, step)
            if merged is not None:
                return merged
    return None


def value_at(data: Any, path: Sequence[str | int]) -> Any:
    """The plain value at ``path``, or None where the path leads nowhere."""
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data
