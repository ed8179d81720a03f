"""From cost trees to counted key classes: templates, counts, feeds, merging A/AAAA."""

from fractions import Fraction

from kalc_formal.analysis.keyclasses import (
    Arrivals,
    KeyClassBuilder,
    KeyPeak,
    NamePlaceholder,
    NamespacePlaceholder,
)
from kalc_formal.coredns.server import (
    AutopathStep,
    BlockPlan,
    CacheStep,
    Client,
    ForwardStep,
    KubernetesStep,
    Query,
    Server,
    ServerReply,
)

CACHE = CacheStep("cache", (".",), success_max=30, denial_max=30)
AUTOPATH = AutopathStep((".",), from_kubernetes=True)
KUBERNETES = KubernetesStep(("cluster.local.",), pods_verified=True, ttl=5)
FORWARD = ForwardStep("forward", ".", (), ("10.0.0.2",))
NAME = NamePlaceholder("ext", "api.example.com", count=20)
NS = NamespacePlaceholder("kf-ns-0", count=100)


def world(qname, qtype):
    if qname == "api.example.com.":
        return ServerReply("NOERROR", answer=True, ttl=5)
    return ServerReply("NXDOMAIN", ttl=60)


PEAK = KeyPeak(per_name=300, per_name_and_namespace=3)


def build(*steps, guaranteed=0.5, arrivals=None):
    server = Server((BlockPlan((".",), steps),), world, lambda q, t: None,
                    own_search=("ec2.internal.",))
    builder = KeyClassBuilder("hot", 1, {"forward": ("node",)}, arrivals=arrivals)
    for qtype in ("A", "AAAA"):
        served = server.serve(Query("api.example.com.kf-ns-0.svc.cluster.local.", qtype),
                              Client("kf-ns-0"))
        builder.add_query("ext", served.operations, NAME, NS, guaranteed, PEAK)
    return builder


def test_before_1_14_7_one_per_namespace_class_with_two_upstream_packets_per_miss():
    builder = build(CACHE, AUTOPATH, KUBERNETES, FORWARD)
    (key,) = builder.key_classes()
    assert key.keys == 2 * 20 * 100
    assert key.ttl_steps == 5
    assert key.demand == (("ext", 2),)
    assert key.upstream == (("node", 2),)
    assert not key.every_key_every_step
    info = builder.info[key.id]
    assert info.template == "<name:ext>.<ns:kf-ns-0>.svc.cluster.local."
    assert info.qtypes == {"A", "AAAA"}
    assert info.per_namespace
    assert info.walk


def by_template(builder):
    return {
        (builder.info[k.id].template, "walk" if k.ttl_steps == 0 else "cache"): k
        for k in builder.key_classes()
    }


def test_from_1_14_7_the_walk_feeds_shared_cached_classes():
    builder = build(AUTOPATH, CACHE, KUBERNETES, FORWARD)
    keys = by_template(builder)
    walk = keys[("<name:ext>.<ns:kf-ns-0>.svc.cluster.local.", "walk")]
    assert walk.ttl_steps == 0
    assert walk.keys == 4000
    bare = keys[("<name:ext>.", "cache")]
    assert bare.keys == 40
    assert bare.fed_by == ((walk.id, 1),)
    assert bare.upstream == (("node", 1),)
    host = keys[("<name:ext>.ec2.internal.", "cache")]
    assert host.ttl_steps == 30
    local = [k for k in keys.values() if k.ttl_steps and not k.upstream]
    assert sorted(k.keys for k in local) == [40, 40, 4000]


def test_every_key_every_step_when_the_baseline_reaches_each_key_each_step():
    builder = build(AUTOPATH, CACHE, KUBERNETES, FORWARD, guaranteed=2000.0)
    keys = by_template(builder)
    assert keys[("<name:ext>.", "cache")].every_key_every_step
    assert keys[("<name:ext>.<ns:kf-ns-0>.svc.cluster.local.", "cache")].every_key_every_step
    builder = build(AUTOPATH, CACHE, KUBERNETES, FORWARD, guaranteed=1999.0)
    keys = by_template(builder)
    assert keys[("<name:ext>.", "cache")].every_key_every_step
    assert not keys[("<name:ext>.<ns:kf-ns-0>.svc.cluster.local.", "cache")].every_key_every_step


def test_a_key_misses_at_most_as_often_as_its_busiest_namespace_asks():
    builder = build(CACHE, AUTOPATH, KUBERNETES, FORWARD)
    (key,) = builder.key_classes()
    assert key.misses_per_fill == 3


def test_a_shared_key_fed_by_every_namespace_walk_takes_all_their_queries():
    builder = build(AUTOPATH, CACHE, KUBERNETES, FORWARD)
    keys = by_template(builder)
    assert keys[("<name:ext>.<ns:kf-ns-0>.svc.cluster.local.", "walk")].misses_per_fill == 3
    # 4,000 walk keys feed 40 bare-name keys: 100 namespaces x 3 queries each
    assert keys[("<name:ext>.", "cache")].misses_per_fill == 300


def test_spread_arrivals_bound_the_misses_within_one_reply_time():
    spread = Arrivals(burst=Fraction(2), reply_seconds=Fraction(1, 50))  # steps of 1 s
    keys = by_template(build(AUTOPATH, CACHE, KUBERNETES, FORWARD, arrivals=spread))
    # 1 + ceil(2 x 300 x 0.02) = 13
    assert keys[("<name:ext>.", "cache")].misses_per_fill == 13
    # 1 + ceil(2 x 3 x 0.02) = 2
    assert keys[("<name:ext>.<ns:kf-ns-0>.svc.cluster.local.", "cache")].misses_per_fill == 2


def test_pools_and_classes_keep_their_cache_id_whole_when_it_holds_slashes_and_colons():
    cache = CacheStep("cache@deeper/still/Corefile:9", (".",), success_max=30, denial_max=30)
    builder = build(AUTOPATH, cache, KUBERNETES, FORWARD)
    pools = {key.kind: key for key in builder.pools.values()}
    assert set(pools) == {"success", "denial"}
    assert {(p.group, p.cache) for p in pools.values()} == {("hot", cache.id)}
    for key in builder.key_classes():
        ref = builder.info[key.id].ref
        assert ref is not None
        assert ref.id == key.id
        if ref.kind == "cache":
            assert ref.cache == cache.id
            assert key.pool in builder.pools
    merged = by_template(builder)[("<name:ext>.", "cache")]
    assert builder.info[merged.id].qtypes == {"A", "AAAA"}


def test_a_name_id_holding_the_namespace_label_is_not_taken_for_the_namespace():
    """Only the qname after the representative name is searched for the namespace label:
    a name id (kalc.yaml allows dots) that holds it once made every key of the name per
    namespace, and its display unreadable."""
    name = NamePlaceholder("orders.shop.v1", "api.example.com", count=20)
    shop = NamespacePlaceholder("shop", count=1)
    server = Server((BlockPlan((".",), (CACHE, KUBERNETES, FORWARD)),), world, lambda q, t: None)
    builder = KeyClassBuilder("hot", 1, {"forward": ("node",)})
    for qname in ("api.example.com.", "api.example.com.shop.svc.cluster.local."):
        served = server.serve(Query(qname, "A"), Client("shop"))
        builder.add_query("orders", served.operations, name, shop, 0.5, PEAK)
    shown = {(info.template, info.display, info.per_namespace) for info in builder.info.values()}
    assert shown == {
        ("<name:orders.shop.v1>.", "api.example.com.", False),
        ("<name:orders.shop.v1>.<ns:shop>.svc.cluster.local.",
         "api.example.com.<namespace>.svc.cluster.local.", True),
    }
