"""Report stage: a plain-ASCII bar chart of upstream packets per step against a limit.

One row per step, or per bucket of consecutive steps when the trace is long (then each
figure is the most of the bucket's steps, so a spike is never hidden). The bar shows
what the limit counts: the packets of the limit's window that ends at the step, the
step's own as ``#`` and those of the earlier steps in its window as ``=``; ``|`` marks
the limit on every row. Scaling never draws a value over the limit inside the marker
nor one within the limit past it.
"""

from __future__ import annotations

import math
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

DEFAULT_WIDTH = 80
"""Columns when the output is not a terminal (CI logs, files, pipes): stable output."""
MIN_WIDTH = 40
MAX_WIDTH = 200
MIN_BAR = 10
"""The fewest bar cells a row gets, however narrow the terminal."""
MAX_ROWS = 20
"""More steps than this are shown in buckets of consecutive steps."""
STEP, EARLIER, LIMIT = "#", "=", "|"


@dataclass(frozen=True, slots=True)
class Point:
    """One step: its time in seconds, the cluster's lookups, the packets of the step and
    of the limit's window that ends with it (``window >= packets``)."""

    t: int
    lookups: int
    packets: int
    window: int


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the chart: one step, or the most of each figure in a bucket of steps;
    ``earlier``: the packets of the earlier steps in the window of the row's bar."""

    label: str
    lookups: int
    packets: int
    window: int
    earlier: int


def terminal_width(stream: TextIO | None = None) -> int:
    """The terminal's columns (within 40..200) when ``stream`` (stdout) is one, else 80."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return DEFAULT_WIDTH
    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def bucket_size(steps: int, max_rows: int = MAX_ROWS) -> int:
    """Steps per row: 1 up to ``max_rows`` steps, else the fewest that fit."""
    return max(1, math.ceil(steps / max_rows))


def rows(points: Sequence[Point], size: int) -> list[Row]:
    """The rows of ``points`` in buckets of ``size`` steps; each figure is the most of
    its bucket, and the bar's split is the one of the step whose window is the largest."""
    result = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        peak = max(bucket, key=lambda p: p.window)
        first, last = bucket[0].t, bucket[-1].t
        result.append(Row(
            f"{first}" if first == last else f"{first}..{last}",
            max(p.lookups for p in bucket), max(p.packets for p in bucket), peak.window,
            peak.window - peak.packets,
        ))
    return result


@dataclass(frozen=True, slots=True)
class Scale:
    """Packets to bar cells: ``cells`` cells stand for ``top`` packets; the limit's
    marker stands after ``at_limit`` cells."""

    limit: int
    top: int
    cells: int
    at_limit: int

    @classmethod
    def of(cls, limit: int, highest: int, cells: int) -> Scale:
        top = max(limit, highest, 1)
        at_limit = _rounded(limit * cells, top)
        if highest > limit:
            at_limit = min(at_limit, cells - 1)
        return cls(limit, top, cells, at_limit)

    def length(self, value: int) -> int:
        """Cells for ``value``: past the marker exactly when over the limit, at least
        one when not zero, more for more."""
        raw = _rounded(value * self.cells, self.top)
        if value > self.limit:
            return min(self.cells, max(raw, self.at_limit + 1))
        return min(max(raw, 1 if value > 0 else 0), self.at_limit)

    def bar(self, window: int, earlier: int) -> str:
        """The bar of a window of ``window`` packets, ``earlier`` of them from earlier
        steps, with the limit's marker."""
        total = self.length(window)
        before = _rounded(earlier * self.cells, self.top)
        if earlier > 0:
            before = max(before, 1)
        if window > earlier:
            before = min(before, total - 1)
        before = max(0, min(before, total))
        cells = [EARLIER if i < before else STEP if i < total else " " for i in range(total)]
        cells += [" "] * max(0, self.at_limit - total)
        return ("".join(cells[: self.at_limit]) + LIMIT + "".join(cells[self.at_limit :])).rstrip()


def _rounded(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, in integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def chart(
    points: Sequence[Point], limit: int, *, width: int, windowed: bool,
    max_rows: int = MAX_ROWS,
) -> list[str]:
    """The chart's lines (column heads, one line per row, the legend), at most ``width``
    columns unless that leaves the bar fewer than ``MIN_BAR`` cells. ``windowed``: the
    limit counts more than one step, so the window's packets have a column of their own."""
    size = bucket_size(len(points), max_rows)
    shown = rows(points, size)
    heads = ["t (s)", "lookups", "packets"] + (["window"] if windowed else [])
    columns = [
        [row.label, f"{row.lookups:,}", f"{row.packets:,}"]
        + ([f"{row.window:,}"] if windowed else [])
        for row in shown
    ]
    widths = [max(len(head), *(len(c[i]) for c in columns)) for i, head in enumerate(heads)]
    indent = "  "
    prefix = len(indent) + sum(widths) + 2 * len(widths)
    scale = Scale.of(limit, max(row.window for row in shown), max(MIN_BAR, width - prefix - 1))
    lines = [indent + "  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)).rstrip()]
    for row, cells in zip(shown, columns, strict=True):
        figures = "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
        lines.append(f"{indent}{figures}  {scale.bar(row.window, row.earlier)}")
    legend = [f"{STEP} the step's packets"]
    if windowed:
        legend.append(f"{EARLIER} the earlier steps' in its window")
    legend.append(f"{LIMIT} the limit ({limit:,})")
    if size > 1:
        legend.append(f"each row holds {size} steps, each figure the most of them")
    lines += textwrap.wrap(", ".join(legend), width=max(width, MIN_WIDTH), initial_indent=indent,
                           subsequent_indent=indent + "  ", break_on_hyphens=False)
    return lines
