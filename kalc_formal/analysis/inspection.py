"""What ``kalc-formal inspect`` shows, as data: gathered by ``kalc_formal.inspect``,
rendered by ``views.inspection``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kalc_formal.config.settings import Assumption
from kalc_formal.coredns.corefile import ServerKey
from kalc_formal.coredns.plugins import CoverageStatus
from kalc_formal.kubernetes.cluster import Workload
from kalc_formal.source import Span

NameKind = Literal["short service", "service.namespace", "external", "FQDN", "kalc.yaml"]

NOT_MODELLED = "not modelled: "
"""How a model notice about a place the model does not cover begins."""


@dataclass(frozen=True, slots=True)
class PluginView:
    """One plugin of a server block, at its place in the execution order."""

    name: str
    span: Span
    status: CoverageStatus
    reason: str


@dataclass(frozen=True, slots=True)
class BlockView:
    """One server block: ``server`` is "coredns" or "node-local"."""

    server: str
    keys: tuple[ServerKey, ...]
    serves_pods: bool
    """True when a key listens for plain DNS on port 53, where pods send queries."""
    plugins: tuple[PluginView, ...]


@dataclass(frozen=True, slots=True)
class PodClassView:
    """A pod class as ``check`` forms it, with the resolv.conf its pods get."""

    id: str
    label: str
    namespaces: tuple[str, ...]
    workloads: tuple[Workload, ...]
    dns_policy: str
    dns_policy_defaulted: bool
    host_network: bool
    libc: str
    pods_base: int
    pods_peak: int
    resolv_conf: str
    resolv_conf_namespace: str
    """The namespace the resolv.conf above is written for (the class's first)."""
    kubelet_warnings: tuple[str, ...]
    assumed: bool


@dataclass(frozen=True, slots=True)
class LookupCost:
    """One lookup (A and AAAA) of one name by the pods of a class.

    ``namespaces`` is the part of the class this applies to: all of it, unless
    the class's namespaces differ in cost (then one LookupCost per part).
    """

    pod_class: str
    namespaces: tuple[str, ...]
    kind: NameKind
    name: str
    name_id: str | None
    via: str
    queries: tuple[str, ...]
    upstream_cold: int
    """Upstream packets the queries cause when every cache misses."""


@dataclass(frozen=True, slots=True)
class DirectiveCoverage:
    server: str
    block: str
    directive: str
    span: Span
    status: CoverageStatus
    reason: str


@dataclass(frozen=True, slots=True)
class FieldCoverage:
    """One pod DNS field of a class (positions of its first workload)."""

    pod_class: str
    field: str
    value: str
    span: Span | None
    status: CoverageStatus
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning or note; ``source`` says who raised it."""

    source: str
    message: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Inspection:
    """Everything ``kalc-formal inspect`` shows."""

    coredns_version: str
    version_origin: str
    order_version: str
    corefile_path: str | None
    env_path: str | None
    workload_count: int
    ignored_kinds: dict[str, int]
    blocks: tuple[BlockView, ...]
    pod_classes: tuple[PodClassView, ...]
    costs: tuple[LookupCost, ...] | None
    directive_coverage: tuple[DirectiveCoverage, ...]
    field_coverage: tuple[FieldCoverage, ...]
    assumptions: tuple[Assumption, ...]
    notices: tuple[Notice, ...]
