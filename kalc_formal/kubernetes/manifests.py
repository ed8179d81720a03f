"""Input stage: find Kubernetes manifest files and load their YAML documents with positions.

Safe loading only: documents are composed into YAML nodes, which keep their
line:column marks, and converted to plain Python values here, with bounds on
file and document size, document count, nesting depth and alias expansion.
A template (Helm, Jinja, NodeLocal DNSCache ``__PILLAR__``, k3s, sed or
envsubst placeholders where kalc-formal reads) gives one error for its file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kalc_formal.errors import ConfigError
from kalc_formal.inputs.files import (
    MIB,
    STDIN_PATH,
    cyclic_gc_paused,
    find_input_files,
    read_input_file,
)
from kalc_formal.inputs.placeholders import (
    ANY,
    COREFILE,
    RAW,
    STRICT,
    TYPED,
    UNAMBIGUOUS,
    Placeholder,
    find_placeholders,
    might_hold_placeholders,
    template_message,
)
from kalc_formal.source import Source, Span

__all__ = [
    "DNS_RELEVANT_KINDS",
    "MANIFEST_SUFFIXES",
    "STDIN_PATH",
    "WORKLOAD_KINDS",
    "AnchoredSource",
    "Document",
    "Limits",
    "LoadResult",
    "line_text",
    "load_documents",
    "load_text",
]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

WORKLOAD_KINDS = frozenset(
    {
        "Pod",
        "ReplicationController",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
    }
)
"""Kinds that carry a pod template (or are a pod)."""

DNS_RELEVANT_KINDS = WORKLOAD_KINDS | {"ConfigMap", "Service", "HorizontalPodAutoscaler", "Node"}
"""Kinds whose fields the cluster model reads; every other kind is only counted."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on untrusted input; whatever exceeds one gets an error."""

    max_file_bytes: int = 16 * MIB
    max_document_bytes: int = 4 * MIB
    max_documents: int = 10_000  # per file, List items included
    max_files: int = 10_000
    max_alias_nodes: int = 10_000  # per document, nodes reached through aliases
    max_depth: int = 100


@dataclass(frozen=True, slots=True)
class AnchoredSource(Source):
    """A text from a YAML scalar whose lines are not the file's lines.

    Quoted, folded and plain multi-line scalars are unfolded by YAML, so a
    position inside the text has no single file position: every position maps
    to the scalar's start (line ``line_offset + 1``, column ``column_offset + 1``).
    """

    def span(self, line: int, column: int) -> Span:
        return Span(self.path, self.line_offset + 1, self.column_offset + 1)


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Where a separately parsed piece of a file starts in that file."""

    source: Source
    line_offset: int
    index_offset: int

    def span(self, mark: yaml.Mark) -> Span:
        return Span(self.source.path, self.line_offset + mark.line + 1, mark.column + 1)


@dataclass(frozen=True, eq=False)
class Document:
    """One Kubernetes object read from a manifest file, or one item of a List.

    ``index`` counts the non-empty YAML documents before this one in its file;
    ``item`` is the position inside a ``kind: List`` (or ``*List``) document.
    ``kind``, ``api_version`` and ``name`` are ``""`` when absent or not
    strings; ``name`` falls back to ``metadata.generateName``. ``namespace`` is
    ``None`` when absent. ``node`` is the composed YAML node (for positions).
    """

    source: Source
    index: int
    data: dict[str, Any]
    kind: str
    api_version: str
    name: str
    namespace: str | None
    span: Span
    item: int | None = None
    node: MappingNode = field(default_factory=lambda: MappingNode("", []), repr=False)
    chunk: _Chunk | None = field(default=None, repr=False)

    def span_at(self, *path: str | int) -> Span:
        """The span of the value at ``path``, or of its nearest present ancestor.

        >>> doc = load_text("kind: Pod\\nspec:\\n  dnsPolicy: None\\n").documents[0]
        >>> str(doc.span_at("spec", "dnsPolicy"))
        '<text>:3:14'
        >>> str(doc.span_at("spec", "dnsConfig", "options", 0))
        '<text>:3:3'
        """
        node = _node_at(self.node, path)
        return self.span if self.chunk is None else self.chunk.span(node.start_mark)

    def error(self, message: str, *path: str | int) -> ConfigError:
        """A ConfigError at the value at ``path`` (or its nearest ancestor)."""
        span = self.span_at(*path)
        return ConfigError(message, span, line_text(self.source, span.line))

    def embedded_source(self, *path: str | int) -> Source | None:
        """The string at ``path`` as a Source whose positions map into this file.

        A literal block scalar (``|``, ``|-``, ``|+``) maps line by line: text
        line ``n`` is file line ``line_offset + n``, shifted right by the block's
        indentation (``column_offset``). A one-line scalar whose text stands in
        the file as written (plain, or quoted without escapes) maps column by
        column. Any other style (folded, escaped, multi-line flow) gives an
        :class:`AnchoredSource`, whose positions all map to the scalar's start.
        ``None`` if there is no string at ``path``.
        """
        value = _value_at(self.data, path)
        node = _node_at(self.node, path)
        if not path or not isinstance(value, str) or not isinstance(node, ScalarNode):
            return None
        start = self.span_at(*path)
        file_text = self.source.text
        if node.style == "|":
            mapped = _literal_block_source(
                self.source.path, file_text, start.line, value
            )
            if mapped is not None:
                return mapped
        verbatim = self._verbatim_column(node, value)
        if verbatim is not None:
            return Source(self.source.path, value, start.line - 1, verbatim, file_text)
        return AnchoredSource(
            self.source.path, value, start.line - 1, start.column - 1, file_text
        )

    def _verbatim_column(self, node: ScalarNode, value: str) -> int | None:
        """The 0-based column where a one-line scalar's text stands as written, if it does."""
        if self.chunk is None or node.start_mark.line != node.end_mark.line:
            return None
        offset = self.chunk.index_offset
        raw = self.source.text[
            offset + node.start_mark.index : offset + node.end_mark.index
        ]
        quoted = node.style in ("'", '"')
        if (raw[1:-1] if quoted else raw) != value:
            return None
        return int(node.start_mark.column) + (1 if quoted else 0)


@dataclass(frozen=True)
class LoadResult:
    """Every good document and every error, in input order."""

    documents: tuple[Document, ...]
    errors: tuple[ConfigError, ...]


def load_documents(
    paths: Sequence[str],
    *,
    stdin: TextIO | None = None,
    limits: Limits | None = None,
    allow_outside_root: bool = False,
) -> LoadResult:
    """Load every manifest document from files, folders and ``-`` (stdin).

    Folders are searched recursively for ``*.yaml``, ``*.yml`` and ``*.json``
    in sorted order, skipping hidden files and folders. A symbolic link found
    in a folder that leads outside it is not read unless ``allow_outside_root``.
    Errors do not stop loading: the result holds all good documents and all
    errors, and the caller decides what to do.

    >>> import io
    >>> text = "kind: Pod\\nmetadata: {name: a}\\n"
    >>> result = load_documents(["-"], stdin=io.StringIO(text))
    >>> [(d.kind, d.name, str(d.span)) for d in result.documents]
    [('Pod', 'a', '<stdin>:1:1')]
    """
    with cyclic_gc_paused():
        return _load_documents(paths, stdin, limits or Limits(), allow_outside_root)


def _load_documents(
    paths: Sequence[str], stdin: TextIO | None, limits: Limits, allow_outside_root: bool
) -> LoadResult:
    documents: list[Document] = []
    inputs, errors = find_input_files(
        paths,
        suffixes=MANIFEST_SUFFIXES,
        max_files=limits.max_files,
        allow_outside_root=allow_outside_root,
    )
    for file in inputs:
        text, read_error = read_input_file(
            file, max_bytes=limits.max_file_bytes, stdin=stdin
        )
        if text is None:
            errors.append(read_error or ConfigError(f"{file.path}: cannot read"))
            continue
        result = load_text(text, file.path, limits=limits)
        documents.extend(result.documents)
        errors.extend(result.errors)
    return LoadResult(tuple(documents), tuple(errors))


def load_text(
    text: str, path: str = "<text>", *, limits: Limits | None = None
) -> LoadResult:
    """Load the YAML documents of one file's text; ``path`` names it in spans."""
    limits = limits or Limits()
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    source = Source(path, text)
    chunks: list[_LoadedChunk] = []
    index = 0
    count = 0
    for chunk_text, line, offset in _split(text):
        chunks.append(
            _load_chunk(_Chunk(source, line, offset), chunk_text, index, limits)
        )
        index = chunks[-1].next_index
        count += len(chunks[-1].documents)
        if count > limits.max_documents:
            break
    placeholders = sorted(
        (p for chunk in chunks for p in chunk.placeholders),
        key=lambda p: (p.line, p.column),
    )
    if placeholders:
        first = placeholders[0]
        span = Span(path, first.line, first.column)
        error = ConfigError(
            template_message(placeholders), span, line_text(source, first.line)
        )
        return LoadResult((), (error,))
    documents = [d for chunk in chunks for d in chunk.documents]
    errors = [e for chunk in chunks for e in chunk.errors]
    if len(documents) > limits.max_documents:
        extra = documents[limits.max_documents]
        message = f"more than {limits.max_documents} documents in this file; the rest were not read"
        errors.append(extra.error(message))
        documents = documents[: limits.max_documents]
    return LoadResult(tuple(documents), tuple(errors))


# ------------------------------------------------------------------ splitting and parsing

_SEPARATOR = re.compile(r"^(?:---|\.\.\.)(?=[ \t\n]|$)", re.M)
_BREAKS = re.compile("[\n\x85\u2028\u2029]")
_CONTENT = re.compile(r"^[ \t]*[^ \t\n#%]", re.M)
_SECRET = re.compile(r"""^[ \t]*["']?kind["']?[ \t]*:[ \t]*["']?Secret\b""", re.M)
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _split(text: str) -> Iterator[tuple[str, int, int]]:
    """Pieces of ``text`` that hold one document each: (piece, line offset, index).

    A piece starts at a ``---`` line or after a ``...`` line, so a syntax error
    in one document does not hide the others. A piece with nothing but
    comments, blank lines and directives joins the next one.
    """
    cuts = []
    for match in _SEPARATOR.finditer(text):
        if match.group() == "---":
            cuts.append(match.start())
        else:
            end = text.find("\n", match.end())
            cuts.append(len(text) if end < 0 else end + 1)
    cuts.append(len(text))
    begin = 0
    line = 0
    for end in cuts:
        if end <= begin or (end < len(text) and not _has_content(text[begin:end])):
            continue
        piece = text[begin:end]
        yield piece, line, begin
        line += len(_BREAKS.findall(piece))
        begin = end


def _has_content(piece: str) -> bool:
    return bool(_CONTENT.search(piece[3:] if piece.startswith("---") else piece))


@dataclass
class _LoadedChunk:
    next_index: int
    documents: list[Document] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    placeholders: list[Placeholder] = field(default_factory=list)


def _load_chunk(chunk: _Chunk, text: str, index: int, limits: Limits) -> _LoadedChunk:
    loaded = _LoadedChunk(index)
    secret = bool(_SECRET.search(text))
    if len(text) > limits.max_document_bytes:
        message = f"document larger than the {limits.max_document_bytes / MIB:g} MiB limit for one document; not read"
        loaded.errors.append(_error_at(chunk, 0, 0, message, secret))
        return loaded
    try:
        nodes = list(yaml.compose_all(text, Loader=_FAST_LOADER))
    except (yaml.YAMLError, RecursionError) as error:
        loaded.errors.append(_syntax_error(chunk, text, error, secret))
        nodes = []
    for node in nodes:
        if not (isinstance(node, ScalarNode) and node.tag == _NULL):
            _add_document(loaded, chunk, node, limits, secret)
    if loaded.errors:
        loaded.placeholders.extend(
            find_placeholders(text, RAW, line=chunk.line_offset + 1)
        )
    return loaded


def _add_document(
    loaded: _LoadedChunk, chunk: _Chunk, node: Node, limits: Limits, secret: bool
) -> None:
    index = loaded.next_index
    loaded.next_index += 1
    try:
        data = _Converter(limits, chunk.line_offset).convert(node)
    except _NodeError as error:
        loaded.errors.append(
            _error_at(chunk, error.mark.line, error.mark.column, error.message, secret)
        )
        return
    if not isinstance(data, dict) or not isinstance(node, MappingNode):
        message = (
            "not a Kubernetes object: the top level of this document is not a mapping"
        )
        loaded.errors.append(
            _error_at(
                chunk, node.start_mark.line, node.start_mark.column, message, secret
            )
        )
        return
    for document in _documents_of(chunk, node, data, index):
        loaded.documents.append(document)
        if document.kind in DNS_RELEVANT_KINDS:
            loaded.placeholders.extend(_document_placeholders(document, chunk))


def _documents_of(
    chunk: _Chunk, node: MappingNode, data: dict[str, Any], index: int
) -> Iterator[Document]:
    """The document, or the items of a ``List``/``*List`` document.

    Items of a typed list (``DeploymentList``) without their own ``kind`` take
    the kind from the list's name and the list's ``apiVersion``.
    """
    kind = data.get("kind")
    items = data.get("items")
    if not (
        isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)
    ):
        yield _document(chunk, node, data, index, None)
        return
    items_node = _node_at(node, ("items",))
    for number, item in enumerate(items):
        item_node = _node_at(items_node, (number,))
        if not isinstance(item, dict) or not isinstance(item_node, MappingNode):
            continue
        if "kind" not in item and kind != "List":
            item = {
                "kind": kind.removesuffix("List"),
                "apiVersion": data.get("apiVersion", ""),
                **item,
            }
        yield _document(chunk, item_node, item, index, number)


def _document(
    chunk: _Chunk, node: MappingNode, data: dict[str, Any], index: int, item: int | None
) -> Document:
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name") or metadata.get("generateName")
    namespace = metadata.get("namespace")
    return Document(
        source=chunk.source,
        index=index,
        data=data,
        kind=_string(data.get("kind")),
        api_version=_string(data.get("apiVersion")),
        name=_string(name),
        namespace=namespace if isinstance(namespace, str) else None,
        span=chunk.span(node.start_mark),
        item=item,
        node=node,
        chunk=chunk,
    )


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _error_at(
    chunk: _Chunk, line: int, column: int, message: str, secret: bool
) -> ConfigError:
    span = Span(chunk.source.path, chunk.line_offset + line + 1, column + 1)
    if secret:
        return ConfigError(
            f"{message} (line not shown: the document is a Secret)", span
        )
    return ConfigError(message, span, line_text(chunk.source, span.line))


def line_text(source: Source, line: int) -> str:
    """``source.line_text(line)``, with the file's lines split once per file."""
    lines = _lines(source.file_text if source.file_text is not None else source.text)
    return lines[line - 1] if 1 <= line <= len(lines) else ""


@functools.lru_cache(maxsize=2)
def _lines(text: str) -> list[str]:
    return text.splitlines()


def _syntax_error(
    chunk: _Chunk, text: str, error: BaseException, secret: bool
) -> ConfigError:
    """The error at its problem mark, worded by the pure-Python parser when it can."""
    if isinstance(error, RecursionError):
        return _error_at(chunk, 0, 0, "YAML nested too deeply to read", secret)
    try:
        list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as detailed:
        error = detailed
    except RecursionError:
        pass
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            return _error_at(
                chunk, mark.line, mark.column, _yaml_message(error, chunk), secret
            )
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position)
        column = error.position - (text.rfind("\n", 0, error.position) + 1)
        return _error_at(
            chunk,
            line,
            column,
            f"YAML: character {chr(error.character)!r} is not allowed",
            secret,
        )
    return _error_at(chunk, 0, 0, f"YAML: {error}", secret)


def _yaml_message(error: yaml.MarkedYAMLError, chunk: _Chunk) -> str:
    problem = error.problem or "syntax error"
    context = error.context_mark
    if error.context and context is not None and context is not error.problem_mark:
        return f"YAML: {problem} ({error.context} at {chunk.line_offset + context.line + 1}:{context.column + 1})"
    if error.context:
        return f"YAML: {problem} ({error.context})"
    return f"YAML: {problem}"


# ------------------------------------------------------------------ nodes to values

_TAG = "tag:yaml.org,2002:"
_NULL, _STR, _BOOL, _INT, _FLOAT, _MERGE = (
    _TAG + t for t in ("null", "str", "bool", "int", "float", "merge")
)
_TEXT_TAGS = frozenset({_TAG + "timestamp", _TAG + "binary"})
_SEQUENCE_TAGS = frozenset({_TAG + "seq", _TAG + "omap", _TAG + "pairs"})
_MAPPING_TAGS = frozenset({_TAG + "map", _TAG + "set"})
_SCALARS = SafeConstructor()


class _NodeError(Exception):
    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Converter:
    """Turns one document's nodes into dicts, lists and scalars, within limits.

    Composed YAML shares one node between an anchor and its aliases; a node
    met a second time is an alias expansion, and every node converted below it
    counts against ``max_alias_nodes``, so a "billion laughs" document is
    refused instead of expanded.
    """

    def __init__(self, limits: Limits, line_offset: int) -> None:
        self.limits = limits
        self.line_offset = line_offset
        self.alias_nodes = 0
        self.seen: set[int] = set()
        self.active: set[int] = set()

    def convert(self, node: Node) -> Any:
        return self._value(node, 0, False, node.start_mark)

    def _value(self, node: Node, depth: int, via_alias: bool, where: yaml.Mark) -> Any:
        if depth > self.limits.max_depth:
            raise _NodeError(
                node.start_mark, f"nested more than {self.limits.max_depth} levels deep"
            )
        key = id(node)
        if key in self.active:
            raise _NodeError(
                where,
                "a YAML alias refers to a node that contains it (a recursive structure)",
            )
        via_alias = via_alias or key in self.seen
        if via_alias:
            self.alias_nodes += 1
            if self.alias_nodes > self.limits.max_alias_nodes:
                raise _NodeError(
                    where,
                    f"YAML aliases here expand to more than {self.limits.max_alias_nodes} nodes in this document (an alias bomb?); not expanded",
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
            raise _NodeError(node.start_mark, "unexpected YAML node")
        finally:
            self.active.discard(key)

    def _sequence(
        self, node: SequenceNode, depth: int, via_alias: bool, where: yaml.Mark
    ) -> list[Any]:
        if node.tag not in _SEQUENCE_TAGS:
            raise _NodeError(node.start_mark, f"unsupported YAML tag {node.tag}")
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
            raise _NodeError(node.start_mark, f"unsupported YAML tag {node.tag}")
        result: dict[str, Any] = {}
        first_lines: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                raise _NodeError(
                    key_node.start_mark,
                    "a mapping key that is not a plain value (a template expression?)",
                )
            name = str(key_node.value)
            if name in first_lines:
                raise _NodeError(
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
        for source in reversed([s for m in merges for s in _merge_sources(m)]):
            value = self._value(source, depth + 1, via_alias, source.start_mark)
            merged.update(value)
        merged.update(result)
        return merged


def _merge_sources(node: Node) -> list[MappingNode]:
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode) and all(
        isinstance(n, MappingNode) for n in node.value
    ):
        return list(node.value)
    raise _NodeError(
        node.start_mark, "a merge key (<<) needs a mapping or a list of mappings"
    )


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == _STR or tag in _TEXT_TAGS:
        return node.value
    if tag == _NULL:
        return None
    try:
        if tag == _BOOL:
            return _SCALARS.construct_yaml_bool(node)
        if tag == _INT:
            return _SCALARS.construct_yaml_int(node)
        if tag == _FLOAT:
            return _SCALARS.construct_yaml_float(node)
    except ValueError as error:
        raise _NodeError(node.start_mark, f"cannot read this number: {error}") from None
    raise _NodeError(node.start_mark, f"unsupported YAML tag {tag}")


def _node_at(node: Node, path: Sequence[str | int]) -> Node:
    """The node at ``path`` (keys and list indices), or the deepest one present."""
    for step in path:
        child = _child(node, step)
        if child is None:
            return node
        node = child
    return node


def _child(node: Node, step: str | int) -> Node | None:
    if isinstance(node, SequenceNode) and isinstance(step, int):
        return node.value[step] if 0 <= step < len(node.value) else None
    if not isinstance(node, MappingNode) or not isinstance(step, str):
        return None
    merges = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merges.append(value_node)
        elif isinstance(key_node, ScalarNode) and key_node.value == step:
            found: Node = value_node
            return found
    for merge in merges:
        for source in _merge_sources(merge):
            merged = _child(source, step)
            if merged is not None:
                return merged
    return None


def _value_at(data: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _literal_block_source(
    path: str, file_text: str, header_line: int, value: str
) -> Source | None:
    """A Source for a literal block scalar whose header is on ``header_line``.

    Checks that every line of ``value`` is the matching file line minus the
    block's indentation; ``None`` if not (then the caller anchors the text).
    """
    lines = value.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    file_lines = _lines(file_text)
    first = header_line + 1
    if first - 1 + len(lines) > len(file_lines):
        return None
    indent = 0
    for number, line in enumerate(lines):
        if line:
            held = file_lines[first - 1 + number]
            indent = len(held) - len(line)
            break
    for number, line in enumerate(lines):
        held = file_lines[first - 1 + number]
        if held != " " * indent + line and not (
            line.strip() == "" and held.strip() == ""
        ):
            return None
    return Source(path, value, first - 1, indent, file_text)


# ------------------------------------------------------------------ placeholders in read fields

_Pattern = tuple[str, ...]
_POD_SPEC = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def _read_fields(kind: str) -> list[tuple[_Pattern, frozenset[str]]]:
    """The fields the cluster model reads for ``kind``, with their placeholder context."""
    fields: list[tuple[_Pattern, frozenset[str]]] = [
        (("kind",), ANY),
        (("apiVersion",), ANY),
        (("metadata", "name"), STRICT),
        (("metadata", "generateName"), STRICT),
        (("metadata", "namespace"), STRICT),
        (("metadata", "labels", "**"), ANY),
        (("metadata", "ownerReferences", "**"), ANY),
    ]
    if kind in WORKLOAD_KINDS:
        pod = _POD_SPEC.get(kind, ("spec", "template", "spec"))
        fields += [
            (("spec", "replicas"), ANY),
            (("spec", "parallelism"), ANY),
            (("spec", "jobTemplate", "spec", "parallelism"), ANY),
            (("spec", "strategy", "**"), ANY),
            (("spec", "updateStrategy", "**"), ANY),
            ((*pod[:-1], "metadata", "labels", "**"), ANY),
            ((*pod, "dnsPolicy"), ANY),
            ((*pod, "hostNetwork"), ANY),
            ((*pod, "dnsConfig", "nameservers", "*"), STRICT),
            ((*pod, "dnsConfig", "searches", "*"), STRICT),
            ((*pod, "dnsConfig", "options", "**"), TYPED),
            ((*pod, "containers", "*", "image"), TYPED),
            ((*pod, "affinity", "podAntiAffinity", "**"), ANY),
            ((*pod, "affinity", "nodeAffinity", "**"), ANY),
            ((*pod, "nodeSelector", "**"), ANY),
            ((*pod, "containers", "*", "resources", "requests", "**"), ANY),
            ((*pod, "containers", "*", "ports", "**"), ANY),
            ((*pod, "topologySpreadConstraints", "**"), ANY),
            ((*pod, "volumes", "*", "configMap", "**"), ANY),
        ]
    elif kind == "ConfigMap":
        fields += [
            (("data", "Corefile"), COREFILE),
            (("data", "linear"), ANY),
            (("data", "ladder"), ANY),
        ]
    elif kind == "Service":
        fields += [
            (("spec", "clusterIP"), STRICT),
            (("spec", "clusterIPs", "*"), STRICT),
            (("spec", "ports", "**"), ANY),
            (("spec", "selector", "**"), ANY),
        ]
    elif kind == "HorizontalPodAutoscaler":
        fields += [
            (("spec", "scaleTargetRef", "**"), ANY),
            (("spec", "minReplicas"), ANY),
            (("spec", "maxReplicas"), ANY),
        ]
    elif kind == "Node":
        fields += [
            (("spec", "unschedulable"), ANY),
            (("status", "allocatable", "cpu"), ANY),
            (("status", "allocatable", "memory"), ANY),
            (("status", "allocatable", "pods"), ANY),
        ]
    return fields


def _matches(pattern: _Pattern, path: Sequence[str | int]) -> bool:
    for number, step in enumerate(pattern):
        if step == "**":
            return True
        if number >= len(path) or (step != "*" and step != path[number]):
            return False
    return len(pattern) == len(path)


def _document_placeholders(document: Document, chunk: _Chunk) -> list[Placeholder]:
    """Placeholders in the scalars of a DNS-relevant document.

    Unambiguous styles count in every scalar; the others only in the fields
    the cluster model reads (see :func:`_read_fields`).
    """
    text = document.source.text
    offset = chunk.index_offset
    if not might_hold_placeholders(
        text[
            offset + document.node.start_mark.index : offset
            + document.node.end_mark.index
        ]
    ):
        return []
    fields = _read_fields(document.kind)
    found: list[Placeholder] = []
    for path, node in _scalars(document.node, (), set()):
        start, end = node.start_mark, node.end_mark
        raw = text[offset + start.index : offset + end.index]
        if might_hold_placeholders(raw):
            context = next(
                (c for pattern, c in fields if _matches(pattern, path)), UNAMBIGUOUS
            )
            found += find_placeholders(
                raw,
                context,
                line=chunk.line_offset + start.line + 1,
                column=start.column + 1,
            )
    return found


def _scalars(
    node: Node, path: tuple[str | int, ...], seen: set[int]
) -> Iterator[tuple[tuple[str | int, ...], ScalarNode]]:
    """Every scalar under ``node`` once (an alias target is not visited again), with its path."""
    stack: list[tuple[tuple[str | int, ...], Node]] = [(path, node)]
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            yield path, node
        elif isinstance(node, SequenceNode):
            stack.extend(
                ((*path, n), item) for n, item in reversed(list(enumerate(node.value)))
            )
        elif isinstance(node, MappingNode):
            stack.extend(
                ((*path, str(key.value)), value)
                for key, value in reversed(node.value)
                if isinstance(key, ScalarNode)
            )
