"""Domain stage: find Kubernetes manifest files and load their YAML documents with positions.

Safe loading only: documents are composed into YAML nodes, which keep their
line:column marks, and converted to plain Python values (inputs/yamlnodes.py), with
bounds on file and document size, document count, nesting depth and alias expansion.
A file is composed in one pass; only when that fails (or a bound is passed) is it read
again one document at a time, so that an error in one document does not hide the others.
A template (Helm, Jinja, NodeLocal DNSCache ``__PILLAR__``, k3s, sed or
envsubst placeholders where kalc-formal reads) gives one error for its file.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from kalc_formal.errors import ConfigError
from kalc_formal.inputs.files import (
    MIB,
    STDIN_PATH,
    cyclic_gc_paused,
    find_input_files,
    read_input_file,
)
from kalc_formal.inputs.placeholders import (
    RAW,
    Placeholder,
    find_placeholders,
    template_message,
)
from kalc_formal.inputs.yamlnodes import (
    NULL,
    NodeError,
    compose_documents,
    node_at,
    to_value,
    value_at,
)
from kalc_formal.kubernetes.kinds import DNS_RELEVANT_KINDS, WORKLOAD_KINDS
from kalc_formal.kubernetes.templates import document_placeholders
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
    "load_documents",
    "load_text",
]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


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
        node = node_at(self.node, path)
        return self.span if self.chunk is None else self.chunk.span(node.start_mark)

    def error(self, message: str, *path: str | int) -> ConfigError:
        """A ConfigError at the value at ``path`` (or its nearest ancestor)."""
        span = self.span_at(*path)
        return ConfigError(message, span, self.source.line_text(span.line))

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
        value = value_at(self.data, path)
        node = node_at(self.node, path)
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
    whole = _load_whole(source, limits)
    if whole is not None:
        return whole
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
            template_message(placeholders), span, source.line_text(first.line)
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


def _load_whole(source: Source, limits: Limits) -> LoadResult | None:
    """The file's documents composed in one pass, if that gives what reading it one piece
    at a time (:func:`_split`) gives: None when a piece is too big, the text has a line
    break other than ``\\n`` (libyaml and the pieces would count lines apart), a
    directive (a piece may end with one) or a ``...`` line (a piece may be nothing
    else), the YAML or a value is bad, a node crosses a piece boundary, there are too
    many documents or a placeholder. Then the caller reads the file piece by piece."""
    text = source.text
    cuts = _cuts(text)
    if _OTHER_BREAKS.search(text) or _DIRECTIVE_OR_END.search(text) or any(
        end - begin > limits.max_document_bytes for begin, end in _pieces(text, cuts)
    ):
        return None
    try:
        nodes = compose_documents(text)
    except (yaml.YAMLError, RecursionError):
        return None
    chunk = _Chunk(source, 0, 0)
    loaded = _LoadedChunk(0)
    aliases = "&" in text
    for node in nodes:
        if isinstance(node, ScalarNode) and node.tag == NULL:
            continue
        next_cut = cuts[min(bisect_right(cuts, node.start_mark.index), len(cuts) - 1)]
        if next_cut < node.end_mark.index:
            return None
        _add_document(loaded, chunk, node, limits, text, aliases)
        if loaded.errors or loaded.placeholders or len(loaded.documents) > limits.max_documents:
            return None
    return LoadResult(tuple(loaded.documents), ())


# ------------------------------------------------------------------ splitting and parsing

_SEPARATOR = re.compile(r"^(?:---|\.\.\.)(?=[ \t\n]|$)", re.M)
_BREAKS = re.compile("[\n\x85\u2028\u2029]")
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")
_DIRECTIVE_OR_END = re.compile(r"^(?:%|\.\.\.(?=[ \t\n]|$))", re.M)
_CONTENT = re.compile(r"^[ \t]*[^ \t\n#%]", re.M)
_SECRET = re.compile(r"""^[ \t]*["']?kind["']?[ \t]*:[ \t]*["']?Secret\b""", re.M)


def _cuts(text: str) -> list[int]:
    """Where the pieces of :func:`_split` may start (``---`` lines, lines after ``...``),
    and the end of the text, in order."""
    cuts = []
    for match in _SEPARATOR.finditer(text):
        if match.group() == "---":
            cuts.append(match.start())
        else:
            end = text.find("\n", match.end())
            cuts.append(len(text) if end < 0 else end + 1)
    cuts.append(len(text))
    return cuts


def _split(text: str) -> Iterator[tuple[str, int, int]]:
    """Pieces of ``text`` that hold one document each: (piece, line offset, index).

    A piece starts at a ``---`` line or after a ``...`` line, so a syntax error
    in one document does not hide the others. A piece with nothing but
    comments, blank lines and directives joins the next one.
    """
    line = 0
    for begin, end in _pieces(text, _cuts(text)):
        piece = text[begin:end]
        yield piece, line, begin
        line += len(_BREAKS.findall(piece))


def _pieces(text: str, cuts: list[int]) -> Iterator[tuple[int, int]]:
    """The (begin, end) of each piece of :func:`_split`."""
    begin = 0
    for end in cuts:
        if end <= begin or (end < len(text) and not _has_content(text[begin:end])):
            continue
        yield begin, end
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
    if len(text) > limits.max_document_bytes:
        message = f"document larger than the {limits.max_document_bytes / MIB:g} MiB limit for one document; not read"
        loaded.errors.append(_error_at(chunk, 0, 0, message, text))
        return loaded
    try:
        nodes = compose_documents(text)
    except (yaml.YAMLError, RecursionError) as error:
        loaded.errors.append(_syntax_error(chunk, text, error))
        nodes = []
    aliases = "&" in text
    for node in nodes:
        if not (isinstance(node, ScalarNode) and node.tag == NULL):
            _add_document(loaded, chunk, node, limits, text, aliases)
    if loaded.errors:
        loaded.placeholders.extend(
            find_placeholders(text, RAW, line=chunk.line_offset + 1)
        )
    return loaded


def _add_document(
    loaded: _LoadedChunk,
    chunk: _Chunk,
    node: Node,
    limits: Limits,
    text: str,
    aliases: bool,
) -> None:
    """Convert one composed document of ``text`` (a piece, or the file with ``chunk`` at
    its start); ``aliases``: whether ``text`` may have anchors."""
    index = loaded.next_index
    loaded.next_index += 1
    try:
        data = to_value(
            node,
            max_depth=limits.max_depth,
            max_alias_nodes=limits.max_alias_nodes,
            line_offset=chunk.line_offset,
            aliases=aliases,
        )
    except NodeError as error:
        loaded.errors.append(
            _error_at(chunk, error.mark.line, error.mark.column, error.message, text)
        )
        return
    if not isinstance(data, dict) or not isinstance(node, MappingNode):
        message = (
            "not a Kubernetes object: the top level of this document is not a mapping"
        )
        loaded.errors.append(
            _error_at(
                chunk, node.start_mark.line, node.start_mark.column, message, text
            )
        )
        return
    for document in _documents_of(chunk, node, data, index):
        loaded.documents.append(document)
        if document.kind in DNS_RELEVANT_KINDS:
            loaded.placeholders.extend(
                document_placeholders(
                    document.kind,
                    document.node,
                    chunk.source.text,
                    chunk.line_offset,
                    chunk.index_offset,
                )
            )


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
    items_node = node_at(node, ("items",))
    for number, item in enumerate(items):
        item_node = node_at(items_node, (number,))
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
    chunk: _Chunk, line: int, column: int, message: str, text: str
) -> ConfigError:
    """An error at a 0-based position of ``text`` (the piece at ``chunk``), the line shown
    unless the piece is a Secret's."""
    span = Span(chunk.source.path, chunk.line_offset + line + 1, column + 1)
    if _SECRET.search(text):
        return ConfigError(
            f"{message} (line not shown: the document is a Secret)", span
        )
    return ConfigError(message, span, chunk.source.line_text(span.line))


def _syntax_error(chunk: _Chunk, text: str, error: BaseException) -> ConfigError:
    """The error at its problem mark, worded by the pure-Python parser when it can."""
    if isinstance(error, RecursionError):
        return _error_at(chunk, 0, 0, "YAML nested too deeply to read", text)
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
                chunk, mark.line, mark.column, _yaml_message(error, chunk), text
            )
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position)
        column = error.position - (text.rfind("\n", 0, error.position) + 1)
        return _error_at(
            chunk,
            line,
            column,
            f"YAML: character {chr(error.character)!r} is not allowed",
            text,
        )
    return _error_at(chunk, 0, 0, f"YAML: {error}", text)


def _yaml_message(error: yaml.MarkedYAMLError, chunk: _Chunk) -> str:
    problem = error.problem or "syntax error"
    context = error.context_mark
    if error.context and context is not None and context is not error.problem_mark:
        return f"YAML: {problem} ({error.context} at {chunk.line_offset + context.line + 1}:{context.column + 1})"
    if error.context:
        return f"YAML: {problem} ({error.context})"
    return f"YAML: {problem}"


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
    file_lines = _split_lines(file_text)
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




@functools.lru_cache(maxsize=2)
def _split_lines(text: str) -> list[str]:
    """The lines of a file as str.splitlines cuts them (at any Unicode line break): a
    literal block that holds such a break does not stand in the file line by line."""
    return text.splitlines()
