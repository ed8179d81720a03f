"""Replay the recorded real-CoreDNS observations (tests/data/coredns_observations/,
recorded by tests/real_coredns/record.py on CoreDNS 1.11.1, 1.14.6 and 1.14.7) through
the model's static analysis and require agreement, or a named approximation of the
model that only adds packets. No binaries are needed."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from kalc_formal.coredns.plugins.cache import CACHE_SHARDS
from kalc_formal.model.flowmodel import Flow, FlowModel, Group, KeyClass, Pool

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "real_coredns"))

from experiments import EXPERIMENTS, by_id, document, expand  # noqa: E402
from replay import (  # noqa: E402
    forward_figures,
    model_failed_sends,
    model_forwards,
    observed_per_query,
    predict,
    world_reply,
)

OBSERVATIONS = HERE / "data" / "coredns_observations"


def load(experiment_id: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((OBSERVATIONS / f"{experiment_id}.json").read_text())
    return loaded


def runs(*ids: str) -> list[Any]:
    return [
        pytest.param(e.id, release, id=f"{e.id}-{release}")
        for e in EXPERIMENTS if not ids or e.id in ids
        for release in e.releases
    ]


SEQUENTIAL = [e.id for e in EXPERIMENTS if e.sequential]

# Where the model may send more than the server, and why (each only adds packets).
APPROXIMATIONS = {
    "upstream-servfail-not-cached": (
        "the model keeps no error reply (A24, D7); CoreDNS keeps an upstream's own SERVFAIL "
        "for 5 s (the cache's servfail default), so the model counts a miss where the server hits"
    ),
}


def approximation_for(observation: dict[str, Any], query: dict[str, Any]) -> str | None:
    reply = world_reply(observation["world"], query["qname"], query["qtype"])
    if reply.rcode == "SERVFAIL":
        return "upstream-servfail-not-cached"
    return None


def test_every_experiment_is_recorded_as_defined():
    for experiment in EXPERIMENTS:
        recorded = load(experiment.id)
        defined = document(experiment, recorded["runs"])
        assert recorded == defined, f"{experiment.id}: the recording differs from experiments.py; re-record it"
        assert sorted(recorded["runs"]) == sorted(experiment.releases)
    assert sorted(p.stem for p in OBSERVATIONS.glob("*.json")) == sorted(e.id for e in EXPERIMENTS)


@pytest.mark.parametrize(("experiment_id", "release"), runs(*SEQUENTIAL))
def test_each_query_sends_what_the_model_says(experiment_id, release):
    """Routing, chain order, autopath walks, kubernetes, TTL bounds, pools, policies,
    prefetch: per client query the same upstream queries (name, type, to an upstream the
    model allows) and the same reply code; a cache hit's TTL within the model's kept time."""
    observation = expand(load(experiment_id), release)
    predicted = predict(observation)
    observed = observed_per_query(observation)
    problems = []
    for index, (query, model, seen) in enumerate(zip(observation["queries"], predicted, observed, strict=True)):
        reply = observation["replies"][index]["reply"]
        label = f"query {index} ({query['time']} s {query['source']} {query['qname']} {query['qtype']})"
        if reply is None or reply["rcode"] != model.rcode:
            problems.append(f"{label}: reply {reply}, model {model.rcode}")
        want = Counter((e.qname, e.qtype) for e in model.exchanges)
        got = Counter((qname, qtype) for _, qname, qtype, _ in seen)
        for upstream, qname, qtype, _ in seen:
            allowed = {u for e in model.exchanges if (e.qname, e.qtype) == (qname, qtype) for u in e.upstreams}
            if allowed and upstream not in allowed:
                problems.append(f"{label}: {qname} {qtype} went to {upstream}, model: {sorted(allowed)}")
        if got == want:
            ttl = reply["ttl"] if reply is not None else None
            # The model keeps a prefetched entry only until its prefetch point (D11).
            shortened = "prefetch" in observation["corefile"]
            if model.hit_ttl is not None and ttl is not None and ttl > model.hit_ttl and not shortened:
                problems.append(f"{label}: TTL {ttl} from the cache, model keeps {model.hit_ttl} s")
            continue
        if not got - want and approximation_for(observation, query) in APPROXIMATIONS:
            continue
        problems.append(f"{label}: upstream got {sorted(got.elements())}, model {sorted(want.elements())}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("experiment_id", "release"), runs(*SEQUENTIAL))
def test_ip_packets_to_the_upstream_are_within_the_model(experiment_id, release):
    """What a per-packet limit counts: every IP packet to the upstream (TCP handshakes
    of prefetch refreshes included) is within the model's packets for the experiment."""
    observation = expand(load(experiment_id), release)
    model_packets = sum(e.packets for p in predict(observation) for e in p.exchanges)
    seen = sum(len(u["ip_packets"]) for u in observation["upstream"].values() if u["ip_packets"] is not None)
    assert seen <= model_packets


def test_chain_order_switch_is_at_exactly_1_14_7():
    """B2, B3: cold walk sends <name>.<node search>. and <name>.; a second namespace
    repeats the walk up to 1.14.6 and is answered from the per-step cache from 1.14.7."""
    recorded = load("autopath_chain_order")
    sent = {}
    for release in recorded["runs"]:
        observation = expand(recorded, release)
        sent[release] = [len(x) for x in observed_per_query(observation)]
        assert sent[release] == [len(p.exchanges) for p in predict(observation)]
    assert sent["1.11.1"] == sent["1.14.6"] == [2, 0, 2, 1, 1, 0, 2, 2, 0]
    assert sent["1.14.7"] == [2, 0, 0, 0, 0, 0, 2, 0, 0]


@pytest.mark.parametrize("release", by_id("forward_silent_upstream").releases)
def test_forward_to_a_silent_upstream(release):
    """E5-E8: the first failed query's sends are the model's schedule exactly; every
    later one sends no more than it (once marked down, one send); SERVFAIL reaches the
    client at one of the model's SERVFAIL times; a failure is not cached; health probes
    are within the model's count per step (E7)."""
    observation = expand(load("forward_silent_upstream"), release)
    (forward,) = model_forwards(observation["corefile"], release)
    figures = forward_figures(observation)
    schedule = forward.send_times()
    first = figures["sends"][0]
    assert len(first) == len(schedule)
    assert all(abs(at - want) < 0.1 for at, want in zip(first, schedule, strict=True))
    for index, at in figures["sends"].items():
        assert 1 <= len(at) <= len(schedule), f"query {index}: {len(at)} sends"
        assert all(any(abs(a - s) < 0.1 for s in schedule) for a in at)
    assert figures["sends"][len(observation["queries"]) - 1], "a failure was cached"
    times = forward.servfail_times()
    for index, waited in enumerate(figures["servfail"]):
        assert waited is not None, f"query {index}: no reply"
        assert any(abs(waited - t) < 0.1 for t in times), f"query {index}: {waited}"
    assert figures["servfail"][0] == pytest.approx(max(times), abs=0.1)
    assert figures["servfail"][-1] == pytest.approx(min(times), abs=0.1)
    probes = figures["probes"]
    for window in (1.0, 2.0, 3.0):
        most = max(sum(1 for p in probes if start <= p < start + window) for start in probes)
        assert most <= forward.probes_within(window)
    assert max(sum(1 for p in probes if s <= p < s + 1) for s in range(0, 16)) == forward.probes_within(1.0)


@pytest.mark.parametrize("release", by_id("cache_serve_stale").releases)
def test_serve_stale_during_an_outage(release):
    """D12: clients keep getting the stale answer (no failures, so no follow-ups); the
    refreshes go over TCP; per step, the IP packets are within what the model counts for
    the stale key's failed misses (each client query a miss, each send a TCP exchange)."""
    observation = expand(load("cache_serve_stale"), release)
    assert all(r["reply"] and r["reply"]["rcode"] == "NOERROR" for r in observation["replies"])
    refreshes = [q for q in observation["upstream"]["UP1"]["queries"] if q["qname"] == "ss.example." and q["time"] > 1]
    assert refreshes
    assert all(q["transport"] == "tcp" for q in refreshes)
    (forward,) = model_forwards(observation["corefile"], release)
    outage = next(r["from"] for r in observation["world"] if r["kind"] == "SILENT")
    predicted = predict(observation, outage_from=outage)
    per_step: Counter[int] = Counter()
    for index, (query, model) in enumerate(zip(observation["queries"], predicted, strict=True)):
        if query["time"] < outage or not model.exchanges:
            continue
        assert all(exchange.failed for exchange in model.exchanges)
        for delay, packets in model_failed_sends(observation, index):
            per_step[math.floor(query["time"]) + delay] += packets
    assert per_step, "no query met the expired entry during the outage"
    for second in range(math.ceil(outage), 40):
        per_step[second] += forward.probes_within(1.0)
    packets = observation["upstream"]["UP1"]["ip_packets"]
    if packets is None:
        pytest.skip("recorded without IP packet counts")
    seen = Counter(math.floor(p["time"]) for p in packets if p["time"] >= math.ceil(outage))
    over = {s: (n, per_step[s]) for s, n in seen.items() if n > per_step[s]}
    assert not over, f"second: (IP packets, model) {over}"


def _capacity_rounds(observation: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per key set (zone): (keys, upstream queries in the second round)."""
    result = {}
    queries = observation["queries"]
    for zone in ("small.", "mid.", "big."):
        times = [q["time"] for q in queries if q["qname"].endswith("." + zone)]
        keys = len(times) // 2
        second = sorted(times)[keys]
        again = sum(1 for p in observation["upstream"]["UP1"]["queries"]
                    if p["qname"].endswith("." + zone) and p["time"] >= second)
        result[zone] = (keys, again)
    return result


def _pool_capacity(release: str) -> int:
    from replay import _setup

    setup, _ = _setup(by_id("cache_capacity").corefile, release)
    (success, _denial) = next(iter(setup.cache_capacity.values()))
    return int(success)


@pytest.mark.parametrize("release", by_id("cache_capacity").releases)
def test_more_keys_than_the_pool_holds_miss_again(release):
    """D3: with more keys than the pool's capacity entries miss again; with few keys
    (100 in 1024) none does."""
    observation = expand(load("cache_capacity"), release)
    capacity = _pool_capacity(release)
    rounds = _capacity_rounds(observation)
    small_keys, small_again = rounds["small."]
    big_keys, big_again = rounds["big."]
    assert small_keys <= capacity
    assert small_again == 0
    assert big_keys > capacity
    assert 0 < big_again <= big_keys


@pytest.mark.parametrize("release", by_id("cache_capacity").releases)
def test_keys_that_can_crowd_a_shard_may_miss_again(release):
    """Measured: 600 keys in a 1024-entry pool miss again (CoreDNS evicts within each of
    256 shards of max(4, capacity // 256) entries, D3); the model lets any entry be
    evicted once a pool's keys exceed one shard's capacity."""
    observation = expand(load("cache_capacity"), release)
    keys, again = _capacity_rounds(observation)["mid."]
    capacity = _pool_capacity(release)
    assert keys <= capacity
    assert again > 0
    pool = Pool("p", "g", capacity, capacity // CACHE_SHARDS)
    model = FlowModel(
        flows=(Flow("f", 0, 1),), groups=(Group("g", Fraction(1), Fraction(1)),),
        key_classes=(KeyClass("k", "g", keys=keys, ttl_steps=30, pool="p"),),
        scopes=(), pools=(pool,),
    )
    assert model.may_evict("p")


@pytest.mark.parametrize("release", by_id("coincident_misses").releases)
def test_coincident_identical_misses_are_not_merged(release):
    """D10, issue 7 item 1 (the lead models it): 50 simultaneous queries for one cold
    key with a 20 ms upstream each go upstream; so do 50 namespaces' walks."""
    observation = expand(load("coincident_misses"), release)
    upstream = observation["upstream"]["UP1"]["queries"]
    assert sum(1 for q in upstream if q["qname"] == "burst.example.") > 1
    assert sum(1 for q in upstream if q["qname"] == "walk.") > 2


def test_experiments_are_well_formed():
    for experiment in EXPERIMENTS:
        assert experiment.facts
        assert experiment.rule
        assert set(experiment.live_releases) <= set(experiment.releases)
