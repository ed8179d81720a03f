"""Small generated clusters: a ClusterSpec, rendered as the manifests and kalc.yaml a user would write.

`render` writes the files `kalc-formal check` reads; the reference simulator
reads the same ClusterSpec. `random_spec` varies what issue 6's defects vary:
cache capacity and options, placement rules, NodeLocal DNSCache, hostNetwork
and dnsPolicy Default pods, DaemonSets, scopes, replicas per node, skew,
restarts and surges.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

from tests.oracle.spec import (
    CacheSpec,
    ClusterSpec,
    LookupClass,
    NameClass,
    WorkloadSpec,
)

COREDNS_LABEL = {"k8s-app": "kube-dns"}


def corefile(spec: ClusterSpec) -> str:
    cache = spec.cache
    cache_options: list[str] = []
    if cache.success_capacity is not None or cache.success_min_ttl is not None:
        line = f"success {cache.success_capacity or 9984}"
        if cache.success_min_ttl is not None:
            line += f" {cache.ttl or 3600} {cache.success_min_ttl}"
        cache_options.append(line)
    if cache.denial_capacity is not None or cache.denial_min_ttl is not None:
        line = f"denial {cache.denial_capacity or 9984}"
        if cache.denial_min_ttl is not None:
            line += f" {cache.ttl or 1800} {cache.denial_min_ttl}"
        cache_options.append(line)
    cache_line = "cache" + (f" {cache.ttl}" if cache.ttl is not None else "")
    if cache_options:
        cache_line += " {\n" + "".join(f"            {o}\n" for o in cache_options) + "        }"
    pods = "verified" if spec.autopath else "insecure"
    autopath = "        autopath @kubernetes\n" if spec.autopath else ""
    return (
        ".:53 {\n"
        "        errors\n"
        "        health\n"
        "        ready\n"
        f"        kubernetes {spec.cluster_domain} in-addr.arpa ip6.arpa {{\n"
        f"            pods {pods}\n"
        "            fallthrough in-addr.arpa ip6.arpa\n"
        f"            ttl {spec.kubernetes_ttl}\n"
        "        }\n"
        f"{autopath}"
        "        prometheus :9153\n"
        "        forward . /etc/resolv.conf\n"
        f"        {cache_line}\n"
        "        loop\n"
        "        reload\n"
        "        loadbalance\n"
        "    }\n"
    )


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


def _coredns(spec: ClusterSpec) -> str:
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\n"
        "data:\n  Corefile: |\n    " + corefile(spec).rstrip("\n").replace("\n", "\n") + "\n"
    )
    template: dict[str, Any] = {
        "metadata": {"labels": dict(COREDNS_LABEL)},
        "spec": {
            "dnsPolicy": "Default",
            "containers": [{
                "name": "coredns", "image": f"registry.k8s.io/coredns/coredns:v{spec.version}",
                "args": ["-conf", "/etc/coredns/Corefile"],
                "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns"}],
            }],
            "volumes": [{"name": "config-volume", "configMap": {"name": "coredns"}}],
        },
    }
    if spec.coredns_anti_affinity:
        template["spec"]["affinity"] = _anti_affinity(COREDNS_LABEL)
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(COREDNS_LABEL)},
        "spec": {"replicas": spec.coredns_replicas, "selector": {"matchLabels": dict(COREDNS_LABEL)},
                 "template": template},
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": dict(COREDNS_LABEL)},
        "spec": {"selector": dict(COREDNS_LABEL), "clusterIP": spec.dns_ip,
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]},
    }
    return configmap + "---\n" + yaml.safe_dump_all([deployment, service], sort_keys=False)


def _anti_affinity(labels: dict[str, str]) -> dict[str, Any]:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": dict(labels)}, "topologyKey": "kubernetes.io/hostname"}]}}


NODELOCAL_COREFILE = """cluster.local:53 {{
    errors
    cache {{
        success 9984 30
        denial 9984 5
    }}
    reload
    loop
    bind 169.254.20.10 {dns_ip}
    forward . 10.100.0.11 {{
        force_tcp
    }}
    prometheus :9253
    health 169.254.20.10:8080
}}
.:53 {{
    errors
    cache 30
    reload
    loop
    bind 169.254.20.10 {dns_ip}
    forward . /etc/resolv.conf
    prometheus :9253
}}
"""


def _nodelocal(spec: ClusterSpec) -> str:
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns-upstream", "namespace": "kube-system", "labels": dict(COREDNS_LABEL)},
        "spec": {"selector": dict(COREDNS_LABEL), "clusterIP": "10.100.0.11",
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]},
    }
    configmap = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "node-local-dns", "namespace": "kube-system"},
        "data": {"Corefile": NODELOCAL_COREFILE.format(dns_ip=spec.dns_ip)},
    }
    labels = {"k8s-app": "node-local-dns"}
    daemonset = {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "node-local-dns", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {"selector": {"matchLabels": dict(labels)}, "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {"hostNetwork": True, "dnsPolicy": "Default", "containers": [{
                "name": "node-cache", "image": "registry.k8s.io/dns/k8s-dns-node-cache:1.23.1",
                "args": ["-localip", f"169.254.20.10,{spec.dns_ip}", "-conf", "/etc/Corefile",
                         "-upstreamsvc", "kube-dns-upstream"],
                "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns"}]}],
                "volumes": [{"name": "config-volume", "configMap": {
                    "name": "node-local-dns", "items": [{"key": "Corefile", "path": "Corefile.base"}]}}]}}},
    }
    return yaml.safe_dump_all([service, configmap, daemonset], sort_keys=False)


def _workloads(spec: ClusterSpec) -> str:
    documents: list[dict[str, Any]] = []
    for w in spec.workloads:
        labels = {"app": w.name, "kf-class": w.label}
        pod: dict[str, Any] = {"containers": [{"name": w.name, "image": f"registry.example.com/{w.name}:1.0"}]}
        if w.host_network:
            pod["hostNetwork"] = True
        if w.dns_policy != "ClusterFirst":
            pod["dnsPolicy"] = w.dns_policy
        if w.ndots is not None:
            pod["dnsConfig"] = {"options": [{"name": "ndots", "value": str(w.ndots)}]}
        if w.anti_affinity:
            pod["affinity"] = _anti_affinity({"app": w.name})
        body: dict[str, Any] = {"selector": {"matchLabels": {"app": w.name}},
                                "template": {"metadata": {"labels": labels}, "spec": pod}}
        if not w.daemonset:
            body = {"replicas": w.replicas, **body}
        documents.append({"apiVersion": "apps/v1", "kind": "DaemonSet" if w.daemonset else "Deployment",
                          "metadata": {"name": w.name, "namespace": w.namespace}, "spec": body})
        if w.hpa_max is not None and not w.daemonset:
            documents.append({
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": w.name, "namespace": w.namespace},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": w.name},
                         "minReplicas": w.replicas, "maxReplicas": w.hpa_max,
                         "metrics": [{"type": "Resource", "resource": {
                             "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}})
    return yaml.safe_dump_all(documents, sort_keys=False)


def kalc_yaml(spec: ClusterSpec) -> dict[str, Any]:
    env: dict[str, Any] = {
        "coredns": {"skew": spec.skew, "restarts": spec.restarts},
        "cluster": {"nodes": spec.nodes, "node_search": list(spec.node_search),
                    "node_nameservers": [spec.node_nameserver]},
        "upstreams": [{"address": "node", "limit": spec.limit, "scope": spec.scope}],
        "names": [{"id": n.id, "example": n.example, "count": n.count, "ttl": n.ttl,
                   "negative_ttl": n.negative_ttl, "aaaa": n.aaaa} for n in spec.names],
        "lookups": [{"pods": {"labels": {"kf-class": lk.label}}, "names": list(lk.names),
                     "rate": lk.rate, "surge_rate": lk.surge_rate, "libc": lk.libc} for lk in spec.lookups],
        "check": {"horizon": spec.horizon, "initial_cache": spec.initial_cache},
    }
    if spec.surge_max_steps is not None:
        env["surge"] = {"max_steps": spec.surge_max_steps}
    if spec.capacity_qps is not None:
        env["coredns"]["capacity_qps"] = spec.capacity_qps
    if spec.nodelocal_capacity_qps is not None:
        env["nodelocal"] = {"capacity_qps": spec.nodelocal_capacity_qps}
    return env


def render(spec: ClusterSpec, folder: Path) -> Path:
    """Write the cluster's files into `folder` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "coredns.yaml").write_text(_coredns(spec))
    (folder / "workloads.yaml").write_text(_workloads(spec))
    if spec.nodelocal:
        (folder / "nodelocaldns.yaml").write_text(_nodelocal(spec))
    (folder / "kalc.yaml").write_text(yaml.safe_dump(kalc_yaml(spec), sort_keys=False))
    return folder


# --- random clusters -------------------------------------------------------------------------


def random_spec(rng: random.Random, index: int) -> ClusterSpec:
    """A small random cluster; every choice is one issue 6 names."""
    version = rng.choice(["1.11.1", "1.14.6", "1.14.7"])
    nodes = rng.choice([2, 3, 5, 10, 20])
    autopath = rng.random() < 0.35
    nodelocal = (not autopath) and rng.random() < 0.3
    capacity = rng.choice([None, None, 1024, 2048, 4096])
    cache = CacheSpec(
        ttl=rng.choice([30, 30, 60, None]),
        success_capacity=rng.choice([None, None, 1024]),
        denial_capacity=capacity,
        denial_min_ttl=rng.choice([None, None, 2]),
    )
    names: list[NameClass] = []
    for n in range(rng.choice([1, 1, 2])):
        names.append(NameClass(
            id=f"ext{n}", example=rng.choice(["api.partner.example.com", "metrics.vendor.io", "db"
                                              ".prod.example.net"]),
            count=rng.choice([1, 5, 20, 50]), ttl=rng.choice([5, 10, 30, 60]),
            negative_ttl=rng.choice([5, 30, 60]), aaaa=rng.random() < 0.3))
    workloads: list[WorkloadSpec] = []
    lookups: list[LookupClass] = []
    for c in range(rng.choice([1, 1, 2])):
        kind = rng.choice(["plain", "plain", "many-ns", "hostnet", "default", "daemonset"])
        label = f"c{c}"
        namespaces = rng.choice([3, 10, 40]) if kind == "many-ns" else 1
        replicas = rng.choice([2, 5, 10, 30])
        for k in range(namespaces):
            workloads.append(WorkloadSpec(
                name=f"app{c}", namespace=f"team{c}-{k:02d}", replicas=replicas, label=label,
                daemonset=kind == "daemonset",
                host_network=kind == "hostnet",
                dns_policy="Default" if kind == "default" else "ClusterFirst",
                ndots=rng.choice([None, None, 2]),
                hpa_max=replicas * 3 if rng.random() < 0.3 and kind != "daemonset" else None,
                anti_affinity=rng.random() < 0.3 and kind != "daemonset"))
        rate = rng.choice([0.05, 0.2, 1.0, 3.0])
        lookups.append(LookupClass(
            label=label, names=tuple(n.id for n in names), rate=rate,
            surge_rate=rate * rng.choice([1, 2, 5]), libc=rng.choice(["glibc", "glibc", "musl", "go"])))
    pods = sum(max(w.replicas, w.hpa_max or 0) for w in workloads if not w.daemonset)
    spread = max([max(w.replicas, w.hpa_max or 0) for w in workloads if w.anti_affinity] or [0])
    nodes = max(nodes, -(-pods // 90) + spread)
    lookups = _within_load(lookups, workloads, names, nodes)
    replicas = rng.choice([1, 2, 3, 5])
    nodes = max(nodes, replicas)
    return ClusterSpec(
        name=f"gen{index:03d}", nodes=nodes, workloads=tuple(workloads), names=tuple(names),
        lookups=tuple(lookups), version=version, coredns_replicas=replicas,
        coredns_anti_affinity=rng.random() < 0.6, cache=cache, autopath=autopath,
        kubernetes_ttl=rng.choice([5, 30]), nodelocal=nodelocal,
        limit=rng.choice([50, 100, 200, 400, 1024]), scope=rng.choice(["node", "node", "pod", "cluster"]),
        skew=rng.choice([0.0, 0.1, 0.5]), restarts=rng.choice([0, 0, 1]),
        surge_max_steps=rng.choice([None, 0, 2]), horizon=rng.choice([8, 12]),
        initial_cache=rng.choice(["warm", "warm", "cold"]))


PEAK_LOOKUPS_PER_SECOND = 300
MIN_PEAK_LOOKUPS = 20
"""Generated clusters stay below this many lookups per second at peak, so one simulated run
takes well under a second."""


def _within_load(lookups: list[LookupClass], workloads: list[WorkloadSpec], names: list[NameClass],
                 nodes: int) -> list[LookupClass]:
    scaled: list[LookupClass] = []
    for lk in lookups:
        pods = sum(nodes if w.daemonset else max(w.replicas, w.hpa_max or 0)
                   for w in workloads if w.label == lk.label)
        instances = sum(n.count for n in names if n.id in lk.names)
        peak = pods * instances * lk.surge_rate
        budget = PEAK_LOOKUPS_PER_SECOND / len(lookups)
        if peak > budget or peak < MIN_PEAK_LOOKUPS:
            factor = (budget if peak > budget else MIN_PEAK_LOOKUPS) / peak
            lk = LookupClass(lk.label, lk.names, round(lk.rate * factor, 4) or 0.0001,
                             round(lk.surge_rate * factor, 4) or 0.0001, lk.libc)
        scaled.append(lk)
    return scaled
