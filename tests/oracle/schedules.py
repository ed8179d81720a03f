"""Schedules for the reference simulator: random ones, and greedy adversaries.

A strategy fixes the placement, when each step's lookups arrive, which names and
replicas they use, when surges and restarts happen, and which entries a full
shard evicts. Every schedule obeys the same rules the checker's model states:
per step, a flow's lookups stay within the cluster's baseline (or, in a surge
step, peak) rate, rounded down; each pod's lookups so far stay within its own
rate; the busiest replica gets at most (1 + skew) / R of the step's lookups that
reach CoreDNS (K7); at most `surge.max_steps` surge steps and `restarts` restarts
in the horizon; pods sit where the hard scheduling rules allow.

The greedy adversary is closed-loop: before each step it looks at the target
cache and starts the step's lookups right after the entries that expire in that
step have expired, all within half an upstream reply time, so that every query
for an expired key misses (D10).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

from tests.oracle.refsim import (
    Cache,
    Lookup,
    Peak,
    Placement,
    Pod,
    Schedule,
    Simulator,
    even_placement,
    live_victim,
    packed_placement,
    peaks,
    random_placement,
    random_victim,
    server_load,
    step_load,
)
from tests.oracle.spec import ClusterSpec

Flow = tuple[str, str]
"""(lookup class label, name class id): the checker's flows."""


@dataclass(frozen=True)
class Strategy:
    name: str
    placement: str = "packed"  # packed | random | even
    timing: str = "expiry"  # expiry | start | end | alternate | straddle | uniform
    names: str = "roundrobin"  # roundrobin | random
    replicas: str = "max"  # max | random
    victims: str = "live"  # live | random
    surge_at: str = "first"  # first | ttl | random
    restarts_at: str = "early"  # early | random
    reply_time: float = 0.02
    seed: int = 0
    prephase: int | None = None
    """Seconds of history before the horizon (a warm start); None: as long as the longest kept
    time, at most 31 s."""
    prephase_mode: str = "steady"  # steady: baseline every step | burst: one baseline burst
    pods_per_node: int | None = None
    """Packed placement with at most this many client pods per node (None: as the rules allow)."""
    saving: bool = True
    """A pod may spend in one step the lookups it did not make in earlier ones (its lookups
    so far stay within its rate); False: what a pod does not spend in a step is lost."""
    split: str = "total"  # total | flow
    """K7's skew bounds the busiest replica's share of all lookups that reach CoreDNS in a
    step (total), or of each flow's (flow: the rule the checker's model states)."""


GREEDY = (
    Strategy("greedy-expiry"),
    Strategy("greedy-burst-history", prephase_mode="burst"),
    Strategy("greedy-burst-history-5s", prephase_mode="burst", prephase=5),
    Strategy("greedy-expiry-randvictim", victims="random"),
    Strategy("greedy-expiry-ttlsurge", surge_at="ttl"),
    Strategy("greedy-alternate", timing="alternate"),
    Strategy("greedy-start-1ms", timing="start", reply_time=0.001),
    Strategy("greedy-end", timing="end"),
)


CI_STRATEGIES = (GREEDY[0], GREEDY[1], GREEDY[5])
"""A fast subset: closed-loop bursts after expiry (with a steady and a one-burst history) and
bursts alternating at the end and start of steps."""


def grid_strategies() -> list[Strategy]:
    """Every combination of the adversary's discrete choices (160 schedules): for tiny
    clusters, the search that stands in for exhaustive enumeration when counting false alarms."""
    grid: list[Strategy] = []
    for timing in ("expiry", "start", "end", "alternate", "uniform"):
        for reply_time in (0.001, 0.02):
            for victims in ("live", "random"):
                for surge_at in ("first", "ttl"):
                    for prephase_mode in ("steady", "burst"):
                        for replicas in ("max", "random"):
                            grid.append(Strategy(
                                f"grid-{timing}-{reply_time}-{victims}-{surge_at}-{prephase_mode}-{replicas}",
                                timing=timing, reply_time=reply_time, victims=victims,
                                surge_at=surge_at, prephase_mode=prephase_mode, replicas=replicas))
    return grid


def random_strategies(count: int, seed: int) -> list[Strategy]:
    rng = random.Random(seed)
    return [Strategy(f"random-{seed}-{i}", placement=rng.choice(["random", "packed"]),
                     timing=rng.choice(["uniform", "uniform", "expiry", "alternate"]),
                     names="random", replicas="random", victims="random",
                     surge_at="random", restarts_at="random",
                     reply_time=rng.choice([0.001, 0.005, 0.02]), seed=rng.randrange(1 << 30))
            for i in range(count)]


@dataclass(frozen=True)
class Result:
    strategy: str
    schedule: Strategy
    peak: Peak
    lookups: int
    packets: int
    evictions: int
    load: dict[str, Peak] = field(default_factory=dict)
    """Client queries at the busiest CoreDNS replica (`coredns`) and node-local cache
    (`nodelocal`)."""
    step_load: dict[str, int] = field(default_factory=dict)
    """The same, counting each lookup's queries in the step it starts (the checker's count)."""


def flows(spec: ClusterSpec) -> list[Flow]:
    return [(lk.label, n) for lk in spec.lookups for n in lk.names]


def kept_seconds(spec: ClusterSpec) -> int:
    """The longest time an entry is kept, for the dominant TTLs (an upper bound)."""
    cap = spec.cache.ttl if spec.cache.ttl is not None else 3600
    ttls = [n.ttl for n in spec.names] + [n.negative_ttl for n in spec.names] + [spec.kubernetes_ttl]
    return max(5, min(cap, max(ttls)))


def run(spec: ClusterSpec, strategy: Strategy,
        budgets: dict[int, dict[Flow, int]] | None = None,
        restart_steps: list[int] | None = None) -> Result:
    """Run one schedule over the horizon; `budgets` (step -> flow -> lookups) and `restart_steps`
    replace the strategy's own choice (a concretised checker trace)."""
    rng = random.Random(strategy.seed)
    placement = (packed_placement(spec, strategy.pods_per_node) if strategy.placement == "packed"
                 else even_placement(spec) if strategy.placement == "even"
                 else random_placement(spec, rng))
    schedule = Schedule(placement=placement, reply_time=strategy.reply_time,
                        victim=live_victim if strategy.victims == "live" else random_victim,
                        seed=strategy.seed)
    sim = Simulator(spec, schedule)
    pods = list(sim.pods.values())
    order = _pod_order(pods, placement, strategy, rng)
    surge_steps = _surge_steps(spec, strategy, rng)
    restarts = restart_steps if restart_steps is not None else _restart_steps(spec, strategy, rng)
    allowance: dict[str, float] = {p.id: 0.0 for p in pods}
    used: dict[str, int] = {p.id: 0 for p in pods}
    rr_name: dict[Flow, int] = {}
    history = strategy.prephase if strategy.prephase is not None else min(31, kept_seconds(spec) + 1)
    start = 0 if spec.initial_cache == "cold" else -history
    replicas = len(placement.replica_nodes)
    for step in range(start, spec.horizon):
        if step < 0 and step != start and strategy.prephase_mode == "burst":
            continue
        sim.run_until(step)
        surging = step in surge_steps if budgets is None else (step >= 0 and any(
            budgets.get(step, {}).get(f, 0) > _budget(spec, f, pods, False) for f in flows(spec)))
        if step in restarts and step >= 0:
            when = step + _phase(sim, spec, step, strategy, rng) - 1e-4
            sim._at(max(when, step), lambda: sim.replica_caches[0].clear())
        for pod in pods:
            lookup_class = next(lk for lk in spec.lookups if lk.label == pod.label)
            if pod.base or surging:
                per_name = lookup_class.surge_rate if surging else lookup_class.rate
                allowance[pod.id] += per_name * sum(spec.name_class(n).count for n in lookup_class.names)
        phase = _phase(sim, spec, step, strategy, rng)
        spread = strategy.reply_time * 0.5
        step_lookups: list[tuple[Pod, str, Flow]] = []
        class_left = _class_budgets(spec, pods, surging) if strategy.split == "flow" else {}
        for flow in flows(spec):
            budget = (budgets.get(step, {}).get(flow) if budgets is not None and step >= 0 else None)
            if budget is None:
                budget = _budget(spec, flow, pods, surging)
            instances = spec.name_class(flow[1]).instances()
            for pod in order:
                if budget <= 0:
                    break
                if pod.label != flow[0] or not (pod.base or surging):
                    continue
                take = min(budget, math.floor(allowance[pod.id] + 1e-9) - used[pod.id])
                if class_left:
                    key = _split_key(pod, flow, "flow")
                    take = min(take, class_left[key])
                    class_left[key] -= max(0, take)
                for _ in range(max(0, take)):
                    if strategy.names == "roundrobin":
                        index = rr_name.get(flow, 0)
                        rr_name[flow] = index + 1
                        name = instances[index % len(instances)]
                    else:
                        name = rng.choice(instances)
                    step_lookups.append((pod, name, flow))
                used[pod.id] += max(0, take)
                budget -= max(0, take)
        if not strategy.saving:
            for pod in pods:
                used[pod.id] = max(used[pod.id], math.floor(allowance[pod.id] + 1e-9))
        caps = _replica_caps(spec, step_lookups, replicas, strategy.split)
        counts: dict[SplitKey, list[int]] = {key: [0] * replicas for key in caps}
        for i, (pod, name, flow) in enumerate(step_lookups):
            key = _split_key(pod, flow, strategy.split)
            replica = _replica(counts[key], caps[key], strategy, rng)
            counts[key][replica] += 1
            if strategy.timing == "uniform":
                when = step + rng.random()
            else:
                when = step + phase + spread * (i / max(1, len(step_lookups)))
            sim.add_lookup(Lookup(when, pod.id, name, replica))
    packets = sim.run()
    horizon_packets = [p for p in packets if 0 <= p.time < spec.horizon]
    evictions = sum(c.success.evictions + c.denial.evictions for c in sim.replica_caches)
    load = {server: server_load(sim.client_queries, server, spec.horizon)
            for server in ("coredns", "nodelocal")}
    by_step = {server: step_load(sim.lookup_queries, server, spec.horizon)
               for server in ("coredns", "nodelocal")}
    return Result(strategy.name, strategy, peaks(packets, spec.scope, spec.horizon), sim.lookups_done,
                  len(horizon_packets), evictions, load, by_step)


SplitKey = tuple[Flow, str] | tuple[()]


def _split_key(pod: Pod, flow: Flow, split: str) -> SplitKey:
    """Which lookups one share cap covers: all of a step's (total), or one flow's as the
    checker's model has them (flow): one name class from pods with the same DNS settings."""
    if split == "total":
        return ()
    settings = pod.conf.text.replace(f" {pod.namespace}.svc.", " <namespace>.svc.")
    return (flow, f"{settings}/{pod.libc.value}/{pod.path}")


def _replica_caps(spec: ClusterSpec, step_lookups: list[tuple[Pod, str, Flow]], replicas: int,
                  split: str) -> dict[SplitKey, int]:
    """The most lookups of each split key the busiest replica gets in a step (K7):
    floor((1 + skew) / R x L), or ceil(L / R) where the replicas cannot carry L otherwise."""
    reaching: dict[SplitKey, int] = {}
    for pod, _, flow in step_lookups:
        key = _split_key(pod, flow, split)
        reaching[key] = reaching.get(key, 0) + (1 if pod.path == "coredns" else 0)
    if split == "total":
        return {key: (math.floor((1 + spec.skew) / replicas * count + 1e-9) if replicas > 1 else count)
                for key, count in reaching.items()}
    return {key: max(math.floor((1 + spec.skew) / replicas * count + 1e-9), -(-count // replicas))
            for key, count in reaching.items()}


def _budget(spec: ClusterSpec, flow: Flow, pods: list[Pod], surging: bool) -> int:
    """The cluster's lookups of a flow in one step: pods x rate x names, rounded down."""
    lookup_class = next(lk for lk in spec.lookups if lk.label == flow[0])
    active = sum(1 for p in pods if p.label == flow[0] and (p.base or surging))
    rate = lookup_class.surge_rate if surging else lookup_class.rate
    return math.floor(active * rate * spec.name_class(flow[1]).count + 1e-9)


def _class_budgets(spec: ClusterSpec, pods: list[Pod], surging: bool) -> dict[SplitKey, int]:
    """The lookups of each of the checker's flows (one name class, pods with the same DNS
    settings) in one step: its pods x rate x names, rounded down."""
    active: dict[SplitKey, int] = {}
    for flow in flows(spec):
        for pod in pods:
            if pod.label == flow[0] and (pod.base or surging):
                key = _split_key(pod, flow, "flow")
                active[key] = active.get(key, 0) + 1
    budgets: dict[SplitKey, int] = {}
    for key, count in active.items():
        assert key
        label, name_id = key[0]
        lookup_class = next(lk for lk in spec.lookups if lk.label == label)
        rate = lookup_class.surge_rate if surging else lookup_class.rate
        budgets[key] = math.floor(count * rate * spec.name_class(name_id).count + 1e-9)
    return budgets


def _pod_order(pods: list[Pod], placement: Placement, strategy: Strategy, rng: random.Random) -> list[Pod]:
    """Packed: the pods on node 0 first (they send from one interface, or fill one node cache);
    otherwise a random order. Namespaces are interleaved so that per-namespace keys spread."""
    if strategy.placement == "packed":
        return sorted(pods, key=lambda p: (p.node, int(p.id.rsplit("-", 1)[1]), p.namespace))
    shuffled = list(pods)
    rng.shuffle(shuffled)
    return shuffled


def _surge_steps(spec: ClusterSpec, strategy: Strategy, rng: random.Random) -> set[int]:
    if spec.surge_max_steps is None:
        return set(range(spec.horizon))
    k = spec.surge_max_steps
    if strategy.surge_at == "first":
        return set(range(min(k, spec.horizon)))
    if strategy.surge_at == "ttl":
        period = kept_seconds(spec)
        return {i * period for i in range(k) if i * period < spec.horizon}
    return set(rng.sample(range(spec.horizon), min(k, spec.horizon)))


def _restart_steps(spec: ClusterSpec, strategy: Strategy, rng: random.Random) -> list[int]:
    if spec.restarts == 0:
        return []
    if strategy.restarts_at == "early":
        return list(range(1, 1 + spec.restarts))
    return rng.sample(range(spec.horizon), min(spec.restarts, spec.horizon))


def _target_cache(sim: Simulator) -> Cache | None:
    if any(p.path == "coredns" for p in sim.pods.values()) and sim.replica_caches:
        return sim.replica_caches[0]
    if sim.nodelocal_caches:
        return sim.nodelocal_caches[0][1]
    return None


def _phase(sim: Simulator, spec: ClusterSpec, step: int, strategy: Strategy, rng: random.Random) -> float:
    """Where in the step the burst starts."""
    spread = strategy.reply_time * 0.5
    late = 1.0 - spread - 1e-3
    if strategy.timing == "start":
        return 1e-4
    if strategy.timing == "end":
        return late
    if strategy.timing == "alternate" and step % 2 == 0:
        return late
    if strategy.timing == "straddle":
        return late if step % 2 == 0 else 1e-4
    cache = _target_cache(sim)
    if cache is None:
        return 1e-4
    expiring = [e - step for e in cache.expiries() if step <= e < step + late]
    return (max(expiring) + 1e-4) if expiring else 1e-4


def _replica(counts: list[int], cap: int, strategy: Strategy, rng: random.Random) -> int:
    """Replica 0 is the busiest: it gets up to the cap, the others share the rest evenly."""
    if strategy.replicas == "max":
        if counts[0] < cap:
            return 0
        others = range(1, len(counts))
        return min(others, key=lambda r: counts[r]) if len(counts) > 1 else 0
    free = [r for r in range(len(counts)) if counts[r] < cap] or list(range(len(counts)))
    return rng.choice(free)


def worst(spec: ClusterSpec, strategies: list[Strategy] | tuple[Strategy, ...]) -> tuple[Result, list[Result]]:
    """Every strategy; the result with the highest fixed-second peak (then sliding)."""
    results = [run(spec, s) for s in strategies]
    best = max(results, key=lambda r: (r.peak.fixed, r.peak.sliding))
    return best, results


__all__ = ["CI_STRATEGIES", "GREEDY", "Result", "Strategy", "random_strategies", "replace", "run", "worst"]
