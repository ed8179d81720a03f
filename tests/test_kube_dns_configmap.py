"""The legacy kube-dns ConfigMap (stubDomains, upstreamNameservers) as node-cache reads it
(J3, specs/kube-dns-configmap.md); the NodeLocal DNSCache Corefile's environment; CoreDNS
never reading the ConfigMap; bad content at file:line:col."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalc_formal.cli import main
from kalc_formal.config.corefile_env import REDACTED
from kalc_formal.config.reading import read_inputs
from kalc_formal.errors import ConfigError
from kalc_formal.kubernetes.cluster import read_cluster
from kalc_formal.kubernetes.kubedns import (
    _Json,
    read_kube_dns_configmap,
    split_nameserver,
)
from kalc_formal.kubernetes.manifests import load_text
from kalc_formal.kubernetes.nodecache import node_cache_corefile
from kalc_formal.source import Source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "nodelocal-dns"
INSPECT_SCHEMA = json.loads((ROOT / "kalc_formal/views/schemas/inspect.schema.json").read_text())

KUBE_DNS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-dns
  namespace: kube-system
data:
  stubDomains: |
    {"corp.example": ["10.0.0.53", "10.0.0.54:5353"]}
  upstreamNameservers: |
    ["10.0.0.2"]
"""
CORPORATE_UPSTREAM = """\
  - address: 10.0.0.2
    limit: 20000       # the corporate resolver, for the whole cluster
    scope: cluster
"""
STUB_UPSTREAM = """\
  - address: 10.0.0.53
    limit: 500
    scope: cluster
"""
STUB_NAMES = """\
  - id: corp
    example: db.corp.example
    count: 5
    ttl: 5
"""
MOUNT = """\
        - name: kube-dns-config
          mountPath: /etc/kube-dns
"""


def nodelocal_cluster(tmp_path, name, *, kube_dns=KUBE_DNS, template=True, mounted=True,
                      upstreams=CORPORATE_UPSTREAM, names="", local_env=""):
    """examples/nodelocal-dns with node-cache's own placeholders left in its Corefile (as the
    addon ships it), the kube-dns ConfigMap mounted at /etc/kube-dns (optional, as the addon
    mounts it), and ``upstreams`` added to kalc.yaml."""
    folder = tmp_path / name
    shutil.copytree(EXAMPLE, folder)
    daemonset = folder / "nodelocaldns.yaml"
    text = daemonset.read_text()
    if template:
        text = text.replace("forward . 10.100.0.11 {", "forward . __PILLAR__CLUSTER__DNS__ {")
        text = text.replace("forward . /etc/resolv.conf\n", "forward . __PILLAR__UPSTREAM__SERVERS__\n")
    volumes = "      volumes:\n      - name: kube-dns-config\n        configMap:\n" \
        "          name: kube-dns\n          optional: true\n"
    text = text.replace("          mountPath: /etc/coredns\n      volumes:\n",
                        "          mountPath: /etc/coredns\n" + (MOUNT if mounted else "") + volumes)
    text = text.replace('               "-upstreamsvc", "kube-dns-upstream"]\n',
                        '               "-upstreamsvc", "kube-dns-upstream"]\n' + local_env)
    daemonset.write_text(text)
    if kube_dns:
        (folder / "kube-dns.yaml").write_text(kube_dns)
    env = folder / "kalc.yaml"
    spec = env.read_text().replace("    scope: node\n", "    scope: node\n" + upstreams, 1)
    if names:
        spec = spec.replace("names:\n", "names:\n" + names, 1)
        spec = spec.replace("lookups:\n  - pods: {}\n    names: [external-apis]",
                            "lookups:\n  - pods: {}\n    names: [external-apis, corp]", 1)
    env.write_text(spec)
    return folder


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def check_json(capsys, folder, *args):
    code, out, _ = run(capsys, "check", folder, "--format", "json", *args)
    return code, json.loads(out)


def scope_of(report, address):
    return next(s["id"] for s in report["scopes"] if address in s["addresses"])


# ------------------------------------------------------------------ reading


def configmap(data):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-dns, namespace: kube-system}\n" \
        "data:\n" + data
    (document,) = load_text(text, "kd.yaml").documents
    return read_kube_dns_configmap(document, "kube-system")


def test_stub_domains_and_upstreams_are_read_with_the_position_of_each_value():
    found, errors = configmap(
        '  stubDomains: |\n    {"corp.example": ["10.0.0.53", "[fd00::1]:5353"],\n'
        '     "acme.local": ["10.1.0.1"], "acme.local": ["10.1.0.2"]}\n'
        "  upstreamNameservers: '[\"8.8.8.8\", \"8.8.4.4:53\"]'\n")
    assert errors == []
    corp, acme = found.stub_domains
    assert (corp.domain, str(corp.span)) == ("corp.example", "kd.yaml:6:6")
    assert [(s.value, str(s.span)) for s in corp.servers] == [
        ("10.0.0.53", "kd.yaml:6:23"), ("[fd00::1]:5353", "kd.yaml:6:36")]
    assert [s.value for s in acme.servers] == ["10.1.0.2"]  # a repeated key: the last wins, as in Go
    assert [(u.value, str(u.span)) for u in found.upstream_nameservers] == [
        ("8.8.8.8", "kd.yaml:8:26"), ("8.8.4.4:53", "kd.yaml:8:37")]


def test_null_and_absent_keys_mean_no_stub_domains_and_the_node_resolv_conf():
    found, errors = configmap("  stubDomains: 'null'\n  upstreamNameservers: 'null'\n")
    assert errors == []
    assert (found.stub_domains, found.upstream_nameservers) == ((), None)


@pytest.mark.parametrize(("text", "expected"), [
    ("10.0.0.1", ("10.0.0.1", 53)), ("10.0.0.1:5353", ("10.0.0.1", 5353)),
    ("fd00::1", ("fd00::1", 53)), ("[fd00::1]:54", ("fd00::1", 54)),
    ("dns.corp.example", None), ("10.0.0.1:0", None), ("10.0.0.1:65536", None),
    ("fd00::1:53x", None), ("10.0.0.1:", None),
])
def test_a_nameserver_is_an_ip_address_with_an_optional_port(text, expected):
    assert split_nameserver(text) == expected


@pytest.mark.parametrize(("data", "position", "fragment"), [
    ('  stubDomains: |\n    {"corp.example": ["10.0.0.53",]}\n', "6:35", "invalid JSON: unexpected ']'"),
    ('  stubDomains: |\n    {"corp.example": ["10.0.0.53"]\n', "6:35", "invalid JSON: expected '}'"),
    ('  stubDomains: |\n    {"corp.example": "10.0.0.53"}\n', "6:22", "expected a JSON list"),
    ('  stubDomains: |\n    {"Corp_Example.": ["10.0.0.53"]}\n', "6:6", "is not a domain name"),
    ('  stubDomains: |\n    {"corp.example": ["dns.corp.example"]}\n', "6:23", "is not an IP address"),
    ('  stubDomains: |\n    {"corp.example": []}\n', "6:6", "has no nameserver"),
    ('  stubDomains: |\n    ["10.0.0.53"]\n', "6:5", "expected a JSON object"),
    ("  upstreamNameservers: '[\"1.1.1.1\", \"1.0.0.1\", \"8.8.8.8\", \"8.8.4.4\"]'\n", "5:25",
     "more than the three node-cache accepts"),
    ("  upstreamNameservers: '[\"1.1.1.1:dns\"]'\n", "5:26", "is not an IP address"),
    ("  upstreamNameservers: '[1]'\n", "5:26", "expected a string"),
    ("  upstreamNameservers: '[\"1.1.1.1\"] x'\n", "5:37", "more after the value"),
    ("  upstreamNameservers: '[\"1.1.1.1\\x\"]'\n", "5:34", "invalid JSON: Invalid \\escape"),
    ("  stubDomains: [1]\n", "5:16", "expected a string holding JSON"),
])
def test_bad_content_is_an_error_at_the_offending_value(data, position, fragment):
    found, errors = configmap(data)
    assert found is None
    (error,) = errors
    assert str(error.span) == f"kd.yaml:{position}"
    assert fragment in error.message
    assert error.line_text  # the offending line is shown


def test_bad_content_exits_2_with_file_line_col_and_the_line_and_other_documents_are_read(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "bad", kube_dns=KUBE_DNS.replace('"10.0.0.54:5353"', '"ns1.corp"'))
    workloads = folder / "workloads.yaml"
    workloads.write_text(workloads.read_text().replace("replicas: 25", "replicas: many", 1))
    code, out, _ = run(capsys, "check", folder, "--format", "json")
    assert code == 2
    errors = json.loads(out)["errors"]
    assert [(e["path"], e["line"], e["col"]) for e in errors] == [
        (f"{folder}/workloads.yaml", 7, 13), (f"{folder}/kube-dns.yaml", 8, 36)]
    code, out, err = run(capsys, "check", folder)
    assert code == 2
    assert "Traceback" not in out + err
    assert f"{folder}/kube-dns.yaml:8:36: stubDomains['corp.example']: 'ns1.corp' is not an IP address" in err
    assert '    {"corp.example": ["10.0.0.53", "ns1.corp"]}' in err


# ------------------------------------------------------------------ NodeLocal DNSCache reads it


def test_upstream_nameservers_move_external_names_to_the_corporate_resolver(tmp_path, capsys):
    before = nodelocal_cluster(tmp_path, "before", kube_dns="")
    after = nodelocal_cluster(tmp_path, "after")
    code, report = check_json(capsys, before)
    assert (code, report["verdict"]) == (0, "proved")
    node, corporate = scope_of(report, "169.254.169.253"), scope_of(report, "10.0.0.2")
    assert report["worst_step"][node] == 320  # of 1,024 per node: node-cache asks the node's resolv.conf
    assert report["worst_step"][corporate] == 0
    assert any("sends nothing to upstream 10.0.0.2" in w for w in report["warnings"])
    code, report = check_json(capsys, after)
    assert (code, report["verdict"]) == (1, "unsafe")
    (step,) = report["trace"]
    assert step["upstream"][corporate]["over"]
    assert step["upstream"][corporate]["packets"] == 20_004
    assert step["upstream"][node]["packets"] == 0
    assert any("sends nothing to upstream 169.254.169.253" in w for w in report["warnings"])
    _, out, _ = run(capsys, "diff", before, after)
    assert out.startswith("diff: regression")
    assert f"    after:  10.0.0.2  at {after}/kube-dns.yaml:10:6\n" in out  # the address's own line


def test_stub_domain_names_go_to_their_stub_servers(tmp_path, capsys):
    kube_dns = KUBE_DNS.replace('  upstreamNameservers: |\n    ["10.0.0.2"]\n', "")
    with_stub = nodelocal_cluster(tmp_path, "stub", kube_dns=kube_dns, upstreams=STUB_UPSTREAM, names=STUB_NAMES)
    without = nodelocal_cluster(tmp_path, "none", kube_dns="", upstreams=STUB_UPSTREAM, names=STUB_NAMES)
    code, report = check_json(capsys, without)
    assert (code, report["verdict"]) == (0, "proved")
    assert any("sends nothing to upstream 10.0.0.53" in w for w in report["warnings"])
    code, report = check_json(capsys, with_stub)
    assert (code, report["verdict"]) == (1, "unsafe")
    stub = scope_of(report, "10.0.0.53")
    assert any(s["upstream"][stub]["over"] for s in report["trace"])
    corp = next(f for f in report["flows"] if f["name"] == "db.corp.example")
    assert corp["client_queries"][-2:] == ["db.corp.example. A", "db.corp.example. AAAA"]


def test_a_filled_in_upstream_keeps_its_forward_with_a_warning(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "filled", template=False)
    code, report = check_json(capsys, folder)
    assert (code, report["verdict"]) == (0, "proved")
    (warning,) = [w for w in report["warnings"] if "upstreamNameservers" in w]
    assert warning.startswith(f"{folder}/kube-dns.yaml:10:6: upstreamNameservers 10.0.0.2 has no effect")
    assert "no __PILLAR__UPSTREAM__SERVERS__ left" in warning
    assert report["worst_step"][scope_of(report, "169.254.169.253")] == 320


def test_a_kube_dns_configmap_node_cache_does_not_mount_changes_nothing(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "unmounted", mounted=False)
    code, report = check_json(capsys, folder)
    assert (code, report["verdict"]) == (0, "proved")
    (warning,) = [w for w in report["warnings"] if "does not read ConfigMap kube-system/kube-dns" in w]
    assert "mounted at /etc/kube-dns" in warning


def test_kubednscm_names_the_directory_node_cache_reads(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "flag", mounted=False)
    daemonset = folder / "nodelocaldns.yaml"
    daemonset.write_text(daemonset.read_text().replace(
        '"-upstreamsvc", "kube-dns-upstream"]',
        '"-upstreamsvc", "kube-dns-upstream", "-kubednscm", "/kube-dns-config"]').replace(
        "          mountPath: /etc/coredns\n",
        "          mountPath: /etc/coredns\n        - name: kube-dns-config\n          mountPath: /kube-dns-config/\n"))
    code, report = check_json(capsys, folder)
    assert (code, report["verdict"]) == (1, "unsafe")


def test_a_stub_domain_the_corefile_already_serves_is_refused(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "twice", kube_dns=KUBE_DNS.replace("corp.example", "cluster.local"))
    code, _out, err = run(capsys, "check", folder)
    assert code == 2
    assert err.startswith(f"{folder}/kube-dns.yaml:8:6: cannot serve dns://cluster.local.:53 - it is already defined")


def test_node_cache_placeholders_need_the_service_node_cache_reads(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "nosvc")
    daemonset = folder / "nodelocaldns.yaml"
    daemonset.write_text(daemonset.read_text().replace('"-upstreamsvc", "kube-dns-upstream"',
                                                       '"-upstreamsvc", "kube-dns-elsewhere"'))
    code, _, err = run(capsys, "check", folder)
    assert code == 2
    assert ("fills __PILLAR__CLUSTER__DNS__ with the ClusterIP of Service kube-system/kube-dns-elsewhere"
            in err)
    assert err.startswith(f"{folder}/nodelocaldns.yaml:36:19:")


def test_a_coredns_corefile_with_node_cache_placeholders_is_refused(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "coredns-pillar", kube_dns="")
    corefile = folder / "coredns-configmap.yaml"
    corefile.write_text(corefile.read_text().replace("forward . /etc/resolv.conf {", "forward . __PILLAR__UPSTREAM__SERVERS__ {"))
    code, _, err = run(capsys, "check", folder)
    assert code == 2
    assert err.startswith(f"{folder}/coredns-configmap.yaml:21:19: this file is a template")
    assert "only node-cache fills these" in err


# ------------------------------------------------------------------ CoreDNS does not read it


def test_without_node_local_dns_the_kube_dns_configmap_is_read_by_nobody(tmp_path, capsys):
    folder = tmp_path / "small"
    shutil.copytree(ROOT / "examples" / "small-cluster", folder)
    code, before = check_json(capsys, folder)
    (folder / "kube-dns.yaml").write_text(KUBE_DNS)
    code_after, after = check_json(capsys, folder)
    assert code == code_after == 0
    assert after["verdict"] == before["verdict"]
    assert after["worst_step"] == before["worst_step"]
    (warning,) = [w for w in after["warnings"] if "kube-dns" in w]
    assert warning.startswith(f"{folder}/kube-dns.yaml:1:1: ConfigMap kube-system/kube-dns")
    assert "coredns plugin/kubernetes/controller.go" in warning


def test_a_kube_dns_configmap_without_a_corefile_says_what_coredns_needs(tmp_path, capsys):
    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "kube-dns.yaml").write_text(KUBE_DNS)
    code, _, err = run(capsys, "check", folder)
    assert code == 2
    assert err.startswith(f"{folder}/kube-dns.yaml:1:1: no CoreDNS Corefile found")
    assert "translateStubDomainOfKubeDNSToForwardCoreDNS" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------ inspect


def test_inspect_shows_the_generated_blocks_and_the_upstream_with_their_origin(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "inspect")
    code, out, _ = run(capsys, "inspect", folder)
    assert code == 0
    assert (f"node-local block 5: corp.example.:53 (dns, zone corp.example., port 53) at "
            f"{folder}/kube-dns.yaml:8:6") in out
    assert "    to: 10.0.0.53, 10.0.0.54:5353" in out
    assert (f"kube-dns: {folder}/kube-dns.yaml:10:6: node-cache forwards to upstreamNameservers "
            f"10.0.0.2 over UDP in place of __PILLAR__UPSTREAM__SERVERS__ (at "
            f"{folder}/nodelocaldns.yaml:70:19)") in out
    code, out, _ = run(capsys, "inspect", folder, "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, INSPECT_SCHEMA)
    stub = next(b for b in report["blocks"] if b["keys"][0]["zone"] == "corp.example.")
    assert stub["server"] == "node-local"
    forward = next(p for p in stub["plugins"] if p["name"] == "forward")
    assert forward["at"] == f"{folder}/kube-dns.yaml:8:23"  # the stub domain's first nameserver
    notes = [w for w in report["warnings"] if w["source"] == "kube-dns"]
    assert [n["at"] for n in notes] == [f"{folder}/kube-dns.yaml:10:6", f"{folder}/kube-dns.yaml:8:6"]


# ------------------------------------------------------------------ the node-cache container's env


LOCAL_ENV = """\
        env:
        - name: UPSTREAM
          valueFrom: {secretKeyRef: {name: node-dns, key: upstream}}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: node-dns, namespace: kube-system}
stringData: {upstream: 10.0.0.2}
"""


def test_the_node_local_corefile_reads_the_node_cache_env_and_hides_secret_values(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "env", kube_dns="", template=False, local_env=LOCAL_ENV)
    daemonset = folder / "nodelocaldns.yaml"
    daemonset.write_text(daemonset.read_text().replace("forward . /etc/resolv.conf\n", "forward . {$UPSTREAM}\n"))
    (folder / "secret.yaml").write_text(SECRET)
    code, report = check_json(capsys, folder)
    assert (code, report["verdict"]) == (1, "unsafe")  # the Secret's address: the corporate resolver
    for args in (["check", folder], ["inspect", folder], ["inspect", folder, "--format", "json"]):
        _, out, err = run(capsys, *args)
        assert "10.0.0.2" not in out + err
        assert REDACTED in out + err
    code, report = check_json(capsys, folder, "--corefile-env", "UPSTREAM=169.254.169.253")
    assert (code, report["verdict"]) == (0, "proved")


def test_an_unset_node_local_variable_warns_and_names_node_cache(tmp_path):
    folder = nodelocal_cluster(tmp_path, "unset", kube_dns="", template=False)
    daemonset = folder / "nodelocaldns.yaml"
    daemonset.write_text(daemonset.read_text().replace("cache 30\n", "cache {$TTL}30\n", 1))
    inputs = read_inputs([str(folder)])
    (warning,) = [w for w in inputs.env_warnings if "TTL" in w]
    assert warning.startswith("NodeLocal DNSCache Corefile environment variable TTL is not set in the "
                              "node-cache container's env")
    with pytest.raises(ConfigError):
        read_inputs([str(folder)], corefile_env={"TTL": "-"})


def test_check_changed_passes_corefile_env_through(tmp_path, capsys, monkeypatch):
    folder = nodelocal_cluster(tmp_path, "hook", kube_dns="", template=False)
    daemonset = folder / "nodelocaldns.yaml"
    daemonset.write_text(daemonset.read_text().replace("forward . /etc/resolv.conf\n", "forward . {$UPSTREAM}\n"))
    monkeypatch.chdir(tmp_path)
    assert main(["check-changed", "hook/nodelocaldns.yaml", "--corefile-env", "UPSTREAM=10.0.0.2"]) == 1
    assert capsys.readouterr().out.startswith("== hook\nverdict: unsafe")
    assert main(["check-changed", "hook/nodelocaldns.yaml", "--corefile-env", "UPSTREAM=169.254.169.253"]) == 0
    assert capsys.readouterr().out.startswith("hook: verdict: proved")
    assert main(["check-changed", "hook/nodelocaldns.yaml", "--corefile-env", "NOEQUALS"]) == 2
    assert "--corefile-env wants NAME=VALUE" in capsys.readouterr().err


def test_a_force_tcp_upstream_block_as_the_addon_writes_it_loses_force_tcp_and_keeps_its_lines(tmp_path):
    folder = nodelocal_cluster(tmp_path, "tcp")
    daemonset = folder / "nodelocaldns.yaml"
    daemonset.write_text(daemonset.read_text().replace(
        "        forward . __PILLAR__UPSTREAM__SERVERS__\n",
        "        forward . __PILLAR__UPSTREAM__SERVERS__ {\n                force_tcp\n        }\n"))
    cluster = read_cluster([str(folder)])
    generated = node_cache_corefile(cluster)
    template = cluster.node_local_corefile_source.text
    assert "force_tcp\n    }\n    prometheus :9253\n}\n" in template  # the `.` block's, before
    assert generated.template.text.count("\n") == template.count("\n")
    assert "    forward . 10.0.0.2\n\n\n    prometheus :9253\n}\n" in generated.template.text
    assert "__PILLAR__" not in generated.template.text
    assert "forward . 10.100.0.11 {\n        force_tcp" in generated.template.text  # the cluster's
    inputs = read_inputs([str(folder)])
    dot = next(b for b in inputs.nodelocal.blocks if b.keys[0].zone == ".")
    forward = next(p for p in dot.plugins if type(p).__name__ == "ForwardConfig")
    assert not forward.force_tcp


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def plain(value):
    """A parsed value with the positions dropped."""
    if isinstance(value.data, dict):
        return {k: plain(v) for k, (_, v) in value.data.items()}
    if isinstance(value.data, list):
        return [plain(v) for v in value.data]
    return value.data


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.sampled_from(["", " ", "\n  ", "\t"]))
def test_the_json_reader_reads_what_json_writes(value, space):
    text = json.dumps(value, indent=2 if space == "\n  " else None) + space
    assert plain(_Json(Source("x.json", text)).document()) == json.loads(text)


INVALID = object()


def go_json(text):
    """What Go's encoding/json accepts (no NaN or Infinity), as Python values; INVALID if not."""
    def refuse(_):
        raise ValueError
    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return INVALID


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('{}[]",:\\ \n0123456789.-eEtrufalsnIy'), max_size=30)
       | st.text(max_size=30))
def test_any_text_is_read_or_refused_at_a_position(text):
    expected = go_json(text)
    if expected is INVALID:
        with pytest.raises(ConfigError) as refused:
            _Json(Source("x.json", text)).document()
        assert refused.value.span is not None
    else:
        assert plain(_Json(Source("x.json", text)).document()) == expected


def test_node_cache_reads_the_configmap_mounted_where_it_looks_whatever_its_name(tmp_path, capsys):
    folder = nodelocal_cluster(tmp_path, "renamed", kube_dns=KUBE_DNS.replace("name: kube-dns", "name: legacy-dns"))
    daemonset = folder / "nodelocaldns.yaml"
    daemonset.write_text(daemonset.read_text().replace("          name: kube-dns\n          optional: true",
                                                       "          name: legacy-dns\n          optional: true"))
    code, report = check_json(capsys, folder)
    assert (code, report["verdict"]) == (1, "unsafe")  # upstreamNameservers taken, as under its usual name


def test_a_stub_domain_may_share_a_zone_with_a_block_bound_to_other_addresses(tmp_path):
    folder = nodelocal_cluster(tmp_path, "apart", kube_dns=KUBE_DNS.replace("corp.example", "cluster.local"))
    daemonset = folder / "nodelocaldns.yaml"
    text = daemonset.read_text()
    first = text.index("bind 169.254.20.10 10.100.0.10")
    daemonset.write_text(text[:first] + "bind 169.254.20.99" + text[first + len("bind 169.254.20.10 10.100.0.10"):])
    inputs = read_inputs([str(folder)])
    zones = [b.keys[0].zone for b in inputs.nodelocal.blocks]
    assert zones.count("cluster.local.") == 2
