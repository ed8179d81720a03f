"""The typed model of a Corefile: server blocks, their keys, directives and blocks."""

from __future__ import annotations

from dataclasses import dataclass, field

from kalc_formal.errors import ConfigError
from kalc_formal.source import Source, Span


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
                return ConfigError(message, span, source.line_text(span.line))
        return ConfigError(message, span)
