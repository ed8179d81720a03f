"""What ``kalc-formal inspect`` shows, as data: gathered by ``kalc_formal.inspect``,
rendered by ``views.inspection``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kalc_formal.config.settings import Assumption
from kalc_formal.coredns.corefile import ServerKey
from kalc_formal.coredns.plugins import (
    CacheConfig,
    CoverageStatus,
    ForwardConfig,
    PluginConfig,
)
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
    applied: tuple[tuple[str, str], ...] = ()
    """(setting, value) as CoreDNS applies them, defaults filled in: forward and cache."""


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


def applied_settings(plugin: PluginConfig) -> tuple[tuple[str, str], ...]:
    """A forward's or a cache's settings as CoreDNS applies them (E1-E8, D1-D9)."""
    if isinstance(plugin, ForwardConfig):
        return _forward(plugin)
    if isinstance(plugin, CacheConfig):
        return _cache(plugin)
    return ()


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _forward(forward: ForwardConfig) -> tuple[tuple[str, str], ...]:
    upstreams = ", ".join(
        f"{u.text} ({u.transport})" if u.transport != "dns" else u.text for u in forward.to
    )
    rows = [
        ("from", forward.from_zone),
        ("to", upstreams),
        ("except", ", ".join(forward.except_zones) or "-"),
        ("policy", forward.policy),
        ("max_fails", str(forward.max_fails)),
        ("health_check", _seconds(forward.health_check)),
        ("expire", _seconds(forward.expire)),
        ("read timeout", _seconds(forward.read_timeout)),
        ("transport", "tcp" if forward.force_tcp else "udp first" if forward.prefer_udp
         else "the client's"),
        ("max_concurrent", str(forward.max_concurrent) if forward.max_concurrent else "no cap"),
    ]
    if forward.max_connect_attempts is not None:
        rows.append(("max_connect_attempts", str(forward.max_connect_attempts)))
    return tuple(rows)


def _cache(cache: CacheConfig) -> tuple[tuple[str, str], ...]:
    rows = [
        ("zones", ", ".join(cache.zones)),
        ("success", f"{cache.success_capacity:,} entries ({cache.success_capacity_effective:,} "
         f"usable in 256 shards), TTL {cache.success_min_ttl:g}..{cache.success_max_ttl:g} s"),
        ("denial", f"{cache.denial_capacity:,} entries ({cache.denial_capacity_effective:,} "
         f"usable in 256 shards), TTL {cache.denial_min_ttl:g}..{cache.denial_max_ttl:g} s"),
        ("servfail", f"cached {cache.servfail_ttl:g} s"),
    ]
    if cache.prefetch_amount:
        rows.append(("prefetch", f"after {cache.prefetch_amount} hits in "
                     f"{cache.prefetch_duration:g} s, at {cache.prefetch_percentage}% of the TTL left"))
    if cache.serve_stale is not None:
        rows.append(("serve_stale", f"up to {cache.serve_stale:g} s, {cache.serve_stale_refresh}"))
    if cache.keepttl:
        rows.append(("keepttl", "yes"))
    for kind, zones in (("success off", cache.disable_success_zones),
                        ("denial off", cache.disable_denial_zones)):
        if zones:
            rows.append((kind, ", ".join(zones)))
    return tuple(rows)
