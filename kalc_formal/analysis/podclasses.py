"""Static analysis: pods that behave alike, counted as classes.

A pod class is a set of workloads with the same DNS settings (policy, hostNetwork,
dnsConfig), the same lookups from kalc.yaml, and the same client library. Namespaces
enter as a count: a class stands for ``NS`` namespaces through one sentinel label,
except namespaces that a Service name of kalc.yaml points into, which keep their own
class (their answers differ).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kalc_formal.clients.resolvconf import PodDNSConfig, ResolvOption
from kalc_formal.config.envspec import LookupSpec, PodSelector
from kalc_formal.config.reading import Inputs, dns_workloads
from kalc_formal.kubernetes.cluster import (
    Cluster,
    DnsConfig,
    HorizontalPodAutoscaler,
    Node,
    Workload,
)
from kalc_formal.kubernetes.placement import NodeBound, eligible_nodes, pods_per_node
from kalc_formal.source import Span

DnsKey = tuple[str, bool, PodDNSConfig | None]


@dataclass(frozen=True, slots=True)
class PodClass:
    """Workloads that behave alike for DNS, counted."""

    id: str
    label: str
    namespace_label: str
    namespaces: tuple[str, ...]
    pods_base: int
    pods_peak: int
    pods_min_per_namespace: int
    pods_peak_max_per_namespace: int
    dns_policy: str
    host_network: bool
    dns_config: DnsConfig | None
    lookup: LookupSpec
    workloads: tuple[Workload, ...]
    workload_pods: tuple[int, ...] = ()

    @property
    def spans(self) -> tuple[Span, ...]:
        spans = [w.span for w in self.workloads[:3]]
        if self.dns_config is not None:
            spans.append(self.dns_config.span)
        if self.lookup.span is not None:
            spans.append(self.lookup.span)
        return tuple(spans)


def selected_clients(
    inputs: Inputs, lookups: Sequence[LookupSpec] | None = None
) -> list[Workload]:
    """The client workloads (a DNS server's own left out) that one of ``lookups``
    selects (default: kalc.yaml's); all of them when there are no lookups."""
    if lookups is None:
        lookups = inputs.env.lookups.value if inputs.env.lookups else ()
    servers = {id(w) for w in dns_workloads(inputs.cluster)}
    return [
        w for w in inputs.cluster.workloads
        if id(w) not in servers and (not lookups or any(selects(lk.pods, w) for lk in lookups))
    ]


def selects(selector: PodSelector, workload: Workload) -> bool:
    """True when a kalc.yaml pod selector picks this workload."""
    if selector.namespaces and workload.namespace not in selector.namespaces:
        return False
    if selector.workload is not None:
        kind, _, name = selector.workload.partition("/")
        if (kind.lower(), name) != (workload.kind.lower(), workload.name):
            return False
    return all(workload.labels.get(k) == v for k, v in selector.labels)


def pod_dns_config(config: DnsConfig | None) -> PodDNSConfig | None:
    """A pod's ``dnsConfig`` as the resolv.conf model takes it (H4), positions dropped."""
    if config is None:
        return None
    return PodDNSConfig(
        tuple(n.value for n in config.nameservers),
        tuple(s.value for s in config.searches),
        tuple(ResolvOption(o.name, o.value) for o in config.options),
    )


def _dns_key(workload: Workload) -> DnsKey:
    dns = workload.dns
    return (dns.policy.value, dns.host_network.value, pod_dns_config(dns.config))


HpaIndex = dict[tuple[str, str, str], list[HorizontalPodAutoscaler]]


def hpa_index(hpas: Sequence[HorizontalPodAutoscaler]) -> HpaIndex:
    """The autoscalers by (namespace, target kind, target name)."""
    index: HpaIndex = defaultdict(list)
    for hpa in hpas:
        index[(hpa.namespace, hpa.target_kind, hpa.target_name)].append(hpa)
    return index


def pod_counts(
    workload: Workload, nodes: int, hpas: HpaIndex, scale: bool
) -> tuple[int, int]:
    """Pods of a workload at baseline and at most (HPA maxReplicas during a surge)."""
    base = nodes if workload.per_node else (workload.replicas or 0)
    peak = base
    for hpa in hpas.get((workload.namespace, workload.kind, workload.name), ()):
        base = max(base, hpa.min_replicas)
        peak = max(base, hpa.max_replicas) if scale else base
    return base, peak


def pod_classes(
    cluster: Cluster,
    lookups: Sequence[LookupSpec],
    *,
    nodes: int,
    special_namespaces: Iterable[str],
    scale_to_hpa_max: bool,
    excluded: Iterable[Workload] = (),
) -> list[PodClass]:
    """Group the selected workloads of each lookup spec into pod classes."""
    special = set(special_namespaces)
    skip = {id(w) for w in excluded}
    hpas = hpa_index(cluster.horizontal_autoscalers)
    classes: list[PodClass] = []
    for lookup in lookups:
        groups: dict[tuple[DnsKey, str | None], list[Workload]] = defaultdict(list)
        for workload in cluster.workloads:
            if id(workload) in skip or not selects(lookup.pods, workload):
                continue
            namespace_key = workload.namespace if workload.namespace in special else None
            groups[(_dns_key(workload), namespace_key)].append(workload)
        for (_, namespace_key), members in sorted(groups.items(), key=lambda g: _order(g[1])):
            class_id = f"p{len(classes)}"
            classes.append(
                _pod_class(class_id, namespace_key, members, lookup, hpas, nodes,
                           scale_to_hpa_max)
            )
    return classes


def _order(members: list[Workload]) -> tuple[str, str, str]:
    first = members[0]
    return (first.namespace, first.kind, first.name)


def _pod_class(
    class_id: str, namespace_key: str | None, members: list[Workload],
    lookup: LookupSpec, hpas: HpaIndex, nodes: int, scale: bool,
) -> PodClass:
    per_namespace: dict[str, int] = defaultdict(int)
    peak_per_namespace: dict[str, int] = defaultdict(int)
    base = peak = 0
    most: list[int] = []
    for workload in members:
        low, high = pod_counts(workload, nodes, hpas, scale)
        base += low
        peak += high
        most.append(high)
        per_namespace[workload.namespace] += low
        peak_per_namespace[workload.namespace] += high
    namespaces = tuple(sorted(per_namespace))
    label_ns = namespace_key if namespace_key is not None else f"kf-ns-{class_id}"
    first = members[0]
    return PodClass(
        id=class_id,
        label=_label(namespaces, members),
        namespace_label=label_ns,
        namespaces=namespaces,
        pods_base=base,
        pods_peak=peak,
        pods_min_per_namespace=min(per_namespace.values()) if per_namespace else 0,
        pods_peak_max_per_namespace=max(peak_per_namespace.values(), default=0),
        dns_policy=first.dns.policy.value,
        host_network=first.dns.host_network.value,
        dns_config=first.dns.config,
        lookup=lookup,
        workloads=tuple(members),
        workload_pods=tuple(most),
    )


def _label(namespaces: tuple[str, ...], members: list[Workload]) -> str:
    counts = Counter(f"{w.kind}/{w.name}" for w in members)
    shown = [f"{name} x{n}" if n > 1 else name for name, n in counts.most_common(2)]
    workloads = ", ".join(shown) + (f", +{len(counts) - 2} more" if len(counts) > 2 else "")
    if len(namespaces) == 1:
        return f"pods of ns {namespaces[0]} ({workloads})"
    listed = ", ".join(namespaces[:3]) + (", ..." if len(namespaces) > 3 else "")
    return f"pods of {len(namespaces)} namespaces ({listed}; {workloads})"


def node_bound(
    pod_class: PodClass, *, nodes: int, node_objects: Sequence[Node], max_pods: NodeBound,
) -> NodeBound:
    """The most pods of the class on one node, and the rule or setting that bounds it.

    Each workload's own bound (``placement.pods_per_node``, narrowed by the lookup's
    ``max_per_node``), summed over the class; at most maxPods; at most what the nodes'
    allocatable cpu and memory hold at the pods' smallest requests (when every workload
    requests some and every Node object says).
    """
    labels = [n.labels for n in node_objects]
    lookup = pod_class.lookup
    narrowed = None
    if lookup.max_per_node is not None:
        narrowed = NodeBound(lookup.max_per_node, "lookups max_per_node", "kalc.yaml", lookup.span)
    bounds = [
        pods_per_node(
            workload.kind, pods, workload.placement,
            eligible_nodes=eligible_nodes(workload.placement, labels, nodes),
            workload_span=workload.span, narrowed=narrowed,
        )
        for workload, pods in zip(pod_class.workloads, pod_class.workload_pods, strict=True)
    ]
    total = sum(b.pods for b in bounds)
    binding = max(bounds, key=lambda b: b.pods, default=None)
    if binding is None:
        return NodeBound(0, "no pods", "manifests")
    summed = binding if len(bounds) == 1 else NodeBound(
        total, f"sum over {len(bounds)} workloads, the largest: {binding.reason}", binding.origin,
        binding.span,
    )
    candidates = [summed, max_pods, *_resource_bounds(pod_class, node_objects)]
    return min(candidates, key=lambda b: b.pods)


def _resource_bounds(pod_class: PodClass, node_objects: Sequence[Node]) -> list[NodeBound]:
    if not node_objects:
        return []
    result = []
    span = pod_class.workloads[0].span
    for what, request, allocatable in (
        ("cpu", [w.placement.cpu_millis for w in pod_class.workloads],
         [n.allocatable_cpu_millis for n in node_objects]),
        ("memory", [w.placement.memory_bytes for w in pod_class.workloads],
         [n.allocatable_memory_bytes for n in node_objects]),
    ):
        if min(request) <= 0 or None in allocatable:
            continue
        largest = max(a for a in allocatable if a is not None)
        result.append(NodeBound(
            largest // min(request),
            f"{what} requests vs the largest node's allocatable {what}", "manifests", span,
        ))
    return result


def lookups_per_step(pods: int, rate: float, names: int, step: int, *, up: bool) -> int:
    """Lookups of a name class by ``pods`` pods in one step, rounded down or up."""
    exact = pods * rate * names * step
    return math.ceil(exact - 1e-9) if up else math.floor(exact + 1e-9)
