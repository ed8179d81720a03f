"""The benchmark's generator (benchmarks/synthetic.py) on tiny cases, through the pipeline.

Not timed: checks that a generated cluster reads, analyses and decides, that the
verdict is the one the generator built it for, and that formula size does not grow
with pods or namespaces.
"""

import re
from pathlib import Path

import pytest
import z3

from benchmarks.synthetic import Case, scaled, write_case
from kalc_formal import engine
from kalc_formal.config import reading
from kalc_formal.model.encode import Unrolling, formula_size
from kalc_formal.model.solve import Verdict

TINY = Case("tiny", pods=100, namespaces=10, names=10, intent="unsafe", horizon=10)


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Cases are read by a relative path: Z3's variable names hold the file paths."""
    monkeypatch.chdir(tmp_path)


def analyse(case, folder="cluster"):
    plan = write_case(case, Path(folder))
    return plan, engine.analyse_inputs(reading.read_inputs([str(folder)]))


def decide(case, folder="cluster"):
    plan, analysis = analyse(case, folder)
    return plan, analysis, engine.check(analysis)


@pytest.mark.parametrize("intent", ["unsafe", "proved"])
def test_a_generated_cluster_gets_the_verdict_it_was_built_for(intent):
    plan, analysis, outcome = decide(scaled(TINY, intent=intent))
    assert outcome.verdict.value == intent == plan.expected
    assert len(analysis.model.flows) == 9  # 2 pod classes: 4 + 1 name classes, 4
    if intent == "proved":
        assert plan.least_step <= outcome.worst_step["u0"] <= plan.worst_step
        assert plan.worst_step <= plan.limit // 2
    else:
        window = outcome.counterexample.steps[-2:]
        assert sum(step.upstream["u0"] for step in window) > plan.limit
        assert plan.least_step >= 2 * plan.limit
        assert plan.baseline_worst_step <= plan.limit // 2


def test_the_manifests_hold_the_pods_namespaces_and_replicas_asked_for():
    case = scaled(TINY, pods=1_003, namespaces=7, coredns_replicas=3)
    plan, analysis = analyse(case)
    assert sum(w.replicas for w in plan.workloads) == 1_003
    assert {w.namespace for w in plan.workloads} == {f"team-{i:03d}" for i in range(7)}
    assert sum(f.pods_base for f in analysis.flows.values() if f.name_class.endswith("ext0.partner.example.com")) == 1_003
    assert analysis.groups["coredns"].replicas == 1
    assert any(a.key == "coredns.replicas" and str(a.value) == "3" for a in analysis.assumptions)


def size_at(case, folder="cluster", horizon=8):
    _, analysis = analyse(case, folder)
    unrolling = Unrolling(analysis.model, horizon)
    facts = list(unrolling.initial)
    for _ in range(horizon):
        facts += unrolling.extend()
    size = formula_size(facts)
    return len(analysis.model.key_classes), size.int_variables, size.bool_variables, size.assertions


def test_formula_size_does_not_grow_with_pods_or_namespaces():
    small = size_at(TINY, "small")
    more_pods = size_at(scaled(TINY, pods=1_000), "pods")
    more_namespaces = size_at(scaled(TINY, pods=400, namespaces=40), "namespaces")
    assert small == more_pods == more_namespaces
    assert small[1] > 0


def test_formula_size_grows_with_name_classes_and_the_horizon():
    keys, ints, _, assertions = size_at(TINY, "small")
    more_keys, more_ints, _, _ = size_at(scaled(TINY, names=40, name_classes=8), "classes")
    _, longer_ints, _, longer_assertions = size_at(TINY, "longer", horizon=16)
    assert more_keys > keys
    assert more_ints > ints
    assert longer_ints > ints
    assert longer_assertions > assertions


def test_formula_size_counts_free_variables_by_sort_and_shared_terms_once():
    x, y, flag = z3.Int("x"), z3.Int("y"), z3.Bool("flag")
    shared = x + y
    size = formula_size([shared > 0, z3.Or(flag, shared < 5), x == 3])
    assert (size.int_variables, size.bool_variables, size.assertions) == (2, 1, 3)
    # terms: x, y, x+y, 0, 5, 3, x+y>0, x+y<5, flag, Or, x==3
    assert size.nodes == 11


def checked_with(limit, window, horizon, folder="case"):
    env = Path(folder) / "kalc.yaml"
    text = re.sub(r"limit: \d+(\n    window: \w+)?", f"limit: {limit}\n    window: {window}",
                  env.read_text())
    env.write_text(re.sub(r"horizon: \d+", f"horizon: {horizon}", text))
    return engine.check(engine.analyse_inputs(reading.read_inputs([folder])))


def test_a_trace_that_needs_two_steps_is_safe_bounded_at_horizon_one():
    """A limit that one step cannot exceed but a sliding window over two steps can."""
    plan = write_case(scaled(TINY, autopath=False, tiers=1, intent="proved"), Path("case"))
    one_step = checked_with(plan.limit, "fixed", 10).worst_step["u0"]
    two_steps = checked_with(plan.limit, "sliding", 10).worst_step["u0"]
    assert one_step < two_steps
    bounded = checked_with(one_step, "sliding", 1)
    unsafe = checked_with(one_step, "sliding", 2)
    assert bounded.verdict is Verdict.SAFE_BOUNDED
    assert unsafe.verdict is Verdict.UNSAFE
    assert unsafe.counterexample.length == 2


def test_shared_keys_of_two_pod_classes_cost_one_packet_per_miss():
    plan, _, outcome = decide(scaled(TINY, intent="proved", autopath=False))
    assert plan.least_step <= outcome.worst_step["u0"] <= plan.worst_step


def test_coredns_1_14_7_with_two_pod_classes_is_decided():
    _, _, outcome = decide(scaled(TINY, version="1.14.7"))
    assert outcome.verdict is Verdict.UNSAFE
