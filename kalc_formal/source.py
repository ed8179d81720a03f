"""Input stage: source texts, 1-based positions in them, and excerpts for errors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

MAX_SHOWN_CHARS = 200
"""The most characters of one piece of input text (a token, a name, a path) echoed."""


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based position in a file the user gave us."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{shown(self.path, limit=1000)}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Source:
    """A text to parse, and where its lines sit in the file that holds it.

    A Corefile inside a ConfigMap is a block scalar: its line ``n`` is line
    ``line_offset + n`` of the YAML file, indented by ``column_offset``.
    For a plain file both offsets are 0 and ``file_text`` is ``text``.

    >>> src = Source("Corefile", ". {\\n  whoami\\n}\\n")
    >>> str(src.span(2, 3))
    'Corefile:2:3'
    >>> src.line_text(2)
    '  whoami'
    """

    path: str
    text: str
    line_offset: int = 0
    column_offset: int = 0
    file_text: str | None = None

    def span(self, line: int, column: int) -> Span:
        """Map a 1-based position in ``text`` to the file that holds it."""
        return Span(self.path, line + self.line_offset, column + self.column_offset)

    def line_text(self, file_line: int) -> str:
        """The text of a 1-based line of the holding file ('' past its end)."""
        lines = _lines(self.file_text if self.file_text is not None else self.text)
        if 1 <= file_line <= len(lines):
            return lines[file_line - 1].rstrip("\r")
        return ""


@lru_cache(maxsize=16)
def _lines(text: str) -> tuple[str, ...]:
    """The lines of a text, split once however many errors point into it."""
    return tuple(text.split("\n"))


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0 or char in "\u2028\u2029\ufeff":
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def shown(text: str, *, limit: int = MAX_SHOWN_CHARS) -> str:
    """Text from the input, safe to echo on one line of a terminal or a report: control
    characters (ESC, BEL, NUL, newlines, ...) escaped as \\xNN, and at most
    ``limit`` characters of it, the cut said.

    >>> shown("shop\\nverdict: proved")
    'shop\\\\x0averdict: proved'
    >>> shown("x" * 300, limit=5)
    'xxxxx... (300 characters)'
    """
    cut = text[:limit]
    escaped = cut if cut.isprintable() else "".join(_escape_char(c) for c in cut)
    return escaped if len(text) <= limit else f"{escaped}... ({len(text):,} characters)"


def shown_lines(text: str) -> str:
    """A rendered multi-line text with every control character but newline and tab escaped
    (the last guard before output: what came from input must not drive the terminal)."""
    if all(c.isprintable() or c in "\n\t" for c in text):
        return text
    return "".join(c if c in "\n\t" else _escape_char(c) for c in text)


def excerpt(line_text: str, column: int) -> str:
    """The offending line and a caret under ``column`` (1-based), indented."""
    text = line_text.replace("\t", " ").rstrip("\n")
    if len(text) > MAX_SHOWN_CHARS:
        start = max(0, column - 100)
        text = text[start : start + MAX_SHOWN_CHARS]
        column -= start
    before = shown(text[: max(0, column - 1)], limit=MAX_SHOWN_CHARS)
    caret = " " * len(before) + "^"
    return f"    {shown(text, limit=MAX_SHOWN_CHARS)}\n    {caret}"
