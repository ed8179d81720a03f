"""`kalc-formal diff`: what a change does to the property, and what it changed."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kalc_formal.analysis.changes import Change, Fact, Movement, compare, movement
from kalc_formal.cli import main
from kalc_formal.model.solve import Verdict
from kalc_formal.source import Span

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def autopath_on(folder: Path) -> None:
    configmap = folder / "coredns-configmap.yaml"
    text = configmap.read_text()
    assert "        prometheus :9153\n" in text
    configmap.write_text(text.replace(
        "        prometheus :9153\n", "        prometheus :9153\n        autopath @kubernetes\n"
    ).replace("pods insecure", "pods verified"))


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    """The sized example (proved) and the same cluster with autopath on (unsafe)."""
    root = tmp_path_factory.mktemp("sized")
    shutil.copytree(EXAMPLES / "datadog-autopath-off-sized", root / "off")
    shutil.copytree(EXAMPLES / "datadog-autopath-off-sized", root / "on")
    autopath_on(root / "on")
    return root


def run(capsys, *argv):
    code = main(["diff", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_turning_autopath_on_is_a_regression_with_the_new_counterexample(sized, capsys):
    code, out, _ = run(capsys, sized / "off", sized / "on")
    assert code == 1
    assert out.startswith("diff: regression")
    assert f"before  {sized / 'off'}: proved" in out
    assert f"after   {sized / 'on'}: unsafe" in out
    changes = out.split("What changed that the model reads")[1].split("What changed that")[0]
    assert "coredns .:53 autopath\n    before: (absent)\n" in changes
    assert f"after:  present  at {sized / 'on'}/coredns-configmap.yaml:20:9" in changes
    assert "this counterexample does not exist before it" in out
    assert "Event chain (replayed in the simulator):" in out
    assert f"autopath {sized / 'on'}/coredns-configmap.yaml:20:9" in " ".join(out.split())


def test_the_reverse_is_a_fix_with_the_old_counterexample(sized, capsys):
    code, out, _ = run(capsys, sized / "on", sized / "off")
    assert code == 0
    assert out.startswith("diff: fix")
    assert "this counterexample no longer exists after it" in out
    assert f"{sized / 'on'}/coredns-configmap.yaml:24:9" in out


def test_an_unchanged_proof_shows_the_headroom_on_both_sides(tmp_path, capsys):
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(EXAMPLES / "small-cluster", before)
    shutil.copytree(EXAMPLES / "small-cluster", after)
    workloads = after / "workloads.yaml"
    assert "image:" in workloads.read_text()
    workloads.write_text(workloads.read_text().replace("image: ", "image: mirror.example/", 1))
    code, out, _ = run(capsys, before, after)
    assert code == 0
    assert out.startswith("diff: no regression")
    assert "What changed that the model reads: nothing." in out
    ignored = out.split("What changed that the model does not read (1):")[1]
    assert "images[0]" in ignored
    assert "mirror.example/" in ignored
    headroom = out.split("Headroom")[1]
    assert headroom.count("before ") == headroom.count("after ") >= 1
    assert "% of 1,024" in headroom


def test_a_cache_ttl_change_is_listed_with_both_lines(tmp_path, capsys):
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(EXAMPLES / "small-cluster", before)
    shutil.copytree(EXAMPLES / "small-cluster", after)
    configmap = after / "coredns-configmap.yaml"
    assert "cache 30" in configmap.read_text()
    configmap.write_text(configmap.read_text().replace("cache 30", "cache 5"))
    code, out, _ = run(capsys, before, after, "--format", "json")
    document = json.loads(out)
    assert code == (1 if document["movement"] == "regression" else 0)
    keys = {c["key"]: c for c in document["changes"]}
    ttl = keys["coredns .:53 cache success_max_ttl"]
    assert ttl["seen"] is True
    assert ttl["before"]["value"] == "30.0"
    assert ttl["after"]["value"] == "5.0"
    assert ttl["before"]["at"].startswith(str(before))
    assert ttl["after"]["at"].startswith(str(after))
    assert document["before"]["verdict"] in ("proved", "unsafe", "safe-bounded")


def test_both_unsafe_shows_how_the_margin_moved(capsys):
    code, out, _ = run(capsys, EXAMPLES / "datadog-autopath-off", EXAMPLES / "datadog-autopath")
    assert code == 0
    assert out.startswith("diff: still-unsafe — upstream-limit: still-unsafe, server-load: fix\n")
    margin = out.split("How the margin moved")[1]
    assert "before: surge" in margin
    assert "after: surge" in margin
    load = out.split("server-load (client queries at the busiest server")[1]
    assert "before  unsafe — the busiest CoreDNS replica takes" in load
    assert "after   proved — the busiest CoreDNS replica takes at most 2,640" in load
    assert "server-load's counterexample" in load


def test_the_incidents_reverse_is_a_server_load_regression(capsys):
    code, out, _ = run(capsys, EXAMPLES / "datadog-autopath", EXAMPLES / "datadog-autopath-off")
    assert code == 1
    assert out.startswith("diff: regression — upstream-limit: still-unsafe, server-load: regression\n")


def test_an_unknown_side_claims_nothing_and_exits_3(capsys):
    code, out, _ = run(capsys, EXAMPLES / "small-cluster", EXAMPLES / "small-cluster",
                       "--budget", "1")
    assert code == 3
    assert out.startswith("diff: unknown")


def test_bad_input_on_one_side_is_an_error_at_its_line(tmp_path, capsys):
    after = tmp_path / "after"
    shutil.copytree(EXAMPLES / "small-cluster", after)
    (after / "kalc.yaml").write_text((after / "kalc.yaml").read_text().replace(
        "limit: 1024", "limit: lots"))
    code, out, err = run(capsys, EXAMPLES / "small-cluster", after)
    assert code == 2
    assert out == ""
    assert f"{after}/kalc.yaml:" in err


def test_only_one_side_may_be_stdin(capsys):
    code, _, err = run(capsys, "-", "-")
    assert code == 2
    assert "only one side" in err


def git(cwd: Path, *argv: str) -> str:
    return subprocess.run(["git", *argv], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def test_git_takes_the_before_side_from_a_revision_without_a_checkout(tmp_path, capsys,
                                                                    monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "datadog-autopath-off-sized", repo / "cluster")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.email=t@example", "-c", "user.name=t", "commit", "-qm", "base")
    autopath_on(repo / "cluster")
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "--git", "HEAD", "cluster")
    assert code == 1
    assert "before  HEAD:cluster: proved" in out
    assert "before: (absent)" in out
    assert "kalc-diff-" not in out
    code, out, _ = run(capsys, "--git", "HEAD:cluster", "cluster")
    assert code == 1
    status = git(repo, "status", "--porcelain")
    assert status.strip() == "M cluster/coredns-configmap.yaml"


@pytest.mark.parametrize("argv", [["--git", "no-such-rev", "."], ["--git=-x", "."],
                                  ["--git", "HEAD:nowhere", "."]])
def test_git_errors_are_bad_input(tmp_path, capsys, monkeypatch, argv):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.email=t@example", "-c", "user.name=t", "commit", "-qm", "base")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("--git:")


def fact(key, value, line=1, seen=True):
    return Fact(key, value, Span("f.yaml", line, 1), seen)


def test_compare_ignores_positions_and_collapses_an_added_plugin():
    before = {"a": fact("a", "1", line=3), "b": fact("b", "x")}
    after = {"a": fact("a", "1", line=9), "b": fact("b", "y"),
             "p": fact("p", "present"), "p ttl": fact("p ttl", "30"),
             "q": fact("q", "present", seen=False)}
    changes = compare(before, after)
    assert [c.key for c in changes] == ["b", "p", "q"]
    assert changes[-1] == Change("q", None, after["q"])
    assert not changes[-1].seen


@pytest.mark.parametrize(("before", "after", "expected"), [
    (Verdict.PROVED, Verdict.UNSAFE, Movement.REGRESSION),
    (Verdict.SAFE_BOUNDED, Verdict.UNSAFE, Movement.REGRESSION),
    (Verdict.UNSAFE, Verdict.PROVED, Movement.FIX),
    (Verdict.PROVED, Verdict.SAFE_BOUNDED, Movement.STILL_SAFE),
    (Verdict.UNSAFE, Verdict.UNSAFE, Movement.STILL_UNSAFE),
    (Verdict.UNKNOWN, Verdict.PROVED, Movement.UNKNOWN),
    (Verdict.UNSAFE, Verdict.UNKNOWN, Movement.UNKNOWN),
])
def test_movement(before, after, expected):
    assert movement(before, after) is expected


def test_capacity_before_and_after(capsys):
    code, out, _ = run(capsys, EXAMPLES / "datadog-autopath-off-sized", EXAMPLES / "nodelocal-dns",
                       "--capacity", "surge")
    assert code == 0
    section = out.split("Capacity before -> after")[1]
    before = section.split("before: ")[1].split("\n")[0]
    after = section.split("after:  ")[1].split("\n")[0]
    assert before.startswith("now x1: proved up to x1.8")
    assert after.startswith("now x1: proved up to x6")
