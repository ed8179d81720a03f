"""The platform team's own generator: the DNS part of a cluster for N team namespaces.

Each team namespace runs one `api` Deployment (25 pods, up to 75 with its HPA) that
calls 20 external APIs. `cluster_objects` returns the objects in memory; `write_cluster`
writes them to a folder, as the team's pipeline does before `kubectl apply`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COREFILE = """\
.:53 {{
    errors
    health
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        pods {pods}
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
{autopath}    prometheus :9153
    forward . /etc/resolv.conf {{
        max_concurrent 1000
    }}
    cache 30{cache_options}
    loop
    reload
    loadbalance
}}
"""


def corefile(*, autopath: bool, denial: int | None = None) -> str:
    return COREFILE.format(
        pods="verified" if autopath else "insecure",
        autopath="    autopath @kubernetes\n" if autopath else "",
        cache_options=f" {{\n        denial {denial}\n    }}" if denial else "",
    )


def team_namespace(index: int) -> list[dict[str, Any]]:
    namespace = f"team-{index:03d}"
    labels = {"app": "api"}
    return [
        {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": namespace},
            "spec": {
                "replicas": 25, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels},
                             "spec": {"containers": [{"name": "api", "image": "api:2.3.1"}]}},
            },
        },
        {
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "api", "namespace": namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
                     "minReplicas": 25, "maxReplicas": 75},
        },
    ]


def coredns(version: str, replicas: int) -> list[dict[str, Any]]:
    """The CoreDNS Deployment (one replica per node: required anti-affinity) and Service."""
    labels = {"k8s-app": "kube-dns"}
    spec = {
        "dnsPolicy": "Default",
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"},
        ]}},
        "containers": [{"name": "coredns", "image": f"registry.k8s.io/coredns/coredns:v{version}",
                        "args": ["-conf", "/etc/coredns/Corefile"]}],
    }
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": spec}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
         "spec": {"selector": labels, "clusterIP": "10.100.0.10",
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}},
    ]


def kalc_yaml(*, assume_spread: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "coredns": {"skew": 0.1},
        "cluster": {"nodes": 2000, "node_search": ["ec2.internal"],
                    "node_nameservers": ["169.254.169.253"]},
        "upstreams": [{"address": "node", "limit": 1024, "scope": "node"}],
        "names": [{"id": "external-apis", "example": "api.partner.example.com", "count": 20,
                   "ttl": 5, "negative_ttl": 60}],
        "lookups": [{"pods": {}, "names": ["external-apis"], "rate": 0.02, "surge_rate": 0.06}],
    }
    if assume_spread:
        # Assumptions the team checked on its clusters (the report lists them):
        # keys spread evenly over the cache's shards, queries spread within a second.
        spec["coredns"]["shard_balance"] = "even"
        spec["check"] = {"arrivals": "spread", "burst": 2, "reply_ms": 20}
    return spec


def cluster_objects(
    namespaces: int, *, coredns_version: str = "1.11.1", autopath: bool = True,
    denial: int | None = None, replicas: int = 20, assume_spread: bool = False,
) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    """(manifests, Corefile, kalc.yaml) for ``namespaces`` team namespaces."""
    manifests = coredns(coredns_version, replicas)
    manifests += [m for i in range(namespaces) for m in team_namespace(i)]
    return (manifests, corefile(autopath=autopath, denial=denial),
            kalc_yaml(assume_spread=assume_spread))


def write_cluster(folder: Path, namespaces: int, **options: Any) -> Path:
    """Write the cluster's manifests, Corefile and kalc.yaml into ``folder``."""
    manifests, text, env = cluster_objects(namespaces, **options)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "workloads.yaml").write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    (folder / "Corefile").write_text(text)
    (folder / "kalc.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    return folder
