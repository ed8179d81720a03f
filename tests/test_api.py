"""The public Python API: load from paths or objects, check, typed and JSON-able results."""

import doctest
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

import kalc_formal
from kalc_formal import api as api_module

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
INCIDENT = EXAMPLES / "datadog-autopath"
SMALL = EXAMPLES / "small-cluster"

COREFILE = """\
.:53 {
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
    }
    forward . /etc/resolv.conf
    cache 30
}
"""
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
       "spec": {"containers": [{"name": "web", "image": "web:1"}]}}


def folder_objects(folder):
    """The manifests of an example folder as dicts, kalc.yaml as a dict."""
    manifests = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name != "kalc.yaml":
            manifests += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return manifests, yaml.safe_load((folder / "kalc.yaml").read_text())


@pytest.fixture(scope="module")
def incident():
    return kalc_formal.load(INCIDENT)


@pytest.fixture(scope="module")
def incident_result(incident):
    return kalc_formal.check(incident, horizon=3)


def test_the_package_imports_neither_z3_nor_hypothesis_and_lists_its_surface():
    code = (
        "import sys, kalc_formal; names = dir(kalc_formal); "
        "print('z3' in sys.modules, 'hypothesis' in sys.modules, 'kalc_formal.api' in sys.modules, "
        "all(hasattr(kalc_formal, n) for n in kalc_formal.__all__), 'z3' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.split() == ["False", "False", "False", "True", "True"]


def test_unknown_attributes_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = kalc_formal.nothing


def test_the_incident_is_unsafe_with_a_typed_trace(incident, incident_result):
    result = incident_result
    assert incident.coredns_version == "1.11.1"
    assert len(incident.namespaces) == 400
    assert result.verdict is kalc_formal.Verdict.UNSAFE
    assert not result.ok
    assert [(p.property, p.verdict.value) for p in result.properties] == [
        ("upstream-limit", "unsafe"), ("server-load", "proved")]
    assert result.surge == 3010
    assert result.surge_minimal is True
    [step] = result.trace
    [count] = step.upstream.values()
    assert (count.packets, count.limit, count.over) == (1028, 1024, True)
    assert result.events[0].kind == "surge"
    assert any("workloads.yaml:1:1" in at for at in result.events[0].at)
    assert result.headroom == ()
    assert "Event chain (replayed in the simulator):" in result.summary()
    assert "Lookups (what one lookup costs)" not in result.summary()
    assert result.report.startswith("verdict: unsafe (the worst of 2 properties)\n")
    upstream_text = result.properties[0].text.replace("verdict: ", "upstream-limit: ", 1)
    assert upstream_text.split()[:4] == result.report.splitlines()[1].split()[:4]


def test_assumptions_carry_their_origins(incident_result):
    skew = next(a for a in incident_result.assumptions if a.key == "coredns.skew")
    assert (skew.value, skew.origin, skew.narrows) == ("0.1", "kalc.yaml", True)
    assert skew.at.endswith("datadog-autopath/kalc.yaml:5:9")
    assert any(a.default for a in incident_result.assumptions)


def test_the_json_is_what_the_command_line_prints(incident_result):
    data = incident_result.to_json()
    json.dumps(data)
    assert data["properties"] == [
        {"property": "upstream-limit", "verdict": "unsafe", "text": incident_result.properties[0].text},
        {"property": "server-load", "verdict": "proved", "text": incident_result.properties[1].text},
    ]
    assert data["sources"] == [str(INCIDENT)]
    command = [sys.executable, "-m", "kalc_formal", "check", str(INCIDENT), "--horizon", "3",
               "--format", "json"]
    printed = json.loads(subprocess.run(command, capture_output=True, text=True, cwd=ROOT).stdout)
    for added in ("properties", "sources", "overrides"):
        del data[added]
    assert data == printed
    data["verdict"] = "changed"
    assert incident_result.to_json()["verdict"] == "unsafe"


def test_a_proof_has_headroom():
    result = kalc_formal.check(kalc_formal.load(SMALL), horizon=5)
    assert result.verdict is kalc_formal.Verdict.PROVED
    assert result.ok
    [headroom] = result.headroom
    assert headroom.limit == 1024
    assert headroom.packets is not None
    assert 0 <= headroom.packets <= headroom.limit
    assert result.trace == ()
    assert result.surge is None


def test_objects_in_memory_give_the_verdict_of_the_files_with_positions_naming_them(
    incident_result,
):
    manifests, env = folder_objects(INCIDENT)
    cluster = kalc_formal.load_objects(manifests, env=env)
    assert cluster.yaml is not None
    assert cluster.yaml.startswith("--- # <manifest 1>\n")
    result = kalc_formal.check(cluster, horizon=3)
    assert (result.verdict, result.surge) == (incident_result.verdict, incident_result.surge)
    assert [(s.lookups, s.upstream) for s in result.trace] == [
        (s.lookups, s.upstream) for s in incident_result.trace
    ]
    at = [a for e in result.events for a in e.at]
    assert any(a.startswith("<manifest ") for a in at)
    assert any(a.startswith("<kalc.yaml>:") for a in at)
    skew = next(a for a in result.assumptions if a.key == "coredns.skew")
    assert skew.at == "<kalc.yaml>:3:9"
    assert result.sources[0] == "<manifest 1>"


def test_yaml_texts_and_a_corefile_text_are_accepted():
    pod_text = yaml.safe_dump(POD)
    cluster = kalc_formal.load_objects([pod_text], corefile=COREFILE)
    assert cluster.namespaces == ("shop",)
    assert cluster.sources == ("<manifest 1>", "<Corefile>")
    assert cluster.coredns_version == "1.14.7"
    result = kalc_formal.check(cluster, horizon=3)
    assert result.verdict.value in {"proved", "unsafe"}
    plugin_at = [a for e in result.events for a in e.at]
    assert all(not a.startswith("<manifest") or a.startswith("<manifest 1>") for a in plugin_at)


def test_loading_from_objects_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = []
    real_open = open

    def watch(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+"):
            opened.append(file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watch)
    kalc_formal.load_objects([POD], corefile=COREFILE, env={"cluster": {"nodes": 3}})
    assert opened == []
    assert list(tmp_path.iterdir()) == []


def test_bad_objects_are_errors_at_their_own_positions():
    bad_pod = {**POD, "spec": {"dnsPolicy": "Sometimes", "containers": []}}
    with pytest.raises(kalc_formal.ConfigErrors) as caught:
        kalc_formal.load_objects([POD, bad_pod], corefile=COREFILE)
    assert str(caught.value).startswith("<manifest 2>:")
    with pytest.raises((kalc_formal.ConfigError, kalc_formal.ConfigErrors)) as caught:
        kalc_formal.load_objects([POD], corefile=COREFILE.replace("cache 30", "nosuchplugin 30"))
    assert str(caught.value).startswith("<Corefile>:6:")
    with pytest.raises(kalc_formal.ConfigErrors) as caught:
        kalc_formal.load_objects([POD], corefile=COREFILE, env={"coredns": {"replicas": "many"}})
    assert str(caught.value).startswith("<kalc.yaml>:2:13:")
    with pytest.raises(kalc_formal.ConfigError, match="no CoreDNS Corefile found"):
        kalc_formal.load_objects([POD])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: kalc_formal.load(), "at least one"),
    (lambda: kalc_formal.load(42), "a path, not int"),
    (lambda: kalc_formal.load(SMALL, env=3), "env: kalc.yaml as a mapping or a path"),
    (lambda: kalc_formal.load_objects(POD, corefile=COREFILE), "wrap one in a list"),
    (lambda: kalc_formal.load_objects([42], corefile=COREFILE), "<manifest 1>: a manifest is"),
    (lambda: kalc_formal.load_objects([POD], corefile=b"x"), "the Corefile's text"),
    (lambda: kalc_formal.load_objects([POD], corefile=COREFILE, env="kalc.yaml"), "a mapping"),
    (lambda: kalc_formal.load_objects([{"kind": object()}], corefile=COREFILE), "cannot be written as YAML"),
    (lambda: kalc_formal.load_objects([POD], corefile=COREFILE, coredns_version=1.14), "a string"),
    (lambda: kalc_formal.check("examples/small-cluster"), "a Cluster from"),
])
def test_bad_arguments_are_invalid_argument(call, message):
    with pytest.raises(kalc_formal.InvalidArgument, match=message):
        call()


@pytest.mark.parametrize(("options", "message"), [
    ({"horizon": 0}, "horizon=0: a whole number"),
    ({"horizon": 10_001}, "at most 10,000"),
    ({"horizon": True}, "horizon=True"),
    ({"rlimit": -1}, "rlimit=-1"),
    ({"budget": 2.5}, "budget=2.5"),
    ({"property": "no-loops"}, "property='no-loops': one of upstream-limit"),
])
def test_bad_check_options_are_invalid_argument(options, message):
    cluster = kalc_formal.load_objects([POD], corefile=COREFILE)
    with pytest.raises(kalc_formal.InvalidArgument, match=message):
        kalc_formal.check(cluster, **options)


def test_another_kalc_yaml_with_another_version_reads_the_corefile_again(incident):
    _, env = folder_objects(INCIDENT)
    env["coredns"]["version"] = "1.14.7"
    moved = incident.with_env(env)
    assert (incident.coredns_version, moved.coredns_version) == ("1.11.1", "1.14.7")
    result = kalc_formal.check(incident, env=env, horizon=3)
    assert result.coredns_version == "1.14.7"
    version = next(a for a in result.assumptions if a.key == "coredns.version")
    assert version.origin == "kalc.yaml"
    from_file = kalc_formal.check(incident, env=INCIDENT / "kalc.yaml", horizon=3)
    assert from_file.coredns_version == "1.11.1"


def test_overrides_grow_the_cluster_as_capacity_does_and_say_so(incident):
    scaled = incident.with_overrides(surge=1.5, namespaces=50)
    assert scaled.overrides == ("surge=1.5", "namespaces=50")
    assert len(scaled.namespaces) == 50
    result = kalc_formal.check(scaled, horizon=3)
    assert result.overrides == scaled.overrides
    [flow] = result.to_json()["flows"]
    assert flow["namespaces"] == 50
    assert flow["surge_rate"] == pytest.approx(0.09)
    grown = incident.with_overrides(namespaces=401, pods=2, names=0.5, rate=2)
    [flow] = kalc_formal.check(grown, horizon=3).to_json()["flows"]
    assert (flow["namespaces"], flow["names"], flow["rate"]) == (401, 10, pytest.approx(0.04))
    assert "overrides=" in repr(scaled)
    assert incident.with_overrides() is incident
    with pytest.raises(kalc_formal.InvalidArgument, match=r"set kalc\.yaml first"):
        scaled.with_env({})


@pytest.mark.parametrize(("overrides", "message"), [
    ({"namespaces": 0}, "a whole number of namespaces"),
    ({"namespaces": 2.5}, "a whole number of namespaces"),
    ({"surge": 0}, "a factor from 0.001"),
    ({"surge": "2x"}, "surge='2x'"),
    ({"pods": True}, "pods=True"),
])
def test_bad_overrides_are_refused(incident, overrides, message):
    with pytest.raises(kalc_formal.InvalidArgument, match=message):
        incident.with_overrides(**overrides)


def test_an_override_the_model_cannot_express_is_refused():
    small = kalc_formal.load(SMALL)  # its lookups select namespace shop by name
    with pytest.raises(kalc_formal.InvalidArgument, match="namespaces cannot be varied"):
        small.with_overrides(namespaces=3)


def test_diff_compares_both_sides_as_the_command_line_does():
    change = kalc_formal.diff(kalc_formal.load(EXAMPLES / "datadog-autopath-off-sized"),
                              kalc_formal.load(INCIDENT), horizon=3)
    assert change.movement is kalc_formal.Movement.REGRESSION
    assert (change.before.verdict.value, change.after.verdict.value) == ("proved", "unsafe")
    autopath = change.changes[0]
    assert (autopath.key, autopath.before, autopath.after, autopath.seen) == (
        "coredns .:53 autopath", None, "present", True)
    assert change.report.startswith("diff: regression")
    data = json.loads(json.dumps(change.to_json()))
    assert data["movement"] == "regression"
    assert data["after"]["verdict"] == "unsafe"
    with pytest.raises(kalc_formal.InvalidArgument, match="diff: a Cluster"):
        kalc_formal.diff(INCIDENT, INCIDENT)


def test_module_doctests(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert doctest.testmod(api_module).failed == 0
    assert doctest.testmod(kalc_formal).failed == 0


def readme_python_blocks():
    text = (ROOT / "README.md").read_text()
    section = text.split("## In your test suite", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]


def test_the_readme_python_examples_run(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    blocks = readme_python_blocks()
    assert len(blocks) == 3
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "Event chain (replayed in the simulator):" in capsys.readouterr().out


def test_every_public_name_stays_the_api_after_the_commands_are_imported():
    """No module of the package shadows a name of the API once it is imported (the diff
    pipeline was kalc_formal/diff.py, which replaced kalc_formal.diff)."""
    from kalc_formal.cli import main_parser

    main_parser()
    for name in kalc_formal.__all__:
        assert not isinstance(getattr(kalc_formal, name), types.ModuleType), name
