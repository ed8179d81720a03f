"""The two regression clusters of issue 6, rebuilt from its text."""

from __future__ import annotations

from tests.oracle.spec import (
    CacheSpec,
    ClusterSpec,
    LookupClass,
    NameClass,
    WorkloadSpec,
)


def denial_pool_overflow() -> ClusterSpec:
    """Issue 6 defect 1: a denial pool of 1,024 entries (256 shards of 4, D3) for about 2,300
    live keys: the per-namespace search names of 24 namespaces x 40 names (local NXDOMAINs,
    kept 30 s) crowd out the upstream NXDOMAIN/NODATA keys, which miss again and again."""
    namespaces = 24
    workloads = tuple(
        WorkloadSpec(name="api", namespace=f"team-{k:02d}", replicas=10, label="api")
        for k in range(namespaces))
    return ClusterSpec(
        name="denial-pool-overflow", nodes=6, workloads=workloads,
        names=(NameClass(id="ext", example="api.partner.example.com", count=40, ttl=30,
                         negative_ttl=60),),
        lookups=(LookupClass(label="api", names=("ext",), rate=0.12, surge_rate=0.12),),
        version="1.14.7", coredns_replicas=1, coredns_anti_affinity=True,
        cache=CacheSpec(ttl=30, denial_capacity=1024), limit=300, scope="node", skew=0.0,
        horizon=4, initial_cache="warm")


def crowded_node(nodelocal: bool = True) -> ClusterSpec:
    """Issue 6 defect 2: 240 hostNetwork pods (ClusterFirst falls back to Default, H1: they ask
    the node's nameservers directly, no cache) on 20 nodes with no hard spreading rule; an even
    spread gives 12 (13.2 with skew) per node, the scheduler may put 18 or more on one."""
    return ClusterSpec(
        name="crowded-node" + ("-nodelocal" if nodelocal else ""), nodes=20,
        workloads=(WorkloadSpec(name="agent", namespace="monitoring", replicas=240, label="agent",
                                host_network=True),),
        names=(NameClass(id="ext", example="ingest.vendor.example.com", count=1, ttl=30),),
        lookups=(LookupClass(label="agent", names=("ext",), rate=5.0, surge_rate=5.0),),
        version="1.14.7", coredns_replicas=2, nodelocal=nodelocal, limit=150, scope="node",
        skew=0.1, horizon=4, initial_cache="warm")
