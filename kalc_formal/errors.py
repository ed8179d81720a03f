"""Input stage: the errors kalc-formal raises for bad input and bad arguments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kalc_formal.source import Source, Span, excerpt, shown

MAX_MESSAGE_CHARS = 1000
"""The most characters of one error message printed (input text inside it is capped
shorter, by ``source.shown``)."""
MAX_ERRORS_SHOWN = 50
"""Errors printed at most; the rest are counted."""


class KalcError(Exception):
    """Base of every error kalc-formal raises on purpose."""


class ConfigError(KalcError, ValueError):
    """Bad input at a position: printed as ``path:line:col: message`` + the line."""

    def __init__(self, message: str, span: Span | None = None, line_text: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.line_text = line_text

    @classmethod
    def at(cls, source: Source, line: int, column: int, message: str) -> ConfigError:
        """An error at a 1-based position of ``source.text``."""
        span = source.span(line, column)
        return cls(message, span, source.line_text(span.line))

    def __str__(self) -> str:
        message = shown(self.message, limit=MAX_MESSAGE_CHARS)
        if self.span is None:
            return message
        head = f"{self.span}: {message}"
        if not self.line_text:
            return head
        return f"{head}\n{excerpt(self.line_text, self.span.column)}"

    def as_json(self) -> dict[str, Any]:
        """``{path, line, col, message}``; the position fields are None when unknown."""
        span = self.span
        return {
            "path": span.path if span else None,
            "line": span.line if span else None,
            "col": span.column if span else None,
            "message": shown(self.message, limit=MAX_MESSAGE_CHARS),
        }


class ConfigErrors(KalcError, ValueError):
    """Several independent input errors, reported together."""

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        self.errors: tuple[ConfigError, ...] = tuple(errors)
        super().__init__(f"{len(self.errors)} input error(s)")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors[:MAX_ERRORS_SHOWN]) + _more(len(self.errors))


def _more(count: int) -> str:
    if count <= MAX_ERRORS_SHOWN:
        return ""
    return f"\n... and {count - MAX_ERRORS_SHOWN:,} more error(s) ({count:,} in all)"


def error_list(error: KalcError) -> list[ConfigError]:
    """The positioned errors inside ``error`` (one unpositioned entry for any other)."""
    if isinstance(error, ConfigErrors):
        return list(error.errors)
    if isinstance(error, ConfigError):
        return [error]
    return [ConfigError(str(error))]


class InvalidArgument(KalcError, TypeError):
    """A bad command-line or API argument (not tied to a file position)."""
