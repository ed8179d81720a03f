"""check --relies-on: the config facts a proof relies on, a minimal set, each re-checked.

Minimality is tested independently of the pipeline's own bookkeeping: the facts are
found again, the edits of every fact not reported are written to a fresh copy and that
copy is checked (proved), then each reported fact's edits are added (not proved).
"""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from kalc_formal.analysis.edits import apply
from kalc_formal.analysis.relaxations import Fact, Reliance, facts
from kalc_formal.cli import main
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import CheckOptions, analyse_inputs, check
from kalc_formal.model.solve import Verdict
from kalc_formal.reliance import relies_on
from kalc_formal.source import Span
from kalc_formal.views.schemas import load_schema

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _verdict(path: Path) -> Verdict:
    inputs = read_inputs([str(path)])
    return check(analyse_inputs(inputs)).verdict


def _copy(source: Path, target: Path, replacements: dict[str, list[tuple[str, str]]]) -> Path:
    shutil.copytree(source, target)
    for name, pairs in replacements.items():
        text = (target / name).read_text()
        for old, new in pairs:
            assert old in text, (name, old)
            text = text.replace(old, new)
        (target / name).write_text(text)
    return target


def _with_relaxed(folder: Path, relaxed: list[Fact], target: Path, extra=()) -> Path:
    """A copy of ``folder`` at ``target`` with these facts relaxed (a fact inside a
    relaxed one goes with it) and the ``extra`` edits made, all on the files as written."""
    shutil.copytree(folder, target)
    ids = {f.id for f in relaxed}
    by_file: dict[str, list] = {}
    for edit in [*extra, *(e for f in relaxed if f.within not in ids for e in f.edits)]:
        by_file.setdefault(edit.path, []).append(edit)
    for path, edits in by_file.items():
        relative = Path(path).resolve().relative_to(folder.resolve())
        new = apply(Path(path).read_text(), edits)
        assert new is not None
        (target / relative).write_text(new)
    return target


def _assert_minimal(folder: Path, reliance: Reliance, scratch: Path) -> None:
    found = facts(read_inputs([str(folder)]), lambda p: Path(p).read_text())
    relied = {t.fact.id for t in reliance.having("relied-on")}
    kept = relied | {t.fact.id for t in reliance.trials if t.status in ("undecided", "untested")}
    others = [f for f in found if f.id not in kept]
    assert _verdict(_with_relaxed(folder, others, scratch / "all-others")) is Verdict.PROVED
    for fact in found:
        if fact.id in relied:
            copy = _with_relaxed(folder, [*others, fact], scratch / f"without-{fact.kind}")
            assert _verdict(copy) is not Verdict.PROVED, fact.text
    for trial in reliance.having("relied-on"):
        bound = trial.fact.bound
        if bound is None:
            continue
        assert trial.weakest is not None
        assert not trial.weakest_note
        index = list(bound.values).index(trial.weakest)
        name = f"{trial.fact.kind}-{trial.weakest}"
        copy = _with_relaxed(folder, others, scratch / name, bound.edit(trial.weakest))
        assert _verdict(copy) is Verdict.PROVED
        if index > 0:
            weaker = bound.values[index - 1]
            copy = _with_relaxed(folder, others, scratch / f"{name}-weaker", bound.edit(weaker))
            assert _verdict(copy) is not Verdict.PROVED, (trial.fact.text, weaker)


def _relied(reliance: Reliance) -> list[tuple[str, str]]:
    return [(t.fact.kind, f"{Path(t.fact.spans[0].path).name}:{t.fact.spans[0].line}")
            for t in reliance.having("relied-on")]


@pytest.mark.parametrize(("example", "expected", "weakest"), [
    ("small-cluster", [("replicas", "coredns.yaml:9"), ("anti-affinity", "coredns.yaml:26"),
                       ("ndots", "workloads.yaml:16")], {"replicas": 2, "ndots": 2}),
    ("nodelocal-dns", [("cache", "nodelocaldns.yaml:66"), ("nodelocal", "nodelocaldns.yaml:74")],
     {"cache": 1}),
    ("datadog-autopath-off-sized", [
        ("cache", "coredns-configmap.yaml:23"), ("cache-capacity", "coredns-configmap.yaml:24"),
        ("replicas", "coredns.yaml:9"), ("anti-affinity", "coredns.yaml:26")],
     {"cache": 1, "cache-capacity": 16_384, "replicas": 16}),
])
def test_examples_relied_on_sets_are_minimal(example, expected, weakest, tmp_path):
    folder = EXAMPLES / example
    assert _verdict(folder) is Verdict.PROVED
    reliance = relies_on([str(folder)], CheckOptions())
    assert _relied(reliance) == expected
    assert not reliance.having("undecided")
    assert not reliance.having("untested")
    assert {t.fact.kind: t.weakest for t in reliance.having("relied-on") if t.fact.bound} == weakest
    _assert_minimal(folder, reliance, tmp_path)


def _small(tmp_path: Path, kalc: list[tuple[str, str]], coredns=(), workloads=()) -> Path:
    return _copy(EXAMPLES / "small-cluster", tmp_path / "cluster", {
        "kalc.yaml": kalc, "coredns.yaml": list(coredns), "workloads.yaml": list(workloads),
    })


ONE_REPLICA = [("replicas: 2", "replicas: 1")]
ONLY_PAYMENTS = ("names: [payment-api, orders]", "names: [payment-api]")


def test_proved_only_because_of_the_cache(tmp_path):
    spread = ("  horizon: 60", "  horizon: 60\n  arrivals: spread\n  burst: 2\n  reply_ms: 20")
    folder = _small(tmp_path, [ONLY_PAYMENTS, spread], ONE_REPLICA,
                    [('value: "2"', 'value: "5"')])
    assert _verdict(folder) is Verdict.PROVED
    reliance = relies_on([str(folder)], CheckOptions())
    assert _relied(reliance) == [("cache", "coredns-configmap.yaml:23")]
    assert [t.fact.kind for t in reliance.having("relaxed")] == ["anti-affinity"]
    _assert_minimal(folder, reliance, tmp_path)


def test_proved_only_because_of_ndots_1(tmp_path):
    folder = _small(tmp_path, [ONLY_PAYMENTS, ("surge_rate: 20", "surge_rate: 10")], ONE_REPLICA,
                    [('value: "2"', 'value: "1"')])
    assert _verdict(folder) is Verdict.PROVED
    reliance = relies_on([str(folder)], CheckOptions())
    assert _relied(reliance) == [("ndots", "workloads.yaml:16")]
    ndots = reliance.having("relied-on")[0]
    assert ndots.fact.text.startswith("ndots:1 on 2 client workload(s)")
    assert ndots.verdict == "unsafe"
    _assert_minimal(folder, reliance, tmp_path)


def test_nothing_relied_on_with_a_light_load(tmp_path):
    folder = _small(tmp_path, [("rate: 2\n", "rate: 0.1\n"), ("surge_rate: 20", "surge_rate: 0.2")])
    assert _verdict(folder) is Verdict.PROVED
    reliance = relies_on([str(folder)], CheckOptions())
    assert reliance.having("relied-on") == ()
    assert len(reliance.having("relaxed")) == 4
    assert reliance.proofs == 4
    _assert_minimal(folder, reliance, tmp_path)


def test_same_input_same_answer():
    folder = str(EXAMPLES / "small-cluster")
    assert relies_on([folder], CheckOptions()) == relies_on([folder], CheckOptions())


def test_the_budget_is_said_not_guessed():
    reliance = relies_on([str(EXAMPLES / "small-cluster")], CheckOptions(), max_proofs=2)
    assert reliance.proofs == 2
    assert [t.status for t in reliance.trials] == ["relaxed", "relied-on", "untested", "untested"]
    assert {t.note for t in reliance.having("untested")} == {"the proof budget was spent"}
    replicas = reliance.having("relied-on")[0]
    assert replicas.weakest == 2
    assert replicas.weakest_note == "the proof budget was spent: a weaker value may also prove"


def test_an_unknown_relaxed_check_is_undecided_not_relied_on():
    reliance = relies_on([str(EXAMPLES / "datadog-autopath-off-sized")],
                         CheckOptions(budget=1), max_proofs=3)
    assert reliance.having("relied-on") == ()
    assert [t.verdict for t in reliance.having("undecided")] == ["unknown"] * 3


def test_a_fact_inside_a_relaxed_one_goes_with_it(tmp_path):
    folder = _copy(EXAMPLES / "datadog-autopath-off-sized", tmp_path / "light", {
        "kalc.yaml": [("surge_rate: 0.06", "surge_rate: 0.001"), ("rate: 0.02 ", "rate: 0.001 ")],
    })
    assert _verdict(folder) is Verdict.PROVED
    reliance = relies_on([str(folder)], CheckOptions())
    capacity = next(t for t in reliance.trials if t.fact.kind == "cache-capacity")
    assert capacity.status == "relaxed"
    assert capacity.note == "removed with the element it is in"


def test_facts_are_kalc_yaml_free_and_ordered():
    inputs = read_inputs([str(EXAMPLES / "nodelocal-dns")])
    found = facts(inputs, lambda p: Path(p).read_text())
    assert all(not f.spans[0].path.endswith("kalc.yaml") for f in found)
    assert [f.order for f in found] == sorted(f.order for f in found)


def test_a_flow_style_option_cannot_be_relaxed_by_lines(tmp_path):
    folder = _copy(EXAMPLES / "small-cluster", tmp_path / "flow", {"workloads.yaml": [(
        '        - name: ndots\n          value: "2"', '        - {name: ndots, value: "2"}')]})
    found = facts(read_inputs([str(folder)]), lambda p: Path(p).read_text())
    ndots = next(f for f in found if f.kind == "ndots")
    assert ndots.edits  # a one-line item is still a block list item
    folder2 = _copy(EXAMPLES / "small-cluster", tmp_path / "flowlist", {"workloads.yaml": [(
        '      dnsConfig:\n        options:\n        - name: ndots\n          value: "2"',
        '      dnsConfig: {options: [{name: ndots, value: "2"}]}')]})
    found = facts(read_inputs([str(folder2)]), lambda p: Path(p).read_text())
    flow = next(f for f in found if f.kind == "ndots")
    assert flow.edits == ()
    assert flow.why_not == "an ndots option is not a block list item"


def test_cli_text_json_and_no_proof(capsys):
    folder = str(EXAMPLES / "small-cluster")
    assert main(["check", folder, "--relies-on"]) == 0
    text = capsys.readouterr().out
    lines = text.split("\n")
    assert lines[2].startswith("Relies on (a minimal set of config facts: ")
    assert lines[2].endswith("7 check(s) of edited copies):")
    assert "Not relied on (relaxed together, still proved):" in text
    assert main(["check", folder, "--relies-on", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, load_schema("check"))
    assert [e["status"] for e in document["relies_on"]] == [
        "relaxed", "relied-on", "relied-on", "relied-on"]
    assert document["relies_on_checks"] == 7
    assert main(["check", str(EXAMPLES / "datadog-autopath-off"), "--relies-on"]) == 1
    text = capsys.readouterr().out
    assert "Relies on: there is no proof to explain (the verdict is unsafe).\n" in text


def test_cli_refuses_stdin(capsys, monkeypatch):
    import io
    import sys
    text = "".join((EXAMPLES / "small-cluster" / name).read_text() + "\n---\n"
                   for name in ("coredns-configmap.yaml", "coredns.yaml", "workloads.yaml"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    env = str(EXAMPLES / "small-cluster" / "kalc.yaml")
    assert main(["check", "-", "--env", env, "--relies-on"]) == 2
    assert "--relies-on edits files" in capsys.readouterr().err


def test_the_release_that_runs_cache_before_autopath(tmp_path):
    folder = _copy(EXAMPLES / "datadog-autopath-sized", tmp_path / "upgraded", {
        "coredns.yaml": [("coredns:v1.11.1", "coredns:v1.14.7")]})
    assert _verdict(folder) is Verdict.PROVED
    reliance = relies_on([str(folder)], CheckOptions())
    version = next(t for t in reliance.trials if t.fact.kind == "version")
    assert version.status == "relied-on"
    assert version.verdict == "unsafe"
    assert version.fact.text == "CoreDNS 1.14.7 runs cache before autopath (B3)"
    _assert_minimal(folder, reliance, tmp_path)


def test_a_spread_constraint_keeps_replicas_apart(tmp_path):
    anti = ("      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnored"
            "DuringExecution:\n          - labelSelector:\n              matchLabels:\n"
            "                k8s-app: kube-dns\n            topologyKey: kubernetes.io/hostname\n")
    spread = ("      topologySpreadConstraints:\n      - maxSkew: 1\n"
              "        topologyKey: kubernetes.io/hostname\n        whenUnsatisfiable: DoNotSchedule\n"
              "        labelSelector:\n          matchLabels:\n            k8s-app: kube-dns\n")
    folder = _copy(EXAMPLES / "small-cluster", tmp_path / "spread", {"coredns.yaml": [(anti, spread)]})
    assert _verdict(folder) is Verdict.PROVED
    reliance = relies_on([str(folder)], CheckOptions())
    assert _relied(reliance) == [("replicas", "coredns.yaml:9"), ("spread", "coredns.yaml:24"),
                                 ("ndots", "workloads.yaml:16")]
    _assert_minimal(folder, reliance, tmp_path)


def test_each_proved_property_has_its_own_set(tmp_path, capsys):
    folder = _small(tmp_path, [("check:\n", "coredns:\n  capacity_qps: 3000\ncheck:\n")])
    assert main(["check", str(folder), "--relies-on", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, load_schema("check"))
    relied = {(e["property"], e["kind"]) for e in document["relies_on"] if e["status"] == "relied-on"}
    assert relied == {("upstream-limit", "replicas"), ("upstream-limit", "anti-affinity"),
                      ("upstream-limit", "ndots"), ("server-load", "replicas"),
                      ("server-load", "ndots")}
    load = relies_on([str(folder)], CheckOptions(), prop="server-load")
    assert load.property == "server-load"
    assert [t.fact.kind for t in load.having("relaxed")] == ["cache", "anti-affinity"]


def test_edited_files_that_do_not_read_are_undecided():
    from kalc_formal.analysis.edits import LineEdit
    from kalc_formal.reliance import _Prover, _trial
    from kalc_formal.suggest import EditableCopy, InputTexts

    folder = str(EXAMPLES / "small-cluster")
    path = str(EXAMPLES / "small-cluster" / "coredns.yaml")
    texts = InputTexts()
    old = (texts.read(path) or "").split("\n")[8]
    broken = Fact("broken", "replicas", "a broken edit", (Span(path, 9, 3),), "replicas: [",
                  (LineEdit(path, 9, old, ("  replicas: [",)),))
    with EditableCopy([folder]) as copy:
        prover = _Prover(copy, texts, CheckOptions(), "upstream-limit", None, False)
        verdict, note = prover.verdict([broken])
    assert verdict == "invalid"
    assert note.startswith("the edited files are not valid: ")
    assert _trial(broken, verdict, note).status == "undecided"
