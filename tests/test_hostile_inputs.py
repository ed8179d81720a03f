"""Issue 12 and issue 6 (items 4, 5): careless and hostile kalc.yaml values, manifests and
command lines give a positioned error (exit 2), never a traceback, a crash read as a
verdict, or a proof that checked nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kalc_formal import engine
from kalc_formal.cli import EXIT_INTERNAL_ERROR, main
from kalc_formal.errors import MAX_ERRORS_SHOWN

SMALL = Path(__file__).resolve().parent.parent / "examples" / "small-cluster"


def cluster(tmp_path: Path, edit_env=None, extra: dict[str, str] | None = None) -> Path:
    """A copy of the small example; ``edit_env`` rewrites its kalc.yaml text."""
    folder = tmp_path / "cluster"
    shutil.copytree(SMALL, folder)
    if edit_env is not None:
        env = folder / "kalc.yaml"
        env.write_text(edit_env(env.read_text()))
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    return folder


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_bad_input(code: int, err: str, where: str, message: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert "internal error" not in err
    assert where in err, err
    assert message in err, err


# ---- tracebacks: kalc.yaml numbers the model cannot handle ------------------------------

@pytest.mark.parametrize(("old", "new", "message"), [
    ("    rate: 2\n", "    rate: .nan\n", "lookups.0.rate: must be a finite number"),
    ("    surge_rate: 20\n", "    surge_rate: .inf\n", "lookups.0.surge_rate: must be a finite number"),
    ("\ncluster:\n", "\ncoredns:\n  skew: 1.5\ncluster:\n", "coredns.skew: must be <= 1"),
    ("\ncluster:\n", "\ncoredns:\n  skew: 9\ncluster:\n", "coredns.skew: must be <= 1"),
    ("    limit: 1024\n", "    limit: 100000000000000\n", "upstreams.0.limit: must be <="),
    ("    ttl: 60\n", "    ttl: 99999999999\n", "names.0.ttl: must be <="),
])
def test_numbers_out_of_the_models_range_are_positioned_errors(tmp_path, capsys, old, new, message):
    folder = cluster(tmp_path, lambda text: text.replace(old, new))
    code, _out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "kalc.yaml:", message)


def test_a_yaml_merge_key_is_refused_at_its_place(tmp_path, capsys):
    folder = cluster(tmp_path, lambda text: text.replace(
        "\ncluster:\n  nodes: 3\n", "\ncluster: &shared\n  nodes: 3\ncoredns:\n  <<: *shared\n"))
    code, _out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "kalc.yaml:", "YAML merge keys (<<) are not supported")


def test_deep_nesting_in_kalc_yaml_is_refused_before_it_is_composed(tmp_path, capsys):
    folder = cluster(tmp_path, lambda text: text + "check2: " + "[" * 5000 + "]" * 5000 + "\n")
    code, _out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "kalc.yaml:", "nest")


def test_aliases_that_expand_without_end_are_cut_off(tmp_path, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    folder = cluster(tmp_path, lambda text: "\n".join(lines) + "\nlookups:\n- names: *a8\n")
    code, _out, err = run(capsys, "check", str(folder))
    assert code == 2
    assert "Traceback" not in err


def test_an_internal_error_exits_4_with_one_line_and_the_traceback_only_with_debug(
    tmp_path, capsys, monkeypatch,
):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\x1b[31m")

    monkeypatch.setattr(engine, "analyse", broken)
    code, out, err = run(capsys, "check", str(SMALL))
    assert code == EXIT_INTERNAL_ERROR == 4
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "internal error: RuntimeError: boom\\x1b[31m" in err
    assert "bug in kalc-formal" in err
    code, out, err = run(capsys, "--debug", "check", str(SMALL), "--format", "json")
    assert code == 4
    assert "Traceback" in err
    assert json.loads(out)["verdict"] == "internal-error"


# ---- errors are positioned and machine-readable -------------------------------------

def test_format_json_prints_errors_as_a_json_object_on_stdout(tmp_path, capsys):
    folder = cluster(tmp_path, lambda text: text.replace("    rate: 2\n", "    rate: .nan\n"))
    for command in ("check", "inspect"):
        code, out, _err = run(capsys, command, str(folder), "--format", "json")
        assert code == 2
        document = json.loads(out)
        assert document["verdict"] == "error"
        [error] = document["errors"]
        assert error == {"path": str(folder / "kalc.yaml"), "line": 21, "col": 11,
                         "message": "lookups.0.rate: must be a finite number, got nan"}


def test_lookup_errors_are_json_too(tmp_path, capsys):
    (tmp_path / "resolv.conf").write_text("nameserver 10.0.0.1\noptions ndots:x\n")
    code, out, _err = run(capsys, "lookup", "a.example", "--resolv-conf",
                          str(tmp_path / "nosuch"), "--format", "json")
    assert code == 2
    assert json.loads(out)["verdict"] == "error"


def test_a_coredns_configmap_without_a_corefile_key_is_an_error_at_that_configmap(tmp_path, capsys):
    folder = cluster(tmp_path)
    configmap = folder / "coredns-configmap.yaml"
    configmap.write_text(configmap.read_text().replace("  Corefile: |", "  corefile: |"))
    code, _out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "coredns-configmap.yaml:7:3:", "has no `Corefile` key (its data keys: corefile)")


def test_at_most_50_errors_are_printed_then_a_count(tmp_path, capsys):
    entries = "".join(f"- {{id: n{i}, bogus: 1}}\n" for i in range(300))
    folder = cluster(tmp_path, lambda text: f"names:\n{entries}")
    code, _out, err = run(capsys, "check", str(folder))
    assert code == 2
    assert err.count("unknown key 'bogus'") == MAX_ERRORS_SHOWN
    assert err.rstrip().endswith("and 250 more error(s) (300 in all)")


def test_many_unknown_keys_do_not_reread_the_file_per_error(tmp_path, capsys):
    entries = "".join(f"- {{id: n{i}, x: 1}}\n" for i in range(40_000))
    folder = cluster(tmp_path, lambda text: f"names:\n{entries}")
    import time
    start = time.perf_counter()
    code, _out, err = run(capsys, "check", str(folder))
    assert code == 2
    assert "(40,000 in all)" in err
    assert time.perf_counter() - start < 30


# ---- a "proved" that checked nothing -------------------------------------------------

UPSTREAM = "upstreams:\n  - address: node\n    limit: 1024\n    scope: node\n"


@pytest.mark.parametrize(("old", "new", "message"), [
    (UPSTREAM, "upstreams: []\n", "upstreams: needs at least 1 item"),
    ("address: node", "address: not-an-ip", "expected an IP address or `node`"),
    ("  nodes: 3\n", "  nodes: 3\n  dns_ip: garbage\n", "cluster.dns_ip: expected an IPv4 or IPv6 address"),
    ("[10.0.0.2]", "[garbage]", "cluster.node_nameservers.0: expected an IPv4 or IPv6 address"),
    ("  nodes: 3\n", "  nodes: 3\n  domain: 'a b..'\n", "cluster.domain: expected a domain name"),
    ("example: api.stripe.com", "example: ''", "names.0.example: expected a host name"),
    ("namespace: shop\n    form", "namespace: Shop_1\n    form", "names.1.namespace: expected a Kubernetes name"),
    ("\ncluster:\n", "\ncoredns:\n  version: abc\ncluster:\n", "coredns.version: expected a CoreDNS version"),
    ("    rate: 2\n", "    rate: 1e308\n", "YAML 1.1 reads a number without a dot"),
])
def test_garbage_settings_are_errors_not_proofs(tmp_path, capsys, old, new, message):
    folder = cluster(tmp_path, lambda text: text.replace(old, new))
    code, out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "kalc.yaml:", message)
    assert "proved" not in out


def test_an_upstream_that_receives_nothing_is_a_warning_and_none_at_all_is_bad_input(tmp_path, capsys):
    folder = cluster(tmp_path, lambda text: text.replace("upstreams:\n", "upstreams:\n  - address: 8.8.8.8\n"))
    code, out, _err = run(capsys, "check", str(folder))
    assert code == 0
    assert "warning: " in out
    assert "sends nothing to upstream 8.8.8.8" in out
    folder = cluster(tmp_path / "b", lambda text: text.replace("address: node", "address: 8.8.8.8"))
    code, out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "kalc.yaml:7:5:", "no upstream receives any query of the model")


def test_a_null_byte_in_kalc_yaml_is_an_error_at_its_place(tmp_path, capsys):
    folder = cluster(tmp_path, lambda text: text.replace("names:", "na\x00mes:"))
    code, _out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "kalc.yaml:10:3:", "U+0000 is not allowed")
    assert "\x00" not in err


def test_lookups_that_select_no_pods_are_named_with_their_place(tmp_path, capsys):
    folder = cluster(tmp_path, lambda text: text.replace("{namespace: shop}", "{namespace: nothere}"))
    code, _out, err = run(capsys, "check", str(folder))
    assert_bad_input(code, err, "kalc.yaml:19:5:", "lookups.0 selects no pods (namespaces nothere)")


# ---- forged output -----------------------------------------------------------------

def test_a_namespace_that_would_forge_a_report_line_is_refused_and_escaped(tmp_path, capsys):
    folder = cluster(tmp_path)
    workloads = folder / "workloads.yaml"
    workloads.write_text(workloads.read_text().replace(
        "  name: shop\n  namespace: shop\n", '  name: shop\n  namespace: "shop\\nverdict: proved\\u001b[2J"\n', 1))
    code, out, err = run(capsys, "check", str(folder))
    assert code == 2
    assert out == ""
    assert "not a Kubernetes namespace name" in err
    assert "\nverdict: proved" not in err
    assert "\x1b" not in err
    assert "shop\\x0averdict: proved\\x1b[2J" in err


def test_a_huge_token_is_not_echoed_whole(tmp_path, capsys):
    token = "x" * 9_000_000
    (tmp_path / "Corefile").write_text(f". {{\n    {token}\n}}\n")
    code, _out, err = run(capsys, "inspect", str(tmp_path / "Corefile"))
    assert code == 2
    assert len(err) < 5_000


# ---- file-name dependence ----------------------------------------------------------

METRICS_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: coredns-metrics
  namespace: kube-system
spec:
  selector:
    k8s-app: kube-dns
  clusterIP: 10.100.0.99
  ports:
  - name: metrics
    port: 9153
"""


@pytest.mark.parametrize("file_name", ["a-metrics.yaml", "z-metrics.yaml"])
def test_the_dns_service_is_chosen_by_name_not_by_file_order(tmp_path, capsys, file_name):
    folder = cluster(tmp_path, extra={file_name: METRICS_SERVICE})
    code, out, _err = run(capsys, "check", str(folder), "--format", "json")
    assert code == 0
    [dns_ip] = [a for a in json.loads(out)["assumptions"] if a["key"] == "cluster.dns_ip"]
    assert dns_ip["value"] == "10.100.0.10"
    assert dns_ip["note"] == "Service kube-system/kube-dns, chosen by its name"


# ---- unbounded runs ----------------------------------------------------------------

def test_the_total_budget_ends_in_unknown_and_says_how_far_it_got(capsys):
    first = run(capsys, "check", str(SMALL), "--budget", "2000")
    assert first[0] == 3
    assert "the total budget of 2,000 resource units is spent" in first[1]
    assert "k-induction" in first[1] or "search" in first[1]
    assert run(capsys, "check", str(SMALL), "--budget", "2000") == first


def test_the_command_line_horizon_is_capped_like_kalc_yaml(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(SMALL), "--horizon", "10001"])
    assert exit_info.value.code == 2
    assert "must be at most 10,000" in capsys.readouterr().err


def test_go_attempts_of_a_million_are_refused_not_simulated(tmp_path, capsys):
    (tmp_path / "resolv.conf").write_text("nameserver 10.0.0.1\noptions attempts:1000000\n")
    code, _out, err = run(capsys, "lookup", "api.example.com", "--libc", "go", "--timeout",
                          "api.example.com", "--resolv-conf", str(tmp_path / "resolv.conf"))
    assert code == 2
    assert "more than 10,000 packets" in err


def test_a_dns_config_whose_lookups_would_not_end_is_an_error_at_its_place(tmp_path, capsys):
    """Go does not cap `attempts`: with an upstream that may be out, one failed lookup
    would send a million packets; check refuses it at the workload's dnsConfig."""
    folder = tmp_path / "cluster"
    shutil.copytree(SMALL, folder)
    workloads = folder / "workloads.yaml"
    workloads.write_text(workloads.read_text().replace(
        '          value: "2"\n',
        '          value: "2"\n        - name: attempts\n          value: "1000000"\n', 1))
    env = folder / "kalc.yaml"
    env.write_text(env.read_text().replace("    scope: node\n", "    scope: node\n    outage_steps: 1\n")
                   .replace("    surge_rate: 20\n", "    surge_rate: 20\n    libc: go\n"))
    code, _out, err = run(capsys, "check", str(folder))
    assert code == 2
    assert err.startswith(f"{workloads}:15:9: ")
    assert "more than 10,000 packets" in err
