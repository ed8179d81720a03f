"""Typed plugin options, the plugin chain per CoreDNS version (B1-B6), coverage."""

import pytest

from kalc_formal.coredns.corefile import parse_corefile
from kalc_formal.coredns.plugins.autopath import AutopathConfig
from kalc_formal.coredns.plugins.cache import (
    CACHE_DEFAULT_CAPACITY,
    CACHE_DEFAULT_EFFECTIVE_CAPACITY,
    CACHE_MAX_NTTL,
    CACHE_MAX_TTL,
    CACHE_MIN_TTL,
    CacheConfig,
    cache_effective_capacity,
)
from kalc_formal.coredns.plugins.chain import GenericPlugin, configure
from kalc_formal.coredns.plugins.coverage import COVERAGE
from kalc_formal.coredns.plugins.forward import ForwardConfig
from kalc_formal.coredns.plugins.hosts import HostsConfig, HostsEntry
from kalc_formal.coredns.plugins.kubernetes import KubernetesConfig
from kalc_formal.coredns.plugins.misc import AclConfig, RewriteConfig, TemplateConfig
from kalc_formal.coredns.plugins.versions import (
    DEFAULT_COREDNS_VERSION,
    PLUGIN_ORDERS,
    CoreDNSVersion,
    order_version,
    plugin_order,
    valid_directives,
)
from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument
from kalc_formal.source import Source

V = CoreDNSVersion.parse


def block_config(text, version="1.14.7"):
    return configure(parse_corefile(Source("Corefile", text)), version=V(version)).blocks[0]


def plugins(body, version="1.14.7"):
    return block_config(". {\n" + body + "\n}\n", version).plugins


def plugin(body, version="1.14.7"):
    (only,) = plugins(body, version)
    return only


def error_of(body, version="1.14.7"):
    with pytest.raises(ConfigError) as info:
        plugins(body, version)
    return info.value


def where(error):
    return (error.span.line, error.span.column)


# ---- versions -----------------------------------------------------------------------


def test_versions_parse_order_and_print():
    assert V("v1.11.1") == V("1.11.1") < V("1.14.6") < V("1.14.7") < V("1.15")
    assert str(V("v1.9")) == "1.9.0"
    for bad in ("", "1", "one.two", "1.14.7-rc1", "1.2.3.4"):
        with pytest.raises(InvalidArgument):
            V(bad)


def test_the_default_version_is_the_newest_with_an_order_table():
    assert DEFAULT_COREDNS_VERSION == "1.14.7" == PLUGIN_ORDERS[-1][0]


def test_b3_cache_runs_before_rewrite_acl_and_autopath_up_to_1_14_6():
    order = plugin_order(V("1.14.6"))
    assert order.index("cache") < order.index("rewrite") < order.index("acl") < order.index("autopath")


def test_b2_b4_autopath_and_acl_run_before_cache_from_1_14_7():
    order = plugin_order(V("1.14.7"))
    assert order.index("rewrite") < order.index("autopath") < order.index("acl") < order.index("cache")
    assert order[:5] == ("root", "metadata", "geoip", "cancel", "proxyproto")
    assert len(order) == 60


def test_b5_required_plugins_keep_their_relative_order_in_each_era():
    old = ["errors", "log", "local", "dns64", "any", "loadbalance", "cache", "rewrite", "autopath", "minimal", "template", "hosts", "k8s_external", "kubernetes", "file", "loop", "forward", "view"]
    new = ["errors", "log", "local", "dns64", "any", "loadbalance", "rewrite", "autopath", "acl", "cache", "minimal", "template", "hosts", "k8s_external", "kubernetes", "file", "loop", "forward", "view"]
    for version, expected in (("1.14.6", old), ("1.14.7", new), ("1.11.1", old)):
        order = plugin_order(V(version))
        assert [name for name in order if name in expected] == expected


def test_b3_acl_moved_after_rewrite_in_1_14_3_per_zdirectives():
    assert plugin_order(V("1.14.2")).index("acl") < plugin_order(V("1.14.2")).index("any")
    assert plugin_order(V("1.14.3")).index("rewrite") < plugin_order(V("1.14.3")).index("acl")


def test_versions_between_releases_use_the_last_table_and_newer_ones_the_newest():
    assert order_version(V("1.2.2")) == "1.2.1"
    assert order_version(V("1.15.0")) == "1.14.7"
    assert "forward" not in plugin_order(V("1.0.5"))
    assert "forward" in plugin_order(V("1.0.6"))
    with pytest.raises(InvalidArgument):
        plugin_order(V("0.9.9"))


def test_a10_valid_directives_follow_the_version():
    assert "proxy" in valid_directives(V("1.4.0"))
    assert "proxy" not in valid_directives(V("1.5.0"))
    assert "view" not in valid_directives(V("1.9.4"))


# ---- the chain ----------------------------------------------------------------------


def test_a13_b1_corefile_order_does_not_matter():
    one = plugins("forward . 1.1.1.1\ncache 30\nautopath @kubernetes\nkubernetes cluster.local\nerrors", "1.14.6")
    two = plugins("errors\nkubernetes cluster.local\nautopath @kubernetes\ncache 30\nforward . 1.1.1.1", "1.14.6")
    assert one == two
    assert [p.name for p in one] == ["errors", "cache", "autopath", "kubernetes", "forward"]
    newer = plugins("forward . 1.1.1.1\ncache 30\nautopath @kubernetes\nkubernetes cluster.local\nerrors")
    assert [p.name for p in newer] == ["errors", "autopath", "cache", "kubernetes", "forward"]


def test_a12_forward_repeats_become_one_handler_each_in_corefile_order_from_1_9_4():
    chain = plugins("forward example.org 10.0.0.1\ncache\nforward . 8.8.8.8")
    assert [(p.name, getattr(p, "from_zone", None)) for p in chain] == [
        ("cache", None), ("forward", "example.org."), ("forward", "."),
    ]
    assert len(plugins("forward example.org 10.0.0.1\nforward . 8.8.8.8", "1.9.4")) == 2
    error = error_of("forward example.org 10.0.0.1\nforward . 8.8.8.8", "1.9.3")
    assert error.message == "plugin/forward: this plugin can only be used once per Server Block"
    assert where(error) == (3, 1)


def test_a12_err_once_plugins_reject_a_second_occurrence():
    for name in ("cache", "errors", "loop", "ready", "prometheus"):
        error = error_of(f"{name}\n{name}")
        assert error.message == f"plugin/{name}: this plugin can only be used once per Server Block"
        assert where(error) == (3, 1)
    error = error_of("kubernetes cluster.local\nkubernetes other.local")
    assert error.message == "plugin/kubernetes: this plugin can only be used once per Server Block"


def test_a12_the_last_autopath_wins_and_the_earlier_one_is_marked():
    config = block_config(". {\n    autopath @kubernetes\n    autopath /etc/resolv.conf\n}\n")
    (autopath,) = config.plugins
    assert autopath.source == "/etc/resolv.conf"
    assert [c.status for c in config.directives_coverage] == ["ignored", "modelled"]
    assert "last one wins" in config.directives_coverage[0].reason


def test_a12_rewrite_and_template_collect_their_rules():
    (rewrite, template) = plugins(
        "rewrite name foo.example bar.example\nrewrite continue name suffix .a. .b.\n"
        "template IN A example.org {\n    answer \"{{ .Name }} 60 IN A 1.2.3.4\"\n}\ntemplate IN AAAA example.org"
    )
    assert isinstance(rewrite, RewriteConfig)
    assert [(r.mode, r.rule_type, r.match) for r in rewrite.rules] == [("stop", "name", "exact"), ("continue", "name", "suffix")]
    assert isinstance(template, TemplateConfig)
    assert [(t.qtype, t.zones) for t in template.templates] == [("A", ("example.org.",)), ("AAAA", ("example.org.",))]


def test_unknown_directives_for_the_version_are_rejected_by_configure():
    error = error_of("view v {\n    expr x\n}", "1.9.0")
    assert error.message == "Unknown directive 'view'"


def test_independent_option_errors_in_different_blocks_are_all_reported():
    text = ". {\n    cache 0\n}\nexample.org {\n    forward . 1.1.1.1 {\n        nosuch\n    }\n}\n"
    with pytest.raises(ConfigErrors) as info:
        configure(parse_corefile(Source("Corefile", text)), version=V("1.14.7"))
    assert [(where(e), e.message) for e in info.value.errors] == [
        ((2, 11), "plugin/cache: cache TTL can not be zero or negative: 0"),
        ((6, 9), "plugin/forward: unknown property 'nosuch'"),
    ]
    assert "            nosuch\n            ^" in str(info.value)


def test_configure_needs_a_version_object():
    with pytest.raises(InvalidArgument):
        configure(parse_corefile(Source("C", ". {\n}\n")), version="1.14.7")


# ---- kubernetes (F1-F6) -----------------------------------------------------------------


def test_f1_f3_kubernetes_defaults_and_zones():
    config = block_config("cluster.local in-addr.arpa {\n    kubernetes\n}\n")
    (k8s,) = config.plugins
    assert isinstance(k8s, KubernetesConfig)
    assert (k8s.zones, k8s.pods, k8s.ttl, k8s.fallthrough) == (("cluster.local.", "in-addr.arpa."), "disabled", 5, None)


def test_f2_f4_kubernetes_options():
    k8s = plugin(
        "kubernetes Cluster.Local 10.0.0.0/24 {\n    pods verified\n    ttl 30\n"
        "    fallthrough in-addr.arpa ip6.arpa\n    namespaces a b\n    endpoint_pod_names\n    labels x=y\n}"
    )
    assert k8s.zones == ("cluster.local.", "0.0.10.in-addr.arpa.")
    assert (k8s.pods, k8s.ttl, k8s.fallthrough) == ("verified", 30, ("in-addr.arpa.", "ip6.arpa."))
    assert (k8s.namespaces, k8s.endpoint_pod_names, k8s.options["labels"]) == (("a", "b"), True, ("x=y",))
    assert plugin("kubernetes cluster.local {\n    fallthrough\n}").fallthrough == (".",)


def test_kubernetes_option_errors():
    error = error_of("kubernetes cluster.local {\n    ttl 3601\n}")
    assert (error.message, where(error)) == ("plugin/kubernetes: ttl must be in range [0, 3600]: 3601", (3, 9))
    assert error_of("kubernetes cluster.local {\n    pods maybe\n}").message.startswith("plugin/kubernetes: wrong value for pods: maybe")
    assert error_of("kubernetes cluster.local {\n    nosuch\n}").message == "plugin/kubernetes: unknown property 'nosuch'"
    assert error_of("kubernetes in-addr.arpa").message == "plugin/kubernetes: non-reverse zone name must be used"
    error = error_of("kubernetes cluster.local {\n    ttl abc\n}")
    assert error.message == 'plugin/kubernetes: strconv.Atoi: parsing "abc": invalid syntax'
    assert error_of("kubernetes cluster.local {\n    pods\n}").message.startswith("plugin/kubernetes: Wrong argument count")


def test_kubernetes_upstream_option_was_removed_in_1_7_0():
    assert plugin("kubernetes cluster.local {\n    upstream\n}", "1.6.9").options["upstream"] == ()
    assert error_of("kubernetes cluster.local {\n    upstream\n}", "1.7.0").message == "plugin/kubernetes: unknown property 'upstream'"


# ---- autopath (C1, C2) ---------------------------------------------------------------------


def test_c1_autopath_zones_default_to_the_block_keys_and_the_source():
    (autopath,) = block_config("cluster.local {\n    autopath @kubernetes\n}\n").plugins
    assert isinstance(autopath, AutopathConfig)
    assert (autopath.zones, autopath.source_plugin, autopath.resolv_file) == (("cluster.local.",), "kubernetes", None)
    autopath = plugin("autopath example.org /etc/resolv.conf")
    assert (autopath.zones, autopath.source_plugin, autopath.resolv_file) == (("example.org.",), None, "/etc/resolv.conf")


def test_c2_c3_autopath_without_its_plugin_or_without_pods_verified_does_nothing():
    assert "no kubernetes plugin" in plugin("autopath @kubernetes").inert
    chain = plugins("autopath @kubernetes\nkubernetes cluster.local")
    assert "pods disabled" in chain[0].inert
    chain = plugins("autopath @kubernetes\nkubernetes cluster.local {\n    pods verified\n}")
    assert chain[0].inert is None
    assert plugin("autopath /etc/resolv.conf").inert is None
    assert error_of("autopath @cache\ncache").message == "plugin/autopath: cache does not implement the AutoPather interface"


def test_c1_autopath_needs_a_resolv_source_and_takes_no_block():
    assert error_of("autopath").message == "plugin/autopath: no resolv-conf specified"
    assert error_of("autopath @kubernetes {\n}").message.startswith("plugin/autopath: no resolv-conf specified")


# ---- cache (D1-D4, D7, D11, D12) -------------------------------------------------------------


def test_d1_d3_d4_cache_defaults():
    cache = plugin("cache")
    assert isinstance(cache, CacheConfig)
    assert (cache.success_capacity, cache.success_capacity_effective) == (10000, 9984)
    assert (cache.success_max_ttl, cache.denial_max_ttl, cache.success_min_ttl, cache.denial_min_ttl) == (3600, 1800, 5, 5)
    assert (cache.prefetch_amount, cache.prefetch_duration, cache.prefetch_percentage) == (0, 60, 10)
    assert (cache.serve_stale, cache.servfail_ttl, cache.keepttl, cache.zones) == (None, 5, False, (".",))


def test_d3_d4_the_cache_defaults_are_the_reference_figures():
    assert (CACHE_DEFAULT_CAPACITY, CACHE_DEFAULT_EFFECTIVE_CAPACITY) == (10_000, 9_984)
    assert (CACHE_MAX_TTL, CACHE_MAX_NTTL, CACHE_MIN_TTL) == (3600, 1800, 5)
    cache = plugin("cache")
    assert isinstance(cache, CacheConfig)
    assert cache.success_capacity_effective == cache.denial_capacity_effective == CACHE_DEFAULT_EFFECTIVE_CAPACITY
    assert type(cache.success_max_ttl) is type(cache.servfail_ttl) is float


def test_d1_the_bare_ttl_caps_both_caches():
    cache = plugin("cache 30 example.org")
    assert (cache.success_max_ttl, cache.denial_max_ttl, cache.zones) == (30, 30, ("example.org.",))


def test_d3_effective_capacity_is_256_shards_of_at_least_4():
    assert [cache_effective_capacity(c) for c in (10000, 9984, 5000, 1024, 1000, 100, 0, -5)] == [
        9984, 9984, 4864, 1024, 768 + 256, 1024, 1024, 1024,
    ]


def test_d1_d11_d12_d7_cache_block_options():
    cache = plugin(
        "cache 300 {\n    success 5000 60 10\n    denial 2000 30\n    prefetch 10 2m 20%\n"
        "    serve_stale 30m verify\n    servfail 0\n    disable denial example.org\n    keepttl\n}"
    )
    assert (cache.success_capacity, cache.success_capacity_effective, cache.success_max_ttl, cache.success_min_ttl) == (5000, 4864, 60, 10)
    assert (cache.denial_capacity, cache.denial_max_ttl, cache.denial_min_ttl) == (2000, 30, 5)
    assert (cache.prefetch_amount, cache.prefetch_duration, cache.prefetch_percentage) == (10, 120, 20)
    assert (cache.serve_stale, cache.serve_stale_refresh, cache.servfail_ttl) == (1800, "verify", 0)
    assert (cache.disable_denial_zones, cache.disable_success_zones, cache.keepttl) == (("example.org.",), (), True)
    assert plugin("cache {\n    serve_stale\n    disable success\n}").serve_stale == 3600


@pytest.mark.parametrize(
    ("body", "message", "position"),
    [
        ("cache 0", "cache TTL can not be zero or negative: 0", (2, 7)),
        ("cache {\n    success x\n}", 'strconv.Atoi: parsing "x": invalid syntax', (3, 13)),
        ("cache {\n    success 10 0\n}", "cache TTL can not be zero or negative: 0", (3, 16)),
        ("cache {\n    prefetch 1 1m 5%\n}", "percentage should fall in range [10, 90]: 5", (3, 19)),
        ("cache {\n    prefetch 1 1m 20\n}", "last character of percentage should be `%`, but is: '0'", (3, 19)),
        ("cache {\n    prefetch 1 1x\n}", 'time: unknown unit "x" in duration "1x"', (3, 16)),
        ("cache {\n    servfail 6m\n}", "caching SERVFAIL responses over 5 minutes is not permitted", (3, 14)),
        ("cache {\n    servfail 5\n}", 'time: missing unit in duration "5"', (3, 14)),
        ("cache {\n    disable both\n}", 'cache type for disable must be "success" or "denial"', (3, 13)),
        ("cache {\n    nosuch 1\n}", "Wrong argument count or unexpected line ending after 'nosuch'", (3, 5)),
    ],
)
def test_cache_option_errors(body, message, position):
    error = error_of(body)
    assert error.message == "plugin/cache: " + message
    assert where(error) == position


def test_cache_options_newer_than_the_version_are_rejected():
    assert plugin("cache {\n    servfail 10s\n}", "1.9.4").servfail_ttl == 10
    assert error_of("cache {\n    servfail 10s\n}", "1.9.3").message.startswith("plugin/cache: Wrong argument count")


# ---- forward (E1-E10) -------------------------------------------------------------------------


def test_e1_forward_defaults():
    forward = plugin("forward . 10.0.0.2")
    assert isinstance(forward, ForwardConfig)
    assert (forward.from_zone, forward.policy, forward.max_fails, forward.health_check) == (".", "random", 2, 0.5)
    assert (forward.expire, forward.read_timeout, forward.max_concurrent, forward.force_tcp) == (10, 2, None, False)
    (upstream,) = forward.to
    assert (upstream.kind, upstream.transport, upstream.host, upstream.port) == ("address", "dns", "10.0.0.2", 53)


def test_e5_max_connect_attempts_default_depends_on_the_version():
    assert plugin("forward . 10.0.0.2 10.0.0.3").max_connect_attempts == 4
    assert plugin("forward . 10.0.0.2 10.0.0.3", "1.14.6").max_connect_attempts is None
    forward = plugin("forward . 10.0.0.2 {\n    max_connect_attempts 0\n}")
    assert (forward.max_connect_attempts, forward.max_connect_attempts_configured) == (None, 0)
    assert plugin("forward . 10.0.0.2 {\n    max_connect_attempts 5\n}", "1.13.2").max_connect_attempts == 5
    assert error_of("forward . 10.0.0.2 {\n    max_connect_attempts 5\n}", "1.13.1").message == (
        "plugin/forward: unknown property 'max_connect_attempts'"
    )


def test_e6_read_timeout_exists_from_1_14_5():
    assert plugin("forward . 10.0.0.2 {\n    read_timeout 500ms\n}").read_timeout == 0.5
    assert error_of("forward . 10.0.0.2 {\n    read_timeout 1s\n}", "1.14.4").message == "plugin/forward: unknown property 'read_timeout'"


def test_e1_e3_e10_forward_upstreams_and_options():
    forward = plugin(
        "forward example.org 1.1.1.1:5353 tls://9.9.9.9%dns.quad9.net [2001:db8::1]:53 /etc/resolv.conf {\n"
        "    except a.example.org\n    policy sequential\n    max_concurrent 1000\n    max_fails 0\n"
        "    health_check 1s no_rec domain example.com\n    force_tcp\n    prefer_udp\n    expire 5s\n"
        "    failover SERVFAIL refused\n    next NXDOMAIN\n    next_on_nodata\n    failfast_all_unhealthy_upstreams\n}"
    )
    assert [(u.kind, u.transport, u.host, u.port, u.tls_server_name) for u in forward.to] == [
        ("address", "dns", "1.1.1.1", 5353, None),
        ("address", "tls", "9.9.9.9", 853, "dns.quad9.net"),
        ("address", "dns", "2001:db8::1", 53, None),
        ("file", "dns", "/etc/resolv.conf", None, None),
    ]
    assert (forward.from_zone, forward.except_zones, forward.policy) == ("example.org.", ("a.example.org.",), "sequential")
    assert (forward.max_concurrent, forward.max_fails, forward.health_check) == (1000, 0, 1.0)
    assert (forward.health_check_recursion_desired, forward.health_check_domain) == (False, "example.com.")
    assert (forward.force_tcp, forward.prefer_udp, forward.expire) == (True, True, 5.0)
    assert (forward.failover_rcodes, forward.next_rcodes) == (("SERVFAIL", "REFUSED"), ("NXDOMAIN",))
    assert (forward.next_on_nodata, forward.failfast_all_unhealthy_upstreams) == (True, True)


def test_e1_hostname_upstreams_exist_from_1_14_4():
    assert plugin("forward . dns.example.net").to[0].kind == "hostname"
    assert plugin("forward . dns.example.net", "1.14.3").to[0].kind == "file"


@pytest.mark.parametrize(
    ("body", "message", "position"),
    [
        ("forward", "Wrong argument count or unexpected line ending after 'forward'", (2, 1)),
        ("forward .", "Wrong argument count or unexpected line ending after '.'", (2, 9)),
        ("forward . 1.1.1.1 {\n    max_fails -1\n}", 'strconv.ParseUint: parsing "-1": invalid syntax', (3, 15)),
        ("forward . 1.1.1.1 {\n    max_concurrent -1\n}", "max_concurrent can't be negative: -1", (3, 20)),
        ("forward . 1.1.1.1 {\n    policy fastest\n}", "unknown policy 'fastest'", (3, 12)),
        ("forward . 1.1.1.1 {\n    failover NOERROR\n}", "NoError cannot be used in failover", (3, 14)),
        ("forward . 1.1.1.1 {\n    next NOPE\n}", "NOPE is not a valid rcode", (3, 10)),
        ("forward . 1.1.1.1 {\n    force_tcp yes\n}", "Wrong argument count or unexpected line ending after 'yes'", (3, 15)),
        ("forward . 1.1.1.1 {\n    health_check 1s often\n}", "health_check: unknown option often", (3, 21)),
        ("forward . quic://1.1.1.1", "'quic' is not supported as a destination protocol in forward: quic://1.1.1.1", (2, 11)),
        ("forward . " + " ".join(f"10.0.0.{i}" for i in range(16)), "more than 15 TOs configured: 16", (2, 1)),
    ],
)
def test_forward_option_errors(body, message, position):
    error = error_of(body)
    assert error.message == "plugin/forward: " + message
    assert where(error) == position


# ---- hosts, rewrite, template --------------------------------------------------------------------


def test_hosts_file_inline_entries_and_options():
    hosts = plugin(
        "hosts /etc/coredns/hosts example.org {\n    10.0.0.1 a.example.org B.example.org\n"
        "    not-an-ip x\n    ttl 60\n    no_reverse\n    reload 0s\n    fallthrough\n}"
    )
    assert isinstance(hosts, HostsConfig)
    assert (hosts.file, hosts.zones, hosts.ttl, hosts.no_reverse, hosts.reload, hosts.fallthrough) == (
        "/etc/coredns/hosts", ("example.org.",), 60, True, 0.0, (".",),
    )
    assert hosts.entries == (HostsEntry("10.0.0.1", ("a.example.org.", "b.example.org.")),)
    assert plugin("hosts").file == "/etc/hosts"


def test_hosts_errors():
    assert error_of("hosts {\n    ttl 0\n}").message == "plugin/hosts: ttl provided is invalid"
    error = error_of("hosts {\n    fallthrough\n    10.0.0.1 a.example\n}")
    assert (error.message, where(error)) == ("plugin/hosts: unknown property '10.0.0.1'", (4, 5))


def test_rewrite_rule_errors():
    assert error_of("rewrite nosuch a b").message == 'plugin/rewrite: invalid rule type "nosuch"'
    assert error_of("rewrite type A").message == "plugin/rewrite: type rules must have exactly two arguments"
    assert error_of("rewrite name fuzzy a b").message.startswith("plugin/rewrite: name rule supports only exact")
    rule = plugin("rewrite {\n    name regex (.*)\\.a {1}.b\n}").rules[0]
    assert (rule.rule_type, rule.match, rule.args) == ("name", "regex", ("regex", "(.*)\\.a", "{1}.b"))


def test_template_options_and_errors():
    (rule,) = plugin(
        "template IN ANY example.org {\n    match ^x\n    answer \"a\" \"b\"\n    rcode NXDOMAIN\n    fallthrough\n}"
    ).templates
    assert (rule.qclass, rule.qtype, rule.match, rule.answer, rule.rcode, rule.fallthrough) == (
        "IN", "ANY", ("^x",), ("a", "b"), "NXDOMAIN", (".",),
    )
    assert error_of("template XX A").message == "plugin/template: invalid query class XX"
    assert error_of("template IN A {\n    rcode NOPE\n}").message == "plugin/template: unknown rcode NOPE"


# ---- the other typed plugins ------------------------------------------------------------------------


def test_other_plugins_typed():
    chain = plugins(
        "errors stdout {\n    consolidate 5m \".* timeout$\" warning\n}\nlog . example.org \"{type} {name}\" {\n"
        "    class denial error\n}\nhealth :8080 {\n    lameduck 5s\n}\nready :8181\nprometheus 0.0.0.0:9153\n"
        "reload 10s 2s\nloadbalance round_robin\nk8s_external example.org {\n    ttl 10\n    headless\n}\n"
        "local\nview v {\n    expr name() == 'a.'\n}\nacl {\n    block type AAAA net 10.0.0.0/8\n    allow\n}\n"
        "any\nminimal\nloop\nfile db.example.org example.org {\n    reload 0\n}\nwhoami"
    )
    by_name = {p.name: p for p in chain}
    assert by_name["errors"].consolidate == (("5m", ".* timeout$", "warning"),)
    assert [(r.name_scope, r.format, r.classes) for r in by_name["log"].rules] == [
        (".", "{type} {name}", ("denial", "error")), ("example.org.", "{type} {name}", ("denial", "error")),
    ]
    assert (by_name["health"].address, by_name["health"].lameduck) == (":8080", 5.0)
    assert (by_name["reload"].interval, by_name["reload"].jitter) == (10.0, 2.0)
    assert (by_name["k8s_external"].zones, by_name["k8s_external"].ttl, by_name["k8s_external"].headless) == (
        ("example.org.",), 10, True,
    )
    assert by_name["view"].expressions == ("name() == 'a.'",)
    acl = by_name["acl"]
    assert isinstance(acl, AclConfig)
    assert [(p.action, p.qtypes, p.networks) for p in acl.rules[0][1]] == [
        ("block", ("AAAA",), ("10.0.0.0/8",)), ("allow", ("*",), ("*",)),
    ]
    assert by_name["file"].files == {"example.org.": "db.example.org"}
    assert isinstance(by_name["whoami"], GenericPlugin)
    assert [p.name for p in chain] == [
        n for n in plugin_order(V("1.14.7")) if n in by_name
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("errors stderr", "plugin/errors: invalid log file: stderr"),
        ("log {\n    class nosuch\n}", "plugin/log: invalid class: nosuch"),
        ("health localhost", "plugin/health: address localhost: missing port in address"),
        ("ready :8181 {\n    monitor sometimes\n}", "plugin/ready: invalid monitor type: sometimes"),
        ("reload 1s", "plugin/reload: interval value must be greater or equal to 2s"),
        ("loadbalance weighted", "plugin/loadbalance: missing weight file argument"),
        ("k8s_external {\n    ttl 4000\n}", "plugin/k8s_external: ttl must be in range [0, 3600]: 4000"),
        ("local {\n    localhost_prefix maybe\n}", "plugin/local: localhost_prefix expects 'on' or 'off', got \"maybe\""),
        ("view a b", "plugin/view: Wrong argument count or unexpected line ending after 'b'"),
        ("acl {\n    permit\n}", "plugin/acl: unexpected token \"permit\"; expect 'allow', 'block', 'filter' or 'drop'"),
        ("acl {\n    block net 10.0.0.0/33\n}", 'plugin/acl: illegal CIDR notation "10.0.0.0/33"'),
        ("any x", "plugin/any: Wrong argument count or unexpected line ending after 'x'"),
        ("minimal x", "plugin/minimal: Wrong argument count or unexpected line ending after 'x'"),
        ("loop {\n}", "plugin/loop: Unexpected token '{', expecting argument"),
        ("minimal {\n}", "plugin/minimal: Unexpected token '{', expecting argument"),
        ("any {\n}", "plugin/any: Unexpected token '{', expecting argument"),
        ("file", "plugin/file: Wrong argument count or unexpected line ending after 'file'"),
    ],
)
def test_other_plugin_errors(body, message):
    assert error_of(body).message == message


def test_arguments_of_a_property_that_reads_none_are_read_as_the_next_property():
    assert error_of("k8s_external {\n    headless yes\n}").message == "plugin/k8s_external: unknown property 'yes'"
    assert plugin("hosts {\n    no_reverse 10.0.0.1 a.example\n}").entries == (HostsEntry("10.0.0.1", ("a.example.",)),)


def test_a_nested_block_inside_a_plugin_block_is_an_unknown_property():
    error = error_of("forward . 1.1.1.1 {\n    tls {\n    }\n}")
    assert error.message == "plugin/forward: unknown property '{' (this plugin takes no nested block)"


# ---- coverage --------------------------------------------------------------------------------------------


def test_coverage_classes_every_directive_in_corefile_order():
    config = block_config(
        ". {\n    errors\n    kubernetes cluster.local\n    rewrite name a.example b.example\n"
        "    cache\n    prometheus\n    forward . 1.1.1.1\n    loop\n    whoami\n}\n"
    )
    assert [(c.directive_name, c.status, c.span.line) for c in config.directives_coverage] == [
        ("errors", "ignored", 2),
        ("kubernetes", "modelled", 3),
        ("rewrite", "not-modelled", 4),
        ("cache", "modelled", 5),
        ("prometheus", "ignored", 6),
        ("forward", "modelled", 7),
        ("loop", "ignored", 8),
        ("whoami", "not-modelled", 9),
    ]
    assert all(c.reason for c in config.directives_coverage)


def test_every_directive_of_every_version_has_a_coverage_class():
    names = {name for _, order in PLUGIN_ORDERS for name in order.split()}
    assert names - set(COVERAGE) == set()


def test_module_examples():
    import doctest

    from kalc_formal.coredns.plugins import chain

    result = doctest.testmod(chain)
    assert (result.attempted > 0, result.failed) == (True, 0)


def test_the_package_names_every_public_name_once():
    import kalc_formal.coredns.plugins as package

    assert sorted(package.__all__) == sorted(set(package.__all__))
    assert all(hasattr(package, name) for name in package.__all__)
