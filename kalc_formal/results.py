"""The results the Python API returns: typed, frozen, JSON-able values (a verdict is a
value, never an exception). ``kalc_formal.api`` builds them."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kalc_formal.analysis.changes import Movement
from kalc_formal.model.solve import Verdict


@dataclass(frozen=True, slots=True)
class PropertyResult:
    """The verdict on one property, and the report's sentence for it."""

    property: str
    verdict: Verdict
    text: str


@dataclass(frozen=True, slots=True)
class UpstreamCount:
    """Packets to one upstream scope in one step, and in the limit window ending there."""

    packets: int
    window: int
    limit: int
    over: bool


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a counterexample, replayed in the simulator (``t`` in seconds)."""

    t: int
    lookups: Mapping[str, int]
    restarted: tuple[str, ...]
    misses: Mapping[str, int]
    fills: Mapping[str, int]
    upstream: Mapping[str, UpstreamCount]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One link of the event chain: what happened at ``t`` (seconds), the config lines
    behind it (``at``, ``file:line:col``) and the reference facts."""

    t: int
    kind: str
    text: str
    at: tuple[str, ...]
    facts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Headroom:
    """For a proof: the most packets one limit window can carry (None: not computed)."""

    scope: str
    label: str
    addresses: tuple[str, ...]
    packets: int | None
    limit: int
    window_steps: int


@dataclass(frozen=True, slots=True)
class Assumption:
    """A setting the verdict used, its value and origin (``at``: ``file:line:col``);
    ``narrows``: it excludes runs the real system may have."""

    key: str
    value: str
    origin: str
    default: bool
    narrows: bool
    note: str
    at: str | None


@dataclass(frozen=True, slots=True)
class Unmodelled:
    """A plugin on a query's path whose effect is not modelled (the verdict is unknown)."""

    plugin: str
    reason: str
    at: str | None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :func:`check` decided: a value, never an exception.

    ``verdict`` is the worst over ``properties`` (today one, upstream-limit). For
    ``unsafe``: ``trace``, ``events`` and the ``surge`` (lookups above baseline;
    ``surge_minimal`` when confirmed smallest). For ``proved``: ``headroom``.
    ``report`` is the text ``kalc-formal check`` prints, ``to_json()`` its JSON.
    """

    verdict: Verdict
    properties: tuple[PropertyResult, ...]
    horizon: int
    step_seconds: int
    coredns_version: str
    reason: str
    warnings: tuple[str, ...]
    induction_depth: int | None
    trace: tuple[TraceStep, ...]
    events: tuple[TraceEvent, ...]
    surge: int | None
    surge_minimal: bool | None
    headroom: tuple[Headroom, ...]
    assumptions: tuple[Assumption, ...]
    unmodelled: tuple[Unmodelled, ...]
    sources: tuple[str, ...]
    overrides: tuple[str, ...]
    report: str = field(repr=False)
    _json: Mapping[str, Any] = field(repr=False)

    @property
    def ok(self) -> bool:
        """True for proved and safe-bounded."""
        return self.verdict in (Verdict.PROVED, Verdict.SAFE_BOUNDED)

    def summary(self) -> str:
        """The verdict, the event chain and trace table or the assumptions a proof rests
        on, and the headroom: the report without its reference tables."""
        head, _, _ = self.report.partition("\n\nLookups (what one lookup costs):")
        return head.rstrip("\n") + "\n"

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` object, with ``properties``, ``sources`` and
        ``overrides`` added (a fresh copy each call)."""
        data = copy.deepcopy(dict(self._json))
        data["properties"] = [
            {"property": p.property, "verdict": p.verdict.value, "text": p.text}
            for p in self.properties
        ]
        data["sources"] = list(self.sources)
        data["overrides"] = list(self.overrides)
        return data


@dataclass(frozen=True, slots=True)
class FactChange:
    """A value read from the inputs that differs between the two sides of a change
    (None: absent on that side), where each side has it, and whether the model reads it."""

    key: str
    before: str | None
    after: str | None
    before_at: str | None
    after_at: str | None
    seen: bool


@dataclass(frozen=True, slots=True)
class DiffResult:
    """What :func:`diff` found: the movement of the property across the change, both
    checks, and the facts that changed (those the model reads first).

    ``movement``: ``regression`` (not reachable before, reachable after), ``fix``,
    ``still-safe``, ``still-unsafe``, or ``unknown`` (a side has no verdict).
    ``report`` is the text ``kalc-formal diff`` prints.
    """

    movement: Movement
    before: CheckResult
    after: CheckResult
    changes: tuple[FactChange, ...]
    report: str = field(repr=False)
    server_load_movement: Movement | None = None
    """server-load's movement (None: neither side gives a capacity)."""
    overall: Movement | None = None
    """The worst movement over the properties (``kalc-formal diff`` exits on it)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "movement": self.movement.value,
            "overall_movement": (self.overall or self.movement).value,
            **({"server_load_movement": self.server_load_movement.value}
               if self.server_load_movement is not None else {}),
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "changes": [dataclasses.asdict(c) for c in self.changes],
        }


@dataclass(frozen=True, slots=True)
class CapacityCheck:
    """One check of the search: the parameter's value and the verdict there."""

    value: float
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class CapacityEdge:
    """How far one parameter can move with the property still proved.

    ``proved_up_to``: the largest value proved (None: not even the smallest tried);
    ``not_proved_at``: the smallest value above it found not proved (None: proved up to
    ``largest_tried``) and ``not_proved``, the check there (for ``unsafe``, its replayed
    counterexample: ``trace``, ``events``). ``exact``: the two are within 2% (factors)
    or next to each other (namespaces) and the far side is unsafe; otherwise
    ``proved_up_to`` is a lower bound (the checks ran out, Z3 gave up past it, or the
    range ended). ``checks``: every check run, in order. ``text``: the line
    ``kalc-formal capacity`` prints for it.
    """

    parameter: str
    current: float
    proved_up_to: float | None
    not_proved_at: float | None
    not_proved: CheckResult | None
    exact: bool
    largest_tried: float
    checks: tuple[CapacityCheck, ...]
    text: str
    _json: Mapping[str, Any] = field(repr=False)

    @property
    def lower_bound(self) -> bool:
        """True when ``proved_up_to`` is only a lower bound of the edge."""
        return not self.exact

    def to_json(self) -> dict[str, Any]:
        """The edge as ``kalc-formal capacity --format json`` prints it, with
        ``not_proved`` (the check's :meth:`CheckResult.to_json`, or None) added."""
        data = copy.deepcopy(dict(self._json))
        data["not_proved"] = self.not_proved.to_json() if self.not_proved is not None else None
        return data


@dataclass(frozen=True, slots=True)
class CapacityRow:
    """One row of a region: the first parameter's ``value``, the edge along the second."""

    value: float
    edge: CapacityEdge


@dataclass(frozen=True, slots=True)
class CapacityRegion:
    """The proved region over two parameters, one row per value of ``rows_parameter``."""

    rows_parameter: str
    parameter: str
    rows: tuple[CapacityRow, ...]


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """What :meth:`Cluster.capacity` found for ``property``: ``edges`` (one per parameter
    varied alone) or, with ``rows``, the ``region``. ``report`` is the text the command
    line prints; ``to_json()`` the ``--format json`` object (``edges``, or
    ``rows_parameter`` and ``rows``) with ``property``, ``sources`` and ``overrides``."""

    property: str
    edges: tuple[CapacityEdge, ...]
    region: CapacityRegion | None
    step_seconds: int
    sources: tuple[str, ...]
    overrides: tuple[str, ...]
    report: str = field(repr=False)

    def edge(self, parameter: str) -> CapacityEdge:
        """The edge along ``parameter`` (KeyError when it was not varied alone)."""
        for found in self.edges:
            if found.parameter == parameter:
                return found
        raise KeyError(parameter)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"property": self.property}
        if self.region is None:
            data["edges"] = [e.to_json() for e in self.edges]
        else:
            data["rows_parameter"] = self.region.rows_parameter
            data["rows"] = [{"value": r.value, **r.edge.to_json()} for r in self.region.rows]
        data["sources"] = list(self.sources)
        data["overrides"] = list(self.overrides)
        return data
