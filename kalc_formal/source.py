"""Input stage: source texts, 1-based positions in them, and excerpts for errors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based position in a file the user gave us."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


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
        lines = (self.file_text if self.file_text is not None else self.text).split("\n")
        if 1 <= file_line <= len(lines):
            return lines[file_line - 1].rstrip("\r")
        return ""


def excerpt(line_text: str, column: int) -> str:
    """The offending line and a caret under ``column`` (1-based), indented."""
    shown = line_text.replace("\t", " ").rstrip("\n")
    if len(shown) > 200:
        start = max(0, column - 100)
        shown = shown[start : start + 200]
        column -= start
    caret = " " * max(0, column - 1) + "^"
    return f"    {shown}\n    {caret}"
