"""Verdicts: proved, safe-bounded and unsafe agree with simulation; traces are shortest."""

import random
from fractions import Fraction
from itertools import pairwise

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.model.encode import Unrolling, envelope
from kalc_formal.model.flowmodel import Flow, FlowModel, Group, KeyClass, Pool, Scope
from kalc_formal.model.simulator import Simulator
from kalc_formal.model.solve import (
    NO_SERVER_LOAD_WITH_OUTAGES,
    Verdict,
    any_violation_within,
    decide,
    prove_by_induction,
    sharing,
)
from tests.test_differential import flow_models


def incident(peak):
    return FlowModel(
        flows=(Flow("ext", base=400, peak=peak),),
        groups=(Group("hot", Fraction(1, 10), Fraction(11, 100)),),
        pools=(Pool("success", "hot", 9984),),
        key_classes=(
            KeyClass("autopath", "hot", keys=4000, ttl_steps=5, pool="success",
                     demand=(("ext", 2),), upstream=(("node", 2),)),
        ),
        scopes=(Scope("node", 1024, (("hot", 1),)),),
    )


def test_a_surge_over_the_limit_is_unsafe_with_the_smallest_surge():
    outcome = decide(incident(peak=5000), horizon=30)
    assert outcome.verdict is Verdict.UNSAFE
    trace = outcome.counterexample
    assert trace.length == 1
    last = trace.steps[-1]
    assert 1024 < last.upstream["node"] <= 1028
    assert last.lookups["ext"] == 2337  # floor(0.11 * 2337) = 257 lookups -> 514 misses x 2
    assert trace.surge == 2337 - 400


def test_a_bounded_surge_is_proved_safe():
    outcome = decide(incident(peak=2000), horizon=30)
    assert outcome.verdict is Verdict.PROVED
    assert outcome.induction_depth == 0
    assert len(outcome.checks) == 2


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(model=flow_models(), seed=st.integers(0, 2**32))
def test_verdicts_agree_with_random_simulation(model, seed):
    horizon = 6
    outcome = decide(model, horizon)
    if model.property == "server-load" and model.may_fail():
        assert outcome.verdict is Verdict.UNKNOWN
        assert outcome.reason == NO_SERVER_LOAD_WITH_OUTAGES
        return
    assert outcome.verdict is not Verdict.UNKNOWN, outcome.reason
    if outcome.verdict is Verdict.UNSAFE:
        steps = outcome.counterexample.steps
        assert steps[-1].fails(model)
        assert not any(s.fails(model) for s in steps[:-1])
        if len(steps) > 1:
            assert any_violation_within(model, len(steps) - 1) is None
        return
    assert any_violation_within(model, horizon) is None
    rng = random.Random(seed)
    for _ in range(5):
        simulator = Simulator(model, chooser=lambda _n, lo, hi: rng.randint(lo, hi))
        assert not any(r.fails(model) for r in simulator.run(horizon))


# ---- exactness of the solving aids (issue 8, "Speed") ---------------------------------


def all_runs(model, steps):
    """Every run of ``steps`` steps that the simulator allows from INIT, by brute force:
    each choice the simulator asks for takes every value of its range in turn."""
    path = []
    ranges = []

    def chooser(_name, low, high):
        position = len(ranges)
        ranges.append(high)
        if position == len(path):
            path.append(low)
        return path[position]

    while True:
        ranges.clear()
        yield Simulator(model, chooser=chooser).run(steps)
        while path and path[-1] >= ranges[len(path) - 1]:
            path.pop()
        if not path:
            return
        path[-1] += 1


def surge_of(model, steps):
    return sum(step.lookups[f.id] - f.base for step in steps for f in model.flows)


def rounding_model(limit, window_steps):
    """Two flows whose shares round differently, a class that is not cached and a kept
    class (a warm start is any cache state, as an induction start is)."""
    return FlowModel(
        flows=(Flow("f0", base=1, peak=4), Flow("f1", base=0, peak=3)),
        groups=(Group("g", Fraction(2, 5), Fraction(3, 5), replicas=2, serving=2),),
        pools=(Pool("p", "g", 10),),
        key_classes=(
            KeyClass("direct", "g", keys=1, ttl_steps=0, demand=(("f0", 1),), upstream=(("s", 3),)),
            KeyClass("kept", "g", keys=1, ttl_steps=2, pool="p", demand=(("f1", 2),),
                     upstream=(("s", 2),)),
        ),
        scopes=(Scope("s", limit, (("g", 1),), window_steps=window_steps),),
    )


def test_the_headroom_is_the_most_any_window_carries_by_brute_force():
    for window_steps in (1, 2):
        model = rounding_model(limit=1_000, window_steps=window_steps)
        outcome = decide(model, horizon=4)
        assert outcome.verdict is Verdict.PROVED
        most = max(
            sum(step.upstream["s"] for step in run[-window_steps:])
            for run in all_runs(model, window_steps)
        )
        assert outcome.worst_step == {"s": most}


def test_the_smallest_surge_is_the_least_of_every_violating_run_by_brute_force():
    for limit in (7, 10, 13):
        model = rounding_model(limit=limit, window_steps=1)
        outcome = decide(model, horizon=3)
        assert outcome.verdict is Verdict.UNSAFE
        trace = outcome.counterexample
        assert trace.length == 1
        assert trace.surge_minimal
        least = min(surge_of(model, run) for run in all_runs(model, 1) if run[-1].violated)
        assert trace.surge == least


@SETTINGS
@given(
    low=st.integers(0, 12), high=st.integers(1, 12), denominator=st.integers(1, 12),
    serving=st.integers(1, 6), extra=st.integers(0, 4), base=st.integers(0, 40),
    width=st.integers(0, 60),
)
def test_the_encoded_share_of_a_flow_is_the_groups_lookup_bounds(
    low, high, denominator, serving, extra, base, width
):
    """At every lookup count of the flow's range the representative can get exactly the
    values of ``Group.lookup_bounds`` (the lower bound is encoded without division)."""
    share_high = Fraction(min(max(high, low), denominator), denominator)
    share_low = Fraction(min(low, share_high.numerator * denominator // share_high.denominator),
                         denominator)
    serving = max(serving, -(-share_high.denominator // max(share_high.numerator, 1)))
    if share_high * serving < 1:
        return
    group = Group("g", share_low, share_high, replicas=serving + extra, serving=serving)
    flow = Flow("f", base, base + width)
    model = FlowModel((flow,), (group,), (), (Scope("s", 0, (("g", 1),)),))
    unrolling = Unrolling(model, 1)
    solver = z3.Solver()
    solver.add(*unrolling.initial, *unrolling.extend(), *unrolling.envelope_cuts(0))
    lookups = unrolling.steps[0].lookups["f"]
    amount = unrolling.steps[0].group_lookups[("g", "f")]
    for total in range(flow.base, flow.peak + 1):
        least, most = group.lookup_bounds("f", total)
        for value, allowed in ((least - 1, False), (least, True), (most, True), (most + 1, False)):
            assert (solver.check(lookups == total, amount == value) == z3.sat) is allowed, (
                total, value, least, most)


@SETTINGS
@given(flow_models(), st.integers(0, 3))
def test_envelope_cuts_remove_no_run(model, width):
    """Every value a representative may take lies under its flow's envelope, and the
    envelope touches the bound at each vertex."""
    for group in model.groups:
        for flow in model.flows:
            peak = flow.peak + width
            vertices = envelope(group, flow.id, flow.base, peak)
            most = {n: group.lookup_bounds(flow.id, n)[1] for n in range(flow.base, peak + 1)}
            assert all(most[x] == y for x, y in vertices)
            for (x1, y1), (x2, y2) in pairwise(vertices):
                for n, bound in most.items():
                    assert (x2 - x1) * bound <= (x2 - x1) * y1 + (y2 - y1) * (n - x1)


@SETTINGS
@given(flow_models())
def test_a_shared_longer_unrolling_answers_as_a_fresh_one(model):
    """``decide`` shares one unrolling per start among its queries; a query of k steps on
    an unrolling sized for more answers as one sized for k."""
    fresh = [any_violation_within(model, k) is None for k in (1, 2, 3)]
    with sharing(model, from_init=6, from_any_state=6):
        shared = [any_violation_within(model, k) is None for k in (1, 2, 3)]
        induction = prove_by_induction(model, 2)
    assert shared == fresh
    assert induction == prove_by_induction(model, 2)
