"""Capacity: how far each growth parameter moves before the proof stops holding."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kalc_formal.analysis.scaling import Parameter, scaled
from kalc_formal.capacity import MAX_CHECKS, edge
from kalc_formal.cli import main
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs, check, input_settings
from kalc_formal.errors import InvalidArgument
from kalc_formal.model.solve import Outcome, Verdict

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SIZED = EXAMPLES / "datadog-autopath-off-sized"


@pytest.fixture(scope="module")
def sized():
    inputs = read_inputs([str(SIZED)])
    settings = input_settings(inputs)
    return inputs, settings


def threshold(edge_at, verdict_past=Verdict.UNSAFE):
    calls = []

    def decide(values):
        (value,) = values.values()
        calls.append(value)
        return Outcome(Verdict.PROVED if value <= edge_at else verdict_past, 10)

    return decide, calls


@pytest.mark.parametrize("edge_at", [0.3, 1.0, 1.37, 5.5, 40.0])
def test_the_search_finds_a_multiplier_edge_within_two_percent(edge_at):
    decide, calls = threshold(edge_at)
    found = edge(decide, Parameter.SURGE, 1.0, fixed={}, low=None, high=None)
    assert found.safe <= edge_at < found.beyond
    assert found.beyond / found.safe <= 1.02
    assert found.exact
    assert len(calls) == len(set(calls)) <= MAX_CHECKS


@pytest.mark.parametrize("edge_at", [1, 399, 400, 757, 5000])
def test_the_search_finds_a_whole_number_edge_exactly(edge_at):
    decide, _ = threshold(edge_at)
    found = edge(decide, Parameter.NAMESPACES, 400.0, fixed={}, low=1, high=20_000)
    assert (found.safe, found.beyond) == (edge_at, edge_at + 1)
    assert found.exact


def test_an_unknown_past_the_edge_makes_it_a_lower_bound():
    decide, _ = threshold(2.0, verdict_past=Verdict.UNKNOWN)
    found = edge(decide, Parameter.RATE, 1.0, fixed={}, low=None, high=None)
    assert found.safe <= 2.0
    assert not found.exact


def test_proved_everywhere_in_the_range_has_no_beyond():
    decide, _ = threshold(100.0)
    found = edge(decide, Parameter.PODS, 1.0, fixed={}, low=0.5, high=8.0)
    assert (found.safe, found.beyond) == (8.0, None)


def test_scaling_rates_names_and_pods(sized):
    inputs, settings = sized
    (lookup,) = settings.lookups
    result = scaled(inputs, settings.names, settings.lookups,
                    {Parameter.RATE: 2.0, Parameter.SURGE: 1.5, Parameter.NAMES: 2.0,
                     Parameter.PODS: 3.0})
    (new,) = result.env.lookups.value
    assert new.rate == pytest.approx(lookup.rate * 2)
    assert new.surge_rate == pytest.approx(lookup.surge_rate * 2 * 1.5)
    (name,) = result.env.names.value
    assert name.count == 2 * settings.names[0].count
    before = {(w.namespace, w.name): w.replicas for w in inputs.cluster.workloads}
    after = {(w.namespace, w.name): w.replicas for w in result.cluster.workloads}
    assert after[("team-000", "api")] == 3 * before[("team-000", "api")]
    assert after[("kube-system", "coredns")] == before[("kube-system", "coredns")]
    hpa = {h.namespace: h.max_replicas for h in result.cluster.horizontal_autoscalers}
    assert hpa["team-000"] == 3 * 75


def test_a_surge_below_the_baseline_stays_at_the_baseline(sized):
    inputs, settings = sized
    result = scaled(inputs, settings.names, settings.lookups, {Parameter.SURGE: 0.01})
    (new,) = result.env.lookups.value
    assert new.surge_rate == new.rate == settings.lookups[0].rate


@pytest.mark.parametrize("count", [1, 3, 400, 1000])
def test_namespaces_are_dropped_or_repeated(sized, count):
    inputs, settings = sized
    result = scaled(inputs, settings.names, settings.lookups, {Parameter.NAMESPACES: count})
    clients = {w.namespace for w in result.cluster.workloads if w.name == "api"}
    assert len(clients) == count
    assert len({h.namespace for h in result.cluster.horizontal_autoscalers}) == count
    assert analyse_inputs(result).flows


def test_namespaces_named_by_the_lookups_cannot_vary():
    inputs = read_inputs([str(EXAMPLES / "small-cluster")])
    settings = input_settings(inputs)
    with pytest.raises(InvalidArgument, match="select namespaces by name"):
        scaled(inputs, settings.names, settings.lookups, {Parameter.NAMESPACES: 5})


def test_check_capacity_reports_an_edge_that_fresh_checks_confirm(sized, capsys):
    code = main(["check", str(SIZED), "--capacity", "surge", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    (found,) = document["capacity"]
    assert found["parameter"] == "surge"
    assert found["exact"] is True
    inputs, settings = sized
    for value, expected in ((found["proved_up_to"], Verdict.PROVED),
                            (found["not_proved_at"], Verdict.UNSAFE)):
        changed = scaled(inputs, settings.names, settings.lookups, {Parameter.SURGE: value})
        assert check(analyse_inputs(changed)).verdict is expected
    assert found["not_proved_at"] / found["proved_up_to"] <= 1.02


def test_the_capacity_command_draws_the_region(tmp_path, capsys):
    plot = tmp_path / "region.svg"
    code = main(["capacity", str(SIZED), "--vary", "namespaces=100..700", "--vary",
                 "surge=0.5..3", "--rows", "3", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert code == 0
    assert "for each namespaces, how far surge can go (now 400, x1)" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["100", "400", "700"]
    svg = ET.fromstring(plot.read_text())
    bars = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if e.find(
        "{http://www.w3.org/2000/svg}title") is not None]
    assert len(bars) == 3
    heights = [float(b.get("height")) for b in bars]
    assert heights == sorted(heights, reverse=True)
    assert svg.find("{http://www.w3.org/2000/svg}circle") is not None


@pytest.mark.parametrize(("argv", "message"), [
    (["--vary", "speed=1..2"], "unknown growth parameter"),
    (["--vary", "surge=3..1"], "need 0 < LO < HI"),
    (["--vary", "surge=1..2", "--plot", "x.svg"], "give two --vary"),
    (["--vary", "surge=1..2", "--vary", "surge=1..3"], "two different parameters"),
])
def test_capacity_arguments_are_checked(capsys, argv, message):
    code = main(["capacity", str(SIZED), *argv])
    assert code == 2
    assert message in capsys.readouterr().err
