"""Static analysis: the upstream limits that are checked (scopes) and the server groups
whose replicas send to them.

A scope is one upstream of kalc.yaml with its limit (I1) and the replicas it counts
(one node, one replica or the cluster). A group is a set of identical replicas of one
server, or the nodes whose pods ask the upstream directly; one representative of each
is modelled, with the share of each flow's lookups it may get (specs/model.md section 2).
Groups are made when a flow first needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

from kalc_formal.analysis.ids import GroupKey, ServerKind
from kalc_formal.analysis.keyclasses import KeyClassBuilder
from kalc_formal.analysis.operations import forwards
from kalc_formal.analysis.podclasses import PodClass, node_bound
from kalc_formal.analysis.result import GroupInfo, ScopeInfo
from kalc_formal.config.settings import DEFAULT_UPSTREAM_LIMIT, CheckSettings
from kalc_formal.coredns.server import ServerSetup
from kalc_formal.kubernetes.cluster import Cluster
from kalc_formal.kubernetes.placement import NodeBound
from kalc_formal.model.flowmodel import Group, Scope


@dataclass(slots=True)
class ServerGroup:
    """A group of the model, the key classes it accumulates, and how many of its
    replicas count in a scope of each kind."""

    key: GroupKey
    group: Group
    label: str
    replicas: int
    builder: KeyClassBuilder
    members: dict[str, int]

    @property
    def info(self) -> GroupInfo:
        return GroupInfo(self.key.id, self.label, self.replicas, self.key.server)


class Topology:
    """The scopes of the settings' upstreams and the groups made so far."""

    def __init__(
        self, cluster: Cluster, settings: CheckSettings, coredns: ServerSetup,
        nodelocal: ServerSetup | None,
    ) -> None:
        self.cluster = cluster
        self.settings = settings
        self.coredns = coredns
        self.nodelocal = nodelocal
        self.scopes = upstream_scopes(settings)
        self.groups: list[ServerGroup] = []
        self.node_bounds: dict[str, NodeBound] = {}

    def setup(self, server: ServerKind) -> ServerSetup | None:
        """The plan of the server a group of ``server`` stands for (none: no server)."""
        if server == "coredns":
            return self.coredns
        return self.nodelocal if server == "nodelocal" else None

    def scope_ids_for(self, targets: tuple[str, ...]) -> tuple[str, ...]:
        """The scopes that packets to any of ``targets`` count in."""
        return tuple(
            scope.id for scope, info in self.scopes if set(targets) & set(info.addresses)
        )

    def _counts_cluster(self) -> bool:
        return any(info.kind == "cluster" for _, info in self.scopes)

    def groups_for(self, server: ServerKind) -> list[ServerGroup]:
        """The groups serving clients through ``server``, made on first use."""
        found = [g for g in self.groups if g.key.server == server]
        if found:
            return found
        s = self.settings
        if server == "coredns":
            serving = max(1, s.replicas - s.unavailable)
            low = (1 - s.skew) / s.replicas
            high = min(Fraction(1), (1 + s.skew) / serving)
            hot_members = {"node": s.replicas_per_node, "pod": 1, "cluster": s.replicas_per_node}
            split = (s.replicas, serving)
            self._add(GroupKey("coredns"), low, high, s.restarts, "the busiest CoreDNS replica",
                      s.replicas_per_node, hot_members, split)
            others = s.replicas - s.replicas_per_node
            if others > 0 and self._counts_cluster():
                self._add(GroupKey("coredns", others=True), low, high, s.restarts,
                          "each other CoreDNS replica", others, {"cluster": others}, split)
        else:
            # Shares per flow come from placement (``node_shares``), set with the result.
            label = "the node-local cache of the busiest node" if server == "nodelocal" else \
                "the pods of the busiest node, asking the upstream directly"
            split = (s.nodes, s.nodes)
            self._add(GroupKey(server), Fraction(0), Fraction(1), 0, label, 1,
                      {"node": 1, "pod": 1, "cluster": 1}, split)
            if s.nodes > 1 and self._counts_cluster():
                self._add(GroupKey(server, others=True), Fraction(0), Fraction(1), 0,
                          f"{label} (each other node)", s.nodes - 1,
                          {"cluster": s.nodes - 1}, split)
        return [g for g in self.groups if g.key.server == server]

    def _add(self, key: GroupKey, low: Fraction, high: Fraction, restarts: int,
             label: str, replicas: int, members: dict[str, int],
             split: tuple[int, int]) -> None:
        scope_of = {}
        schedules: dict[str, tuple[float, ...]] = {"direct": (0.0,)}
        closes: dict[str, tuple[float, ...]] = {}
        for forward_id, forward in forwards(self.setup(key.server)).items():
            scope_of[forward_id] = self.scope_ids_for(forward.targets)
            schedules[forward_id] = forward.send_times()
            closes[forward_id] = forward.servfail_times()
        scope_of["direct"] = self.scope_ids_for(self.settings.node_nameservers)
        builder = KeyClassBuilder(key.id, self.settings.step, scope_of, schedules, closes,
                                  arrivals=self.settings.arrivals)
        group = Group(key.id, low, high, restarts, label, replicas=split[0], serving=split[1])
        self.groups.append(ServerGroup(key, group, label, replicas, builder, members))

    def node_shares(self, pod_class: PodClass) -> tuple[Fraction, Fraction]:
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

    def probes(self, group: GroupKey, addresses: tuple[str, ...]) -> int:
        """Health-check packets per step one replica sends to ``addresses`` while they
        do not answer: one per upstream every ``health_check`` plus the probe's 1 s
        timeout (E7, measured)."""
        return sum(
            forward.probes_within(self.settings.step) * len(set(forward.targets) & set(addresses))
            for forward in forwards(self.setup(group.server)).values()
        )

    def model_scopes(
        self, lookup_packets: Callable[[str], tuple[tuple[str, int], ...]],
    ) -> list[Scope]:
        """The scopes with the replicas they count, the health checks those send while
        the upstream is out, and ``lookup_packets`` (scope id -> per flow, the packets
        of one lookup on a cold path)."""
        result = []
        for scope, info in self.scopes:
            members = [(g, g.members[info.kind]) for g in self.groups if info.kind in g.members]
            result.append(replace(
                scope, members=tuple((g.key.id, n) for g, n in members),
                probe_packets=sum(n * self.probes(g.key, info.addresses) for g, n in members),
                lookup_packets=lookup_packets(scope.id),
            ))
        return result

    def model_groups(
        self, flow_shares: Callable[[ServerKind], tuple[tuple[str, Fraction, Fraction], ...]],
    ) -> list[Group]:
        """The groups, those of nodes with their per-flow shares from placement."""
        return [
            g.group if g.key.server == "coredns" else
            replace(g.group, flow_shares=flow_shares(g.key.server))
            for g in self.groups
        ]


def upstream_scopes(settings: CheckSettings) -> list[tuple[Scope, ScopeInfo]]:
    """One scope per upstream of the settings, with no members yet."""
    result = []
    for index, upstream in enumerate(settings.upstreams):
        addresses = (
            settings.node_nameservers if upstream.address == "node" else (upstream.address,)
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
