"""Expansion of snippets, imports and environment references on the token stream, as
caddyfile parse.go does (A14-A16), marking the new lines its parser sees."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kalc_formal.coredns.corefile import limits
from kalc_formal.coredns.corefile.lexer import (
    RawToken,
    env_references,
    lex,
    replace_env,
)
from kalc_formal.errors import ConfigError
from kalc_formal.inputs.files import NotRegularFile, read_regular_file
from kalc_formal.source import Source, shown


@dataclass
class ExpandContext:
    """The state of one parse across the Corefile and the files it imports: its
    inputs, the snippets defined so far, and the counts the limits bound."""

    env: dict[str, str]
    root: Path
    allow_outside_root: bool
    valid_directives: frozenset[str] | None
    warnings: list[str] = field(default_factory=list)
    snippets: dict[str, list[RawToken]] = field(default_factory=dict)
    snippet_expansions: int = 0
    file_expansions: int = 0
    tokens_read: int = 0
    tokens_lexed: int = 0
    bytes_read: int = 0
    main_key: str = ""
    mounted: tuple[tuple[str, str, Source], ...] = ()
    imports: dict[str, set[str]] = field(default_factory=dict)
    """File imports seen so far: importing file -> the files it imports ('' = the Corefile)."""
    file_cache: dict[str, list[RawToken]] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Emitted:
    """A token for the structure parser; ``newline`` puts an _NL before it."""

    token: RawToken
    kind: str
    newline: bool


class _Stream:
    """CoreDNS's token list with in-place splicing of imports.

    ``history`` holds the tokens read so far, so that ``previous`` is the token
    before the current one in the spliced list, as Dispenser.isNewLine sees it.
    """

    def __init__(self, tokens: list[RawToken], context: ExpandContext) -> None:
        self._sources: list[Iterator[RawToken]] = [iter(tokens)]
        self._pushed: list[RawToken] = []
        self.history: list[RawToken] = []
        self._context = context

    def next(self) -> RawToken | None:
        token = self._pushed.pop() if self._pushed else self._pull()
        if token is not None:
            self.history.append(token)
            if len(self.history) > 8:
                del self.history[:4]
        return token

    def _pull(self) -> RawToken | None:
        while self._sources:
            token = next(self._sources[-1], None)
            if token is not None:
                self._context.tokens_read += 1
                if self._context.tokens_read > limits.MAX_TOKENS:
                    raise token.error(f"the Corefile expands to more than {limits.MAX_TOKENS} tokens")
                return token
            self._sources.pop()
        return None

    def back(self) -> None:
        """Un-read the current token (Dispenser ``cursor--``)."""
        self._pushed.append(self.history.pop())

    def peek(self) -> RawToken | None:
        token = self.next()
        if token is not None:
            self.back()
        return token

    def splice(self, tokens: list[RawToken]) -> None:
        """Drop the import and its argument from history; read ``tokens`` next."""
        del self.history[-2:]
        if self._pushed:
            self._sources.append(iter(self._pushed[::-1]))
            self._pushed = []
        self._sources.append(iter(tokens))

    @property
    def previous(self) -> RawToken | None:
        return self.history[-2] if len(self.history) >= 2 else None


def _is_new_line(previous: RawToken | None, token: RawToken) -> bool:
    """Dispenser.isNewLine: another file, or a later line than ``previous`` ends on."""
    if previous is None:
        return True
    return previous.file_key != token.file_key or (
        previous.line + previous.text.count("\n") < token.line
    )


def _same_line(previous: RawToken | None, token: RawToken) -> bool:
    """Dispenser.NextArg: the same file and the line ``previous`` ends on."""
    return (
        previous is not None
        and previous.file_key == token.file_key
        and previous.line + previous.text.count("\n") == token.line
    )


class Expander:
    """Caddy's parser control flow, yielding the tokens the grammar should see."""

    def __init__(self, tokens: list[RawToken], context: ExpandContext) -> None:
        self.stream = _Stream(tokens, context)
        self.context = context

    def env(self, token: RawToken) -> RawToken:
        try:
            replaced = token.with_text(replace_env(token.text, self.context.env))
        except ValueError as error:
            raise token.error(str(error)) from None
        if replaced.text != token.text:
            empty = [name for name in env_references(token.text) if not self.context.env.get(name)]
            if empty:
                self.context.warnings.append(
                    f"{token.span}: {', '.join(shown(n) for n in empty)} in {shown(token.text)} "
                    "is not set here and reads as empty (environment variables are not read: "
                    "CoreDNS reads them from its own pod)"
                )
        return replaced

    def __iter__(self) -> Iterator[Emitted]:
        while (token := self.stream.next()) is not None:
            yield from self._server_block(token)

    def _server_block(self, first: RawToken) -> Iterator[Emitted]:
        keys: list[Emitted] = []
        key_texts: list[str] = []
        token: RawToken | None = first
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
                keys.append(Emitted(current, "COMMA_WORD" if expecting else "WORD", self._newline_before()))
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
            yield Emitted(token, "NO_KEYS", False)
        if token.text == "{":
            yield Emitted(token, "LBRACE", self._new_line())
            yield from self._directives()
        else:
            self.stream.back()
            yield from self._directives()

    def _new_line(self) -> bool:
        current = self.stream.history[-1]
        return _is_new_line(self.stream.previous, current)

    def _newline_before(self) -> bool:
        return len(self.stream.history) > 1 and self._new_line()

    def _directives(self) -> Iterator[Emitted]:
        force_newline = False
        while (token := self.stream.next()) is not None:
            newline = force_newline or self._new_line()
            force_newline = False
            if token.text == "}":
                yield Emitted(token, "RBRACE", newline)
                return
            if token.text == "import":
                self._import()
                force_newline = True
                continue
            yield from self._directive(token, newline)

    def _directive(self, name_token: RawToken, newline: bool) -> Iterator[Emitted]:
        name = self.env(name_token)
        valid = self.context.valid_directives
        if valid is not None and name.text not in valid:
            raise name_token.error(f"Unknown directive '{name.text}'")
        yield Emitted(name, word_kind(name.text), newline)
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
                yield Emitted(token, "LBRACE", nesting > 1 and not _same_line(self.stream.previous, token))
                continue
            if new_line and nesting == 0:
                self.stream.back()
                return
            if token.text == "}":
                yield Emitted(token, "RBRACE", nesting > 0 and not _same_line(self.stream.previous, token))
                nesting = max(0, nesting - 1)
                continue
            if token.text == "import" and new_line:
                self._import()
                continue
            word = self.env(token)
            self.stream.history[-1] = word  # parse.go stores the expanded text back
            yield Emitted(word, word_kind(word.text), nesting > 0 and not _same_line(self.stream.previous, token))

    # -- snippets and imports --

    def _snippet(self, name: str, opening: RawToken) -> None:
        """Store a ``(name) { ... }`` block for later imports (isSnippet, snippetTokens)."""
        if name in self.context.snippets:
            raise opening.error(f"redeclaration of previously declared snippet {name}")
        if opening.text != "{":
            raise opening.error(f"Syntax error: Unexpected token '{opening.text}', expecting '{{'")
        depth = 1
        body: list[RawToken] = []
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
                raise token.error(f"maximum snippet import depth ({limits.MAX_SNIPPET_EXPANSIONS}) exceeded: snippet {name} imports itself")
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
            if context.snippet_expansions >= limits.MAX_SNIPPET_EXPANSIONS:
                raise argument.error(f"maximum snippet import depth ({limits.MAX_SNIPPET_EXPANSIONS}) exceeded")
            context.snippet_expansions += 1
            self.stream.splice(context.snippets[pattern])
            return
        if context.file_expansions >= limits.MAX_FILE_EXPANSIONS:
            raise argument.error(f"maximum file import depth ({limits.MAX_FILE_EXPANSIONS}) exceeded")
        context.file_expansions += 1
        if context.mounted and pattern.startswith("/"):
            self.stream.splice(self._mounted_tokens(pattern, argument))
            return
        imported: list[RawToken] = []
        for path in self._import_files(pattern, argument):
            importer = argument.file_key or self.context.main_key
            self._check_cycle(importer, os.path.normpath(str(path)), argument)
            imported += self._file_tokens(path, argument)
        self.stream.splice(imported)

    def _mounted_tokens(self, pattern: str, argument: RawToken) -> list[RawToken]:
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
        tokens: list[RawToken] = []
        for directory_name, name, source in files:
            key = f"{directory_name.rstrip('/')}/{name}"
            self._check_cycle(argument.file_key or self.context.main_key, key, argument)
            cached = self.context.file_cache.get(key)
            if cached is None:
                self.context.bytes_read += len(source.text)
                if self.context.bytes_read > limits.MAX_TOTAL_BYTES:
                    raise argument.error(
                        f"the Corefile and its imports are larger than {limits.MAX_TOTAL_BYTES:,} bytes together"
                    )
                self.context.sources.append(source)
                cached = lex(source, key, self.context)
                self.context.file_cache[key] = cached
            tokens += cached
        return tokens

    def _check_cycle(self, importer: str, imported: str, argument: RawToken) -> None:
        """Refuse an import that closes a cycle of files (it would expand without end)."""
        graph = self.context.imports
        path = _import_path(graph, imported, importer) if imported != importer else [imported]
        if path is not None:
            names = [shown(p) for p in [importer, *path]]
            raise argument.error(f"import cycle: {' -> '.join(names)} (each file imports the next)")
        graph.setdefault(importer, set()).add(imported)

    def _import_files(self, pattern: str, argument: RawToken) -> list[Path]:
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

    def _check_inside_root(self, path: Path, pattern: str, argument: RawToken) -> None:
        root = Path(os.path.realpath(self.context.root))
        resolved = Path(os.path.realpath(path))
        if not (resolved == root or resolved.is_relative_to(root)):
            raise argument.error(
                f"import {pattern} leaves the import root {self.context.root} "
                "(files outside it are not read unless allow_outside_root is set)"
            )

    def _file_tokens(self, path: Path, argument: RawToken) -> list[RawToken]:
        key = os.path.normpath(str(path))
        cached = self.context.file_cache.get(key)
        if cached is not None:
            return cached
        if path.is_dir():
            raise argument.error(f"Could not import {path}: is a directory")
        source = Source(key, read_text(path, argument))
        self.context.bytes_read += len(source.text)
        if self.context.bytes_read > limits.MAX_TOTAL_BYTES:
            raise argument.error(
                f"the Corefile and its imports are larger than {limits.MAX_TOTAL_BYTES:,} bytes together; "
                f"{path} not read"
            )
        self.context.sources.append(source)
        tokens = lex(source, key, self.context)
        self.context.file_cache[key] = tokens
        return tokens


def word_kind(text: str) -> str:
    return "COMMA_WORD" if text.endswith(",") else "WORD"


def read_text(path: Path, importer: RawToken | None) -> str:
    def fail(message: str) -> ConfigError:
        if importer is not None:
            return importer.error(message)
        return ConfigError(f"{path}: {message}")

    try:
        data = read_regular_file(str(path), limits.MAX_FILE_BYTES)
    except NotRegularFile as error:
        raise fail(f"Could not read {path}: {error}") from None
    except OSError as error:
        raise fail(f"Could not read {path}: {error.strerror or error}") from None
    if len(data) > limits.MAX_FILE_BYTES:
        raise fail(f"{path} is larger than {limits.MAX_FILE_BYTES} bytes")
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


def default_root(path: str) -> Path:
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
