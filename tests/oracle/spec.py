"""What a generated cluster is: the single description both the files and the simulator come from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CacheSpec:
    """CoreDNS `cache` options (D1, D3, D4); None: the plugin's default."""

    ttl: int | None = 30
    """The bare `cache TTL` cap of both pools."""
    success_capacity: int | None = None
    denial_capacity: int | None = None
    success_min_ttl: int | None = None
    denial_min_ttl: int | None = None


@dataclass(frozen=True)
class WorkloadSpec:
    name: str
    namespace: str
    replicas: int
    label: str
    """Value of the `kf-class` pod label that a lookup selects."""
    daemonset: bool = False
    host_network: bool = False
    dns_policy: str = "ClusterFirst"
    ndots: int | None = None
    hpa_max: int | None = None
    anti_affinity: bool = False
    """required podAntiAffinity on kubernetes.io/hostname against its own pods: one per node."""


@dataclass(frozen=True)
class NameClass:
    id: str
    example: str
    count: int = 1
    ttl: int = 30
    negative_ttl: int = 60
    aaaa: bool = False

    def instances(self) -> list[str]:
        first, _, rest = self.example.partition(".")
        return [f"{first}{i}.{rest}" if self.count > 1 else self.example for i in range(self.count)]


@dataclass(frozen=True)
class LookupClass:
    label: str
    names: tuple[str, ...]
    rate: float
    surge_rate: float
    libc: str = "glibc"


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    nodes: int
    workloads: tuple[WorkloadSpec, ...]
    names: tuple[NameClass, ...]
    lookups: tuple[LookupClass, ...]
    version: str = "1.14.7"
    coredns_replicas: int = 2
    coredns_anti_affinity: bool = True
    cache: CacheSpec = field(default_factory=CacheSpec)
    autopath: bool = False
    kubernetes_ttl: int = 30
    nodelocal: bool = False
    node_search: tuple[str, ...] = ("ec2.internal",)
    node_nameserver: str = "10.0.0.2"
    limit: int = 1024
    scope: str = "node"
    skew: float = 0.1
    restarts: int = 0
    surge_max_steps: int | None = None
    horizon: int = 20
    initial_cache: str = "warm"
    max_pods_per_node: int = 110
    """The kubelet's maxPods default."""
    cluster_domain: str = "cluster.local"
    dns_ip: str = "10.100.0.10"
    capacity_qps: int | None = None
    """kalc.yaml `coredns.capacity_qps` (server-load); None: not given."""
    nodelocal_capacity_qps: int | None = None
    """kalc.yaml `nodelocal.capacity_qps` (server-load); None: not given."""

    @property
    def cache_before_autopath(self) -> bool:
        """B2/B3/K1: up to 1.14.6 cache runs before autopath; from 1.14.7 after."""
        parts = tuple(int(p) for p in self.version.split("."))
        return parts < (1, 14, 7)

    def name_class(self, class_id: str) -> NameClass:
        return next(n for n in self.names if n.id == class_id)
