"""The kubelet's synthesis of a pod's resolv.conf (facts H1-H5, kubelet dns.go)."""

from kalc_formal.clients.resolvconf import (
    Libc,
    PodDNSConfig,
    ResolvConf,
    ResolvOption,
    parse_resolv_conf,
    pod_resolv_conf,
)
from kalc_formal.source import Source

NODE = parse_resolv_conf(Source("node-resolv.conf", "nameserver 172.20.0.2\nsearch ec2.internal\noptions timeout:2 attempts:3\n"))


def pod(**kwargs):
    kwargs.setdefault("node_resolv_conf", NODE)
    return pod_resolv_conf(**kwargs)


def test_cluster_first_uses_cluster_dns_search_and_only_ndots_5():
    result = pod(dns_policy="ClusterFirst", namespace="shop")
    conf = result.resolv_conf
    assert conf.nameservers == ("10.96.0.10",)
    assert conf.search == ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal")
    assert conf.options == (ResolvOption("ndots", "5"),)
    assert result.warnings == ()
    assert conf.text == ("search shop.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
                         "nameserver 10.96.0.10\noptions ndots:5\n")
    assert conf.settings(Libc.GLIBC).timeout == 5


def test_empty_policy_is_cluster_first():
    assert pod(dns_policy="").resolv_conf == pod(dns_policy="ClusterFirst").resolv_conf


def test_host_network_cluster_first_falls_back_to_default():
    conf = pod(dns_policy="ClusterFirst", host_network=True).resolv_conf
    assert conf.nameservers == ("172.20.0.2",)
    assert conf.search == ("ec2.internal",)
    assert [str(o) for o in conf.options] == ["timeout:2", "attempts:3"]


def test_cluster_first_with_host_net_keeps_cluster_dns():
    conf = pod(dns_policy="ClusterFirstWithHostNet", host_network=True, namespace="kube-system").resolv_conf
    assert conf.nameservers == ("10.96.0.10",)
    assert conf.search[0] == "kube-system.svc.cluster.local"


def test_default_policy_copies_the_node_file():
    conf = pod(dns_policy="Default").resolv_conf
    assert (conf.nameservers, conf.search) == (("172.20.0.2",), ("ec2.internal",))


def test_default_without_kubelet_resolv_conf():
    conf = pod(dns_policy="Default", node_resolv_conf=None).resolv_conf
    assert conf.nameservers == ("127.0.0.1",)
    assert conf.search == (".",)


def test_missing_cluster_dns_falls_back_to_default_with_a_warning():
    result = pod(dns_policy="ClusterFirst", cluster_dns=())
    assert result.resolv_conf.nameservers == ("172.20.0.2",)
    assert [w.reason for w in result.warnings] == ["MissingClusterDNS"]
    assert not result.warnings[0].rejected


def test_none_policy_uses_only_dns_config():
    config = PodDNSConfig(("1.1.1.1",), ("corp.example",), (ResolvOption("ndots", "2"),))
    result = pod(dns_policy="None", dns_config=config)
    assert result.resolv_conf == ResolvConf(("1.1.1.1",), ("corp.example",), (ResolvOption("ndots", "2"),))
    assert result.warnings == ()


def test_none_policy_without_nameservers_is_rejected():
    for config in (None, PodDNSConfig(searches=("a.example",))):
        result = pod(dns_policy="None", dns_config=config)
        assert [w.rejected for w in result.warnings] == [True]
        assert "at least one DNS nameserver" in result.warnings[0].message


def test_dns_config_is_appended_without_duplicates_and_options_merge_by_name():
    config = PodDNSConfig(("10.96.0.10", "8.8.8.8"), ("svc.cluster.local", "corp.example"),
                          (ResolvOption("ndots", "2"), ResolvOption("edns0")))
    conf = pod(dns_policy="ClusterFirst", namespace="a", dns_config=config).resolv_conf
    assert conf.nameservers == ("10.96.0.10", "8.8.8.8")
    assert conf.search == ("a.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal", "corp.example")
    assert conf.options == (ResolvOption("ndots", "2"), ResolvOption("edns0"))
    assert conf.settings(Libc.MUSL).ndots == 2


def test_nameservers_cut_to_three_with_a_warning():
    config = PodDNSConfig(("1.1.1.1", "8.8.8.8", "9.9.9.9"))
    result = pod(dns_policy="ClusterFirst", dns_config=config)
    assert result.resolv_conf.nameservers == ("10.96.0.10", "1.1.1.1", "8.8.8.8")
    assert [w.reason for w in result.warnings] == ["DNSConfigForming"]
    assert "applied nameserver line is: 10.96.0.10 1.1.1.1 8.8.8.8" in result.warnings[0].message


def test_search_limits_legacy_and_expanded():
    node = ResolvConf(("172.20.0.2",), tuple(f"d{i}.example" for i in range(5)))
    legacy = pod(dns_policy="ClusterFirst", node_resolv_conf=node, expanded_dns_config=False)
    assert len(legacy.resolv_conf.search) == 6
    assert legacy.resolv_conf.search[-1] == "d2.example"
    assert [w.reason for w in legacy.warnings] == ["DNSConfigForming"]
    expanded = pod(dns_policy="ClusterFirst", node_resolv_conf=node, expanded_dns_config=True)
    assert len(expanded.resolv_conf.search) == 8
    assert expanded.warnings == ()


def test_search_characters_cut_from_the_end():
    long = tuple(("x" * 60 + f".d{i}.example") for i in range(4))  # 70 characters each
    node = ResolvConf(("172.20.0.2",), long)
    result = pod(dns_policy="Default", node_resolv_conf=node, expanded_dns_config=False)
    assert result.resolv_conf.search == long[:3]
    assert len(" ".join(result.resolv_conf.search)) <= 256
    assert result.warnings[0].reason == "DNSConfigForming"


def test_entries_over_253_characters_are_dropped():
    huge = ".".join(["a" * 60] * 5)  # 304 characters
    node_text = f"nameserver 172.20.0.2\nsearch ok.example {huge}\n"
    node = ResolvConf(text=node_text)
    result = pod(dns_policy="Default", node_resolv_conf=node)
    assert result.resolv_conf.search == ("ok.example",)
    assert result.warnings[0].reason == "DNSConfigForming"


def test_kubelet_reading_of_the_node_file():
    """Host search: trailing dots trimmed except a lone '.', last search line
    wins, options merged across lines, domain lines ignored."""
    node = ResolvConf(text="domain ignored.example\nsearch old.example\nsearch ec2.internal. .\n"
                           "nameserver 172.20.0.2\noptions timeout:1\noptions attempts:3 timeout:2\n")
    default = pod(dns_policy="Default", node_resolv_conf=node).resolv_conf
    assert default.search == ("ec2.internal", ".")
    assert [str(o) for o in default.options] == ["timeout:2", "attempts:3"]
    cluster = pod(dns_policy="ClusterFirst", node_resolv_conf=node).resolv_conf
    assert cluster.search[-2:] == ("ec2.internal", ".")


def test_invalid_dns_config_is_rejected():
    config = PodDNSConfig(("not-an-ip", "1.1.1.1", "2.2.2.2", "3.3.3.3"), ("bad..name",), (ResolvOption(""),))
    messages = [w.message for w in pod(dns_policy="ClusterFirst", dns_config=config).warnings if w.rejected]
    assert any("more than 3 nameservers" in m for m in messages)
    assert any("'not-an-ip' must be a valid IP address" in m for m in messages)
    assert any("'bad..name' must be a DNS subdomain" in m for m in messages)
    assert any("option name must not be empty" in m for m in messages)


def test_unknown_policy_is_rejected_and_treated_as_cluster_first():
    result = pod(dns_policy="Clusterfirst")
    assert result.warnings[0].rejected
    assert result.resolv_conf.nameservers == ("10.96.0.10",)


def test_no_cluster_domain_keeps_the_host_search():
    conf = pod(dns_policy="ClusterFirst", cluster_domain="").resolv_conf
    assert conf.search == ("ec2.internal",)
