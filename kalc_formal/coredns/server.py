"""Static analysis: what a CoreDNS server does with one query, as a tree of costs.

``Server.serve`` routes a query to its server block (A23) and runs the block's plugin
plan in execution order (B1-B6). The result is the reply and the operations that
serving it takes: cache lookups (with what a miss costs), upstream exchanges, local
answers, and plugins in the path whose effect is not modelled. Nothing here is per
pod: the client is described by its namespace label and whether autopath can see it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from kalc_formal.coredns.plugins.cache import (
    CACHE_DEFAULT_EFFECTIVE_CAPACITY,
    CACHE_MAX_NTTL,
    CACHE_MAX_TTL,
    CACHE_MIN_TTL,
)
from kalc_formal.coredns.plugins.forward import DEFAULT_HEALTH_CHECK
from kalc_formal.coredns.plugins.forward import (
    DEFAULT_READ_TIMEOUT as DEFAULT_READ_TIMEOUT,
)
from kalc_formal.coredns.plugins.hosts import HOSTS_DEFAULT_TTL
from kalc_formal.coredns.plugins.kubernetes import KUBERNETES_DEFAULT_TTL
from kalc_formal.source import Span

Rcode = Literal["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"]
Pool = Literal["success", "denial"]

FORWARD_DEADLINE = 5.0
"""E5: forward's total deadline per query (defaultTimeout)."""
PROBE_TIMEOUT = 1.0
"""E7: how long a health probe waits for its reply; a silent upstream is probed once per
``health_check + PROBE_TIMEOUT`` seconds (measured on 1.11.1, 1.14.6, 1.14.7: 1.50 s
apart with the default 0.5 s interval, tests/data/coredns_observations)."""
TCP_EXCHANGE_PACKETS = 6
"""IP packets an upstream receives for one exchange over a new TCP connection: SYN,
ACK, the query, the ACK of the reply, FIN and the ACK of the upstream's FIN (measured:
5-6 for a prefetch or a serve_stale refresh, which CoreDNS sends over TCP; a send that
gets no reply: SYN, ACK, the query, FIN, ACK)."""
TCP_CLOSE_PACKETS = 2
"""The FIN and ACK of a TCP exchange, which come when forward closes the connection:
a read timeout after a send that got no reply (measured: 2 s later)."""


@dataclass(frozen=True, slots=True)
class ServerReply:
    """A DNS reply a server sends, as the client sees it (its rcode, whether it has an
    answer). ``ttl``: the TTL a cache would read (D5). A client library's view of a
    reply is ``kalc_formal.clients.resolver.ClientReply``."""

    rcode: Rcode
    answer: bool = False
    ttl: int = 0
    soa: bool = True

    @property
    def nodata(self) -> bool:
        return self.rcode == "NOERROR" and not self.answer


NXDOMAIN_WITHOUT_SOA = ServerReply("NXDOMAIN", soa=False)


@dataclass(frozen=True, slots=True)
class Query:
    qname: str
    qtype: str


@dataclass(frozen=True, slots=True)
class Client:
    """Who asks: the namespace of the pod, and whether autopath can map it (C3, C14)."""

    namespace: str
    autopath_visible: bool = True


# ---- operations --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """A cache plugin looks the key up; on a miss ``on_miss`` runs and the reply is kept."""

    cache: str
    query: Query
    pool: Pool | None
    duration: int
    on_miss: tuple[Operation, ...]
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class UpstreamExchange:
    """One exchange with an upstream: ``packets`` IP packets out when it answers (one
    over UDP, E5; ``TCP_EXCHANGE_PACKETS`` when the cache refreshes an entry itself),
    and as many per send when it does not."""

    forward: str
    targets: tuple[str, ...]
    query: Query
    span: Span | None = None
    packets: int = 1


@dataclass(frozen=True, slots=True)
class Local:
    """Answered inside the server (kubernetes, hosts, ...), no upstream traffic."""

    plugin: str
    query: Query
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Walk:
    """autopath's server-side search for one client query (C5): internal lookups."""

    query: Query
    internal: tuple[Operation, ...]
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Unmodelled:
    """A plugin whose effect on this query is not modelled."""

    plugin: str
    query: Query
    reason: str
    span: Span | None = None


Operation = CacheLookup | UpstreamExchange | Local | Walk | Unmodelled


@dataclass(frozen=True, slots=True)
class Served:
    reply: ServerReply
    operations: tuple[Operation, ...]


# ---- the plan of a server block ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CacheStep:
    """cache (D1-D7): zones it caches, pools' TTL bounds, capacities."""

    id: str
    zones: tuple[str, ...]
    success_max: int = CACHE_MAX_TTL
    success_min: int = CACHE_MIN_TTL
    denial_max: int = CACHE_MAX_NTTL
    denial_min: int = CACHE_MIN_TTL
    success_capacity: int = CACHE_DEFAULT_EFFECTIVE_CAPACITY
    denial_capacity: int = CACHE_DEFAULT_EFFECTIVE_CAPACITY
    prefetch_percentage: int | None = None
    disabled_success: tuple[str, ...] | None = None
    disabled_denial: tuple[str, ...] | None = None
    keepttl: bool = False
    span: Span | None = None
    serve_stale: bool = False

    @property
    def refreshes_over_tcp(self) -> bool:
        """prefetch and serve_stale refresh entries over TCP (measured on 1.11.1-1.14.7)."""
        return self.prefetch_percentage is not None or self.serve_stale


@dataclass(frozen=True, slots=True)
class AutopathStep:
    """autopath (C1-C9): its zones; the search path from @kubernetes or a file."""

    zones: tuple[str, ...]
    from_kubernetes: bool
    search: tuple[str, ...] = ()
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class KubernetesStep:
    """kubernetes (F1-F5, C10-C12)."""

    zones: tuple[str, ...]
    pods_verified: bool
    ttl: int = KUBERNETES_DEFAULT_TTL
    fallthrough: tuple[str, ...] | None = None
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class ForwardStep:
    """forward (E1-E10): FROM, except, targets (already resolved to addresses).

    When no upstream answers, one query is sent every ``read_timeout`` seconds until
    the 5 s deadline, at most ``max_connect_attempts`` times (E5, E6); each unhealthy
    upstream is probed every ``health_check`` seconds (E7).
    """

    id: str
    from_zone: str
    except_zones: tuple[str, ...]
    targets: tuple[str, ...]
    span: Span | None = None
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_connect_attempts: int | None = None
    health_check: float = DEFAULT_HEALTH_CHECK

    def send_times(self) -> tuple[float, ...]:
        """Seconds after the first send at which a query that gets no reply is sent
        (while the upstream is not yet marked down; once it is, one send, E5, E6)."""
        times: list[float] = []
        at = 0.0
        while at < FORWARD_DEADLINE and (
            self.max_connect_attempts is None or len(times) < self.max_connect_attempts
        ):
            times.append(at)
            at += self.read_timeout
        return tuple(times)

    def servfail_times(self) -> tuple[float, ...]:
        """Seconds after the first send at which the client can get SERVFAIL for a query
        that gets no reply: one read timeout after its last send, which is its first once
        the upstream is marked down, and any of ``send_times`` while it is being marked
        down (measured: 2.0, 4.0 and 6.0 s up to 1.14.6; 2.0 and 4.0 s from 1.14.7)."""
        return tuple(at + self.read_timeout for at in self.send_times())

    def probes_within(self, seconds: float) -> int:
        """The most health probes one silent target gets within ``seconds`` (E7)."""
        if self.health_check <= 0:
            return 0
        return math.floor(seconds / (self.health_check + PROBE_TIMEOUT)) + 1


@dataclass(frozen=True, slots=True)
class HostsStep:
    """hosts: names it answers, and the zones it falls through for."""

    zones: tuple[str, ...]
    names: frozenset[str]
    ttl: int = HOSTS_DEFAULT_TTL
    fallthrough: tuple[str, ...] | None = None
    file_unknown: bool = False
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class OpaqueStep:
    """A plugin in the query path whose effect is not modelled."""

    name: str
    reason: str
    zones: tuple[str, ...] = (".",)
    span: Span | None = None


PlanStep = CacheStep | AutopathStep | KubernetesStep | ForwardStep | HostsStep | OpaqueStep


@dataclass(frozen=True, slots=True)
class BlockPlan:
    """A server block: its zones and its plugins in execution order."""

    zones: tuple[str, ...]
    steps: tuple[PlanStep, ...]
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class PluginRef:
    """A plugin of a Corefile, for pointing at it in reports."""

    name: str
    span: Span | None


@dataclass(frozen=True, slots=True)
class ServerSetup:
    """A DNS server's plan (from its Corefile, ``kalc_formal.coredns.plans``) and what it names."""

    blocks: tuple[BlockPlan, ...]
    plugins: dict[str, PluginRef] = field(default_factory=dict)
    cache_capacity: dict[str, tuple[int, int]] = field(default_factory=dict)
    unmodelled: tuple[Unmodelled, ...] = ()


# ---- what the world answers ----------------------------------------------------------


World = Callable[[str, str], ServerReply]
"""(qname, qtype) -> what the upstream (the rest of the internet) answers."""

ServiceExists = Callable[[str, str], ServerReply | None]
"""(qname in the cluster zone, qtype) -> the kubernetes answer if the name exists."""


# ---- the server ---------------------------------------------------------------------


def is_under(name: str, zone: str) -> bool:
    """True when ``name`` equals ``zone`` or lies below it (both FQDNs)."""
    if zone == ".":
        return True
    return name == zone or name.endswith("." + zone)


def _strip_zone(name: str, zone: str) -> str:
    return name[: -len(zone) - 1] if name != zone else ""


@dataclass(slots=True)
class Server:
    """One DNS server (a CoreDNS replica or a node-local cache) and its blocks."""

    blocks: tuple[BlockPlan, ...]
    upstream_world: World
    services: ServiceExists
    own_search: tuple[str, ...] = ()
    relay: Callable[[ForwardStep, Query, Client], Served | None] | None = None

    def block_for(self, qname: str) -> BlockPlan | None:
        """The block with the longest zone containing ``qname`` (A23)."""
        best: tuple[int, BlockPlan] | None = None
        for block in self.blocks:
            for zone in block.zones:
                if is_under(qname, zone):
                    length = 0 if zone == "." else zone.count(".")
                    if best is None or length > best[0]:
                        best = (length, block)
        return best[1] if best else None

    def serve(self, query: Query, client: Client) -> Served:
        block = self.block_for(query.qname)
        if block is None or not block.steps:
            return Served(ServerReply("REFUSED"), ())
        return self._run(block, 0, query, client)

    def _run(self, block: BlockPlan, index: int, query: Query, client: Client) -> Served:
        """Run ``block``'s steps from ``index`` on ``query``."""
        for position in range(index, len(block.steps)):
            served = self._step(block, position, query, client)
            if served is not None:
                return served
        return Served(ServerReply("SERVFAIL"), ())

    def _step(self, block: BlockPlan, position: int, query: Query, client: Client) -> Served | None:
        """What one plugin does: a result, or None to pass the query on."""
        step = block.steps[position]
        if isinstance(step, CacheStep):
            if not _in_zones(query.qname, step.zones):
                return None
            return self._cache(block, position, step, query, client)
        if isinstance(step, AutopathStep):
            return self._autopath(block, position, step, query, client)
        if isinstance(step, KubernetesStep):
            return self._kubernetes(step, query)
        if isinstance(step, HostsStep):
            return self._hosts(step, query)
        if isinstance(step, ForwardStep):
            return self._forward(step, query, client) if _forward_handles(step, query.qname) else None
        if not _in_zones(query.qname, step.zones):
            return None
        reason = f"{step.name} is in the path of {query.qname} and not modelled: {step.reason}"
        return Served(ServerReply("SERVFAIL"), (Unmodelled(step.name, query, reason, step.span),))

    def _cache(
        self, block: BlockPlan, position: int, step: CacheStep, query: Query, client: Client
    ) -> Served:
        inner = self._run(block, position + 1, query, client)
        pool, duration = cache_duration(step, query.qname, inner.reply)
        on_miss = _over_tcp(inner.operations) if step.refreshes_over_tcp else inner.operations
        lookup = CacheLookup(step.id, query, pool, duration, on_miss, step.span)
        return Served(inner.reply, (lookup,))

    def _autopath(
        self, block: BlockPlan, position: int, step: AutopathStep, query: Query, client: Client
    ) -> Served | None:
        search = self._search_path(block, position, step, client)
        if not search or not _in_zones(query.qname, step.zones):
            return None
        first = search[0]
        if not is_under(query.qname, first):
            return None
        base = _strip_zone(query.qname, first)
        internal: list[Operation] = []
        first_reply: ServerReply | None = None
        final: ServerReply | None = None
        for element in search:
            name = f"{base}.{element}" if element != "." else f"{base}."
            served = self._run(block, position + 1, Query(name, query.qtype), client)
            internal += served.operations
            if first_reply is None:
                first_reply = served.reply
            if _unmodelled(served.operations):
                final = served.reply
                break
            if served.reply.rcode not in ("NXDOMAIN", "SERVFAIL", "REFUSED"):
                final = served.reply
                break
        reply = final if final is not None else (first_reply or NXDOMAIN_WITHOUT_SOA)
        return Served(reply, (Walk(query, tuple(internal), step.span),))

    def _search_path(
        self, block: BlockPlan, position: int, step: AutopathStep, client: Client
    ) -> tuple[str, ...]:
        if not step.from_kubernetes:
            return (*step.search, ".")
        kubernetes = next(
            (s for s in block.steps[position + 1 :] if isinstance(s, KubernetesStep)), None
        )
        if kubernetes is None or not kubernetes.pods_verified or not client.autopath_visible:
            return ()
        zone = next((z for z in kubernetes.zones if not z.endswith("arpa.")), None)
        if zone is None:
            return ()
        return (
            f"{client.namespace}.svc.{zone}", f"svc.{zone}", zone, *self.own_search, ".",
        )

    def _kubernetes(self, step: KubernetesStep, query: Query) -> Served | None:
        if not _in_zones(query.qname, step.zones):
            return None
        answer = self.services(query.qname, query.qtype)
        if answer is None:
            if step.fallthrough is not None and _in_zones(query.qname, step.fallthrough or (".",)):
                return None
            answer = ServerReply("NXDOMAIN", ttl=min(step.ttl, 300))
        return Served(answer, (Local("kubernetes", query, step.span),))

    def _hosts(self, step: HostsStep, query: Query) -> Served | None:
        if not _in_zones(query.qname, step.zones):
            return None
        if step.file_unknown:
            reason = "its hosts file is not read"
            return Served(ServerReply("SERVFAIL"), (Unmodelled("hosts", query, reason, step.span),))
        if query.qname in step.names:
            answer = ServerReply("NOERROR", answer=query.qtype == "A", ttl=step.ttl)
            return Served(answer, (Local("hosts", query, step.span),))
        if step.fallthrough is not None and _in_zones(query.qname, step.fallthrough or (".",)):
            return None
        return Served(ServerReply("NXDOMAIN"), (Local("hosts", query, step.span),))

    def _forward(self, step: ForwardStep, query: Query, client: Client) -> Served:
        if self.relay is not None:
            relayed = self.relay(step, query, client)
            if relayed is not None:
                return relayed
        reply = self.upstream_world(query.qname, query.qtype)
        return Served(reply, (UpstreamExchange(step.id, step.targets, query, step.span),))


def cache_duration(step: CacheStep, qname: str, reply: ServerReply) -> tuple[Pool | None, int]:
    """The pool a reply goes to and how many seconds it is kept (D4-D7); 0: not kept."""
    if reply.rcode == "NOERROR" and reply.answer:
        pool: Pool = "success"
        disabled, low, high = step.disabled_success, step.success_min, step.success_max
    elif reply.rcode in ("NXDOMAIN", "NOERROR"):
        pool = "denial"
        disabled, low, high = step.disabled_denial, step.denial_min, step.denial_max
    else:
        return None, 0
    if disabled is not None and _in_zones(qname, disabled or (".",)):
        return None, 0
    if reply.rcode == "NXDOMAIN" and not reply.soa:
        return None, 0
    duration = min(max(reply.ttl, low), high)
    if step.prefetch_percentage is not None:
        duration = max(1, duration - -(-duration * step.prefetch_percentage // 100))
    return pool, duration


def _over_tcp(operations: tuple[Operation, ...]) -> tuple[Operation, ...]:
    """The exchanges of a miss counted as TCP exchanges (a refresh by prefetch or
    serve_stale); a later cache on the path refreshes its own entries."""
    result: list[Operation] = []
    for operation in operations:
        if isinstance(operation, UpstreamExchange):
            result.append(replace(operation, packets=max(operation.packets, TCP_EXCHANGE_PACKETS)))
        elif isinstance(operation, Walk):
            result.append(replace(operation, internal=_over_tcp(operation.internal)))
        else:
            result.append(operation)
    return tuple(result)


def _in_zones(qname: str, zones: tuple[str, ...]) -> bool:
    return any(is_under(qname, zone) for zone in zones)


def _forward_handles(step: ForwardStep, qname: str) -> bool:
    if not is_under(qname, step.from_zone):
        return False
    if qname == step.from_zone:
        return True
    return not any(is_under(qname, zone) for zone in step.except_zones)


def _unmodelled(operations: tuple[Operation, ...]) -> bool:
    for operation in operations:
        if isinstance(operation, Unmodelled):
            return True
        if isinstance(operation, CacheLookup) and _unmodelled(operation.on_miss):
            return True
        if isinstance(operation, Walk) and _unmodelled(operation.internal):
            return True
    return False
