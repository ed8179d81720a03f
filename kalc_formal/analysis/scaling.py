"""Growth parameters: the same cluster with more lookups, pods, names or namespaces.

Each parameter is applied to what was read (kalc.yaml's lookups and names, the client
workloads and their autoscalers) before analysis, so a scaled cluster is analysed
exactly as a cluster written that way would be.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kalc_formal.analysis.podclasses import selected_clients
from kalc_formal.config.envspec import Given, LookupSpec, NameSpec
from kalc_formal.config.reading import Inputs
from kalc_formal.config.settings import DEFAULT_RATE
from kalc_formal.errors import InvalidArgument
from kalc_formal.model.solve import Outcome


class Parameter(StrEnum):
    SURGE = "surge"
    """Multiplies every lookup's peak rate (surge_rate), never below its baseline rate."""
    RATE = "rate"
    """Multiplies every lookup's baseline and peak rates."""
    PODS = "pods"
    """Multiplies the client workloads' replicas and their autoscalers' bounds."""
    NAMES = "names"
    """Multiplies the count of every external name class."""
    NAMESPACES = "namespaces"
    """The number of client namespaces: the client workloads repeated in new namespaces,
    or those of the first namespaces only."""


WHOLE_NUMBERS = frozenset({Parameter.NAMESPACES})

DESCRIPTIONS = {
    Parameter.SURGE: "x the configured peak lookup rate",
    Parameter.RATE: "x the configured lookup rates (baseline and peak)",
    Parameter.PODS: "x the client pods (replicas and autoscaler bounds)",
    Parameter.NAMES: "x the external names per name class",
    Parameter.NAMESPACES: "client namespaces",
}


def parse_parameter(text: str) -> Parameter:
    try:
        return Parameter(text)
    except ValueError:
        known = ", ".join(p.value for p in Parameter)
        raise InvalidArgument(f"unknown growth parameter {text[:40]!r}: one of {known}") from None


@dataclass(frozen=True, slots=True)
class Probe:
    """One scaled cluster's verdict."""

    value: float
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Edge:
    """How far one parameter can move with the property still proved.

    ``safe``: the largest value proved (None: not even the smallest tried);
    ``beyond``: the smallest value above it that is not proved, and its verdict
    (None: every value up to ``limit`` was proved); ``exact``: the two are next to each
    other (whole numbers) or within 2%, and ``beyond`` has a replayed counterexample —
    otherwise ``safe`` is a lower bound.
    """

    parameter: Parameter
    current: float
    safe: float | None
    beyond: float | None
    beyond_outcome: Outcome | None
    limit: float
    exact: bool
    probes: tuple[Probe, ...]


def current_value(inputs: Inputs, parameter: Parameter) -> float:
    if parameter is Parameter.NAMESPACES:
        return float(len(client_namespaces(inputs, ())))
    return 1.0


def client_namespaces(inputs: Inputs, lookups: Sequence[LookupSpec]) -> list[str]:
    return sorted({w.namespace for w in selected_clients(inputs, lookups or None)})


def scaled(
    inputs: Inputs, names: tuple[NameSpec, ...], lookups: tuple[LookupSpec, ...],
    values: Mapping[Parameter, float],
) -> Inputs:
    """``inputs`` with each parameter set; ``names`` and ``lookups`` are the ones the
    settings decided (kalc.yaml's, or the defaults)."""
    for parameter, value in values.items():
        if value <= 0 or not math.isfinite(value):
            raise InvalidArgument(f"{parameter.value} must be a positive number, not {value}")
    names = tuple(_scaled_name(n, values.get(Parameter.NAMES, 1.0)) for n in names)
    lookups = tuple(
        _scaled_lookup(lk, values.get(Parameter.RATE, 1.0), values.get(Parameter.SURGE, 1.0))
        for lk in lookups
    )
    env = dataclasses.replace(inputs.env, names=Given(names), lookups=Given(lookups))
    result = dataclasses.replace(inputs, env=env)
    if Parameter.PODS in values:
        result = _scaled_pods(result, lookups, values[Parameter.PODS])
    if Parameter.NAMESPACES in values:
        result = _namespaces(result, lookups, round(values[Parameter.NAMESPACES]))
    return result


def _scaled_name(name: NameSpec, factor: float) -> NameSpec:
    if name.service is not None or factor == 1.0:
        return name
    return dataclasses.replace(name, count=max(1, math.ceil((name.count or 1) * factor)))


def _scaled_lookup(lookup: LookupSpec, rate_factor: float, surge_factor: float) -> LookupSpec:
    rate = (lookup.rate if lookup.rate is not None else DEFAULT_RATE) * rate_factor
    surge = (lookup.surge_rate if lookup.surge_rate is not None else rate / rate_factor)
    return dataclasses.replace(lookup, rate=rate, surge_rate=max(rate, surge * rate_factor * surge_factor))


def _scaled_pods(inputs: Inputs, lookups: Sequence[LookupSpec], factor: float) -> Inputs:
    clients = {id(w) for w in selected_clients(inputs, lookups or None)}
    cluster = inputs.cluster
    workloads = tuple(
        dataclasses.replace(w, replicas=max(1, math.ceil(w.replicas * factor)))
        if id(w) in clients and w.replicas is not None and not w.per_node else w
        for w in cluster.workloads
    )
    targets = {(w.namespace, w.kind, w.name) for w in cluster.workloads if id(w) in clients}
    autoscalers = tuple(
        dataclasses.replace(h, min_replicas=max(1, math.ceil(h.min_replicas * factor)),
                            max_replicas=max(1, math.ceil(h.max_replicas * factor)))
        if (h.namespace, h.target_kind, h.target_name) in targets else h
        for h in cluster.horizontal_autoscalers
    )
    return dataclasses.replace(inputs, cluster=dataclasses.replace(
        cluster, workloads=workloads, horizontal_autoscalers=autoscalers))


def _namespaces(inputs: Inputs, lookups: Sequence[LookupSpec], count: int) -> Inputs:
    if any(lk.pods.namespaces for lk in lookups):
        raise InvalidArgument(
            "namespaces cannot be varied when kalc.yaml's lookups select namespaces by name"
        )
    clients = selected_clients(inputs, lookups or None)
    existing = sorted({w.namespace for w in clients})
    if not existing or count < 1:
        raise InvalidArgument("namespaces: there are no client namespaces to vary")
    chosen = {id(w) for w in clients}
    cluster = inputs.cluster
    kept = [w for w in cluster.workloads if id(w) not in chosen]
    hpas = [h for h in cluster.horizontal_autoscalers
            if not any(h.namespace == w.namespace for w in clients)]
    for index in range(count):
        source = existing[index % len(existing)]
        namespace = source if index < len(existing) else f"{source}-kf{index // len(existing)}"
        kept += [dataclasses.replace(w, namespace=namespace) for w in clients if w.namespace == source]
        hpas += [dataclasses.replace(h, namespace=namespace)
                 for h in cluster.horizontal_autoscalers if h.namespace == source]
    return dataclasses.replace(inputs, cluster=dataclasses.replace(
        cluster, workloads=tuple(kept), horizontal_autoscalers=tuple(hpas)))
