"""The README's CI recipes, run where they can run offline: the pre-commit hook's command
on changed files, the stdin pipelines (multi-document streams as helm and kustomize print
them, a `kubectl get -o yaml` List), and the CI files' shape."""

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kalc_formal.cli import main, main_parser
from kalc_formal.commands.cmd_check_changed import cluster_folders

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
README = (ROOT / "README.md").read_text()


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def hook():
    (only,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return only


def test_the_hook_runs_the_installed_command_on_the_files_it_is_given():
    entry = hook()
    assert entry["id"] == "kalc-formal"
    assert entry["language"] == "python"
    assert entry["pass_filenames"] is True
    program, command = entry["entry"].split()
    assert f'{program} = "kalc_formal.cli:entrypoint"' in (ROOT / "pyproject.toml").read_text()
    assert command in main_parser()._subparsers._group_actions[0].choices
    files = re.compile(entry["files"])
    for name in ("examples/small-cluster/workloads.yaml", "a/b.yml", "kalc.yaml", "x.json",
                 "Corefile", "conf/Corefile", "zones/prod.Corefile"):
        assert files.search(name), name
    for name in ("README.md", "Corefile.bak", "x/notCorefile", "main.py"):
        assert not files.search(name), name


def test_the_hook_on_changed_files_checks_their_cluster_folders_once(capsys):
    files = ["examples/small-cluster/workloads.yaml", "examples/small-cluster/kalc.yaml",
             "examples/small-cluster/coredns-configmap.yaml", "README.md", "pyproject.toml"]
    assert main(["check-changed", *files]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["examples/small-cluster: verdict: proved — upstream-limit holds at every "
                   "step of every run (1-induction, checked twice)"]


def test_the_hook_fails_on_an_unsafe_folder_and_shows_its_report(capsys):
    assert main(["check-changed", "examples/datadog-autopath/coredns-configmap.yaml"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("== examples/datadog-autopath\nverdict: unsafe")
    assert "Event chain (replayed in the simulator):" in out


def test_the_hook_reports_bad_input_and_goes_on(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "kalc.yaml").write_text("check:\n  horizon: many\n")
    (bad / "coredns.yaml").write_text((EXAMPLES / "small-cluster" / "coredns.yaml").read_text())
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check-changed", "bad/coredns.yaml", "notes.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bad: bad input\nbad/kalc.yaml:2:")
    assert main(["check-changed", "notes.yaml"]) == 0
    assert "no changed file is in a cluster folder" in capsys.readouterr().out


def test_cluster_folders_are_the_nearest_with_a_kalc_yaml_inside_the_root(tmp_path):
    for folder in ("prod", "prod/east", "prod/east/apps", "staging"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for folder in ("prod", "prod/east", "staging"):
        (tmp_path / folder / "kalc.yaml").write_text("")
    (tmp_path / "kalc.yaml").write_text("")
    files = [tmp_path / "prod/east/apps/web.yaml", tmp_path / "prod/coredns.yaml",
             tmp_path / "staging/kalc.yaml", tmp_path / "prod/east/x.yaml", tmp_path / "top.yaml"]
    found = cluster_folders([str(f) for f in files], tmp_path / "prod")
    assert found == [Path("east"), Path(".")]  # staging and the top are outside the root
    found = cluster_folders([str(f) for f in files], tmp_path)
    assert found == [Path("prod/east"), Path("prod"), Path("staging"), Path(".")]


def stream_of(folder, header=""):
    """The folder's manifests as one multi-document stream, as helm template or kustomize
    build print them (a `---` before each document)."""
    parts = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "kalc.yaml":
            continue
        parts.append(f"---\n{header.format(name=path.name)}{path.read_text()}")
    return "".join(parts)


def check_stdin(capsys, monkeypatch, text, env):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["check", "-", "--env", str(env), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def check_folder(capsys, folder):
    code = main(["check", str(folder), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


SAME = ("verdict", "flows", "scopes", "worst_step", "induction_depth", "client_load")


@pytest.mark.parametrize("header", ["", "# Source: coredns/templates/{name}\n"])
def test_a_rendered_stream_on_stdin_gives_the_folders_verdict(capsys, monkeypatch, header):
    folder = EXAMPLES / "small-cluster"
    code, expected = check_folder(capsys, folder)
    got_code, got = check_stdin(capsys, monkeypatch, stream_of(folder, header), folder / "kalc.yaml")
    assert got_code == code
    for field in SAME:
        assert got[field] == expected[field], field


def kubectl_list(folder):
    """The folder's objects as `kubectl get ... -o yaml` prints them: one List, with what
    the API server adds to each object."""
    items = []
    for index, document in enumerate(yaml.safe_load_all(stream_of(folder))):
        if not document:
            continue
        metadata = document.setdefault("metadata", {})
        metadata.update({"uid": f"0000-{index}", "resourceVersion": str(1000 + index),
                         "creationTimestamp": "2026-01-01T00:00:00Z",
                         "managedFields": [{"manager": "kubectl", "operation": "Update",
                                            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]})
        if document["kind"] == "Deployment":
            document["status"] = {"replicas": 2, "readyReplicas": 2, "observedGeneration": 3}
        items.append(document)
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items,
                           "metadata": {"resourceVersion": ""}}, sort_keys=False)


def test_a_kubectl_list_on_stdin_gives_the_folders_verdict(capsys, monkeypatch):
    folder = EXAMPLES / "small-cluster"
    code, expected = check_folder(capsys, folder)
    got_code, got = check_stdin(capsys, monkeypatch, kubectl_list(folder), folder / "kalc.yaml")
    assert got_code == code
    for field in SAME:
        assert got[field] == expected[field], field


def test_the_readme_awk_pipeline_runs_in_a_shell():
    """The README's recipe for files without `---`, through a real shell and process."""
    command = ("awk 'FNR==1{print \"---\"}1' examples/small-cluster/*.yaml | "
               f"{sys.executable} -m kalc_formal check - --env examples/small-cluster/kalc.yaml")
    assert "awk 'FNR==1{print \"---\"}1' clusters/prod/*.yaml | kalc-formal check - --env" in README
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("verdict: proved")


def readme_yaml_blocks():
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", README, re.S)]


def test_the_readme_ci_files_check_and_upload_sarif():
    blocks = readme_yaml_blocks()
    github = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    steps = github["jobs"]["kalc-formal"]["steps"]
    run = next(s["run"] for s in steps if "run" in s and "check" in s["run"])
    assert "--format sarif > kalc-formal.sarif" in run
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "kalc-formal.sarif"
    assert upload["if"] == "always()"
    assert github["permissions"]["security-events"] == "write"
    diff = next(s["run"] for s in steps if "run" in s and " diff " in s["run"])
    assert diff.startswith("kalc-formal diff --git origin/")
    assert steps[0]["with"]["fetch-depth"] == 0
    gitlab = next(b for b in blocks if isinstance(b, dict) and "kalc-formal" in b
                  and "script" in b["kalc-formal"])
    assert any("--format json" in line for line in gitlab["kalc-formal"]["script"])
    pre_commit = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    assert pre_commit["repos"][0]["hooks"] == [{"id": hook()["id"]}]
    for recipe in ("helm template", "kustomize build", "kubectl get deploy,hpa,svc,cm -A -o yaml"):
        assert re.search(rf"{re.escape(recipe)}[^\n]*\| kalc-formal check - --env", README), recipe
