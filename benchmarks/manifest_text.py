"""Manifest text for generated clusters: the examples (examples/generate.py), the scale
benchmark's synthetic clusters (benchmarks/synthetic.py) and the tests that write their
own clusters (tests/test_placement.py) all write their objects with these functions.

Each function returns one or more YAML documents as text, ending in a newline, without
a leading ``---``; join documents with ``"---\\n"``.
"""

from __future__ import annotations

__all__ = [
    "COREDNS_APART",
    "coredns_deployment",
    "corefile_configmap",
    "dns_service",
    "hpa",
    "indented",
    "namespace",
    "service",
    "workload",
]

COREDNS_APART = """\
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels:
                k8s-app: kube-dns
            topologyKey: kubernetes.io/hostname
"""
"""CoreDNS replicas on different nodes (a required pod anti-affinity), as kubeadm and
the managed clusters deploy them."""


def indented(text: str, spaces: int = 4) -> str:
    """``text`` with every non-empty line indented (a block scalar's body)."""
    return "".join(f"{' ' * spaces}{line}\n" if line else "\n" for line in text.splitlines())


def corefile_configmap(corefile: str, name: str = "coredns") -> str:
    """A ConfigMap in kube-system whose ``Corefile`` key holds ``corefile``."""
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: kube-system
data:
  Corefile: |
{indented(corefile)}"""


def coredns_deployment(
    version: str,
    replicas: int,
    *,
    max_unavailable: int | None = None,
    rules: str = COREDNS_APART,
    args: bool = True,
) -> str:
    """The CoreDNS Deployment (image ``coredns:v<version>``) mounting the ``coredns``
    ConfigMap; ``rules``: pod-spec lines that place it (anti-affinity, spread);
    ``max_unavailable``: a RollingUpdate strategy with that maxUnavailable."""
    strategy = "" if max_unavailable is None else f"""\
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: {max_unavailable}
"""
    conf = '        args: ["-conf", "/etc/coredns/Corefile"]\n' if args else ""
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
{strategy}  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      dnsPolicy: Default
{rules}      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v{version}
{conf}        volumeMounts:
        - name: config-volume
          mountPath: /etc/coredns
      volumes:
      - name: config-volume
        configMap:
          name: coredns
"""


def dns_service(*, labels: bool = True, protocols: tuple[str, ...] = ("UDP", "TCP")) -> str:
    """The kube-dns Service (10.100.0.10) selecting the CoreDNS pods, port 53 over
    ``protocols``."""
    label_lines = "  labels:\n    k8s-app: kube-dns\n" if labels else ""
    ports = "".join(
        f"  - name: {'dns' if protocol == 'UDP' else 'dns-' + protocol.lower()}\n"
        f"    port: 53\n    protocol: {protocol}\n"
        for protocol in protocols
    )
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
{label_lines}spec:
  selector:
    k8s-app: kube-dns
  clusterIP: 10.100.0.10
  ports:
{ports}"""


def namespace(name: str) -> str:
    return f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: {name}
"""


def workload(
    name: str,
    namespace: str,
    replicas: int | None,
    *,
    image: str,
    kind: str = "Deployment",
    labels: str = "",
    pod_spec: str = "",
    container: str = "",
) -> str:
    """A workload of one container whose pods carry ``app: <name>``.

    ``replicas``: None writes no ``spec.replicas`` (a DaemonSet); ``labels``: more
    labels, as flow-mapping entries (``tier: web``), on the object and its pods;
    ``pod_spec``: pod-spec lines before ``containers``; ``container``: lines after the
    container's image.
    """
    pod_labels = f"{{app: {name}{', ' + labels if labels else ''}}}"
    object_labels = f"  labels: {pod_labels}\n" if labels else ""
    count = "" if replicas is None else f"  replicas: {replicas}\n"
    return f"""\
apiVersion: apps/v1
kind: {kind}
metadata:
  name: {name}
  namespace: {namespace}
{object_labels}spec:
{count}  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {pod_labels}
    spec:
{pod_spec}      containers:
      - name: {name}
        image: {image}
{container}"""


def service(name: str, namespace: str, *, port: int, target_port: int) -> str:
    """A Service selecting the pods of :func:`workload` ``name``."""
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
spec:
  selector: {{app: {name}}}
  ports:
  - port: {port}
    targetPort: {target_port}
"""


def hpa(name: str, namespace: str, min_replicas: int, max_replicas: int) -> str:
    """An autoscaling/v2 HPA on CPU for the Deployment ``name``."""
    return f"""\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  namespace: {namespace}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  minReplicas: {min_replicas}
  maxReplicas: {max_replicas}
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}
"""
