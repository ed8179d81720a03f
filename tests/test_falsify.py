"""The falsification campaign's fast subset (issue 6): the checker's proofs against an
independent event-level reference simulator (tests/oracle).

For every `proved` (or `safe-bounded`) verdict, no schedule of the reference simulator may
exceed the limit, per fixed second or over a sliding one-second window. The long run is
benchmarks/falsify.py; its figures are in specs/falsification.md.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from tests.oracle.campaign import falsify
from tests.oracle.fixtures import crowded_node, denial_pool_overflow
from tests.oracle.gen import random_spec
from tests.oracle.refsim import (
    Answer,
    Lookup,
    PoolLimits,
    Schedule,
    Simulator,
    packed_placement,
    random_victim,
)
from tests.oracle.schedules import CI_STRATEGIES, Strategy, run
from tests.oracle.spec import (
    CacheSpec,
    ClusterSpec,
    LookupClass,
    NameClass,
    WorkloadSpec,
)

# --- the simulator's own rules ----------------------------------------------------------------------


def _spec(**changes: object) -> ClusterSpec:
    base = ClusterSpec(
        name="unit", nodes=2,
        workloads=(WorkloadSpec(name="web", namespace="shop", replicas=2, label="web"),
                   WorkloadSpec(name="web", namespace="blog", replicas=2, label="web")),
        names=(NameClass(id="ext", example="api.example.com", count=1, ttl=30, negative_ttl=60),),
        lookups=(LookupClass(label="web", names=("ext",), rate=1.0, surge_rate=1.0),),
        coredns_replicas=1)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _sim(spec: ClusterSpec, reply_time: float = 0.02) -> Simulator:
    return Simulator(spec, Schedule(placement=packed_placement(spec), reply_time=reply_time))


def _upstream_names(sim: Simulator) -> list[str]:
    return [f"{p.qname} {p.qtype}" for p in sim.run()]


def test_cluster_first_glibc_lookup_sends_the_host_search_and_bare_names_upstream() -> None:
    """H2, H7: ndots 5, search of 4; the cluster-zone candidates are local NXDOMAINs (C10)."""
    sim = _sim(_spec())
    sim.add_lookup(Lookup(0.0, "shop/web-0", "api.example.com", 0))
    assert sorted(_upstream_names(sim)) == sorted([
        "api.example.com.ec2.internal. A", "api.example.com.ec2.internal. AAAA",
        "api.example.com. A", "api.example.com. AAAA"])


def test_identical_misses_in_flight_are_not_merged() -> None:
    """D10: a second query for a key whose upstream answer is still in flight misses too;
    after the answer it hits."""
    sim = _sim(_spec(), reply_time=0.02)
    for when in (0.0, 0.005, 0.5):
        sim.add_lookup(Lookup(when, "shop/web-0", "api.example.com", 0))
    packets = sim.run()
    assert len(packets) == 8


def test_a_full_shard_evicts_even_a_live_entry() -> None:
    """D3: capacity 1024 is 256 shards of 4; a fifth key in one shard evicts one of the four."""
    limits = PoolLimits(capacity=1024, max_ttl=30, min_ttl=5)
    assert limits.shard_size == 4
    assert PoolLimits(capacity=100, max_ttl=30, min_ttl=5).shard_size == 4
    assert PoolLimits(capacity=10000, max_ttl=30, min_ttl=5).shard_size == 39
    from tests.oracle.refsim import Pool
    pool = Pool(limits, lambda key: 0, random_victim, random.Random(1))
    for i in range(5):
        pool.add((f"n{i}.", "A"), 0.0, Answer("NXDOMAIN", 30))
    assert sum(pool.get((f"n{i}.", "A"), 1.0) is not None for i in range(5)) == 4
    assert pool.evictions == 1


def test_kept_time_is_clamped() -> None:
    """D4: min(max(TTL, MINTTL), MAXTTL)."""
    limits = PoolLimits(capacity=10000, max_ttl=30, min_ttl=5)
    assert [limits.kept(t) for t in (0, 5, 17, 60)] == [5, 5, 17, 30]


def test_autopath_walk_skips_the_cache_up_to_1_14_6_and_goes_through_it_from_1_14_7() -> None:
    """B2, B3, C5, D8: two namespaces walk the same name; up to 1.14.6 each walk forwards its
    own elements (2 per qtype), from 1.14.7 the second walk finds the shared elements cached."""
    counts = {}
    for version in ("1.14.6", "1.14.7"):
        sim = _sim(_spec(version=version, autopath=True))
        sim.add_lookup(Lookup(0.0, "shop/web-0", "api.example.com", 0))
        sim.add_lookup(Lookup(1.0, "blog/web-0", "api.example.com", 0))
        counts[version] = len(sim.run())
    assert counts == {"1.14.6": 2 * 2 * 2, "1.14.7": 2 * 2}


def test_host_network_pods_ask_the_node_directly_and_nodelocal_caches_per_node() -> None:
    """H1: hostNetwork with ClusterFirst falls back to Default (no cache); J1-J4: a node-local
    cache per node forwards from its own node."""
    spec = _spec(workloads=(WorkloadSpec(name="agent", namespace="mon", replicas=2, label="web",
                                         host_network=True),))
    sim = _sim(spec)
    for when in (0.0, 1.0):
        sim.add_lookup(Lookup(when, "mon/agent-0", "api.example.com", 0))
    assert len(sim.run()) == 4
    spec = _spec(nodelocal=True, nodes=4)
    sim = Simulator(spec, Schedule(placement=packed_placement(spec, pods_per_node=1)))
    for when, pod in ((0.0, "shop/web-0"), (0.0, "shop/web-1"), (0.5, "shop/web-0")):
        sim.add_lookup(Lookup(when, pod, "api.example.com", 0))
    packets = sim.run()
    assert {p.sender for p in packets} == {"nodelocal-0", "nodelocal-1"}
    assert len(packets) == 2 * 4


# --- the regression clusters of issue 6 --------------------------------------------------------------



def test_denial_pool_overflow_exceeds_the_limit_by_eviction_alone() -> None:
    """With arrivals spread at random and answers that come back at once (no in-flight misses,
    D10), random victims in full shards (D3) alone drive the upstream over the limit; with an
    unlimited pool the same schedule sends nothing in the horizon."""
    spec = denial_pool_overflow()
    only_eviction = Strategy("uniform-0ms-random-victims", timing="uniform", reply_time=0.0,
                             victims="random", prephase=3)
    assert run(spec, only_eviction).peak.fixed > spec.limit
    unlimited = dataclasses.replace(spec, cache=CacheSpec(ttl=30))
    assert run(unlimited, only_eviction).peak.fixed == 0


def test_denial_pool_overflow_is_not_proved(tmp_path: Path) -> None:
    spec = denial_pool_overflow()
    strategy = Strategy("uniform-0ms-random-victims", timing="uniform", reply_time=0.0,
                        victims="random", prephase=3)
    case = falsify(spec, tmp_path / spec.name, random_count=0, greedy=(strategy,))
    assert case.outcome in ("held", "confirmed", "skipped"), case.line()


def test_eighteen_pods_on_one_node_exceed_the_limit() -> None:
    spec = crowded_node()
    eighteen = Strategy("18-per-node", pods_per_node=18, timing="uniform", reply_time=0.0, prephase=1)
    assert run(spec, eighteen).peak.fixed == 18 * 5 * 2 > spec.limit


@pytest.mark.parametrize("nodelocal", [True, False])
def test_crowded_node_is_not_proved(tmp_path: Path, nodelocal: bool) -> None:
    spec = crowded_node(nodelocal)
    eighteen = Strategy("18-per-node", pods_per_node=18, timing="uniform", reply_time=0.0, prephase=1)
    case = falsify(spec, tmp_path / spec.name, random_count=0, greedy=(eighteen,))
    assert case.outcome in ("held", "confirmed", "skipped"), case.line()


# --- generated clusters --------------------------------------------------------------------------

CI_SEEDS = range(24)
@pytest.mark.parametrize("seed", CI_SEEDS, ids=[f"gen{s:03d}" for s in CI_SEEDS])
def test_no_false_proof(tmp_path: Path, seed: int) -> None:
    spec = random_spec(random.Random(seed), seed)
    case = falsify(spec, tmp_path / spec.name, random_count=1, seed=seed, greedy=CI_STRATEGIES,
                   proofs_only=True)
    assert case.outcome not in ("false-proof", "false-proof-sliding"), case.line()


def test_an_unsafe_trace_is_concretised_and_exceeds_the_limit(tmp_path: Path) -> None:
    """gen018 (1 replica, cluster scope, limit 100/s): the checker's trace, placed per pod and
    node and timed by the greedy adversary, drives the simulator over the limit."""
    spec = random_spec(random.Random(18), 18)
    case = falsify(spec, tmp_path / spec.name, random_count=0, greedy=CI_STRATEGIES)
    assert case.verdict == "unsafe"
    assert case.trace_result is not None
    assert case.outcome == "confirmed", case.line()
