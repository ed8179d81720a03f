"""Pod classes: workloads grouped by how they resolve, counted, on hand-written manifests."""

import textwrap

import pytest

from kalc_formal.analysis.podclasses import (
    lookups_per_step,
    node_bound,
    pod_classes,
    pod_dns_config,
    selects,
)
from kalc_formal.clients.resolvconf import PodDNSConfig, ResolvOption
from kalc_formal.config.envspec import LookupSpec, PodSelector
from kalc_formal.kubernetes.cluster import Cluster, build_cluster
from kalc_formal.kubernetes.manifests import load_text
from kalc_formal.kubernetes.placement import NodeBound

EVERY_POD = LookupSpec(("ext",))
MAX_PODS = NodeBound(110, "kubelet maxPods default 110", "default")


def deployment(name, namespace="default", replicas=2, pod_spec="", labels="app: x", kind="Deployment"):
    replicas_line = f"  replicas: {replicas}\n" if kind != "DaemonSet" else ""
    spec = textwrap.indent(textwrap.dedent(pod_spec).strip("\n"), "      ") + "\n" if pod_spec else ""
    return (
        f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
        f"spec:\n{replicas_line}  selector:\n    matchLabels: {{{labels}}}\n  template:\n"
        f"    metadata:\n      labels: {{{labels}}}\n    spec:\n{spec}"
        "      containers:\n      - name: app\n        image: app:1\n"
    )


def cluster(*documents: str) -> Cluster:
    loaded = load_text("---\n".join(documents), "workloads.yaml")
    assert loaded.errors == (), [str(e) for e in loaded.errors]
    built = build_cluster(loaded.documents)
    assert built.errors == (), [str(e) for e in built.errors]
    return built.cluster


def classes_of(built, lookups=(EVERY_POD,), *, nodes=3, special=(), scale=True):
    return pod_classes(built, lookups, nodes=nodes, special_namespaces=special,
                       scale_to_hpa_max=scale)


NDOTS_2 = """
dnsConfig:
  nameservers: [10.0.0.53]
  searches: [corp.example]
  options:
  - name: ndots
    value: "2"
  - name: single-request-reopen
"""


def test_pod_dns_config_keeps_nameservers_searches_and_options_in_order_H4():
    (workload,) = cluster(deployment("web", pod_spec=NDOTS_2)).workloads
    assert pod_dns_config(workload.dns.config) == PodDNSConfig(
        ("10.0.0.53",), ("corp.example",),
        (ResolvOption("ndots", "2"), ResolvOption("single-request-reopen")),
    )
    assert pod_dns_config(None) is None


def test_workloads_that_resolve_alike_share_one_class_across_namespaces():
    built = cluster(
        deployment("a", "ns1", 2), deployment("b", "ns2", 3), deployment("c", "ns3", 4),
    )
    (only,) = classes_of(built)
    assert only.namespaces == ("ns1", "ns2", "ns3")
    assert (only.pods_base, only.pods_peak) == (9, 9)
    assert only.pods_min_per_namespace == 2
    assert only.pods_peak_max_per_namespace == 4
    assert only.namespace_label == f"kf-ns-{only.id}"
    assert only.dns_policy == "ClusterFirst"


@pytest.mark.parametrize("pod_spec", [
    NDOTS_2,
    "dnsPolicy: Default",
    "hostNetwork: true",
    "hostNetwork: true\ndnsPolicy: ClusterFirstWithHostNet",
    "dnsConfig:\n  options:\n  - name: ndots\n    value: \"3\"",
])
def test_a_different_dns_policy_host_network_or_dns_config_is_its_own_class_H1_H4(pod_spec):
    built = cluster(deployment("plain", "ns1"), deployment("other", "ns1", pod_spec=pod_spec))
    classes = classes_of(built)
    assert len(classes) == 2
    assert sorted(w.name for c in classes for w in c.workloads) == ["other", "plain"]
    assert {len(c.workloads) for c in classes} == {1}


def test_equal_dns_configs_written_apart_are_one_class():
    built = cluster(deployment("a", "ns1", pod_spec=NDOTS_2), deployment("b", "ns2", pod_spec=NDOTS_2))
    (only,) = classes_of(built)
    assert only.dns_config is not None
    assert pod_dns_config(only.dns_config) == pod_dns_config(built.workloads[1].dns.config)


def test_a_namespace_that_a_service_name_points_into_keeps_its_own_class_and_label():
    built = cluster(deployment("a", "shop"), deployment("b", "ns2"), deployment("c", "ns3"))
    classes = classes_of(built, special=("shop",))
    by_label = {c.namespace_label: c.namespaces for c in classes}
    assert by_label["shop"] == ("shop",)
    others = [c for c in classes if c.namespace_label != "shop"]
    assert [c.namespaces for c in others] == [("ns2", "ns3")]


def test_each_lookup_spec_forms_its_own_classes_from_the_workloads_it_selects():
    built = cluster(deployment("a", "ns1"), deployment("b", "ns2"))
    first = LookupSpec(("ext",), pods=PodSelector(namespaces=("ns1",)))
    both = LookupSpec(("svc",))
    classes = classes_of(built, (first, both))
    assert [(c.id, c.namespaces, c.lookup is first) for c in classes] == [
        ("p0", ("ns1",), True), ("p1", ("ns1", "ns2"), False),
    ]


def test_selectors_match_namespace_workload_kind_case_insensitively_and_labels():
    built = cluster(deployment("web", "shop", labels="app: web, tier: front"))
    (web,) = built.workloads
    assert selects(PodSelector(), web)
    assert selects(PodSelector(namespaces=("shop",)), web)
    assert not selects(PodSelector(namespaces=("other",)), web)
    assert selects(PodSelector(workload="deployment/web"), web)
    assert not selects(PodSelector(workload="StatefulSet/web"), web)
    assert selects(PodSelector(labels=(("tier", "front"),)), web)
    assert not selects(PodSelector(labels=(("tier", "back"),)), web)


HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 4
  maxReplicas: 40
"""


@pytest.mark.parametrize(("scale", "expected"), [(True, (4, 40)), (False, (4, 4))])
def test_an_autoscaler_raises_the_baseline_to_its_minimum_and_the_peak_to_its_maximum(scale, expected):
    built = cluster(deployment("web", "shop", replicas=2), HPA)
    (only,) = classes_of(built, scale=scale)
    assert (only.pods_base, only.pods_peak) == expected


def test_a_daemonset_has_one_pod_per_node():
    built = cluster(deployment("agent", "ops", kind="DaemonSet"))
    (only,) = classes_of(built, nodes=7)
    assert (only.pods_base, only.pods_peak) == (7, 7)


ANTI = """
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
    - labelSelector:
        matchLabels: {app: x}
      topologyKey: kubernetes.io/hostname
"""


def test_node_bound_takes_the_tightest_rule():
    free = classes_of(cluster(deployment("web", replicas=30)), nodes=10)[0]
    assert node_bound(free, nodes=10, node_objects=(), max_pods=MAX_PODS).pods == 30
    assert node_bound(free, nodes=10, node_objects=(), max_pods=NodeBound(20, "m", "kalc.yaml")).pods == 20
    apart = classes_of(cluster(deployment("web", replicas=30, pod_spec=ANTI)), nodes=10)[0]
    bound = node_bound(apart, nodes=10, node_objects=(), max_pods=MAX_PODS)
    assert (bound.pods, bound.origin) == (1, "manifests")
    assert "podAntiAffinity" in bound.reason


def test_a_lookups_max_per_node_narrows_the_bound_and_says_so():
    lookup = LookupSpec(("ext",), max_per_node=5)
    (only,) = classes_of(cluster(deployment("web", replicas=30)), (lookup,), nodes=10)
    bound = node_bound(only, nodes=10, node_objects=(), max_pods=MAX_PODS)
    assert (bound.pods, bound.origin) == (5, "kalc.yaml")


def test_workloads_of_one_class_add_their_bounds():
    built = cluster(deployment("a", "ns1", replicas=3, labels="app: a"),
                    deployment("b", "ns2", replicas=4, labels="app: b"))
    (only,) = classes_of(built, nodes=10)
    assert node_bound(only, nodes=10, node_objects=(), max_pods=MAX_PODS).pods == 7


@pytest.mark.parametrize(("pods", "rate", "names", "step", "down", "up"), [
    (3, 0.5, 1, 1, 1, 2),
    (10, 0.1, 1, 1, 1, 1),
    (7, 1 / 3, 3, 1, 7, 7),
    (0, 5.0, 10, 1, 0, 0),
    (5, 2.0, 4, 2, 80, 80),
    (3, 0.1, 10, 1, 3, 3),  # 3 x 0.1 x 10 is 3.0000000000000004 in floats
    (7, 0.1, 10, 1, 7, 7),  # and 7 x 0.1 x 10 is 7.000000000000001
])
def test_lookups_per_step_round_down_for_the_least_and_up_for_the_most(pods, rate, names, step, down, up):
    assert lookups_per_step(pods, rate, names, step, up=False) == down
    assert lookups_per_step(pods, rate, names, step, up=True) == up
