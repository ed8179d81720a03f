"""The analysis of small clusters written here: groups and their shares, scopes and their
caps, pools and their capacities, key classes per namespace, and what names resolve to."""

import shutil
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from kalc_formal import engine
from kalc_formal.analysis.ids import GroupKey, KeyRef, PoolKey
from kalc_formal.analysis.pools import CACHE_SHARDS, model_pool, pool_capacity
from kalc_formal.analysis.world import service_world, upstream_world
from kalc_formal.config import reading
from kalc_formal.config.names import NameClass
from kalc_formal.coredns.server import ServerReply, ServerSetup

COREFILE = """\
.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
    }
    forward . /etc/resolv.conf
    cache 30
}
"""

ANTI_AFFINITY = """\
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: {app: %s}
            topologyKey: kubernetes.io/hostname
"""


def coredns(replicas: int, corefile: str) -> str:
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: coredns, namespace: kube-system}}
data:
  Corefile: |
{textwrap.indent(corefile, "    ")}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: coredns, namespace: kube-system, labels: {{k8s-app: kube-dns}}}}
spec:
  replicas: {replicas}
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: 1}}}}
  selector: {{matchLabels: {{app: coredns}}}}
  template:
    metadata: {{labels: {{app: coredns}}}}
    spec:
      dnsPolicy: Default
{ANTI_AFFINITY % "coredns"}      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v1.11.1
---
apiVersion: v1
kind: Service
metadata: {{name: kube-dns, namespace: kube-system}}
spec:
  clusterIP: 10.96.0.10
  ports: [{{name: dns, port: 53, protocol: UDP}}]
"""


def workload(name: str, namespace: str, replicas: int, extra: str = "") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
{extra}      containers:
      - {{name: app, image: app:1}}
"""


def kalc_yaml(*, nodes=3, scope="node", search=(), outage=0, lookup="", names="", coredns_=""):
    outage_line = f"\n    outage_steps: {outage}" if outage else ""
    return f"""\
cluster:
  nodes: {nodes}
  node_search: [{", ".join(search)}]
  node_nameservers: [10.0.0.2]
upstreams:
  - address: node
    limit: 1024
    scope: {scope}{outage_line}
names:
  - {{id: ext, example: api.example.com, count: 20}}
{names}lookups:
  - names: [ext]
    rate: 1
{lookup}{coredns_}"""


def analysed(tmp_path, *workloads, replicas=2, corefile=COREFILE, **kalc):
    (tmp_path / "coredns.yaml").write_text(coredns(replicas, corefile))
    (tmp_path / "workloads.yaml").write_text("---\n".join(workloads))
    (tmp_path / "kalc.yaml").write_text(kalc_yaml(**kalc))
    return engine.analyse_inputs(reading.read_inputs([str(tmp_path)]))


def test_the_busiest_replica_gets_between_1_minus_and_1_plus_skew_over_replicas_K7(tmp_path):
    analysis = analysed(tmp_path, workload("web", "shop", 10), replicas=4)
    (group,) = analysis.model.groups
    assert group.id == "coredns"
    assert (group.share_min, group.share_max) == (Fraction(9, 40), Fraction(11, 40))
    assert (group.replicas, group.serving, group.flow_shares) == (4, 4, ())
    assert analysis.groups["coredns"].server == "coredns"


def test_during_a_rollout_the_lookups_are_shared_by_the_replicas_still_serving(tmp_path):
    analysis = analysed(tmp_path, workload("web", "shop", 10), replicas=4,
                        coredns_="coredns:\n  rollout: true\n")
    (group,) = analysis.model.groups
    assert (group.replicas, group.serving) == (4, 3)
    assert group.share_max == Fraction(11, 30)
    assert group.restarts == 1


@pytest.mark.parametrize(("scope", "groups", "members"), [
    ("node", ["coredns"], (("coredns", 1),)),
    ("pod", ["coredns"], (("coredns", 1),)),
    ("cluster", ["coredns", "coredns-others"], (("coredns", 1), ("coredns-others", 3))),
])
def test_the_other_replicas_are_a_group_only_when_a_scope_counts_the_cluster(
    tmp_path, scope, groups, members,
):
    analysis = analysed(tmp_path, workload("web", "shop", 10), replicas=4, scope=scope)
    assert [g.id for g in analysis.model.groups] == groups
    (model_scope,) = analysis.model.scopes
    assert model_scope.members == members
    assert [g.server for g in analysis.groups.values()] == ["coredns"] * len(groups)


HOST_RESOLVER = "      dnsPolicy: Default\n"


@pytest.mark.parametrize(("extra", "lookup", "high"), [
    ("", "", Fraction(1)),
    (ANTI_AFFINITY % "web", "", Fraction(1, 10)),
    ("", "    max_per_node: 6\n", Fraction(1, 5)),
])
def test_pods_asking_the_node_get_a_share_per_flow_from_their_placement_H3(tmp_path, extra, lookup, high):
    """At most min(P, cap) / P of a class's lookups leave the busiest node, never less
    than 1 / nodes; at least none (nothing forces a pod onto a node)."""
    analysis = analysed(tmp_path, workload("web", "shop", 30, HOST_RESOLVER + extra),
                        nodes=10, lookup=lookup)
    (flow,) = analysis.model.flows
    assert analysis.flows[flow.id].server == "direct"
    group = analysis.model.group("direct")
    assert group.flow_shares == ((flow.id, Fraction(0), high),)
    assert analysis.groups["direct"].server == "direct"
    assert any(a.key == "pods per node" for a in analysis.assumptions)


@pytest.mark.parametrize(("search", "upstream"), [((), 2), (("eu-west-1.compute.internal",), 4)])
def test_a_scope_is_capped_by_the_packets_of_one_lookup_on_a_cold_path_K3(tmp_path, search, upstream):
    """glibc with ndots:5 asks 2 x (3 + k + 1) names; the cluster zone answers the three
    cluster suffixes, the k host suffixes and the bare name go upstream."""
    analysis = analysed(tmp_path, workload("web", "shop", 10), search=search)
    (flow,) = analysis.model.flows
    info = analysis.flows[flow.id]
    assert len(info.client_queries) == 2 * (3 + len(search) + 1)
    assert info.upstream_cold == upstream
    (scope,) = analysis.model.scopes
    assert scope.lookup_packets == ((flow.id, upstream),)


def test_no_cold_path_cap_when_the_upstream_may_be_out_K4(tmp_path):
    analysis = analysed(tmp_path, workload("web", "shop", 10), outage=3)
    (scope,) = analysis.model.scopes
    assert scope.lookup_packets == ()
    assert scope.outage_steps == 3


def test_key_classes_count_names_times_namespaces_for_per_namespace_keys_D2_D6(tmp_path):
    """One key per name and qtype (and namespace, where the qname holds it); A and AAAA
    merge where they behave alike, not for the bare name, whose AAAA is NODATA (denial)."""
    analysis = analysed(tmp_path, workload("a", "ns1", 2), workload("b", "ns2", 2),
                        workload("c", "ns3", 2))
    keys: dict[str, list] = {}
    for key in analysis.model.key_classes:
        keys.setdefault(analysis.keys[key.id].template, []).append(key)
    (own,) = keys["<name:ext>.<ns:kf-ns-p0>.svc.cluster.local."]
    assert analysis.keys[own.id].per_namespace
    assert own.keys == 20 * 3 * 2  # names x namespaces x (A, AAAA)
    for shared in ("<name:ext>.svc.cluster.local.", "<name:ext>.cluster.local."):
        (key,) = keys[shared]
        assert not analysis.keys[key.id].per_namespace
        assert key.keys == 20 * 2
    bare = {frozenset(analysis.keys[k.id].qtypes): (k.keys, analysis.keys[k.id].pool) for k in keys["<name:ext>."]}
    assert bare == {frozenset({"A"}): (20, "success"), frozenset({"AAAA"}): (20, "denial")}


def test_pools_take_their_capacity_from_the_cache_block_D1_D3(tmp_path):
    corefile = COREFILE.replace("cache 30\n", "cache 30 {\n        success 5000\n        denial 2560\n    }\n")
    analysis = analysed(tmp_path, workload("web", "shop", 10), corefile=corefile)
    kinds = {analysis.keys[k.id].pool: analysis.model.pool(k.pool) for k in analysis.model.key_classes if k.pool}
    assert {kind: (p.capacity, p.shard_capacity) for kind, p in kinds.items()} == {
        "success": (4864, 19), "denial": (2560, 10),
    }
    assert {p.group for p in analysis.model.pools} == {"coredns"}


CACHE_ID = "cache@deeper/still/deeper/coredns.yaml:9"


@pytest.mark.parametrize(("kind", "capacity"), [("success", 4864), ("denial", 2560)])
def test_a_pool_capacity_is_read_by_its_key_not_from_its_id(kind, capacity):
    setup = ServerSetup((), cache_capacity={CACHE_ID: (4864, 2560)})
    pool = PoolKey("coredns", CACHE_ID, kind)
    assert pool.id == f"coredns/{CACHE_ID}/{kind}"
    assert pool_capacity(setup, pool) == capacity
    assert pool_capacity(setup, PoolKey("coredns", "cache@other:1", kind)) == 9984
    assert pool_capacity(None, pool) == 9984


def test_a_pool_holds_a_shard_per_256th_unless_keys_are_assumed_even_D3():
    setup = ServerSetup((), cache_capacity={CACHE_ID: (4864, 1024)})
    pool = PoolKey("nodelocal", CACHE_ID, "denial")
    assert model_pool(pool, setup, "any").shard_capacity == 1024 // CACHE_SHARDS == 4
    even = model_pool(pool, setup, "even")
    assert (even.id, even.group, even.capacity, even.shard_capacity) == (pool.id, "nodelocal", 1024, 0)


def test_typed_ids_render_once_and_a_qtype_free_key_joins_a_and_aaaa():
    assert GroupKey("coredns").id == "coredns"
    assert GroupKey("direct", others=True).id == "direct-others"
    a = KeyRef("coredns", "cache", "<name:x>.", "A", cache=CACHE_ID)
    aaaa = KeyRef("coredns", "cache", "<name:x>.", "AAAA", cache=CACHE_ID)
    assert a.id == f"coredns/cache:{CACHE_ID}/<name:x>./A"
    assert a.any_qtype == aaaa.any_qtype
    assert a.any_qtype != KeyRef("coredns", "walk", "<name:x>.", "A").any_qtype


def test_the_flow_of_a_pod_class_and_a_name_is_found_by_its_parts(tmp_path):
    analysis = analysed(tmp_path, workload("web", "shop", 10))
    assert analysis.flow("p0", "ext").pods_base == 10
    assert analysis.flow("p0", "ext").id == "p0/ext"


def test_an_upstream_that_nothing_is_sent_to_is_reported_and_nothing_is_checked(tmp_path):
    corefile = COREFILE.replace("forward . /etc/resolv.conf", "forward . 10.9.9.9")
    analysis = analysed(tmp_path, workload("web", "shop", 10), corefile=corefile)
    (warning,) = analysis.warnings
    assert "the model sends nothing to upstream 10.0.0.2" in warning
    assert "send to 10.9.9.9" in warning
    assert analysis.nothing_checked.startswith("no upstream receives any query of the model")


def name(text, *, exists=True, aaaa=False, ttl=30, negative_ttl=60, service=None, namespace=None):
    kind = "external" if service is None else "service (short)"
    return NameClass(text, text, 1, kind, text, exists, ttl, negative_ttl, aaaa, service, namespace)


def test_the_upstream_answers_the_names_given_and_nxdomain_under_them_with_their_negative_ttl():
    answer = upstream_world([name("api.example.com", negative_ttl=90),
                             name("gone.example.com", exists=False, negative_ttl=15)])
    assert answer("api.example.com.", "A") == ServerReply("NOERROR", answer=True, ttl=30)
    assert answer("api.example.com.", "AAAA") == ServerReply("NOERROR", answer=False, ttl=90)
    assert answer("gone.example.com.", "A") == ServerReply("NXDOMAIN", ttl=15)
    assert answer("api.example.com.ec2.internal.", "A") == ServerReply("NXDOMAIN", ttl=90)
    assert answer("other.example.org.", "A") == ServerReply("NXDOMAIN", ttl=60)


def test_a_service_without_a_namespace_exists_in_every_namespace_with_the_plugin_ttl_F3_F4():
    names = [name("web", service="web"), name("db", service="db", namespace="data", aaaa=True)]
    answer = service_world(names, "cluster.local", lambda: 30)
    assert answer("web.anything.svc.cluster.local.", "A") == ServerReply("NOERROR", answer=True, ttl=30)
    assert answer("web.anything.svc.cluster.local.", "AAAA") == ServerReply("NOERROR", answer=False, ttl=30)
    assert answer("db.data.svc.cluster.local.", "AAAA") == ServerReply("NOERROR", answer=True, ttl=30)
    assert answer("db.other.svc.cluster.local.", "A") is None
    assert answer("web.svc.cluster.local.", "A") is None
    assert answer("web.anything.svc.example.org.", "A") is None


def test_node_groups_list_the_shares_of_their_own_flows_only_J1(tmp_path):
    """With NodeLocal DNSCache, ClusterFirst pods ask the node-local cache and Default
    pods the node's nameservers: each node group lists only the flows it serves."""
    examples = Path(__file__).resolve().parent.parent / "examples"
    shutil.copytree(examples / "nodelocal-dns", tmp_path / "c")
    with (tmp_path / "c" / "workloads.yaml").open("a") as out:
        out.write("---\n" + workload("agent", "ops", 5, HOST_RESOLVER))
    analysis = engine.analyse_inputs(reading.read_inputs([str(tmp_path / "c")]))
    served = {g.id: [f for f, _, _ in g.flow_shares] for g in analysis.model.groups}
    by_server = {server: sorted(f.id for f in analysis.flows.values() if f.server == server)
                 for server in ("nodelocal", "direct")}
    assert by_server["direct"]
    assert by_server["nodelocal"]
    assert sorted(served["nodelocal"]) == by_server["nodelocal"]
    assert sorted(served["direct"]) == by_server["direct"]
