"""`check --suggest`: proved fixes, ranked, as patches that `git apply` takes."""

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kalc_formal.analysis.edits import (
    LineEdit,
    Suggestions,
    apply,
    cache_capacity_edits,
    cache_option_edits,
    merge_edits,
)
from kalc_formal.cli import main
from kalc_formal.coredns.plugins import CacheConfig
from kalc_formal.source import Span
from kalc_formal.views.suggest import render_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd, *argv):
    return subprocess.run(["git", *argv], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def suggested(tmp_path_factory):
    """The autopath pull request of examples/, in a git repository, with its fixes."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(EXAMPLES / "datadog-autopath-sized", repo / "cluster")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.email=t@example", "-c", "user.name=t", "commit", "-qm", "base")
    patches = repo.parent / f"{repo.name}-patches"
    return repo, patches


def check(capsys, monkeypatch, cwd, *argv):
    monkeypatch.chdir(cwd)
    code = main(["check", *map(str, argv)])
    return code, capsys.readouterr().out


def test_suggest_prints_proved_ranked_patches_that_git_applies(suggested, capsys, monkeypatch):
    repo, patches = suggested
    code, out = check(capsys, monkeypatch, repo, "cluster", "--suggest", "--patch-dir", patches,
                      "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["verdict"] == "unsafe"
    proved = document["suggestions"]["proved"]
    ids = [[c["id"] for c in s["candidates"]] for s in proved]
    assert len(proved) >= 2
    assert ["coredns-1.14.7"] in ids
    assert ["autopath-off"] in ids
    ranks = [(len(s["candidates"]), s["client_queries_per_second"],
              s["busiest_server_per_second"], s["pods_restarted"]) for s in proved]
    assert ranks == sorted(ranks)
    autopath_off = proved[ids.index(["autopath-off"])]
    assert autopath_off["client_queries_per_second"] > \
        document["suggestions"]["baseline"]["client_queries_per_second"]
    files = sorted(p.name for p in patches.iterdir())
    assert len(files) == len([s for s in proved if s["patch"]])
    application = [s for s in proved if any(c["kind"] == "application" for c in s["candidates"])]
    assert [[c["id"] for c in s["candidates"]] for s in application] == [["trailing-dot"]]
    assert application[0]["patch"] == ""
    for name in files:
        git(repo, "apply", "--check", str(patches / name))


@pytest.mark.parametrize("fix", ["coredns-1.14.7", "autopath-off", "nodelocal-dns",
                                 "coredns-replicas-310"])
def test_an_applied_patch_is_proved_by_a_fresh_check(suggested, capsys, monkeypatch, fix):
    repo, patches = suggested
    if not patches.exists():
        check(capsys, monkeypatch, repo, "cluster", "--suggest", "--patch-dir", patches)
    (patch,) = [p for p in patches.iterdir() if p.name.endswith(f"-{fix}.patch")]
    git(repo, "apply", str(patch))
    try:
        code, out = check(capsys, monkeypatch, repo, "cluster")
    finally:
        git(repo, "checkout", "--", ".")
        git(repo, "clean", "-fdq")
    assert code == 0
    assert out.startswith("verdict: proved")


def test_suggest_needs_files(capsys, monkeypatch):
    folder = EXAMPLES / "datadog-autopath-sized"
    monkeypatch.setattr("sys.stdin", io.StringIO((folder / "coredns.yaml").read_text()))
    code = main(["check", "-", str(folder / "coredns-configmap.yaml"),
                 str(folder / "workloads.yaml"), "--env", str(folder / "kalc.yaml"), "--suggest"])
    assert code == 2
    assert "cannot be used with - (stdin)" in capsys.readouterr().err


def test_a_proved_cluster_gets_no_suggestions(capsys, monkeypatch):
    code, out = check(capsys, monkeypatch, EXAMPLES.parent, "examples/small-cluster", "--suggest")
    assert code == 0
    assert "Suggested fixes" not in out
    assert "No suggested fix" not in out


def test_no_proved_fix_is_said_with_what_was_tried():
    text = render_text(Suggestions(100, 10, (), ((("turn autopath off",), "unsafe"),), 1, False))
    assert text.startswith("No suggested fix: none of the 1 candidate set(s) tried")
    assert "  turn autopath off: unsafe" in text


def test_an_edit_is_made_only_where_the_line_is_as_read():
    text = "a\nb\nc"
    assert apply(text, [LineEdit("f", 2, "b", ("B1", "B2"))]) == "a\nB1\nB2\nc"
    assert apply(text, [LineEdit("f", 2, "b", ())]) == "a\nc"
    assert apply(text, [LineEdit("f", 2, "x", ("y",))]) is None
    assert apply(text, [LineEdit("f", 9, "b", ())]) is None
    both = [LineEdit("f", 1, "a", ("A", "A")), LineEdit("f", 3, "c", ("C",))]
    assert apply(text, both) == "A\nA\nb\nC"


def cache(line):
    return CacheConfig(
        zones=(".",), success_capacity=9984, success_capacity_effective=9984,
        success_max_ttl=30, success_min_ttl=5, denial_capacity=9984,
        denial_capacity_effective=9984, denial_max_ttl=30, denial_min_ttl=5,
        prefetch_amount=0, prefetch_duration=60, prefetch_percentage=10, serve_stale=None,
        serve_stale_refresh="immediate", servfail_ttl=5, disable_success_zones=(),
        disable_denial_zones=(), keepttl=False, span=Span("Corefile", line, 5),
    )


def test_a_cache_line_becomes_a_block_with_both_capacities():
    text = ".:53 {\n    cache 30\n}"
    edits = cache_capacity_edits(lambda _: text, cache(2), 40_960)
    assert apply(text, edits) == (
        ".:53 {\n    cache 30 {\n        success 40960\n        denial 40960\n    }\n}"
    )


def test_a_cache_block_gets_its_capacities_replaced():
    text = ".:53 {\n    cache 30 {\n        denial 9984\n        prefetch 10\n    }\n}"
    edits = cache_capacity_edits(lambda _: text, cache(2), 40_960)
    assert apply(text, edits) == (
        ".:53 {\n    cache 30 {\n        success 40960\n        denial 40960\n"
        "        prefetch 10\n    }\n}"
    )


def test_edits_of_one_cache_by_two_fixes_merge_unless_they_set_the_same_option():
    text = ".:53 {\n    cache 30\n}"
    prefetch = cache_option_edits(lambda _: text, cache(2), {"prefetch": "1"})
    stale = cache_option_edits(lambda _: text, cache(2), {"serve_stale": ""})
    denial = cache_option_edits(lambda _: text, cache(2), {"denial": "9984 60 5"})
    assert apply(text, merge_edits(prefetch + stale)) == (
        ".:53 {\n    cache 30 {\n        prefetch 1\n        serve_stale\n    }\n}"
    )
    assert merge_edits(denial + cache_option_edits(lambda _: text, cache(2),
                                                   {"denial": "9984 30 30"})) is None
    block = ".:53 {\n    cache 30 {\n        denial 9984\n    }\n}"
    first = cache_option_edits(lambda _: block, cache(2), {"prefetch": "1"})
    second = cache_option_edits(lambda _: block, cache(2), {"denial": "9984 60"})
    assert apply(block, merge_edits(first + second)) == (
        ".:53 {\n    cache 30 {\n        prefetch 1\n        denial 9984 60\n    }\n}"
    )
    assert merge_edits([LineEdit("f", 1, "a", ("b",)), LineEdit("f", 1, "a", ("c",))]) is None
