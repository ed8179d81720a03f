"""The second property, server-load: client queries at the busiest CoreDNS replica (or
node-local cache) against the capacity kalc.yaml gives, decided beside upstream-limit."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest

from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import (
    SERVER_LOAD_WHILE_UPSTREAM_HOLDS,
    analyse_inputs,
    check_properties,
)
from kalc_formal.model.flowmodel import (
    Flow,
    FlowModel,
    Group,
    KeyClass,
    Scope,
    ServerLimit,
)
from kalc_formal.model.simulator import Simulator
from kalc_formal.model.solve import NO_SERVER_LOAD_WITH_OUTAGES, Verdict, decide
from kalc_formal.views.schemas import load_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _model(peak: int, capacity: int, *, outage_steps: int = 0) -> FlowModel:
    return FlowModel(
        flows=(Flow("web", base=100, peak=peak), Flow("batch", base=50, peak=50)),
        groups=(Group("hot", Fraction(1, 10), Fraction(11, 100)),),
        key_classes=(KeyClass("k", "hot", keys=10, ttl_steps=0, demand=(("web", 2),),
                              upstream=(("up", 1),)),),
        scopes=(Scope("up", 10_000, (("hot", 1),), outage_steps=outage_steps),),
        server_limits=(ServerLimit("hot", "hot", capacity, (("web", 0, 10), ("batch", 0, 2))),),
        property="server-load",
    )


def test_a_proof_bounds_the_busiest_replica_by_its_largest_share_of_every_flow() -> None:
    outcome = decide(_model(peak=2_000, capacity=10_000), horizon=10)
    assert outcome.verdict is Verdict.PROVED
    # floor(0.11 x 2,000) = 220 web lookups x 10 + floor(0.11 x 50) = 5 batch lookups x 2
    assert outcome.worst_step == {"hot": 220 * 10 + 5 * 2}


def test_an_overload_has_the_smallest_surge_and_replays() -> None:
    outcome = decide(_model(peak=2_000, capacity=1_500), horizon=10)
    assert outcome.verdict is Verdict.UNSAFE
    trace = outcome.counterexample
    assert trace is not None
    assert trace.length == 1
    last = trace.steps[-1]
    assert last.overloaded == ("hot",)
    assert last.server_load["hot"] > 1_500
    # 149 web lookups at the replica (x 10) + 5 batch (x 2) = 1,500: one more is over,
    # and the least cluster lookups that give a replica 150 are ceil(150 / 0.11) = 1,364
    assert last.server_load["hot"] == 150 * 10 + 5 * 2
    assert trace.surge == 1_364 - 100
    assert not any(step.fails(_model(2_000, 1_500)) for step in trace.steps[:-1])


def test_queries_sent_after_a_reply_count_in_the_next_step_too() -> None:
    model = _model(peak=2_000, capacity=10_000)
    late = ServerLimit("hot", "hot", 4_000, (("web", 0, 2), ("web", 1, 8)))
    model = FlowModel(flows=model.flows, groups=model.groups, key_classes=model.key_classes,
                      scopes=model.scopes, server_limits=(late,), property="server-load")
    outcome = decide(model, horizon=10)
    # two steps at the peak share: 2 x 220 + 8 x (220 + 220) = 3,960 <= 4,000
    assert outcome.verdict is Verdict.PROVED
    assert outcome.induction_depth == 1
    assert outcome.worst_step == {"hot": 3_960}
    tighter = FlowModel(flows=model.flows, groups=model.groups, key_classes=model.key_classes,
                        scopes=model.scopes, server_limits=(ServerLimit("hot", "hot", 3_959, late.client_queries),),
                        property="server-load")
    unsafe = decide(tighter, horizon=10)
    assert unsafe.verdict is Verdict.UNSAFE
    assert unsafe.counterexample is not None
    assert unsafe.counterexample.length == 2


def test_with_outages_server_load_is_unknown_not_proved() -> None:
    outcome = decide(_model(peak=200, capacity=10_000, outage_steps=2), horizon=10)
    assert outcome.verdict is Verdict.UNKNOWN
    assert outcome.reason == NO_SERVER_LOAD_WITH_OUTAGES


def test_random_runs_never_exceed_a_proved_server_load() -> None:
    import random

    model = _model(peak=2_000, capacity=2_210)
    assert decide(model, horizon=5).verdict is Verdict.PROVED
    rng = random.Random(7)
    for _ in range(200):
        simulator = Simulator(model, chooser=lambda _n, lo, hi: rng.randint(lo, hi))
        for step in simulator.run(5):
            assert step.server_load["hot"] <= 2_210


# ---- through the pipeline --------------------------------------------------------------


def _with_capacity(tmp_path: Path, example: str, section: str, capacity: int) -> Path:
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder)
    spec = folder / "kalc.yaml"
    text = spec.read_text()
    if re.search(rf"^{section}:\n", text, flags=re.M):
        text = re.sub(rf"^{section}:\n", f"{section}:\n  capacity_qps: {capacity}\n", text,
                      count=1, flags=re.M)
    else:
        text += f"\n{section}:\n  capacity_qps: {capacity}\n"
    spec.write_text(text)
    return folder


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kalc_formal", *map(str, args)], capture_output=True, text=True,
        cwd=ROOT, timeout=300, check=False,
    )


def test_autopath_off_moves_the_load_onto_coredns(tmp_path: Path) -> None:
    folder = _with_capacity(tmp_path, "datadog-autopath-off-sized", "coredns", 5_000)
    analysis = analyse_inputs(read_inputs([str(folder)]))
    outcomes = check_properties(analysis)
    assert outcomes["upstream-limit"].verdict is Verdict.PROVED
    load = outcomes["server-load"]
    assert load.verdict is Verdict.UNSAFE
    assert load.counterexample is not None
    # 10 client queries per lookup: the first A and AAAA at once, 6 after the server's
    # own answers (within the next step), the bare name's 2 after the ec2.internal round,
    # which may wait up to the 20 ms reply time for the upstream (two steps late at most)
    (limit,) = analysis.model.server_limits
    assert limit.client_queries == (
        ("p0/external-apis", 0, 2), ("p0/external-apis", 1, 6), ("p0/external-apis", 2, 2))
    assert 5_000 < load.counterexample.steps[-1].server_load["coredns"] <= 5_010


def test_autopath_on_keeps_the_replica_under_capacity_while_upstream_fails(tmp_path: Path) -> None:
    folder = _with_capacity(tmp_path, "datadog-autopath-sized", "coredns", 5_000)
    outcomes = check_properties(analyse_inputs(read_inputs([str(folder)])))
    assert outcomes["upstream-limit"].verdict is Verdict.UNSAFE
    load = outcomes["server-load"]
    assert load.verdict is Verdict.PROVED
    assert load.worst_step == {"coredns": 2_640}
    assert SERVER_LOAD_WHILE_UPSTREAM_HOLDS in load.reason


def test_check_exits_with_the_worst_property_and_reports_both(tmp_path: Path) -> None:
    folder = _with_capacity(tmp_path, "datadog-autopath-off-sized", "coredns", 5_000)
    text = _cli("check", folder, "--quiet")
    assert text.returncode == 1, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "verdict: unsafe (the worst of 2 properties)"
    assert lines[1].startswith("  upstream-limit: proved")
    assert re.match(r"  server-load: unsafe — the busiest CoreDNS replica takes 5,0(0[1-9]|10) ", lines[3])
    assert "capacity at " + str(folder / "kalc.yaml:3:17") in " ".join(text.stdout.split())
    document = json.loads(_cli("check", folder, "--format", "json").stdout)
    jsonschema.validate(document, load_schema("check"))
    assert document["verdict"] == "proved"
    assert document["overall_verdict"] == "unsafe"
    load = document["server_load"]
    assert load["verdict"] == "unsafe"
    assert load["limits"][0]["capacity_per_second"] == 5_000
    assert load["limits"][0]["peak_per_second"] == 13_200


def test_without_a_capacity_no_claim_is_made(tmp_path: Path) -> None:
    result = _cli("check", EXAMPLES / "datadog-autopath-off-sized", "--format", "json")
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert "server_load" not in document
    assert document["overall_verdict"] == "proved"


def test_sarif_has_a_server_load_result(tmp_path: Path) -> None:
    folder = _with_capacity(tmp_path, "datadog-autopath-off-sized", "coredns", 5_000)
    log = json.loads(_cli("check", folder, "--format", "sarif").stdout)
    (run,) = log["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["upstream-limit", "server-load"]
    (result,) = run["results"]
    assert result["ruleId"] == "server-load"
    assert result["ruleIndex"] == 1
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "workloads.yaml")
    assert result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 3
    schema = json.loads((ROOT / "tests/data/sarif/sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema)


def test_diff_shows_the_trade_of_turning_autopath_off(tmp_path: Path) -> None:
    on = _with_capacity(tmp_path, "datadog-autopath-sized", "coredns", 5_000)
    off = _with_capacity(tmp_path, "datadog-autopath-off-sized", "coredns", 5_000)
    result = _cli("diff", on, off)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(
        "diff: regression — upstream-limit: fix, server-load: regression\n")
    assert "  before  proved — the busiest CoreDNS replica takes at most 2,640" in result.stdout
    assert "  after   unsafe — the busiest CoreDNS replica takes 5,0" in result.stdout
    reverse = _cli("diff", off, on, "--format", "json")
    assert reverse.returncode == 1
    document = json.loads(reverse.stdout)
    jsonschema.validate(document, load_schema("diff"))
    assert (document["movement"], document["server_load_movement"], document["overall_movement"]) == (
        "regression", "fix", "regression")


def test_a_capacity_on_one_side_only_is_unknown_for_server_load(tmp_path: Path) -> None:
    off = _with_capacity(tmp_path, "datadog-autopath-off-sized", "coredns", 50_000)
    result = _cli("diff", EXAMPLES / "datadog-autopath-off-sized", off, "--format", "json")
    document = json.loads(result.stdout)
    assert document["server_load_movement"] == "unknown"
    assert result.returncode == 3


def test_the_node_local_cache_has_its_own_capacity(tmp_path: Path) -> None:
    folder = _with_capacity(tmp_path, "nodelocal-dns", "nodelocal", 100)
    analysis = analyse_inputs(read_inputs([str(folder)]))
    (limit,) = analysis.model.server_limits
    assert analysis.groups[limit.group].server == "nodelocal"
    outcomes = check_properties(analysis)
    load = outcomes["server-load"]
    assert load.verdict is Verdict.UNSAFE
    assert load.counterexample is not None
    assert load.counterexample.steps[-1].server_load[limit.id] > 100


def test_a_capacity_for_a_server_nobody_asks_is_a_note(tmp_path: Path) -> None:
    folder = _with_capacity(tmp_path, "small-cluster", "nodelocal", 100)
    analysis = analyse_inputs(read_inputs([str(folder)]))
    assert analysis.model.server_limits == ()
    assert any("nodelocal.capacity_qps is set" in note for note in analysis.notes)


@pytest.mark.parametrize("value", ["0", "-5", "'many'", "1.5"])
def test_a_bad_capacity_is_bad_input(tmp_path: Path, value: str) -> None:
    folder = tmp_path / "c"
    shutil.copytree(EXAMPLES / "small-cluster", folder)
    spec = folder / "kalc.yaml"
    spec.write_text(spec.read_text() + f"\nnodelocal:\n  capacity_qps: {value}\n")
    result = _cli("check", folder)
    assert result.returncode == 2
    assert re.search(r"kalc\.yaml:\d+:\d+: ", result.stderr), result.stderr
    assert "Traceback" not in result.stderr


# ---- the Python API ---------------------------------------------------------------------


def test_the_api_decides_both_properties_and_each_alone(tmp_path: Path) -> None:
    import kalc_formal

    off = kalc_formal.load(str(_with_capacity(tmp_path, "datadog-autopath-off-sized", "coredns", 5_000)))
    both = kalc_formal.check(off)
    assert [(p.property, p.verdict.value) for p in both.properties] == [
        ("upstream-limit", "proved"), ("server-load", "unsafe")]
    assert both.verdict is Verdict.UNSAFE
    assert kalc_formal.check(off, property="upstream-limit").verdict is Verdict.PROVED
    assert both.to_json()["overall_verdict"] == "unsafe"
    with pytest.raises(kalc_formal.InvalidArgument, match="needs a capacity"):
        kalc_formal.check(kalc_formal.load(str(EXAMPLES / "small-cluster")), property="server-load")


def test_the_api_diff_and_capacity_are_per_property(tmp_path: Path) -> None:
    import kalc_formal

    on = kalc_formal.load(str(_with_capacity(tmp_path, "datadog-autopath-sized", "coredns", 5_000)))
    off = kalc_formal.load(str(_with_capacity(tmp_path, "datadog-autopath-off-sized", "coredns", 5_000)))
    change = kalc_formal.diff(on, off)
    assert (change.movement.value, change.server_load_movement, change.overall) == (
        "fix", kalc_formal.Movement.REGRESSION, kalc_formal.Movement.REGRESSION)
    room = on.capacity(["surge"], property="server-load")
    (edge,) = room.edges
    assert edge.proved_up_to is not None
    assert edge.not_proved is not None
    assert edge.not_proved.properties[0].property == "server-load"
    assert edge.not_proved.verdict is Verdict.UNSAFE


def test_check_capacity_gives_each_property_its_edges(tmp_path: Path) -> None:
    on = _with_capacity(tmp_path, "datadog-autopath-sized", "coredns", 6_000)
    result = _cli("check", on, "--capacity", "surge", "--format", "json")
    document = json.loads(result.stdout)
    jsonschema.validate(document, load_schema("check"))
    (upstream,) = document["capacity"]
    (load,) = document["server_load_capacity"]
    assert upstream["proved_up_to"] is None
    # 2,640 client queries/s at the busiest replica at x1: 6,000 / 2,640 = 2.27
    assert 2.2 <= load["proved_up_to"] < load["not_proved_at"] <= 2.3
