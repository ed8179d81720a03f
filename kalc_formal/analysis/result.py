"""Static analysis: its result — the FlowModel plus what the report needs to explain it."""

from __future__ import annotations

from dataclasses import dataclass, field

from kalc_formal.analysis.ids import FlowKey, ServerKind
from kalc_formal.analysis.keyclasses import KeyInfo
from kalc_formal.analysis.podclasses import PodClass
from kalc_formal.config.settings import Assumption, CheckSettings
from kalc_formal.coredns.server import PluginRef, Unmodelled
from kalc_formal.model.flowmodel import FlowModel
from kalc_formal.source import Span


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """One pod class looking up one name class."""

    id: str
    pod_class: str
    namespaces: int
    pods_base: int
    pods_peak: int
    name_class: str
    names: int
    rate: float
    surge_rate: float
    libc: str
    server: ServerKind
    client_queries: tuple[str, ...]
    upstream_cold: int
    spans: tuple[Span, ...] = ()
    client_query_waits: tuple[tuple[int, int], ...] = ()
    """Per client query, the rounds of the lookup's queries it waits for before it is
    sent, and how many of them may wait for an upstream (0, 0: sent as the lookup
    starts; A and AAAA of one name are one round)."""
    slowest_exchanges: int = 0
    """The most upstream exchanges one of its client queries waits for, one after the
    other (an autopath walk's forwarded candidates), when every cache misses."""
    resend_seconds: float = 5.0
    """When the client re-sends a query that has no reply yet (glibc and Go: its
    timeout; musl: timeout / attempts, G9)."""


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A server group: ``server`` is who its replicas are (``FlowInfo.server`` of the
    flows it serves); the analysis always gives it."""

    id: str
    label: str
    replicas: int
    server: ServerKind = "coredns"


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    id: str
    label: str
    addresses: tuple[str, ...]
    limit_per_second: int
    kind: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything ``check`` decides on and explains."""

    model: FlowModel
    step_seconds: int
    horizon: int
    coredns_version: str
    flows: dict[str, FlowInfo]
    keys: dict[str, KeyInfo]
    groups: dict[str, GroupInfo]
    scopes: dict[str, ScopeInfo]
    assumptions: tuple[Assumption, ...]
    unmodelled: tuple[Unmodelled, ...] = ()
    plugins: dict[str, PluginRef] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    """Findings about the input the verdict should be read with (an upstream no query reaches)."""
    nothing_checked: str = ""
    """Why no upstream limit would be checked at all ('' when some is): not a proof."""
    nothing_checked_at: Span | None = None
    idle_lookups: tuple[tuple[str, Span | None], ...] = ()
    """kalc.yaml lookups that select no pods, and where they are."""
    settings: CheckSettings | None = None
    """The settings the analysis decided and ran with (None only in a hand-built Analysis)."""
    pod_classes: tuple[PodClass, ...] = ()
    """The pod classes the flows are of, as the analysis formed them."""

    def flow(self, pod_class: str, name: str) -> FlowInfo:
        """The flow of the pod class with id ``pod_class`` looking up name class ``name``."""
        return self.flows[FlowKey(pod_class, name).id]


def client_load(analysis: Analysis) -> dict[str, tuple[int, int]]:
    """Client queries per second reaching one replica of each group: (baseline, peak)."""
    model = analysis.model
    load: dict[str, tuple[int, int]] = {}
    for group in model.groups:
        base = peak = 0
        for flow in model.flows:
            info = analysis.flows[flow.id]
            if analysis.groups[group.id].server != info.server:
                continue
            queries = len(info.client_queries)
            base += queries * group.lookup_bounds(flow.id, flow.base)[1]
            peak += queries * group.lookup_bounds(flow.id, flow.peak)[1]
        load[group.id] = (base // analysis.step_seconds, peak // analysis.step_seconds)
    return load


__all__ = ["Analysis", "FlowInfo", "GroupInfo", "PluginRef", "ScopeInfo", "client_load"]
