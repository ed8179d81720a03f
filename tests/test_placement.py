"""Pod placement and lookup shares (issue 6, items 2 and 3), on clusters of our own.

Each cluster is written to a temporary folder and run through `kalc-formal check`.
"""

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import manifest_text
from benchmarks.manifest_text import coredns_deployment, corefile_configmap, dns_service
from kalc_formal.cli import main
from kalc_formal.kubernetes.manifests import load_text
from kalc_formal.kubernetes.placement import (
    NodeBound,
    Placement,
    cpu_millis,
    eligible_nodes,
    memory_bytes,
    pods_per_node,
    read_placement,
)
from kalc_formal.kubernetes.podspec import FieldReader, pod_path
from kalc_formal.model.flowmodel import Group
from kalc_formal.source import Span

ANTI_AFFINITY = """\
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: {{{labels}}}
            topologyKey: kubernetes.io/hostname
"""

SPREAD = """\
      topologySpreadConstraints:
      - maxSkew: {skew}
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: {when}
        labelSelector:
          matchLabels: {{{labels}}}
"""

COREFILE = """\
.:53 {{
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
      pods insecure
    }}
    forward . /etc/resolv.conf
{cache}}}
"""


COREDNS_APART = ANTI_AFFINITY.format(labels="k8s-app: kube-dns")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def coredns(replicas=2, rules=COREDNS_APART, cache="    cache 30\n"):
    return "---\n".join([
        corefile_configmap(COREFILE.format(cache=cache)),
        coredns_deployment("1.14.7", replicas, rules=rules, args=False),
        dns_service(labels=False, protocols=("UDP",)),
    ])


def workload(replicas, *, kind="Deployment", host_network=True, rules="", requests=""):
    network = "      hostNetwork: true\n      dnsPolicy: Default\n" if host_network else ""
    return manifest_text.workload(
        "agent", "monitoring", None if kind == "DaemonSet" else replicas,
        image="example.com/agent:1", kind=kind, pod_spec=network + rules, container=requests,
    )


def kalc_yaml(*, rate, nodes=20, scope="node", limit=1024, extra_cluster="", extra_lookup=""):
    """Placement in isolation: each step is checked alone against the limit (window:
    fixed), as placement and rounding do not depend on the window."""
    return f"""\
cluster:
  nodes: {nodes}
  node_nameservers: [10.0.0.2]
{extra_cluster}upstreams:
  - address: node
    limit: {limit}
    scope: {scope}
    window: fixed
names:
  - id: api
    example: api.example.com
    ttl: 60
lookups:
  - pods: {{namespace: monitoring}}
    names: [api]
    rate: {rate}
{extra_lookup}"""


def check(tmp_path, capsys, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code = main(["check", str(tmp_path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 1), report
    return report


def assumption(report, key, contains=""):
    found = [a for a in report["assumptions"] if a["key"] == key and contains in a["value"]]
    assert len(found) == 1, [a for a in report["assumptions"] if a["key"] == key]
    return found[0]


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# ---- (a) 240 hostNetwork pods without a hard spread rule


def test_hostnetwork_pods_without_a_hard_rule_may_crowd_one_node(tmp_path, capsys):
    """1,200 lookups/s from 240 pods on 20 nodes: an even spread would put 66 on the
    busiest node (132 packets/s); maxPods lets 110 pods there (1,100 packets/s)."""
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(240), "kalc.yaml": kalc_yaml(rate=5),
    })
    assert report["verdict"] == "unsafe"
    placed = assumption(report, "pods per node")
    assert placed["value"].startswith("at most 110 of 240")
    assert placed["origin"] == "default"
    assert "maxPods default 110" in placed["note"]


@pytest.mark.parametrize("setting", [
    ("", "    max_per_node: 20\n"),
    ("  max_pods_per_node: 20\n", ""),
])
def test_a_narrower_placement_in_kalc_yaml_is_a_listed_assumption(tmp_path, capsys, setting):
    extra_cluster, extra_lookup = setting
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(240),
        "kalc.yaml": kalc_yaml(rate=5, extra_cluster=extra_cluster, extra_lookup=extra_lookup),
    })
    assert report["verdict"] == "proved"
    assert report["worst_step"] == {"u0": 200}  # 20 pods x 5 lookups x A, AAAA
    placed = assumption(report, "pods per node")
    assert placed["value"].startswith("at most 20 of 240")
    assert placed["origin"] == "kalc.yaml"
    assert placed["at"].startswith(str(tmp_path / "kalc.yaml"))


@pytest.mark.parametrize(("extra_lookup", "verdict"), [("", "unsafe"), ("    max_per_node: 20\n", "proved")])
def test_node_local_dns_sends_what_the_pods_of_its_node_ask(tmp_path, capsys, extra_lookup, verdict):
    """240 pods behind NodeLocal DNSCache look up 1,000 names at 5 lookups/s per pod:
    110 pods on one node make 550 lookups, 1,100 packets (A, AAAA) on a cold cache;
    20 pods make 200 packets."""
    example = EXAMPLES / "nodelocal-dns"
    env = kalc_yaml(rate=0.005, extra_lookup=extra_lookup).replace(
        "    ttl: 60\n", "    ttl: 60\n    count: 1000\n  - id: other\n    example: b.example.com\n"
    ).replace("names: [api]", "names: [api, other]")
    report = check(tmp_path, capsys, {
        "coredns.yaml": (example / "coredns.yaml").read_text(),
        "coredns-configmap.yaml": (example / "coredns-configmap.yaml").read_text(),
        "nodelocaldns.yaml": (example / "nodelocaldns.yaml").read_text(),
        "agent.yaml": workload(240, host_network=False), "kalc.yaml": env,
    })
    assert {f["via"] for f in report["flows"]} == {"nodelocal"}
    assert report["verdict"] == verdict
    assumption(report, "pods per node")  # once per pod class, not per name


# ---- (b) the same with hard rules in the manifest


def test_required_anti_affinity_keeps_one_pod_per_node(tmp_path, capsys):
    rules = ANTI_AFFINITY.format(labels="app: agent")
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(240, rules=rules),
        "kalc.yaml": kalc_yaml(rate=5),
    })
    assert report["verdict"] == "proved"
    placed = assumption(report, "pods per node")
    assert placed["value"].startswith("at most 1 of 240")
    assert placed["origin"] == "manifests"
    assert "podAntiAffinity" in placed["note"]
    line = line_of(tmp_path / "agent.yaml", "- labelSelector")
    assert placed["at"] == f"{tmp_path / 'agent.yaml'}:{line}:13"
    # 240 pods on 20 nodes: the busiest node has at least 1/20 of the lookups (60/s)
    assert report["worst_step"] == {"u0": 120}


def test_a_do_not_schedule_spread_bounds_the_busiest_node(tmp_path, capsys):
    """maxSkew 2 over 20 nodes: at most floor((240 + 2 x 19) / 20) = 13 pods on one node."""
    rules = SPREAD.format(skew=2, when="DoNotSchedule", labels="app: agent")
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(240, rules=rules),
        "kalc.yaml": kalc_yaml(rate=5),
    })
    placed = assumption(report, "pods per node")
    assert placed["value"].startswith("at most 13 of 240")
    assert "maxSkew 2" in placed["note"]
    assert report["worst_step"] == {"u0": 130}


def test_a_schedule_anyway_spread_is_only_a_preference(tmp_path, capsys):
    rules = SPREAD.format(skew=1, when="ScheduleAnyway", labels="app: agent")
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(240, rules=rules),
        "kalc.yaml": kalc_yaml(rate=5),
    })
    assert report["verdict"] == "unsafe"
    assert assumption(report, "pods per node")["value"].startswith("at most 110 of 240")


def test_hostnetwork_pods_with_a_port_take_one_node_each(tmp_path, capsys):
    ports = "        ports: [{containerPort: 8126}]\n"
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(240, requests=ports),
        "kalc.yaml": kalc_yaml(rate=5),
    })
    placed = assumption(report, "pods per node")
    assert placed["value"].startswith("at most 1 of 240")
    assert "host port" in placed["note"]
    assert report["verdict"] == "proved"


def test_a_hostnetwork_daemonset_sends_from_every_node_alike(tmp_path, capsys):
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(None, kind="DaemonSet"),
        "kalc.yaml": kalc_yaml(rate=5),
    })
    assert report["verdict"] == "proved"
    placed = assumption(report, "pods per node")
    assert placed["value"].startswith("at most 1 of 20")
    assert report["worst_step"] == {"u0": 10}


def test_cpu_requests_against_allocatable_bound_the_pods_of_a_node(tmp_path, capsys):
    nodes = "".join(
        f"---\napiVersion: v1\nkind: Node\nmetadata:\n  name: n{i}\nstatus:\n"
        f"  allocatable: {{cpu: 3920m, memory: 15Gi, pods: '58'}}\n"
        for i in range(20)
    )
    requests = "        resources:\n          requests: {cpu: 500m}\n"
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(), "agent.yaml": workload(240, requests=requests) + nodes,
        "kalc.yaml": kalc_yaml(rate=5),
    })
    assert assumption(report, "cluster.max_pods_per_node")["value"] == "58"
    placed = assumption(report, "pods per node")
    assert placed["value"].startswith("at most 7 of 240")  # 3920m // 500m
    assert "cpu requests" in placed["note"]


# ---- CoreDNS replicas on one node


@pytest.mark.parametrize(("rules", "expected", "reason"), [
    (COREDNS_APART, "1", "podAntiAffinity"),
    (SPREAD.format(skew=1, when="DoNotSchedule", labels="k8s-app: kube-dns"), "2", "maxSkew 1"),
    ("", "4", "no hard rule"),
    (SPREAD.format(skew=1, when="ScheduleAnyway", labels="k8s-app: kube-dns"), "4", "no hard rule"),
])
def test_coredns_replicas_per_node_come_from_the_deployment(tmp_path, capsys, rules, expected, reason):
    report = check(tmp_path, capsys, {
        "coredns.yaml": coredns(replicas=4, rules=rules),
        "agent.yaml": workload(240, rules=ANTI_AFFINITY.format(labels="app: agent")),
        "kalc.yaml": kalc_yaml(rate=5, nodes=3),
    })
    taken = assumption(report, "coredns.replicas_per_node")
    assert taken["value"] == expected  # spread: floor((4 + 1 x 2) / 3) = 2
    assert taken["origin"] == "manifests"
    assert reason in taken["note"]
    assert taken["at"].startswith(str(tmp_path / "coredns.yaml"))


# ---- (c) rounding that follows the stated rule; (d) shares that add up


def coredns_clients(pods, *, scope, limit):
    """``pods`` ClusterFirst pods, one lookup/s each, through 4 uncached CoreDNS replicas
    (skew 0.1: the busiest gets at most 11/40 of the lookups); 2 upstream packets per
    lookup (A and AAAA of the name as given; the search names are answered locally)."""
    return {
        "coredns.yaml": coredns(replicas=4, cache=""),
        "agent.yaml": workload(pods, host_network=False),
        "kalc.yaml": kalc_yaml(rate=1, nodes=4, scope=scope, limit=limit),
    }


@pytest.mark.parametrize(("pods", "verdict"), [(1003, "proved"), (1004, "unsafe")])
def test_a_replica_exactly_at_its_limit_is_safe(tmp_path, capsys, pods, verdict):
    """floor(11/40 x 1003) = 275 lookups -> 550 packets: exactly the limit; 1,004 give 276."""
    report = check(tmp_path, capsys, coredns_clients(pods, scope="pod", limit=550))
    assert report["verdict"] == verdict


@pytest.mark.parametrize(("pods", "verdict"), [(1000, "proved"), (1001, "unsafe")])
def test_the_replicas_of_a_cluster_scope_share_the_cluster_lookups(tmp_path, capsys, pods, verdict):
    """Every replica at its busiest share would be 4 x 275 = 1,100 lookups of 1,000; all
    of them together send at most 2 packets per lookup of the cluster."""
    report = check(tmp_path, capsys, coredns_clients(pods, scope="cluster", limit=2000))
    assert report["verdict"] == verdict


# ---- the rules themselves


def brute_force_most_on_one_node(pods, nodes, skew):
    """The most pods on one node over every order the scheduler's DoNotSchedule filter
    allows: a pod may land on node n if count(n) + 1 - min(counts) <= maxSkew."""
    seen = set()
    frontier = {tuple([0] * nodes)}
    best = 0
    while frontier:
        counts = frontier.pop()
        best = max(best, max(counts))
        if sum(counts) == pods:
            continue
        for n in range(nodes):
            if counts[n] + 1 - min(counts) <= skew:
                placed = tuple(sorted((*counts[:n], counts[n] + 1, *counts[n + 1:])))
                if placed not in seen:
                    seen.add(placed)
                    frontier.add(placed)
    return best


@given(pods=st.integers(0, 14), nodes=st.integers(1, 5), skew=st.integers(1, 4))
def test_the_spread_bound_is_the_most_the_filter_allows(pods, nodes, skew):
    span = Span("x.yaml", 1, 1)
    placement = Placement(spread=((skew, span),))
    bound = pods_per_node("Deployment", pods, placement, eligible_nodes=nodes, workload_span=span)
    assert bound.pods == brute_force_most_on_one_node(pods, nodes, skew)


@given(
    lookups=st.integers(0, 3000), replicas=st.integers(1, 8), skew=st.sampled_from(
        [Fraction(0), Fraction(1, 10), Fraction(1, 4), Fraction(1)]
    ),
)
def test_lookup_bounds_follow_the_rule_and_always_allow_a_split(lookups, replicas, skew):
    low_share, high_share = (1 - skew) / replicas, min(Fraction(1), (1 + skew) / replicas)
    group = Group("g", max(Fraction(0), low_share), high_share, replicas=replicas, serving=replicas)
    low, high = group.lookup_bounds("f", lookups)
    assert replicas * low <= lookups <= replicas * high  # some integral split fits
    if replicas * (high_share * lookups // 1) >= lookups:
        assert high <= high_share * lookups  # never above the stated share
    assert low >= low_share * lookups - 1


# ---- placement.py's rules one at a time (no check run)


def placement_of(pod_spec, *, kind="Deployment", labels="{app: agent}"):
    """The Placement read from a Deployment whose pod spec has ``pod_spec`` (YAML lines
    indented for the pod spec) before its containers."""
    text = manifest_text.workload(
        "agent", "monitoring", 3, image="example.com/agent:1", kind=kind, pod_spec=pod_spec,
    ).replace("labels: {app: agent}", f"labels: {labels}")
    document = load_text(text, "agent.yaml").documents[0]
    reader = FieldReader(document)
    placement = read_placement(reader, kind, reader.strings(*pod_path(kind)[:-1], "metadata", "labels"))
    assert reader.errors == []
    return placement


@pytest.mark.parametrize(("quantity", "millis"), [
    ("4", 4000), ("3920m", 3920), ("1.5", 1500), ("0.1", 100), (2, 2000), (0.25, 250),
    ("250m", 250), (True, None), ("1e3", None), ("-1", None), ("4 cores", None), (None, None),
])
def test_cpu_quantities(quantity, millis):
    assert cpu_millis(quantity) == millis


@pytest.mark.parametrize(("quantity", "size"), [
    ("128Mi", 128 * 2**20), ("1G", 10**9), ("1.5Gi", 3 * 2**29), ("1048576", 2**20),
    ("2k", 2000), (512, 512), (False, None), ("1Pi", None), ("1e6", None), ("-1Mi", None),
])
def test_memory_quantities(quantity, size):
    assert memory_bytes(quantity) == size


NODE_AFFINITY = """\
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
{terms}"""


@pytest.mark.parametrize(("terms", "labels", "eligible"), [
    ("            - matchExpressions: [{key: pool, operator: In, values: [dns, web]}]\n",
     {"pool": "web"}, True),
    ("            - matchExpressions: [{key: pool, operator: In, values: [dns]}]\n",
     {}, False),
    ("            - matchExpressions: [{key: pool, operator: NotIn, values: [gpu]}]\n",
     {}, True),
    ("            - matchExpressions: [{key: pool, operator: NotIn, values: [gpu]}]\n",
     {"pool": "gpu"}, False),
    ("            - matchExpressions: [{key: spot, operator: Exists}]\n", {"spot": ""}, True),
    ("            - matchExpressions: [{key: spot, operator: DoesNotExist}]\n", {"spot": ""}, False),
    ("            - matchExpressions: [{key: cores, operator: Gt, values: ['8']}]\n",
     {"cores": "16"}, True),
    ("            - matchExpressions: [{key: cores, operator: Lt, values: ['8']}]\n",
     {"cores": "16"}, False),
    ("            - matchExpressions: [{key: cores, operator: Gt, values: ['8']}]\n",
     {"cores": "many"}, None),
    ("            - matchExpressions: [{key: cores, operator: Gt, values: ['8']}]\n", {}, False),
    ("            - matchExpressions: [{key: pool, operator: Near, values: [a]}]\n",
     {"pool": "a"}, None),
    ("            - matchFields: [{key: metadata.name, operator: In, values: [n1]}]\n",
     {}, None),
    ("            - {}\n", {"pool": "a"}, False),
    # any term may hold; one that cannot be told makes "no" a "cannot tell"
    ("            - matchExpressions: [{key: pool, operator: In, values: [dns]}]\n"
     "            - matchExpressions: [{key: pool, operator: Near, values: [a]}]\n",
     {"pool": "a"}, None),
    ("            - matchExpressions: [{key: pool, operator: Near, values: [a]}]\n"
     "            - matchExpressions: [{key: pool, operator: In, values: [a]}]\n",
     {"pool": "a"}, True),
    ("            - matchExpressions:\n"
     "              - {key: pool, operator: In, values: [a]}\n"
     "              - {key: zone, operator: In, values: [z1]}\n",
     {"pool": "a", "zone": "z2"}, False),
])
def test_required_node_affinity_decides_eligible_nodes(terms, labels, eligible):
    placement = placement_of(NODE_AFFINITY.format(terms=terms))
    assert placement.restricted
    assert placement.eligible(labels) is eligible
    assert eligible_nodes(placement, [labels, labels], 20) == (2 if eligible is True else 0)


def test_a_node_selector_must_match_every_label_and_is_pointed_at():
    placement = placement_of("      nodeSelector: {pool: dns, zone: z1}\n")
    assert placement.node_selector == (("pool", "dns"), ("zone", "z1"))
    assert placement.eligible({"pool": "dns", "zone": "z1", "x": "y"}) is True
    assert placement.eligible({"pool": "dns"}) is False
    assert str(placement.node_rules) == "agent.yaml:14:21"


def test_eligible_nodes_without_node_objects():
    assert eligible_nodes(placement_of(""), [], 20) == 20
    assert eligible_nodes(placement_of("      nodeSelector: {pool: dns}\n"), [], 20) == 1


@pytest.mark.parametrize(("spread", "counted"), [
    ("      - {maxSkew: 2, topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: agent}}}\n", (2,)),
    ("      - {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway,"
     " labelSelector: {matchLabels: {app: agent}}}\n", ()),
    ("      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: agent}}}\n", ()),
    ("      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: other}}}\n", ()),
    ("      - {maxSkew: 0, topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: agent}}}\n", ()),
    ("      - {maxSkew: true, topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: agent}}}\n", ()),
    ("      - {maxSkew: 3, topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: agent}}}\n"
     "      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: agent}}}\n", (3, 1)),
])
def test_only_donotschedule_hostname_spreads_over_the_pods_own_labels_count(spread, counted):
    placement = placement_of("      topologySpreadConstraints:\n" + spread)
    assert tuple(skew for skew, _ in placement.spread) == counted


@pytest.mark.parametrize(("pod_spec", "container", "taken"), [
    ("", "        ports: [{containerPort: 8080}]\n", False),
    ("", "        ports: [{containerPort: 8080, hostPort: 80}]\n", True),
    ("      hostNetwork: true\n", "        ports: [{containerPort: 8080}]\n", True),
    ("      hostNetwork: true\n", "        ports: [{containerPort: 0}, {name: x}]\n", False),
    ("      hostNetwork: true\n", "", False),
])
def test_a_pod_takes_a_host_port_with_hostport_or_host_network(pod_spec, container, taken):
    text = manifest_text.workload(
        "agent", "monitoring", 3, image="example.com/agent:1", pod_spec=pod_spec, container=container,
    )
    reader = FieldReader(load_text(text, "agent.yaml").documents[0])
    placement = read_placement(reader, "Deployment", {"app": "agent"})
    assert (placement.host_port is not None) is taken


def test_requests_add_up_over_containers_and_count_zero_where_missing():
    text = manifest_text.workload(
        "agent", "monitoring", 3, image="example.com/agent:1",
        container="        resources: {requests: {cpu: 250m, memory: 64Mi}}\n"
        "      - name: sidecar\n        image: example.com/sidecar:1\n"
        "        resources: {requests: {cpu: '1'}}\n"
        "      - name: bare\n        image: example.com/bare:1\n",
    )
    reader = FieldReader(load_text(text, "agent.yaml").documents[0])
    placement = read_placement(reader, "Deployment", {"app": "agent"})
    assert (placement.cpu_millis, placement.memory_bytes) == (1250, 64 * 2**20)


def test_pods_per_node_takes_the_tightest_rule_and_a_narrower_setting():
    span = Span("agent.yaml", 1, 1)
    spread = Placement(spread=((5, Span("agent.yaml", 9, 9)),))
    bound = pods_per_node("Deployment", 100, spread, eligible_nodes=0, workload_span=span)
    assert bound.pods == 100  # no eligible node counts as one: (100 + 5 x 0) // 1
    bound = pods_per_node("Deployment", 100, spread, eligible_nodes=10, workload_span=span)
    assert bound.pods == (100 + 5 * 9) // 10
    wider = NodeBound(50, "max_per_node", "kalc.yaml")
    narrower = NodeBound(3, "max_per_node", "kalc.yaml")
    assert pods_per_node("Deployment", 100, spread, eligible_nodes=10, workload_span=span,
                         narrowed=wider).pods == 14
    assert pods_per_node("Deployment", 100, spread, eligible_nodes=10, workload_span=span,
                         narrowed=narrower) is narrower
    daemon = pods_per_node("DaemonSet", 100, Placement(), eligible_nodes=10, workload_span=span)
    assert (daemon.pods, daemon.reason) == (1, "DaemonSet: one pod per node")
    assert pods_per_node("Deployment", 7, Placement(), eligible_nodes=10,
                         workload_span=span).reason == "no hard rule keeps them apart"


@pytest.mark.parametrize(("quantity", "millis"), [
    (1.8e305, None), (float("inf"), None), (float("nan"), None),
    ("1" + "0" * 400, 10 ** 403), ("0.0005", 0), ("1.5", 1500), ("250m", 250), (2, 2000),
])
def test_cpu_quantities_of_any_size_read_without_overflow(quantity, millis):
    assert cpu_millis(quantity) == millis


def test_memory_quantities_are_exact_decimals():
    assert memory_bytes("1" + "0" * 400 + "Gi") == 10 ** 400 * 2 ** 30
    assert memory_bytes("1.5Ki") == 1536
