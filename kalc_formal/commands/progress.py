"""Shell: a one-line progress display on stderr while a check solves.

Shown only when stderr is a terminal, and only once the solve has taken longer than
``after`` seconds: the phase, the depth it reached (step or k) and the time so far,
rewritten in place every ``every`` seconds and erased when the solve ends. The solver is
told nothing: it reports each phase and depth through ``at``, and a background thread
draws (Z3's queries release the interpreter, so the line moves during a long query).
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TextIO

SHOW_AFTER_SECONDS = 1.0
REDRAW_SECONDS = 0.25
ERASE = "\r\x1b[K"


class Progress:
    """A context manager; ``at`` is the solver's progress callback."""

    def __init__(self, stream: TextIO, *, enabled: bool = True, after: float = SHOW_AFTER_SECONDS,
                 every: float = REDRAW_SECONDS) -> None:
        self.stream = stream
        self.enabled = enabled and _is_terminal(stream)
        self.after = after
        self.every = every
        self.phase = "starting"
        self.depth: int | None = None
        self.shown = False
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def at(self, phase: str, depth: int | None = None) -> None:
        with self._lock:
            self.phase, self.depth = phase, depth

    def line(self) -> str:
        """What the display says now."""
        with self._lock:
            where = self.phase + (f" at depth {self.depth}" if self.depth is not None else "")
        return f"kalc-formal: solving: {where}, {time.monotonic() - self._start:.1f} s"

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        if self.enabled:
            self._thread = threading.Thread(target=self._draw, name="kalc-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.shown:
            self._write(ERASE)

    def _draw(self) -> None:
        if self._stop.wait(self.after):
            return
        while not self._stop.is_set():
            self._write(ERASE + self.line())
            self.shown = True
            self._stop.wait(self.every)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self._stop.set()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
