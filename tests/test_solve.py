"""Verdicts: proved, safe-bounded and unsafe agree with simulation; traces are shortest."""

import random
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.model.flowmodel import Flow, FlowModel, Group, KeyClass, Pool, Scope
from kalc_formal.model.simulator import Simulator
from kalc_formal.model.solve import Verdict, any_violation_within, decide
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
    assert outcome.verdict is not Verdict.UNKNOWN, outcome.reason
    if outcome.verdict is Verdict.UNSAFE:
        steps = outcome.counterexample.steps
        assert not any(s.violated for s in steps[:-1])
        if len(steps) > 1:
            assert any_violation_within(model, len(steps) - 1) is None
        return
    assert any_violation_within(model, horizon) is None
    rng = random.Random(seed)
    for _ in range(5):
        simulator = Simulator(model, chooser=lambda _n, lo, hi: rng.randint(lo, hi))
        assert not any(r.violated for r in simulator.run(horizon))
