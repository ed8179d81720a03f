"""`kalc-formal check` end to end on the bundled examples and on bad input."""

import json
import shutil
from pathlib import Path

import pytest

from kalc_formal.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_json(capsys, *args):
    code = main(["check", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_incident_is_unsafe_with_a_replayed_shortest_trace(capsys):
    code, report = run_json(capsys, str(EXAMPLES / "datadog-autopath"))
    assert code == 1
    assert report["verdict"] == "unsafe"
    assert report["property"] == "upstream-limit"
    last = report["trace"][-1]
    (scope,) = last["upstream"].values()
    assert scope["over"]
    assert scope["packets"] > scope["limit"] == 1024
    kinds = [e["kind"] for e in report["events"]]
    assert kinds[0] == "surge"
    assert "violation" in kinds
    walk = next(e for e in report["events"] if e["kind"] == "misses")
    assert "autopath walks" in walk["text"]
    assert any("coredns-configmap.yaml:19" in at for at in walk["at"])  # the autopath line
    defaults = {a["key"] for a in report["assumptions"] if a["default"]}
    assert "coredns.restarts" in defaults
    assert "coredns.skew" not in defaults


def test_autopath_off_alone_is_not_proved_its_shared_keys_miss_together(capsys):
    """Autopath off, default cache: the denial pool holds fewer entries than the
    per-namespace negative keys, so any entry can be evicted at any insert (D3), and
    the queries for a key whose answer is on its way all miss (D10)."""
    code, off = run_json(capsys, str(EXAMPLES / "datadog-autopath-off"))
    assert (code, off["verdict"]) == (1, "unsafe")
    assert len(off["flows"][0]["client_queries"]) == 10
    assert not [a for a in off["assumptions"] if a["narrows"] and a["key"] != "coredns.skew"]


def test_autopath_off_with_a_sized_denial_cache_is_proved_under_stated_assumptions(capsys):
    _, on = run_json(capsys, str(EXAMPLES / "datadog-autopath"))
    code, off = run_json(capsys, str(EXAMPLES / "datadog-autopath-off-sized"))
    assert (code, off["verdict"]) == (0, "proved")
    assert len(off["flows"][0]["client_queries"]) == 10
    assert len(on["flows"][0]["client_queries"]) == 2
    peak_on = next(iter(on["client_load"].values()))["peak"]
    peak_off = next(iter(off["client_load"].values()))["peak"]
    assert peak_off == 5 * peak_on
    assert next(iter(off["worst_step"].values())) == 320
    narrowing = {a["key"]: a["value"] for a in off["assumptions"] if a["narrows"]}
    assert narrowing == {
        "coredns.skew": "0.1", "check.arrivals": "spread", "check.burst": "2",
        "check.reply_ms": "20", "coredns.shard_balance": "even",
    }


def test_without_the_assumptions_the_sized_cluster_is_not_proved(tmp_path, capsys):
    folder = copy_example(tmp_path, "datadog-autopath-off-sized")
    (folder / "kalc.yaml").write_text(
        (EXAMPLES / "datadog-autopath-off" / "kalc.yaml").read_text()
    )
    code, report = run_json(capsys, str(folder))
    assert (code, report["verdict"]) == (1, "unsafe")
    misses = [e["text"] for e in report["events"] if e["kind"] == "misses"]
    assert any("any entry can be evicted at any insert, D3" in " ".join(t.split()) for t in misses)


@pytest.mark.parametrize("example", ["nodelocal-dns", "small-cluster"])
def test_the_safe_examples_are_proved(capsys, example):
    code, report = run_json(capsys, str(EXAMPLES / example))
    assert (code, report["verdict"]) == (0, "proved")


def test_text_output_names_the_verdict_and_the_chain(capsys):
    assert main(["check", str(EXAMPLES / "datadog-autopath")]) == 1
    out = capsys.readouterr().out
    assert out.startswith("verdict: unsafe")
    assert "Event chain (replayed in the simulator):" in out
    assert "over the limit of 1,024/s (scope node)" in " ".join(out.split())
    autopath_line = EXAMPLES / "datadog-autopath" / "coredns-configmap.yaml"
    assert f"autopath {autopath_line}:19:9" in " ".join(out.split())


def test_the_coredns_version_decides_the_chain_order(tmp_path, capsys):
    """Autopath on, the sized cache and assumptions of the autopath-off-sized example:
    up to 1.14.6 autopath's lookups go upstream once per namespace (below the cache,
    B2); from 1.14.7 they are cached and shared by all namespaces (B3)."""
    folder = copy_example(tmp_path, "datadog-autopath")
    sized = EXAMPLES / "datadog-autopath-off-sized"
    (folder / "kalc.yaml").write_text((sized / "kalc.yaml").read_text())
    configmap = folder / "coredns-configmap.yaml"
    configmap.write_text(configmap.read_text().replace(
        "        cache 30\n", "        cache 30 {\n            denial 40000\n        }\n"))
    code, report = run_json(capsys, str(folder), "--coredns-version", "1.14.7")
    assert report["coredns_version"] == "1.14.7"
    assert (code, report["verdict"]) == (0, "proved")
    code, report = run_json(capsys, str(folder), "--coredns-version", "1.14.6")
    assert (code, report["verdict"]) == (1, "unsafe")


def copy_example(tmp_path, name="small-cluster"):
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target)
    return target


def test_a_broken_corefile_in_a_configmap_is_reported_in_the_yaml_file(tmp_path, capsys):
    folder = copy_example(tmp_path)
    configmap = folder / "coredns-configmap.yaml"
    configmap.write_text(configmap.read_text().replace("    cache 30\n", "    cache 30 {\n"))
    assert main(["check", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{configmap}:" in err
    assert "Traceback" not in err


def test_broken_yaml_and_bad_kalc_yaml_give_positions_and_exit_2(tmp_path, capsys):
    folder = copy_example(tmp_path)
    (folder / "workloads.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: [\n")
    assert main(["check", str(folder)]) == 2
    assert f"{folder / 'workloads.yaml'}:" in capsys.readouterr().err
    folder = copy_example(tmp_path, "datadog-autopath")
    (folder / "kalc.yaml").write_text("coredns:\n  replica: 3\n")
    assert main(["check", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'kalc.yaml'}:2:3: coredns: unknown key 'replica'" in err


def test_a_service_without_namespace_is_in_each_clients_own_namespace(tmp_path, capsys):
    folder = copy_example(tmp_path)
    env = folder / "kalc.yaml"
    env.write_text(
        env.read_text()
        .replace("  - id: orders\n", "  - id: web\n    service: web\n  - id: orders\n")
        .replace("names: [payment-api, orders]", "names: [payment-api, orders, web]")
    )
    _, report = run_json(capsys, str(folder))
    web = next(f for f in report["flows"] if f["name"] == "web")
    assert web["client_queries"] == ["web.shop.svc.cluster.local. A", "web.shop.svc.cluster.local. AAAA"]


def test_a_folder_with_only_a_corefile_is_read_and_needs_clients(tmp_path, capsys):
    (tmp_path / "Corefile").write_text(". {\n    forward . 10.0.0.2\n    cache 30\n}\n")
    assert main(["check", str(tmp_path)]) == 2
    assert "no client pods to check" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path)]) == 0


def test_the_same_input_gives_the_same_output_whatever_the_hash_seed():
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-m", "kalc_formal", "check", str(EXAMPLES / "upstream-blips"),
             "--format", "json"],
            capture_output=True, text=True, env=env, check=False,
        )
        assert result.returncode == 1, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_a_spent_solver_budget_is_unknown_never_a_pass(capsys):
    code, report = run_json(capsys, str(EXAMPLES / "small-cluster"), "--rlimit", "1000")
    assert code == 3
    assert report["verdict"] == "unknown"
    assert "resource budget" in report["reason"]


def run_json_fresh(path):
    """The JSON report of a check in a process of its own: Z3's choice among equally
    good models may depend on what the process solved before."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "kalc_formal", "check", str(path), "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    return json.loads(result.stdout)


def test_the_answer_does_not_depend_on_where_the_files_are(tmp_path):
    near = tmp_path / "a"
    far = tmp_path / "b" / "much" / "deeper" / "folder"
    shutil.copytree(EXAMPLES / "datadog-autopath", near)
    shutil.copytree(EXAMPLES / "datadog-autopath", far)
    first = run_json_fresh(near)
    second = run_json_fresh(far)
    assert first["verdict"] == second["verdict"] == "unsafe"
    assert first["trace"] == [
        {**step, "misses": {k.replace(str(far), str(near)): n for k, n in step["misses"].items()}}
        for step in second["trace"]
    ]
