"""`kalc-formal inspect`: each table on small inputs, the examples, bad input, the JSON shape."""

import doctest
import io
import json
import textwrap
from pathlib import Path

import pytest

from kalc_formal import inspect as inspection_module
from kalc_formal.cli import main
from kalc_formal.clients.resolvconf import Libc
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs
from kalc_formal.inspect import option_coverage

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

PLAIN_COREFILE = """\
.:53 {
    errors
    forward . /etc/resolv.conf
    kubernetes cluster.local in-addr.arpa ip6.arpa
    cache 30
}
"""

AUTOPATH_COREFILE = """\
.:53 {
    autopath @kubernetes
    cache 30
    kubernetes cluster.local {
        pods verified
    }
    forward . /etc/resolv.conf
}
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def deployment(name, namespace, spec_lines="", replicas=1):
    spec = textwrap.indent(textwrap.dedent(spec_lines), " " * 6)
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: {namespace}
        spec:
          replicas: {replicas}
          selector:
            matchLabels: {{app: {name}}}
          template:
            metadata:
              labels: {{app: {name}}}
            spec:
        """) + spec + textwrap.indent("containers:\n- name: c\n  image: example.com/app:1\n", " " * 6)


def inspect_json(capsys, *args):
    code = main(["inspect", *map(str, args), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def costs_of(report, pod_class="p0"):
    return {c["kind"] if c["kind"] != "kalc.yaml" else c["name_id"]: c
            for c in report["costs"] if c["pod_class"] == pod_class}


# ---- a Corefile alone: blocks, chain, coverage, and an assumed pod -------------------


def test_a_corefile_alone_shows_the_chain_in_execution_order_with_positions(tmp_path, capsys):
    corefile = write(tmp_path, "Corefile", PLAIN_COREFILE)
    report = inspect_json(capsys, corefile)
    (block,) = report["blocks"]
    assert block["server"] == "coredns"
    assert block["serves_pods"]
    assert [(k["transport"], k["zone"], k["port"]) for k in block["keys"]] == [("dns", ".", 53)]
    assert block["keys"][0]["at"] == f"{corefile}:1:1"
    # B2/B3: errors, cache, kubernetes, forward whatever the order in the file
    assert [(p["name"], p["at"]) for p in block["plugins"]] == [
        ("errors", f"{corefile}:2:5"), ("cache", f"{corefile}:5:5"),
        ("kubernetes", f"{corefile}:4:5"), ("forward", f"{corefile}:3:5"),
    ]
    assert [p["status"] for p in block["plugins"]] == ["ignored", "modelled", "modelled", "modelled"]
    assert report["version"] == {"coredns": "1.14.7", "origin": "default", "plugin_order": "1.14.7"}


def test_a_corefile_alone_costs_one_assumed_default_pod(tmp_path, capsys):
    report = inspect_json(capsys, write(tmp_path, "Corefile", PLAIN_COREFILE))
    (pod_class,) = report["pod_classes"]
    assert pod_class["assumed"]
    assert (pod_class["dns_policy"], pod_class["namespaces"], pod_class["libc"]) == (
        "ClusterFirst", ["default"], "glibc")
    assert pod_class["resolv_conf"] == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\noptions ndots:5\n"
    )
    costs = costs_of(report)
    cost = {kind: (c["queries_per_lookup"], c["upstream_per_lookup_cold"]) for kind, c in costs.items()}
    # H2 + G2/G4: 3 search domains then the name itself, A and AAAA per candidate;
    # the cluster-zone candidates are answered by kubernetes, only the last goes upstream.
    assert cost == {"short service": (2, 0), "service.namespace": (4, 0), "external": (8, 2), "FQDN": (2, 2)}
    assert costs["external"]["queries"] == [
        "api.example.com.default.svc.cluster.local. A", "api.example.com.default.svc.cluster.local. AAAA",
        "api.example.com.svc.cluster.local. A", "api.example.com.svc.cluster.local. AAAA",
        "api.example.com.cluster.local. A", "api.example.com.cluster.local. AAAA",
        "api.example.com. A", "api.example.com. AAAA",
    ]
    assert costs["FQDN"]["name"] == "api.example.com."
    assert costs["service.namespace"]["name"] == "kubernetes.default"
    assert {c["via"] for c in costs.values()} == {"coredns"}
    assert any("ASSUMED pod" in w["message"] for w in report["warnings"])
    assert any(a["key"] == "inspect.pod" and a["default"] for a in report["assumptions"])


def test_the_text_says_loudly_that_the_pod_is_assumed(tmp_path, capsys):
    assert main(["inspect", str(write(tmp_path, "Corefile", PLAIN_COREFILE))]) == 0
    out = capsys.readouterr().out
    assert "Pod classes (ASSUMED: no client workload in the input):" in out
    assert "for one ASSUMED pod (ClusterFirst, namespace default, glibc)" in out
    assert "(assumed)" in out  # pod field positions


@pytest.mark.parametrize(("version", "chain"), [
    ("1.11.1", ["cache", "autopath", "kubernetes", "forward"]),
    ("1.14.7", ["autopath", "cache", "kubernetes", "forward"]),
])
def test_the_version_decides_the_chain_and_autopath_costs_two_queries(tmp_path, capsys, version, chain):
    corefile = write(tmp_path, "Corefile", AUTOPATH_COREFILE)
    report = inspect_json(capsys, corefile, "--coredns-version", version)
    assert [p["name"] for p in report["blocks"][0]["plugins"]] == chain
    assert report["version"]["origin"] == "command line"
    external = costs_of(report)["external"]
    # C5: one client query per qtype; the server walks the search path, "." goes upstream
    assert (external["queries_per_lookup"], external["upstream_per_lookup_cold"]) == (2, 2)


def test_text_tables_for_a_corefile(tmp_path, capsys):
    corefile = write(tmp_path, "Corefile", PLAIN_COREFILE)
    assert main(["inspect", str(corefile)]) == 0
    out = capsys.readouterr().out
    assert "coredns block 1: .:53 (dns, zone ., port 53)" in out
    assert "Lookup costs (one getaddrinfo, A and AAAA" in out
    assert "Coverage of Corefile directives:" in out
    assert "Assumptions (* = default; set them in kalc.yaml):" in out
    row = next(line for line in out.splitlines() if line.startswith("p0") and " external " in line)
    assert row.split()[-2:] == ["8", "2"]


def test_directive_coverage_has_status_reason_and_position(tmp_path, capsys):
    corefile = write(tmp_path, "Corefile", """\
        .:53 {
            log
            rewrite name foo.example.com bar.example.com
            forward . 10.0.0.2
        }
        example.org:1053 {
            whoami
        }
        """)
    report = inspect_json(capsys, corefile)
    coverage = {c["directive"]: c for c in report["coverage"]["directives"]}
    assert (coverage["log"]["status"], coverage["log"]["at"]) == ("ignored", f"{corefile}:2:5")
    assert coverage["rewrite"]["status"] == "not-modelled"
    assert "rewrites names" in coverage["rewrite"]["reason"]
    assert coverage["forward"]["status"] == "modelled"
    assert coverage["whoami"]["block"] == "example.org.:1053"
    assert [b["serves_pods"] for b in report["blocks"]] == [True, False]
    # the rewrite is in the path of every query of this block: the costs say so
    assert any(w["source"] == "model" and "rewrite" in w["message"] for w in report["warnings"])


def test_the_text_notes_unmodelled_places_under_the_costs(tmp_path, capsys):
    corefile = write(tmp_path, "Corefile", ".:53 {\n    rewrite name a.example b.example\n    forward . 10.0.0.2\n}\n")
    assert main(["inspect", str(corefile)]) == 0
    out = capsys.readouterr().out
    assert "place(s) in the query path are not modelled" in out
    assert f"model: {corefile}:2:5: not modelled: rewrite is in the path of" in out


def test_a_corefile_without_a_port_53_block_is_said(tmp_path, capsys):
    report = inspect_json(capsys, write(tmp_path, "Corefile", ".:1053 {\n    forward . 10.0.0.2\n}\n"))
    assert any("no CoreDNS server block listens" in w["message"] for w in report["warnings"])


def test_corefile_warnings_are_shown(tmp_path, capsys):
    corefile = write(tmp_path, "Corefile", "import missing-*.conf\n.:53 {\n    forward . 10.0.0.2\n}\n")
    report = inspect_json(capsys, corefile)
    corefile_warnings = [w["message"] for w in report["warnings"] if w["source"] == "corefile"]
    assert corefile_warnings == [f"{corefile}:1:8: No files matching import glob pattern: missing-*.conf"]


# ---- manifests: pod classes, resolv.conf, field coverage ------------------------------


def test_manifests_without_a_corefile_show_classes_and_say_costs_need_one(tmp_path, capsys):
    write(tmp_path, "app.yaml", deployment("shop", "shop", """\
        dnsConfig:
          options:
          - name: ndots
            value: "2"
          - name: edns0
        """, replicas=3))
    report = inspect_json(capsys, tmp_path)
    assert report["costs"] is None
    assert report["blocks"] == []
    assert any("lookup costs need one" in w["message"] for w in report["warnings"])
    (pod_class,) = report["pod_classes"]
    assert (pod_class["namespaces"], pod_class["pods_base"], pod_class["pods_peak"]) == (["shop"], 3, 3)
    assert not pod_class["assumed"]
    # H2, H4: the cluster search list for ns shop, ndots overridden by dnsConfig, edns0 added
    assert pod_class["resolv_conf"] == (
        "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\noptions ndots:2 edns0\n"
    )
    fields = {f["field"]: f for f in report["coverage"]["pod_fields"]}
    assert fields["dnsConfig.options[ndots]"]["status"] == "modelled"
    assert fields["dnsConfig.options[ndots]"]["at"] == f"{tmp_path / 'app.yaml'}:16:11"
    assert fields["dnsConfig.options[edns0]"]["status"] == "ignored"
    assert fields["dnsPolicy"]["value"] == "ClusterFirst (not set: the default)"
    capsys.readouterr()
    assert main(["inspect", str(tmp_path)]) == 0
    assert "Lookup costs: need a CoreDNS Corefile (none in the input)" in capsys.readouterr().out


def test_options_are_classed_by_what_each_library_reads():
    assert option_coverage("ndots", Libc.MUSL)[0] == "modelled"
    assert option_coverage("rotate", Libc.GLIBC)[0] == "modelled"
    assert option_coverage("rotate", Libc.GO)[0] == "modelled"
    assert option_coverage("rotate", Libc.MUSL)[0] == "ignored"  # G9: musl reads no flags
    assert option_coverage("no-tld-query", Libc.GLIBC)[0] == "modelled"
    assert option_coverage("no-tld-query", Libc.GO)[0] == "ignored"  # G16
    assert option_coverage("single-request-reopen", Libc.GO)[0] == "modelled"
    assert option_coverage("use-vc", Libc.GLIBC)[0] == "modelled"
    assert option_coverage("trust-ad", Libc.GLIBC)[0] == "ignored"
    assert option_coverage("no-such-option", Libc.GLIBC) == (
        "ignored", "not a resolver option glibc reads")


def test_the_library_of_kalc_yaml_decides_the_option_coverage(tmp_path, capsys):
    write(tmp_path, "app.yaml", deployment("api", "team", """\
        dnsConfig:
          options:
          - name: rotate
        """))
    write(tmp_path, "kalc.yaml", """\
        names:
          - id: ext
            example: api.example.com
        lookups:
          - pods: {namespace: team}
            names: [ext]
            libc: musl
        """)
    report = inspect_json(capsys, tmp_path)
    assert report["pod_classes"][0]["libc"] == "musl"
    (rotate,) = [f for f in report["coverage"]["pod_fields"] if f["field"] == "dnsConfig.options[rotate]"]
    assert rotate["status"] == "ignored"


def test_kubelet_warnings_are_shown(tmp_path, capsys):
    searches = "".join(f"    - s{i}.example\n" for i in range(30))
    write(tmp_path, "app.yaml", deployment("api", "team", "dnsConfig:\n  searches:\n" + searches))
    report = inspect_json(capsys, tmp_path)
    (warning,) = report["pod_classes"][0]["kubelet_warnings"]
    assert warning.startswith("Search Line limits were exceeded")  # H5: 3 + 30 > 32
    assert any(w["source"] == "kubelet" and w["message"].startswith("p0: Search Line") for w in report["warnings"])


def test_a_host_network_pod_asks_the_node_nameserver_directly(tmp_path, capsys):
    write(tmp_path, "Corefile", PLAIN_COREFILE)
    write(tmp_path, "app.yaml", deployment("agent", "monitoring", "hostNetwork: true\n"))
    report = inspect_json(capsys, tmp_path)
    (pod_class,) = report["pod_classes"]
    assert pod_class["host_network"]
    assert pod_class["resolv_conf"] == "nameserver 169.254.169.253\n"  # H1: ClusterFirst -> Default
    external = costs_of(report)["external"]
    assert (external["via"], external["queries_per_lookup"], external["upstream_per_lookup_cold"]) == (
        "direct", 2, 2)


def test_a_dnsconfig_nameserver_that_no_model_covers_is_not_modelled(tmp_path, capsys):
    write(tmp_path, "app.yaml", deployment("api", "team", """\
        dnsPolicy: "None"
        dnsConfig:
          nameservers: [192.0.2.1]
        """))
    report = inspect_json(capsys, tmp_path)
    (field,) = [f for f in report["coverage"]["pod_fields"] if f["field"] == "dnsConfig.nameservers"]
    assert field["status"] == "not-modelled"
    assert field["at"] == f"{tmp_path / 'app.yaml'}:16:23"


def test_workloads_no_lookup_selects_are_named(tmp_path, capsys):
    write(tmp_path, "Corefile", PLAIN_COREFILE)
    write(tmp_path, "apps.yaml", deployment("shop", "shop", "") + "---\n" + deployment("batch", "jobs", ""))
    write(tmp_path, "kalc.yaml", """\
        names:
          - id: ext
            example: api.example.com
        lookups:
          - pods: {namespace: shop}
            names: [ext]
        """)
    report = inspect_json(capsys, tmp_path)
    assert [c["namespaces"] for c in report["pod_classes"]] == [["shop"]]
    (notice,) = [w for w in report["warnings"] if "selected by no kalc.yaml lookup" in w["message"]]
    assert "Deployment/batch (ns jobs)" in notice["message"]
    assert notice["at"].startswith(str(tmp_path / "apps.yaml"))


def test_costs_are_split_when_the_namespaces_of_a_class_differ(tmp_path, capsys):
    """A server block for default.svc.cluster.local sends the default namespace's search
    candidates upstream: the class of ns default and team costs differently in each."""
    write(tmp_path, "Corefile", """\
        default.svc.cluster.local:53 {
            forward . 10.0.0.53
        }
        .:53 {
            kubernetes cluster.local
            forward . /etc/resolv.conf
        }
        """)
    write(tmp_path, "apps.yaml", deployment("a", "default", "") + "---\n" + deployment("b", "team", ""))
    report = inspect_json(capsys, tmp_path)
    (pod_class,) = report["pod_classes"]
    assert pod_class["namespaces"] == ["default", "team"]
    short = {tuple(c["namespaces"]): (c["queries_per_lookup"], c["upstream_per_lookup_cold"])
             for c in report["costs"] if c["kind"] == "short service"}
    assert short == {("default",): (8, 4), ("team",): (2, 0)}
    fqdn = [c for c in report["costs"] if c["kind"] == "FQDN"]
    assert [c["namespaces"] for c in fqdn] == [["default", "team"]]
    capsys.readouterr()
    assert main(["inspect", str(tmp_path)]) == 0
    assert "namespaces" in capsys.readouterr().out.split("Lookup costs", 1)[1].splitlines()[1]


def test_stdin_is_read_for_dash(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(deployment("api", "team", "")))
    report = inspect_json(capsys, "-", write(tmp_path, "Corefile", PLAIN_COREFILE))
    assert report["pod_classes"][0]["workloads"][0]["at"].startswith("<stdin>:")
    assert not report["pod_classes"][0]["assumed"]


def test_ignored_kinds_and_cluster_notes(tmp_path, capsys):
    write(tmp_path, "app.yaml", deployment("api", "team", "") + textwrap.dedent("""\
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: s, namespace: team}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers: [{name: c, image: x}]
        """))
    report = inspect_json(capsys, tmp_path)
    assert report["inputs"]["ignored_kinds"] == {"Secret": 1}
    assert any(w["source"] == "cluster" for w in report["warnings"])  # the defaulted namespace


# ---- the examples ----------------------------------------------------------------------


def test_the_incident_costs_two_queries_per_external_lookup_with_autopath_ten_without(capsys):
    on = costs_of(inspect_json(capsys, EXAMPLES / "datadog-autopath"))
    off = costs_of(inspect_json(capsys, EXAMPLES / "datadog-autopath-off"))
    assert on["external"]["queries_per_lookup"] == 2
    assert off["external"]["queries_per_lookup"] == 10  # H7
    assert on["external-apis"]["queries_per_lookup"] == 2
    assert off["external-apis"]["queries_per_lookup"] == 10
    assert on["FQDN"]["queries_per_lookup"] == off["FQDN"]["queries_per_lookup"] == 2
    assert off["external"]["upstream_per_lookup_cold"] == 4  # H7: ec2.internal and the bare name


@pytest.mark.parametrize("example", ["datadog-autopath", "datadog-autopath-off", "nodelocal-dns", "small-cluster"])
def test_inspect_and_check_agree_on_every_declared_name(capsys, example):
    report = inspect_json(capsys, EXAMPLES / example)
    analysis = analyse_inputs(read_inputs([str(EXAMPLES / example)]))
    declared = [c for c in report["costs"] if c["kind"] == "kalc.yaml"]
    assert len(declared) == len(analysis.flows)
    for cost in declared:
        flow = analysis.flows[f"{cost['pod_class']}/{cost['name_id']}"]
        assert (cost["queries"], cost["upstream_per_lookup_cold"], cost["via"]) == (
            list(flow.client_queries), flow.upstream_cold, flow.server)


@pytest.mark.parametrize("example", ["datadog-autopath", "datadog-autopath-off", "nodelocal-dns", "small-cluster"])
def test_the_examples_print_every_table(capsys, example):
    assert main(["inspect", str(EXAMPLES / example)]) == 0
    out = capsys.readouterr().out
    for title in ("Server blocks (plugins in execution order):", "Pod classes:", "Lookup costs",
                  "Coverage of Corefile directives:", "Coverage of pod DNS fields",
                  "Assumptions (* = default"):
        assert title in out


def test_the_small_cluster_example(capsys):
    report = inspect_json(capsys, EXAMPLES / "small-cluster")
    (pod_class,) = report["pod_classes"]
    assert (pod_class["pods_base"], pod_class["pods_peak"]) == (9, 23)  # HPA maxReplicas 20 + 3
    assert "options ndots:2" in pod_class["resolv_conf"]
    cost = {k: c["queries_per_lookup"] for k, c in costs_of(report).items()}
    # ndots:2: api.example.com (2 dots) is tried as is first (G2); kubernetes.default is searched
    assert cost == {"short service": 2, "service.namespace": 4, "external": 2, "FQDN": 2,
                    "payment-api": 2, "orders": 4}


def test_the_node_local_example_shows_both_corefiles(capsys):
    report = inspect_json(capsys, EXAMPLES / "nodelocal-dns")
    assert {b["server"] for b in report["blocks"]} == {"coredns", "node-local"}
    assert {c["via"] for c in report["costs"]} == {"nodelocal"}


# ---- bad input and usage ------------------------------------------------------------------


def test_a_bad_corefile_gives_its_position_and_exit_2(tmp_path, capsys):
    corefile = write(tmp_path, "Corefile", ".:53 {\n    forward . 10.0.0.2\n    foo bar\n}\n")
    assert main(["inspect", str(corefile)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == f"{corefile}:3:5: Unknown directive 'foo'"
    assert lines[1].strip() == "foo bar"
    assert lines[2].strip() == "^"
    assert "Traceback" not in err


def test_every_bad_manifest_is_reported_with_positions(tmp_path, capsys):
    write(tmp_path, "a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: [\n")
    write(tmp_path, "b.yaml", deployment("api", "team", "dnsPolicy: Sometimes\n"))
    assert main(["inspect", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'a.yaml'}:" in err
    assert f"{tmp_path / 'b.yaml'}:14:18: dnsPolicy must be one of" in err


def test_a_bad_kalc_yaml_gives_its_position(tmp_path, capsys):
    write(tmp_path, "Corefile", PLAIN_COREFILE)
    write(tmp_path, "app.yaml", deployment("api", "team", ""))
    write(tmp_path, "kalc.yaml", "coredns:\n  replica: 3\n")
    assert main(["inspect", str(tmp_path)]) == 2
    assert f"{tmp_path / 'kalc.yaml'}:2:3: coredns: unknown key 'replica'" in capsys.readouterr().err


def test_bad_arguments_exit_2(tmp_path, capsys):
    corefile = write(tmp_path, "Corefile", PLAIN_COREFILE)
    assert main(["inspect", str(corefile), "--coredns-version", "latest"]) == 2
    assert "not a CoreDNS version" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", str(corefile), "--format", "yaml"])
    assert exit_info.value.code == 2
    assert main(["inspect", str(tmp_path / "missing.yaml")]) == 2


def test_check_still_needs_a_corefile(tmp_path, capsys):
    write(tmp_path, "app.yaml", deployment("api", "team", ""))
    assert main(["check", str(tmp_path)]) == 2
    assert "no CoreDNS Corefile found" in capsys.readouterr().err


# ---- JSON shape -------------------------------------------------------------------------------


def test_the_json_shape(capsys):
    report = inspect_json(capsys, EXAMPLES / "small-cluster")
    assert list(report) == ["schema_version", "version", "inputs", "blocks", "pod_classes", "costs", "coverage",
                            "assumptions", "warnings"]
    assert set(report["version"]) == {"coredns", "origin", "plugin_order"}
    assert set(report["inputs"]) == {"corefile", "kalc_yaml", "workloads", "ignored_kinds"}
    assert set(report["blocks"][0]) == {"server", "keys", "serves_pods", "plugins"}
    assert set(report["blocks"][0]["keys"][0]) == {"text", "transport", "zone", "port", "at"}
    assert set(report["blocks"][0]["plugins"][0]) == {"name", "at", "status", "reason", "applied"}
    assert set(report["pod_classes"][0]) == {
        "id", "label", "namespaces", "workloads", "dns_policy", "dns_policy_defaulted",
        "host_network", "libc", "pods_base", "pods_peak", "resolv_conf", "resolv_conf_namespace",
        "kubelet_warnings", "assumed"}
    assert set(report["costs"][0]) == {
        "pod_class", "namespaces", "kind", "name", "name_id", "via", "queries_per_lookup",
        "upstream_per_lookup_cold", "queries"}
    assert [c["kind"] for c in report["costs"]] == [
        "short service", "service.namespace", "external", "FQDN", "kalc.yaml", "kalc.yaml"]
    assert set(report["coverage"]) == {"directives", "pod_fields"}
    assert set(report["coverage"]["directives"][0]) == {"server", "block", "directive", "at", "status", "reason"}
    assert set(report["coverage"]["pod_fields"][0]) == {"pod_class", "field", "value", "at", "status", "reason"}
    assert set(report["assumptions"][0]) == {"key", "value", "origin", "default", "note", "at"}
    for cost in report["costs"]:
        assert cost["queries_per_lookup"] == len(cost["queries"])


def test_module_doctests():
    assert doctest.testmod(inspection_module).failed == 0


def counting(monkeypatch, target, name):
    """Count the calls of ``target.name`` (still calling it)."""
    calls = []
    original = getattr(target, name)

    def counted(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, counted)
    return calls


def test_inspect_reuses_the_check_pipelines_analysis(monkeypatch):
    """One analysis for kalc.yaml's names (the one `check` runs) and one for the probe
    names; the settings and pod classes are theirs, not decided or formed again."""
    from kalc_formal import engine
    from kalc_formal.analysis import flows

    inputs = read_inputs([str(EXAMPLES / "datadog-autopath")])
    runs = counting(monkeypatch, flows._Analyser, "run")
    decided = counting(monkeypatch, engine, "decide_settings")
    formed = counting(monkeypatch, inspection_module, "pod_classes")
    inspection = inspection_module.inspect_inputs(inputs)
    assert (len(runs), len(decided), len(formed)) == (2, 0, 0)
    analysis = analyse_inputs(inputs)
    assert [(c.id, c.label, c.pods_base, c.pods_peak) for c in inspection.pod_classes] == [
        (c.id, c.label, c.pods_base, c.pods_peak) for c in analysis.pod_classes
    ]
    assert inspection.assumptions == analysis.assumptions


def test_without_a_corefile_inspect_runs_no_analysis(monkeypatch, tmp_path):
    from kalc_formal.analysis import flows

    (tmp_path / "app.yaml").write_text(deployment("api", "team", ""))
    inputs = read_inputs([str(tmp_path)], corefile_required=False)
    runs = counting(monkeypatch, flows._Analyser, "run")
    formed = counting(monkeypatch, inspection_module, "pod_classes")
    inspection = inspection_module.inspect_inputs(inputs)
    assert (len(runs), len(formed)) == (0, 1)
    assert inspection.costs is None
    assert [c.id for c in inspection.pod_classes] == ["p0"]


def test_forward_and_cache_settings_as_coredns_applies_them(tmp_path, capsys):
    """Defaults filled in (E5 read timeout, E6 max_fails and expire, D1-D3 capacity
    and TTL bounds), options as written, in text and JSON."""
    (tmp_path / "Corefile").write_text(textwrap.dedent("""\
        .:53 {
            cache 300 {
                success 5000 60 10
                denial 2560
                prefetch 3 30s 20%
                serve_stale 1h
            }
            forward . 10.0.0.2 tls://9.9.9.9 {
                except example.org
                policy sequential
                max_fails 4
            }
        }
        """))
    report = inspect_json(capsys, str(tmp_path / "Corefile"))
    plugins = {p["name"]: p["applied"] for p in report["blocks"][0]["plugins"]}
    forward = {k: v for k, v in plugins["forward"].items() if k != "max_connect_attempts"}
    assert forward == {
        "from": ".", "to": "10.0.0.2, tls://9.9.9.9 (tls)", "except": "example.org.",
        "policy": "sequential", "max_fails": "4", "health_check": "0.5 s", "expire": "10 s",
        "read timeout": "2 s", "transport": "the client's", "max_concurrent": "no cap",
    }
    cache = plugins["cache"]
    assert cache["success"] == "5,000 entries (4,864 usable in 256 shards), TTL 10..60 s"
    assert cache["denial"] == "2,560 entries (2,560 usable in 256 shards), TTL 5..300 s"
    assert cache["prefetch"] == "after 3 hits in 30 s, at 20% of the TTL left"
    assert cache["serve_stale"].startswith("up to 3600 s")
    main(["inspect", str(tmp_path / "Corefile")])
    text = capsys.readouterr().out
    assert "As CoreDNS applies them (defaults filled in):" in text
    assert "    success: 5,000 entries (4,864 usable in 256 shards), TTL 10..60 s" in text
