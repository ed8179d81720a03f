import io
import os
import textwrap

import pytest

from kalc_formal.errors import ConfigErrors
from kalc_formal.kubernetes.cluster import (
    LadderParams,
    LinearParams,
    ScaleTarget,
    build_cluster,
    coredns_version,
    read_cluster,
    resolve_fenceposts,
)
from kalc_formal.kubernetes.manifests import load_text

DATA = os.path.join(os.path.dirname(__file__), "data", "manifests")


def build(source, path="c.yaml"):
    loaded = load_text(textwrap.dedent(source).lstrip("\n"), path)
    assert loaded.errors == (), [str(e) for e in loaded.errors]
    return build_cluster(loaded.documents)


def cluster_of(source):
    result = build(source)
    assert result.errors == (), [str(e) for e in result.errors]
    return result.cluster


def errors_of(source):
    return [(str(e.span), e.message) for e in build(source).errors]


POD = """
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: ns
spec:
  containers:
  - name: c
    image: busybox
"""


# ---------------------------------------------------------------- workloads


def test_every_workload_kind_with_replica_defaults():
    cluster = cluster_of("""
        apiVersion: v1
        kind: Pod
        metadata: {name: pod}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: dep, namespace: a}
        ---
        apiVersion: extensions/v1beta1
        kind: Deployment
        metadata: {name: old-dep, namespace: a}
        spec: {replicas: 7}
        ---
        apiVersion: apps/v1beta2
        kind: StatefulSet
        metadata: {name: sts, namespace: a}
        spec: {replicas: 0}
        ---
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: rs, namespace: a}
        ---
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: rc, namespace: a}
        spec: {replicas: 2}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: ds, namespace: a}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: job, namespace: a}
        spec: {parallelism: 3}
        ---
        apiVersion: batch/v1beta1
        kind: CronJob
        metadata: {name: cron, namespace: a}
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  dnsPolicy: Default
        """)
    summary = [
        (w.kind, w.name, w.namespace, w.replicas, w.per_node, w.replicas_defaulted)
        for w in cluster.workloads
    ]
    assert summary == [
        ("Pod", "pod", "default", 1, False, False),
        ("Deployment", "dep", "a", 1, False, True),
        ("Deployment", "old-dep", "a", 7, False, False),
        ("StatefulSet", "sts", "a", 0, False, False),
        ("ReplicaSet", "rs", "a", 1, False, True),
        ("ReplicationController", "rc", "a", 2, False, False),
        ("DaemonSet", "ds", "a", None, True, False),
        ("Job", "job", "a", 3, False, False),
        ("CronJob", "cron", "a", 1, False, True),
    ]
    assert cluster.workloads[0].namespace_defaulted
    assert not cluster.workloads[1].namespace_defaulted
    assert [w.dns.policy.value for w in cluster.workloads] == ["ClusterFirst"] * 8 + [
        "Default"
    ]
    assert cluster.workloads[0].dns.policy_defaulted
    assert not cluster.workloads[8].dns.policy_defaulted
    assert [n.message for n in cluster.notes] == [
        "1 object(s) have no metadata.namespace and are taken to be in namespace 'default'"
    ]
    assert str(cluster.notes[0].span) == "c.yaml:1:1"


def test_empty_dns_policy_is_defaulted_to_cluster_first():
    cluster = cluster_of(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {dnsPolicy: ''}\n"
    )
    dns = cluster.workloads[0].dns
    assert (dns.policy.value, dns.policy_defaulted, str(dns.policy.span)) == (
        "ClusterFirst",
        True,
        "c.yaml:4:19",
    )


def test_pod_dns_fields_with_spans():
    cluster = cluster_of("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: web}
        spec:
          template:
            metadata:
              labels: {app: web, tier: front}
            spec:
              hostNetwork: true
              dnsPolicy: ClusterFirstWithHostNet
              dnsConfig:
                nameservers: [10.0.0.53, "fd00::53"]
                searches: [a.example.com, corp.]
                options:
                - name: ndots
                  value: "2"
                - name: edns0
              containers:
              - {name: app, image: alpine:3.19}
              - {name: side, image: "gcr.io/distroless/static@sha256:abc"}
        """)
    (web,) = cluster.workloads
    assert dict(web.labels) == {"app": "web", "tier": "front"}
    assert web.dns.host_network.value is True
    assert str(web.dns.host_network.span) == "c.yaml:9:20"
    assert web.dns.policy.value == "ClusterFirstWithHostNet"
    assert str(web.dns.policy.span) == "c.yaml:10:18"
    config = web.dns.config
    assert [n.value for n in config.nameservers] == ["10.0.0.53", "fd00::53"]
    assert [str(n.span) for n in config.nameservers] == ["c.yaml:12:23", "c.yaml:12:34"]
    assert [s.value for s in config.searches] == ["a.example.com", "corp."]
    assert [(o.name, o.value, str(o.span)) for o in config.options] == [
        ("ndots", "2", "c.yaml:15:11"),
        ("edns0", None, "c.yaml:17:11"),
    ]
    assert [i.value for i in web.images] == [
        "alpine:3.19",
        "gcr.io/distroless/static@sha256:abc",
    ]
    assert str(web.images[1].span) == "c.yaml:20:29"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "  replicas: -1",
            [("c.yaml:5:13", "spec.replicas must not be negative (replicas)")],
        ),
        (
            "  replicas: '3'",
            [("c.yaml:5:13", 'spec.replicas must be an integer, not a string ("3")')],
        ),
        (
            "  replicas: true",
            [("c.yaml:5:13", "spec.replicas must be an integer, not a boolean (true)")],
        ),
        (
            "  template:\n    spec:\n      dnsPolicy: ClusterFrist",
            [
                (
                    "c.yaml:7:18",
                    "dnsPolicy must be one of ClusterFirst, ClusterFirstWithHostNet, Default, None, not 'ClusterFrist'",
                )
            ],
        ),
        (
            "  template:\n    spec:\n      dnsPolicy: None",
            [
                (
                    "c.yaml:7:18",
                    "dnsPolicy None needs dnsConfig with at least one nameserver",
                )
            ],
        ),
        (
            "  template:\n    spec:\n      hostNetwork: 'yes'",
            [
                (
                    "c.yaml:7:20",
                    'spec.template.spec.hostNetwork must be true or false, not a string ("yes")',
                )
            ],
        ),
        (
            "  template:\n    spec:\n      dnsConfig:\n        nameservers: [1.2.3.4, 1.2.3.5, 1.2.3.6, 1.2.3.7]",
            [
                (
                    "c.yaml:8:22",
                    "dnsConfig.nameservers must not have more than 3 entries",
                )
            ],
        ),
        (
            "  template:\n    spec:\n      dnsConfig:\n        nameservers: [10.0.0.300]",
            [
                (
                    "c.yaml:8:23",
                    "spec.template.spec.dnsConfig.nameservers[0] must be an IP address, not '10.0.0.300'",
                )
            ],
        ),
        (
            "  template:\n    spec:\n      dnsConfig:\n        searches: [Bad_Domain.example]",
            [
                (
                    "c.yaml:8:20",
                    "spec.template.spec.dnsConfig.searches[0] must be a DNS domain, not 'Bad_Domain.example'",
                )
            ],
        ),
        (
            "  template:\n    spec:\n      dnsConfig:\n        options: [{value: '2'}]",
            [("c.yaml:8:19", "each dnsConfig option needs a name")],
        ),
        (
            "  template:\n    metadata:\n      labels: {version: 1.0}",
            [
                (
                    "c.yaml:7:25",
                    "spec.template.metadata.labels.version must be a string, not a number (1.0)",
                )
            ],
        ),
    ],
)
def test_bad_workload_values_are_positioned_errors(spec, expected):
    source = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec:\n"
        + spec
        + "\n"
    )
    result = build_cluster(load_text(source, "c.yaml").documents)
    assert [(str(e.span), e.message) for e in result.errors] == expected
    assert result.cluster.workloads == ()


def test_placeholder_values_are_caught_when_loading():
    source = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  dnsConfig:\n    nameservers: [NODE_LOCAL_IP]\n"
    loaded = load_text(source)
    assert loaded.documents == ()
    assert loaded.errors[0].message.startswith(
        "this file is a template, not a rendered manifest: an unfilled placeholder name `NODE_LOCAL_IP`"
    )


def test_errors_from_several_documents_are_all_reported():
    errors = errors_of("""
        apiVersion: v1
        kind: Pod
        metadata: {name: a}
        spec: {dnsPolicy: Nope}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: b}
        spec: {dnsPolicy: None, hostNetwork: 1}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: good}
        """)
    assert [e[0] for e in errors] == ["c.yaml:4:19", "c.yaml:9:38", "c.yaml:9:19"]


def test_missing_name_and_api_version_are_errors_and_unknown_groups_are_ignored():
    result = build("""
        kind: Deployment
        metadata: {name: x}
        ---
        apiVersion: v1
        kind: Pod
        spec: {}
        ---
        apiVersion: example.com/v1
        kind: Deployment
        metadata: {name: custom}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: s}
        ---
        foo: bar
        """)
    assert [(str(e.span), e.message) for e in result.errors] == [
        ("c.yaml:1:7", "apiVersion is missing for this Deployment"),
        (
            "c.yaml:4:1",
            "metadata.name is missing for this Pod (a partial object, to be completed by a template or an operator?)",
        ),
    ]
    assert dict(result.cluster.ignored) == {
        "(no kind)": 1,
        "Deployment (example.com/v1)": 1,
        "Secret": 1,
    }


def test_the_same_object_twice_is_an_error():
    result = build(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: default}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
    )
    assert [(str(e.span), e.message) for e in result.errors] == [
        (
            "c.yaml:7:18",
            "Pod a is defined twice (first at c.yaml:1:1); kubectl would keep only the last one",
        )
    ]
    assert len(result.cluster.workloads) == 1


def test_workloads_owned_by_workloads_in_the_input_are_counted_once():
    cluster = cluster_of("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: n}
        spec: {replicas: 3}
        ---
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: web-5d4f8
          namespace: n
          ownerReferences: [{kind: Deployment, name: web, controller: true}]
        spec: {replicas: 3}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-5d4f8-abcde
          namespace: n
          labels: {pod-template-hash: 5d4f8}
          ownerReferences: [{kind: ReplicaSet, name: web-5d4f8, controller: true}]
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-77777-xyz
          namespace: n
          labels: {pod-template-hash: "77777"}
          ownerReferences: [{kind: ReplicaSet, name: web-77777, controller: true}]
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly, namespace: n}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: nightly-28934520
          namespace: n
          ownerReferences: [{kind: CronJob, name: nightly, controller: true}]
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: orphan
          namespace: n
          ownerReferences: [{kind: ReplicaSet, name: gone-123, controller: true}]
        """)
    assert [(w.kind, w.name) for w in cluster.workloads] == [
        ("Deployment", "web"),
        ("CronJob", "nightly"),
        ("Pod", "orphan"),
    ]
    assert [w.name for w in cluster.owned_workloads] == [
        "web-5d4f8",
        "web-5d4f8-abcde",
        "web-77777-xyz",
        "nightly-28934520",
    ]
    assert "4 workload(s) are counted through an owner" in cluster.notes[0].message


# ---------------------------------------------------------------- DNS servers, Corefiles, Services


def test_the_data_cluster():
    cluster = read_cluster([os.path.join(DATA, "cluster")])
    (server,) = cluster.dns_servers
    assert (server.software, server.version, server.workload.replicas) == (
        "coredns",
        "1.11.1",
        3,
    )
    assert server.image.value == "registry.k8s.io/coredns/coredns:v1.11.1"
    assert server.workload.dns.policy.value == "Default"
    assert (
        server.strategy,
        server.rolling_update.max_surge,
        server.rolling_update.max_unavailable,
    ) == ("RollingUpdate", "10%", 1)
    assert (
        server.rolling_update.resolved_surge,
        server.rolling_update.resolved_unavailable,
    ) == (1, 1)
    assert (server.anti_affinity, server.hostname_spread) == ("preferred", "none")
    assert server.corefile_configmap.value == "coredns"
    assert server.corefile.name == "coredns"
    source = cluster.corefile_source
    assert source is server.corefile.corefile_source
    assert source.text.startswith(".:53 {\n    errors\n")
    assert (
        str(source.span(7, 5))
        == os.path.join(DATA, "cluster", "coredns.yaml") + ":15:9"
    )
    assert source.line_text(15) == "        autopath @kubernetes"

    assert [(s.name, s.cluster_ip.value) for s in cluster.dns_services] == [
        ("kube-dns", "10.100.0.10"),
        ("kube-dns-upstream", "10.100.0.20"),
    ]
    assert [(p.name, p.port, p.protocol) for p in cluster.dns_services[0].ports] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
    ]

    (local,) = cluster.node_local_dns
    assert [ip.value for ip in local.local_ips] == ["169.254.20.10", "10.100.0.10"]
    assert local.upstream_service == "kube-dns-upstream"
    assert local.workload.dns.host_network.value is True
    assert local.corefile.role == "node-local-dns"
    assert cluster.node_local_corefile_source.text.startswith("cluster.local:53 {")

    (hpa,) = cluster.horizontal_autoscalers
    assert (
        hpa.namespace,
        hpa.target_kind,
        hpa.target_name,
        hpa.min_replicas,
        hpa.max_replicas,
    ) == ("web", "Deployment", "web", 20, 200)

    (scaler,) = cluster.proportional_autoscalers
    assert scaler.targets == (ScaleTarget("Deployment", "coredns"),)
    assert scaler.params.mode == "linear"
    assert scaler.params.params == LinearParams(256.0, 16.0, 2, 0, True, True)
    assert scaler.default_params.params == LadderParams((), ((1, 1), (2, 2)), False)

    assert cluster.node_count == 2
    assert [
        (n.name, n.zone, n.instance_type, n.unschedulable, n.allocatable_cpu_millis)
        for n in cluster.nodes
    ] == [
        ("ip-10-0-1-10.ec2.internal", "us-east-1a", "m5.large", False, 1930),
        ("ip-10-0-2-20.ec2.internal", "us-east-1b", "c5.xlarge", True, 4000),
    ]
    assert [(w.kind, w.name, w.replicas) for w in cluster.workloads] == [
        ("CronJob", "report", 4),
        ("Job", "migrate", 1),
        ("StatefulSet", "db", 1),
        ("DaemonSet", "agent", None),
        ("Pod", "debug", 1),
        ("Deployment", "web", 20),
        ("Deployment", "dns-autoscaler", 1),
        ("Deployment", "coredns", 3),
        ("DaemonSet", "node-local-dns", None),
    ]
    assert dict(cluster.ignored) == {
        "ClusterRole": 1,
        "Namespace": 1,
        "ServiceAccount": 1,
    }


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("coredns/coredns:1.9.4", "1.9.4"),
        ("registry.k8s.io/coredns/coredns:v1.11.1", "1.11.1"),
        (
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.7-eksbuild.3",
            "1.8.7",
        ),
        (
            "registry.k8s.io/coredns/coredns:v1.11.1@sha256:1eeb4c7316bacb1d4c8ead65571cd92dd21e27359f0d4917f1a5822a73b75db1",
            "1.11.1",
        ),
        ("localhost:5000/coredns", None),
        ("coredns/coredns:latest", None),
        ("coredns/coredns:1.10", None),
        ("coredns/coredns", None),
    ],
)
def test_coredns_version_from_image_tag(image, version):
    assert coredns_version(image) == version


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("25%", "25%", 1, (1, 0)),
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 10, (3, 2)),
        ("10%", 0, 1, (1, 0)),
        ("0%", "1%", 2, (0, 1)),
        (0, "10%", 5, (0, 1)),
        ("33%", "33%", 3, (1, 0)),
        ("100%", "100%", 7, (7, 7)),
        (2, 1, 5, (2, 1)),
    ],
)
def test_resolve_fenceposts_rounds_surge_up_and_unavailable_down(
    surge, unavailable, desired, expected
):
    assert resolve_fenceposts(surge, unavailable, desired) == expected


DNS_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: dns, namespace: kube-system}}
spec:
{spec}
  template:
    metadata:
      labels: {{k8s-app: kube-dns, version: v1}}
    spec:
{pod}
      containers:
      - name: dns
        image: {image}
"""


def dns_server(
    spec="  replicas: 4", pod="      dnsPolicy: Default", image="coredns/coredns:1.8.0"
):
    result = build(DNS_DEPLOYMENT.format(spec=spec, pod=pod, image=image))
    return result


def test_dns_server_rolling_update_defaults_to_25_percent():
    (server,) = dns_server().cluster.dns_servers
    update = server.rolling_update
    assert (
        update.max_surge,
        update.max_unavailable,
        update.resolved_surge,
        update.resolved_unavailable,
    ) == ("25%", "25%", 1, 1)


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (
            "  strategy:\n    rollingUpdate: {maxSurge: 0, maxUnavailable: '0%'}",
            "maxUnavailable may not be 0 when maxSurge is 0",
        ),
        (
            "  strategy:\n    rollingUpdate: {maxUnavailable: 120%}",
            "maxUnavailable must not be greater than 100%",
        ),
        (
            "  strategy:\n    rollingUpdate: {maxSurge: ten}",
            "spec.strategy.rollingUpdate.maxSurge must be a non-negative integer or a percentage like '25%', not a string (\"ten\")",
        ),
    ],
)
def test_bad_rolling_updates(strategy, message):
    result = dns_server(spec="  replicas: 2\n" + strategy)
    assert [e.message for e in result.errors] == [message]


def test_recreate_strategy_has_no_rolling_update():
    (server,) = dns_server(spec="  strategy: {type: Recreate}").cluster.dns_servers
    assert (server.strategy, server.rolling_update) == ("Recreate", None)


@pytest.mark.parametrize(
    ("pod", "anti", "spread"),
    [
        ("      dnsPolicy: Default", "none", "none"),
        (
            "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
            "          - labelSelector: {matchLabels: {k8s-app: kube-dns}}\n            topologyKey: kubernetes.io/hostname",
            "required",
            "none",
        ),
        (
            "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
            "          - labelSelector: {matchLabels: {k8s-app: kube-dns}}\n            topologyKey: topology.kubernetes.io/zone",
            "none",
            "none",
        ),
        (
            "      affinity:\n        podAntiAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n"
            "          - weight: 1\n            podAffinityTerm:\n              labelSelector: {matchLabels: {app: other}}\n"
            "              topologyKey: kubernetes.io/hostname",
            "none",
            "none",
        ),
        (
            "      affinity:\n        podAntiAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n"
            "          - weight: 1\n            podAffinityTerm:\n              labelSelector:\n                matchExpressions:\n"
            "                - {key: version, operator: NotIn, values: [v0]}\n                - {key: k8s-app, operator: Exists}\n"
            "              topologyKey: kubernetes.io/hostname",
            "preferred",
            "none",
        ),
        (
            "      topologySpreadConstraints:\n      - maxSkew: 1\n        topologyKey: kubernetes.io/hostname\n"
            "        whenUnsatisfiable: DoNotSchedule\n        labelSelector: {matchLabels: {k8s-app: kube-dns}}",
            "none",
            "required",
        ),
        (
            "      topologySpreadConstraints:\n      - maxSkew: 1\n        topologyKey: kubernetes.io/hostname\n"
            "        whenUnsatisfiable: ScheduleAnyway\n        labelSelector: {matchLabels: {k8s-app: kube-dns}}",
            "none",
            "preferred",
        ),
    ],
)
def test_replica_spreading_over_nodes(pod, anti, spread):
    result = dns_server(pod=pod)
    assert result.errors == ()
    (server,) = result.cluster.dns_servers
    assert (server.anti_affinity, server.hostname_spread) == (anti, spread)


@pytest.mark.parametrize(
    ("labels", "image", "software"),
    [
        ("{app: x}", "coredns/coredns:1.8.0", "coredns"),
        ("{app: x}", "k8s.gcr.io/coredns:1.6.7", "coredns"),
        ("{app: x}", "rancher/mirrored-coredns-coredns:1.11.3", "coredns"),
        (
            "{app: x}",
            "gcr.io/google_containers/k8s-dns-kube-dns-amd64:1.14.1",
            "kube-dns",
        ),
        ("{k8s-app: kube-dns}", "example.com/my-dns:2", "unknown"),
    ],
)
def test_dns_server_identification(labels, image, software):
    source = DNS_DEPLOYMENT.format(
        spec="  replicas: 1", pod="      dnsPolicy: Default", image=image
    ).replace("{k8s-app: kube-dns, version: v1}", labels)
    cluster = build(source).cluster
    assert [s.software for s in cluster.dns_servers] == [software]


def test_ordinary_deployment_is_not_a_dns_server():
    assert cluster_of(POD).dns_servers == ()


def test_dns_service_found_by_selector_and_by_name_with_bad_cluster_ip():
    result = build(
        DNS_DEPLOYMENT.format(
            spec="  replicas: 1",
            pod="      dnsPolicy: Default",
            image="coredns/coredns:1.8.0",
        )
        + """
---
apiVersion: v1
kind: Service
metadata: {name: my-dns, namespace: kube-system}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: 172.20.0.10
  ports: [{port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: kube-system}
spec:
  selector: {app: web}
---
apiVersion: v1
kind: Service
metadata: {name: coredns, namespace: elsewhere}
spec:
  clusterIP: 10.0.0.999
"""
    )
    assert [s.name for s in result.cluster.dns_services] == ["my-dns"]
    assert result.cluster.dns_services[0].cluster_ip.value == "172.20.0.10"
    assert [(str(e.span), e.message) for e in result.errors] == [
        (
            "c.yaml:34:14",
            "spec.clusterIP must be an IP address, '' or 'None', not '10.0.0.999'",
        )
    ]
    assert result.cluster.ignored["Service"] == 2


def test_corefile_configmaps_and_the_choice_of_corefile():
    cluster = cluster_of("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: coredns, namespace: kube-system}
        data:
          Corefile: |
            . {
                whoami
            }
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: coredns-custom, namespace: kube-system}
        data:
          Corefile: ". {\\n    forward . 1.1.1.1\\n}"
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: other, namespace: kube-system}
        data: {a: b}
        """)
    assert [(m.name, m.role) for m in cluster.corefile_configmaps] == [
        ("coredns", "coredns"),
        ("coredns-custom", "coredns"),
    ]
    assert cluster.corefile_source is None
    assert cluster.ignored["ConfigMap"] == 1
    only = cluster_of("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: coredns, namespace: kube-system}
        data:
          Corefile: ". {\\n    forward . 1.1.1.1\\n}"
        """)
    source = only.corefile_source
    assert type(source).__name__ == "AnchoredSource"
    assert str(source.span(2, 5)) == "c.yaml:5:13"


def test_corefile_that_is_not_a_string_is_an_error():
    errors = errors_of(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns}\ndata:\n  Corefile: [a]\n"
    )
    assert errors == [
        (
            "c.yaml:5:13",
            "data.Corefile must be a string (the Corefile text), not a list (...)",
        )
    ]


def test_node_local_dns_with_placeholder_local_ip_is_a_template_error():
    source = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: nld, namespace: kube-system}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - image: registry.k8s.io/dns/k8s-dns-node-cache:1.22.20\n"
        "        args: ['-localip=169.254.20.10,$LOCAL_DNS']\n"
    )
    result = build_cluster(load_text(source, "c.yaml").documents)
    (error,) = result.errors
    assert str(error.span) == "c.yaml:9:16"
    assert error.message.startswith(
        "spec.template.spec.containers[0].args[0]: this file is a template, not a rendered manifest: an unfilled $NAME placeholder `$LOCAL_DNS`"
    )
    assert result.cluster.node_local_dns == ()


# ---------------------------------------------------------------- autoscalers and nodes


def test_horizontal_autoscalers_v1_and_errors():
    result = build("""
        apiVersion: autoscaling/v1
        kind: HorizontalPodAutoscaler
        metadata: {name: a, namespace: n}
        spec:
          scaleTargetRef: {kind: Deployment, name: coredns}
          maxReplicas: 10
          targetCPUUtilizationPercentage: 50
        ---
        apiVersion: autoscaling/v2beta2
        kind: HorizontalPodAutoscaler
        metadata: {name: b, namespace: n}
        spec:
          scaleTargetRef: {kind: Deployment, name: web}
          minReplicas: 5
          maxReplicas: 3
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: c, namespace: n}
        spec:
          scaleTargetRef: {kind: Deployment, name: web}
        """)
    assert [
        (h.name, h.target_name, h.min_replicas, h.min_defaulted, h.max_replicas)
        for h in result.cluster.horizontal_autoscalers
    ] == [("a", "coredns", 1, True, 10)]
    assert [(str(e.span), e.message) for e in result.errors] == [
        ("c.yaml:14:16", "spec.minReplicas (5) is above spec.maxReplicas (3)"),
        ("c.yaml:21:3", "spec.maxReplicas is required (at least 1)"),
    ]


AUTOSCALER = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: dns-autoscaler, namespace: kube-system}}
spec:
  template:
    spec:
      containers:
      - image: registry.k8s.io/cpa/cluster-proportional-autoscaler:1.8.4
        command:
        - /cluster-proportional-autoscaler
        - --configmap=dns-autoscaler
        - {target}
        - {params}
"""


def test_proportional_autoscaler_targets_and_default_params():
    cluster = cluster_of(
        AUTOSCALER.format(
            target="--target=deployment/coredns,ReplicaSet/Other",
            params='\'--default-params={"linear":{"nodesPerReplica":16,"min":0,"max":5}}\'',
        )
    )
    (scaler,) = cluster.proportional_autoscalers
    assert scaler.namespace == "kube-system"
    assert scaler.targets == (
        ScaleTarget("Deployment", "coredns"),
        ScaleTarget("ReplicaSet", "other"),
    )
    assert scaler.configmap == "dns-autoscaler"
    assert scaler.params is scaler.default_params
    assert scaler.params.params == LinearParams(0.0, 16.0, 1, 5, False, False)


@pytest.mark.parametrize(
    ("params", "position", "message"),
    [
        (
            '{"linear":{"nodesPerReplica":"16"}}',
            "13:40",
            'linear autoscaler parameters: nodesPerReplica must be a number, not "16" (the autoscaler fails to decode it)',
        ),
        (
            '{"linear":{"coresPerReplica":1,"min":1.5}}',
            "13:60",
            "linear autoscaler parameters: min must be an integer, not 1.5 (the autoscaler fails to decode it)",
        ),
        (
            '{"linear":{"min":3,"max":2,"nodesPerReplica":1}}',
            "13:48",
            "linear autoscaler parameters: max (2) must not be below min (3)",
        ),
        (
            '{"linear":{"min":1}}',
            "13:30",
            "linear autoscaler parameters: give coresPerReplica or nodesPerReplica (greater than 0)",
        ),
        (
            '{"ladder":{"nodesToReplicas":[[1,-1]]}}',
            "13:40",
            "ladder autoscaler parameters: invalid negative values in nodesToReplicas",
        ),
        (
            '{"ladder":{"IncludeUnschedulableNodes":"yes"}}',
            "13:40",
            'ladder autoscaler parameters: includeUnschedulableNodes must be true or false, not "yes" (the autoscaler fails to decode it)',
        ),
        (
            '{"linear":{"nodesPerReplica":1,}}',
            "13:60",
            "not valid JSON: Expecting property name enclosed in double quotes",
        ),
        (
            '{"both":{}}',
            "13:11",
            "--default-params must be a JSON object with one key, 'linear' or 'ladder'",
        ),
    ],
)
def test_bad_autoscaler_params_are_positioned_inside_the_json(
    params, position, message
):
    source = AUTOSCALER.format(
        target="--target=deployment/coredns", params="'--default-params=" + params + "'"
    )
    result = build(source)
    assert [(f"{e.span.line}:{e.span.column}", e.message) for e in result.errors] == [
        (position, message)
    ]


def test_ladder_entries_decode_like_go_arrays():
    cluster = cluster_of(
        AUTOSCALER.format(
            target="--target=deployment/coredns",
            params='\'--default-params={"ladder":{"coresToReplicas":[[64,3],[1],[8,2,99]]}}\'',
        )
    )
    assert cluster.proportional_autoscalers[0].params.params.cores_to_replicas == (
        (1, 0),
        (8, 2),
        (64, 3),
    )


def test_autoscaler_configmap_params_win_over_default_params():
    cluster = cluster_of(
        AUTOSCALER.format(target="--target=deployment/coredns", params="--v=2")
        + """
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dns-autoscaler, namespace: kube-system}
data:
  ladder: |-
    {"coresToReplicas": [[1, 1], [64, 3]], "nodesToReplicas": [[1, 1], [2, 2]]}
"""
    )
    (scaler,) = cluster.proportional_autoscalers
    assert scaler.default_params is None
    assert scaler.params.configmap == "dns-autoscaler"
    assert scaler.params.params == LadderParams(
        ((1, 1), (64, 3)), ((1, 1), (2, 2)), False
    )
    assert cluster.autoscaler_params == (scaler.params,)


def test_referenced_autoscaler_configmap_with_two_entries_is_an_error():
    result = build(
        AUTOSCALER.format(target="--target=deployment/coredns", params="--v=2")
        + """
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dns-autoscaler, namespace: kube-system}
data: {linear: '{}', ladder: '{}'}
"""
    )
    assert [e.message for e in result.errors] == [
        "the cluster-proportional-autoscaler expects exactly one data entry, 'linear' or 'ladder'"
    ]


def test_bad_autoscaler_target():
    result = build(AUTOSCALER.format(target="--target=statefulset/db", params="--v=2"))
    assert [(str(e.span), e.message) for e in result.errors] == [
        (
            "c.yaml:12:11",
            "spec.template.spec.containers[0].command[2] must be deployment/NAME, replicationcontroller/NAME or replicaset/NAME (the autoscaler's --target format), not 'statefulset/db'",
        )
    ]
    assert result.cluster.proportional_autoscalers == ()


def test_nodes_and_node_count():
    assert cluster_of(POD).node_count is None
    cluster = cluster_of("""
        apiVersion: v1
        kind: Node
        metadata:
          name: n1
          labels: {kubernetes.io/hostname: n1}
        status:
          allocatable: {cpu: "2.5"}
        """)
    assert cluster.node_count == 1
    assert (cluster.nodes[0].zone, cluster.nodes[0].allocatable_cpu_millis) == (
        None,
        2500,
    )


def test_read_cluster_raises_every_error_of_both_stages():
    source = "kind: Pod\nmetadata: {name: a}\nspec: [\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {dnsPolicy: X}\n"
    with pytest.raises(ConfigErrors) as raised:
        read_cluster(["-"], stdin=io.StringIO(source))
    assert [str(e.span) for e in raised.value.errors] == ["<stdin>:4:1", "<stdin>:8:19"]
