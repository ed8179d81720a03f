"""The public API's capacity: Cluster.capacity gives what `kalc-formal capacity` and
`check --capacity` print, as typed, JSON-able values, with the check past each edge."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kalc_formal
from kalc_formal.cli import main

ROOT = Path(__file__).resolve().parent.parent
SIZED = ROOT / "examples" / "datadog-autopath-off-sized"
CLI_ONLY = {"not_proved"}
"""What the API's edge JSON adds to the command line's."""


@pytest.fixture(scope="module")
def sized():
    return kalc_formal.load(SIZED)


def cli_json(capsys, *argv):
    main([*argv, "--format", "json"])
    return json.loads(capsys.readouterr().out)


def without_checks_past_the_edge(edge_json):
    return {k: v for k, v in edge_json.items() if k not in CLI_ONLY}


def test_the_namespaces_edge_is_the_capacity_commands(sized, capsys):
    found = sized.capacity({"namespaces": (100, 1000)})
    cli = cli_json(capsys, "capacity", str(SIZED), "--vary", "namespaces=100..1000")
    data = json.loads(json.dumps(found.to_json()))
    assert [without_checks_past_the_edge(e) for e in data["edges"]] == cli["edges"]
    edge = found.edge("namespaces")
    assert (edge.proved_up_to, edge.not_proved_at, edge.exact, edge.lower_bound) == (
        757.0, 758.0, True, False)
    assert edge.current == 400.0
    assert edge.largest_tried == 1000.0
    assert [c.value for c in edge.checks][:3] == [400.0, 800.0, 600.0]
    assert edge.checks[1].verdict is kalc_formal.Verdict.UNSAFE
    assert edge.text.startswith("now 400: proved up to 757, not at 758 (unsafe: ")
    past = edge.not_proved
    assert past.verdict is kalc_formal.Verdict.UNSAFE
    assert past.overrides == ("namespaces=758",)
    assert past.sources == sized.sources
    assert past.trace
    assert past.events[0].kind
    assert "Event chain (replayed in the simulator):" in past.report
    assert data["edges"][0]["not_proved"]["verdict"] == "unsafe"
    assert data["edges"][0]["not_proved"]["overrides"] == ["namespaces=758"]
    assert (data["property"], data["sources"], data["overrides"]) == (
        "upstream-limit", [str(SIZED)], [])
    assert found.region is None
    assert found.property == "upstream-limit"


def test_each_parameter_alone_is_check_capacitys(sized, capsys):
    found = sized.capacity(["surge", "namespaces"])
    cli = cli_json(capsys, "check", str(SIZED), "--capacity", "surge,namespaces")
    assert [without_checks_past_the_edge(e.to_json()) for e in found.edges] == cli["capacity"]
    surge = found.edge("surge")
    assert (round(surge.proved_up_to, 2), round(surge.not_proved_at, 2)) == (1.88, 1.91)
    assert surge.exact
    assert surge.not_proved_at / surge.proved_up_to <= 1.02
    assert surge.not_proved.overrides == (f"surge={surge.not_proved_at:g}",)
    assert found.edge("namespaces").proved_up_to == 757.0
    main(["check", str(SIZED), "--capacity", "surge,namespaces"])
    assert found.report in capsys.readouterr().out
    with pytest.raises(KeyError):
        found.edge("pods")


def test_the_region_is_the_capacity_commands(sized, capsys):
    vary = ["--vary", "namespaces=100..1000", "--vary", "surge=0.5..4", "--rows", "3"]
    found = sized.capacity({"namespaces": (100, 1000), "surge": (0.5, 4)}, rows=3)
    cli = cli_json(capsys, "capacity", str(SIZED), *vary)
    data = json.loads(json.dumps(found.to_json()))
    assert data["rows_parameter"] == cli["rows_parameter"] == "namespaces"
    assert [without_checks_past_the_edge(r) for r in data["rows"]] == cli["rows"]
    assert found.edges == ()
    assert found.region.parameter == "surge"
    assert [r.value for r in found.region.rows] == [100.0, 550.0, 1000.0]
    first, last = found.region.rows[0].edge, found.region.rows[-1].edge
    assert (first.proved_up_to, first.not_proved_at, first.not_proved) == (4.0, None, None)
    assert (last.proved_up_to, last.not_proved_at) == (None, 0.5)
    assert last.not_proved.overrides == ("namespaces=1000", "surge=0.5")
    main(["capacity", str(SIZED), *vary])
    assert capsys.readouterr().out == found.report


def test_a_search_that_runs_out_of_checks_gives_a_lower_bound(sized):
    found = sized.capacity({"namespaces": (100, 1000)}, max_checks=2).edge("namespaces")
    assert (found.proved_up_to, found.not_proved_at) == (400.0, 800.0)
    assert (found.exact, found.lower_bound, len(found.checks)) == (False, True, 2)
    assert found.not_proved.verdict is kalc_formal.Verdict.UNSAFE
    assert "proved up to at least 400, not at 800" in found.text


def test_when_z3_gives_up_nothing_is_proved_and_the_edge_is_no_bound(sized):
    found = sized.capacity(["surge"], rlimit=1000, max_checks=3).edge("surge")
    assert [(c.value, c.verdict.value) for c in found.checks] == [
        (1.0, "unknown"), (0.5, "unknown"), (0.25, "unknown")]
    assert (found.proved_up_to, found.not_proved_at, found.exact) == (None, 0.25, False)
    assert found.not_proved.verdict is kalc_formal.Verdict.UNKNOWN
    assert found.text == "now x1: not proved even at x0.25 (unknown: Z3 gave up, so the edge may be further)"


def test_same_input_same_result(sized):
    """The search is the same every time; the counterexample past an edge is the same for
    the same checks run before it in the process (Z3's models depend on what the process
    built before, so the full result is compared across fresh processes)."""

    def searched():
        found = sized.capacity({"namespaces": (700, 800), "surge": (1, 2)})
        return [(without_checks_past_the_edge(e.to_json()), e.not_proved.verdict)
                for e in found.edges]

    assert searched() == searched()
    script = (
        "import json, kalc_formal\n"
        f"cluster = kalc_formal.load({str(SIZED)!r})\n"
        "print(json.dumps(cluster.capacity({'namespaces': (700, 800)}).to_json()))\n"
    )
    outputs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
        for _ in range(2)
    ]
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["edges"][0]["not_proved"]["verdict"] == "unsafe"


def test_a_grown_cluster_searches_from_its_own_values(sized):
    found = sized.with_overrides(surge=1.5).capacity({"namespaces": (100, 1000)})
    edge = found.edge("namespaces")
    assert (edge.proved_up_to, edge.not_proved_at) == (505.0, 506.0)
    assert found.overrides == ("surge=1.5",)
    assert edge.not_proved.overrides == ("surge=1.5", "namespaces=506")


def test_results_are_frozen(sized):
    found = sized.capacity({"namespaces": (700, 800)}, max_checks=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.edges[0].exact = True  # type: ignore[misc]
    assert found.to_json() == found.to_json()
    assert found.to_json() is not found.to_json()


@pytest.mark.parametrize(
    ("vary", "options", "message"),
    [
        ("size", {}, "unknown growth parameter 'size'"),
        ([], {}, "vary: name at least one of surge, rate, pods, names, namespaces"),
        (3, {}, "vary: parameter names or a mapping"),
        ({"surge": (2, 1)}, {}, r"vary: surge=\(2, 1\): a range \(low, high\)"),
        ({"surge": (0, 1)}, {}, "0 < low < high"),
        ({"namespaces": (1, 2e7)}, {}, "high <= 10,000,000"),
        ({"surge": "1..2"}, {}, "a range"),
        ({"surge": (1, 2)}, {"rows": 4}, "a region needs two parameters"),
        ({"surge": (1, 2), "pods": None}, {"rows": 4}, "each with its range"),
        ({"surge": (1, 2), "pods": (1, 2)}, {"rows": 1}, "rows=1: a whole number from 2 to 24"),
        (["surge"], {"max_checks": 0}, "max_checks=0: a whole number, at least 1"),
        (["surge"], {"property": "x"}, "property='x': one of upstream-limit"),
        (["surge"], {"horizon": 0}, "horizon=0"),
    ],
)
def test_bad_arguments_are_invalid_argument(sized, vary, options, message):
    with pytest.raises(kalc_formal.InvalidArgument, match=message):
        sized.capacity(vary, **options)


def test_names_the_model_cannot_vary_are_invalid_argument():
    small = kalc_formal.load(ROOT / "examples" / "small-cluster")
    with pytest.raises(kalc_formal.InvalidArgument, match="namespaces cannot be varied"):
        small.capacity(["namespaces"])
