"""The capacity pipeline: how far each growth parameter can move before the property
fails, found by searching over whole checks of the scaled cluster (doubling, then
halving the gap), never by a dense grid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kalc_formal.analysis.scaling import (
    WHOLE_NUMBERS,
    Edge,
    Parameter,
    Probe,
    current_value,
    scaled,
)
from kalc_formal.config.reading import Inputs
from kalc_formal.engine import (
    CheckOptions,
    analyse_inputs,
    check_property,
    input_settings,
)
from kalc_formal.model.flowmodel import Property
from kalc_formal.model.solve import Outcome, Verdict

MAX_FACTOR = 64.0
"""The largest multiplier tried; a parameter proved there is reported as 'at least'."""
MAX_NAMESPACES_FACTOR = 64
RELATIVE_PRECISION = 0.02
MAX_CHECKS = 20
"""Checks per parameter (each a whole check of the scaled cluster)."""
MAX_ROWS = 24
"""Rows of the first parameter a region has at most."""
MAX_RANGE_END = 10_000_000
"""The largest value a searched range may reach."""


Decide = Callable[[dict[Parameter, float]], Outcome]


def grower(inputs: Inputs, options: CheckOptions) -> Callable[[Mapping[Parameter, float]], Inputs]:
    """``inputs`` with some parameters set, the others as read."""
    settings = input_settings(inputs, horizon=options.horizon)

    def grow(values: Mapping[Parameter, float]) -> Inputs:
        return scaled(inputs, settings.names, settings.lookups, values)

    return grow


def decider(inputs: Inputs, options: CheckOptions, prop: Property = "upstream-limit") -> Decide:
    """Checks of ``prop`` in ``inputs`` with some parameters set, the others as read."""
    grow = grower(inputs, options)

    def decide(values: dict[Parameter, float]) -> Outcome:
        analysis = analyse_inputs(grow(values), horizon=options.horizon)
        return check_property(analysis, prop, rlimit=options.rlimit, budget=options.budget)

    return decide


def edges(
    inputs: Inputs, parameters: Sequence[Parameter], options: CheckOptions,
    prop: Property = "upstream-limit",
) -> list[Edge]:
    """Each parameter's edge for ``prop``, over the search's own range."""
    decide = decider(inputs, options, prop)
    return [edge_within(decide, inputs, parameter, None) for parameter in parameters]


def edge_within(
    decide: Decide, inputs: Inputs, parameter: Parameter, bounds: tuple[float, float] | None, *,
    fixed: Mapping[Parameter, float] | None = None, max_checks: int = MAX_CHECKS,
) -> Edge:
    """The edge along ``parameter`` from its value in ``inputs``: within ``bounds``
    (that value brought inside them), or over the search's own range when None."""
    current = current_value(inputs, parameter)
    if bounds is None:
        return edge(decide, parameter, current, fixed=dict(fixed or {}), low=None, high=None,
                    max_checks=max_checks)
    low, high = bounds
    return edge(decide, parameter, min(max(current, low), high), fixed=dict(fixed or {}),
                low=low, high=high, max_checks=max_checks)


def region(
    decide: Decide, inputs: Inputs, rows: tuple[Parameter, float, float], count: int,
    column: tuple[Parameter, float, float], *, max_checks: int = MAX_CHECKS,
) -> list[tuple[float, Edge]]:
    """The proved region over two parameters: for ``count`` values of the rows parameter
    spread over its range, the edge along the column parameter within its range."""
    rows_parameter, row_low, row_high = rows
    parameter, low, high = column
    return [
        (value, edge_within(decide, inputs, parameter, (low, high),
                            fixed={rows_parameter: value}, max_checks=max_checks))
        for value in row_values(rows_parameter, row_low, row_high, count)
    ]


def row_values(parameter: Parameter, low: float, high: float, count: int) -> list[float]:
    values = [low + (high - low) * index / (count - 1) for index in range(count)]
    if parameter in WHOLE_NUMBERS:
        return sorted({float(round(v)) for v in values})
    return values


def edge(
    decide: Decide, parameter: Parameter, current: float, *, fixed: dict[Parameter, float],
    low: float | None, high: float | None, max_checks: int = MAX_CHECKS,
) -> Edge:
    """The boundary of the proved region along ``parameter`` (others in ``fixed``),
    starting from ``current`` and within [low, high] when given, in at most
    ``max_checks`` checks."""
    whole = parameter in WHOLE_NUMBERS
    top = high if high is not None else (current * MAX_NAMESPACES_FACTOR if whole else MAX_FACTOR)
    bottom = low if low is not None else (1.0 if whole else 1.0 / MAX_FACTOR)
    search = _Search(decide, parameter, fixed, whole, max_checks)
    safe, beyond = search.bracket(min(max(current, bottom), top), bottom, top)
    while safe is not None and beyond is not None and search.more():
        if _converged(safe, beyond, whole):
            break
        middle = float(round((safe + beyond) / 2)) if whole else (safe + beyond) / 2
        if middle in (safe, beyond):
            break
        if search.proved(middle):
            safe = middle
        else:
            beyond = middle
    beyond_outcome = next((p.outcome for p in search.probes if p.value == beyond), None)
    exact = (
        safe is not None and beyond is not None and _converged(safe, beyond, whole)
        and beyond_outcome is not None and beyond_outcome.verdict is Verdict.UNSAFE
    )
    return Edge(parameter, current, safe, beyond, beyond_outcome, top, exact,
                tuple(search.probes))


class _Search:
    """Checks along one parameter, each value checked once."""

    def __init__(self, decide: Decide, parameter: Parameter, fixed: dict[Parameter, float],
                 whole: bool, max_checks: int) -> None:
        self.decide = decide
        self.max_checks = max_checks
        self.parameter = parameter
        self.fixed = fixed
        self.whole = whole
        self.probes: list[Probe] = []

    def more(self) -> bool:
        return len(self.probes) < self.max_checks

    def proved(self, value: float) -> bool:
        for earlier in self.probes:
            if earlier.value == value:
                return earlier.outcome.verdict is Verdict.PROVED
        outcome = self.decide({**self.fixed, self.parameter: value})
        self.probes.append(Probe(value, outcome))
        return outcome.verdict is Verdict.PROVED

    def bracket(self, start: float, bottom: float, top: float) -> tuple[float | None, float | None]:
        """A proved value and a larger one that is not, doubling up or halving down from
        ``start``; None on a side where the range ends first."""
        if self.proved(start):
            safe = value = start
            while value < top and self.more():
                value = self._rounded(min(top, value * 2))
                if not self.proved(value):
                    return safe, value
                safe = value
            return safe, None
        beyond = value = start
        while value > bottom and self.more():
            value = self._rounded(max(bottom, value / 2))
            if self.proved(value):
                return value, beyond
            beyond = value
        return None, beyond

    def _rounded(self, value: float) -> float:
        return float(round(value)) if self.whole else value


def _converged(safe: float, unsafe: float, whole: bool) -> bool:
    return unsafe - safe <= 1 if whole else unsafe / safe <= 1 + RELATIVE_PRECISION
