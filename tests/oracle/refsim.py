"""An event-level reference simulator of a cluster's DNS, written from the sources' facts.

Small, slow and meant to be obviously right. Every rule names its fact
(shared/reference/coredns-and-resolvers.md). It shares no code with the counting
model; the client side is kalc_formal.clients.resolver (checked against real libraries).

Time is in seconds (floats). A run is driven by a Schedule: which pod sits on
which node, which replica serves each lookup, when each lookup starts, when the
busiest replica restarts, which entry a full cache shard evicts, and how long the
upstream takes to answer. The output is every upstream packet with its time, the
node whose interface sent it, and the sender (CoreDNS replica, node-local cache,
or client pod), and every client query with its time and the server it reaches.

Scope of this simulator (what it does not do): upstream outages and failures
(forward's re-sends, probes, clients' failure paths), prefetch, serve_stale,
Services answered by the kubernetes plugin (every name under the cluster zone is
a local NXDOMAIN), max_concurrent.
"""

from __future__ import annotations

import functools
import heapq
import random
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Literal

from kalc_formal.clients.resolvconf import (
    Libc,
    PodDNSConfig,
    ResolvConf,
    ResolvOption,
    pod_resolv_conf,
)
from kalc_formal.clients.resolver import ClientReply, simulate_lookup
from tests.oracle.spec import ClusterSpec, NameClass

Kind = Literal["ANSWER", "NODATA", "NXDOMAIN"]
Task = Generator[float, None, "Answer"]

SHARDS = 256
"""D3: each cache pool is 256 shards."""
DEFAULT_CAPACITY = 10000
"""D3: defaultCap."""


@dataclass(frozen=True, slots=True)
class Answer:
    kind: Kind
    ttl: int
    """The message TTL: the answer's TTL, or the SOA record's TTL for a negative answer (D5)."""


@dataclass(frozen=True, slots=True)
class ClientQuery:
    """One query a client pod sends to a DNS server: a CoreDNS replica (`coredns-R`, through
    the Service: K7) or a node-local cache (`nodelocal-N`, J1). Queries a node-local cache
    forwards to CoreDNS are not client queries."""

    time: float
    server: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class UpstreamPacket:
    time: float
    node: int
    sender: str
    qname: str
    qtype: str


# --- cache (D2-D6, D10) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolLimits:
    capacity: int
    max_ttl: int
    min_ttl: int

    @property
    def shard_size(self) -> int:
        """D3: capacity / 256 per shard, at least 4."""
        return max(4, self.capacity // SHARDS)

    def kept(self, ttl: int) -> int:
        """D4: min(max(TTL, MINTTL), MAXTTL) seconds."""
        return min(max(ttl, self.min_ttl), self.max_ttl)


VictimChooser = Callable[[dict[tuple[str, str], "Entry"], float, random.Random], tuple[str, str]]
ShardOf = Callable[[tuple[str, str]], int]


@dataclass(slots=True)
class Entry:
    stored: float
    expires: float
    answer: Answer


def fnv_shard(key: tuple[str, str]) -> int:
    """A real 64-bit FNV-1a hash of the key, low 8 bits (D2, D3: key & (shardSize-1))."""
    value = 0xCBF29CE484222325
    for byte in f"{key[1]}|{key[0].lower()}".encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value & (SHARDS - 1)


def random_victim(shard: dict[tuple[str, str], Entry], now: float, rng: random.Random) -> tuple[str, str]:
    """D3: Go's map iteration order: any entry of the shard."""
    return rng.choice(list(shard))


def live_victim(shard: dict[tuple[str, str], Entry], now: float, rng: random.Random) -> tuple[str, str]:
    """An adversary's pick among what D3 allows: a live entry (the one kept longest), else any."""
    live = [(e.expires, k) for k, e in shard.items() if e.expires > now]
    if live:
        return max(live)[1]
    return next(iter(shard))


class Pool:
    """One cache pool (success or denial): 256 shards of shard_size entries (D3)."""

    def __init__(self, limits: PoolLimits, shard_of: ShardOf, victim: VictimChooser, rng: random.Random):
        self.limits = limits
        self.shards: list[dict[tuple[str, str], Entry]] = [{} for _ in range(SHARDS)]
        self.shard_of = shard_of
        self.victim = victim
        self.rng = rng
        self.evictions = 0

    def get(self, key: tuple[str, str], now: float) -> Entry | None:
        """A hit while the remaining TTL, origTTL - whole seconds elapsed, is above 0 (D9)."""
        entry = self.shards[self.shard_of(key)].get(key)
        if entry is not None and now < entry.expires:
            return entry
        return None

    def add(self, key: tuple[str, str], now: float, answer: Answer) -> None:
        """D3: a full shard evicts an arbitrary entry unless the key is already there; expired
        entries stay until evicted or overwritten."""
        shard = self.shards[self.shard_of(key)]
        if len(shard) >= self.limits.shard_size and key not in shard:
            del shard[self.victim(shard, now, self.rng)]
            self.evictions += 1
        shard[key] = Entry(now, now + self.limits.kept(answer.ttl), answer)

    def clear(self) -> None:
        for shard in self.shards:
            shard.clear()

    def entries(self) -> Iterable[tuple[tuple[str, str], Entry]]:
        for shard in self.shards:
            yield from shard.items()


class Cache:
    """One cache plugin instance: positive and negative pools (D6)."""

    def __init__(self, success: PoolLimits, denial: PoolLimits, shard_of: ShardOf, victim: VictimChooser,
                 rng: random.Random):
        self.success = Pool(success, shard_of, victim, rng)
        self.denial = Pool(denial, shard_of, victim, rng)

    def get(self, key: tuple[str, str], now: float) -> Answer | None:
        for pool in (self.success, self.denial):
            entry = pool.get(key, now)
            if entry is not None:
                return entry.answer
        return None

    def add(self, key: tuple[str, str], now: float, answer: Answer) -> None:
        """D6: NOERROR with data to success; NXDOMAIN and NODATA (with SOA) to denial."""
        (self.success if answer.kind == "ANSWER" else self.denial).add(key, now, answer)

    def clear(self) -> None:
        self.success.clear()
        self.denial.clear()

    def expiries(self) -> list[float]:
        return [e.expires for pool in (self.success, self.denial) for _, e in pool.entries()]


# --- the cluster's parts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pod:
    id: str
    workload: str
    label: str
    namespace: str
    node: int
    host_network: bool
    path: Literal["coredns", "nodelocal", "direct"]
    conf: ResolvConf
    libc: Libc
    base: bool
    """Part of the baseline replicas (the others exist only at HPA peak)."""


@dataclass(frozen=True, slots=True)
class Placement:
    pod_nodes: dict[str, int]
    """Pod id -> node."""
    replica_nodes: tuple[int, ...]
    """CoreDNS replica -> node."""


@dataclass(frozen=True, slots=True)
class Lookup:
    time: float
    pod: str
    name: str
    replica: int
    """The CoreDNS replica kube-proxy sends it to (K7), when the pod's path is CoreDNS."""


@dataclass
class Schedule:
    placement: Placement
    lookups: list[Lookup] = field(default_factory=list)
    restarts: list[tuple[float, int]] = field(default_factory=list)
    reply_time: float = 0.02
    """Seconds from the upstream packet to its answer (issue 7: measured 1-20 ms)."""
    victim: VictimChooser = random_victim
    shard_of: ShardOf = fnv_shard
    seed: int = 0


# --- pods and their placement -------------------------------------------------------------------


def pods_of(spec: ClusterSpec, pod_nodes: dict[str, int] | None = None) -> list[Pod]:
    """Every pod of the client workloads at peak (HPA maxReplicas; DaemonSets one per node)."""
    pods: list[Pod] = []
    for w in spec.workloads:
        count = spec.nodes if w.daemonset else max(w.replicas, w.hpa_max or 0)
        lookup = next(lk for lk in spec.lookups if lk.label == w.label)
        libc = Libc(lookup.libc)
        for i in range(count):
            pod_id = f"{w.namespace}/{w.name}-{i}"
            node = (i if w.daemonset else (pod_nodes or {}).get(pod_id, 0))
            policy, host = w.dns_policy, w.host_network
            direct = policy == "Default" or (host and policy == "ClusterFirst")  # H1
            conf = pod_resolv_conf(
                dns_policy=policy, host_network=host, namespace=w.namespace,
                cluster_domain=spec.cluster_domain, cluster_dns=(spec.dns_ip,),
                node_resolv_conf=ResolvConf((spec.node_nameserver,), spec.node_search),
                dns_config=PodDNSConfig((), (), (ResolvOption("ndots", str(w.ndots)),))
                if w.ndots is not None else None,
            ).resolv_conf
            path: Literal["coredns", "nodelocal", "direct"] = (
                "direct" if direct else "nodelocal" if spec.nodelocal else "coredns")  # J1
            base = w.daemonset or i < w.replicas
            pods.append(Pod(pod_id, w.name, w.label, w.namespace, node, host, path, conf, libc, base))
    return pods


def _per_node_pods(spec: ClusterSpec) -> list[int]:
    """Pods every node holds before any client: one per DaemonSet and the node-local cache."""
    daemons = sum(1 for w in spec.workloads if w.daemonset) + (1 if spec.nodelocal else 0)
    return [daemons] * spec.nodes


def packed_placement(spec: ClusterSpec, pods_per_node: int | None = None) -> Placement:
    """As many pods on node 0 as the hard rules allow, then node 1, ...: required anti-affinity
    = one per node, DaemonSets one per node, the kubelet's maxPods (default 110); at most
    `pods_per_node` client pods per node when given."""
    used = _per_node_pods(spec)
    replica_nodes = _place_replicas(spec, used, packed=True, rng=None)
    pod_nodes: dict[str, int] = {}
    clients = [0] * spec.nodes
    for w in spec.workloads:
        if w.daemonset:
            continue
        count = max(w.replicas, w.hpa_max or 0)
        node = 0
        for i in range(count):
            while used[node] >= spec.max_pods_per_node or clients[node] >= (pods_per_node or spec.max_pods_per_node) or (
                    w.anti_affinity and any(pod_nodes.get(f"{w.namespace}/{w.name}-{j}") == node for j in range(i))):
                node += 1
                if node >= spec.nodes:
                    raise ValueError(f"{spec.name}: pods do not fit on {spec.nodes} nodes")
            pod_nodes[f"{w.namespace}/{w.name}-{i}"] = node
            used[node] += 1
            clients[node] += 1
            if w.anti_affinity:
                node = 0
    return Placement(pod_nodes, replica_nodes)


def even_placement(spec: ClusterSpec) -> Placement:
    """Pods dealt round-robin over the nodes, CoreDNS replicas one per node: the spread the
    checker assumes (a diagnosis, not a bound the rules enforce)."""
    pod_nodes: dict[str, int] = {}
    index = 0
    for w in spec.workloads:
        if w.daemonset:
            continue
        for i in range(max(w.replicas, w.hpa_max or 0)):
            pod_nodes[f"{w.namespace}/{w.name}-{i}"] = index % spec.nodes
            index += 1
    return Placement(pod_nodes, tuple(r % spec.nodes for r in range(spec.coredns_replicas)))


def random_placement(spec: ClusterSpec, rng: random.Random) -> Placement:
    used = _per_node_pods(spec)
    replica_nodes = _place_replicas(spec, used, packed=False, rng=rng)
    pod_nodes: dict[str, int] = {}
    for w in spec.workloads:
        if w.daemonset:
            continue
        taken: set[int] = set()
        for i in range(max(w.replicas, w.hpa_max or 0)):
            free = [n for n in range(spec.nodes)
                    if used[n] < spec.max_pods_per_node and not (w.anti_affinity and n in taken)]
            if not free:
                raise ValueError(f"{spec.name}: pods do not fit on {spec.nodes} nodes")
            node = rng.choice(free)
            pod_nodes[f"{w.namespace}/{w.name}-{i}"] = node
            used[node] += 1
            taken.add(node)
    return Placement(pod_nodes, replica_nodes)


def _place_replicas(spec: ClusterSpec, used: list[int], *, packed: bool, rng: random.Random | None) -> tuple[int, ...]:
    nodes: list[int] = []
    for r in range(spec.coredns_replicas):
        if spec.coredns_anti_affinity:
            choice = r % spec.nodes if packed or rng is None else rng.choice(
                [n for n in range(spec.nodes) if n not in nodes] or [0])
        else:
            choice = 0 if packed or rng is None else rng.randrange(spec.nodes)
        nodes.append(choice)
        used[choice] += 1
    return tuple(nodes)


def max_coredns_replicas_on_one_node(spec: ClusterSpec) -> int:
    return 1 if spec.coredns_anti_affinity else min(spec.coredns_replicas, spec.max_pods_per_node)


# --- the simulator -----------------------------------------------------------------------------------


class Simulator:
    """One run. `add_lookup` may be called between `run_until` calls (closed-loop adversaries)."""

    def __init__(self, spec: ClusterSpec, schedule: Schedule):
        self.spec = spec
        self.schedule = schedule
        self.rng = random.Random(schedule.seed)
        self.now = float("-inf")
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.sequence = 0
        self.packets: list[UpstreamPacket] = []
        self.client_queries: list[ClientQuery] = []
        self.lookup_queries: list[ClientQuery] = []
        """Per lookup: when it started, its server and how many queries it sends there."""
        self.pods = {p.id: p for p in pods_of(spec, schedule.placement.pod_nodes)}
        self.instances: dict[str, NameClass] = {
            name: cls for cls in spec.names for name in (i.rstrip(".") + "." for i in cls.instances())}
        self.replica_caches = [self._coredns_cache() for _ in schedule.placement.replica_nodes]
        self.nodelocal_caches = [(self._nodelocal_cluster_cache(), self._nodelocal_dot_cache())
                                 for _ in range(spec.nodes)] if spec.nodelocal else []
        self.scripts: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
        self.lookups_done = 0
        for when, replica in schedule.restarts:
            self._at(when, self.replica_caches[replica].clear)
        for lookup in schedule.lookups:
            self.add_lookup(lookup)

    # caches -----------------------------------------------------------------------------------------

    def _coredns_cache(self) -> Cache:
        c = self.spec.cache
        success = PoolLimits(c.success_capacity or DEFAULT_CAPACITY,
                             c.ttl if c.ttl is not None else 3600, c.success_min_ttl if c.success_min_ttl is not None else 5)
        denial = PoolLimits(c.denial_capacity or DEFAULT_CAPACITY,
                            c.ttl if c.ttl is not None else 1800, c.denial_min_ttl if c.denial_min_ttl is not None else 5)
        return Cache(success, denial, self.schedule.shard_of, self.schedule.victim, self.rng)

    def _nodelocal_cluster_cache(self) -> Cache:
        """J2: `success 9984 30`, `denial 9984 5`."""
        return Cache(PoolLimits(9984, 30, 5), PoolLimits(9984, 5, 5), self.schedule.shard_of,
                     self.schedule.victim, self.rng)

    def _nodelocal_dot_cache(self) -> Cache:
        """J2: `cache 30`."""
        return Cache(PoolLimits(DEFAULT_CAPACITY, 30, 5), PoolLimits(DEFAULT_CAPACITY, 30, 5),
                     self.schedule.shard_of, self.schedule.victim, self.rng)

    # event loop ---------------------------------------------------------------------------------------

    def _at(self, when: float, action: Callable[[], None]) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (when, self.sequence, action))

    def run_until(self, until: float) -> None:
        while self.queue and self.queue[0][0] < until:
            when, _, action = heapq.heappop(self.queue)
            self.now = when
            action()

    def run(self) -> list[UpstreamPacket]:
        self.run_until(float("inf"))
        return self.packets

    def _start(self, task: Task, done: Callable[[Answer], None]) -> None:
        """Run a server task now; it yields the seconds it waits (the upstream's reply time)."""
        try:
            delay = next(task)
        except StopIteration as stop:
            done(stop.value)
            return
        self._at(self.now + delay, lambda: self._resume(task, done))

    def _resume(self, task: Task, done: Callable[[Answer], None]) -> None:
        try:
            delay = task.send(None)
        except StopIteration as stop:
            done(stop.value)
            return
        self._at(self.now + delay, lambda: self._resume(task, done))

    # lookups (client side: H1-H5 via pod_resolv_conf, G1-G17 via simulate_lookup) ----------------

    def add_lookup(self, lookup: Lookup) -> None:
        self._at(lookup.time, lambda: self._lookup(lookup))

    def script(self, pod: Pod, name: str) -> list[tuple[str, tuple[str, ...]]]:
        """The candidate names the library asks, in order, each with its qtypes sent together (G4,
        G11, G14); the replies' content does not depend on caching, so it is computed once."""
        key = (pod.id if pod.path == "coredns" and self.spec.autopath else pod.conf.text + pod.libc.value, name)
        cached = self.scripts.get(key)
        if cached is not None:
            return cached
        replies = {"ANSWER": ClientReply.ANSWER, "NODATA": ClientReply.NODATA, "NXDOMAIN": ClientReply.NXDOMAIN}

        def reply(qname: str, qtype: str, nameserver: str) -> ClientReply:
            return replies[self.content(pod, qname, qtype)]

        trace = simulate_lookup(name, pod.conf, pod.libc, reply)
        groups: list[tuple[str, tuple[str, ...]]] = []
        for packet in trace.packets:
            if groups and groups[-1][0] == packet.qname:
                if packet.qtype not in groups[-1][1]:
                    groups[-1] = (packet.qname, groups[-1][1] + (packet.qtype,))
            else:
                groups.append((packet.qname, (packet.qtype,)))
        self.scripts[key] = groups
        return groups

    def _lookup(self, lookup: Lookup) -> None:
        pod = self.pods[lookup.pod]
        groups = self.script(pod, lookup.name)
        self.lookups_done += 1
        server = self.server_of(pod, lookup.replica)
        if server is not None:
            queries = sum(len(qtypes) for _, qtypes in groups)
            self.lookup_queries.append(ClientQuery(self.now, server, queries))
        self._group(pod, lookup.replica, groups, 0)

    def server_of(self, pod: Pod, replica: int) -> str | None:
        """The DNS server a pod's queries reach: its CoreDNS replica or its node's cache."""
        if pod.path == "coredns":
            return f"coredns-{replica}"
        if pod.path == "nodelocal":
            return f"nodelocal-{pod.node}"
        return None

    def _group(self, pod: Pod, replica: int, groups: list[tuple[str, tuple[str, ...]]], index: int) -> None:
        """One candidate: its queries in parallel; the next candidate when every reply is in."""
        if index >= len(groups):
            return
        qname, qtypes = groups[index]
        pending = [len(qtypes)]

        def done(_: Answer) -> None:
            pending[0] -= 1
            if pending[0] == 0:
                self._group(pod, replica, groups, index + 1)

        for qtype in qtypes:
            self._start(self.serve(pod, replica, qname, qtype), done)

    # server side -------------------------------------------------------------------------------------

    def serve(self, pod: Pod, replica: int, qname: str, qtype: str) -> Task:
        server = self.server_of(pod, replica)
        if server is not None:
            self.client_queries.append(ClientQuery(self.now, server))
        if pod.path == "direct":
            return self.upstream(pod.node, f"pod:{pod.id}" if not pod.host_network else f"node{pod.node}",
                                 qname, qtype)
        if pod.path == "nodelocal":
            return self.nodelocal(pod.node, qname, qtype)
        return self.coredns(replica, pod, qname, qtype)

    def in_cluster_zone(self, qname: str) -> bool:
        return qname.endswith("." + self.spec.cluster_domain + ".")

    def local_kubernetes(self) -> Task:
        """The kubernetes answer as a task that takes no time."""
        yield 0.0
        return self.kubernetes()

    def kubernetes(self) -> Answer:
        """C10, C11, F4: a local authoritative NXDOMAIN, SOA TTL min(ttl, 300) (no Services)."""
        return Answer("NXDOMAIN", min(self.spec.kubernetes_ttl, 300))

    def world(self, qname: str, qtype: str) -> Answer:
        """The upstream's answer: the external names exist (AAAA only with `aaaa`), anything else is
        NXDOMAIN; negative answers carry the name class's SOA TTL."""
        cls = self.instances.get(qname)
        if cls is not None:
            if qtype == "A" or cls.aaaa:
                return Answer("ANSWER", cls.ttl)
            return Answer("NODATA", cls.negative_ttl)
        for name, owner in self.instances.items():
            if qname.startswith(name):
                return Answer("NXDOMAIN", owner.negative_ttl)
        return Answer("NXDOMAIN", 60)

    def upstream(self, node: int, sender: str, qname: str, qtype: str) -> Task:
        """One exchange, one packet out from the node's interface (E5, E8); the answer comes
        `reply_time` later."""
        self.packets.append(UpstreamPacket(self.now, node, sender, qname, qtype))
        yield self.schedule.reply_time
        return self.world(qname, qtype)

    def backend(self, replica: int, qname: str, qtype: str) -> Task:
        """The plugins after cache/autopath: kubernetes for its zone (C10), forward for the rest
        (E2, E3: /etc/resolv.conf = the node's nameservers)."""
        if self.in_cluster_zone(qname):
            return self.kubernetes()
        return (yield from self.upstream(self.schedule.placement.replica_nodes[replica], f"coredns-{replica}",
                                         qname, qtype))

    def cached(self, cache: Cache, qname: str, qtype: str, miss: Callable[[], Task]) -> Task:
        """D2: key (qname, qtype); a miss calls the next plugin, identical misses are not merged
        (D10); the reply is stored when it comes back."""
        key = (qname.lower(), qtype)
        hit = cache.get(key, self.now)
        if hit is not None:
            return hit
        answer = yield from miss()
        cache.add(key, self.now, answer)
        return answer

    def search_path(self, pod: Pod) -> list[str] | None:
        """C3, C14: only a pod mapped by its own IP gets a path (not hostNetwork)."""
        if not self.spec.autopath or pod.host_network or pod.path != "coredns":
            return None
        zone = self.spec.cluster_domain
        return [f"{pod.namespace}.svc.{zone}", f"svc.{zone}", zone, *self.spec.node_search, ""]

    def walk_names(self, pod: Pod, qname: str) -> list[str] | None:
        """C4, C5: only a name under the first search element; base + each element."""
        path = self.search_path(pod)
        if path is None:
            return None
        first = path[0] + "."
        if not qname.endswith("." + first):
            return None
        base = qname[: -len(first) - 1]
        return [f"{base}.{s}." if s else f"{base}." for s in path]

    def walk(self, replica: int, names: list[str], qtype: str, through_cache: bool) -> Task:
        """C5-C7, C9: each element with the client's qtype, in order; stop at the first reply that
        is not NXDOMAIN; all NXDOMAIN: the first element's reply. Elements go through the cache
        only when autopath runs before it (>= 1.14.7, D8)."""
        first: Answer | None = None
        for name in names:
            if through_cache:
                answer = yield from self.cached(self.replica_caches[replica], name, qtype,
                                                functools.partial(self.backend, replica, name, qtype))
            else:
                answer = yield from self.backend(replica, name, qtype)
            if answer.kind != "NXDOMAIN":
                return answer
            first = first or answer
        assert first is not None
        return first

    def coredns(self, replica: int, pod: Pod, qname: str, qtype: str) -> Task:
        """B2, B3, K1: <= 1.14.6 cache before autopath (the synthesized answer is cached under the
        original name, the walk skips the cache: C5, D8); >= 1.14.7 autopath before cache."""
        names = self.walk_names(pod, qname)
        cache = self.replica_caches[replica]
        if self.spec.cache_before_autopath:
            def rest() -> Task:
                if names is not None:
                    return (yield from self.walk(replica, names, qtype, through_cache=False))
                return (yield from self.backend(replica, qname, qtype))
            return (yield from self.cached(cache, qname, qtype, rest))
        if names is not None:
            return (yield from self.walk(replica, names, qtype, through_cache=True))
        return (yield from self.cached(cache, qname, qtype, lambda: self.backend(replica, qname, qtype)))

    def nodelocal(self, node: int, qname: str, qtype: str) -> Task:
        """J1-J4: the node's cache; its cluster-zone block asks CoreDNS, which answers locally
        (no upstream packet); its `.` block forwards to the node's nameservers from this node."""
        cluster_cache, dot_cache = self.nodelocal_caches[node]
        if self.in_cluster_zone(qname):
            return (yield from self.cached(cluster_cache, qname, qtype, self.local_kubernetes))
        return (yield from self.cached(dot_cache, qname, qtype,
                                       lambda: self.upstream(node, f"nodelocal-{node}", qname, qtype)))

    # what the content of a reply is, without caches or time (for the client's script) ---------------

    def content(self, pod: Pod, qname: str, qtype: str) -> Kind:
        if pod.path == "coredns":
            names = self.walk_names(pod, qname)
            if names is not None:
                first: Kind | None = None
                for name in names:
                    kind = self._content_backend(name, qtype)
                    if kind != "NXDOMAIN":
                        return kind
                    first = first or kind
                assert first is not None
                return first
        return self._content_backend(qname, qtype)

    def _content_backend(self, qname: str, qtype: str) -> Kind:
        if self.in_cluster_zone(qname):
            return self.kubernetes().kind
        return self.world(qname, qtype).kind


# --- measuring -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peak:
    fixed: int
    """Most packets in one fixed second [k, k+1) of the horizon."""
    sliding: int
    """Most packets in any window [t, t+1) inside the horizon."""
    where: str


def peaks(packets: list[UpstreamPacket], scope: str, horizon: float) -> Peak:
    """Per scope (node: one interface, I1, I5; pod: one sender; cluster: all), the busiest group."""
    groups: dict[str, list[float]] = {}
    for p in packets:
        if 0 <= p.time < horizon:
            key = f"node{p.node}" if scope == "node" else p.sender if scope == "pod" else "cluster"
            groups.setdefault(key, []).append(p.time)
    return busiest(groups)


def server_load(queries: list[ClientQuery], server: str, horizon: float) -> Peak:
    """The busiest server of a kind (`coredns` replicas or `nodelocal` caches): the most client
    queries it receives in a fixed second and in any one-second window of the horizon."""
    groups: dict[str, list[float]] = {}
    for q in queries:
        if 0 <= q.time < horizon and q.server.startswith(server + "-"):
            groups.setdefault(q.server, []).append(q.time)
    return busiest(groups)


def step_load(lookups: list[ClientQuery], server: str, horizon: int) -> int:
    """The most client queries the lookups started in one step [k, k+1) send to one server of
    a kind, wherever the queries fall in time: what the checker counts in step k."""
    per_step: dict[tuple[str, int], int] = {}
    for q in lookups:
        if 0 <= q.time < horizon and q.server.startswith(server + "-"):
            key = (q.server, int(q.time))
            per_step[key] = per_step.get(key, 0) + q.count
    return max(per_step.values(), default=0)


def busiest(groups: dict[str, list[float]]) -> Peak:
    """The group with the most events in one fixed second [k, k+1), then in any [t, t+1)."""
    best = Peak(0, 0, "")
    for key, times in groups.items():
        times.sort()
        per_second: dict[int, int] = {}
        for t in times:
            per_second[int(t)] = per_second.get(int(t), 0) + 1
        fixed = max(per_second.values())
        sliding, j = 0, 0
        for i, t in enumerate(times):
            while j < len(times) and times[j] < t + 1.0:
                j += 1
            sliding = max(sliding, j - i)
        if (fixed, sliding) > (best.fixed, best.sliding):
            best = Peak(fixed, sliding, key)
    return best
