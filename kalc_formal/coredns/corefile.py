"""Input stage: read a CoreDNS Corefile into a typed model, and write one back.

The reader follows CoreDNS's parser (the coredns/caddy fork of the Caddy v1
caddyfile package) in three steps:

1. lex the text into tokens with the terminals of ``grammars/corefile.lark``
   (facts A1-A6);
2. expand environment variables, snippets and imports on the token stream the
   way ``caddyfile/parse.go`` does (A14-A16), and mark the new lines its parser
   sees;
3. parse the expanded stream with the LALR grammar of the same file into server
   blocks, keys, directives and nested blocks (A7-A10), then read the keys into
   zones and ports (A19-A22).

>>> from kalc_formal.source import Source
>>> corefile = parse_corefile(Source("Corefile", ".:53 {\\n    forward . 8.8.8.8\\n}\\n"))
>>> corefile.blocks[0].keys[0].zone, corefile.blocks[0].directives[0].name
('.', 'forward')
>>> print(format_corefile(corefile), end="")
.:53 {
    forward . 8.8.8.8
}
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lark import Lark, Tree
from lark import Token as LarkToken
from lark.exceptions import UnexpectedInput
from lark.lexer import Lexer, LexerState

from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument
from kalc_formal.inputs.files import NotRegularFile, read_regular_file
from kalc_formal.source import Source, Span, shown

MAX_SNIPPET_EXPANSIONS = 10_000
"""coredns/caddy parse.go ``maxSnippetExpansions`` (A16)."""
MAX_FILE_EXPANSIONS = 100_000
"""coredns/caddy parse.go ``maxFileExpansions`` (A16)."""
MAX_TOKENS = 1_000_000
"""Bound on the tokens one parse may read after expansion (ours, not CoreDNS's)."""
MAX_FILE_BYTES = 10 * 1024 * 1024
"""Bound on the size of the Corefile and of each imported file (ours)."""
MAX_TOKEN_CHARS = 1024 * 1024
"""Bound on one token's text after environment expansion (ours)."""
MAX_TOTAL_BYTES = MAX_FILE_BYTES
"""Bound on the bytes of the Corefile and all the files it imports together (ours)."""
MAX_BLOCK_DEPTH = 100
"""Bound on blocks nested inside one another (ours; CoreDNS plugins use 2 or 3)."""

DEFAULT_PORTS: Mapping[str, int] = {
    "dns": 53,
    "tls": 853,
    "quic": 853,
    "grpc": 443,
    "https": 443,
    "https3": 443,
}
"""Default port per transport of a server key (A19, register.go)."""
_SCHEMES = ("tls", "dns", "quic", "grpc", "https3", "https", "unix")

# Go's unicode.IsSpace (A1); Python's str.isspace() also accepts \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


# ---- model ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a directive or block line, after environment expansion.

    Equality ignores where the token was and whether it was quoted.
    """

    text: str
    span: Span = field(compare=False)
    quoted: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class BlockLine:
    """One line of a directive's block: its tokens, then an optional nested block."""

    tokens: tuple[Token, ...]
    block: tuple[BlockLine, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Directive:
    """A plugin name with the arguments on its line and its optional block."""

    name: str
    args: tuple[Token, ...]
    block: tuple[BlockLine, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ServerKey:
    """A server block key, normalized as CoreDNS does (A19-A21).

    ``text`` is the canonical form ``[transport://]zone:port`` (the transport
    only when it is not ``dns``); ``zone`` is lower case and fully qualified.
    """

    text: str
    transport: str
    zone: str
    port: int
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ServerBlock:
    """Keys served by one set of plugin instances (A13), and the directives."""

    keys: tuple[ServerKey, ...]
    directives: tuple[Directive, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Corefile:
    """The server blocks of a Corefile, snippets and imports expanded."""

    blocks: tuple[ServerBlock, ...]
    source_path: str = field(compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    sources: tuple[Source, ...] = field(default=(), compare=False, repr=False)

    def error(self, span: Span, message: str) -> ConfigError:
        """A ConfigError at ``span``, with the line from the file that holds it."""
        for source in self.sources:
            if source.path == span.path:
                return ConfigError(message, span, line_text(source, span.line))
        return ConfigError(message, span)


def line_text(source: Source, file_line: int) -> str:
    """Line ``file_line`` of the file holding ``source``, lines split on "\\n" only.

    CoreDNS counts lines on "\\n" alone (A1), where str.splitlines also splits on
    \\v, \\f, \\x1c-\\x1e, \\x85, \\u2028 and \\u2029.
    """
    lines = (source.file_text if source.file_text is not None else source.text).split("\n")
    if 1 <= file_line <= len(lines):
        return lines[file_line - 1].removesuffix("\r")
    return ""


# ---- public functions ------------------------------------------------------------


def parse_corefile(
    source: Source,
    *,
    env: Mapping[str, str] | None = None,
    import_root: Path | None = None,
    allow_outside_root: bool = False,
    valid_directives: frozenset[str] | None = None,
    mounted: Sequence[tuple[str, str, Source]] = (),
) -> Corefile:
    """Read a Corefile held in ``source`` into the typed model.

    ``mounted`` lists the files the CoreDNS container sees from the input, as
    (directory, name, source): an import of an absolute path reads them, not
    the local disk (a glob that matches none of them is fine, as in CoreDNS).

    ``env`` gives the values of ``{$VAR}`` and ``{%VAR%}`` references (unset
    names read as "", as in CoreDNS; the process environment is never read).
    File imports are resolved against the directory of the importing file and
    must stay inside ``import_root`` (default: the directory of ``source.path``)
    unless ``allow_outside_root``. With ``valid_directives`` an unknown
    directive name is an error, as with CoreDNS's plugin list (A10); without it
    any name is accepted. Raises ConfigError or ConfigErrors.
    """
    root = Path(import_root) if import_root is not None else _default_root(source.path)
    context = _ExpandContext(
        env=dict(env or {}),
        root=root,
        allow_outside_root=allow_outside_root,
        valid_directives=valid_directives,
        mounted=tuple(mounted),
    )
    if len(source.text) > MAX_FILE_BYTES:
        raise ConfigError(f"Corefile is larger than {MAX_FILE_BYTES} bytes", source.span(1, 1), line_text(source, source.span(1, 1).line))
    context.bytes_read = len(source.text)
    context.main_key = os.path.normpath(os.path.abspath(source.path))
    tokens = _lex(source, "", context)
    expander = _Expander(tokens, context)
    tree, emitted = _parse_structure(expander, source)
    return _build(tree, emitted, [source, *context.sources], context.warnings)


def load_corefile(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    import_root: Path | None = None,
    allow_outside_root: bool = False,
    valid_directives: frozenset[str] | None = None,
) -> Corefile:
    """Read the Corefile at ``path`` (UTF-8; invalid bytes read as U+FFFD)."""
    text = _read_text(Path(path), None)
    return parse_corefile(
        Source(str(path), text),
        env=env,
        import_root=import_root,
        allow_outside_root=allow_outside_root,
        valid_directives=valid_directives,
    )


def format_corefile(corefile: Corefile) -> str:
    """Canonical text: keys as normalized zones, one directive per line, 4-space
    indentation, tokens quoted only when needed, a blank line between blocks.

    Raises InvalidArgument for a token that no Corefile text can express (for
    example a ``{`` that is not a brace, which only an environment variable can
    produce).
    """
    parts = []
    for block in corefile.blocks:
        lines = [" ".join(_written(key.text, key.span) for key in block.keys) + " {"]
        for directive in block.directives:
            head = [_written_first(directive.name, directive.span)]
            head += [_written(token.text, token.span) for token in directive.args]
            lines += _formatted_line(head, directive.block, 1)
        lines.append("}")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def quote_token(text: str) -> str:
    """``text`` as a Corefile token: bare when possible, else in quotes.

    Raises InvalidArgument when CoreDNS cannot read any spelling back as ``text``.
    """
    return _written(text, None)


# ---- lexing (A1-A6) ---------------------------------------------------------------


class _NoLexer(Lexer):
    """Placeholder: the structure parser is fed tokens one by one."""

    def __init__(self, lexer_conf: object) -> None:
        del lexer_conf

    def lex(self, lexer_state: LexerState, parser_state: object) -> Iterator[LarkToken]:
        raise NotImplementedError


@cache
def _token_lexer() -> Lark:
    return Lark.open_from_package(
        "kalc_formal.coredns", "corefile.lark", ("grammars",),
        parser="lalr", lexer="basic", start="raw_tokens",
    )


@cache
def _structure_parser() -> Lark:
    return Lark.open_from_package(
        "kalc_formal.coredns", "corefile.lark", ("grammars",),
        parser="lalr", lexer=_NoLexer, start="corefile",
    )


@dataclass(frozen=True, slots=True)
class _RawToken:
    """A token as CoreDNS's parser holds it: text, file and starting line."""

    text: str
    line: int
    column: int
    quoted: bool
    source: Source
    file_key: str

    def with_text(self, text: str) -> _RawToken:
        return _RawToken(text, self.line, self.column, self.quoted, self.source, self.file_key)

    @property
    def span(self) -> Span:
        return self.source.span(self.line, self.column)

    def error(self, message: str) -> ConfigError:
        span = self.span
        return ConfigError(message, span, line_text(self.source, span.line))


def _lex(source: Source, file_key: str, context: _ExpandContext) -> list[_RawToken]:
    """The tokens of ``source.text`` (caddyfile lexer.go), at most what is left of
    MAX_TOKENS for the whole parse: a ConfigError at the first token over it."""
    text = source.text
    if text.startswith("\ufeff"):  # A5: a leading byte-order mark is discarded
        text = " " + text[1:]
    tokens = []
    for lark_token in _token_lexer().lex(text):
        context.tokens_lexed += 1
        if context.tokens_lexed > MAX_TOKENS:
            line, column = lark_token.line or 1, lark_token.column or 1
            span = source.span(line, column)
            raise ConfigError(
                f"the Corefile and its imports hold more than {MAX_TOKENS:,} tokens; not read further",
                span, line_text(source, span.line),
            )
        raw = str(lark_token.value)
        if lark_token.type == "QUOTED":
            value, closed = _unquote(raw)
            if not closed and not value:
                continue
            quoted = True
        else:
            value, quoted = raw.partition("#")[0].replace("\r", ""), False
        line = lark_token.line if lark_token.line is not None else 1
        column = lark_token.column if lark_token.column is not None else 1
        tokens.append(_RawToken(value, line, column, quoted, source, file_key))
    return tokens


def _unquote(raw: str) -> tuple[str, bool]:
    """The text of a quoted token and whether its closing quote was found (A2).

    Only ``\\"`` is an escape; any other backslash is kept with the next character.
    """
    out: list[str] = []
    escaped = False
    for char in raw[1:]:
        if not escaped:
            if char == "\\":
                escaped = True
                continue
            if char == '"':
                return "".join(out), True
        if escaped and char != '"':
            out.append("\\")
        out.append(char)
        escaped = False
    return "".join(out), False


# ---- environment variables (A14) ------------------------------------------------


def replace_env(text: str, env: Mapping[str, str]) -> str:
    """``{%NAME%}`` then ``{$NAME}`` replaced as caddyfile ``replaceEnvVars`` does.

    Each round replaces every copy of the first reference and searches again from
    the start; an empty reference (``{$}``) stops the scan. Unset names read as "".
    Raises ValueError when the expansion does not terminate or grows too large.
    """
    text = _replace_references(text, "{%", "%}", env)
    return _replace_references(text, "{$", "}", env)


def _references(text: str) -> list[str]:
    """The names of the ``{$NAME}`` and ``{%NAME%}`` references in ``text``."""
    return re.findall(r"\{\$([^}]*)\}", text) + re.findall(r"\{%(.*?)%\}", text)


def _replace_references(text: str, start: str, end: str, env: Mapping[str, str]) -> str:
    for _ in range(10_000):
        index = text.find(start)
        if index == -1:
            return text
        end_index = text.find(end, index)
        if end_index == -1 or end_index == index + len(start):
            return text
        reference = text[index : end_index + len(end)]
        text = text.replace(reference, env.get(reference[len(start) : -len(end)], ""))
        if len(text) > MAX_TOKEN_CHARS:
            raise ValueError(f"environment expansion is longer than {MAX_TOKEN_CHARS} characters")
    raise ValueError("environment expansion does not terminate")


# ---- expansion: snippets, imports, env (A14-A16), as caddyfile parse.go ------------


@dataclass
class _ExpandContext:
    env: dict[str, str]
    root: Path
    allow_outside_root: bool
    valid_directives: frozenset[str] | None
    warnings: list[str] = field(default_factory=list)
    snippets: dict[str, list[_RawToken]] = field(default_factory=dict)
    snippet_expansions: int = 0
    file_expansions: int = 0
    tokens_read: int = 0
    tokens_lexed: int = 0
    bytes_read: int = 0
    main_key: str = ""
    mounted: tuple[tuple[str, str, Source], ...] = ()
    imports: dict[str, set[str]] = field(default_factory=dict)
    """File imports seen so far: importing file -> the files it imports ('' = the Corefile)."""
    file_cache: dict[str, list[_RawToken]] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Emitted:
    """A token for the structure parser; ``newline`` puts an _NL before it."""

    token: _RawToken
    kind: str
    newline: bool


class _Stream:
    """CoreDNS's token list with in-place splicing of imports.

    ``history`` holds the tokens read so far, so that ``previous`` is the token
    before the current one in the spliced list, as Dispenser.isNewLine sees it.
    """

    def __init__(self, tokens: list[_RawToken], context: _ExpandContext) -> None:
        self._sources: list[Iterator[_RawToken]] = [iter(tokens)]
        self._pushed: list[_RawToken] = []
        self.history: list[_RawToken] = []
        self._context = context

    def next(self) -> _RawToken | None:
        token = self._pushed.pop() if self._pushed else self._pull()
        if token is not None:
            self.history.append(token)
            if len(self.history) > 8:
                del self.history[:4]
        return token

    def _pull(self) -> _RawToken | None:
        while self._sources:
            token = next(self._sources[-1], None)
            if token is not None:
                self._context.tokens_read += 1
                if self._context.tokens_read > MAX_TOKENS:
                    raise token.error(f"the Corefile expands to more than {MAX_TOKENS} tokens")
                return token
            self._sources.pop()
        return None

    def back(self) -> None:
        """Un-read the current token (Dispenser ``cursor--``)."""
        self._pushed.append(self.history.pop())

    def peek(self) -> _RawToken | None:
        token = self.next()
        if token is not None:
            self.back()
        return token

    def splice(self, tokens: list[_RawToken]) -> None:
        """Drop the import and its argument from history; read ``tokens`` next."""
        del self.history[-2:]
        if self._pushed:
            self._sources.append(iter(self._pushed[::-1]))
            self._pushed = []
        self._sources.append(iter(tokens))

    @property
    def previous(self) -> _RawToken | None:
        return self.history[-2] if len(self.history) >= 2 else None


def _is_new_line(previous: _RawToken | None, token: _RawToken) -> bool:
    """Dispenser.isNewLine: another file, or a later line than ``previous`` ends on."""
    if previous is None:
        return True
    return previous.file_key != token.file_key or (
        previous.line + previous.text.count("\n") < token.line
    )


def _same_line(previous: _RawToken | None, token: _RawToken) -> bool:
    """Dispenser.NextArg: the same file and the line ``previous`` ends on."""
    return (
        previous is not None
        and previous.file_key == token.file_key
        and previous.line + previous.text.count("\n") == token.line
    )


class _Expander:
    """Caddy's parser control flow, yielding the tokens the grammar should see."""

    def __init__(self, tokens: list[_RawToken], context: _ExpandContext) -> None:
        self.stream = _Stream(tokens, context)
        self.context = context

    def env(self, token: _RawToken) -> _RawToken:
        try:
            replaced = token.with_text(replace_env(token.text, self.context.env))
        except ValueError as error:
            raise token.error(str(error)) from None
        if replaced.text != token.text:
            empty = [name for name in _references(token.text) if not self.context.env.get(name)]
            if empty:
                self.context.warnings.append(
                    f"{token.span}: {', '.join(shown(n) for n in empty)} in {shown(token.text)} "
                    "is not set here and reads as empty (CoreDNS reads its own container's env: "
                    "kalc-formal takes it from the Deployment and --corefile-env, never from its own)"
                )
        return replaced

    def __iter__(self) -> Iterator[_Emitted]:
        while (token := self.stream.next()) is not None:
            yield from self._server_block(token)

    def _server_block(self, first: _RawToken) -> Iterator[_Emitted]:
        keys: list[_Emitted] = []
        key_texts: list[str] = []
        token: _RawToken | None = first
        expecting = False
        while True:  # caddyfile parser.addresses
            current = self.env(token) if token is not None else None
            if current is not None and current.text == "import" and self._new_line():
                self._import()
                token = self.stream.next()
                continue
            if current is not None and current.text == "{":
                if token is not None and token.text != "{":
                    raise token.error("Unknown directive '{'")
                break
            if token is not None and token.text == "}":
                raise token.error(
                    "Unexpected '}' because no matching opening brace "
                    "(CoreDNS would read it as a server block key)"
                )
            if current is not None and current.text != "":
                expecting = current.text.endswith(",")
                key_texts.append(current.text[:-1] if expecting else current.text)
                keys.append(_Emitted(current, "COMMA_WORD" if expecting else "WORD", self._newline_before()))
            token = self.stream.next()
            if token is None:
                yield from keys  # EOF: a line of keys only, or a dangling comma
                return
            if not expecting and self._new_line():
                break
        assert token is not None
        if len(key_texts) == 1 and key_texts[0].startswith("(") and key_texts[0].endswith(")"):
            self._snippet(key_texts[0][1:].removesuffix(")"), token)
            return
        yield from keys
        if not keys:
            yield _Emitted(token, "NO_KEYS", False)
        if token.text == "{":
            yield _Emitted(token, "LBRACE", self._new_line())
            yield from self._directives()
        else:
            self.stream.back()
            yield from self._directives()

    def _new_line(self) -> bool:
        current = self.stream.history[-1]
        return _is_new_line(self.stream.previous, current)

    def _newline_before(self) -> bool:
        return len(self.stream.history) > 1 and self._new_line()

    def _directives(self) -> Iterator[_Emitted]:
        force_newline = False
        while (token := self.stream.next()) is not None:
            newline = force_newline or self._new_line()
            force_newline = False
            if token.text == "}":
                yield _Emitted(token, "RBRACE", newline)
                return
            if token.text == "import":
                self._import()
                force_newline = True
                continue
            yield from self._directive(token, newline)

    def _directive(self, name_token: _RawToken, newline: bool) -> Iterator[_Emitted]:
        name = self.env(name_token)
        valid = self.context.valid_directives
        if valid is not None and name.text not in valid:
            raise name_token.error(f"Unknown directive '{name.text}'")
        yield _Emitted(name, _word_kind(name.text), newline)
        nesting = 0
        while (token := self.stream.next()) is not None:
            new_line = self._new_line()
            if token.text == "{":
                if nesting == 0 and new_line:
                    raise token.error(
                        "a plugin's '{' must be on the line of the directive: CoreDNS's "
                        "plugins read a block only when '{' ends that line (A11)"
                    )
                nesting += 1
                yield _Emitted(token, "LBRACE", nesting > 1 and not _same_line(self.stream.previous, token))
                continue
            if new_line and nesting == 0:
                self.stream.back()
                return
            if token.text == "}":
                yield _Emitted(token, "RBRACE", nesting > 0 and not _same_line(self.stream.previous, token))
                nesting = max(0, nesting - 1)
                continue
            if token.text == "import" and new_line:
                self._import()
                continue
            word = self.env(token)
            self.stream.history[-1] = word  # parse.go stores the expanded text back
            yield _Emitted(word, _word_kind(word.text), nesting > 0 and not _same_line(self.stream.previous, token))

    # -- snippets and imports --

    def _snippet(self, name: str, opening: _RawToken) -> None:
        """Store a ``(name) { ... }`` block for later imports (isSnippet, snippetTokens)."""
        if name in self.context.snippets:
            raise opening.error(f"redeclaration of previously declared snippet {name}")
        if opening.text != "{":
            raise opening.error(f"Syntax error: Unexpected token '{opening.text}', expecting '{{'")
        depth = 1
        body: list[_RawToken] = []
        last = opening
        while (token := self.stream.next()) is not None:
            last = token
            if token.text == "}":
                depth -= 1
                if depth == 0:
                    break
            elif token.text == "{":
                depth += 1
            body.append(token)
        if depth != 0:
            raise last.error(f"Syntax error: Unexpected token '{last.text}', expecting '}}' (snippet {name} is not closed)")
        for index, token in enumerate(body[:-1]):
            previous = body[index - 1] if index else None
            at_line_start = previous is None or previous.file_key != token.file_key or previous.line != token.line
            if token.text == "import" and at_line_start and self.env(body[index + 1]).text == name:
                raise token.error(f"maximum snippet import depth ({MAX_SNIPPET_EXPANSIONS}) exceeded: snippet {name} imports itself")
        self.context.snippets[name] = body

    def _import(self) -> None:
        """Replace ``import ARG`` with the snippet or the files it names (doImport)."""
        import_token = self.stream.history[-1]
        argument = self.stream.next()
        if argument is None or not _same_line(import_token, argument):
            raise import_token.error("Wrong argument count or unexpected line ending after 'import'")
        pattern = self.env(argument).text
        if pattern == "":
            raise argument.error("Import requires a non-empty filepath")
        extra = self.stream.peek()
        if extra is not None and _same_line(argument, extra):
            raise extra.error("Import takes only one argument (glob pattern or file)")
        context = self.context
        if pattern in context.snippets:
            if context.snippet_expansions >= MAX_SNIPPET_EXPANSIONS:
                raise argument.error(f"maximum snippet import depth ({MAX_SNIPPET_EXPANSIONS}) exceeded")
            context.snippet_expansions += 1
            self.stream.splice(context.snippets[pattern])
            return
        if context.file_expansions >= MAX_FILE_EXPANSIONS:
            raise argument.error(f"maximum file import depth ({MAX_FILE_EXPANSIONS}) exceeded")
        context.file_expansions += 1
        if context.mounted and pattern.startswith("/"):
            self.stream.splice(self._mounted_tokens(pattern, argument))
            return
        imported: list[_RawToken] = []
        for path in self._import_files(pattern, argument):
            importer = argument.file_key or self.context.main_key
            self._check_cycle(importer, os.path.normpath(str(path)), argument)
            imported += self._file_tokens(path, argument)
        self.stream.splice(imported)

    def _mounted_tokens(self, pattern: str, argument: _RawToken) -> list[_RawToken]:
        """The tokens of the files an absolute import names inside the CoreDNS container,
        read from the ConfigMaps its volumes mount (in the input)."""
        directory, _, base = os.path.normpath(pattern).rpartition("/")
        directory = directory or "/"
        try:
            matcher = _component_regex(base) if not _GLOB_META.search(directory) else None
        except ValueError as error:
            raise argument.error(f"Failed to use import pattern {pattern}: {error}") from None
        files = sorted(
            (f for f in self.context.mounted if f[0] == directory and matcher and matcher.fullmatch(f[1])),
            key=lambda f: f[1],
        )
        if not files:
            where = "no ConfigMap in the input is mounted there in the CoreDNS pod"
            if _GLOB_META.search(pattern):
                self.context.warnings.append(
                    f"{argument.span}: No files matching import glob pattern: {pattern} ({where})"
                )
                return []
            raise argument.error(f"File to import not found: {pattern} ({where})")
        tokens: list[_RawToken] = []
        for directory_name, name, source in files:
            key = f"{directory_name.rstrip('/')}/{name}"
            self._check_cycle(argument.file_key or self.context.main_key, key, argument)
            cached = self.context.file_cache.get(key)
            if cached is None:
                self.context.bytes_read += len(source.text)
                if self.context.bytes_read > MAX_TOTAL_BYTES:
                    raise argument.error(
                        f"the Corefile and its imports are larger than {MAX_TOTAL_BYTES:,} bytes together"
                    )
                self.context.sources.append(source)
                cached = _lex(source, key, self.context)
                self.context.file_cache[key] = cached
            tokens += cached
        return tokens

    def _check_cycle(self, importer: str, imported: str, argument: _RawToken) -> None:
        """Refuse an import that closes a cycle of files (it would expand without end)."""
        graph = self.context.imports
        path = _import_path(graph, imported, importer) if imported != importer else [imported]
        if path is not None:
            names = [shown(p) for p in [importer, *path]]
            raise argument.error(f"import cycle: {' -> '.join(names)} (each file imports the next)")
        graph.setdefault(importer, set()).add(imported)

    def _import_files(self, pattern: str, argument: _RawToken) -> list[Path]:
        holder = argument.file_key or argument.source.path
        base = Path(os.path.abspath(os.path.dirname(holder) or "."))
        joined = Path(os.path.normpath(base / pattern))
        text = str(joined)
        if text.count("*") > 1 or text.count("?") > 1 or ("[" in text and "]" in text):
            raise argument.error(f"Glob pattern may only contain one wildcard (*), but has others: {text}")
        if not self.context.allow_outside_root:
            self._check_inside_root(_fixed_prefix(joined), pattern, argument)
        try:
            matches = _glob(joined)
        except ValueError as error:
            raise argument.error(f"Failed to use import pattern {pattern}: {error}") from None
        if not matches:
            if any(char in text for char in "*?[]"):
                self.context.warnings.append(f"{argument.span}: No files matching import glob pattern: {pattern}")
            else:
                raise argument.error(f"File to import not found: {pattern}")
        if not self.context.allow_outside_root:
            for match in matches:
                self._check_inside_root(Path(os.path.realpath(match)), pattern, argument)
        return matches

    def _check_inside_root(self, path: Path, pattern: str, argument: _RawToken) -> None:
        root = Path(os.path.realpath(self.context.root))
        resolved = Path(os.path.realpath(path))
        if not (resolved == root or resolved.is_relative_to(root)):
            raise argument.error(
                f"import {pattern} leaves the import root {self.context.root} "
                "(files outside it are not read unless allow_outside_root is set)"
            )

    def _file_tokens(self, path: Path, argument: _RawToken) -> list[_RawToken]:
        key = os.path.normpath(str(path))
        cached = self.context.file_cache.get(key)
        if cached is not None:
            return cached
        if path.is_dir():
            raise argument.error(f"Could not import {path}: is a directory")
        source = Source(key, _read_text(path, argument))
        self.context.bytes_read += len(source.text)
        if self.context.bytes_read > MAX_TOTAL_BYTES:
            raise argument.error(
                f"the Corefile and its imports are larger than {MAX_TOTAL_BYTES:,} bytes together; "
                f"{path} not read"
            )
        self.context.sources.append(source)
        tokens = _lex(source, key, self.context)
        self.context.file_cache[key] = tokens
        return tokens


def _word_kind(text: str) -> str:
    return "COMMA_WORD" if text.endswith(",") else "WORD"


def _read_text(path: Path, importer: _RawToken | None) -> str:
    def fail(message: str) -> ConfigError:
        if importer is not None:
            return importer.error(message)
        return ConfigError(f"{path}: {message}")

    try:
        data = read_regular_file(str(path), MAX_FILE_BYTES)
    except NotRegularFile as error:
        raise fail(f"Could not read {path}: {error}") from None
    except OSError as error:
        raise fail(f"Could not read {path}: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise fail(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


def _import_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A path of imports from ``start`` to ``goal`` already seen, if any (breadth first)."""
    parents: dict[str, str] = {start: start}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            if node == goal:
                path = [node]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return path[::-1]
            for child in sorted(graph.get(node, ())):
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    return None


def _default_root(path: str) -> Path:
    return Path(os.path.abspath(os.path.dirname(path) or "."))


_GLOB_META = re.compile(r"[*?\[\\]")


def _fixed_prefix(pattern: Path) -> Path:
    """The directory part of ``pattern`` before its first wildcard component."""
    parts = pattern.parts
    for index, part in enumerate(parts):
        if _GLOB_META.search(part):
            return Path(*parts[:index]) if index else Path(parts[0])
    return pattern


def _glob(pattern: Path) -> list[Path]:
    """Go's filepath.Glob on Unix: sorted matches, dot files included."""
    if not _GLOB_META.search(str(pattern)):
        return [pattern] if os.path.lexists(pattern) else []
    directories = [Path(pattern.parts[0])]
    for part in pattern.parts[1:]:
        if not _GLOB_META.search(part):
            directories = [d / part for d in directories if os.path.lexists(d / part)]
            continue
        matcher = _component_regex(part)
        found = []
        for directory in directories:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            found += [directory / name for name in names if matcher.fullmatch(name)]
        directories = found
    return directories


def _component_regex(part: str) -> re.Pattern[str]:
    """A Go filepath.Match pattern (``*``, ``?``, ``\\`` escapes) as a regex."""
    out = []
    index = 0
    while index < len(part):
        char = part[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            index += 1
            if index == len(part):
                raise ValueError("syntax error in pattern")
            out.append(re.escape(part[index]))
        elif char == "[":
            raise ValueError("syntax error in pattern")
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out))


# ---- structure (A7-A13) ------------------------------------------------------------


def _parse_structure(expander: _Expander, source: Source) -> tuple[Tree[LarkToken], list[_Emitted]]:
    emitted: list[_Emitted] = []
    parser = _structure_parser().parse_interactive()
    last_kind = ""
    opened: list[_RawToken] = []
    for item in expander:
        try:
            if item.newline:
                parser.feed_token(LarkToken("_NL", "\n"))
            parser.feed_token(LarkToken(item.kind, item.token.text, start_pos=len(emitted)))
        except UnexpectedInput:
            raise item.token.error(_unexpected_message(item, last_kind)) from None
        emitted.append(item)
        if item.kind == "LBRACE":
            opened.append(item.token)
            if len(opened) > MAX_BLOCK_DEPTH:
                raise item.token.error(f"blocks are nested more than {MAX_BLOCK_DEPTH} deep")
        elif item.kind == "RBRACE" and opened:
            opened.pop()
        last_kind = item.kind
    try:
        tree: Tree[LarkToken] = parser.feed_eof()  # type: ignore[no-untyped-call]
    except UnexpectedInput:
        raise _eof_error(emitted, last_kind, opened, source) from None
    return tree, emitted


def _unexpected_message(item: _Emitted, last_kind: str) -> str:
    if item.kind == "RBRACE":
        return "Unexpected '}' because no matching opening brace"
    if last_kind == "COMMA_WORD":
        return f"Expected another address but had '{item.token.text}' - check for extra comma"
    if last_kind == "RBRACE" and not item.newline:
        return (
            f"Unexpected '{item.token.text}' after the closing '}}' of a block: "
            "a directive's block must end its line"
        )
    if item.kind == "LBRACE":
        return "Unknown directive '{'"
    return f"Unexpected token '{item.token.text}'"


def _eof_error(emitted: list[_Emitted], last_kind: str, opened: list[_RawToken], source: Source) -> ConfigError:
    if not emitted:
        return ConfigError("Unexpected EOF", source.span(1, 1), line_text(source, source.span(1, 1).line))
    last = emitted[-1].token
    if last_kind == "COMMA_WORD":
        return last.error("Unexpected EOF: the address list ends with a comma")
    if len(opened) > 1:
        return last.error(f"Unexpected EOF: the block opened at {opened[-1].span} is not closed")
    where = f" opened at {opened[-1].span}" if opened else ""
    return last.error(f"Unexpected EOF: expecting '}}' to close the server block{where}")


# ---- tree to model -------------------------------------------------------------------


def _build(tree: Tree[LarkToken], emitted: list[_Emitted], sources: list[Source], warnings: list[str]) -> Corefile:
    builder = _Builder(emitted)
    blocks: list[ServerBlock] = []
    errors: list[ConfigError] = []
    for node in tree.children:
        assert isinstance(node, Tree)
        block = builder.server_block(node, errors, warnings)
        if block is not None:
            blocks.append(block)
    if not errors:
        errors = _duplicate_key_errors(blocks, builder.key_tokens)
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return Corefile(tuple(blocks), sources[0].path, tuple(warnings), tuple(sources))


class _Builder:
    def __init__(self, emitted: list[_Emitted]) -> None:
        self.emitted = emitted
        self.key_tokens: list[_RawToken] = []

    def raw(self, token: LarkToken) -> _RawToken:
        return self.emitted[token.start_pos or 0].token

    def token(self, token: LarkToken) -> Token:
        raw = self.raw(token)
        return Token(raw.text, raw.span, raw.quoted)

    def server_block(self, node: Tree[LarkToken], errors: list[ConfigError], warnings: list[str]) -> ServerBlock | None:
        keys_node = node.children[0]
        assert isinstance(keys_node, Tree)
        directives = [self.directive(child) for child in node.children if isinstance(child, Tree) and child.data == "directive"]
        if node.data == "unclosed_block":
            last = directives[-1]
            ends_with_brace = last.block is not None or (last.args and last.args[-1].text == "}")
            if not ends_with_brace:
                tree_last = [child for child in node.children if isinstance(child, Tree)][-1]
                raw = self.raw(self._last_token(tree_last))
                raise raw.error("Unexpected EOF: expecting '}' to close the server block")
            warnings.append(
                f"{directives[-1].span}: the server block is not closed; CoreDNS accepts this "
                "because the file ends with the '}' of a directive's block"
            )
        key_tokens = [self.raw(t) for t in keys_node.children if isinstance(t, LarkToken) and t.type != "NO_KEYS"]
        if not key_tokens:
            where = self._first_raw(node)
            warnings.append(f"{where.span}: a server block with no keys is ignored, as CoreDNS does")
            return None
        keys: list[ServerKey] = []
        for raw in key_tokens:
            text = raw.text[:-1] if raw.text.endswith(",") else raw.text
            try:
                parsed = parse_server_key(text, raw.span)
            except ValueError as error:
                errors.append(raw.error(str(error)))
                continue
            keys += parsed
            self.key_tokens += [raw] * len(parsed)
        return ServerBlock(tuple(keys), tuple(directives), key_tokens[0].span)

    def _first_raw(self, node: Tree[LarkToken]) -> _RawToken:
        child = node.children[0]
        return self.raw(child) if isinstance(child, LarkToken) else self._first_raw(child)

    def _last_token(self, node: Tree[LarkToken]) -> LarkToken:
        child = node.children[-1]
        return child if isinstance(child, LarkToken) else self._last_token(child)

    def directive(self, node: Tree[LarkToken]) -> Directive:
        words = [self.token(t) for t in node.children if isinstance(t, LarkToken)]
        nested = [self.block(c) for c in node.children if isinstance(c, Tree)]
        name = words[0]
        return Directive(name.text, tuple(words[1:]), nested[0] if nested else None, name.span)

    def block(self, node: Tree[LarkToken]) -> tuple[BlockLine, ...]:
        return tuple(self.line(c) for c in node.children if isinstance(c, Tree))

    def line(self, node: Tree[LarkToken]) -> BlockLine:
        words = tuple(self.token(t) for t in node.children if isinstance(t, LarkToken))
        nested = [c for c in node.children if isinstance(c, Tree)]
        span = words[0].span if words else self.raw(nested[0].children[0]).span  # type: ignore[arg-type]
        return BlockLine(words, self.block(nested[0]) if nested else None, span)


# ---- server keys (A19-A22) ------------------------------------------------------------


def parse_server_key(text: str, span: Span) -> list[ServerKey]:
    """The keys CoreDNS makes of one server block key (InspectServerBlocks).

    ``[transport://]zone[:port]``; a CIDR zone becomes its reverse zones, split on
    octet (IPv4) or nibble (IPv6) boundaries (A21). Raises ValueError with
    CoreDNS's message for a bad key.
    """
    transport, rest = "dns", text
    for scheme in _SCHEMES:
        if text.startswith(scheme + "://"):
            transport, rest = scheme, text[len(scheme) + 3 :]
            break
    hosts, port_text = _split_host_port(rest)
    for host in hosts:
        _split_host_port(_fqdn(host))
    if transport == "unix":
        raise ValueError(f"unix:// cannot serve a zone: {text}")
    port = int(port_text) if port_text else DEFAULT_PORTS[transport]
    if not 0 <= port <= 65535:
        raise ValueError(f"invalid port {port_text} in {text}")
    keys = []
    for host in hosts:
        zone = _fqdn(host).lower()
        canonical = ("" if transport == "dns" else transport + "://") + f"{zone}:{port}"
        keys.append(ServerKey(canonical, transport, zone, port, span))
    return keys


def _split_host_port(text: str) -> tuple[list[str], str]:
    """plugin.SplitHostPort: hosts (reverse zones for a CIDR) and the port text."""
    port = ""
    colon = text.rfind(":")
    if colon == len(text) - 1 and colon != -1:
        raise ValueError(f'expecting data after last colon: "{text}"')
    if colon != -1:
        number = _go_atoi(text[colon + 1 :])
        if number is not None:
            port, text = str(number), text[:colon]
    if len(text.encode("utf-8")) > 255:
        raise ValueError(f"specified zone is too long: {len(text.encode('utf-8'))} > 255")
    if not is_domain_name(text):
        raise ValueError(f"zone is not a valid domain name: {text}")
    network = _parse_cidr(text)
    if network is None:
        return [text], port
    if text[0] == ":" or (text[0] == "0" and ":" in text):
        raise ValueError(f"invalid CIDR {text}")
    return reverse_zones(network), port


def _go_atoi(text: str) -> int | None:
    """strconv.Atoi: an optional sign and ASCII digits, within int64."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def _parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if "/" not in text or "%" in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def reverse_zones(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """cidr.Split then cidr.Reverse: the reverse zones covering ``network`` (A21)."""
    boundary = 8 if network.version == 4 else 4
    prefix = -(-network.prefixlen // boundary) * boundary
    subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = (
        [network] if prefix == network.prefixlen else list(network.subnets(new_prefix=prefix))
    )
    zones = []
    for subnet in subnets:
        labels = subnet.network_address.reverse_pointer.split(".")
        skip = (subnet.max_prefixlen - subnet.prefixlen) // boundary
        zones.append(".".join(labels[skip:]) + ".")
    return zones


def _fqdn(name: str) -> str:
    """dns.Fqdn: add the final dot unless the name ends in an unescaped one."""
    if name.endswith(".") and (len(name) - len(name[:-1].rstrip("\\")) - 1) % 2 == 0:
        return name
    return name + "."


def is_domain_name(name: str) -> bool:
    """miekg/dns IsDomainName (v1.1.72): label and name lengths, escapes, empty labels."""
    data = _fqdn(name).encode("utf-8", errors="surrogateescape") if name else b""
    if not data:
        return False
    offset = begin = 0
    was_dot = escape = False
    index = 0
    while index < len(data):
        char = data[index]
        if char == 0x5C:  # backslash
            escape = not escape
            if offset + 1 > 256:
                return False
            if len(data) - index - 1 >= 3 and all(0x30 <= b <= 0x39 for b in data[index + 1 : index + 4]):
                index += 3
                begin += 3
            else:
                index += 1
                begin += 1
            was_dot = False
        elif char == 0x2E:  # dot
            escape = False
            if index == 0 and len(data) > 1:
                return False
            if was_dot:
                return False
            was_dot = True
            if index - begin >= 64:
                return False
            offset += 1 + index - begin
            if offset > 256:
                return False
            begin = index + 1
        else:
            escape = False
            was_dot = False
        index += 1
    return not escape


def _duplicate_key_errors(blocks: list[ServerBlock], key_tokens: list[_RawToken]) -> list[ConfigError]:
    """The same transport, zone, port and listen address twice (A22, address.go).

    A block with a ``view`` directive is filtered and may share a key; ``bind``
    addresses are compared as written.
    """
    registered: set[tuple[str, str, int, str]] = set()
    unbound: dict[tuple[str, str, int], str] = {}
    errors = []
    raw_tokens = iter(key_tokens)
    for block in blocks:
        filtered = any(d.name == "view" for d in block.directives)
        addresses = _bind_addresses(block) or [""]
        for key in block.keys:
            raw = next(raw_tokens)
            for address in addresses:
                where = f"{key.transport}://{key.zone}:{key.port}"
                full = (key.transport, key.zone, key.port, address)
                plain = full[:3]
                if full in registered:
                    if not filtered:
                        on = f" on {address}" if address else ""
                        errors.append(raw.error(f"cannot serve {where}{on} - it is already defined"))
                    continue
                if plain in unbound and (address == "" or (*plain, "") in registered):
                    other = f"{where} on {unbound[plain]}" if unbound[plain] else where
                    errors.append(raw.error(f"cannot serve {where} - zone overlap listener capacity with {other}"))
                    continue
                if not filtered:
                    registered.add(full)
                    unbound[plain] = address
    return errors


def _bind_addresses(block: ServerBlock) -> list[str]:
    addresses: list[str] = []
    for directive in block.directives:
        if directive.name == "bind":
            addresses += [token.text for token in directive.args]
    return addresses


# ---- formatting ----------------------------------------------------------------------


def _formatted_line(head: list[str], block: tuple[BlockLine, ...] | None, depth: int) -> list[str]:
    indent = "    " * depth
    if block is None:
        return [indent + " ".join(head)]
    lines = [indent + " ".join([*head, "{"])]
    for line in block:
        words = [_written(token.text, token.span) for token in line.tokens]
        if line.tokens:
            words[0] = _written_first(line.tokens[0].text, line.tokens[0].span)
        lines += _formatted_line(words, line.block, depth + 1)
    lines.append(indent + "}")
    return lines


def _written_first(text: str, span: Span | None) -> str:
    """A token that starts a line, where ``import`` would be expanded (A16)."""
    if text == "import":
        where = f" (at {span})" if span is not None else ""
        raise InvalidArgument(f"the token 'import'{where} would be read as an import at the start of a line")
    return _written(text, span)


_NEEDS_QUOTES = re.compile(f'[{re.escape(_GO_SPACE)}#]|^["\ufeff]')


def _written(text: str, span: Span | None) -> str:
    where = f" (at {span})" if span is not None else ""
    if text in ("{", "}"):
        raise InvalidArgument(f"the token {text!r}{where} would be read as a brace")
    try:
        unchanged = replace_env(text, {}) == text
    except ValueError:
        unchanged = False
    if not unchanged:
        raise InvalidArgument(f"the token {text!r}{where} would be read as an environment reference")
    if text and not _NEEDS_QUOTES.search(text):
        return text
    out = ['"']
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            if index + 1 == len(text) or text[index + 1] == '"':
                raise InvalidArgument(f"the token {text!r}{where} has no quoted spelling")
            out.append(text[index : index + 2])
            index += 1
        else:
            out.append(char)
        index += 1
    out.append('"')
    return "".join(out)
