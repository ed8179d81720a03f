"""Machine-readable output for CI: SARIF 2.1.0 (validated against the official schema) and
the versioned JSON Schemas shipped with the package, for every example, inspect, lookup
and error."""

import json
import re
import shutil
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from kalc_formal import __version__
from kalc_formal.cli import main
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs, check
from kalc_formal.views.report import as_json
from kalc_formal.views.sarif import as_sarif
from kalc_formal.views.schemas import SCHEMA_NAMES, SCHEMA_VERSION, load_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "kalc.yaml").is_file())
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())


def validate(document, name):
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


def validate_sarif(log):
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)


@cache
def checked(name):
    """One check per example, rendered both ways by the tests below."""
    inputs = read_inputs([f"examples/{name}"])
    analysis = analyse_inputs(inputs)
    return inputs, analysis, check(analysis)


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_gives_json_and_sarif_that_validate(name):
    inputs, analysis, outcome = checked(name)
    report = as_json(analysis, outcome)
    validate(report, "check")
    assert report["schema_version"] == SCHEMA_VERSION
    log = as_sarif(analysis, outcome, inputs, tool_version=__version__, base=ROOT)
    validate_sarif(log)
    (run,) = log["runs"]
    assert run["properties"]["verdict"] == report["verdict"]
    violations = [e for e in report.get("events", []) if e["kind"] == "violation"]
    assert len(run["results"]) == len(violations)
    for location in _artifacts(log):
        assert not location["uri"].startswith(("/", "file:")), location
        assert (ROOT / location["uri"]).is_file()


def _artifacts(log):
    text = json.dumps(log)
    return [json.loads(m) for m in re.findall(r'\{"uri": "[^"]*", "uriBaseId": "%SRCROOT%"\}', text)]


def test_the_incident_in_sarif_points_at_the_autopath_line_first(capsys):
    assert main(["check", "examples/datadog-autopath", "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "upstream-limit"
    assert result["level"] == "error"
    first = result["locations"][0]["physicalLocation"]
    assert first["artifactLocation"] == {
        "uri": "examples/datadog-autopath/coredns-configmap.yaml", "uriBaseId": "%SRCROOT%"}
    assert first["region"]["startLine"] == 19
    lines = (ROOT / "examples/datadog-autopath/coredns-configmap.yaml").read_text().splitlines()
    assert lines[18].strip() == "autopath @kubernetes"
    messages = [loc["message"]["text"] for loc in result["locations"]]
    assert any(m.startswith("the cache directive") for m in messages)
    hpa = [loc for loc in result["locations"] if "maxReplicas" in loc["message"]["text"]]
    workloads = (ROOT / "examples/datadog-autopath/workloads.yaml").read_text().splitlines()
    assert hpa
    assert all(
        workloads[loc["physicalLocation"]["region"]["startLine"] - 1].strip() == "maxReplicas: 75"
        for loc in hpa)
    text = result["message"]["text"]
    assert text.startswith("the busiest node sends 1,028 packets to 169.254.169.253")
    assert "autopath walks the search path" in text
    assert "then " in text
    related = result["relatedLocations"]
    assert [r["id"] for r in related] == list(range(1, len(related) + 1))
    assert any(r["physicalLocation"]["artifactLocation"]["uri"].endswith("kalc.yaml") for r in related)


def test_without_autopath_the_cache_line_comes_first():
    inputs, analysis, outcome = checked("datadog-autopath-off")
    log = as_sarif(analysis, outcome, inputs, tool_version=__version__, base=ROOT)
    first = log["runs"][0]["results"][0]["locations"][0]
    assert first["message"]["text"].startswith("the cache directive")
    assert first["physicalLocation"]["region"]["startLine"] == 23


def test_a_proof_is_a_log_without_results_and_a_note():
    inputs, analysis, outcome = checked("datadog-autopath-off-sized")
    log = as_sarif(analysis, outcome, inputs, tool_version=__version__, base=ROOT)
    (run,) = log["runs"]
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"]
    assert invocation["toolExecutionNotifications"][0]["level"] == "note"
    assert "verdict: proved" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_an_ndots_option_is_a_location_of_the_cause(tmp_path):
    folder = tmp_path / "cluster"
    shutil.copytree(EXAMPLES / "datadog-autopath", folder)
    workloads = folder / "workloads.yaml"
    workloads.write_text(workloads.read_text().replace(
        "      containers:\n",
        "      dnsConfig:\n        options:\n        - {name: ndots, value: \"5\"}\n      containers:\n"))
    inputs = read_inputs([str(folder)])
    analysis = analyse_inputs(inputs)
    outcome = check(analysis)
    log = as_sarif(analysis, outcome, inputs, tool_version=__version__, base=tmp_path)
    validate_sarif(log)
    locations = log["runs"][0]["results"][0]["locations"]
    texts = [loc["message"]["text"] for loc in locations]
    assert texts[0].startswith("the autopath directive")
    assert texts[1].startswith("ndots:5 of Deployment team-000/api")
    region = locations[1]["physicalLocation"]["region"]
    assert workloads.read_text().splitlines()[region["startLine"] - 1].strip() == '- {name: ndots, value: "5"}'
    assert locations[1]["physicalLocation"]["artifactLocation"]["uri"] == "cluster/workloads.yaml"


def test_an_unknown_verdict_is_a_log_without_results_and_a_warning(capsys):
    assert main(["check", "examples/small-cluster", "--rlimit", "1000", "--format", "sarif"]) == 3
    log = json.loads(capsys.readouterr().out)
    validate_sarif(log)
    (run,) = log["runs"]
    assert run["results"] == []
    assert run["properties"]["verdict"] == "unknown"
    first = run["invocations"][0]["toolExecutionNotifications"][0]
    assert first["level"] == "warning"
    assert "resource budget" in first["message"]["text"]
    assert main(["check", "examples/small-cluster", "--rlimit", "1000", "--format", "json"]) == 3
    validate(json.loads(capsys.readouterr().out), "check")


def test_a_path_outside_the_working_directory_is_an_absolute_uri(tmp_path):
    inputs, analysis, outcome = checked("datadog-autopath")
    log = as_sarif(analysis, outcome, inputs, tool_version=__version__, base=tmp_path)
    validate_sarif(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": (ROOT / "examples/datadog-autopath/coredns-configmap.yaml").as_uri()}


@pytest.mark.parametrize("output", ["json", "sarif"])
def test_bad_input_gives_a_document_that_validates(tmp_path, capsys, output):
    folder = tmp_path / "bad"
    shutil.copytree(EXAMPLES / "small-cluster", folder)
    (folder / "kalc.yaml").write_text("check:\n  horizon: many\n")
    assert main(["check", str(folder), "--format", output]) == 2
    document = json.loads(capsys.readouterr().out)
    if output == "json":
        validate(document, "error")
        assert document["verdict"] == "error"
        assert document["errors"][0]["line"] == 2
    else:
        validate_sarif(document)
        (run,) = document["runs"]
        assert not run["invocations"][0]["executionSuccessful"]
        (note,) = run["invocations"][0]["toolExecutionNotifications"]
        assert note["level"] == "error"
        assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


@pytest.mark.parametrize("command", [["inspect", "-"], ["lookup", "x", "--resolv-conf", "/nonexistent"]])
def test_every_command_errors_in_the_error_schema(capsys, command, monkeypatch):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("kind: [\n"))
    assert main([*command, "--format", "json"]) == 2
    validate(json.loads(capsys.readouterr().out), "error")


def test_an_internal_error_validates_in_both_formats(capsys, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("kalc_formal.commands.cmd_check.check_properties", broken)
    assert main(["check", "examples/small-cluster", "--format", "json"]) == 4
    document = json.loads(capsys.readouterr().out)
    validate(document, "error")
    assert document["verdict"] == "internal-error"
    assert main(["check", "examples/small-cluster", "--format", "sarif"]) == 4
    log = json.loads(capsys.readouterr().out)
    validate_sarif(log)
    assert log["runs"][0]["properties"]["verdict"] == "internal-error"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_inspect_of_every_example_validates(capsys, name):
    assert main(["inspect", f"examples/{name}", "--format", "json"]) == 0
    validate(json.loads(capsys.readouterr().out), "inspect")


def test_inspect_of_a_corefile_alone_validates(tmp_path, capsys):
    corefile = tmp_path / "Corefile"
    corefile.write_text(".:53 {\n    autopath @kubernetes\n    kubernetes cluster.local\n"
                        "    forward . 10.0.0.2\n    cache 30\n}\n")
    assert main(["inspect", str(corefile), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    validate(report, "inspect")
    assert report["pod_classes"][0]["assumed"]


@pytest.mark.parametrize("libc", ["glibc", "musl", "go"])
@pytest.mark.parametrize("reply", [[], ["--exists", "api.example.com"], ["--timeout", "api.example.com"],
                                   ["--servfail", "api.example.com"]])
def test_lookup_json_validates(tmp_path, capsys, libc, reply):
    conf = tmp_path / "resolv.conf"
    conf.write_text("search a.svc.cluster.local svc.cluster.local\nnameserver 10.0.0.10\n"
                    "nameserver 10.0.0.11\noptions ndots:5 attempts:2 timeout:1 rotate\n")
    assert main(["lookup", "api.example.com", "--resolv-conf", str(conf), "--libc", libc,
                 *reply, "--format", "json"]) == 0
    validate(json.loads(capsys.readouterr().out), "lookup")


def test_the_schemas_are_package_data_and_a_wrong_document_fails():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"kalc_formal.views" = ["schemas/*.json"]' in pyproject
    for name in SCHEMA_NAMES:
        assert (ROOT / "kalc_formal" / "views" / "schemas" / f"{name}.schema.json").is_file()
    _, analysis, outcome = checked("datadog-autopath")
    report = as_json(analysis, outcome)
    for broken in ({**report, "verdict": "maybe"}, {**report, "renamed": 1},
                   {k: v for k, v in report.items() if k != "schema_version"},
                   {k: v for k, v in report.items() if k != "trace"}):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken, "check")
    with pytest.raises(ValueError, match="no schema named"):
        load_schema("nope")


def unsafe_small_cluster(tmp_path):
    folder = tmp_path / "surging"
    shutil.copytree(EXAMPLES / "small-cluster", folder)
    kalc = folder / "kalc.yaml"
    kalc.write_text(kalc.read_text().replace("surge_rate: 20", "surge_rate: 2000"))
    return folder


def test_diff_json_validates_and_each_side_is_a_check_report(tmp_path, capsys):
    after = unsafe_small_cluster(tmp_path)
    assert main(["diff", "examples/small-cluster", str(after), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    validate(document, "diff")
    assert document["movement"] == "regression"
    for side in ("before", "after"):
        validate(document[side], "check")


def test_check_with_suggest_validates(tmp_path, capsys):
    assert main(["check", str(unsafe_small_cluster(tmp_path)), "--suggest", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    validate(document, "check")
    assert "suggestions" in document


@pytest.mark.parametrize("vary", [["--vary", "surge=1..1.5"],
                                  ["--vary", "rate=0.5..1", "--vary", "surge=1..1.2", "--rows", "2"]])
def test_capacity_json_validates(capsys, vary):
    assert main(["capacity", "examples/small-cluster", *vary, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    validate(document, "capacity")
    edges = document.get("edges") or document["rows"]
    edge_schema = {**load_schema("check")["$defs"]["edge"], "$defs": load_schema("check")["$defs"]}
    for edge in edges:
        jsonschema.Draft202012Validator(edge_schema).validate(
            {k: v for k, v in edge.items() if k != "value"})


def test_diff_in_sarif_has_the_after_sides_violations(tmp_path, capsys):
    surging = unsafe_small_cluster(tmp_path)
    assert main(["diff", "examples/small-cluster", str(surging), "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    validate_sarif(log)
    (run,) = log["runs"]
    assert run["properties"]["movement"] == "regression"
    assert len(run["results"]) == 1
    first = run["invocations"][0]["toolExecutionNotifications"][0]
    assert first["level"] == "warning"
    assert first["message"]["text"].startswith("diff: regression; before (examples/small-cluster): verdict: proved")
    assert main(["diff", str(surging), "examples/small-cluster", "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    validate_sarif(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["properties"]["movement"] == "fix"
