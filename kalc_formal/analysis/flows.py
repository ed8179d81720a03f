"""Static analysis: cluster + Corefile + resolver model + kalc.yaml -> a FlowModel.

``analyse`` takes the settings ``config.settings`` decides (recording the defaults
used), forms pod classes and name classes, runs the client resolver model for one
lookup of each (pod class, name class) against the server model, and counts the
cache keys and upstream packets that result. See specs/model.md section 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from kalc_formal.analysis.keyclasses import (
    KeyClassBuilder,
    KeyInfo,
    KeyPeak,
    NamePlaceholder,
    NamespacePlaceholder,
)
from kalc_formal.analysis.podclasses import (
    PodClass,
    lookups_per_step,
    node_bound,
    pod_classes,
)
from kalc_formal.analysis.result import Analysis, FlowInfo, GroupInfo, ScopeInfo
from kalc_formal.clients.resolvconf import (
    Libc,
    PodDNSConfig,
    ResolvConf,
    ResolvOption,
    pod_resolv_conf,
)
from kalc_formal.clients.resolver import ClientReply, Packet, simulate_lookup
from kalc_formal.clients.resolver import ReplyFunction as ClientReplyFunction
from kalc_formal.config.envspec import EnvSpec, LookupSpec
from kalc_formal.config.names import NameClass, name_classes
from kalc_formal.config.settings import (
    DEFAULT_NEGATIVE_TTL,
    DEFAULT_RATE,
    DEFAULT_UPSTREAM_LIMIT,
    CheckSettings,
    Origin,
    decide_settings,
)
from kalc_formal.coredns.server import (
    DEFAULT_READ_TIMEOUT,
    FORWARD_DEADLINE,
    PROBE_TIMEOUT,
    TCP_EXCHANGE_PACKETS,
    CacheLookup,
    CacheStep,
    Client,
    ForwardStep,
    KubernetesStep,
    Operation,
    Query,
    Served,
    Server,
    ServerReply,
    ServerSetup,
    ServiceExists,
    Unmodelled,
    UpstreamExchange,
    Walk,
    World,
)
from kalc_formal.errors import ConfigError, InvalidArgument
from kalc_formal.kubernetes.cluster import (
    Cluster,
    Workload,
)
from kalc_formal.kubernetes.placement import (
    NodeBound,
)
from kalc_formal.model.flowmodel import Flow, FlowModel, Group, KeyClass, Pool, Scope
from kalc_formal.source import Span

PlanBuilder = Callable[[CheckSettings], ServerSetup]

Settings = CheckSettings
"""The name the analysis below still uses."""


# ---- the world: what names resolve to --------------------------------------------------


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def upstream_world(names: Sequence[NameClass]) -> Callable[[str, str], ServerReply]:
    """What the upstream answers: the external names as given exist, the rest NXDOMAIN."""
    table = {
        _fqdn(n.text): n for n in names if n.kind == "external" and n.exists
    }
    negative: dict[str, tuple[int, int]] = {}
    for order, name in enumerate(n for n in names if n.kind == "external"):
        key = _fqdn(name.text)
        negative[key] = (negative.get(key, (order, 0))[0], name.negative_ttl)

    def answer(qname: str, qtype: str) -> ServerReply:
        name = table.get(qname)
        if name is not None:
            if qtype == "AAAA" and not name.aaaa:
                return ServerReply("NOERROR", answer=False, ttl=name.negative_ttl)
            return ServerReply("NOERROR", answer=True, ttl=name.ttl)
        # the first name (in kalc.yaml's order) that qname starts with, probed per label
        matches = [
            negative[prefix]
            for end in range(len(qname))
            if qname[end] == "." and (prefix := qname[: end + 1]) in negative
        ]
        if matches:
            return ServerReply("NXDOMAIN", ttl=min(matches)[1])
        return ServerReply("NXDOMAIN", ttl=DEFAULT_NEGATIVE_TTL)

    return answer


def service_world(
    names: Sequence[NameClass], domain: str, ttl: Callable[[], int]
) -> Callable[[str, str], ServerReply | None]:
    """Which in-cluster Service names exist and their answers: a Service given without a
    namespace is in every client's own namespace."""
    existing: dict[str, NameClass] = {}
    for name in names:
        if name.service is not None and name.exists:
            existing[f"{name.service}.{name.namespace or '*'}.svc.{domain}."] = name

    def answer(qname: str, qtype: str) -> ServerReply | None:
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
            return ServerReply("NOERROR", answer=False, ttl=min(ttl(), 300))
        return ServerReply("NOERROR", answer=True, ttl=ttl())

    return answer


def to_client_reply(reply: ServerReply) -> ClientReply:
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
        self.flow_shares: dict[str, tuple[Fraction, Fraction]] = {}
        self.node_bounds: dict[str, NodeBound] = {}
        self.lookup_packets: dict[str, dict[str, int]] = {}
        self.classes: list[PodClass] = []

    def run(self) -> Analysis:
        special = {n.namespace for n in self.names if n.namespace}
        classes = pod_classes(
            self.cluster, self.settings.lookups, nodes=self.settings.nodes,
            special_namespaces=special, scale_to_hpa_max=self.settings.scale_to_hpa_max,
            excluded=self.excluded,
        )
        self.classes = classes
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
                    self._flow(pod_class, self.names_by_id[name_id])
                except InvalidArgument as error:
                    config = pod_class.dns_config
                    span = config.span if config is not None else pod_class.workloads[0].span
                    raise ConfigError(f"{pod_class.label}: {error}", span) from error
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
            scope = Scope(scope_id, limit, (), label, outage_steps=upstream.outage_steps or 0,
                          window_steps=2 if upstream.window == "sliding" else 1)
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
            split = (s.replicas, serving)
            self._add_group("coredns", low, high, s.restarts, "the busiest CoreDNS replica",
                            s.replicas_per_node, hot_members, split)
            others = s.replicas - s.replicas_per_node
            if others > 0 and any(i.kind == "cluster" for _, i in self.scopes):
                self._add_group("coredns-others", low, high, s.restarts,
                                "each other CoreDNS replica", others, {"cluster": others}, split)
        else:
            # Shares per flow come from placement (``_node_shares``), set in ``_result``.
            label = "the node-local cache of the busiest node" if kind == "nodelocal" else \
                "the pods of the busiest node, asking the upstream directly"
            split = (s.nodes, s.nodes)
            self._add_group(kind, Fraction(0), Fraction(1), 0, label, 1,
                            {"node": 1, "pod": 1, "cluster": 1}, split)
            if s.nodes > 1 and any(i.kind == "cluster" for _, i in self.scopes):
                self._add_group(f"{kind}-others", Fraction(0), Fraction(1), 0,
                                f"{label} (each other node)", s.nodes - 1,
                                {"cluster": s.nodes - 1}, split)
        return [g for g in self.groups.info if g.startswith(kind)]

    def _node_shares(self, pod_class: PodClass) -> tuple[Fraction, Fraction]:
        """The share of the class's lookups sent from the busiest node: at most
        ``min(P, cap) / P`` (``cap``: the most pods of the class on one node, ``P``: its
        pods at baseline, the fewest that share the lookups); at least 0: nothing forces
        a pod onto a given node (a DaemonSet skips nodes whose taints it does not
        tolerate)."""
        s = self.settings
        pods = pod_class.pods_base
        bound = self.node_bounds.get(pod_class.id)
        if bound is None:
            bound = node_bound(pod_class, nodes=s.nodes, node_objects=self.cluster.nodes,
                               max_pods=s.max_pods)
            self.node_bounds[pod_class.id] = bound
            s.recorder.note(
                "pods per node", f"at most {min(bound.pods, pods)} of {pods}: {pod_class.label}",
                bound.origin, bound.reason, bound.span, narrows=bound.origin == "kalc.yaml",
            )
        high = Fraction(1) if pods <= 0 else min(Fraction(1), Fraction(bound.pods, pods))
        return Fraction(0), max(high, Fraction(1, s.nodes))

    def _add_group(self, group_id: str, low: Fraction, high: Fraction, restarts: int,
                   label: str, replicas: int, members: dict[str, int],
                   split: tuple[int, int]) -> None:
        setup = self.coredns if group_id.startswith("coredns") else self.nodelocal
        scope_of = {}
        schedules: dict[str, tuple[float, ...]] = {"direct": (0.0,)}
        closes: dict[str, tuple[float, ...]] = {}
        forwards = _forwards(setup) if setup else {}
        for forward_id, forward in forwards.items():
            scope_of[forward_id] = self._scope_ids_for(forward.targets)
            schedules[forward_id] = forward.send_times()
            closes[forward_id] = forward.servfail_times()
        scope_of["direct"] = self._scope_ids_for(self.settings.node_nameservers)
        builder = KeyClassBuilder(group_id, self.settings.step, scope_of, schedules, closes,
                                  arrivals=self.settings.arrivals)
        group = Group(group_id, low, high, restarts, label, replicas=split[0], serving=split[1])
        self.groups.add(group, label, replicas, builder, members)

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
        served: dict[tuple[str, str], tuple[ServerReply, tuple[Operation, ...]]] = {}

        def reply(qname: str, qtype: str, nameserver: str) -> ClientReply:
            key = (qname, qtype)
            if key not in served:
                if server is None:
                    answered = self.world(qname, qtype)
                    ops: tuple[Operation, ...] = (
                        UpstreamExchange("direct", (nameserver,), Query(qname, qtype)),
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
        peak_name = lookups_per_step(pod_class.pods_peak, surge, 1, s.step, up=True)
        peak_name_namespace = lookups_per_step(
            pod_class.pods_peak_max_per_namespace, surge, 1, s.step, up=True
        )
        uniform = lookups_per_step(
            pod_class.pods_min_per_namespace * len(pod_class.namespaces), rate, name.count,
            s.step, up=False,
        )
        queries = []
        cold = 0
        shares = None
        if kind != "coredns":
            shares = self._node_shares(pod_class)
            self.flow_shares[flow_id] = shares
        for group_id in self._group(kind):
            group = next(g for g in self.groups.groups if g.id == group_id)
            guaranteed = float(uniform * (shares[0] if shares else group.share_min))
            builder = self.groups.builders[group_id]
            share_max = shares[1] if shares else group.share_max
            peak_per_key = KeyPeak(
                math.ceil(share_max * peak_name), math.ceil(share_max * peak_name_namespace)
            )
            for packet in trace.packets:
                operations = served[(packet.qname, packet.qtype)][1]
                builder.add_query(flow_id, operations, name_ph, ns_ph, guaranteed, peak_per_key)
            if self.may_fail:
                self._followups(builder, trace.packets, conf, libc, reply, served, name_ph, ns_ph, kind)
        for packet in trace.packets:
            operations = served[(packet.qname, packet.qtype)][1]
            queries.append(f"{packet.qname} {packet.qtype}")
            cold += _upstream_packets(operations)
            self.targets_sent_to |= _upstream_targets(operations)
            for scope_id, packets in _scope_packets(operations, self._scope_ids_for).items():
                per_scope = self.lookup_packets.setdefault(scope_id, {})
                per_scope[flow_id] = per_scope.get(flow_id, 0) + packets
        self.flows.append(Flow(flow_id, base, peak, f"{pod_class.label} -> {name.label}"))
        self.flow_info[flow_id] = FlowInfo(
            flow_id, pod_class.label, len(pod_class.namespaces), pod_class.pods_base,
            pod_class.pods_peak, name.label, name.count, rate, surge, libc.value, kind,
            tuple(queries), cold, pod_class.spans,
        )

    def _followups(
        self, builder: KeyClassBuilder, packets: Sequence[Packet], conf: ResolvConf, libc: Libc,
        reply: ClientReplyFunction, served: dict[tuple[str, str], tuple[ServerReply, tuple[Operation, ...]]],
        name: NamePlaceholder, namespace: NamespacePlaceholder, kind: str,
    ) -> None:
        """What a client sends after one of its queries fails (K4): the lookup re-run
        with that query and every later one that needs the upstream unanswered; its
        later packets are follow-ups of the classes whose failure started it. A failure
        reaches the client as each of ``_failure_modes`` says; per (class, delay) the
        largest count over the modes is kept."""
        modes = self._failure_modes(conf.settings(libc).timeout, kind)
        for index, packet in enumerate(packets):
            failing = builder.failing(served[(packet.qname, packet.qtype)][1], name, namespace)
            if not failing:
                continue
            answered = {(p.qname, p.qtype) for p in packets[:index]}
            largest: dict[tuple[str, int], int] = {}
            for failure, arrives in modes:
                counts: dict[tuple[str, int], int] = {}
                for later, delay in self._failure_path(
                    name.text, conf, libc, reply, served, answered, packet, failure, arrives
                ):
                    for target in builder.register(served[(later.qname, later.qtype)][1], name, namespace):
                        counts[(target, delay)] = counts.get((target, delay), 0) + 1
                for slot, count in counts.items():
                    largest[slot] = max(largest.get(slot, 0), count)
            for (target, delay), count in largest.items():
                for key_id in failing:
                    for _ in range(count):
                        builder.add_followup(key_id, target, delay)

    def _failure_path(
        self, text: str, conf: ResolvConf, libc: Libc, reply: ClientReplyFunction,
        served: dict[tuple[str, str], tuple[ServerReply, tuple[Operation, ...]]],
        answered: set[tuple[str, str]], packet: Packet, failure: ClientReply, arrives: float,
    ) -> list[tuple[Packet, int]]:
        """The packets a client sends after ``packet`` fails, with their delay in steps:
        each round of the client's queries that meets a failure waits ``arrives``
        seconds for it (a timeout's wait is the resolver model's own)."""
        injected: set[tuple[str, str]] = set()

        def failed_reply(qname: str, qtype: str, nameserver: str) -> ClientReply:
            normal = reply(qname, qtype, nameserver)
            needs_upstream = _upstream_packets(served[(qname, qtype)][1]) > 0
            if (qname, qtype) in answered or not needs_upstream:
                return normal
            injected.add((qname, qtype))
            return failure

        rerun = simulate_lookup(text, conf, libc, failed_reply)
        shifted = _shifted_times(rerun.packets, injected, arrives if failure is ClientReply.SERVFAIL else 0.0)
        start = next(
            at for p, at in zip(rerun.packets, shifted, strict=True) if (p.qname, p.qtype) == (packet.qname, packet.qtype)
        )
        result = []
        for later, at in zip(rerun.packets, shifted, strict=True):
            delay = math.floor((at - start) / self.settings.step)
            if at <= start or delay < 1:
                continue
            result.append((later, delay))
        return result

    def _failure_modes(self, timeout: float, kind: str) -> list[tuple[ClientReply, float]]:
        """How a failed exchange can reach a client whose timeout is ``timeout``: a
        timeout, or SERVFAIL after some seconds. CoreDNS answers SERVFAIL after each of
        its forwards' ``servfail_times`` (once the upstream is marked down, and before);
        a client whose timeout is shorter times out first. Every client also keeps the
        path of forward's 5 s deadline (a timeout if its timeout is at most 5 s, else
        SERVFAIL), the only one for pods that ask the node's nameservers directly."""
        modes = {(ClientReply.TIMEOUT if timeout <= FORWARD_DEADLINE else ClientReply.SERVFAIL,
                  FORWARD_DEADLINE)}
        setup = {"coredns": self.coredns, "nodelocal": self.nodelocal}.get(kind)
        if setup is None:
            return sorted(modes, key=lambda m: (m[0].value, m[1]))
        for forward in _forwards(setup).values():
            for at in forward.servfail_times():
                modes.add((ClientReply.TIMEOUT, timeout) if timeout <= at else (ClientReply.SERVFAIL, at))
        return sorted(modes, key=lambda m: (m[0].value, m[1]))

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
        forwards = [step for step in steps if isinstance(step, ForwardStep)]
        if self.may_fail and forwards:
            times = "/".join(f"{t:g}" for t in forwards[0].servfail_times())
            period = forwards[0].health_check + PROBE_TIMEOUT
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
        timeouts = [f.read_timeout for setup in setups for f in _forwards(setup).values()]
        longest = max(timeouts, default=DEFAULT_READ_TIMEOUT)
        self.settings.recorder.note(
            "upstream reply time", f"up to {longest:g} s", "default",
            "an answer may come up to forward's read timeout after its query, and the queries "
            "for its key miss until then (E5, D10); a slower upstream is an outage",
        )
        return math.ceil(longest / self.settings.step)

    def _result(self) -> Analysis:
        self._note_measured()
        keys: list[KeyClass] = []
        info: dict[str, KeyInfo] = {}
        pools: dict[str, Pool] = {}
        for group in self.groups.groups:
            builder = self.groups.builders[group.id]
            setup = self.coredns if group.id.startswith("coredns") else self.nodelocal
            for key in builder.key_classes():
                keys.append(key)
                if key.pool and key.pool not in pools:
                    cache, kind = builder.pools[key.pool]
                    capacity = _capacity(setup, cache, kind)
                    shard = capacity // CACHE_SHARDS if self.settings.shard_balance == "any" else 0
                    pools[key.pool] = Pool(key.pool, group.id, capacity, shard)
            info.update(builder.info)
            self.unmodelled += builder.unmodelled
        scopes = []
        for scope, scope_info in self.scopes:
            members = tuple(
                (g, n[scope_info.kind]) for g, n in self.groups.members.items() if scope_info.kind in n
            )
            probes = sum(n * self._probes(g, scope_info.addresses) for g, n in members)
            caused = () if self.may_fail else tuple(
                (f.id, self.lookup_packets.get(scope.id, {}).get(f.id, 0)) for f in self.flows
            )
            scopes.append(replace(scope, members=members, probe_packets=probes,
                                  lookup_packets=caused))
        groups = [
            g if g.id.startswith("coredns") else replace(g, flow_shares=tuple(
                (f.id, *self.flow_shares[f.id]) for f in self.flows if f.id in self.flow_shares
                and self.flow_info[f.id].server == g.id.split("-")[0]
            ))
            for g in self.groups.groups
        ]
        model = FlowModel(
            flows=tuple(self.flows), groups=tuple(groups), key_classes=tuple(keys),
            scopes=tuple(scopes), pools=tuple(pools.values()),
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
            coredns_version=self.settings.version, flows=self.flow_info, keys=info,
            groups=self.groups.info, scopes={i.id: i for _, i in self.scopes},
            assumptions=tuple(self.settings.recorder.assumptions),
            unmodelled=tuple(self.unmodelled), plugins=plugins, notes=tuple(self.notes),
            warnings=tuple(warnings), nothing_checked=nothing_checked,
            idle_lookups=tuple(self.idle_lookups),
            nothing_checked_at=nothing_checked_at,
            settings=self.settings, pod_classes=tuple(self.classes),
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
        do not answer: one per upstream every ``health_check`` plus the probe's 1 s
        timeout (E7, measured)."""
        setup = self.coredns if group_id.startswith("coredns") else self.nodelocal
        if setup is None or group_id.startswith("direct"):
            return 0
        return sum(
            forward.probes_within(self.settings.step) * len(set(forward.targets) & set(addresses))
            for forward in _forwards(setup).values()
        )


def _forwards(setup: ServerSetup) -> dict[str, ForwardStep]:
    return {
        step.id: step
        for block in setup.blocks
        for step in block.steps
        if isinstance(step, ForwardStep)
    }


CACHE_SHARDS = 256
"""Each cache pool is split into this many shards of equal capacity (D3)."""


def _capacity(setup: ServerSetup | None, cache: str, kind: str) -> int:
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
        if isinstance(operation, UpstreamExchange):
            targets.update(operation.targets)
        elif isinstance(operation, CacheLookup):
            targets |= _upstream_targets(operation.on_miss)
        elif isinstance(operation, Walk):
            targets |= _upstream_targets(operation.internal)
    return targets
def _scope_packets(
    operations: Sequence[Operation], scopes_of: Callable[[tuple[str, ...]], tuple[str, ...]],
) -> dict[str, int]:
    """Upstream packets per scope when every cache on the path misses."""
    total: dict[str, int] = {}

    def add(found: dict[str, int]) -> None:
        for scope_id, packets in found.items():
            total[scope_id] = total.get(scope_id, 0) + packets

    for operation in operations:
        if isinstance(operation, UpstreamExchange):
            add(dict.fromkeys(scopes_of(operation.targets), operation.packets))
        elif isinstance(operation, CacheLookup):
            add(_scope_packets(operation.on_miss, scopes_of))
        elif isinstance(operation, Walk):
            add(_scope_packets(operation.internal, scopes_of))
    return total


def _shifted_times(packets: Sequence[Packet], failed: set[tuple[str, str]], wait: float) -> list[float]:
    """Send times of ``packets`` when each failed query's reply takes ``wait`` seconds.

    The resolver model answers at once, so a client's rounds can share one time. A
    round is a run of packets sent together for one name (A and AAAA side by side);
    a round that holds a failed query delays every later round by ``wait``."""
    shift = 0.0
    result: list[float] = []
    round_key: tuple[float, str] | None = None
    round_members: set[str] = set()
    round_failed = False
    for packet in packets:
        same_round = round_key == (packet.time, packet.qname) and packet.qtype not in round_members
        if not same_round:
            if round_failed:
                shift += wait
            round_key, round_members, round_failed = (packet.time, packet.qname), set(), False
        round_members.add(packet.qtype)
        round_failed = round_failed or (packet.qname, packet.qtype) in failed
        result.append(packet.time + shift)
    return result


def _upstream_packets(operations: Sequence[Operation]) -> int:
    total = 0
    for operation in operations:
        if isinstance(operation, UpstreamExchange):
            total += 1
        elif isinstance(operation, CacheLookup):
            total += _upstream_packets(operation.on_miss)
        elif isinstance(operation, Walk):
            total += _upstream_packets(operation.internal)
    return total
