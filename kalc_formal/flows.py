"""Static analysis: cluster + Corefile + resolver model + kalc.yaml -> a FlowModel.

``analyse`` decides every setting (recording the defaults it used), forms pod
classes and name classes, runs the client resolver model for one lookup of each
(pod class, name class) against the server model, and counts the cache keys and
upstream packets that result. See specs/model.md section 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from kalc_formal.analysis import Analysis, FlowInfo, GroupInfo, ScopeInfo
from kalc_formal.cluster import Cluster, Workload, choose_dns_service
from kalc_formal.dnsserver import (
    FORWARD_DEADLINE,
    CacheLookup,
    Client,
    ForwardStep,
    KubernetesStep,
    Operation,
    Query,
    Reply,
    Served,
    Server,
    ServerSetup,
    ServiceExists,
    Unmodelled,
    Upstream,
    Walk,
    World,
)
from kalc_formal.envspec import EnvSpec, LookupSpec, NameSpec, PodSelector, UpstreamSpec
from kalc_formal.flowmodel import Flow, FlowModel, Group, KeyClass, Pool, Scope
from kalc_formal.keyclasses import (
    KeyClassBuilder,
    KeyInfo,
    NamePlaceholder,
    NamespacePlaceholder,
)
from kalc_formal.podclasses import PodClass, lookups_per_step, pod_classes
from kalc_formal.resolvconf import (
    Libc,
    PodDNSConfig,
    ResolvConf,
    ResolvOption,
    pod_resolv_conf,
)
from kalc_formal.resolver import Packet, simulate_lookup
from kalc_formal.resolver import Reply as ClientReply
from kalc_formal.resolver import ReplyFunction as ClientReplyFunction
from kalc_formal.settings import (
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
    recorder: Recorder

    @property
    def node_resolv_conf(self) -> ResolvConf:
        return ResolvConf(self.node_nameservers, self.node_search)


def decide_settings(
    cluster: Cluster, env: EnvSpec, *, version: str, version_origin: Origin,
    horizon: int | None, kubernetes_zone: Callable[[], str | None],
) -> Settings:
    """Take each setting from the command line, kalc.yaml, the manifests or a default."""
    record = Recorder()
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
    settings = Settings(
        version=str(chosen_version),
        replicas=replicas,
        replicas_per_node=record.take(
            "coredns.replicas_per_node",
            [("kalc.yaml", coredns.get("replicas_per_node")),
             ("manifests", 1 if server and server.anti_affinity == "required" else None)],
            1,
            "replicas sharing one node's network interface"
            + ("" if server and server.anti_affinity == "required"
               else "; without required pod anti-affinity more can share one"),
        ),
        skew=Fraction(str(record.take(
            "coredns.skew", [("kalc.yaml", coredns.get("skew"))], 0.1,
            "kube-proxy imbalance between replicas, K7",
        ))),
        restarts=restarts,
        rollout=rollout,
        unavailable=unavailable,
        domain=domain.rstrip(".") or "cluster.local",
        nodes=record.take(
            "cluster.nodes", [("kalc.yaml", env.cluster.get("nodes")), ("manifests", nodes_default)], 1,
        ),
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
        recorder=record,
    )
    settings.lookups = _lookups(env, settings)
    return settings


def _upstreams(env: EnvSpec, record: Recorder) -> tuple[UpstreamSpec, ...]:
    if env.upstreams is not None:
        shown = "; ".join(
            f"{u.address} {u.limit or DEFAULT_UPSTREAM_LIMIT}/s per {u.scope or 'node'}"
            + (f", out up to {u.outage_steps} steps" if u.outage_steps else "")
            for u in env.upstreams
        )
        record.note("upstreams", shown, "kalc.yaml", "defaults: 1024/s (I1), scope node")
        return tuple(
            UpstreamSpec(
                u.address, u.span,
                u.limit if u.limit is not None else DEFAULT_UPSTREAM_LIMIT,
                u.scope or "node", u.outage_steps or 0,
            )
            for u in env.upstreams
        )
    record.note(
        "upstreams", f"node nameservers, {DEFAULT_UPSTREAM_LIMIT}/s, scope node", "default",
        "AWS VPC resolver limit per network interface, I1",
    )
    return (UpstreamSpec("node", None, DEFAULT_UPSTREAM_LIMIT, "node"),)


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


# ---- the world: what names resolve to --------------------------------------------------


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def upstream_world(names: Sequence[NameClass]) -> Callable[[str, str], Reply]:
    """What the upstream answers: the external names as given exist, the rest NXDOMAIN."""
    table = {
        _fqdn(n.text): n for n in names if n.kind == "external" and n.exists
    }
    negative: dict[str, tuple[int, int]] = {}
    for order, name in enumerate(n for n in names if n.kind == "external"):
        key = _fqdn(name.text)
        negative[key] = (negative.get(key, (order, 0))[0], name.negative_ttl)

    def answer(qname: str, qtype: str) -> Reply:
        name = table.get(qname)
        if name is not None:
            if qtype == "AAAA" and not name.aaaa:
                return Reply("NOERROR", answer=False, ttl=name.negative_ttl)
            return Reply("NOERROR", answer=True, ttl=name.ttl)
        # the first name (in kalc.yaml's order) that qname starts with, probed per label
        matches = [
            negative[prefix]
            for end in range(len(qname))
            if qname[end] == "." and (prefix := qname[: end + 1]) in negative
        ]
        if matches:
            return Reply("NXDOMAIN", ttl=min(matches)[1])
        return Reply("NXDOMAIN", ttl=DEFAULT_NEGATIVE_TTL)

    return answer


def service_world(
    names: Sequence[NameClass], domain: str, ttl: Callable[[], int]
) -> Callable[[str, str], Reply | None]:
    """Which in-cluster Service names exist and their answers: a Service given without a
    namespace is in every client's own namespace."""
    existing: dict[str, NameClass] = {}
    for name in names:
        if name.service is not None and name.exists:
            existing[f"{name.service}.{name.namespace or '*'}.svc.{domain}."] = name

    def answer(qname: str, qtype: str) -> Reply | None:
        labels = qname.split(".")
        if len(labels) < 4:
            return None
        service, namespace = labels[0], labels[1]
        suffix = ".".join(labels[2:])
        if suffix != f"svc.{domain}.":
            return None
        name = existing.get(f"{service}.{namespace}.svc.{domain}.")
        if name is None:
            name = existing.get(f"{service}.*.svc.{domain}.")
        if name is None:
            return None
        if qtype == "AAAA" and not name.aaaa:
            return Reply("NOERROR", answer=False, ttl=min(ttl(), 300))
        return Reply("NOERROR", answer=True, ttl=ttl())

    return answer


def to_client_reply(reply: Reply) -> ClientReply:
    if reply.rcode == "NOERROR":
        return ClientReply.ANSWER if reply.answer else ClientReply.NODATA
    return ClientReply[reply.rcode]


# ---- analysis ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Groups:
    """The server groups of the model and how their replicas count in each scope."""

    groups: list[Group] = field(default_factory=list)
    info: dict[str, GroupInfo] = field(default_factory=dict)
    builders: dict[str, KeyClassBuilder] = field(default_factory=dict)
    members: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, group: Group, label: str, replicas: int, builder: KeyClassBuilder,
            members: dict[str, int]) -> None:
        self.groups.append(group)
        self.info[group.id] = GroupInfo(group.id, label, replicas)
        self.builders[group.id] = builder
        self.members[group.id] = members


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
    return _Analyser(cluster, settings, coredns_plan, nodelocal_plan, excluded).run()


class _Analyser:
    def __init__(
        self, cluster: Cluster, settings: Settings, coredns_plan: PlanBuilder,
        nodelocal_plan: PlanBuilder | None, excluded: Sequence[Workload],
    ) -> None:
        self.cluster = cluster
        self.settings = settings
        self.coredns = coredns_plan(settings)
        self.nodelocal = nodelocal_plan(settings) if nodelocal_plan else None
        self.excluded = excluded
        self.names = name_classes(settings)
        self.names_by_id = {n.id: n for n in reversed(self.names)}
        self.world = upstream_world(self.names)
        self.services = service_world(self.names, settings.domain, self._kubernetes_ttl)
        self.scopes = self._scopes()
        self.groups = _Groups()
        self.flows: list[Flow] = []
        self.flow_info: dict[str, FlowInfo] = {}
        self.unmodelled: list[Unmodelled] = list(self.coredns.unmodelled)
        self.notes: list[str] = []
        self.targets_sent_to: set[str] = set()
        self.idle_lookups: list[tuple[str, Span | None]] = []
        self.may_fail = any(u.outage_steps for u in settings.upstreams)

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
                self._flow(pod_class, self.names_by_id[name_id])
        return self._result()

    # -- scopes and groups

    def _scopes(self) -> list[tuple[Scope, ScopeInfo]]:
        result = []
        for index, upstream in enumerate(self.settings.upstreams):
            addresses = (
                self.settings.node_nameservers if upstream.address == "node" else (upstream.address,)
            )
            limit = upstream.limit or DEFAULT_UPSTREAM_LIMIT
            scope_id = f"u{index}"
            kind = upstream.scope or "node"
            label = {"node": "the busiest node", "pod": "one replica", "cluster": "the cluster"}[kind]
            info = ScopeInfo(scope_id, label, tuple(addresses), limit, kind, upstream.span)
            scope = Scope(scope_id, limit * self.settings.step, (), label,
                          outage_steps=upstream.outage_steps or 0)
            result.append((scope, info))
        return result

    def _scope_ids_for(self, targets: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            scope.id for scope, info in self.scopes if set(targets) & set(info.addresses)
        )

    def _group(self, kind: str) -> list[str]:
        """Create (once) the groups serving clients through ``kind``; their ids."""
        ids = [g for g in self.groups.info if g.startswith(kind)]
        if ids:
            return ids
        s = self.settings
        if kind == "coredns":
            serving = max(1, s.replicas - s.unavailable)
            low = (1 - s.skew) / s.replicas
            high = min(Fraction(1), (1 + s.skew) / serving)
            hot_members = {"node": s.replicas_per_node, "pod": 1, "cluster": s.replicas_per_node}
            self._add_group("coredns", low, high, s.restarts, "the busiest CoreDNS replica",
                            s.replicas_per_node, hot_members)
            others = s.replicas - s.replicas_per_node
            if others > 0 and any(i.kind == "cluster" for _, i in self.scopes):
                self._add_group("coredns-others", low, high, s.restarts,
                                "each other CoreDNS replica", others, {"cluster": others})
        else:
            low = (1 - s.skew) / s.nodes
            high = min(Fraction(1), (1 + s.skew) / s.nodes)
            label = "the node-local cache of the busiest node" if kind == "nodelocal" else \
                "the pods of the busiest node, asking the upstream directly"
            self._add_group(kind, low, high, 0, label, 1, {"node": 1, "pod": 1, "cluster": 1})
            if s.nodes > 1 and any(i.kind == "cluster" for _, i in self.scopes):
                self._add_group(f"{kind}-others", low, high, 0, f"{label} (each other node)",
                                s.nodes - 1, {"cluster": s.nodes - 1})
        return [g for g in self.groups.info if g.startswith(kind)]

    def _add_group(self, group_id: str, low: Fraction, high: Fraction, restarts: int,
                   label: str, replicas: int, members: dict[str, int]) -> None:
        setup = self.coredns if group_id.startswith("coredns") else self.nodelocal
        scope_of = {}
        schedules: dict[str, tuple[float, ...]] = {"direct": (0.0,)}
        forwards = _forwards(setup) if setup else {}
        for forward_id, forward in forwards.items():
            scope_of[forward_id] = self._scope_ids_for(forward.targets)
            schedules[forward_id] = forward.send_times()
        scope_of["direct"] = self._scope_ids_for(self.settings.node_nameservers)
        builder = KeyClassBuilder(group_id, self.settings.step, scope_of, schedules)
        self.groups.add(Group(group_id, low, high, restarts, label), label, replicas, builder,
                        members)

    # -- flows

    def _flow(self, pod_class: PodClass, name: NameClass) -> None:
        s = self.settings
        lookup = pod_class.lookup
        rate = lookup.rate if lookup.rate is not None else DEFAULT_RATE
        surge = lookup.surge_rate if lookup.surge_rate is not None else rate
        libc = Libc(lookup.libc or "glibc")
        flow_id = f"{pod_class.id}/{name.id}"
        base = lookups_per_step(pod_class.pods_base, rate, name.count, s.step, up=False)
        peak = max(base, lookups_per_step(pod_class.pods_peak, surge, name.count, s.step, up=True))
        conf = self._resolv_conf(pod_class)
        server, kind = self._server_for(conf, pod_class)
        client = Client(pod_class.namespace_label, autopath_visible=kind == "coredns" and not pod_class.host_network)
        served: dict[tuple[str, str], tuple[Reply, tuple[Operation, ...]]] = {}

        def reply(qname: str, qtype: str, nameserver: str) -> ClientReply:
            key = (qname, qtype)
            if key not in served:
                if server is None:
                    answered = self.world(qname, qtype)
                    ops: tuple[Operation, ...] = (
                        Upstream("direct", (nameserver,), Query(qname, qtype)),
                    )
                    served[key] = (answered, ops)
                else:
                    result = server.serve(Query(qname, qtype), client)
                    served[key] = (result.reply, result.operations)
            return to_client_reply(served[key][0])

        trace = simulate_lookup(name.text, conf, libc, reply)
        name_ph = NamePlaceholder(name.id, name.text, name.count)
        ns_ph = NamespacePlaceholder(pod_class.namespace_label, len(pod_class.namespaces),
                                     pod_class.pods_min_per_namespace)
        uniform = lookups_per_step(
            pod_class.pods_min_per_namespace * len(pod_class.namespaces), rate, name.count,
            s.step, up=False,
        )
        queries = []
        cold = 0
        for group_id in self._group(kind):
            group = next(g for g in self.groups.groups if g.id == group_id)
            guaranteed = float(uniform * group.share_min)
            builder = self.groups.builders[group_id]
            for packet in trace.packets:
                operations = served[(packet.qname, packet.qtype)][1]
                builder.add_query(flow_id, operations, name_ph, ns_ph, guaranteed)
            if self.may_fail:
                self._followups(builder, trace.packets, conf, libc, reply, served, name_ph, ns_ph)
        for packet in trace.packets:
            operations = served[(packet.qname, packet.qtype)][1]
            queries.append(f"{packet.qname} {packet.qtype}")
            cold += _upstream_packets(operations)
            self.targets_sent_to |= _upstream_targets(operations)
        self.flows.append(Flow(flow_id, base, peak, f"{pod_class.label} -> {name.label}"))
        self.flow_info[flow_id] = FlowInfo(
            flow_id, pod_class.label, len(pod_class.namespaces), pod_class.pods_base,
            pod_class.pods_peak, name.label, name.count, rate, surge, libc.value, kind,
            tuple(queries), cold, pod_class.spans,
        )

    def _followups(
        self, builder: KeyClassBuilder, packets: Sequence[Packet], conf: ResolvConf, libc: Libc,
        reply: ClientReplyFunction, served: dict[tuple[str, str], tuple[Reply, tuple[Operation, ...]]],
        name: NamePlaceholder, namespace: NamespacePlaceholder,
    ) -> None:
        """What a client sends after one of its queries fails (K4): the lookup re-run
        with that query and every later one that needs the upstream unanswered; its
        later packets are follow-ups of the classes whose failure started it."""
        settings = conf.settings(libc)
        failure = ClientReply.TIMEOUT if settings.timeout <= FORWARD_DEADLINE else ClientReply.SERVFAIL
        for index, packet in enumerate(packets):
            failing = builder.failing(served[(packet.qname, packet.qtype)][1], name, namespace)
            if not failing:
                continue
            answered = {(p.qname, p.qtype) for p in packets[:index]}

            def failed_reply(
                qname: str, qtype: str, nameserver: str, answered: set[tuple[str, str]] = answered
            ) -> ClientReply:
                normal = reply(qname, qtype, nameserver)
                needs_upstream = _upstream_packets(served[(qname, qtype)][1]) > 0
                if (qname, qtype) in answered or not needs_upstream:
                    return normal
                return failure

            rerun = simulate_lookup(name.text, conf, libc, failed_reply)
            start = next(
                p.time for p in rerun.packets if (p.qname, p.qtype) == (packet.qname, packet.qtype)
            )
            for later in rerun.packets:
                delay = math.floor((later.time - start) / self.settings.step)
                if later.time <= start or delay < 1:
                    continue
                targets = builder.register(served[(later.qname, later.qtype)][1], name, namespace)
                for key_id in failing:
                    for target in targets:
                        builder.add_followup(key_id, target, delay)

    def _resolv_conf(self, pod_class: PodClass) -> ResolvConf:
        config = pod_class.dns_config
        dns_config = None
        if config is not None:
            dns_config = PodDNSConfig(
                tuple(n.value for n in config.nameservers),
                tuple(x.value for x in config.searches),
                tuple(ResolvOption(o.name, o.value) for o in config.options),
            )
        made = pod_resolv_conf(
            dns_policy=pod_class.dns_policy, host_network=pod_class.host_network,
            dns_config=dns_config, namespace=pod_class.namespace_label,
            cluster_domain=self.settings.domain, cluster_dns=(self.settings.dns_ip,),
            node_resolv_conf=self.settings.node_resolv_conf,
        )
        return made.resolv_conf

    def _server_for(self, conf: ResolvConf, pod_class: PodClass) -> tuple[Server | None, str]:
        first = conf.nameservers[0] if conf.nameservers else ""
        local_ips = {ip.value for n in self.cluster.node_local_dns for ip in n.local_ips}
        world = self.world
        services = self.services
        own = tuple(f"{d.rstrip('.')}." for d in self.settings.node_search)
        if self.nodelocal is not None and (first == self.settings.dns_ip or first in local_ips):
            return Server(self.nodelocal.blocks, world, services, own_search=own,
                          relay=self._relay_to_coredns(world, services, own)), "nodelocal"
        if first == self.settings.dns_ip:
            return Server(self.coredns.blocks, world, services, own_search=own), "coredns"
        if first in self.settings.node_nameservers:
            return None, "direct"
        self.unmodelled.append(Unmodelled(
            "resolv.conf", Query(first, "A"),
            f"{pod_class.label} ask nameserver {first or '(none)'}, which is neither the cluster DNS "
            f"({self.settings.dns_ip}) nor a node nameserver", None,
        ))
        return None, "direct"

    def _relay_to_coredns(
        self, world: World, services: ServiceExists, own: tuple[str, ...]
    ) -> Callable[[ForwardStep, Query, Client], Served | None]:
        """NodeLocal's forward to the cluster DNS: answered by CoreDNS (J2, J4)."""
        coredns = Server(self.coredns.blocks, world, services, own_search=own)
        cluster_dns = {self.settings.dns_ip} | {
            ip.value
            for service in self.cluster.dns_services
            for ip in (*service.cluster_ips, *([service.cluster_ip] if service.cluster_ip else []))
        }

        def relay(step: ForwardStep, query: Query, client: Client) -> Served | None:
            if not cluster_dns & set(step.targets):
                return None
            served = coredns.serve(query, Client(client.namespace, autopath_visible=False))
            if _upstream_packets(served.operations):
                self.unmodelled.append(Unmodelled(
                    "forward", query, "the node-local cache relays to CoreDNS, which forwards "
                    "upstream: traffic across two servers is not modelled", step.span,
                ))
            return Served(served.reply, ())

        return relay

    def _kubernetes_ttl(self) -> int:
        for block in self.coredns.blocks:
            for step in block.steps:
                if isinstance(step, KubernetesStep):
                    return step.ttl
        return 5

    # -- result

    def _result(self) -> Analysis:
        keys: list[KeyClass] = []
        info: dict[str, KeyInfo] = {}
        pools: dict[str, Pool] = {}
        for group in self.groups.groups:
            builder = self.groups.builders[group.id]
            setup = self.coredns if group.id.startswith("coredns") else self.nodelocal
            for key in builder.key_classes():
                keys.append(key)
                if key.pool and key.pool not in pools:
                    pools[key.pool] = Pool(key.pool, group.id, _capacity(setup, key.pool))
            info.update(builder.info)
            self.unmodelled += builder.unmodelled
        scopes = []
        for scope, scope_info in self.scopes:
            members = tuple(
                (g, n[scope_info.kind]) for g, n in self.groups.members.items() if scope_info.kind in n
            )
            probes = sum(n * self._probes(g, scope_info.addresses) for g, n in members)
            scopes.append(replace(scope, members=members, probe_packets=probes))
        model = FlowModel(
            flows=tuple(self.flows), groups=tuple(self.groups.groups), key_classes=tuple(keys),
            scopes=tuple(scopes), pools=tuple(pools.values()),
            initial_cache="cold" if self.settings.initial_cache == "cold" else "warm",
            surge_steps=self.settings.surge_steps,
        )
        warnings, nothing_checked, nothing_checked_at = self._unreached_upstreams()
        warnings += [f"{span}: {text}" if span else text for text, span in self.idle_lookups]
        plugins = dict(self.coredns.plugins)
        if self.nodelocal:
            plugins.update({f"nodelocal:{k}": v for k, v in self.nodelocal.plugins.items()})
        return Analysis(
            model=model, step_seconds=self.settings.step, horizon=self.settings.horizon,
            coredns_version=self.settings.version, flows=self.flow_info, keys=info,
            groups=self.groups.info, scopes={i.id: i for _, i in self.scopes},
            assumptions=tuple(self.settings.recorder.assumptions),
            unmodelled=tuple(self.unmodelled), plugins=plugins, notes=tuple(self.notes),
            warnings=tuple(warnings), nothing_checked=nothing_checked,
            idle_lookups=tuple(self.idle_lookups),
            nothing_checked_at=nothing_checked_at,
        )

    def _unreached_upstreams(self) -> tuple[list[str], str, Span | None]:
        """A warning for each upstream no query of the model is sent to, and when there
        are flows and none of the upstreams is reached, why nothing would be checked."""
        unreached = [
            info for _, info in self.scopes if not self.targets_sent_to & set(info.addresses)
        ]
        sent = ", ".join(sorted(self.targets_sent_to)) or "no upstream at all"
        warnings = [
            f"{info.span or 'upstream'}: the model sends nothing to upstream "
            f"{', '.join(info.addresses)} (the Corefile and the pods send to {sent}): "
            "its limit is not checked"
            for info in unreached
        ]
        if self.flows and self.scopes and len(unreached) == len(self.scopes):
            message = (
                f"no upstream receives any query of the model (the upstreams are "
                f"{'; '.join(', '.join(i.addresses) for i in unreached)}; the Corefile and the pods "
                f"send to {sent}): nothing would be checked; set kalc.yaml's upstreams to the "
                "servers the Corefile forwards to"
            )
            return warnings, message, unreached[0].span
        return warnings, "", None


    def _probes(self, group_id: str, addresses: tuple[str, ...]) -> int:
        """Health-check packets per step one replica sends to ``addresses`` while they
        do not answer: one per upstream every ``health_check`` seconds (E7)."""
        setup = self.coredns if group_id.startswith("coredns") else self.nodelocal
        if setup is None or group_id.startswith("direct"):
            return 0
        return sum(
            math.ceil(self.settings.step / forward.health_check) * len(set(forward.targets) & set(addresses))
            for forward in _forwards(setup).values()
            if forward.health_check > 0
        )


def _forwards(setup: ServerSetup) -> dict[str, ForwardStep]:
    return {
        step.id: step
        for block in setup.blocks
        for step in block.steps
        if isinstance(step, ForwardStep)
    }


def _capacity(setup: ServerSetup | None, pool_id: str) -> int:
    cache = pool_id.split("/")[1]
    kind = pool_id.rsplit("/", 1)[1]
    success, denial = (setup.cache_capacity.get(cache, (9984, 9984)) if setup else (9984, 9984))
    return success if kind == "success" else denial


def _selector_text(lookup: LookupSpec) -> str:
    pods = lookup.pods
    parts = [f"namespaces {', '.join(pods.namespaces)}"] if pods.namespaces else []
    parts += [f"workload {pods.workload}"] if pods.workload else []
    parts += [f"labels {', '.join(f'{k}={v}' for k, v in pods.labels)}"] if pods.labels else []
    return "; ".join(parts) or "every pod"


def _upstream_targets(operations: Sequence[Operation]) -> set[str]:
    """The addresses the operations send upstream packets to."""
    targets: set[str] = set()
    for operation in operations:
        if isinstance(operation, Upstream):
            targets.update(operation.targets)
        elif isinstance(operation, CacheLookup):
            targets |= _upstream_targets(operation.on_miss)
        elif isinstance(operation, Walk):
            targets |= _upstream_targets(operation.internal)
    return targets


def _upstream_packets(operations: Sequence[Operation]) -> int:
    total = 0
    for operation in operations:
        if isinstance(operation, Upstream):
            total += 1
        elif isinstance(operation, CacheLookup):
            total += _upstream_packets(operation.on_miss)
        elif isinstance(operation, Walk):
            total += _upstream_packets(operation.internal)
    return total
