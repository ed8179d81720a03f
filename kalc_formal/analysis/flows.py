"""Static analysis: cluster + Corefile + resolver model + kalc.yaml -> a FlowModel.

``analyse`` decides every setting (recording the defaults it used), forms pod
classes and name classes, runs the client resolver model for one lookup of each
(pod class, name class) against the server model, and counts the cache keys and
upstream packets that result. See specs/model.md section 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from kalc_formal.analysis.keyclasses import Arrivals, KeyInfo
from kalc_formal.analysis.lookups import ClientLookups
from kalc_formal.analysis.operations import forwards
from kalc_formal.analysis.podclasses import pod_classes
from kalc_formal.analysis.pools import model_pool
from kalc_formal.analysis.result import Analysis
from kalc_formal.analysis.topology import Topology
from kalc_formal.clients.resolvconf import ResolvConf
from kalc_formal.config.envspec import (
    EnvSpec,
    LookupSpec,
    NameSpec,
    PodSelector,
    UpstreamSpec,
)
from kalc_formal.config.settings import (
    DEFAULT_EXTERNAL_COUNT,
    DEFAULT_EXTERNAL_EXAMPLE,
    DEFAULT_EXTERNAL_TTL,
    DEFAULT_NEGATIVE_TTL,
    DEFAULT_NODE_NAMESERVER,
    DEFAULT_RATE,
    DEFAULT_UPSTREAM_LIMIT,
    Origin,
    Recorder,
)
from kalc_formal.coredns.server import (
    DEFAULT_READ_TIMEOUT,
    PROBE_TIMEOUT,
    TCP_EXCHANGE_PACKETS,
    CacheStep,
    ForwardStep,
    ServerSetup,
)
from kalc_formal.errors import ConfigError, InvalidArgument
from kalc_formal.kubernetes.cluster import (
    Cluster,
    DnsServer,
    Workload,
    choose_dns_service,
)
from kalc_formal.kubernetes.placement import (
    DEFAULT_MAX_PODS,
    NodeBound,
    eligible_nodes,
    pods_per_node,
)
from kalc_formal.model.flowmodel import FlowModel, KeyClass, Pool
from kalc_formal.source import Span

PlanBuilder = Callable[["Settings"], ServerSetup]


@dataclass(frozen=True, slots=True)
class NameClass:
    id: str
    text: str
    count: int
    kind: str
    label: str
    exists: bool
    ttl: int
    negative_ttl: int
    aaaa: bool
    service: str | None = None
    namespace: str | None = None


@dataclass(slots=True)
class Settings:
    """Every setting ``analyse`` uses, decided once."""

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
    initial_cache: str
    surge_steps: int | None
    scale_to_hpa_max: bool
    arrivals: Arrivals | None
    shard_balance: str
    recorder: Recorder

    @property
    def node_resolv_conf(self) -> ResolvConf:
        return ResolvConf(self.node_nameservers, self.node_search)


def decide_settings(
    cluster: Cluster, env: EnvSpec, *, version: str, version_origin: Origin,
    horizon: int | None, kubernetes_zone: Callable[[], str | None],
) -> Settings:
    """Take each setting from the command line, kalc.yaml, the manifests or a default."""
    record = Recorder(kalc_spans=env.spans)
    coredns = env.coredns
    servers = [s for s in cluster.dns_servers if s.software == "coredns"]
    server = servers[0] if servers else None
    record.note("coredns.version", version, version_origin, "plugin order: B2, B3")
    chosen_version = version
    replicas = record.take(
        "coredns.replicas",
        [("kalc.yaml", coredns.get("replicas")),
         ("manifests", server.workload.replicas if server else None)],
        2, "each replica has its own cache, D13",
    )
    rollout = record.take("coredns.rollout", [("kalc.yaml", coredns.get("rollout"))], False)
    unavailable = 0
    if rollout:
        update = server.rolling_update if server else None
        resolved = update.resolved_unavailable if update else None
        unavailable = record.take(
            "coredns.max_unavailable", [("manifests", resolved)], max(1, replicas // 4),
            "replicas down during the rollout",
        )
        unavailable = min(unavailable, replicas - 1)
    restarts = record.take(
        "coredns.restarts", [("kalc.yaml", coredns.get("restarts"))], 0,
        "cold restarts of the busiest replica within the horizon",
    ) + (1 if rollout else 0)
    nodes_default = len(cluster.nodes) or None
    dns_service, dns_service_why = choose_dns_service(cluster.dns_services)
    domain = record.take(
        "cluster.domain",
        [("kalc.yaml", env.cluster.get("domain")), ("Corefile", kubernetes_zone())],
        "cluster.local", "the kubernetes plugin's zone (F1)",
    )
    nodes = record.take(
        "cluster.nodes", [("kalc.yaml", env.cluster.get("nodes")), ("manifests", nodes_default)], 1,
    )
    max_pods = _max_pods(cluster, env, record)
    settings = Settings(
        version=str(chosen_version),
        replicas=replicas,
        replicas_per_node=_replicas_per_node(
            cluster, server, coredns.get("replicas_per_node"), replicas, nodes, max_pods, record,
        ),
        max_pods=max_pods,
        skew=Fraction(str(record.take(
            "coredns.skew", [("kalc.yaml", coredns.get("skew"))], 0.1,
            "kube-proxy imbalance between replicas, K7: no replica gets more than "
            "(1 + skew) / replicas of any name's queries",
            narrows=lambda _value: True,
        ))),
        restarts=restarts,
        rollout=rollout,
        unavailable=unavailable,
        domain=domain.rstrip(".") or "cluster.local",
        nodes=nodes,
        dns_ip=record.take(
            "cluster.dns_ip",
            [("kalc.yaml", env.cluster.get("dns_ip")),
             ("manifests", dns_service.cluster_ip.value
              if dns_service and dns_service.cluster_ip else None)],
            "10.96.0.10", dns_service_why,
        ),
        node_search=tuple(record.take(
            "cluster.node_search", [("kalc.yaml", env.cluster.get("node_search"))], [],
            "search domains the node adds to pods (H2) and CoreDNS's autopath reads (C3)",
        )),
        node_nameservers=tuple(record.take(
            "cluster.node_nameservers", [("kalc.yaml", env.cluster.get("node_nameservers"))],
            [DEFAULT_NODE_NAMESERVER], "what `forward . /etc/resolv.conf` sends to, E3",
        )),
        upstreams=_upstreams(env, record),
        names=_names(env, record),
        lookups=(),
        step=record.take("check.step", [("kalc.yaml", env.check.get("step"))], 1, "seconds"),
        horizon=record.take(
            "check.horizon", [("command line", horizon), ("kalc.yaml", env.check.get("horizon"))], 60,
            "steps",
        ),
        initial_cache=record.take(
            "check.initial_cache", [("kalc.yaml", env.check.get("initial_cache"))], "warm",
        ),
        surge_steps=record.take(
            "surge.max_steps", [("kalc.yaml", env.surge.get("max_steps"))], None,
            "steps with demand above baseline (none: no limit)",
        ),
        scale_to_hpa_max=record.take(
            "surge.scale_to_hpa_max", [("kalc.yaml", env.surge.get("scale_to_hpa_max"))], True,
        ),
        arrivals=_arrivals(env, record),
        shard_balance=record.take(
            "coredns.shard_balance", [("kalc.yaml", coredns.get("shard_balance"))], "any",
            "any: keys may share one of the cache's 256 shards, so a pool that holds more "
            "keys than one shard evicts before it is full (D3); even: an assumption",
            narrows=lambda value: value != "any",
        ),
        recorder=record,
    )
    settings.lookups = _lookups(env, settings)
    return settings


def _arrivals(env: EnvSpec, record: Recorder) -> Arrivals | None:
    arrivals = record.take(
        "check.arrivals", [("kalc.yaml", env.check.get("arrivals"))], "any",
        "any: a step's queries may arrive at any moment, so every query for a key whose "
        "answer is still on its way misses too (D10, measured on real CoreDNS); "
        "spread: an assumption",
        narrows=lambda value: value != "any",
    )
    if arrivals != "spread":
        return None
    burst = record.take(
        "check.burst", [("kalc.yaml", env.check.get("burst"))], 2,
        "assumption: one reply time holds at most this many times its even share of a "
        "key's queries",
        narrows=lambda _value: True,
    )
    reply_ms = record.take(
        "check.reply_ms", [("kalc.yaml", env.check.get("reply_ms"))], 20,
        "assumption: the upstream's longest reply time",
        narrows=lambda _value: True,
    )
    return Arrivals(Fraction(str(burst)), Fraction(str(reply_ms)) / 1000)


def _max_pods(cluster: Cluster, env: EnvSpec, record: Recorder) -> NodeBound:
    """The kubelet's maxPods: kalc.yaml, else the Node objects' largest allocatable pods."""
    given = env.cluster.get("max_pods_per_node")
    counts = [n.allocatable_pods for n in cluster.nodes]
    from_nodes = max(c for c in counts if c is not None) if counts and None not in counts else None
    node_span = cluster.nodes[0].span if cluster.nodes else None
    value = record.take(
        "cluster.max_pods_per_node", [("kalc.yaml", given), ("manifests", from_nodes)],
        DEFAULT_MAX_PODS, "pods the kubelet runs on one node (maxPods)",
        at={"manifests": node_span}, narrows=lambda _value: given is not None,
    )
    taken = record.assumptions[-1]
    if taken.origin == "kalc.yaml":
        return NodeBound(int(value), "cluster.max_pods_per_node", "kalc.yaml", taken.at)
    if taken.origin == "manifests":
        return NodeBound(int(value), "the Node objects' status.allocatable.pods", "manifests",
                         taken.at)
    return NodeBound(int(value), f"kubelet maxPods default {DEFAULT_MAX_PODS}", "default")


def _replicas_per_node(
    cluster: Cluster, server: DnsServer | None, given: int | None, replicas: int, nodes: int,
    max_pods: NodeBound, record: Recorder,
) -> int:
    """The most CoreDNS replicas on one node: kalc.yaml, else what the Deployment's hard
    rules and maxPods allow (all replicas when nothing keeps them apart)."""
    note = "CoreDNS replicas sharing one node's network interface"
    if given is not None:
        record.note("coredns.replicas_per_node", given, "kalc.yaml", note, narrows=True)
        return int(given)
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


def _upstreams(env: EnvSpec, record: Recorder) -> tuple[UpstreamSpec, ...]:
    window_note = (
        "sliding: the limit holds over any one-second window (AWS does not say which it "
        "enforces, I1); fixed: an assumption"
    )
    if env.upstreams is not None:
        shown = "; ".join(
            f"{u.address} {u.limit or DEFAULT_UPSTREAM_LIMIT}/s per {u.scope or 'node'}"
            + f", {u.window or 'sliding'} window"
            + (f", out up to {u.outage_steps} steps" if u.outage_steps else "")
            for u in env.upstreams
        )
        record.note("upstreams", shown, "kalc.yaml",
                    "defaults: 1024/s (I1), scope node, " + window_note,
                    narrows=any(u.window == "fixed" for u in env.upstreams))
        return tuple(
            UpstreamSpec(
                u.address, u.span,
                u.limit if u.limit is not None else DEFAULT_UPSTREAM_LIMIT,
                u.scope or "node", u.outage_steps or 0, u.window or "sliding",
            )
            for u in env.upstreams
        )
    record.note(
        "upstreams", f"node nameservers, {DEFAULT_UPSTREAM_LIMIT}/s, scope node, sliding window",
        "default", "AWS VPC resolver limit per network interface, I1; " + window_note,
    )
    return (UpstreamSpec("node", None, DEFAULT_UPSTREAM_LIMIT, "node", 0, "sliding"),)


def _names(env: EnvSpec, record: Recorder) -> tuple[NameSpec, ...]:
    if env.names is not None:
        return env.names
    record.note(
        "names", f"{DEFAULT_EXTERNAL_COUNT} external names like {DEFAULT_EXTERNAL_EXAMPLE}, "
        f"ttl {DEFAULT_EXTERNAL_TTL} s", "default",
    )
    return (NameSpec("external", example=DEFAULT_EXTERNAL_EXAMPLE, count=DEFAULT_EXTERNAL_COUNT),)


def _lookups(env: EnvSpec, settings: Settings) -> tuple[LookupSpec, ...]:
    if env.lookups is not None:
        return env.lookups
    ids = tuple(n.id for n in settings.names)
    settings.recorder.note(
        "lookups", f"every workload looks up every name at {DEFAULT_RATE}/s per pod", "default",
    )
    return (LookupSpec(ids, pods=PodSelector()),)


def name_classes(settings: Settings) -> list[NameClass]:
    classes = []
    for spec in settings.names:
        if spec.service is not None:
            classes.append(_service_name(spec, settings.domain))
        else:
            assert spec.example is not None
            classes.append(
                NameClass(
                    spec.id, spec.example, spec.count or 1, "external", spec.example,
                    spec.exists if spec.exists is not None else True,
                    spec.ttl if spec.ttl is not None else DEFAULT_EXTERNAL_TTL,
                    spec.negative_ttl if spec.negative_ttl is not None else DEFAULT_NEGATIVE_TTL,
                    bool(spec.aaaa),
                )
            )
    return classes


def _service_name(spec: NameSpec, domain: str) -> NameClass:
    assert spec.service is not None
    form = spec.form or "short"
    namespace = spec.namespace
    if form == "short":
        text = spec.service
    else:
        ns = namespace or "kf-own-ns"
        text = {
            "namespaced": f"{spec.service}.{ns}",
            "fqdn": f"{spec.service}.{ns}.svc.{domain}",
            "fqdn-dot": f"{spec.service}.{ns}.svc.{domain}.",
        }[form]
    return NameClass(
        spec.id, text, spec.count or 1, f"service ({form})", text,
        spec.exists if spec.exists is not None else True,
        spec.ttl if spec.ttl is not None else 5,
        spec.negative_ttl if spec.negative_ttl is not None else DEFAULT_NEGATIVE_TTL,
        bool(spec.aaaa), spec.service, namespace,
    )


# ---- analysis ----------------------------------------------------------------------------


def analyse(
    cluster: Cluster,
    env: EnvSpec,
    coredns_plan: PlanBuilder,
    nodelocal_plan: PlanBuilder | None,
    *,
    version: str,
    version_origin: Origin,
    horizon: int | None = None,
    kubernetes_zone: Callable[[], str | None] = lambda: None,
    excluded: Sequence[Workload] = (),
) -> Analysis:
    """The FlowModel of a cluster and what the report needs to explain it."""
    settings = decide_settings(
        cluster, env, version=version, version_origin=version_origin, horizon=horizon,
        kubernetes_zone=kubernetes_zone,
    )
    coredns = coredns_plan(settings)
    nodelocal = nodelocal_plan(settings) if nodelocal_plan else None
    return _Analyser(cluster, settings, coredns, nodelocal, excluded).run()


class _Analyser:
    """Runs the lookups of every pod class and assembles the FlowModel from the key
    classes, pools, scopes and groups they met."""

    def __init__(
        self, cluster: Cluster, settings: Settings, coredns: ServerSetup,
        nodelocal: ServerSetup | None, excluded: Sequence[Workload],
    ) -> None:
        self.cluster = cluster
        self.settings = settings
        self.coredns = coredns
        self.nodelocal = nodelocal
        self.excluded = excluded
        self.names = name_classes(settings)
        self.names_by_id = {n.id: n for n in reversed(self.names)}
        self.topology = Topology(cluster, settings, coredns, nodelocal)
        self.lookups = ClientLookups(cluster, settings, self.names, self.topology)
        self.notes: list[str] = []
        self.idle_lookups: list[tuple[str, Span | None]] = []

    def run(self) -> Analysis:
        special = {n.namespace for n in self.names if n.namespace}
        classes = pod_classes(
            self.cluster, self.settings.lookups, nodes=self.settings.nodes,
            special_namespaces=special, scale_to_hpa_max=self.settings.scale_to_hpa_max,
            excluded=self.excluded,
        )
        if not classes:
            self.notes.append("no workload is selected by the lookups: no client traffic")
        used = {id(c.lookup) for c in classes}
        for index, lookup in enumerate(self.settings.lookups):
            if id(lookup) not in used:
                self.idle_lookups.append((
                    f"lookups.{index} selects no pods ({_selector_text(lookup)})", lookup.span,
                ))
        for pod_class in classes:
            for name_id in pod_class.lookup.names:
                try:
                    self.lookups.add(pod_class, self.names_by_id[name_id])
                except InvalidArgument as error:
                    config = pod_class.dns_config
                    span = config.span if config is not None else pod_class.workloads[0].span
                    raise ConfigError(f"{pod_class.label}: {error}", span) from error
        return self._result()

    def _note_measured(self) -> None:
        """The figures measured on real CoreDNS that this model's counts rest on."""
        setups = [setup for setup in (self.coredns, self.nodelocal) if setup is not None]
        steps = [step for setup in setups for block in setup.blocks for step in block.steps]
        origin = "measured on CoreDNS 1.11.1, 1.14.6, 1.14.7 (specs/coredns-observations.md)"
        if any(isinstance(step, CacheStep) and step.refreshes_over_tcp for step in steps):
            self.settings.recorder.note(
                "coredns.tcp_exchange_packets", TCP_EXCHANGE_PACKETS, "default",
                f"per exchange of a cache with prefetch or serve_stale (refreshed over TCP); {origin}",
            )
        forward_steps = [step for step in steps if isinstance(step, ForwardStep)]
        if self.lookups.may_fail and forward_steps:
            times = "/".join(f"{t:g}" for t in forward_steps[0].servfail_times())
            period = forward_steps[0].health_check + PROBE_TIMEOUT
            self.settings.recorder.note(
                "coredns.forward_failure", f"SERVFAIL at {times} s, a probe per {period:g} s", "default",
                f"2 s once the upstream is marked down; {origin}",
            )

    def _in_flight_steps(self) -> int:
        """Steps after its miss that an answer may still be on its way: the assumed
        reply time, else forward's read timeout (a later answer is a failure, E5)."""
        arrivals = self.settings.arrivals
        if arrivals is not None:
            return math.ceil(arrivals.reply_seconds / self.settings.step)
        setups = [setup for setup in (self.coredns, self.nodelocal) if setup is not None]
        timeouts = [f.read_timeout for setup in setups for f in forwards(setup).values()]
        longest = max(timeouts, default=DEFAULT_READ_TIMEOUT)
        self.settings.recorder.note(
            "upstream reply time", f"up to {longest:g} s", "default",
            "an answer may come up to forward's read timeout after its query, and the queries "
            "for its key miss until then (E5, D10); a slower upstream is an outage",
        )
        return math.ceil(longest / self.settings.step)

    def _result(self) -> Analysis:
        self._note_measured()
        topology, lookups = self.topology, self.lookups
        keys: list[KeyClass] = []
        info: dict[str, KeyInfo] = {}
        pools: dict[str, Pool] = {}
        unmodelled = [*self.coredns.unmodelled, *lookups.unmodelled]
        for group in topology.groups:
            builder = group.builder
            for key in builder.key_classes():
                keys.append(key)
                if key.pool and key.pool not in pools:
                    pools[key.pool] = model_pool(
                        builder.pools[key.pool], topology.setup(group.key.server),
                        self.settings.shard_balance,
                    )
            info.update(builder.info)
            unmodelled += builder.unmodelled
        scopes = topology.model_scopes(lookups.cold_packets)
        model = FlowModel(
            flows=tuple(lookups.flows), groups=tuple(topology.model_groups(lookups.shares_of)),
            key_classes=tuple(keys), scopes=tuple(scopes), pools=tuple(pools.values()),
            initial_cache="cold" if self.settings.initial_cache == "cold" else "warm",
            surge_steps=self.settings.surge_steps,
            in_flight_steps=self._in_flight_steps(),
        )
        warnings, nothing_checked, nothing_checked_at = self._unreached_upstreams()
        warnings += [f"{span}: {text}" if span else text for text, span in self.idle_lookups]
        plugins = dict(self.coredns.plugins)
        if self.nodelocal:
            plugins.update({f"nodelocal:{k}": v for k, v in self.nodelocal.plugins.items()})
        return Analysis(
            model=model, step_seconds=self.settings.step, horizon=self.settings.horizon,
            coredns_version=self.settings.version, flows=lookups.flow_info, keys=info,
            groups={g.key.id: g.info for g in topology.groups},
            scopes={i.id: i for _, i in topology.scopes},
            assumptions=tuple(self.settings.recorder.assumptions),
            unmodelled=tuple(unmodelled), plugins=plugins, notes=tuple(self.notes),
            warnings=tuple(warnings), nothing_checked=nothing_checked,
            idle_lookups=tuple(self.idle_lookups),
            nothing_checked_at=nothing_checked_at,
        )

    def _unreached_upstreams(self) -> tuple[list[str], str, Span | None]:
        """A warning for each upstream no query of the model is sent to, and when there
        are flows and none of the upstreams is reached, why nothing would be checked."""
        scopes = self.topology.scopes
        sent_to = self.lookups.targets_sent_to
        unreached = [info for _, info in scopes if not sent_to & set(info.addresses)]
        sent = ", ".join(sorted(sent_to)) or "no upstream at all"
        warnings = [
            f"{info.span or 'upstream'}: the model sends nothing to upstream "
            f"{', '.join(info.addresses)} (the Corefile and the pods send to {sent}): "
            "its limit is not checked"
            for info in unreached
        ]
        if self.lookups.flows and scopes and len(unreached) == len(scopes):
            message = (
                f"no upstream receives any query of the model (the upstreams are "
                f"{'; '.join(', '.join(i.addresses) for i in unreached)}; the Corefile and the pods "
                f"send to {sent}): nothing would be checked; set kalc.yaml's upstreams to the "
                "servers the Corefile forwards to"
            )
            return warnings, message, unreached[0].span
        return warnings, "", None


def _selector_text(lookup: LookupSpec) -> str:
    pods = lookup.pods
    parts = [f"namespaces {', '.join(pods.namespaces)}"] if pods.namespaces else []
    parts += [f"workload {pods.workload}"] if pods.workload else []
    parts += [f"labels {', '.join(f'{k}={v}' for k, v in pods.labels)}"] if pods.labels else []
    return "; ".join(parts) or "every pod"
