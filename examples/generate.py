"""Writes the example clusters in this folder (run: python examples/generate.py).

Each example is a folder a user can check: manifests (*.yaml) and kalc.yaml.
The numbers, and where each comes from, are in each folder's README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE.parent))

from benchmarks.manifest_text import (  # noqa: E402
    coredns_deployment,
    corefile_configmap,
    dns_service,
    hpa,
    indented,
    workload,
)

COREFILE_AUTOPATH = """\
.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods verified
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    autopath @kubernetes
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""

COREFILE_PLAIN = COREFILE_AUTOPATH.replace("        pods verified\n", "        pods insecure\n").replace(
    "    autopath @kubernetes\n", ""
)

COREFILE_PLAIN_SIZED = COREFILE_PLAIN.replace(
    "    cache 30\n", "    cache 30 {\n        denial 40000\n    }\n"
)
"""Autopath off with a denial cache that holds every negative key: 400 namespaces x
20 names x 2 qtypes per namespace search candidate, plus the shared ones."""

COREFILE_AUTOPATH_SIZED = COREFILE_AUTOPATH.replace(
    "    cache 30\n", "    cache 30 {\n        denial 40000\n    }\n"
)
"""The same cache with autopath on: the pull request `diff` reviews in README."""


def coredns(version: str, replicas: int) -> str:
    return coredns_deployment(version, replicas, max_unavailable=1) + "---\n" + dns_service()


def workloads(namespaces: int, replicas: int, max_replicas: int) -> str:
    docs = []
    for index in range(namespaces):
        ns = f"team-{index:03d}"
        docs.append(
            workload("api", ns, replicas, image="registry.example.com/api:2.3.1")
            + "---\n" + hpa("api", ns, replicas, max_replicas)
        )
    return "---\n".join(docs)


def write(folder: str, files: dict[str, str]) -> None:
    target = HERE / folder
    target.mkdir(exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(text)


INCIDENT_ENV = """\
# The environment of the incident cluster: see README.md for where each number comes from.
coredns:
  skew: 0.1            # kube-proxy spreads queries over replicas unevenly (K7)
cluster:
  nodes: 2000
  node_search: [ec2.internal]          # EKS in us-east-1 (H7)
  node_nameservers: [169.254.169.253]  # the Amazon-provided DNS (I1)
upstreams:
  - address: node
    limit: 1024        # packets/s per network interface (AWS, I1)
    scope: node
names:
  - id: external-apis
    example: api.partner.example.com
    count: 20          # SaaS APIs, metrics and tracing endpoints each service calls
    ttl: 5             # short TTLs, as many cloud endpoints have
    negative_ttl: 60
lookups:
  - pods: {}
    names: [external-apis]
    rate: 0.02         # per pod per name: 0.4 lookups/s per pod at baseline
    surge_rate: 0.06   # a traffic spike: 3x the lookups per pod
check:
  horizon: 60
"""

ASSUMED_ENV = INCIDENT_ENV.replace(
    "coredns:\n",
    "coredns:\n"
    "  shard_balance: even  # ASSUMPTION: keys spread evenly over the cache's 256 shards (D3)\n",
) + """\
  arrivals: spread     # ASSUMPTION: no 20 ms holds more than twice its share of a key's queries
  burst: 2
  reply_ms: 20         # the slowest upstream reply measured against real CoreDNS
"""


NODELOCAL_COREFILE = """\
cluster.local:53 {
    errors
    cache {
        success 9984 30
        denial 9984 5
    }
    reload
    loop
    bind 169.254.20.10 10.100.0.10
    forward . 10.100.0.11 {
        force_tcp
    }
    prometheus :9253
    health 169.254.20.10:8080
}
in-addr.arpa:53 {
    errors
    cache 30
    reload
    loop
    bind 169.254.20.10 10.100.0.10
    forward . 10.100.0.11 {
        force_tcp
    }
    prometheus :9253
}
ip6.arpa:53 {
    errors
    cache 30
    reload
    loop
    bind 169.254.20.10 10.100.0.10
    forward . 10.100.0.11 {
        force_tcp
    }
    prometheus :9253
}
.:53 {
    errors
    cache 30
    reload
    loop
    bind 169.254.20.10 10.100.0.10
    forward . /etc/resolv.conf
    prometheus :9253
}
"""


def nodelocal() -> str:
    body = indented(NODELOCAL_COREFILE)
    return f"""\
# NodeLocal DNSCache as cluster/addons/dns/nodelocaldns/nodelocaldns.yaml, with its
# __PILLAR__ placeholders filled in: local IP 169.254.20.10, kube-dns 10.100.0.10,
# kube-dns-upstream 10.100.0.11, upstream servers /etc/resolv.conf (J1-J3).
apiVersion: v1
kind: Service
metadata:
  name: kube-dns-upstream
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  selector:
    k8s-app: kube-dns
  clusterIP: 10.100.0.11
  ports:
  - name: dns
    port: 53
    protocol: UDP
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: node-local-dns
  namespace: kube-system
data:
  Corefile: |
{body}---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-local-dns
  namespace: kube-system
  labels:
    k8s-app: node-local-dns
spec:
  selector:
    matchLabels:
      k8s-app: node-local-dns
  template:
    metadata:
      labels:
        k8s-app: node-local-dns
    spec:
      hostNetwork: true
      dnsPolicy: Default
      containers:
      - name: node-cache
        image: registry.k8s.io/dns/k8s-dns-node-cache:1.23.1
        args: ["-localip", "169.254.20.10,10.100.0.10", "-conf", "/etc/Corefile",
               "-upstreamsvc", "kube-dns-upstream"]
        volumeMounts:
        - name: config-volume
          mountPath: /etc/coredns
      volumes:
      - name: config-volume
        configMap:
          name: node-local-dns
          items:
          - key: Corefile
            path: Corefile.base
"""



SMALL_DNS_CONFIG = """\
      dnsConfig:
        options:
        - name: ndots
          value: "2"
"""

SMALL_WORKLOADS = (
    workload("shop", "shop", 6, image="registry.example.com/shop:1.4.0", pod_spec=SMALL_DNS_CONFIG)
    + "---\n"
    + workload("payments", "shop", 3, image="registry.example.com/payments:3.0.2",
               pod_spec=SMALL_DNS_CONFIG)
    + "---\n"
    + hpa("shop", "shop", 6, 20)
)

SMALL_ENV = """\
# A small cluster: 3 nodes in eu-west-1, CoreDNS without autopath, clients with ndots:2.
cluster:
  nodes: 3
  node_search: [eu-west-1.compute.internal]
  node_nameservers: [10.0.0.2]
upstreams:
  - address: node
    limit: 1024
    scope: node
names:
  - id: payment-api
    example: api.stripe.com
    ttl: 60
  - id: orders
    service: orders
    namespace: shop
    form: namespaced
lookups:
  - pods: {namespace: shop}
    names: [payment-api, orders]
    rate: 2
    surge_rate: 20
check:
  horizon: 60
"""


BLIPS_ENV = INCIDENT_ENV.replace(
    "    scope: node\n",
    "    scope: node\n    outage_steps: 5     # the upstream may answer nothing for 5 one-second steps\n",
).replace(
    "check:\n",
    "surge:\n  max_steps: 0         # no surge: baseline load only\ncheck:\n",
)

CAPACITY_ENV = INCIDENT_ENV.replace(
    "coredns:\n",
    "coredns:\n"
    "  capacity_qps: 5000  # client queries/s one replica serves: Alibaba's managed CoreDNS\n"
    "                      # figure (I4); measure your own. Decides server-load.\n",
)

NAMESPACES = 400
PODS_PER_NAMESPACE = 25
MAX_PODS_PER_NAMESPACE = 75
COREDNS_REPLICAS = 30


def main() -> None:
    common = {"workloads.yaml": workloads(NAMESPACES, PODS_PER_NAMESPACE, MAX_PODS_PER_NAMESPACE),
              "kalc.yaml": CAPACITY_ENV}
    write("datadog-autopath", {
        "coredns-configmap.yaml": corefile_configmap(COREFILE_AUTOPATH),
        "coredns.yaml": coredns("1.11.1", COREDNS_REPLICAS),
        **common,
    })
    write("datadog-autopath-off", {
        "coredns-configmap.yaml": corefile_configmap(COREFILE_PLAIN),
        "coredns.yaml": coredns("1.11.1", COREDNS_REPLICAS),
        **common,
    })
    write("datadog-autopath-off-sized", {
        "coredns-configmap.yaml": corefile_configmap(COREFILE_PLAIN_SIZED),
        "coredns.yaml": coredns("1.11.1", COREDNS_REPLICAS),
        "workloads.yaml": common["workloads.yaml"],
        "kalc.yaml": ASSUMED_ENV,
    })
    write("datadog-autopath-sized", {
        "coredns-configmap.yaml": corefile_configmap(COREFILE_AUTOPATH_SIZED),
        "coredns.yaml": coredns("1.11.1", COREDNS_REPLICAS),
        "workloads.yaml": common["workloads.yaml"],
        "kalc.yaml": ASSUMED_ENV,
    })
    write("upstream-blips", {
        "coredns-configmap.yaml": corefile_configmap(COREFILE_PLAIN),
        "coredns.yaml": coredns("1.11.1", COREDNS_REPLICAS),
        "workloads.yaml": common["workloads.yaml"],
        "kalc.yaml": BLIPS_ENV,
    })
    write("nodelocal-dns", {
        "coredns-configmap.yaml": corefile_configmap(COREFILE_AUTOPATH),
        "coredns.yaml": coredns("1.11.1", COREDNS_REPLICAS),
        "nodelocaldns.yaml": nodelocal(),
        "workloads.yaml": common["workloads.yaml"],
        "kalc.yaml": ASSUMED_ENV,
    })
    write("small-cluster", {
        "coredns-configmap.yaml": corefile_configmap(COREFILE_PLAIN),
        "coredns.yaml": coredns("1.14.7", 2),
        "workloads.yaml": SMALL_WORKLOADS,
        "kalc.yaml": SMALL_ENV,
    })


if __name__ == "__main__":
    main()
