"""Writes the example clusters in this folder (run: python examples/generate.py).

Each example is a folder a user can check: manifests (*.yaml) and kalc.yaml.
The numbers, and where each comes from, are in each folder's README.md.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

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


def configmap(corefile: str) -> str:
    body = "".join(f"    {line}\n" if line else "\n" for line in corefile.splitlines())
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
{body}"""


def coredns(version: str, replicas: int) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: {replicas}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      dnsPolicy: Default
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels:
                k8s-app: kube-dns
            topologyKey: kubernetes.io/hostname
      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v{version}
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
  labels:
    k8s-app: kube-dns
spec:
  selector:
    k8s-app: kube-dns
  clusterIP: 10.100.0.10
  ports:
  - name: dns
    port: 53
    protocol: UDP
  - name: dns-tcp
    port: 53
    protocol: TCP
"""


def workloads(namespaces: int, replicas: int, max_replicas: int) -> str:
    docs = []
    for index in range(namespaces):
        ns = f"team-{index:03d}"
        docs.append(f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
      - name: api
        image: registry.example.com/api:2.3.1
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
  namespace: {ns}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  minReplicas: {replicas}
  maxReplicas: {max_replicas}
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}
""")
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


def main() -> None:
    common = {"workloads.yaml": workloads(100, 10, 30), "kalc.yaml": INCIDENT_ENV}
    write("datadog-autopath", {
        "coredns-configmap.yaml": configmap(COREFILE_AUTOPATH),
        "coredns.yaml": coredns("1.11.1", 10),
        **common,
    })
    write("datadog-autopath-off", {
        "coredns-configmap.yaml": configmap(COREFILE_PLAIN),
        "coredns.yaml": coredns("1.11.1", 10),
        **common,
    })


if __name__ == "__main__":
    main()
