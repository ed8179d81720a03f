"""coredns.plans: a configured Corefile as the server plans the static model runs (B1-B6,
C1-C5, D1-D4, E3, E5)."""

import pytest

from kalc_formal.coredns.corefile import parse_corefile
from kalc_formal.coredns.plans import CONTAINER_HOSTS, setup_from_config
from kalc_formal.coredns.plugins.cache import (
    CACHE_DEFAULT_EFFECTIVE_CAPACITY,
    CACHE_MAX_NTTL,
    CACHE_MAX_TTL,
    CACHE_MIN_TTL,
)
from kalc_formal.coredns.plugins.chain import configure
from kalc_formal.coredns.plugins.versions import CoreDNSVersion
from kalc_formal.coredns.server import (
    AutopathStep,
    CacheLookup,
    CacheStep,
    Client,
    ForwardStep,
    HostsStep,
    KubernetesStep,
    OpaqueStep,
    Query,
    Server,
    ServerReply,
    UpstreamExchange,
    Walk,
)
from kalc_formal.source import Source

NODE_NAMESERVERS = ("10.0.0.2", "10.0.0.3")
NODE_SEARCH = ("ec2.internal",)
DATADOG = """.:53 {
    errors
    health
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods verified
        fallthrough in-addr.arpa ip6.arpa
    }
    autopath @kubernetes
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
"""


def setup(text, version="1.14.7", **keywords):
    corefile = parse_corefile(Source("/etc/coredns/Corefile", text))
    config = configure(corefile, version=CoreDNSVersion.parse(version))
    return setup_from_config(
        config, node_nameservers=NODE_NAMESERVERS, node_search=NODE_SEARCH, **keywords
    )


def steps(text, version="1.14.7"):
    (block,) = setup(text, version).blocks
    return block.steps


def kinds(text, version="1.14.7"):
    return [type(step).__name__ for step in steps(text, version)]


def test_b3_up_to_1_14_6_the_cache_runs_before_autopath():
    assert kinds(DATADOG, "1.14.6") == ["CacheStep", "AutopathStep", "KubernetesStep", "ForwardStep"]


def test_b2_b4_from_1_14_7_autopath_runs_before_the_cache():
    assert kinds(DATADOG, "1.14.7") == ["AutopathStep", "CacheStep", "KubernetesStep", "ForwardStep"]


def test_ignored_plugins_leave_no_step_and_not_modelled_ones_become_opaque():
    plan = steps(". {\n    log\n    rewrite name a.example b.example\n    forward . 10.0.0.9\n}\n")
    opaque, forward = plan
    assert isinstance(opaque, OpaqueStep)
    assert isinstance(forward, ForwardStep)
    assert (opaque.name, opaque.zones) == ("rewrite", (".",))
    assert "rewrites names" in opaque.reason


def test_a23_only_plain_dns_blocks_on_the_served_port_become_plans():
    text = (
        "example.org:53 {\n    whoami\n}\n"
        ".:5353 {\n    forward . 10.0.0.9\n}\n"
        "tls://.:853 {\n    forward . 10.0.0.9\n}\n"
        ".:53 {\n    forward . 10.0.0.9\n}\n"
    )
    assert [block.zones for block in setup(text).blocks] == [("example.org.",), (".",)]
    assert [block.zones for block in setup(text, port=5353).blocks] == [(".",)]


def test_d1_d4_cache_bounds_and_capacities_and_its_id():
    (cache,) = steps(". {\n    cache 30 {\n        denial 512 20 2\n        prefetch 5 1m 20%\n    }\n}\n")
    assert isinstance(cache, CacheStep)
    assert (cache.success_max, cache.success_min, cache.denial_max, cache.denial_min) == (30, CACHE_MIN_TTL, 20, 2)
    assert (cache.success_capacity, cache.denial_capacity) == (CACHE_DEFAULT_EFFECTIVE_CAPACITY, 1024)
    assert cache.prefetch_percentage == 20
    two_caches = ". {\n    cache\n}\nexample.org {\n    cache {\n        success 5000\n    }\n}\n"
    server_setup = setup(two_caches)
    first, second = (block.steps[0] for block in server_setup.blocks)
    assert first.id != second.id
    assert server_setup.cache_capacity == {first.id: (9984, 9984), second.id: (4864, 9984)}
    assert [server_setup.plugins[step.id].span.line for step in (first, second)] == [2, 5]


def test_a_bare_cache_plans_the_same_step_as_the_step_defaults():
    (cache,) = steps(". {\n    cache\n}\n")
    assert cache == CacheStep(cache.id, (".",), span=cache.span)
    assert (cache.success_max, cache.denial_max) == (CACHE_MAX_TTL, CACHE_MAX_NTTL)


def test_d11_prefetch_amount_zero_is_no_prefetch():
    (cache,) = steps(". {\n    cache {\n        prefetch 0\n    }\n}\n")
    assert cache.prefetch_percentage is None
    assert not cache.refreshes_over_tcp


def test_e3_forward_to_resolv_conf_targets_the_node_nameservers():
    (forward,) = steps(". {\n    forward . /etc/resolv.conf 10.0.0.9\n}\n")
    assert isinstance(forward, ForwardStep)
    assert forward.targets == (*NODE_NAMESERVERS, "10.0.0.9")


def test_e5_forward_keeps_the_version_s_attempts_and_timeouts():
    text = ". {\n    forward . 10.0.0.9 10.0.0.8\n}\n"
    (new,) = steps(text, "1.14.7")
    (old,) = steps(text, "1.14.6")
    assert (new.max_connect_attempts, old.max_connect_attempts) == (4, None)
    (tuned,) = steps(". {\n    forward . 10.0.0.9 {\n        read_timeout 500ms\n        health_check 2s\n    }\n}\n")
    assert (tuned.read_timeout, tuned.health_check) == (0.5, 2.0)


def test_forward_to_a_file_other_than_resolv_conf_is_opaque_and_reported():
    server_setup = setup(". {\n    forward . /etc/other.conf\n}\n")
    (opaque,) = server_setup.blocks[0].steps
    assert isinstance(opaque, OpaqueStep)
    (unmodelled,) = server_setup.unmodelled
    assert unmodelled.reason == "forward to /etc/other.conf: its addresses are not known"
    assert unmodelled.span.line == 2


def test_c1_autopath_from_resolv_conf_takes_the_node_search_path():
    (autopath, _) = steps(". {\n    autopath /etc/resolv.conf\n    forward . 10.0.0.9\n}\n")
    assert autopath == AutopathStep((".",), False, ("ec2.internal.",), autopath.span)


def test_c1_autopath_from_another_file_is_opaque():
    (opaque, _) = steps(". {\n    autopath /etc/search.conf\n    forward . 10.0.0.9\n}\n")
    assert isinstance(opaque, OpaqueStep)
    assert opaque.reason == "its search path comes from /etc/search.conf, which is not read"


def test_hosts_on_etc_hosts_knows_the_container_names_and_inline_entries():
    text = ". {\n    hosts {\n        10.1.1.1 Db.Example\n        fallthrough\n    }\n}\n"
    (hosts,) = steps(text)
    assert isinstance(hosts, HostsStep)
    assert hosts.names == CONTAINER_HOSTS | {"db.example."}
    assert (hosts.file_unknown, hosts.fallthrough) == (False, (".",))
    (other,) = steps(". {\n    hosts /etc/custom-hosts\n}\n")
    assert other.file_unknown
    assert "localhost." not in other.names


def test_kubernetes_step_keeps_zones_pods_and_ttl():
    (kubernetes,) = steps(". {\n    kubernetes cluster.local {\n        ttl 30\n    }\n}\n")
    assert kubernetes == KubernetesStep(("cluster.local.",), False, 30, None, kubernetes.span)


@pytest.mark.parametrize(("version", "walk_is_cached"), [("1.14.6", True), ("1.14.7", False)])
def test_c5_the_planned_autopath_walks_the_pod_search_path(version, walk_is_cached):
    (block,) = setup(DATADOG, version).blocks

    def world(qname, qtype):
        if qname == "api.example.com.":
            return ServerReply("NOERROR", answer=True, ttl=60)
        return ServerReply("NXDOMAIN", ttl=60)

    server = Server((block,), world, lambda qname, qtype: None, own_search=("ec2.internal.",))
    served = server.serve(Query("api.example.com.web.svc.cluster.local.", "A"), Client("web"))
    assert served.reply == ServerReply("NOERROR", answer=True, ttl=60)
    (first,) = served.operations
    walk = first.on_miss[0] if walk_is_cached else first
    assert isinstance(first, CacheLookup if walk_is_cached else Walk)
    assert isinstance(walk, Walk)
    names = []
    for operation in walk.internal:
        inner = operation.on_miss if isinstance(operation, CacheLookup) else (operation,)
        names += [(type(op).__name__, op.query.qname) for op in inner]
    assert names == [
        ("Local", "api.example.com.web.svc.cluster.local."),
        ("Local", "api.example.com.svc.cluster.local."),
        ("Local", "api.example.com.cluster.local."),
        ("UpstreamExchange", "api.example.com.ec2.internal."),
        ("UpstreamExchange", "api.example.com."),
    ]
    upstreams = [op for op in walk.internal for op in (op.on_miss if isinstance(op, CacheLookup) else (op,))
                 if isinstance(op, UpstreamExchange)]
    assert {op.targets for op in upstreams} == {NODE_NAMESERVERS}
