"""Symbolic model: the counted query-flow model that the solver and the simulator share.

Plain data, no z3. See specs/model.md sections 1-2 for what each field means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Literal, TypeVar

InitialCache = Literal["warm", "cold"]
Property = Literal["upstream-limit", "server-load"]


@dataclass(frozen=True, slots=True)
class Flow:
    """Lookups of one name class by one pod class, counted per step cluster-wide."""

    id: str
    base: int
    peak: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    """Identical DNS server replicas; one representative is modelled.

    The representative gets between ``share_min`` and ``share_max`` of each flow's
    lookups, or the bounds of ``flow_shares`` (flow id, min, max) for the flows listed
    there. ``replicas`` and ``serving`` are how many replicas (or nodes) the lookups
    are split among for the lower and the upper bound; None: the fewest that the
    shares allow. ``lookup_bounds`` gives the integral bounds (specs/model.md section 2).
    """

    id: str
    share_min: Fraction
    share_max: Fraction
    restarts: int = 0
    label: str = ""
    flow_shares: tuple[tuple[str, Fraction, Fraction], ...] = ()
    replicas: int | None = None
    serving: int | None = None

    def shares(self, flow_id: str) -> tuple[Fraction, Fraction]:
        """The (min, max) share of ``flow_id``'s lookups that reach the representative."""
        for flow, low, high in self.flow_shares:
            if flow == flow_id:
                return low, high
        return self.share_min, self.share_max

    def split_serving(self, flow_id: str) -> int:
        """How many replicas carry the lookups, each at most the maximum share."""
        if self.serving is not None:
            return self.serving
        high = self.shares(flow_id)[1]
        return math.ceil(1 / high) if high else 1

    def split_replicas(self, flow_id: str) -> int:
        """How many replicas each get at least the minimum share."""
        if self.replicas is not None:
            return self.replicas
        low = self.shares(flow_id)[0]
        return max(math.floor(1 / low) if low else 1, self.split_serving(flow_id))

    def lookup_bounds(self, flow_id: str, lookups: int) -> tuple[int, int]:
        """The representative's lookups of ``lookups`` in the cluster: ``[low, high]``.

        Upper: ``floor(max x L)`` where the serving replicas can carry ``L`` that way,
        else ``ceil(L / serving)`` (the busiest gets at least that much). Lower:
        ``ceil(min x L)`` where every replica can get that much, else ``floor(min x L)``.
        """
        low_share, high_share = self.shares(flow_id)
        high = max(math.floor(high_share * lookups), -(-lookups // self.split_serving(flow_id)))
        ceiling = math.ceil(low_share * lookups)
        if self.split_replicas(flow_id) * ceiling <= lookups:
            return ceiling, high
        return math.floor(low_share * lookups), high


@dataclass(frozen=True, slots=True)
class Pool:
    """One cache pool (positive or denial) of one cache instance in a group.

    ``shard_capacity``: what one of its shards holds when keys may share a shard
    (D3); 0 when the pool fills as one (evictions only once it is full).
    """

    id: str
    group: str
    capacity: int
    shard_capacity: int = 0


@dataclass(frozen=True, slots=True)
class KeyClass:
    """Cache keys that behave alike; ``ttl_steps == 0`` means not cached.

    ``demand``: (flow id, queries per lookup); ``fed_by``: (earlier key class id,
    internal lookups per miss of it); ``upstream``: (scope id, packets per miss).
    When an upstream of the class is out, a miss fails and is not cached:
    ``failed_sends`` are (delay in steps, packets per failed miss to each of its
    scopes) that forward sends for it instead of ``upstream`` (delay 0: at once, then
    its re-sends), and ``followups`` are (key class id, delay in steps, queries per
    failed miss) that the clients send later (re-sends, the rest of their search).
    ``key_queries``: the most queries one key can receive in one step; None when
    only the class's queries bound them. ``misses_per_fill``: the most misses one key
    that is not cached can take before its answer is cached (identical misses are not
    merged, D10): ``key_queries``, or fewer under an assumption on arrival times.
    """

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(scope for scope, packets in self.upstream if packets)

    id: str
    group: str
    keys: int
    ttl_steps: int
    pool: str | None = None
    demand: tuple[tuple[str, int], ...] = ()
    fed_by: tuple[tuple[str, int], ...] = ()
    upstream: tuple[tuple[str, int], ...] = ()
    every_key_every_step: bool = False
    label: str = ""
    failed_sends: tuple[tuple[int, int], ...] = ()
    followups: tuple[tuple[str, int, int], ...] = ()
    misses_per_fill: int | None = None
    key_queries: int | None = None

    @property
    def cached(self) -> bool:
        return self.ttl_steps > 0


@dataclass(frozen=True, slots=True)
class Scope:
    """What one upstream rate limit counts: packets per step from some replicas.

    ``outage_steps``: how many steps of the horizon the upstream may answer nothing.
    ``probe_packets``: forward's health-check packets per step while it is out (E7).
    ``limit`` counts the packets of ``window_steps`` consecutive steps together (2 for
    a limit over any sliding window as long as one step: the window can hold the end
    of one step and the start of the next).
    ``lookup_packets``: (flow id, packets per lookup when every cache misses); when
    given, the scope counts at most ``sum packets x L[f,t]`` in a step: every lookup
    of the cluster reaches one replica, so all of them together cannot send more.
    """

    id: str
    limit: int
    members: tuple[tuple[str, int], ...]
    label: str = ""
    outage_steps: int = 0
    probe_packets: int = 0
    window_steps: int = 1
    lookup_packets: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ServerLimit:
    """The most client queries one replica of ``group`` may take in one step: its
    capacity. ``client_queries``: (flow id, delay, queries per lookup when nothing
    fails) of the flows whose clients ask this server: a query of a lookup that starts
    in step t arrives in one of steps t .. t + delay (it waits for earlier replies)."""

    id: str
    group: str
    limit: int
    client_queries: tuple[tuple[str, int, int], ...]
    label: str = ""

    @property
    def lookback(self) -> int:
        """The most steps a query arrives after its lookup's step."""
        return max((delay for _, delay, _ in self.client_queries), default=0)


@dataclass(frozen=True)
class FlowModel:
    """Everything the transition system needs; key classes are in feed order.

    ``in_flight_steps``: how many steps after the one of its miss an answer may still
    be on its way, so that the queries for its key still miss (D10). ``property``: what
    a violation is: a scope over its limit (upstream-limit) or a server over its
    capacity (server-load, ``server_limits``).
    """

    flows: tuple[Flow, ...]
    groups: tuple[Group, ...]
    key_classes: tuple[KeyClass, ...]
    scopes: tuple[Scope, ...]
    pools: tuple[Pool, ...] = ()
    initial_cache: InitialCache = "warm"
    surge_steps: int | None = None
    in_flight_steps: int = 0
    server_limits: tuple[ServerLimit, ...] = ()
    property: Property = "upstream-limit"

    def __post_init__(self) -> None:
        validate(self)

    def flow(self, flow_id: str) -> Flow:
        return _find(self.flows, flow_id)

    def group(self, group_id: str) -> Group:
        return _find(self.groups, group_id)

    def pool(self, pool_id: str) -> Pool:
        return _find(self.pools, pool_id)

    def pool_classes(self, pool_id: str) -> tuple[KeyClass, ...]:
        return tuple(k for k in self.key_classes if k.pool == pool_id)

    @cached_property
    def _pool_keys(self) -> dict[str, int]:
        keys = dict.fromkeys((p.id for p in self.pools), 0)
        for key in self.key_classes:
            if key.pool is not None:
                keys[key.pool] = keys.get(key.pool, 0) + key.keys
        return keys

    @cached_property
    def followups_into(self) -> dict[str, tuple[tuple[str, int, int], ...]]:
        """Per key class, the (source class, delay, queries per failure) of the
        follow-ups that failures of other classes send to it."""
        found: dict[str, list[tuple[str, int, int]]] = {}
        for source in self.key_classes:
            for target, delay, count in source.followups:
                found.setdefault(target, []).append((source.id, delay, count))
        return {target: tuple(items) for target, items in found.items()}

    def may_evict(self, pool_id: str) -> bool:
        """True when the pool's classes together have more keys than it, or one of
        its shards, holds."""
        return self._pool_keys[pool_id] > self.pool(pool_id).capacity or self.shard_overflow(
            pool_id
        )

    def shard_overflow(self, pool_id: str) -> bool:
        """True when a shard can fill before the pool does: then any insert may evict."""
        return 0 < self.pool(pool_id).shard_capacity < self._pool_keys[pool_id]

    def evicting(self, key: KeyClass) -> bool:
        return key.pool is not None and self.may_evict(key.pool)

    def kept(self, key: KeyClass) -> bool:
        """True when the class's cache entries are state: cached, in a pool that
        cannot evict. Where any entry can be evicted at any insert (D3), which keys are
        cached is the environment's choice at every moment, and a step's misses are
        bounded by its queries and each key's queries alone."""
        return key.cached and not self.evicting(key)

    def miss_cap(self, key: KeyClass) -> int | None:
        """What bounds the misses of a class that is not ``kept`` besides its queries
        (which it all misses): as many as its keys can take when their queries are
        bounded (a cached class in an evicting pool); None otherwise."""
        if key.cached and key.key_queries is not None:
            return key.key_queries * key.keys
        return None

    def scope(self, scope_id: str) -> Scope:
        for scope in self.scopes:
            if scope.id == scope_id:
                return scope
        raise KeyError(scope_id)

    def server_limit(self, limit_id: str) -> ServerLimit:
        for limit in self.server_limits:
            if limit.id == limit_id:
                return limit
        raise KeyError(limit_id)

    def max_window_steps(self) -> int:
        """The most steps the property looks at together: a scope's window, or for
        server-load the steps whose lookups' queries may arrive in one step."""
        if self.property == "server-load":
            return 1 + max((limit.lookback for limit in self.server_limits), default=0)
        return max((s.window_steps for s in self.scopes), default=1)

    def may_fail(self) -> bool:
        return any(scope.outage_steps for scope in self.scopes)

    def max_ttl_steps(self) -> int:
        return max((k.ttl_steps for k in self.key_classes), default=0)


def before_start(model: FlowModel, group_id: str, flow_id: str, free_start: bool) -> int:
    """A replica's lookups of a flow in each step before step 0, as server-load counts
    the queries of those lookups that arrive late: from INIT the most of the baseline;
    from any state (k-induction) the least the flow allows, which only admits more runs
    to the induction's hypothesis."""
    flow = model.flow(flow_id)
    low, high = model.group(group_id).lookup_bounds(flow_id, flow.base)
    return low if free_start else high


_Item = TypeVar("_Item", Flow, Group, KeyClass, Pool)


def _find(items: tuple[_Item, ...], item_id: str) -> _Item:
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def validate(model: FlowModel) -> None:
    """Check that ids resolve and numbers are in range; raise ValueError if not."""
    flow_ids = {f.id for f in model.flows}
    group_ids = {g.id for g in model.groups}
    pool_ids = {p.id for p in model.pools}
    seen: set[str] = set()
    for flow in model.flows:
        if not 0 <= flow.base <= flow.peak:
            raise ValueError(f"flow {flow.id}: need 0 <= base <= peak")
    for group in model.groups:
        _validate_group(group, flow_ids)
    for pool in model.pools:
        if pool.group not in group_ids or pool.capacity < 0 or pool.shard_capacity < 0:
            raise ValueError(f"pool {pool.id}: unknown group or negative capacity")
    for key in model.key_classes:
        _validate_key(key, flow_ids, group_ids, pool_ids, seen)
        seen.add(key.id)
    for scope in model.scopes:
        _validate_scope(scope, group_ids)
        if any(f not in flow_ids or n < 0 for f, n in scope.lookup_packets):
            raise ValueError(f"scope {scope.id}: lookup packets of an unknown flow")
    ids = {k.id for k in model.key_classes}
    for key in model.key_classes:
        _validate_failures(key, ids)
    _validate_server_limits(model, flow_ids, group_ids)


def _validate_server_limits(model: FlowModel, flows: set[str], groups: set[str]) -> None:
    if model.surge_steps is not None and model.surge_steps < 0:
        raise ValueError("surge_steps must be >= 0")
    if model.in_flight_steps < 0:
        raise ValueError("in_flight_steps must be >= 0")
    for limit in model.server_limits:
        if limit.group not in groups or limit.limit < 0:
            raise ValueError(f"server limit {limit.id}: unknown group or negative limit")
        if any(f not in flows or d < 0 or n < 0 for f, d, n in limit.client_queries):
            raise ValueError(f"server limit {limit.id}: client queries of an unknown flow")
    if model.property not in ("upstream-limit", "server-load"):
        raise ValueError(f"unknown property {model.property!r}")


def _validate_group(group: Group, flow_ids: set[str]) -> None:
    shares = [(group.share_min, group.share_max)] + [(lo, hi) for _, lo, hi in group.flow_shares]
    if any(not 0 <= lo <= hi <= 1 for lo, hi in shares) or group.restarts < 0:
        raise ValueError(f"group {group.id}: need 0 <= share_min <= share_max <= 1")
    if any(f not in flow_ids for f, _, _ in group.flow_shares):
        raise ValueError(f"group {group.id}: a flow share names an unknown flow")
    if any(n is not None and n < 1 for n in (group.replicas, group.serving)):
        raise ValueError(f"group {group.id}: replicas and serving must be >= 1")
    for flow_id in ["", *(f for f, _, _ in group.flow_shares)]:
        serving = group.split_serving(flow_id)
        if group.split_replicas(flow_id) < serving or group.shares(flow_id)[1] * serving < 1:
            raise ValueError(
                f"group {group.id}: need replicas >= serving and share_max x serving >= 1"
            )


def _validate_scope(scope: Scope, groups: set[str]) -> None:
    if scope.limit < 0 or any(g not in groups or n < 0 for g, n in scope.members):
        raise ValueError(f"scope {scope.id}: bad limit or members")
    if scope.outage_steps < 0 or scope.probe_packets < 0:
        raise ValueError(f"scope {scope.id}: bad outage steps or probes")
    if scope.window_steps < 1:
        raise ValueError(f"scope {scope.id}: a window spans at least one step")


def _validate_failures(key: KeyClass, ids: set[str]) -> None:
    if any(t not in ids or d < 1 or n < 0 for t, d, n in key.followups):
        raise ValueError(f"key class {key.id}: follow-ups need a known class and delay >= 1")
    if any(d < 0 or n < 0 for d, n in key.failed_sends):
        raise ValueError(f"key class {key.id}: failed sends need delay >= 0")


def _validate_key(
    key: KeyClass, flows: set[str], groups: set[str], pools: set[str], earlier: set[str]
) -> None:
    if key.group not in groups or key.keys < 0 or key.ttl_steps < 0:
        raise ValueError(f"key class {key.id}: unknown group or negative count")
    if key.cached and key.pool not in pools:
        raise ValueError(f"key class {key.id}: a cached class needs a pool")
    if any(f not in flows or n < 0 for f, n in key.demand):
        raise ValueError(f"key class {key.id}: demand from an unknown flow")
    if any(k not in earlier or n < 0 for k, n in key.fed_by):
        raise ValueError(f"key class {key.id}: fed by a class that is not before it")
    if any(n < 0 for _, n in key.upstream):
        raise ValueError(f"key class {key.id}: negative upstream packets")
    for bound in (key.misses_per_fill, key.key_queries):
        if bound is not None and bound < 1:
            raise ValueError(f"key class {key.id}: misses per fill and key queries must be >= 1")
    if (key.misses_per_fill is None) != (key.key_queries is None) or (
        key.misses_per_fill is not None and key.key_queries is not None
        and key.misses_per_fill > key.key_queries
    ):
        raise ValueError(f"key class {key.id}: misses per fill must be at most the key's queries")
