"""Parsing a Corefile: the expanded token stream through the LALR grammar into server
blocks, keys and directives (A7-A13), with CoreDNS's error messages."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path

from lark import Lark, Tree
from lark import Token as LarkToken
from lark.exceptions import UnexpectedInput
from lark.lexer import Lexer, LexerState

from kalc_formal.coredns.corefile import limits
from kalc_formal.coredns.corefile.expand import (
    Emitted,
    ExpandContext,
    Expander,
    default_root,
    read_text,
)
from kalc_formal.coredns.corefile.keys import parse_server_key
from kalc_formal.coredns.corefile.lexer import RawToken, lex
from kalc_formal.coredns.corefile.model import (
    BlockLine,
    Corefile,
    Directive,
    ServerBlock,
    ServerKey,
    Token,
)
from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.source import Source


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
    root = Path(import_root) if import_root is not None else default_root(source.path)
    context = ExpandContext(
        env=dict(env or {}),
        root=root,
        allow_outside_root=allow_outside_root,
        valid_directives=valid_directives,
        mounted=tuple(mounted),
    )
    if len(source.text) > limits.MAX_FILE_BYTES:
        raise ConfigError(f"Corefile is larger than {limits.MAX_FILE_BYTES} bytes", source.span(1, 1), source.line_text(source.span(1, 1).line))
    context.bytes_read = len(source.text)
    context.main_key = os.path.normpath(os.path.abspath(source.path))
    tokens = lex(source, "", context)
    expander = Expander(tokens, context)
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
    text = read_text(Path(path), None)
    return parse_corefile(
        Source(str(path), text),
        env=env,
        import_root=import_root,
        allow_outside_root=allow_outside_root,
        valid_directives=valid_directives,
    )


class _NoLexer(Lexer):
    """Placeholder: the structure parser is fed tokens one by one."""

    def __init__(self, lexer_conf: object) -> None:
        del lexer_conf

    def lex(self, lexer_state: LexerState, parser_state: object) -> Iterator[LarkToken]:
        raise NotImplementedError


@cache
def _structure_parser() -> Lark:
    return Lark.open_from_package(
        "kalc_formal.coredns", "corefile.lark", ("grammars",),
        parser="lalr", lexer=_NoLexer, start="corefile",
    )


# ---- structure (A7-A13) ------------------------------------------------------------


def _parse_structure(expander: Expander, source: Source) -> tuple[Tree[LarkToken], list[Emitted]]:
    emitted: list[Emitted] = []
    parser = _structure_parser().parse_interactive()
    last_kind = ""
    opened: list[RawToken] = []
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
            if len(opened) > limits.MAX_BLOCK_DEPTH:
                raise item.token.error(f"blocks are nested more than {limits.MAX_BLOCK_DEPTH} deep")
        elif item.kind == "RBRACE" and opened:
            opened.pop()
        last_kind = item.kind
    try:
        tree: Tree[LarkToken] = parser.feed_eof()  # type: ignore[no-untyped-call]
    except UnexpectedInput:
        raise _eof_error(emitted, last_kind, opened, source) from None
    return tree, emitted


def _unexpected_message(item: Emitted, last_kind: str) -> str:
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


def _eof_error(emitted: list[Emitted], last_kind: str, opened: list[RawToken], source: Source) -> ConfigError:
    if not emitted:
        return ConfigError("Unexpected EOF", source.span(1, 1), source.line_text(source.span(1, 1).line))
    last = emitted[-1].token
    if last_kind == "COMMA_WORD":
        return last.error("Unexpected EOF: the address list ends with a comma")
    if len(opened) > 1:
        return last.error(f"Unexpected EOF: the block opened at {opened[-1].span} is not closed")
    where = f" opened at {opened[-1].span}" if opened else ""
    return last.error(f"Unexpected EOF: expecting '}}' to close the server block{where}")


# ---- tree to model -------------------------------------------------------------------


def _build(tree: Tree[LarkToken], emitted: list[Emitted], sources: list[Source], warnings: list[str]) -> Corefile:
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
    def __init__(self, emitted: list[Emitted]) -> None:
        self.emitted = emitted
        self.key_tokens: list[RawToken] = []

    def raw(self, token: LarkToken) -> RawToken:
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

    def _first_raw(self, node: Tree[LarkToken]) -> RawToken:
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


def _duplicate_key_errors(blocks: list[ServerBlock], key_tokens: list[RawToken]) -> list[ConfigError]:
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
