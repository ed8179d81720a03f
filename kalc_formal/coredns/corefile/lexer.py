"""Lexing a Corefile into tokens (A1-A6), and environment references (A14)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from lark import Lark

from kalc_formal.coredns.corefile import limits
from kalc_formal.errors import ConfigError
from kalc_formal.source import Source, Span

# Go's unicode.IsSpace (A1); Python's str.isspace() also accepts \x1c-\x1f.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


@cache
def _token_lexer() -> Lark:
    return Lark.open_from_package(
        "kalc_formal.coredns", "corefile.lark", ("grammars",),
        parser="lalr", lexer="basic", start="raw_tokens",
    )


@dataclass(frozen=True, slots=True)
class RawToken:
    """A token as CoreDNS's parser holds it: text, file and starting line."""

    text: str
    line: int
    column: int
    quoted: bool
    source: Source
    file_key: str

    def with_text(self, text: str) -> RawToken:
        return RawToken(text, self.line, self.column, self.quoted, self.source, self.file_key)

    @property
    def span(self) -> Span:
        return self.source.span(self.line, self.column)

    def error(self, message: str) -> ConfigError:
        span = self.span
        return ConfigError(message, span, self.source.line_text(span.line))


class LexCount(Protocol):
    """Where one parse counts the tokens it has lexed, across the files it imports."""

    tokens_lexed: int


def lex(source: Source, file_key: str, context: LexCount) -> list[RawToken]:
    """The tokens of ``source.text`` (caddyfile lexer.go), at most what is left of
    limits.MAX_TOKENS for the whole parse: a ConfigError at the first token over it."""
    text = source.text
    if text.startswith("\ufeff"):  # A5: a leading byte-order mark is discarded
        text = " " + text[1:]
    tokens = []
    for lark_token in _token_lexer().lex(text):
        context.tokens_lexed += 1
        if context.tokens_lexed > limits.MAX_TOKENS:
            line, column = lark_token.line or 1, lark_token.column or 1
            span = source.span(line, column)
            raise ConfigError(
                f"the Corefile and its imports hold more than {limits.MAX_TOKENS:,} tokens; not read further",
                span, source.line_text(span.line),
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
        tokens.append(RawToken(value, line, column, quoted, source, file_key))
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


def env_references(text: str) -> list[str]:
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
        if len(text) > limits.MAX_TOKEN_CHARS:
            raise ValueError(f"environment expansion is longer than {limits.MAX_TOKEN_CHARS} characters")
    raise ValueError("environment expansion does not terminate")
