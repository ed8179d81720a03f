"""Static analysis: one lookup of each (pod class, name class), as the client sends it.

For each pod class the resolv.conf the kubelet gives it (H1-H4) decides which server
answers: CoreDNS, the node-local cache, or the node's nameservers (then the pods send
to the upstream themselves). The client resolver model runs one lookup of the name
against that server model, and each client query's operations are added to the key
classes of every group serving the flow. When an upstream may be out, what the client
sends after a failure is added too (K4).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import accumulate

from kalc_formal.analysis.ids import FlowKey, ServerKind
from kalc_formal.analysis.keyclasses import (
    KeyClassBuilder,
    KeyPeak,
    NamePlaceholder,
    NamespacePlaceholder,
)
from kalc_formal.analysis.operations import (
    forwards,
    kubernetes_ttl,
    scope_packets,
    upstream_packets,
    upstream_targets,
)
from kalc_formal.analysis.podclasses import PodClass, lookups_per_step, pod_dns_config
from kalc_formal.analysis.result import FlowInfo
from kalc_formal.analysis.topology import Topology
from kalc_formal.analysis.world import service_world, to_client_reply, upstream_world
from kalc_formal.clients.resolvconf import (
    Libc,
    ResolvConf,
    ResolverSettings,
    pod_resolv_conf,
)
from kalc_formal.clients.resolver import ClientReply, Packet, simulate_lookup
from kalc_formal.clients.resolver import ReplyFunction as ClientReplyFunction
from kalc_formal.config.names import NameClass
from kalc_formal.config.settings import DEFAULT_RATE, CheckSettings
from kalc_formal.coredns.server import (
    FORWARD_DEADLINE,
    Client,
    ForwardStep,
    Operation,
    Query,
    Served,
    Server,
    ServerReply,
    ServiceExists,
    Unmodelled,
    UpstreamExchange,
    World,
)
from kalc_formal.kubernetes.cluster import Cluster
from kalc_formal.model.flowmodel import Flow

ServedQueries = dict[tuple[str, str], tuple[ServerReply, tuple[Operation, ...]]]
"""(qname, qtype) -> the server's reply and the operations serving it took."""


class ClientLookups:
    """The flows of the model, one per (pod class, name class) looked up, and the key
    classes their queries meet in the groups of ``topology``."""

    def __init__(
        self, cluster: Cluster, settings: CheckSettings, names: Sequence[NameClass],
        topology: Topology,
    ) -> None:
        self.cluster = cluster
        self.settings = settings
        self.topology = topology
        self.coredns = topology.coredns
        self.nodelocal = topology.nodelocal
        self.world = upstream_world(names)
        self.services = service_world(names, settings.domain, lambda: kubernetes_ttl(self.coredns))
        self.may_fail = any(u.outage_steps for u in settings.upstreams)
        self.flows: list[Flow] = []
        self.flow_info: dict[str, FlowInfo] = {}
        self.flow_shares: dict[str, tuple[Fraction, Fraction]] = {}
        self.lookup_packets: dict[str, dict[str, int]] = {}
        self.targets_sent_to: set[str] = set()
        self.unmodelled: list[Unmodelled] = []

    def shares_of(self, server: ServerKind) -> tuple[tuple[str, Fraction, Fraction], ...]:
        """(flow id, min, max share) of the busiest node for each flow served by ``server``."""
        return tuple(
            (f.id, *self.flow_shares[f.id]) for f in self.flows
            if f.id in self.flow_shares and self.flow_info[f.id].server == server
        )

    def cold_packets(self, scope_id: str) -> tuple[tuple[str, int], ...]:
        """(flow id, packets one lookup sends to the scope when every cache misses); none
        when an upstream may be out (clients then ask again, beyond one lookup's path)."""
        if self.may_fail:
            return ()
        per_flow = self.lookup_packets.get(scope_id, {})
        return tuple((f.id, per_flow.get(f.id, 0)) for f in self.flows)

    def add(self, pod_class: PodClass, name: NameClass) -> None:
        """The flow of ``pod_class`` looking up ``name``."""
        s = self.settings
        lookup = pod_class.lookup
        rate = lookup.rate if lookup.rate is not None else DEFAULT_RATE
        surge = lookup.surge_rate if lookup.surge_rate is not None else rate
        libc = Libc(lookup.libc or "glibc")
        flow_id = FlowKey(pod_class.id, name.id).id
        base = lookups_per_step(pod_class.pods_base, rate, name.count, s.step, up=False)
        peak = max(base, lookups_per_step(pod_class.pods_peak, surge, name.count, s.step, up=True))
        conf = self._resolv_conf(pod_class)
        server, kind = self._server_for(conf, pod_class)
        client = Client(pod_class.namespace_label, autopath_visible=kind == "coredns" and not pod_class.host_network)
        served: ServedQueries = {}

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
            shares = self.topology.node_shares(pod_class)
            self.flow_shares[flow_id] = shares
        for server_group in self.topology.groups_for(kind):
            group = server_group.group
            guaranteed = float(uniform * (shares[0] if shares else group.share_min))
            builder = server_group.builder
            share_max = shares[1] if shares else group.share_max
            peak_per_key = KeyPeak(
                math.ceil(share_max * peak_name), math.ceil(share_max * peak_name_namespace)
            )
            for packet in trace.packets:
                operations = served[(packet.qname, packet.qtype)][1]
                builder.add_query(flow_id, operations, name_ph, ns_ph, guaranteed, peak_per_key)
            if self.may_fail:
                self._followups(builder, trace.packets, conf, libc, reply, served, name_ph, ns_ph, kind)
        exchanges = [upstream_packets(served[(p.qname, p.qtype)][1]) for p in trace.packets]
        for packet, exchanged in zip(trace.packets, exchanges, strict=True):
            operations = served[(packet.qname, packet.qtype)][1]
            queries.append(f"{packet.qname} {packet.qtype}")
            cold += exchanged
            self.targets_sent_to |= upstream_targets(operations)
            for scope_id, packets in scope_packets(operations, self.topology.scope_ids_for).items():
                per_scope = self.lookup_packets.setdefault(scope_id, {})
                per_scope[flow_id] = per_scope.get(flow_id, 0) + packets
        self.flows.append(Flow(flow_id, base, peak, f"{pod_class.label} -> {name.label}"))
        self.flow_info[flow_id] = FlowInfo(
            flow_id, pod_class.label, len(pod_class.namespaces), pod_class.pods_base,
            pod_class.pods_peak, name.label, name.count, rate, surge, libc.value, kind,
            tuple(queries), cold, pod_class.spans,
            tuple(query_waits(trace.packets, [n > 0 for n in exchanges])),
            max(exchanges, default=0),
            resend_seconds(conf.settings(libc)),
        )

    def _followups(
        self, builder: KeyClassBuilder, packets: Sequence[Packet], conf: ResolvConf, libc: Libc,
        reply: ClientReplyFunction, served: ServedQueries,
        name: NamePlaceholder, namespace: NamespacePlaceholder, kind: ServerKind,
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
        served: ServedQueries, answered: set[tuple[str, str]], packet: Packet,
        failure: ClientReply, arrives: float,
    ) -> list[tuple[Packet, int]]:
        """The packets a client sends after ``packet`` fails, with their delay in steps:
        each round of the client's queries that meets a failure waits ``arrives``
        seconds for it (a timeout's wait is the resolver model's own)."""
        injected: set[tuple[str, str]] = set()

        def failed_reply(qname: str, qtype: str, nameserver: str) -> ClientReply:
            normal = reply(qname, qtype, nameserver)
            needs_upstream = upstream_packets(served[(qname, qtype)][1]) > 0
            if (qname, qtype) in answered or not needs_upstream:
                return normal
            injected.add((qname, qtype))
            return failure

        rerun = simulate_lookup(text, conf, libc, failed_reply)
        shifted = shifted_times(rerun.packets, injected, arrives if failure is ClientReply.SERVFAIL else 0.0)
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

    def _failure_modes(self, timeout: float, kind: ServerKind) -> list[tuple[ClientReply, float]]:
        """How a failed exchange can reach a client whose timeout is ``timeout``: a
        timeout, or SERVFAIL after some seconds. CoreDNS answers SERVFAIL after each of
        its forwards' ``servfail_times`` (once the upstream is marked down, and before);
        a client whose timeout is shorter times out first. Every client also keeps the
        path of forward's 5 s deadline (a timeout if its timeout is at most 5 s, else
        SERVFAIL), the only one for pods that ask the node's nameservers directly."""
        modes = {(ClientReply.TIMEOUT if timeout <= FORWARD_DEADLINE else ClientReply.SERVFAIL,
                  FORWARD_DEADLINE)}
        setup = self.topology.setup(kind)
        if setup is None:
            return sorted(modes, key=lambda m: (m[0].value, m[1]))
        for forward in forwards(setup).values():
            for at in forward.servfail_times():
                modes.add((ClientReply.TIMEOUT, timeout) if timeout <= at else (ClientReply.SERVFAIL, at))
        return sorted(modes, key=lambda m: (m[0].value, m[1]))

    def _resolv_conf(self, pod_class: PodClass) -> ResolvConf:
        made = pod_resolv_conf(
            dns_policy=pod_class.dns_policy, host_network=pod_class.host_network,
            dns_config=pod_dns_config(pod_class.dns_config), namespace=pod_class.namespace_label,
            cluster_domain=self.settings.domain, cluster_dns=(self.settings.dns_ip,),
            node_resolv_conf=self.settings.node_resolv_conf,
        )
        return made.resolv_conf

    def _server_for(self, conf: ResolvConf, pod_class: PodClass) -> tuple[Server | None, ServerKind]:
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
            if upstream_packets(served.operations):
                self.unmodelled.append(Unmodelled(
                    "forward", query, "the node-local cache relays to CoreDNS, which forwards "
                    "upstream: traffic across two servers is not modelled", step.span,
                ))
            return Served(served.reply, ())

        return relay


def resend_seconds(settings: ResolverSettings) -> float:
    """How long a client waits for a reply before it sends the query again: musl every
    timeout / attempts (G9, measured), glibc and Go after the timeout (G3, G14)."""
    if settings.libc is Libc.MUSL and settings.attempts > 0:
        return (settings.timeout * 1000 // settings.attempts) / 1000
    return float(settings.timeout)


def packet_rounds(packets: Sequence[Packet]) -> list[int]:
    """Per packet, the index of its round: a round is a run of packets sent together for
    one name (A and AAAA side by side); the resolver model answers at once, so a
    client's rounds can share one time."""
    rounds: list[int] = []
    round_key: tuple[float, str] | None = None
    members: set[str] = set()
    for packet in packets:
        if not (round_key == (packet.time, packet.qname) and packet.qtype not in members):
            round_key, members = (packet.time, packet.qname), set()
            rounds.append(rounds[-1] + 1 if rounds else 0)
        else:
            rounds.append(rounds[-1])
        members.add(packet.qtype)
    return rounds


def _marked_before(rounds: Sequence[int], marked: Sequence[bool]) -> list[int]:
    """Per packet, how many earlier rounds hold a marked packet."""
    marked_rounds = {r for r, mark in zip(rounds, marked, strict=True) if mark}
    before = [0] * (max(rounds, default=-1) + 1)
    for index in range(1, len(before)):
        before[index] = before[index - 1] + (index - 1 in marked_rounds)
    return [before[r] for r in rounds]


def query_waits(packets: Sequence[Packet], needs_upstream: Sequence[bool]) -> list[tuple[int, int]]:
    """Per packet, the earlier rounds it waits for and how many of those hold a query
    that may wait for an upstream (``needs_upstream``, per packet)."""
    rounds = packet_rounds(packets)
    return list(zip(rounds, _marked_before(rounds, needs_upstream), strict=True))


def shifted_times(packets: Sequence[Packet], failed: set[tuple[str, str]], wait: float) -> list[float]:
    """Send times of ``packets`` when each failed query's reply takes ``wait`` seconds:
    a round that holds a failed query delays every later round by ``wait``."""
    rounds = packet_rounds(packets)
    delays = _marked_before(rounds, [(p.qname, p.qtype) in failed for p in packets])
    shifts = list(accumulate([0.0] + [wait] * max(delays, default=0)))
    return [packet.time + shifts[delay] for packet, delay in zip(packets, delays, strict=True)]
