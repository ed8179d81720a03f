"""The grouped event chain is faithful: the upstream packets its "misses" lines state
add up, with the scope's replicas and health checks, to what the simulator replayed.

On the bundled examples (their counterexamples and random runs of their models) and on
random runs of generated clusters (tests/test_pipeline_properties.py).
"""

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalc_formal.analysis.result import Analysis
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs, check
from kalc_formal.model.simulator import Choices, Simulator, StepResult
from kalc_formal.model.solve import Counterexample
from kalc_formal.views.explain import Event, event_chain
from tests.test_pipeline_properties import clusters

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
UNSAFE = ["datadog-autopath", "datadog-autopath-off", "datadog-autopath-sized", "upstream-blips"]
ALL = [*UNSAFE, "datadog-autopath-off-sized", "nodelocal-dns", "small-cluster"]

STATED = re.compile(
    r"-> (?:[\d,]+ upstream packets each, (?P<all>[\d,]+) in all"
    r"|(?:[\d,]+ \S+ \+ )+[\d,]+ \S+ = (?P<sum>[\d,]+) upstream packets"
    r"|(?P<one>[\d,]+) upstream packets)(?:, [\d,]+ of them re-sends[^;]*)?$"
)


def stated_packets(event: Event) -> int:
    """The upstream packets a "misses" line states, read from its text."""
    found = STATED.search(event.text)
    assert found, event.text
    return int(next(v for v in found.groupdict().values() if v).replace(",", ""))


def assert_faithful(analysis: Analysis, steps: list[StepResult]) -> tuple[int, int]:
    """For each step, the chain of the trace that ends there: its lines' packets add up to
    each scope's replayed packets. Returns how many grouped lines and how many sums of a
    step and a scope were checked."""
    model = analysis.model
    lines = sums = 0
    for end in range(len(steps)):
        trace = Counterexample(Choices(), tuple(steps[: end + 1]), 0, True)
        step = steps[end]
        grouped = [e for e in event_chain(analysis, trace, grouped=True)
                   if e.kind == "misses" and e.t == step.t]
        single = [e for e in event_chain(analysis, trace)
                  if e.kind == "misses" and e.t == step.t]
        shown = [key for event in grouped for key in event.keys]
        assert sorted(shown) == sorted(k for k, n in step.sent.items() if n)
        assert sorted(shown) == sorted(key for event in single for key in event.keys)
        for event in grouped:
            assert stated_packets(event) == event.packets
            assert event.packets == sum(step.sent[key] for key in event.keys)
        for scope in model.scopes:
            sending = [k for k in model.key_classes if scope.id in k.scopes]
            if any(k.scopes[0] != scope.id for k in sending):
                continue
            members = dict(scope.members)
            counted = sum(
                members.get(model_key(analysis, event).group, 0) * stated_packets(event)
                for event in grouped
            ) + (scope.probe_packets if scope.id in step.out else 0)
            if scope.lookup_packets:
                counted = min(counted, sum(n * step.lookups[f] for f, n in scope.lookup_packets))
            assert counted == step.upstream[scope.id], (step.t, scope.id)
            sums += 1
        lines += len(grouped)
    return lines, sums


def model_key(analysis: Analysis, event: Event):
    return next(k for k in analysis.model.key_classes if k.id == event.keys[0])


def random_runs(analysis: Analysis, seed: int, runs: int = 3) -> list[list[StepResult]]:
    rng = random.Random(seed)
    return [
        Simulator(analysis.model, chooser=lambda _n, lo, hi: rng.randint(lo, hi))
        .run(min(analysis.horizon, 8))
        for _ in range(runs)
    ]


@pytest.fixture(scope="module")
def analyses():
    return {name: analyse_inputs(read_inputs([str(EXAMPLES / name)])) for name in ALL}


@pytest.mark.parametrize("name", UNSAFE)
def test_the_counterexample_chain_of_each_example_adds_up(analyses, name):
    analysis = analyses[name]
    outcome = check(analysis)
    assert outcome.counterexample is not None
    lines, sums = assert_faithful(analysis, list(outcome.counterexample.steps))
    assert lines >= 1
    assert sums == len(outcome.counterexample.steps) * len(analysis.model.scopes)


@pytest.mark.parametrize("name", ALL)
def test_random_runs_of_each_example_add_up(analyses, name):
    analysis = analyses[name]
    for steps in random_runs(analysis, seed=len(name)):
        _, sums = assert_faithful(analysis, steps)
        assert sums == len(steps) * len(analysis.model.scopes)


def test_the_examples_group_a_and_aaaa_of_one_name_into_one_line(analyses):
    analysis = analyses["datadog-autopath"]
    steps = list(check(analysis).counterexample.steps)
    trace = Counterexample(Choices(), tuple(steps), 0, True)
    grouped = [e for e in event_chain(analysis, trace, grouped=True) if e.kind == "misses"]
    single = [e for e in event_chain(analysis, trace) if e.kind == "misses"]
    assert (len(grouped), len(single)) == (1, 2)
    assert "A and AAAA" in grouped[0].text
    assert grouped[0].packets == sum(e.packets for e in single) == 1028


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_random_runs_of_generated_clusters_add_up(data, seed, tmp_path_factory):
    folder = data.draw(clusters(tmp_path_factory))
    analysis = analyse_inputs(read_inputs([str(folder)]))
    for steps in random_runs(analysis, seed):
        assert_faithful(analysis, steps)
