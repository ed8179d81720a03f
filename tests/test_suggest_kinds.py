"""`check --suggest`, one kind of fix at a time: on a small cluster where it is the fix,
its patch applies with `git apply` and a fresh check of the patched cluster proves it;
where it would not help, it is not suggested."""

import json
import shutil
import subprocess

import jsonschema
import pytest

from kalc_formal.cli import main
from kalc_formal.views.schemas import load_schema
from tests.suggest_clusters import write_cluster

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SHORT_MINIMUM = ('cache 30 {\n            success 9984 30 1\n            denial 9984 30 1\n'
                 '        }')


def git(cwd, *argv):
    return subprocess.run(["git", *argv], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def run(capsys, monkeypatch, cwd, *argv):
    monkeypatch.chdir(cwd)
    code = main(["check", *map(str, argv)])
    return code, capsys.readouterr().out


def suggested(tmp_path, capsys, monkeypatch, **cluster):
    """The cluster in a git repository, its suggestions (JSON) and the patch folder."""
    repo = tmp_path / "repo"
    write_cluster(repo / "cluster", **cluster)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.email=t@example", "-c", "user.name=t", "commit", "-qm", "base")
    patches = tmp_path / "patches"
    code, out = run(capsys, monkeypatch, repo, "cluster", "--suggest", "--patch-dir", patches,
                    "--format", "json")
    assert code == 1
    document = json.loads(out)
    jsonschema.validate(document, load_schema("check"))
    return repo, document["suggestions"], patches


def proved_ids(suggestions):
    return [[c["id"] for c in s["candidates"]] for s in suggestions["proved"]]


def tried_alone(suggestions):
    return {n["candidates"][0] for n in suggestions["not_proved"] if len(n["candidates"]) == 1}


def apply_and_check(repo, patches, fix, capsys, monkeypatch):
    (patch,) = [p for p in patches.iterdir() if p.name.endswith(f"-{fix}.patch")]
    git(repo, "apply", str(patch))
    code, out = run(capsys, monkeypatch, repo, "cluster")
    assert code == 0, out[:300]
    assert out.startswith("verdict: proved")


@pytest.mark.parametrize(("fix", "cluster", "not_helping"), [
    # the cache keeps everything 1 s: up to the names' TTL it may keep them 30 s
    ("cache-ttl", {"cache": "cache 1"}, ["trailing-dot", "prefetch", "serve-stale"]),
    # answers of TTL 1 s are kept 1 s: a minimum of 30 s keeps them longer
    ("cache-min-ttl", {"cache": SHORT_MINIMUM, "ttl": 1, "limit": 90}, ["cache-ttl"]),
    # both replicas may share a node: spread them
    ("coredns-spread", {"anti_affinity": False}, ["coredns-replicas-5"]),
    # one replica per node, each too busy: more of them
    ("coredns-replicas-5", {"cache": "cache 1"}, []),
    # every node caches and sends from its own interface
    ("nodelocal-dns", {"cache": "cache 1"}, []),
])
def test_a_fix_of_each_kind_is_proved_applied_and_rechecked(
    tmp_path, capsys, monkeypatch, fix, cluster, not_helping,
):
    repo, suggestions, patches = suggested(tmp_path, capsys, monkeypatch, **cluster)
    ids = proved_ids(suggestions)
    assert [fix] in ids
    for other in not_helping:
        assert [other] not in ids
    apply_and_check(repo, patches, fix, capsys, monkeypatch)


def test_trailing_dots_are_an_application_change_proved_through_kalc_yaml(
    tmp_path, capsys, monkeypatch,
):
    repo, suggestions, patches = suggested(tmp_path, capsys, monkeypatch, ndots=None)
    (dotted,) = [s for s in suggestions["proved"]
                 if [c["id"] for c in s["candidates"]] == ["trailing-dot"]]
    assert dotted["patch"] == ""
    assert dotted["candidates"][0]["kind"] == "application"
    assert not any(p.name.endswith("-trailing-dot.patch") for p in patches.iterdir())
    env = repo / "cluster" / "kalc.yaml"
    env.write_text(env.read_text().replace("api.partner.example.com", "api.partner.example.com."))
    code, out = run(capsys, monkeypatch, repo, "cluster")
    assert code == 0
    assert out.startswith("verdict: proved")


def test_a_trailing_dot_that_changes_nothing_is_not_suggested(tmp_path, capsys, monkeypatch):
    # ndots:1 already asks the name as given first
    _, suggestions, _ = suggested(tmp_path, capsys, monkeypatch, cache="cache 1")
    assert ["trailing-dot"] not in proved_ids(suggestions)
    assert any(t.startswith("look the external names up with a trailing dot")
               for t in tried_alone(suggestions))


def test_no_spread_is_offered_where_replicas_are_kept_apart(tmp_path, capsys, monkeypatch):
    _, suggestions, _ = suggested(tmp_path, capsys, monkeypatch, cache="cache 1")
    assert not any(title.startswith("spread the CoreDNS replicas")
                   for n in suggestions["not_proved"] for title in n["candidates"])
    assert all("coredns-spread" not in ids for ids in proved_ids(suggestions))


def test_node_local_dns_that_would_not_help_is_not_suggested(tmp_path, capsys, monkeypatch):
    # ten queries per lookup from clients that walk their search list: every node's own
    # cache still sends too much
    _, suggestions, _ = suggested(tmp_path, capsys, monkeypatch, ndots=None)
    assert ["nodelocal-dns"] not in proved_ids(suggestions)
    assert any(t.startswith("add NodeLocal DNSCache") for t in tried_alone(suggestions))


def test_a_fix_must_prove_every_property(tmp_path, capsys, monkeypatch):
    # the cache time keeps the upstream within its limit, but leaves the busiest replica
    # above the capacity kalc.yaml gives it: only fixes that spread the queries remain
    _, suggestions, _ = suggested(tmp_path, capsys, monkeypatch, cache="cache 1",
                                  capacity_qps=80)
    assert suggestions["properties"] == ["upstream-limit", "server-load"]
    ids = proved_ids(suggestions)
    assert ["coredns-replicas-5"] in ids
    assert ["cache-ttl"] not in ids
    (ttl,) = [n["verdict"] for n in suggestions["not_proved"]
              if len(n["candidates"]) == 1
              and n["candidates"][0].startswith("let the cache keep answers")]
    assert ttl == "upstream-limit proved; server-load unsafe"


def test_a_server_over_its_capacity_gets_fixes_though_the_upstream_is_proved(
    tmp_path, capsys, monkeypatch,
):
    repo, suggestions, patches = suggested(tmp_path, capsys, monkeypatch, capacity_qps=80,
                                           limit=1000)
    # 200 client queries/s at peak, at most 1.1/R of them at one replica: 3 replicas
    # would keep each within 80/s; at least twice the 2 are suggested
    assert ["coredns-replicas-4"] in proved_ids(suggestions)
    apply_and_check(repo, patches, "coredns-replicas-4", capsys, monkeypatch)


def test_a_kalc_yaml_given_apart_is_edited_only_in_the_private_copy(
    tmp_path, capsys, monkeypatch,
):
    cluster = write_cluster(tmp_path / "cluster", ndots=None)
    env = tmp_path / "env" / "kalc.yaml"
    env.parent.mkdir()
    (cluster / "kalc.yaml").rename(env)
    before = env.read_text()
    code, out = run(capsys, monkeypatch, tmp_path, "cluster", "--env", env, "--suggest",
                    "--format", "json")
    assert code == 1
    assert ["trailing-dot"] in proved_ids(json.loads(out)["suggestions"])
    assert env.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster", "env"]
