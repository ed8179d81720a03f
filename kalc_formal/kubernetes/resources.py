"""Domain stage: the typed resources of a cluster's DNS, as the cluster model holds them.

Workloads with their pod DNS, DNS servers, their Services and Corefile ConfigMaps,
NodeLocal DNSCache, autoscalers, Nodes, and the :class:`Cluster` that holds them all.
Built from manifests by kubernetes/cluster.py, one object at a time by
kubernetes/objects.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kalc_formal.kubernetes.autoscaling import AutoscalerParams, ScaleTarget
from kalc_formal.kubernetes.environment import ContainerEnv
from kalc_formal.kubernetes.kubedns import KubeDnsConfigMap
from kalc_formal.kubernetes.placement import Placement
from kalc_formal.kubernetes.podspec import Located, PodDns
from kalc_formal.kubernetes.rollout import RollingUpdate
from kalc_formal.source import Source, Span

__all__ = [
    "Cluster",
    "CorefileConfigMap",
    "DnsServer",
    "DnsService",
    "HorizontalPodAutoscaler",
    "MountedFile",
    "Node",
    "NodeLocalDns",
    "Note",
    "ProportionalAutoscaler",
    "ServicePort",
    "Workload",
    "choose_dns_service",
]


@dataclass(frozen=True, slots=True)
class Note:
    """Something the reader assumed or decided that the user should know."""

    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Workload:
    """Pods from one Pod or controller template, with their DNS settings.

    ``replicas`` is the pod count the manifest asks for: ``spec.replicas``
    (default 1), a Job's ``parallelism`` (default 1), a CronJob's job template
    ``parallelism``, 1 for a Pod; ``None`` with ``per_node`` for a DaemonSet,
    which runs one pod per eligible node. ``placement``: the hard scheduling rules
    that bound how many of its pods share a node.
    """

    kind: str
    name: str
    namespace: str
    namespace_defaulted: bool
    replicas: int | None
    per_node: bool
    replicas_span: Span
    replicas_defaulted: bool
    labels: Mapping[str, str] = field(hash=False)
    dns: PodDns
    images: tuple[Located[str], ...]
    owner: tuple[str, str] | None
    span: Span
    api_version: str = ""
    placement: Placement = field(default_factory=Placement)


@dataclass(frozen=True, slots=True)
class CorefileConfigMap:
    """A ConfigMap with a ``Corefile`` key; ``role`` is coredns or node-local-dns."""

    name: str
    namespace: str
    role: str
    corefile_source: Source
    span: Span


@dataclass(frozen=True)
class DnsServer:
    """A CoreDNS (or kube-dns) server workload.

    ``version`` is the CoreDNS version from the image tag (``v1.11.1`` and
    ``1.11.1-eksbuild.1`` give ``"1.11.1"``; ``latest`` gives None).
    ``anti_affinity`` and ``hostname_spread`` say whether replicas are kept on
    different nodes: required, preferred or none (pod anti-affinity and
    topology spread constraints on ``kubernetes.io/hostname`` that select the
    server's own pods).
    """

    workload: Workload
    software: str
    image: Located[str] | None
    version: str | None
    strategy: str
    rolling_update: RollingUpdate | None
    anti_affinity: str
    hostname_spread: str
    corefile_configmap: Located[str] | None
    corefile: CorefileConfigMap | None


@dataclass(frozen=True, slots=True)
class ServicePort:
    """One Service port; ``protocol`` defaults to TCP as in the API."""

    name: str | None
    port: int
    protocol: str
    span: Span


@dataclass(frozen=True)
class DnsService:
    """A Service in front of DNS servers (kube-dns, coredns, or one selecting them)."""

    name: str
    namespace: str
    cluster_ip: Located[str] | None
    cluster_ips: tuple[Located[str], ...]
    ports: tuple[ServicePort, ...]
    selector: Mapping[str, str] = field(hash=False)
    span: Span



@dataclass(frozen=True)
class MountedFile:
    """A file the CoreDNS container sees: ``directory``/``name``, from a ConfigMap key."""

    directory: str
    name: str
    source: Source


def choose_dns_service(services: Sequence[DnsService]) -> tuple[DnsService | None, str]:
    """The cluster DNS Service among those in front of the DNS servers, and why it was
    chosen: the one named kube-dns (the name the kubelet's clusterDNS is set from), else
    one with port 53; ties are broken by namespace and name, never by file order. A
    Service without a cluster IP, or without port 53 (a metrics Service), is not chosen."""
    with_ip = [s for s in services if s.cluster_ip is not None]
    by_name = sorted((s for s in with_ip if s.name == "kube-dns"),
                     key=lambda s: (s.namespace != "kube-system", s.namespace))
    if by_name:
        return by_name[0], f"Service {by_name[0].namespace}/kube-dns, chosen by its name"
    on_53 = sorted((s for s in with_ip if any(p.port == 53 for p in s.ports)),
                   key=lambda s: (s.namespace != "kube-system", s.namespace, s.name))
    if on_53:
        chosen = on_53[0]
        why = f"Service {chosen.namespace}/{chosen.name}, chosen as the one with port 53"
        if len(on_53) > 1:
            others = ", ".join(f"{s.namespace}/{s.name}" for s in on_53[1:])
            why += f" (first by namespace and name; also on port 53: {others})"
        return chosen, why
    return None, ""


@dataclass(frozen=True)
class NodeLocalDns:
    """A NodeLocal DNSCache DaemonSet (J1): node-cache on every node."""

    workload: Workload
    image: Located[str]
    local_ips: tuple[Located[str], ...]
    upstream_service: str | None
    args: tuple[str, ...]
    corefile_configmap: Located[str] | None
    corefile: CorefileConfigMap | None
    kube_dns_dir: str = "/etc/kube-dns"
    """Where node-cache reads the kube-dns ConfigMap: ``-kubednscm``, else /etc/kube-dns."""
    kube_dns_mount: Located[str] | None = None
    """The ConfigMap mounted at ``kube_dns_dir`` (the addon mounts kube-dns, optional)."""
    dns_port: int = 53
    """``-dns.port``: the port of the stub domain blocks node-cache writes."""
    env: ContainerEnv | None = None
    """The node-cache container's environment (what its Corefile's {$NAME} reads)."""


@dataclass(frozen=True, slots=True)
class HorizontalPodAutoscaler:
    """An HPA (autoscaling/v1, v2, v2beta*): its target and replica bounds."""

    name: str
    namespace: str
    target_kind: str
    target_name: str
    min_replicas: int
    min_defaulted: bool
    max_replicas: int
    span: Span
    max_span: Span | None = None
    """Where spec.maxReplicas is written."""


@dataclass(frozen=True)
class ProportionalAutoscaler:
    """A cluster-proportional-autoscaler (dns-autoscaler) deployment.

    ``params`` are those of its ConfigMap when the input has it, else its
    ``--default-params`` (which it writes to the ConfigMap when missing).
    """

    workload: Workload
    namespace: str
    targets: tuple[ScaleTarget, ...]
    configmap: str | None
    default_params: AutoscalerParams | None
    params: AutoscalerParams | None


@dataclass(frozen=True)
class Node:
    """A Node object: zone and instance type from its well-known labels; allocatable
    cpu, memory and pods (None where the object does not say)."""

    name: str
    labels: Mapping[str, str] = field(hash=False)
    zone: str | None
    instance_type: str | None
    unschedulable: bool
    allocatable_cpu_millis: int | None
    span: Span
    allocatable_memory_bytes: int | None = None
    allocatable_pods: int | None = None


@dataclass(frozen=True)
class Cluster:
    """What the manifests say about a cluster's DNS.

    ``workloads`` are the pod sources to count; ``owned_workloads`` are those
    whose controller is also in the input (a ReplicaSet of a Deployment, its
    Pods, a CronJob's Jobs), kept apart so that no pod is counted twice.
    ``ignored`` counts, by kind, the documents not relevant to DNS load
    (ConfigMaps and Services that are not DNS ones included), and ``notes``
    says what was assumed (such as the default namespace).
    """

    workloads: tuple[Workload, ...] = ()
    owned_workloads: tuple[Workload, ...] = ()
    dns_servers: tuple[DnsServer, ...] = ()
    dns_services: tuple[DnsService, ...] = ()
    corefile_configmaps: tuple[CorefileConfigMap, ...] = ()
    node_local_dns: tuple[NodeLocalDns, ...] = ()
    coredns_mounted_files: tuple[MountedFile, ...] = ()
    """Files the CoreDNS pod sees from ConfigMaps in the input, through its volume mounts
    (what a Corefile's ``import /etc/coredns/custom/*.override`` reads)."""
    horizontal_autoscalers: tuple[HorizontalPodAutoscaler, ...] = ()
    coredns_env: ContainerEnv | None = None
    """The CoreDNS container's environment (what its Corefile's {$NAME} reads)."""
    kube_dns_configmaps: tuple[KubeDnsConfigMap, ...] = ()
    """Legacy kube-dns ConfigMaps (stubDomains, upstreamNameservers)."""
    proportional_autoscalers: tuple[ProportionalAutoscaler, ...] = ()
    autoscaler_params: tuple[AutoscalerParams, ...] = ()
    nodes: tuple[Node, ...] = ()
    ignored: Mapping[str, int] = field(default_factory=dict, hash=False)
    notes: tuple[Note, ...] = ()

    @property
    def corefile_source(self) -> Source | None:
        """The CoreDNS Corefile: the one the DNS server mounts, else the only one.

        None when there is none, or when the choice is ambiguous (servers that
        mount different ConfigMaps, or several Corefile ConfigMaps and no server).
        """
        return _pick_corefile(
            [s.corefile for s in self.dns_servers], self.corefile_configmaps, "coredns"
        )

    @property
    def node_local_corefile_source(self) -> Source | None:
        """The NodeLocal DNSCache Corefile, chosen like :attr:`corefile_source`."""
        return _pick_corefile(
            [n.corefile for n in self.node_local_dns],
            self.corefile_configmaps,
            "node-local-dns",
        )

    @property
    def node_count(self) -> int | None:
        """The number of Node objects, or None when the input has none."""
        return len(self.nodes) if self.nodes else None


def _pick_corefile(
    mounted: Sequence[CorefileConfigMap | None],
    all_maps: Sequence[CorefileConfigMap],
    role: str,
) -> Source | None:
    chosen = {id(m): m for m in mounted if m is not None}
    if len(chosen) == 1:
        return next(iter(chosen.values())).corefile_source
    of_role = [m for m in all_maps if m.role == role]
    if not chosen and len(of_role) == 1:
        return of_role[0].corefile_source
    return None
