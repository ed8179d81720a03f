"""What a change to the inputs changes: the facts the model reads, compared side by side.

A fact is one value read from the inputs (a plugin option, a pod's DNS field, a
replica count, a kalc.yaml setting), with the line it was read from and whether the
model uses it. Two runs' facts are compared by key; a changed fact the model does not
use is listed apart, so that a reviewer sees what the verdict does not depend on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum

from kalc_formal.analysis.podclasses import selected_clients
from kalc_formal.analysis.result import Analysis
from kalc_formal.analysis.scaling import Edge
from kalc_formal.config.reading import Inputs, dns_workloads
from kalc_formal.coredns.plugins import CorefileConfig
from kalc_formal.model.solve import Outcome, Verdict
from kalc_formal.source import Span

MAX_VALUE_CHARS = 120
"""The most characters of one value shown; longer values are cut with '...'."""

_SKIPPED_FIELDS = frozenset({"span", "name", "owner", "api_version", "namespace_defaulted",
                             "replicas_defaulted", "policy_defaulted", "labels", "options"})
"""Positions, names already in the key, and raw option maps whose options are typed fields."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One value the inputs give, where it was read, and whether the model uses it."""

    key: str
    value: str
    at: Span | None
    seen: bool


@dataclass(frozen=True, slots=True)
class Change:
    """A fact present on one side only, or with different values on the two sides."""

    key: str
    before: Fact | None
    after: Fact | None

    @property
    def seen(self) -> bool:
        return any(f is not None and f.seen for f in (self.before, self.after))


class Movement(StrEnum):
    """What the change does to the property."""

    REGRESSION = "regression"
    """Not reachable before (proved or safe within the horizon), reachable after."""
    FIX = "fix"
    """Reachable before, not reachable after."""
    STILL_SAFE = "still-safe"
    STILL_UNSAFE = "still-unsafe"
    UNKNOWN = "unknown"
    """Either side is unknown: nothing is claimed about the change."""


_SAFE = (Verdict.PROVED, Verdict.SAFE_BOUNDED)


@dataclass(frozen=True, slots=True)
class Side:
    """One side of the change: what was read, and its verdict."""

    label: str
    analysis: Analysis
    outcome: Outcome
    facts: Mapping[str, Fact]
    """What the side's inputs give, by key (``facts``)."""
    edges: tuple[Edge, ...] = ()
    """How far each growth parameter can move (when asked for)."""
    server_load: Outcome | None = None
    """The server-load verdict, when kalc.yaml gives a capacity on this side."""


@dataclass(frozen=True, slots=True)
class Comparison:
    before: Side
    after: Side
    movement: Movement
    changes: tuple[Change, ...]

    @property
    def server_load_movement(self) -> Movement | None:
        """What the change does to server-load: None when neither side decides it, unknown
        when only one side does (no claim on the other)."""
        before, after = self.before.server_load, self.after.server_load
        if before is None and after is None:
            return None
        if before is None or after is None:
            return Movement.UNKNOWN
        return movement(before.verdict, after.verdict)

    @property
    def overall(self) -> Movement:
        """The change's worst movement over the properties: a regression of either is a
        regression; else unknown if either is unknown; else upstream-limit's."""
        found = [self.movement] + ([m] if (m := self.server_load_movement) is not None else [])
        for worst in (Movement.REGRESSION, Movement.UNKNOWN):
            if worst in found:
                return worst
        return self.movement

    @property
    def seen(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.seen)

    @property
    def ignored(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.seen)


def compare_sides(before: Side, after: Side) -> Comparison:
    """What the change from ``before`` to ``after`` does, and what it changed."""
    return Comparison(
        before, after, movement(before.outcome.verdict, after.outcome.verdict),
        tuple(compare(before.facts, after.facts)),
    )


def movement(before: Verdict, after: Verdict) -> Movement:
    if Verdict.UNKNOWN in (before, after):
        return Movement.UNKNOWN
    if before in _SAFE:
        return Movement.STILL_SAFE if after in _SAFE else Movement.REGRESSION
    return Movement.FIX if after in _SAFE else Movement.STILL_UNSAFE


def facts(inputs: Inputs, analysis: Analysis) -> dict[str, Fact]:
    """Every fact of one run, by key (keys are the same for the same thing on both sides)."""
    found: dict[str, Fact] = {}
    for fact in _all_facts(inputs, analysis):
        found.setdefault(fact.key, fact)
    return found


def compare(before: Mapping[str, Fact], after: Mapping[str, Fact]) -> list[Change]:
    """The facts that differ, in a stable order: the model's first, then by key."""
    changes = [
        Change(key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if _value(before.get(key)) != _value(after.get(key))
    ]
    whole = tuple(c.key + " " for c in changes if c.before is None or c.after is None)
    parts_of_whole = [c for c in changes if c.key.startswith(whole) and not c.key.endswith("]")]
    kept = [c for c in changes if c not in parts_of_whole]
    return sorted(kept, key=lambda c: (not c.seen, c.key))


def _value(fact: Fact | None) -> str | None:
    return None if fact is None else fact.value


def _all_facts(inputs: Inputs, analysis: Analysis) -> Iterator[Fact]:
    yield from _setting_facts(analysis)
    yield from _corefile_facts("coredns", inputs.config)
    yield from _corefile_facts("node-local-dns", inputs.nodelocal)
    yield from _workload_facts(inputs)
    yield from _autoscaler_facts(inputs)
    yield from _scope_facts(analysis)


def _setting_facts(analysis: Analysis) -> Iterator[Fact]:
    for assumption in analysis.assumptions:
        yield Fact(f"setting {assumption.key}", _shown(assumption.value), assumption.at, True)


def _scope_facts(analysis: Analysis) -> Iterator[Fact]:
    for scope in analysis.scopes.values():
        key = f"limit {scope.label} -> {', '.join(scope.addresses)}"
        yield Fact(key, f"{scope.limit_per_second:,}/s per {scope.kind}", scope.span, True)


def _corefile_facts(server: str, config: CorefileConfig | None) -> Iterator[Fact]:
    if config is None:
        return
    yield Fact(f"{server} plugin order", f"CoreDNS {config.order_version} order", None, True)
    for block in config.blocks:
        where = f"{server} {' '.join(k.text for k in block.keys)}"
        status = {c.directive_name: c.status for c in block.directives_coverage}
        chain = " -> ".join(p.name for p in block.plugins)
        at = block.keys[0].span if block.keys else None
        yield Fact(f"{where} chain", chain, at, True)
        seen_names: dict[str, int] = {}
        for plugin in block.plugins:
            index = seen_names.get(plugin.name, 0)
            seen_names[plugin.name] = index + 1
            label = f"{where} {plugin.name}" + (f"#{index + 1}" if index else "")
            seen = status.get(plugin.name, "modelled") != "ignored"
            yield Fact(label, "present", plugin.span, seen)
            yield from _flattened(label, plugin, plugin.span, seen)


def _workload_facts(inputs: Inputs) -> Iterator[Fact]:
    cluster = inputs.cluster
    servers = {id(w) for w in dns_workloads(cluster)}
    clients = {id(w) for w in selected_clients(inputs)}
    for workload in cluster.workloads:
        is_server = id(workload) in servers
        seen = is_server or id(workload) in clients
        label = f"{workload.kind}/{workload.namespace}/{workload.name}"
        yield Fact(label, "present", workload.span, seen)
        for fact in _flattened(label, workload, workload.span, seen):
            images = fact.key.startswith(f"{label} images")
            yield dataclasses.replace(fact, seen=is_server) if images else fact
    for server in cluster.dns_servers:
        if server.image is not None:
            label = f"{server.workload.kind}/{server.workload.namespace}/{server.workload.name}"
            yield Fact(f"{label} image", _shown(server.image.value), server.image.span, True)


def _autoscaler_facts(inputs: Inputs) -> Iterator[Fact]:
    for hpa in inputs.cluster.horizontal_autoscalers:
        label = f"HorizontalPodAutoscaler/{hpa.namespace}/{hpa.name}"
        target = f"{hpa.target_kind}/{hpa.target_name}"
        yield Fact(f"{label} target", target, hpa.span, True)
        yield Fact(f"{label} maxReplicas", str(hpa.max_replicas), hpa.span, True)
        yield Fact(f"{label} minReplicas", str(hpa.min_replicas), hpa.span, True)


def _flattened(prefix: str, value: object, at: Span | None, seen: bool) -> Iterator[Fact]:
    """One fact per leaf field of a (nested) dataclass; positions are taken from the
    nearest enclosing value that has one, and are not facts themselves."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        span = getattr(value, "span", None)
        here = span if isinstance(span, Span) else at
        if {f.name for f in dataclasses.fields(value)} == {"value", "span"}:
            yield from _flattened(prefix, value.value, here, seen)  # type: ignore[attr-defined]
            return
        for field in dataclasses.fields(value):
            inner = getattr(value, field.name)
            if field.name in _SKIPPED_FIELDS or isinstance(inner, Span) or _spans(inner):
                continue
            yield from _flattened(f"{prefix} {field.name}", inner, here, seen)
        return
    if isinstance(value, tuple) and value and all(_named(v) for v in value):
        for item in value:
            yield from _flattened(f"{prefix}[{item.name}]", item, at, seen)
        return
    if isinstance(value, tuple) and any(dataclasses.is_dataclass(v) for v in value):
        for index, item in enumerate(value):
            yield from _flattened(f"{prefix}[{index}]", item, at, seen)
        return
    yield Fact(prefix, _leaf_text(value), at, seen)


def _spans(value: object) -> bool:
    return isinstance(value, tuple) and bool(value) and all(isinstance(v, Span) for v in value)


def _named(value: object) -> bool:
    return dataclasses.is_dataclass(value) and isinstance(getattr(value, "name", None), str)


def _leaf_text(value: object) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_leaf_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_leaf_text(v)}" for k, v in sorted(value.items())) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _shown(repr(value))
    return _shown(str(value))


def _shown(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."
