"""Input stage: the errors kalc-formal raises for bad input and bad arguments."""

from __future__ import annotations

from collections.abc import Iterable

from kalc_formal.source import Source, Span, excerpt


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
        if self.span is None:
            return self.message
        head = f"{self.span}: {self.message}"
        if not self.line_text:
            return head
        return f"{head}\n{excerpt(self.line_text, self.span.column)}"


class ConfigErrors(KalcError, ValueError):
    """Several independent input errors, reported together."""

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        self.errors: tuple[ConfigError, ...] = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class InvalidArgument(KalcError, TypeError):
    """A bad command-line or API argument (not tied to a file position)."""
