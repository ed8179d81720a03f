"""The Z3 encoding and the simulator implement the same transition system."""

import random
from dataclasses import replace
from fractions import Fraction

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.model.encode import Unrolling
from kalc_formal.model.flowmodel import (
    Flow,
    FlowModel,
    Group,
    KeyClass,
    Pool,
    Scope,
    ServerLimit,
)
from kalc_formal.model.simulator import ReplayError, Simulator, simulate
from tests.test_abstraction import misses_bounds


@st.composite
def shares(draw, serving=None):
    """A (min, max) share pair; max x serving >= 1 when ``serving`` is given."""
    least = 1 if serving is None else -(-6 // serving)
    high = Fraction(draw(st.integers(least, 6)), 6)
    low = Fraction(draw(st.integers(0, high.numerator * 6 // high.denominator)), 6)
    return low, high


@st.composite
def groups_of(draw, flows, group_id):
    """A group with or without a split count and with or without per-flow shares."""
    serving = draw(st.one_of(st.none(), st.integers(1, 6)))
    replicas = None if serving is None else draw(st.integers(serving, 8))
    low, high = draw(shares(serving))
    flow_shares = tuple(
        (f.id, *draw(shares(serving))) for f in flows if draw(st.booleans())
    )
    return Group(group_id, low, high, restarts=draw(st.integers(0, 2)), flow_shares=flow_shares,
                 replicas=replicas, serving=serving)


@st.composite
def flow_models(draw):
    flows = tuple(
        Flow(f"f{i}", base, base + draw(st.integers(0, 30)))
        for i, base in enumerate(draw(st.lists(st.integers(0, 20), min_size=1, max_size=3)))
    )
    groups = [draw(groups_of(flows, f"g{i}")) for i in range(draw(st.integers(1, 2)))]
    scopes = tuple(
        Scope(
            f"s{i}", draw(st.integers(0, 60)), tuple((g.id, draw(st.integers(0, 2))) for g in groups),
            outage_steps=draw(st.sampled_from([0, 0, 1, 2])), probe_packets=draw(st.integers(0, 3)),
            window_steps=draw(st.integers(1, 2)),
            lookup_packets=tuple(
                (f.id, draw(st.integers(0, 3))) for f in flows if draw(st.booleans())
            ),
        )
        for i in range(draw(st.integers(1, 2)))
    )
    pools = tuple(
        Pool(f"p{g.id}", g.id, draw(st.integers(0, 25)), shard_capacity=draw(st.integers(0, 6)))
        for g in groups
    )
    keys = []
    for i in range(draw(st.integers(1, 4))):
        group = draw(st.sampled_from(groups))
        ttl = draw(st.integers(0, 5))
        earlier = [k.id for k in keys if k.group == group.id]
        keys.append(
            KeyClass(
                f"k{i}", group.id, keys=draw(st.integers(0, 15)), ttl_steps=ttl,
                pool=f"p{group.id}" if ttl else None,
                demand=tuple((f.id, draw(st.integers(0, 3))) for f in flows),
                fed_by=tuple((k, draw(st.integers(0, 2))) for k in earlier if draw(st.booleans())),
                upstream=tuple((s.id, draw(st.integers(0, 3))) for s in scopes),
                every_key_every_step=draw(st.booleans()),
                failed_sends=tuple(
                    (d, draw(st.integers(0, 2))) for d in draw(st.sets(st.integers(0, 3), max_size=2))
                ),
                **draw(misses_bounds()),
            )
        )
    ids = [k.id for k in keys]
    keys = [
        replace(key, followups=tuple(
            (draw(st.sampled_from(ids)), draw(st.integers(1, 3)), draw(st.integers(0, 2)))
            for _ in range(draw(st.integers(0, 2)))
        ))
        for key in keys
    ]
    server_limits = tuple(
        ServerLimit(
            f"l{g.id}", g.id, draw(st.integers(0, 60)),
            tuple((f.id, draw(st.integers(0, 2)), draw(st.integers(0, 4)))
                  for f in flows if draw(st.booleans())),
        )
        for g in groups if draw(st.booleans())
    )
    return FlowModel(
        flows=flows, groups=tuple(groups), key_classes=tuple(keys), scopes=scopes, pools=pools,
        initial_cache=draw(st.sampled_from(["warm", "cold"])),
        surge_steps=draw(st.one_of(st.none(), st.integers(0, 3))),
        in_flight_steps=draw(st.integers(0, 2)),
        server_limits=server_limits,
        property=draw(st.sampled_from(["upstream-limit", "server-load"])),
    )


def _values(model, unrolling, zmodel):
    def value(expr):
        return zmodel.eval(expr, model_completion=True).as_long()

    rows = []
    for step in unrolling.steps:
        rows.append(
            (
                {k: value(v) for k, v in step.live.items()},
                {k: value(v) for k, v in step.queries.items()},
                {k: value(v) for k, v in step.misses.items()},
                {k: value(v) for k, v in step.fills.items()},
                {k: value(v) for k, v in step.upstream.items()},
                {k: value(v) for k, v in step.failed.items()},
            )
        )
    return rows


def _sim_rows(results):
    return [(r.live, r.queries, r.misses, r.fills, r.upstream, r.failed) for r in results]


def simulate_and_pin(model, steps, seed, *, free=False):
    """A random simulated run, and the encoding with every choice pinned to it: it must
    be satisfiable with the same values."""
    rng = random.Random(seed)
    simulator = Simulator(model, free_start=free, chooser=lambda _n, lo, hi: rng.randint(lo, hi))
    results = simulator.run(steps)
    unrolling = Unrolling(model, steps, free_start=free)
    solver = z3.Solver()
    solver.add(*unrolling.initial)
    for _ in range(steps):
        solver.add(*unrolling.extend())
    solver.add(*unrolling.pin(simulator.taken))
    assert solver.check() == z3.sat
    assert _values(model, unrolling, solver.model()) == _sim_rows(results)
    return unrolling, solver, results


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(model=flow_models(), steps=st.integers(1, 7), seed=st.integers(0, 2**32), free=st.booleans())
def test_every_simulated_run_is_a_model_of_the_encoding(model, steps, seed, free):
    unrolling, solver, results = simulate_and_pin(model, steps, seed, free=free)
    for t, result in enumerate(results):
        violated = z3.is_true(solver.model().eval(unrolling.violation(t), model_completion=True))
        assert violated == result.fails(model)
        loads = {
            limit.id: solver.model().eval(unrolling.server_load(limit.id, t)).as_long()
            for limit in model.server_limits
        }
        assert loads == result.server_load


@SETTINGS
@given(model=flow_models(), steps=st.integers(1, 7), seed=st.integers(0, 2**32), free=st.booleans())
def test_every_model_of_the_encoding_replays_in_the_simulator(model, steps, seed, free):
    rng = random.Random(seed)
    unrolling = Unrolling(model, steps, free_start=free)
    solver = z3.Solver()
    solver.set("random_seed", seed % 1000)
    solver.add(*unrolling.initial)
    for _ in range(steps):
        solver.add(*unrolling.extend())
    target = rng.randrange(steps)
    scope = rng.choice(model.scopes)
    solver.add(unrolling.steps[target].upstream[scope.id] >= rng.randint(0, 80))
    if solver.check() != z3.sat:
        return
    zmodel = solver.model()
    choices = unrolling.decode(zmodel)
    results = simulate(model, choices, steps, free_start=free)
    assert _sim_rows(results) == _values(model, unrolling, zmodel)


def test_a_choice_out_of_bounds_is_refused():
    model = FlowModel(
        flows=(Flow("f", 0, 10),),
        groups=(Group("g", Fraction(1), Fraction(1)),),
        key_classes=(KeyClass("k", "g", keys=5, ttl_steps=2, pool="p", demand=(("f", 1),)),),
        scopes=(Scope("s", 10, (("g", 1),)),),
        pools=(Pool("p", "g", 100),),
        initial_cache="cold",
    )
    simulator = Simulator(model)
    simulator.choices.lookups.append({"f": 3})
    simulator.choices.fills.append({"k": 2})
    simulator.choices.misses.append({"k": 4})
    with pytest.raises(ReplayError, match=r"misses\[k\]@0 = 4, outside \[2, 3\]"):
        simulator.step(0)
