"""Corefile environment references ({$NAME}, {%NAME%}, A14) read the CoreDNS container's
env in the Deployment and --corefile-env, never kalc-formal's own environment; values
from Secrets are never shown."""

import base64
import json
import shutil
from pathlib import Path

import pytest

from kalc_formal.cli import main
from kalc_formal.config.corefile_env import REDACTED, parse_assignments, redact
from kalc_formal.errors import InvalidArgument
from kalc_formal.kubernetes.environment import container_env
from kalc_formal.kubernetes.manifests import load_text
from kalc_formal.kubernetes.podspec import FieldReader

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRET_UPSTREAM = "10.0.0.2"

WRITTEN = """\
    .:53 {
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        forward . 10.0.0.2
        cache 30
    }
"""
FROM_ENV = """\
    {$ZONE}:{%PORT%} {
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        forward . {$UPSTREAM}
        cache {$CACHE_TTL}
    }
"""
CONTAINER_ENV = """\
        env:
        - {name: ZONE, value: "."}
        - name: PORT
          valueFrom: {configMapKeyRef: {name: coredns-env, key: port}}
        - name: UPSTREAM
          valueFrom: {secretKeyRef: {name: dns-upstream, key: address}}
        - {name: TTL_BASE, value: "30"}
        - {name: CACHE_TTL, value: "$(TTL_BASE)"}
"""
ENV_OBJECTS = f"""\
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: coredns-env, namespace: kube-system}}
data: {{port: "53"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: dns-upstream, namespace: kube-system}}
data: {{address: {base64.b64encode(SECRET_UPSTREAM.encode()).decode()}}}
"""


def cluster(tmp_path, name, corefile, *, env="", objects=""):
    folder = tmp_path / name
    shutil.copytree(EXAMPLES / "small-cluster", folder)
    configmap = folder / "coredns-configmap.yaml"
    head = configmap.read_text().split("  Corefile: |\n")[0]
    configmap.write_text(head + "  Corefile: |\n" + corefile + objects)
    deployment = folder / "coredns.yaml"
    deployment.write_text(deployment.read_text().replace(
        "        args: [\"-conf\", \"/etc/coredns/Corefile\"]\n",
        "        args: [\"-conf\", \"/etc/coredns/Corefile\"]\n" + env))
    return folder


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def check_json(capsys, *args):
    code, out, _ = run(capsys, "check", *map(str, args), "--format", "json")
    return code, json.loads(out)


def test_zone_port_and_upstream_from_the_deployment_env_read_as_written(tmp_path, capsys):
    written = cluster(tmp_path, "written", WRITTEN)
    from_env = cluster(tmp_path, "env", FROM_ENV, env=CONTAINER_ENV, objects=ENV_OBJECTS)
    code, inspected, _ = run(capsys, "inspect", str(from_env), "--format", "json")
    assert code == 0
    report = json.loads(inspected)
    (key,) = report["blocks"][0]["keys"]
    assert (key["zone"], key["port"]) == (".", 53)
    assert [p["name"] for p in report["blocks"][0]["plugins"]] == ["cache", "kubernetes", "forward"]
    assert not [w for w in report["warnings"] if "environment" in w["message"]]
    code_written, expected = check_json(capsys, written)
    code_env, got = check_json(capsys, from_env)
    assert code_env == code_written == 0
    for field in ("verdict", "flows", "worst_step", "induction_depth", "client_load"):
        assert got[field] == expected[field], field
    assert got["warnings"] == expected["warnings"]


def test_a_secret_value_is_never_shown(tmp_path, capsys):
    from_env = cluster(tmp_path, "env", FROM_ENV.replace("forward . {$UPSTREAM}", "forward . {$UPSTREAM}:abc"),
                       env=CONTAINER_ENV, objects=ENV_OBJECTS)
    for output in ("text", "json"):
        code, out, err = run(capsys, "check", str(from_env), "--format", output)
        assert code == 2  # not a port: the error names the address
        assert SECRET_UPSTREAM not in out + err
        assert REDACTED in err
    good = cluster(tmp_path, "good", FROM_ENV, env=CONTAINER_ENV, objects=ENV_OBJECTS)
    for args in (["inspect", str(good)], ["inspect", str(good), "--format", "json"],
                 ["check", str(good)], ["check", str(good), "--format", "sarif"]):
        code, out, err = run(capsys, *args)
        assert code == 0
        assert SECRET_UPSTREAM not in out + err


def test_a_value_from_an_object_not_in_the_input_is_unset_with_a_warning(tmp_path, capsys):
    env = CONTAINER_ENV.replace("name: coredns-env", "name: elsewhere")
    folder = cluster(tmp_path, "env", FROM_ENV.replace("{%PORT%}", "53").replace("{$ZONE}", "{$ZONE}{$DOMAIN}"),
                     env=env + "        - name: DOMAIN\n          valueFrom: {configMapKeyRef: "
                     "{name: elsewhere, key: domain}}\n", objects=ENV_OBJECTS)
    code, report = check_json(capsys, folder)
    assert code == 0
    (warning,) = [w for w in report["warnings"] if "DOMAIN" in w]
    assert "ConfigMap kube-system/elsewhere is not in the input" in warning
    assert "--corefile-env DOMAIN=VALUE" in warning
    code, out, _ = run(capsys, "inspect", str(folder), "--format", "json")
    assert any("DOMAIN" in w["message"] for w in json.loads(out)["warnings"])


def test_corefile_env_gives_and_overrides_values_and_the_process_env_is_never_read(
        tmp_path, capsys, monkeypatch):
    written = cluster(tmp_path, "written", WRITTEN)
    bare = cluster(tmp_path, "bare", FROM_ENV)
    for name, value in (("ZONE", "."), ("PORT", "53"), ("UPSTREAM", "10.0.0.2"), ("CACHE_TTL", "30")):
        monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "check", str(bare))
    assert code == 2  # unset here: the key {$ZONE}:{%PORT%} reads as ":"
    assert err.startswith(f"{bare / 'coredns-configmap.yaml'}:8:5:")
    assert "Corefile environment variable ZONE is not set in the CoreDNS container's env" in err
    assert "--corefile-env PORT=VALUE" in err
    _, expected = check_json(capsys, written)
    code, got = check_json(capsys, bare, "--corefile-env", "ZONE=.", "--corefile-env", "PORT=53",
                           "--corefile-env", "UPSTREAM=10.0.0.2", "--corefile-env", "CACHE_TTL=30")
    assert code == 0
    assert got["flows"] == expected["flows"]
    assert got["verdict"] == expected["verdict"]
    overridden = cluster(tmp_path, "overridden", FROM_ENV,
                         env=CONTAINER_ENV.replace('value: "30"}', 'value: "0"}'), objects=ENV_OBJECTS)
    code, got = check_json(capsys, overridden, "--corefile-env", "CACHE_TTL=30")
    assert code == 0
    assert got["flows"] == expected["flows"]


def test_bad_corefile_env_arguments_are_usage_errors(capsys):
    code, _, err = run(capsys, "check", str(EXAMPLES / "small-cluster"), "--corefile-env", "NOEQUALS")
    assert code == 2
    assert "NAME=VALUE" in err
    with pytest.raises(InvalidArgument):
        parse_assignments(["1BAD=x"])
    assert parse_assignments(["A=1", "A=b=c", "EMPTY="]) == {"A": "b=c", "EMPTY": ""}


def test_kubernetes_env_rules():
    text = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: ns}}
spec:
  containers:
  - name: c
    image: coredns/coredns:1.11.1
    envFrom:
    - configMapRef: {{name: base}}
      prefix: B_
    - secretRef: {{name: missing-but-optional, optional: true}}
    - configMapRef: {{name: not-in-input}}
    env:
    - {{name: A, value: "x"}}
    - {{name: B, value: "$(A)-$(UNDEFINED)-$$(A)-$(B_KEY)"}}
    - {{name: A, value: "later wins"}}
    - name: NS
      valueFrom: {{fieldRef: {{fieldPath: metadata.namespace}}}}
    - name: NODE
      valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}
    - name: S
      valueFrom: {{secretKeyRef: {{name: s, key: k}}}}
    - name: SS
      valueFrom: {{secretKeyRef: {{name: s, key: plain}}}}
    - name: GONE
      valueFrom: {{configMapKeyRef: {{name: base, key: nope, optional: true}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: base, namespace: ns}}
data: {{KEY: "v", "bad key": "w"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: s, namespace: ns}}
data: {{k: {base64.b64encode(b"hidden").decode()}}}
stringData: {{plain: "shh"}}
"""
    documents = load_text(text).documents
    objects = {(d.namespace, d.name): d for d in documents[1:]}
    configmaps = {k: d for k, d in objects.items() if d.kind == "ConfigMap"}
    secrets = {k: d for k, d in objects.items() if d.kind == "Secret"}
    env = container_env(FieldReader(documents[0]), ("spec", "containers", 0), "ns", configmaps, secrets)
    assert env.values() == {"B_KEY": "v", "A": "later wins", "B": "x-$(UNDEFINED)-$(A)-v",
                            "NS": "ns", "S": "hidden", "SS": "shh"}
    assert set(env.secret_values()) == {"hidden", "shh"}
    assert "spec.nodeName" in env.variables["NODE"].unresolved
    assert "has no key nope (optional" in env.variables["GONE"].unresolved
    assert env.unknown_sources
    assert "not-in-input" in env.unknown_sources[0]
    assert redact("a hidden b shh", env.secret_values()) == f"a {REDACTED} b {REDACTED}"
