"""Static analysis: cluster + Corefile + resolver model + kalc.yaml -> a FlowModel.

``analyse`` takes the settings ``config.settings`` decides (recording the defaults
used), forms pod classes and name classes, runs the client resolver model for one
lookup of each (pod class, name class) against the server model, and counts the
cache keys and upstream packets that result. See specs/model.md section 1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import cached_property

from kalc_formal.analysis.keyclasses import KeyInfo
from kalc_formal.analysis.lookups import ClientLookups
from kalc_formal.analysis.operations import forwards
from kalc_formal.analysis.podclasses import PodClass, pod_classes
from kalc_formal.analysis.pools import model_pool
from kalc_formal.analysis.result import Analysis
from kalc_formal.analysis.topology import Topology
from kalc_formal.config.envspec import EnvSpec, LookupSpec
from kalc_formal.config.names import name_classes
from kalc_formal.config.settings import (
    CheckSettings,
    Origin,
    decide_settings,
)
from kalc_formal.coredns.server import (
    DEFAULT_READ_TIMEOUT,
    PROBE_TIMEOUT,
    TCP_EXCHANGE_PACKETS,
    CacheStep,
    ForwardStep,
    Query,
    ServerSetup,
    Unmodelled,
)
from kalc_formal.errors import ConfigError, InvalidArgument
from kalc_formal.kubernetes.cluster import (
    Cluster,
    Workload,
)
from kalc_formal.model.flowmodel import FlowModel, KeyClass, Pool, ServerLimit
from kalc_formal.source import Span

PlanBuilder = Callable[[CheckSettings], ServerSetup]

Settings = CheckSettings
"""The name the analysis below still uses."""


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

    def _slow_replies(self) -> list[Unmodelled]:
        """A client that re-sends a query before the server may answer it: the server's
        answer can wait for several upstream exchanges one after the other (an autopath
        walk), each up to the reply time; the re-send starts the walk again (measured on
        real CoreDNS: musl with autopath, 4 client queries and 8 upstream ones per lookup
        with a 1.5 s upstream). The model's lookups do not re-send while nothing fails."""
        reply = self._reply_seconds
        found = []
        for info in self.lookups.flow_info.values():
            slowest = info.slowest_exchanges * reply
            if info.slowest_exchanges and slowest >= Fraction(str(info.resend_seconds)):
                found.append(Unmodelled(
                    "client re-sends", Query(info.name_class, "A"),
                    f"{info.pod_class} ({info.libc}) re-send a query after "
                    f"{info.resend_seconds:g} s without a reply, and CoreDNS may take up to "
                    f"{float(slowest):g} s to answer one ({info.slowest_exchanges} upstream "
                    f"exchanges one after the other, each up to {float(reply):g} s, E5): the "
                    "re-sends, and the walks they start again, are not modelled; if the "
                    "upstream answers faster, say so with check.reply_ms (an assumption)",
                    info.spans[0] if info.spans else None,
                ))
        return found

    @cached_property
    def _reply_seconds(self) -> Fraction:
        """The longest an answer may take: the assumed reply time, else forward's read
        timeout (a later answer is a failure, E5)."""
        arrivals = self.settings.arrivals
        if arrivals is not None:
            return arrivals.reply_seconds
        setups = [setup for setup in (self.coredns, self.nodelocal) if setup is not None]
        timeouts = [f.read_timeout for setup in setups for f in forwards(setup).values()]
        return Fraction(str(max(timeouts, default=DEFAULT_READ_TIMEOUT)))

    def _in_flight_steps(self) -> int:
        """Steps after its miss that an answer may still be on its way (D10)."""
        longest = self._reply_seconds
        if self.settings.arrivals is None:
            self.settings.recorder.note(
                "upstream reply time", f"up to {float(longest):g} s", "default",
                "an answer may come up to forward's read timeout after its query, and the "
                "queries for its key miss until then (E5, D10); a slower upstream is an outage",
            )
        return math.ceil(longest / self.settings.step)

    def _result(self) -> Analysis:
        self._note_measured()
        topology, lookups = self.topology, self.lookups
        keys: list[KeyClass] = []
        info: dict[str, KeyInfo] = {}
        pools: dict[str, Pool] = {}
        unmodelled = [*self.coredns.unmodelled, *lookups.unmodelled, *self._slow_replies()]
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
            server_limits=self._server_limits(),
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
            settings=self.settings, pod_classes=tuple(self.classes),
        )

    def _arrival_delay(self, rounds: int, upstream_rounds: int, reply_seconds: Fraction) -> int:
        """The most steps after its lookup's step a client query may arrive: it waits for
        ``rounds`` rounds of replies, ``upstream_rounds`` of them up to the upstream's
        reply time each, the others answered by the server itself, within one step in all
        (the note ``local answers``)."""
        if not rounds:
            return 0
        return math.ceil(upstream_rounds * reply_seconds / self.settings.step) + 1

    def _server_limits(self) -> tuple[ServerLimit, ...]:
        """The capacity of the busiest replica (or node-local cache) of each server
        kalc.yaml gives one for: its load is its share of the client queries of the
        flows that ask it."""
        reply_seconds = self._reply_seconds
        capacities = {
            "coredns": self.settings.capacity_qps,
            "nodelocal": self.settings.nodelocal_capacity_qps,
        }
        limits = []
        for group in self.topology.groups:
            capacity = capacities.get(group.key.server)
            if capacity is None or group.key.others:
                continue
            queries = tuple(
                (flow.id, delay, count)
                for flow in self.lookups.flows
                if (info := self.lookups.flow_info[flow.id]).server == group.key.server
                for delay, count in sorted(Counter(
                    self._arrival_delay(rounds, upstream_rounds, reply_seconds)
                    for rounds, upstream_rounds in info.client_query_waits
                ).items())
            )
            if not queries:
                continue
            limits.append(ServerLimit(
                group.key.id, group.key.id, capacity * self.settings.step, queries, group.label,
            ))
        if any(delay for limit in limits for _, delay, _ in limit.client_queries):
            self.settings.recorder.note(
                "local answers", "within 1 step per lookup", "default",
                "server-load: a client query sent after earlier replies may arrive in a later "
                "step than its lookup's: up to the upstream reply time per round that may go "
                "upstream, and the server's own answers of one lookup within one step in all",
            )
        served = {limit.group for limit in limits}
        if self.settings.nodelocal_capacity_qps is not None and "nodelocal" not in served:
            self.notes.append(
                "nodelocal.capacity_qps is set, but no client asks a NodeLocal DNSCache: "
                "server-load is not checked there"
            )
        if self.settings.capacity_qps is not None and "coredns" not in served:
            self.notes.append(
                "coredns.capacity_qps is set, but no client asks CoreDNS directly (the queries "
                "node-local caches forward to it are not counted): server-load is not checked there"
            )
        return tuple(limits)

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
