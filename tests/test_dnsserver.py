"""The static server model: routing, cache, autopath by version, kubernetes, forward."""

from kalc_formal.coredns.server import (
    TCP_EXCHANGE_PACKETS,
    AutopathStep,
    BlockPlan,
    CacheLookup,
    CacheStep,
    Client,
    ForwardStep,
    KubernetesStep,
    Local,
    OpaqueStep,
    Query,
    Server,
    ServerReply,
    Unmodelled,
    UpstreamExchange,
    Walk,
    cache_duration,
)

CACHE = CacheStep("cache", (".",), success_max=30, denial_max=30)
AUTOPATH = AutopathStep((".",), from_kubernetes=True)
KUBERNETES = KubernetesStep(("cluster.local.", "in-addr.arpa."), pods_verified=True, ttl=5)
FORWARD = ForwardStep("forward", ".", (), ("10.0.0.2",))


def world(qname, qtype):
    if qname == "api.example.com.":
        return ServerReply("NOERROR", answer=qtype == "A", ttl=20 if qtype == "A" else 60)
    return ServerReply("NXDOMAIN", ttl=60)


def services(qname, qtype):
    if qname == "web.shop.svc.cluster.local.":
        return ServerReply("NOERROR", answer=qtype == "A", ttl=5)
    return None


def server(*steps, own_search=("ec2.internal.",)):
    block = BlockPlan((".",), tuple(steps))
    return Server((block,), world, services, own_search=own_search)


WEB = Client("web")
ORIGINAL = Query("api.example.com.web.svc.cluster.local.", "A")


def test_before_1_14_7_the_walk_skips_the_cache_and_its_answer_is_cached_per_namespace():
    # B3, C5, C6, C8, D8, K2: cache before autopath
    served = server(CACHE, AUTOPATH, KUBERNETES, FORWARD).serve(ORIGINAL, WEB)
    assert served.reply == ServerReply("NOERROR", answer=True, ttl=20)
    (lookup,) = served.operations
    assert isinstance(lookup, CacheLookup)
    assert lookup.query == ORIGINAL
    assert (lookup.pool, lookup.duration) == ("success", 20)
    (walk,) = lookup.on_miss
    assert isinstance(walk, Walk)
    kinds = [(type(op).__name__, op.query.qname) for op in walk.internal]
    assert kinds == [
        ("Local", "api.example.com.web.svc.cluster.local."),
        ("Local", "api.example.com.svc.cluster.local."),
        ("Local", "api.example.com.cluster.local."),
        ("UpstreamExchange", "api.example.com.ec2.internal."),
        ("UpstreamExchange", "api.example.com."),
    ]


def test_from_1_14_7_every_internal_lookup_goes_through_the_cache():
    # B2, C5, D8, K2: autopath before cache
    served = server(AUTOPATH, CACHE, KUBERNETES, FORWARD).serve(ORIGINAL, WEB)
    (walk,) = served.operations
    assert isinstance(walk, Walk)
    lookups = walk.internal
    assert all(isinstance(op, CacheLookup) for op in lookups)
    assert [(op.query.qname, op.pool, op.duration) for op in lookups] == [
        ("api.example.com.web.svc.cluster.local.", "denial", 5),
        ("api.example.com.svc.cluster.local.", "denial", 5),
        ("api.example.com.cluster.local.", "denial", 5),
        ("api.example.com.ec2.internal.", "denial", 30),
        ("api.example.com.", "success", 20),
    ]
    assert isinstance(lookups[3].on_miss[0], UpstreamExchange)
    assert isinstance(lookups[0].on_miss[0], Local)


def test_autopath_needs_verified_pods_and_a_visible_client():
    # C3, C14
    plain = KubernetesStep(("cluster.local.",), pods_verified=False)
    served = server(CACHE, AUTOPATH, plain, FORWARD).serve(ORIGINAL, WEB)
    assert served.reply.rcode == "NXDOMAIN"
    assert isinstance(served.operations[0].on_miss[0], Local)
    hidden = Client("web", autopath_visible=False)
    served = server(CACHE, AUTOPATH, KUBERNETES, FORWARD).serve(ORIGINAL, hidden)
    assert served.reply.rcode == "NXDOMAIN"


def test_autopath_acts_only_under_the_first_search_element():
    # C4
    query = Query("api.example.com.svc.cluster.local.", "A")
    served = server(AUTOPATH, CACHE, KUBERNETES, FORWARD).serve(query, WEB)
    (lookup,) = served.operations
    assert isinstance(lookup, CacheLookup)
    assert lookup.query == query


def test_a_walk_that_finds_nothing_answers_the_first_reply():
    # C7: the client then searches by itself
    query = Query("nope.example.com.web.svc.cluster.local.", "A")
    served = server(CACHE, AUTOPATH, KUBERNETES, FORWARD).serve(query, WEB)
    assert served.reply == ServerReply("NXDOMAIN", ttl=5)
    assert served.operations[0].duration == 5


def test_the_walk_stops_at_the_first_name_that_is_not_nxdomain():
    # C6: a NODATA from an existing service stops it
    query = Query("web.shop.web.svc.cluster.local.", "AAAA")
    served = server(CACHE, AUTOPATH, KUBERNETES, FORWARD).serve(query, WEB)
    names = [op.query.qname for op in served.operations[0].on_miss[0].internal]
    assert names == ["web.shop.web.svc.cluster.local.", "web.shop.svc.cluster.local."]
    assert served.reply.nodata


def test_routing_picks_the_longest_zone_and_refuses_the_rest():
    # A23
    inner = BlockPlan(("example.com.",), (ForwardStep("stub", ".", (), ("192.0.2.1",)),))
    cluster = BlockPlan(("cluster.local.",), (KUBERNETES,))
    srv = Server((inner, cluster), world, services)
    served = srv.serve(Query("api.example.com.", "A"), WEB)
    assert served.operations[0].targets == ("192.0.2.1",)
    assert srv.serve(Query("x.org.", "A"), WEB).reply.rcode == "REFUSED"


def test_forward_except_and_unmodelled_plugins():
    # E2; rewrite and friends make the path unknown
    forward = ForwardStep("forward", ".", ("example.com.",), ("10.0.0.2",))
    served = server(CACHE, forward).serve(Query("api.example.com.", "A"), WEB)
    assert served.reply.rcode == "SERVFAIL"
    served = server(OpaqueStep("rewrite", "rewrites names"), FORWARD).serve(
        Query("api.example.com.", "A"), WEB
    )
    assert isinstance(served.operations[0], Unmodelled)


def test_cache_durations_follow_the_ttl_bounds():
    # D4, D5, D6
    step = CacheStep("c", (".",), success_max=30, denial_max=10)
    assert cache_duration(step, "a.", ServerReply("NOERROR", answer=True, ttl=1)) == ("success", 5)
    assert cache_duration(step, "a.", ServerReply("NOERROR", answer=True, ttl=300)) == ("success", 30)
    assert cache_duration(step, "a.", ServerReply("NXDOMAIN", ttl=60)) == ("denial", 10)
    assert cache_duration(step, "a.", ServerReply("NOERROR", ttl=60)) == ("denial", 10)
    assert cache_duration(step, "a.", ServerReply("SERVFAIL")) == (None, 0)
    assert cache_duration(step, "a.", ServerReply("NXDOMAIN", soa=False)) == (None, 0)
    prefetch = CacheStep("c", (".",), prefetch_percentage=10)
    assert cache_duration(prefetch, "a.", ServerReply("NOERROR", answer=True, ttl=30)) == ("success", 27)


def test_kubernetes_answers_its_zones_locally_with_its_ttl():
    # C10, C11, F4
    served = server(KUBERNETES, FORWARD).serve(Query("web.shop.svc.cluster.local.", "A"), WEB)
    assert served.reply == ServerReply("NOERROR", answer=True, ttl=5)
    assert isinstance(served.operations[0], Local)
    long_ttl = KubernetesStep(("cluster.local.",), pods_verified=False, ttl=600)
    served = server(long_ttl).serve(Query("x.cluster.local.", "A"), WEB)
    assert served.reply == ServerReply("NXDOMAIN", ttl=300)


def test_forward_sends_and_servfail_times_per_release_as_measured():
    # E5, E6, measured on real CoreDNS (tests/data/coredns_observations/forward_silent_upstream.json)
    before = ForwardStep("forward", ".", (), ("10.0.0.2",))
    after = ForwardStep("forward", ".", (), ("10.0.0.2",), max_connect_attempts=2)
    assert before.send_times() == (0.0, 2.0, 4.0)
    assert before.servfail_times() == (2.0, 4.0, 6.0)
    assert after.send_times() == (0.0, 2.0)
    assert after.servfail_times() == (2.0, 4.0)


def test_a_silent_upstream_gets_a_probe_per_health_check_plus_the_probe_timeout():
    # E7, measured: probes 1.5 s apart with the default 0.5 s interval
    forward = ForwardStep("forward", ".", (), ("10.0.0.2",))
    assert [forward.probes_within(s) for s in (1, 2, 3, 5)] == [1, 2, 3, 4]
    assert ForwardStep("f", ".", (), ("10.0.0.2",), health_check=0).probes_within(1) == 0


def test_prefetch_and_serve_stale_refreshes_count_a_tcp_exchange():
    # measured: refreshes go over TCP, several IP packets per exchange
    query = Query("api.example.com.", "A")
    plain = server(CACHE, FORWARD).serve(query, WEB)
    assert [op.on_miss[0].packets for op in plain.operations] == [1]
    for cache in (
        CacheStep("cache", (".",), prefetch_percentage=10),
        CacheStep("cache", (".",), serve_stale=True),
    ):
        (lookup,) = server(cache, FORWARD).serve(query, WEB).operations
        (exchange,) = lookup.on_miss
        assert isinstance(exchange, UpstreamExchange)
        assert exchange.packets == TCP_EXCHANGE_PACKETS == 6


def test_a_refresh_of_a_walk_cached_per_namespace_counts_every_exchange_over_tcp():
    # <= 1.14.6: cache before autopath; the refresh re-runs the walk through forward
    cache = CacheStep("cache", (".",), serve_stale=True)
    (lookup,) = server(cache, AUTOPATH, KUBERNETES, FORWARD).serve(ORIGINAL, WEB).operations
    (walk,) = lookup.on_miss
    exchanges = [op for op in walk.internal if isinstance(op, UpstreamExchange)]
    assert exchanges
    assert all(op.packets == TCP_EXCHANGE_PACKETS for op in exchanges)
