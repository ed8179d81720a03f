"""Small clusters for the suggest tests: each unsafe, with one kind of fix that helps."""

from pathlib import Path

COREFILE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
    .:53 {{
        errors
        kubernetes cluster.local in-addr.arpa ip6.arpa {{
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }}
        forward . /etc/resolv.conf
        {cache}
        loop
        reload
    }}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
{affinity}      dnsPolicy: Default
      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v1.14.7
        args: ["-conf", "/etc/coredns/Corefile"]
        volumeMounts:
        - name: config-volume
          mountPath: /etc/coredns
      volumes:
      - name: config-volume
        configMap:
          name: coredns
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  selector:
    k8s-app: kube-dns
  clusterIP: 10.96.0.10
  ports:
  - name: dns
    port: 53
    protocol: UDP
"""

ANTI_AFFINITY = """      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels:
                k8s-app: kube-dns
            topologyKey: kubernetes.io/hostname
"""

CLIENTS = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  namespace: shop
spec:
  replicas: {pods}
  selector:
    matchLabels: {{app: shop}}
  template:
    metadata:
      labels: {{app: shop}}
    spec:
{dns_config}      containers:
      - name: shop
        image: registry.example.com/shop:1.4.0
"""

ENV = """{coredns}cluster:
  nodes: {nodes}
  node_search: [eu-west-1.compute.internal]
  node_nameservers: [10.0.0.2]
upstreams:
  - address: node
    limit: {limit}
    scope: node
names:
  - id: partner
    example: api.partner.example.com
    count: {names}
    ttl: {ttl}
lookups:
  - pods: {{namespace: shop}}
    names: [partner]
    rate: {rate}
    surge_rate: {surge_rate}
check:
  horizon: 20
  arrivals: spread
  burst: 2
  reply_ms: 20
"""


def write_cluster(folder: Path, *, cache: str = "cache 30", replicas: int = 2,
                  anti_affinity: bool = True, pods: int = 10, nodes: int = 6,
                  limit: int = 100, names: int = 10, ttl: int = 30, rate: float = 1,
                  surge_rate: float = 1, ndots: int | None = 1,
                  capacity_qps: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "coredns-configmap.yaml").write_text(COREFILE.format(cache=cache))
    (folder / "coredns.yaml").write_text(DEPLOYMENT.format(
        replicas=replicas, affinity=ANTI_AFFINITY if anti_affinity else ""))
    dns_config = "" if ndots is None else (
        f'      dnsConfig:\n        options:\n        - name: ndots\n          value: "{ndots}"\n')
    (folder / "workloads.yaml").write_text(CLIENTS.format(pods=pods, dns_config=dns_config))
    (folder / "kalc.yaml").write_text(ENV.format(
        nodes=nodes, limit=limit, names=names, ttl=ttl, rate=rate, surge_rate=surge_rate,
        coredns="" if capacity_qps is None else f"coredns:\n  capacity_qps: {capacity_qps}\n"))
    return folder
