"""The counted model admits every run of an exact per-key cache (soundness of counting).

The exact cache below tracks individual keys with their fill step, expires them
``tau`` steps after the fill, evicts arbitrary entries when a pool is over capacity,
and empties on restart (D3, D4, D13); while the upstream is out, every query for an
uncached key is an exchange of its own and nothing is cached (D10, A24); while it
answers, the queries for a key that arrive before its answer is cached miss too, up to
the class's ``misses_per_fill`` (D10). Requests pick arbitrary keys. Each run is turned
into counted choices, which the simulator must accept: so every exact behaviour is a
behaviour of the counted model, and a proof about the counted model covers it.
"""

import random
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.model.flowmodel import Flow, FlowModel, Group, KeyClass, Pool, Scope
from kalc_formal.model.simulator import Choices, StartCache, simulate


@st.composite
def misses_bounds(draw):
    per_fill = draw(st.none() | st.integers(1, 4))
    if per_fill is None:
        return {}
    return {"misses_per_fill": per_fill, "key_queries": per_fill + draw(st.integers(0, 3))}


@st.composite
def single_group_models(draw):
    flows = (Flow("f", draw(st.integers(0, 6)), 6 + draw(st.integers(0, 10))),)
    restarts = draw(st.integers(0, 2))
    keys = []
    for i in range(draw(st.integers(1, 3))):
        count, demand = draw(st.integers(1, 8)), draw(st.integers(1, 3))
        bounds = draw(misses_bounds())
        if bounds:  # every query of a step can reach some key within its bound
            fit = -(-demand * flows[0].peak // count)
            bounds["key_queries"] = max(bounds["key_queries"], fit)
        keys.append(
            KeyClass(
                f"k{i}", "g", keys=count, ttl_steps=draw(st.integers(1, 5)),
                pool="p", demand=(("f", demand),), upstream=(("s", 1),), **bounds,
            )
        )
    return FlowModel(
        flows=flows,
        groups=(Group("g", Fraction(1), Fraction(1), restarts=restarts),),
        key_classes=tuple(keys),
        scopes=(Scope("s", 1000, (("g", 1),), outage_steps=draw(st.integers(0, 3))),),
        pools=(Pool("p", "g", draw(st.integers(1, 20))),),
        initial_cache=draw(st.sampled_from(["warm", "cold"])),
    )


def exact_run(model, steps, rng):
    """Run an exact per-key cache; return the counted choices it corresponds to."""
    classes = model.key_classes
    capacity = model.pools[0].capacity
    cache = {}  # (class, key) -> expiry step
    choices = Choices(restarts_used={"g": 0}, surge_used=0)
    if model.initial_cache == "warm":
        for key in classes:
            if key.ttl_steps > 1:
                for index in rng.sample(range(key.keys), rng.randint(0, key.keys)):
                    if len(cache) < capacity:
                        cache[(key.id, index)] = rng.randint(1, key.ttl_steps - 1)
    for key in classes:
        expiry = [0] * (key.ttl_steps - 1)
        for (class_id, _), step in cache.items():
            if class_id == key.id:
                expiry[step - 1] += 1
        choices.start[key.id] = StartCache(sum(expiry), tuple(expiry))
    restarts_left = model.groups[0].restarts
    outages_left = model.scopes[0].outage_steps
    for t in range(steps):
        out = outages_left > 0 and rng.random() < 0.3
        outages_left -= out
        choices.outages.append(frozenset({"s"} if out else ()))
        restart = restarts_left > 0 and rng.random() < 0.2
        restarts_left -= restart
        choices.restarts.append(frozenset({"g"} if restart else ()))
        if restart:
            cache.clear()
        for slot, step in list(cache.items()):
            if step <= t:
                del cache[slot]
        lookups = rng.randint(model.flows[0].base, model.flows[0].peak)
        choices.lookups.append({"f": lookups})
        choices.group_lookups.append({("g", "f"): lookups})
        misses = {}
        fills = {k.id: 0 for k in classes}
        for key in classes:
            queries = dict(key.demand)["f"] * lookups
            cap = key.key_queries or queries
            slots = [i for i in range(key.keys) for _ in range(cap)]
            requested = rng.sample(slots, queries)  # at most ``key_queries`` per key
            missed = [i for i in requested if (key.id, i) not in cache]
            if out:  # each query for an uncached key is its own failed exchange (D10, A24)
                misses[key.id] = len(missed)
                continue
            in_flight = {}
            for index in missed:
                most = key.misses_per_fill or len(missed)
                if index not in in_flight or (in_flight[index] < most and rng.random() < 0.5):
                    in_flight[index] = in_flight.get(index, 0) + 1
            misses[key.id] = sum(in_flight.values())
            fills[key.id] = len(in_flight)
            for index in in_flight:
                cache[(key.id, index)] = t + key.ttl_steps
        choices.misses.append(misses)
        choices.fills.append(fills)
        while len(cache) > capacity:
            del cache[rng.choice(sorted(cache))]
    return choices


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=single_group_models(), steps=st.integers(1, 10), seed=st.integers(0, 2**32))
def test_every_exact_cache_run_is_a_run_of_the_counted_model(model, steps, seed):
    choices = exact_run(model, steps, random.Random(seed))
    results = simulate(model, choices, steps)
    if model.may_evict("p"):
        # any entry may be evicted at any insert: the counted model takes the most
        # misses the queries and each key's queries allow (D3, D10)
        for result, exact in zip(results, choices.misses, strict=True):
            assert all(exact[k] <= result.misses[k] for k in exact)
    else:
        assert [r.misses for r in results] == choices.misses
