"""Hypothesis strategies: bad bounds are refused, every value is valid for the parsers and
the model, and values shrink towards small clusters."""

import doctest

import hypothesis.errors
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

import kalc_formal
from kalc_formal import strategies
from kalc_formal.clients.resolvconf import Libc, parse_resolv_conf
from kalc_formal.clients.resolver import ClientReply, simulate_lookup
from kalc_formal.coredns.corefile import parse_corefile
from kalc_formal.coredns.plugins import CoreDNSVersion, configure, valid_directives
from kalc_formal.engine import analyse_inputs
from kalc_formal.source import Source
from kalc_formal.strategies import (
    ClusterObjects,
    Workload,
    clusters,
    corefiles,
    dns_configs,
    resolv_confs,
    workloads,
)

SHRINK = settings(database=None, derandomize=True, phases=[Phase.generate, Phase.shrink])
"""For find(): no "explain" phase (it re-runs the example under a tracer)."""
FAST = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
COREFILE = ".:53 {\n    kubernetes cluster.local\n    forward . 10.0.0.2\n    cache 30\n}\n"
ENV = {"upstreams": [{"address": "10.0.0.2"}],
       "names": [{"id": "ext", "example": "api.example.com"}]}


@pytest.mark.parametrize(("make", "message"), [
    (lambda: resolv_confs(max_nameservers=0), "max_nameservers=0"),
    (lambda: resolv_confs(max_searches=7), "max_searches=7"),
    (lambda: resolv_confs(max_ndots=-1), "max_ndots=-1"),
    (lambda: resolv_confs(max_ndots=True), "max_ndots=True"),
    (lambda: dns_configs(max_nameservers=4), "max_nameservers=4"),
    (lambda: dns_configs(max_searches="6"), "max_searches='6'"),
    (lambda: corefiles(versions=[]), "versions=\\[\\]"),
    (lambda: corefiles(versions="1.14.6"), "a non-empty list"),
    (lambda: corefiles(versions=["1.4.0"]), "from 1.5.0"),
    (lambda: corefiles(versions=["banana"]), "'banana'"),
    (lambda: corefiles(autopath="yes"), "autopath='yes'"),
    (lambda: corefiles(max_cache_capacity=10), "max_cache_capacity=10"),
    (lambda: workloads(max_replicas=0), "max_replicas=0"),
    (lambda: workloads(max_rate=0), "max_rate=0"),
    (lambda: workloads(max_surge=0.5), "max_surge=0.5"),
    (lambda: workloads(namespaces=[]), "a non-empty list"),
    (lambda: workloads(namespaces=["Team_A"]), "'Team_A' is not a namespace name"),
    (lambda: workloads(dns_configs=None), "dns_configs=None"),
    (lambda: clusters(max_namespaces=0), "max_namespaces=0"),
    (lambda: clusters(max_namespaces=2001), "max_namespaces=2001"),
    (lambda: clusters(max_workloads=0), "max_workloads=0"),
    (lambda: clusters(max_names=21), "max_names=21"),
    (lambda: clusters(max_nodes=0), "max_nodes=0"),
    (lambda: clusters(max_rate=500), "max_rate=500"),
    (lambda: clusters(versions=["x"]), "'x'"),
])
def test_bad_bounds_are_invalid_argument_of_both_kinds(make, message):
    with pytest.raises(strategies.InvalidArgument, match=message) as caught:
        make()
    assert isinstance(caught.value, kalc_formal.InvalidArgument)
    assert isinstance(caught.value, hypothesis.errors.InvalidArgument)


@FAST
@given(resolv_confs())
def test_every_resolv_conf_parses_and_every_library_resolves_with_it(text):
    conf = parse_resolv_conf(Source("<resolv.conf>", text))
    assert conf.nameservers
    for libc in Libc:
        trace = simulate_lookup("api.example.com", conf, libc, lambda *_: ClientReply.ANSWER)
        assert trace.result == "success"


def pod(dns_config, policy="ClusterFirst"):
    spec = {"dnsPolicy": policy, "dnsConfig": dns_config,
            "containers": [{"name": "app", "image": "app:1"}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
            "spec": spec}


@FAST
@given(dns_configs())
def test_every_dns_config_is_read_and_analysed(dns_config):
    cluster = kalc_formal.load_objects([pod(dns_config)], corefile=COREFILE, env=ENV)
    analysis = analyse_inputs(cluster._inputs, horizon=2)
    assert analysis.model.flows


@pytest.mark.parametrize("version", strategies.VERSIONS)
def test_every_corefile_is_valid_for_its_version(version):
    parsed = CoreDNSVersion.parse(version)

    @FAST
    @given(corefiles(versions=[version]))
    def check(text):
        configure(parse_corefile(Source("<Corefile>", text),
                                 valid_directives=valid_directives(parsed)), version=parsed)

    check()


@FAST
@given(workloads(max_replicas=20))
def test_every_workload_is_read_and_analysed(workload):
    env = {**ENV, "lookups": [workload.lookup(["ext"])]}
    cluster = kalc_formal.load_objects(workload.manifests(), corefile=COREFILE, env=env)
    assert cluster.namespaces == (workload.namespace,)
    assert 1 <= workload.replicas <= 20
    assert workload.rate <= workload.surge_rate <= 3 * workload.rate + 1e-9
    analysis = analyse_inputs(cluster._inputs, horizon=2)
    assert analysis.model.flows


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(clusters(max_namespaces=6))
def test_every_cluster_is_read_and_analysed(objects):
    cluster = objects.load()
    assert len(cluster.namespaces) <= objects.namespaces
    analysis = analyse_inputs(cluster._inputs)
    assert analysis.model.flows


@settings(max_examples=5, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(clusters(max_namespaces=4, versions=["1.11.1", "1.14.7"]))
def test_every_cluster_gets_a_verdict(objects):
    result = kalc_formal.check(objects.load(), horizon=2, budget=5_000_000)
    assert result.verdict.value in {"proved", "safe-bounded", "unsafe", "unknown"}


def test_clusters_shrink_to_one_namespace_with_one_small_workload():
    smallest = find(clusters(), lambda c: True, settings=SHRINK)
    assert isinstance(smallest, ClusterObjects)
    assert smallest.namespaces == 1
    [deployment] = smallest.manifests
    assert deployment["spec"]["replicas"] == 1
    assert len(smallest.env["names"]) == 1
    assert smallest.env["coredns"]["replicas"] == 1
    assert smallest.env["cluster"]["nodes"] == 1


def test_a_failing_property_shrinks_to_the_smallest_cluster_that_fails():
    def many_pods(objects):
        return sum(m["spec"].get("replicas", 0) for m in objects.manifests
                   if m["kind"] == "Deployment") >= 30

    smallest = find(clusters(max_namespaces=5, max_replicas=20), many_pods, settings=SHRINK)
    deployments = [m for m in smallest.manifests if m["kind"] == "Deployment"]
    assert 30 <= sum(d["spec"]["replicas"] for d in deployments) <= 35
    assert 2 <= len(deployments) <= 3
    assert smallest.namespaces == 1


def test_workloads_draw_from_the_given_namespaces():
    drawn = find(workloads(namespaces=["a", "b"]), lambda w: w.namespace == "b", settings=SHRINK)
    assert isinstance(drawn, Workload)
    assert drawn.namespace == "b"
    assert drawn.max_replicas is None


def test_module_doctests():
    assert doctest.testmod(strategies).failed == 0


def test_a_surge_of_one_hundred_percent_is_never_below_the_rate() -> None:
    """Found by the module's doctest under Hypothesis: 0.189 x 100 / 100 is
    0.18899999999999997 in floats, and kalc.yaml refused surge_rate below rate."""
    from kalc_formal.strategies import _workload

    workload = _workload("team-000", "a", 1, None, ("ClusterFirst", None), "glibc", 0.189, 100)
    assert workload.surge_rate >= workload.rate
