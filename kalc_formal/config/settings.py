"""Settings: every value the analysis uses, decided once before it starts, with its origin.

A value comes from the command line, kalc.yaml, the manifests, the Corefile or a
default; every one is recorded as an ``Assumption`` so the report can say which defaults
it used and which values narrow what the real system may do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Generic, Literal, TypeVar

from kalc_formal.clients.resolvconf import ResolvConf
from kalc_formal.config.envspec import (
    ArrivalsKind,
    EnvSpec,
    Given,
    InitialCache,
    LibcName,
    LookupSpec,
    NameSpec,
    PodSelector,
    ShardBalance,
    UpstreamSpec,
)
from kalc_formal.kubernetes.cluster import Cluster, DnsServer, choose_dns_service
from kalc_formal.kubernetes.placement import (
    DEFAULT_MAX_PODS,
    NodeBound,
    eligible_nodes,
    pods_per_node,
)
from kalc_formal.source import Span

Origin = Literal["command line", "kalc.yaml", "manifests", "Corefile", "default"]

DEFAULT_REPLICAS = 2
DEFAULT_SKEW = 0.1
"""K7: kube-proxy's imbalance between replicas, assumed."""
DEFAULT_RESTARTS = 0
DEFAULT_DOMAIN = "cluster.local"
DEFAULT_NODES = 1
DEFAULT_DNS_IP = "10.96.0.10"
DEFAULT_UPSTREAM_LIMIT = 1024
"""I1: AWS, 1024 packets per second per network interface to the VPC resolver."""
DEFAULT_NODE_NAMESERVER = "169.254.169.253"
"""The AWS VPC resolver's link-local address (the VPC base + 2 also works, I1)."""
DEFAULT_STEP = 1
DEFAULT_HORIZON = 60
DEFAULT_INITIAL_CACHE: InitialCache = "warm"
DEFAULT_ARRIVALS: ArrivalsKind = "any"
DEFAULT_BURST = 2
DEFAULT_REPLY_MS = 20
"""The longest upstream delay measured against real CoreDNS."""
DEFAULT_SHARD_BALANCE: ShardBalance = "any"
DEFAULT_RATE = 0.1
"""Lookups per second per pod per name at baseline."""
DEFAULT_LIBC: LibcName = "glibc"
DEFAULT_EXTERNAL_TTL = 30
DEFAULT_NEGATIVE_TTL = 60
DEFAULT_EXTERNAL_EXAMPLE = "api.example.com"
DEFAULT_EXTERNAL_COUNT = 10

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Assumption:
    """One setting, its value, and where the value came from (``at``: the line).

    ``narrows``: the value excludes runs the real system may have, so a proof holds
    only where it is true of the cluster.
    """

    key: str
    value: str
    origin: Origin
    note: str = ""
    at: Span | None = None
    narrows: bool = False


@dataclass(frozen=True, slots=True)
class Found(Generic[T_co]):
    """A candidate value of a setting: where it comes from, None when that place is silent."""

    origin: Origin
    value: T_co | None
    at: Span | None = None


def from_file(given: Given[T] | None) -> Found[T]:
    """kalc.yaml's value of a setting, at its line."""
    if given is None:
        return Found("kalc.yaml", None)
    return Found("kalc.yaml", given.value, given.span)


def _never(_value: object) -> bool:
    return False


@dataclass(slots=True)
class Recorder:
    """Collects the settings used, in the order they were decided."""

    assumptions: list[Assumption] = field(default_factory=list)

    def take(
        self, key: str, candidates: Sequence[Found[T]], default: T, note: str = "",
        *, narrows: Callable[[T], bool] = _never,
    ) -> T:
        """The first candidate that is not None, else ``default``; recorded either way,
        flagged where ``narrows`` says the value excludes runs of the real system."""
        for candidate in candidates:
            if candidate.value is not None:
                self.note(key, candidate.value, candidate.origin, note, candidate.at,
                          narrows=narrows(candidate.value))
                return candidate.value
        self.note(key, default, "default", note, narrows=narrows(default))
        return default

    def note(
        self, key: str, value: object, origin: Origin, note: str = "", at: Span | None = None,
        *, narrows: bool = False,
    ) -> None:
        self.assumptions.append(Assumption(key, _show(value), origin, note, at, narrows))

    def defaults(self) -> list[Assumption]:
        return [a for a in self.assumptions if a.origin == "default"]

    def last(self) -> Assumption:
        return self.assumptions[-1]


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True, slots=True)
class Arrivals:
    """An assumption on when a step's queries arrive: no window of the upstream's
    reply time holds more than ``burst`` times its even share of a key's queries."""

    burst: Fraction
    reply_seconds: Fraction


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Every setting of one check (``analyse``) or inspection, decided once.

    Not the resolver's settings (``clients.resolvconf.ResolverSettings``).
    """

    version: str
    replicas: int
    replicas_per_node: int
    max_pods: NodeBound
    skew: Fraction
    restarts: int
    rollout: bool
    unavailable: int
    domain: str
    nodes: int
    dns_ip: str
    node_search: tuple[str, ...]
    node_nameservers: tuple[str, ...]
    upstreams: tuple[UpstreamSpec, ...]
    names: tuple[NameSpec, ...]
    lookups: tuple[LookupSpec, ...]
    step: int
    horizon: int
    initial_cache: InitialCache
    surge_steps: int | None
    scale_to_hpa_max: bool
    arrivals: Arrivals | None
    shard_balance: ShardBalance
    recorder: Recorder
    capacity_qps: int | None = None
    """Client queries per second one CoreDNS replica serves (server-load); None: no claim."""
    nodelocal_capacity_qps: int | None = None
    """The same for one NodeLocal DNSCache."""

    @property
    def node_resolv_conf(self) -> ResolvConf:
        return ResolvConf(self.node_nameservers, self.node_search)


def _capacity(record: Recorder, key: str, given: Given[int] | None, note: str) -> int | None:
    """A server's capacity, recorded when kalc.yaml gives one (absent: no claim is made)."""
    if given is None:
        return None
    return record.take(key, [from_file(given)], given.value, note)


def decide_settings(
    cluster: Cluster, env: EnvSpec, *, version: str, version_origin: Origin,
    horizon: int | None, kubernetes_zone: Callable[[], str | None],
) -> CheckSettings:
    """Take each setting from the command line, kalc.yaml, the manifests or a default."""
    record = Recorder()
    coredns = env.coredns
    servers = [s for s in cluster.dns_servers if s.software == "coredns"]
    server = servers[0] if servers else None
    record.note("coredns.version", version, version_origin, "plugin order: B2, B3")
    replicas = record.take(
        "coredns.replicas",
        [from_file(coredns.replicas),
         Found("manifests", server.workload.replicas if server else None)],
        DEFAULT_REPLICAS, "each replica has its own cache, D13",
    )
    rollout = record.take("coredns.rollout", [from_file(coredns.rollout)], False)
    unavailable = _unavailable(server, replicas, record) if rollout else 0
    restarts = record.take(
        "coredns.restarts", [from_file(coredns.restarts)], DEFAULT_RESTARTS,
        "cold restarts of the busiest replica within the horizon",
    ) + (1 if rollout else 0)
    dns_service, dns_service_why = choose_dns_service(cluster.dns_services)
    domain = record.take(
        "cluster.domain",
        [from_file(env.cluster.domain), Found("Corefile", kubernetes_zone())],
        DEFAULT_DOMAIN, "the kubernetes plugin's zone (F1)",
    )
    nodes = record.take(
        "cluster.nodes",
        [from_file(env.cluster.nodes), Found("manifests", len(cluster.nodes) or None)],
        DEFAULT_NODES,
    )
    max_pods = _max_pods(cluster, env, record)
    replicas_per_node = _replicas_per_node(
        cluster, server, coredns.replicas_per_node, replicas, nodes, max_pods, record,
    )
    skew = record.take(
        "coredns.skew", [from_file(coredns.skew)], DEFAULT_SKEW,
        "kube-proxy imbalance between replicas, K7: no replica gets more than "
        "(1 + skew) / replicas of any name's queries",
        narrows=lambda _value: True,
    )
    dns_ip = record.take(
        "cluster.dns_ip",
        [from_file(env.cluster.dns_ip),
         Found("manifests", dns_service.cluster_ip.value
               if dns_service and dns_service.cluster_ip else None)],
        DEFAULT_DNS_IP, dns_service_why,
    )
    node_search = record.take(
        "cluster.node_search", [from_file(env.cluster.node_search)], (),
        "search domains the node adds to pods (H2) and CoreDNS's autopath reads (C3)",
    )
    node_nameservers = record.take(
        "cluster.node_nameservers", [from_file(env.cluster.node_nameservers)],
        (DEFAULT_NODE_NAMESERVER,), "what `forward . /etc/resolv.conf` sends to, E3",
    )
    upstreams = _upstreams(env, record)
    names = _names(env, record)
    check = env.check
    step = record.take("check.step", [from_file(check.step)], DEFAULT_STEP, "seconds")
    chosen_horizon = record.take(
        "check.horizon", [Found("command line", horizon), from_file(check.horizon)],
        DEFAULT_HORIZON, "steps",
    )
    initial_cache = record.take(
        "check.initial_cache", [from_file(check.initial_cache)], DEFAULT_INITIAL_CACHE,
    )
    surge_steps = record.take(
        "surge.max_steps", [from_file(env.surge.max_steps)], None,
        "steps with demand above baseline (none: no limit)",
    )
    scale_to_hpa_max = record.take(
        "surge.scale_to_hpa_max", [from_file(env.surge.scale_to_hpa_max)], True,
    )
    arrivals = _arrivals(env, record)
    shard_balance = record.take(
        "coredns.shard_balance", [from_file(coredns.shard_balance)], DEFAULT_SHARD_BALANCE,
        "any: keys may share one of the cache's 256 shards, so a pool that holds more "
        "keys than one shard evicts before it is full (D3); even: an assumption",
        narrows=lambda value: value != "any",
    )
    return CheckSettings(
        version=version,
        replicas=replicas,
        replicas_per_node=replicas_per_node,
        max_pods=max_pods,
        skew=Fraction(str(skew)),
        restarts=restarts,
        rollout=rollout,
        unavailable=unavailable,
        domain=domain.rstrip(".") or DEFAULT_DOMAIN,
        nodes=nodes,
        dns_ip=dns_ip,
        node_search=tuple(node_search),
        node_nameservers=tuple(node_nameservers),
        upstreams=upstreams,
        names=names,
        lookups=_lookups(env, names, record),
        step=step,
        horizon=chosen_horizon,
        initial_cache=initial_cache,
        surge_steps=surge_steps,
        scale_to_hpa_max=scale_to_hpa_max,
        arrivals=arrivals,
        shard_balance=shard_balance,
        recorder=record,
        capacity_qps=_capacity(record, "coredns.capacity_qps", coredns.capacity_qps,
                               "client queries per second one CoreDNS replica serves: server-load"),
        nodelocal_capacity_qps=_capacity(
            record, "nodelocal.capacity_qps", env.nodelocal.capacity_qps,
            "client queries per second one NodeLocal DNSCache serves: server-load",
        ),
    )


def _unavailable(server: DnsServer | None, replicas: int, record: Recorder) -> int:
    """Replicas down during a rollout: the Deployment's maxUnavailable, else a quarter;
    at least one replica stays up."""
    update = server.rolling_update if server else None
    resolved = update.resolved_unavailable if update else None
    unavailable = record.take(
        "coredns.max_unavailable", [Found("manifests", resolved)], max(1, replicas // 4),
        "replicas down during the rollout",
    )
    return min(unavailable, replicas - 1)


def _arrivals(env: EnvSpec, record: Recorder) -> Arrivals | None:
    check = env.check
    arrivals = record.take(
        "check.arrivals", [from_file(check.arrivals)], DEFAULT_ARRIVALS,
        "any: a step's queries may arrive at any moment, so every query for a key whose "
        "answer is still on its way misses too (D10, measured on real CoreDNS); "
        "spread: an assumption",
        narrows=lambda value: value != "any",
    )
    if arrivals != "spread":
        return None
    burst: float = record.take(
        "check.burst", [from_file(check.burst)], DEFAULT_BURST,
        "assumption: one reply time holds at most this many times its even share of a "
        "key's queries",
        narrows=lambda _value: True,
    )
    reply_ms: float = record.take(
        "check.reply_ms", [from_file(check.reply_ms)], DEFAULT_REPLY_MS,
        "assumption: the upstream's longest reply time",
        narrows=lambda _value: True,
    )
    return Arrivals(Fraction(str(burst)), Fraction(str(reply_ms)) / 1000)


def _max_pods(cluster: Cluster, env: EnvSpec, record: Recorder) -> NodeBound:
    """The kubelet's maxPods: kalc.yaml, else the Node objects' largest allocatable pods."""
    given = env.cluster.max_pods_per_node
    counts = [n.allocatable_pods for n in cluster.nodes]
    from_nodes = max(c for c in counts if c is not None) if counts and None not in counts else None
    node_span = cluster.nodes[0].span if cluster.nodes else None
    value = record.take(
        "cluster.max_pods_per_node",
        [from_file(given), Found("manifests", from_nodes, node_span)],
        DEFAULT_MAX_PODS, "pods the kubelet runs on one node (maxPods)",
        narrows=lambda _value: given is not None,
    )
    taken = record.last()
    if taken.origin == "kalc.yaml":
        return NodeBound(value, "cluster.max_pods_per_node", "kalc.yaml", taken.at)
    if taken.origin == "manifests":
        return NodeBound(value, "the Node objects' status.allocatable.pods", "manifests",
                         taken.at)
    return NodeBound(value, f"kubelet maxPods default {DEFAULT_MAX_PODS}", "default")


def _replicas_per_node(
    cluster: Cluster, server: DnsServer | None, given: Given[int] | None, replicas: int,
    nodes: int, max_pods: NodeBound, record: Recorder,
) -> int:
    """The most CoreDNS replicas on one node: kalc.yaml, else what the Deployment's hard
    rules and maxPods allow (all replicas when nothing keeps them apart)."""
    note = "CoreDNS replicas sharing one node's network interface"
    if given is not None:
        record.note("coredns.replicas_per_node", given.value, "kalc.yaml", note, given.span,
                    narrows=True)
        return given.value
    if server is None:
        value = min(replicas, max_pods.pods)
        record.note("coredns.replicas_per_node", value, "default",
                    note + "; no CoreDNS Deployment read: all replicas may share one node")
        return value
    workload = server.workload
    bound = pods_per_node(
        workload.kind, replicas, workload.placement,
        eligible_nodes=eligible_nodes(workload.placement, [n.labels for n in cluster.nodes], nodes),
        workload_span=workload.span,
    )
    if max_pods.pods < bound.pods:
        bound = max_pods
    record.note("coredns.replicas_per_node", bound.pods, bound.origin, f"{note}: {bound.reason}",
                bound.span)
    return bound.pods


WINDOW_NOTE = (
    "sliding: the limit holds over any one-second window (AWS does not say which it "
    "enforces, I1); fixed: an assumption"
)


def _upstreams(env: EnvSpec, record: Recorder) -> tuple[UpstreamSpec, ...]:
    """kalc.yaml's upstreams with their defaults filled in, else the node's nameservers."""
    if env.upstreams is not None:
        given = env.upstreams.value
        shown = "; ".join(
            f"{u.address} {u.limit or DEFAULT_UPSTREAM_LIMIT}/s per {u.scope or 'node'}"
            + f", {u.window or 'sliding'} window"
            + (f", out up to {u.outage_steps} steps" if u.outage_steps else "")
            for u in given
        )
        record.note("upstreams", shown, "kalc.yaml",
                    f"defaults: {DEFAULT_UPSTREAM_LIMIT}/s (I1), scope node, " + WINDOW_NOTE,
                    env.upstreams.span, narrows=any(u.window == "fixed" for u in given))
        return tuple(
            UpstreamSpec(
                u.address, u.span,
                u.limit if u.limit is not None else DEFAULT_UPSTREAM_LIMIT,
                u.scope or "node", u.outage_steps or 0, u.window or "sliding",
            )
            for u in given
        )
    record.note(
        "upstreams", f"node nameservers, {DEFAULT_UPSTREAM_LIMIT}/s, scope node, sliding window",
        "default", "AWS VPC resolver limit per network interface, I1; " + WINDOW_NOTE,
    )
    return (UpstreamSpec("node", None, DEFAULT_UPSTREAM_LIMIT, "node", 0, "sliding"),)


def _names(env: EnvSpec, record: Recorder) -> tuple[NameSpec, ...]:
    if env.names is not None:
        return env.names.value
    record.note(
        "names", f"{DEFAULT_EXTERNAL_COUNT} external names like {DEFAULT_EXTERNAL_EXAMPLE}, "
        f"ttl {DEFAULT_EXTERNAL_TTL} s", "default",
    )
    return (NameSpec("external", example=DEFAULT_EXTERNAL_EXAMPLE, count=DEFAULT_EXTERNAL_COUNT),)


def _lookups(
    env: EnvSpec, names: tuple[NameSpec, ...], record: Recorder,
) -> tuple[LookupSpec, ...]:
    """kalc.yaml's lookups, else every workload looking up every name; rate, surge rate
    and resolver library filled in."""
    if env.lookups is not None:
        given = env.lookups.value
    else:
        record.note(
            "lookups", f"every workload looks up every name at {DEFAULT_RATE}/s per pod",
            "default",
        )
        given = (LookupSpec(tuple(n.id for n in names), pods=PodSelector()),)
    return tuple(_filled(lookup) for lookup in given)


def _filled(lookup: LookupSpec) -> LookupSpec:
    rate = lookup.rate if lookup.rate is not None else DEFAULT_RATE
    return replace(
        lookup, rate=rate,
        surge_rate=lookup.surge_rate if lookup.surge_rate is not None else rate,
        libc=lookup.libc or DEFAULT_LIBC,
    )
