"""The capacity pipeline: how far each growth parameter can move before the property
fails, found by searching over whole checks of the scaled cluster (doubling, then
halving the gap), never by a dense grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kalc_formal.analysis.scaling import (
    WHOLE_NUMBERS,
    Edge,
    Parameter,
    Probe,
    current_value,
    scaled,
)
from kalc_formal.config.reading import Inputs
from kalc_formal.engine import CheckOptions, analyse_inputs, check, input_settings
from kalc_formal.model.solve import Outcome, Verdict

MAX_FACTOR = 64.0
"""The largest multiplier tried; a parameter proved there is reported as 'at least'."""
MAX_NAMESPACES_FACTOR = 64
RELATIVE_PRECISION = 0.02
MAX_CHECKS = 20
"""Checks per parameter (each a whole check of the scaled cluster)."""


Decide = Callable[[dict[Parameter, float]], Outcome]


def decider(inputs: Inputs, options: CheckOptions) -> Decide:
    """Checks of ``inputs`` with some parameters set, the others as read."""
    settings = input_settings(inputs, horizon=options.horizon)

    def decide(values: dict[Parameter, float]) -> Outcome:
        changed = scaled(inputs, settings.names, settings.lookups, values)
        analysis = analyse_inputs(changed, horizon=options.horizon)
        return check(analysis, rlimit=options.rlimit, budget=options.budget)

    return decide


def edges(inputs: Inputs, parameters: Sequence[Parameter], options: CheckOptions) -> list[Edge]:
    decide = decider(inputs, options)
    return [
        edge(decide, parameter, current_value(inputs, parameter),
             fixed={}, low=None, high=None)
        for parameter in parameters
    ]


def edge(
    decide: Decide, parameter: Parameter, current: float, *, fixed: dict[Parameter, float],
    low: float | None, high: float | None,
) -> Edge:
    """The boundary of the proved region along ``parameter`` (others in ``fixed``),
    starting from ``current`` and within [low, high] when given."""
    whole = parameter in WHOLE_NUMBERS
    top = high if high is not None else (current * MAX_NAMESPACES_FACTOR if whole else MAX_FACTOR)
    bottom = low if low is not None else (1.0 if whole else 1.0 / MAX_FACTOR)
    search = _Search(decide, parameter, fixed, whole)
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
                 whole: bool) -> None:
        self.decide = decide
        self.parameter = parameter
        self.fixed = fixed
        self.whole = whole
        self.probes: list[Probe] = []

    def more(self) -> bool:
        return len(self.probes) < MAX_CHECKS

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
