"""Settings: each one's default, where its value comes from, which ones narrow the real
system, and kalc.yaml's bounds reported at their file:line:col."""

import io
from fractions import Fraction

import pytest

from kalc_formal.config.envspec import EnvSpec, parse_env, schema
from kalc_formal.config.names import DEFAULT_SERVICE_TTL, name_classes
from kalc_formal.config.reading import choose_version
from kalc_formal.config.settings import (
    DEFAULT_ARRIVALS,
    DEFAULT_BURST,
    DEFAULT_DNS_IP,
    DEFAULT_DOMAIN,
    DEFAULT_EXTERNAL_TTL,
    DEFAULT_HORIZON,
    DEFAULT_INITIAL_CACHE,
    DEFAULT_LIBC,
    DEFAULT_NEGATIVE_TTL,
    DEFAULT_NODE_NAMESERVER,
    DEFAULT_NODES,
    DEFAULT_RATE,
    DEFAULT_REPLICAS,
    DEFAULT_REPLY_MS,
    DEFAULT_RESTARTS,
    DEFAULT_SHARD_BALANCE,
    DEFAULT_SKEW,
    DEFAULT_STEP,
    DEFAULT_UPSTREAM_LIMIT,
    Arrivals,
    CheckSettings,
    Found,
    Recorder,
    decide_settings,
)
from kalc_formal.errors import ConfigErrors
from kalc_formal.kubernetes.cluster import Cluster, read_cluster
from kalc_formal.kubernetes.placement import DEFAULT_MAX_PODS
from kalc_formal.source import Source, Span


def decide(spec: EnvSpec | None = None, cluster: Cluster | None = None, *, horizon=None,
           zone=None) -> CheckSettings:
    return decide_settings(
        cluster or Cluster(), spec or EnvSpec(), version="1.14.7", version_origin="default",
        horizon=horizon, kubernetes_zone=lambda: zone,
    )


def table(settings: CheckSettings) -> dict[str, tuple[str, str, bool]]:
    return {a.key: (a.value, a.origin, a.narrows) for a in settings.recorder.assumptions}


def env(text: str) -> EnvSpec:
    return parse_env(Source("kalc.yaml", text))


# ---- defaults -------------------------------------------------------------------------


def test_with_nothing_given_every_setting_is_its_default_in_this_order():
    settings = decide()
    assert list(table(settings).items()) == [
        ("coredns.version", ("1.14.7", "default", False)),
        ("coredns.replicas", ("2", "default", False)),
        ("coredns.rollout", ("false", "default", False)),
        ("coredns.restarts", ("0", "default", False)),
        ("cluster.domain", ("cluster.local", "default", False)),
        ("cluster.nodes", ("1", "default", False)),
        ("cluster.max_pods_per_node", ("110", "default", False)),
        ("coredns.replicas_per_node", ("2", "default", False)),
        ("coredns.skew", ("0.1", "default", True)),
        ("cluster.dns_ip", ("10.96.0.10", "default", False)),
        ("cluster.node_search", ("[]", "default", False)),
        ("cluster.node_nameservers", ("[169.254.169.253]", "default", False)),
        ("upstreams", ("node nameservers, 1024/s, scope node, sliding window", "default", False)),
        ("names", ("10 external names like api.example.com, ttl 30 s", "default", False)),
        ("check.step", ("1", "default", False)),
        ("check.horizon", ("60", "default", False)),
        ("check.initial_cache", ("warm", "default", False)),
        ("surge.max_steps", ("None", "default", False)),
        ("surge.scale_to_hpa_max", ("true", "default", False)),
        ("check.arrivals", ("any", "default", False)),
        ("coredns.shard_balance", ("any", "default", False)),
        ("lookups", ("every workload looks up every name at 0.1/s per pod", "default", False)),
    ]
    assert all(a.at is None for a in settings.recorder.assumptions)
    assert len(settings.recorder.defaults()) == 22


def test_the_default_values_themselves():
    settings = decide()
    assert (settings.replicas, settings.skew, settings.restarts, settings.unavailable) == (
        DEFAULT_REPLICAS, Fraction(1, 10), DEFAULT_RESTARTS, 0)
    assert (settings.domain, settings.nodes, settings.dns_ip) == (
        DEFAULT_DOMAIN, DEFAULT_NODES, DEFAULT_DNS_IP)
    assert settings.node_search == ()
    assert settings.node_nameservers == (DEFAULT_NODE_NAMESERVER,)
    assert settings.max_pods.pods == DEFAULT_MAX_PODS
    assert settings.max_pods.origin == "default"
    assert (settings.step, settings.horizon, settings.initial_cache) == (
        DEFAULT_STEP, DEFAULT_HORIZON, DEFAULT_INITIAL_CACHE)
    assert settings.surge_steps is None
    assert settings.scale_to_hpa_max is True
    assert settings.arrivals is None
    assert settings.shard_balance == DEFAULT_SHARD_BALANCE
    [upstream] = settings.upstreams
    assert (upstream.address, upstream.limit, upstream.scope, upstream.outage_steps,
            upstream.window) == ("node", DEFAULT_UPSTREAM_LIMIT, "node", 0, "sliding")
    [name] = settings.names
    [lookup] = settings.lookups
    assert lookup.names == (name.id,)
    assert (lookup.rate, lookup.surge_rate, lookup.libc) == (DEFAULT_RATE, DEFAULT_RATE, DEFAULT_LIBC)
    assert settings.node_resolv_conf.nameservers == (DEFAULT_NODE_NAMESERVER,)


def test_name_classes_fill_in_the_name_defaults():
    settings = decide(env(
        "names:\n  - id: ext\n    example: api.example.com\n"
        "  - id: svc\n    service: web\n    form: fqdn\n"
        "  - id: own\n    service: db\n    namespace: data\n    ttl: 7\n    count: 3\n"
    ), zone="corp.internal.")
    ext, svc, own = name_classes(settings)
    assert (ext.kind, ext.count, ext.ttl, ext.negative_ttl, ext.exists, ext.aaaa) == (
        "external", 1, DEFAULT_EXTERNAL_TTL, DEFAULT_NEGATIVE_TTL, True, False)
    assert (svc.kind, svc.text, svc.ttl) == (
        "service (fqdn)", "web.kf-own-ns.svc.corp.internal", DEFAULT_SERVICE_TTL)
    assert (own.kind, own.text, own.ttl, own.count, own.namespace) == (
        "service (short)", "db", 7, 3, "data")


def test_a_lookup_without_a_surge_rate_surges_at_its_rate():
    settings = decide(env(
        "names:\n  - id: a\n    example: a.example\n"
        "lookups:\n  - names: [a]\n    rate: 3\n  - names: [a]\n    surge_rate: 2\n"
        "    libc: musl\n"
    ))
    first, second = settings.lookups
    assert (first.rate, first.surge_rate, first.libc) == (3, 3, DEFAULT_LIBC)
    assert (second.rate, second.surge_rate, second.libc) == (DEFAULT_RATE, 2, "musl")
    assert str(second.span) == "kalc.yaml:7:5"
    assert "lookups" not in table(settings)


# ---- where a value comes from ---------------------------------------------------------

EVERYTHING = """\
coredns:
  replicas: 6
  replicas_per_node: 2
  skew: 0.25
  restarts: 1
  rollout: true
  shard_balance: even
cluster:
  domain: corp.internal
  nodes: 12
  dns_ip: 10.1.0.10
  node_search: [ec2.internal]
  node_nameservers: [10.0.0.2]
  max_pods_per_node: 29
upstreams:
  - address: node
    window: fixed
names:
  - id: ext
    example: api.example.com
lookups:
  - names: [ext]
surge:
  max_steps: 5
  scale_to_hpa_max: false
check:
  step: 2
  horizon: 30
  initial_cache: cold
  arrivals: spread
  burst: 1.5
  reply_ms: 40
"""


def test_kalc_yaml_values_are_taken_and_recorded_at_their_line_and_column():
    settings = decide(env(EVERYTHING), zone="cluster.local.")
    lines = EVERYTHING.splitlines()
    for assumption in settings.recorder.assumptions:
        if assumption.key in ("coredns.version", "coredns.max_unavailable", "names", "lookups"):
            continue
        assert assumption.origin == "kalc.yaml", assumption.key
        assert assumption.at is not None, assumption.key
        assert assumption.at.path == "kalc.yaml"
        section, _, key = assumption.key.rpartition(".")
        line = lines[assumption.at.line - 1]
        if section:
            assert line.startswith(f"  {key}: "), assumption.key
            assert assumption.at.column == len(key) + 5, assumption.key
        else:  # a list: its first item, under its key
            assert (lines[assumption.at.line - 2], line) == (f"{key}:", "  - address: node")
    assert settings.replicas == 6
    assert settings.replicas_per_node == 2
    assert settings.skew == Fraction(1, 4)
    assert settings.restarts == 2  # one restart given, one for the rollout
    assert settings.unavailable == 1  # a quarter of 6, rounded down
    assert (settings.domain, settings.nodes, settings.dns_ip) == ("corp.internal", 12, "10.1.0.10")
    assert (settings.node_search, settings.node_nameservers) == (("ec2.internal",), ("10.0.0.2",))
    assert settings.max_pods.pods == 29
    assert settings.max_pods.origin == "kalc.yaml"
    assert settings.max_pods.span == Span("kalc.yaml", 14, 22)
    assert (settings.step, settings.horizon, settings.initial_cache) == (2, 30, "cold")
    assert (settings.surge_steps, settings.scale_to_hpa_max) == (5, False)
    assert settings.arrivals == Arrivals(Fraction(3, 2), Fraction(40, 1000))
    assert settings.shard_balance == "even"
    assert settings.upstreams[0].window == "fixed"


def test_the_narrowing_settings_are_flagged():
    narrowing = {k for k, (_, _, narrows) in table(decide(env(EVERYTHING))).items() if narrows}
    assert narrowing == {
        "coredns.replicas_per_node", "coredns.skew", "cluster.max_pods_per_node", "upstreams",
        "check.arrivals", "check.burst", "check.reply_ms", "coredns.shard_balance",
    }


@pytest.mark.parametrize(("text", "key"), [
    ("coredns:\n  shard_balance: any\n", "coredns.shard_balance"),
    ("check:\n  arrivals: any\n", "check.arrivals"),
    ("upstreams:\n  - address: node\n    window: sliding\n", "upstreams"),
])
def test_the_real_systems_own_behaviour_written_out_does_not_narrow(text, key):
    value, origin, narrows = table(decide(env(text)))[key]
    assert origin == "kalc.yaml"
    assert not narrows, value


def test_spread_arrivals_default_their_burst_and_reply_time_and_flag_both():
    settings = decide(env("check:\n  arrivals: spread\n"))
    found = table(settings)
    assert found["check.burst"] == (str(DEFAULT_BURST), "default", True)
    assert found["check.reply_ms"] == (str(DEFAULT_REPLY_MS), "default", True)
    assert settings.arrivals == Arrivals(Fraction(DEFAULT_BURST), Fraction(DEFAULT_REPLY_MS, 1000))
    assert "check.burst" not in table(decide())


def test_the_command_line_horizon_beats_kalc_yaml():
    settings = decide(env("check:\n  horizon: 30\n"), horizon=7)
    assert settings.horizon == 7
    assert table(settings)["check.horizon"] == ("7", "command line", False)
    assert decide(env("check:\n  horizon: 30\n")).horizon == 30


def test_the_domain_comes_from_the_corefile_unless_kalc_yaml_gives_it():
    settings = decide(zone="example.org.")
    assert settings.domain == "example.org"
    assert table(settings)["cluster.domain"] == ("example.org.", "Corefile", False)
    given = decide(env("cluster:\n  domain: corp.internal\n"), zone="example.org.")
    assert given.domain == "corp.internal"


MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  replicas: 8
  strategy:
    rollingUpdate: {maxUnavailable: 3}
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: {k8s-app: kube-dns}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v1.11.1
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: 10.100.0.10
  ports: [{name: dns, port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Node
metadata: {name: a}
status:
  allocatable: {pods: '58'}
---
apiVersion: v1
kind: Node
metadata: {name: b}
status:
  allocatable: {pods: '30'}
"""


def manifests() -> Cluster:
    return read_cluster(["-"], stdin=io.StringIO(MANIFESTS))


def test_the_manifests_give_what_kalc_yaml_leaves_out():
    settings = decide(env("coredns:\n  rollout: true\n"), manifests())
    found = table(settings)
    assert found["coredns.replicas"] == ("8", "manifests", False)
    assert found["coredns.max_unavailable"] == ("3", "manifests", False)
    assert found["cluster.nodes"] == ("2", "manifests", False)
    assert found["cluster.dns_ip"] == ("10.100.0.10", "manifests", False)
    assert found["cluster.max_pods_per_node"] == ("58", "manifests", False)
    assert found["coredns.replicas_per_node"][:2] == ("1", "manifests")
    assert (settings.replicas, settings.unavailable, settings.restarts) == (8, 3, 1)
    max_pods = settings.recorder.assumptions[
        [a.key for a in settings.recorder.assumptions].index("cluster.max_pods_per_node")]
    assert max_pods.at is not None
    assert max_pods.at == manifests().nodes[0].span
    assert settings.max_pods.reason == "the Node objects' status.allocatable.pods"


def test_kalc_yaml_beats_the_manifests():
    settings = decide(env("coredns:\n  replicas: 4\ncluster:\n  nodes: 9\n  dns_ip: 10.2.0.10\n"
                          "  max_pods_per_node: 20\n"), manifests())
    found = table(settings)
    for key in ("coredns.replicas", "cluster.nodes", "cluster.dns_ip", "cluster.max_pods_per_node"):
        assert found[key][1] == "kalc.yaml", key
    assert (settings.replicas, settings.nodes, settings.dns_ip, settings.max_pods.pods) == (
        4, 9, "10.2.0.10", 20)


def test_a_rollout_keeps_one_replica_up():
    settings = decide(env("coredns:\n  replicas: 1\n  rollout: true\n"))
    assert table(settings)["coredns.max_unavailable"] == ("1", "default", False)
    assert settings.unavailable == 0
    assert decide(env("coredns:\n  replicas: 12\n  rollout: true\n")).unavailable == 3


def test_the_coredns_version_command_line_then_kalc_yaml_then_image_then_default():
    given = env('coredns:\n  version: "1.12.0"\n')
    assert choose_version("1.13.1", given, manifests()) == (
        choose_version("1.13.1", EnvSpec(), Cluster())[0], "command line")
    assert str(choose_version(None, given, manifests())[0]) == "1.12.0"
    assert choose_version(None, given, manifests())[1] == "kalc.yaml"
    assert str(choose_version(None, EnvSpec(), manifests())[0]) == "1.11.1"
    assert choose_version(None, EnvSpec(), manifests())[1] == "manifests"
    assert choose_version(None, EnvSpec(), Cluster())[1] == "default"


# ---- the recorder ---------------------------------------------------------------------


def test_the_recorder_takes_the_first_value_given_and_flags_what_narrows():
    record = Recorder()
    at = Span("kalc.yaml", 3, 4)
    assert record.take("a", [Found("command line", None), Found("kalc.yaml", 5, at)], 1,
                       narrows=lambda value: value > 4) == 5
    assert record.take("b", [Found("kalc.yaml", None)], (1, True), "why") == (1, True)
    first, second = record.assumptions
    assert (first.value, first.origin, first.at, first.narrows) == ("5", "kalc.yaml", at, True)
    assert (second.value, second.origin, second.note, second.at) == ("[1, true]", "default", "why", None)
    assert record.defaults() == [second]


# ---- one place per default ------------------------------------------------------------


def describe(dotted: str) -> str:
    rule = schema()
    for part in dotted.split("."):
        rule = rule["items"] if part == "[]" else rule["properties"][part]
    return rule["description"]


@pytest.mark.parametrize(("field", "says"), [
    ("coredns.replicas", f"else {DEFAULT_REPLICAS}."),
    ("coredns.skew", f"Default {DEFAULT_SKEW}."),
    ("coredns.restarts", f"Default {DEFAULT_RESTARTS}."),
    ("coredns.shard_balance", f"`{DEFAULT_SHARD_BALANCE}` (default)"),
    ("cluster.domain", f"else {DEFAULT_DOMAIN}."),
    ("cluster.nodes", f"else {DEFAULT_NODES}."),
    ("cluster.dns_ip", f"else {DEFAULT_DNS_IP}."),
    ("cluster.node_nameservers", f"Default: [{DEFAULT_NODE_NAMESERVER}]."),
    ("cluster.max_pods_per_node", f"default {DEFAULT_MAX_PODS}."),
    ("upstreams.[].limit", f"Default {DEFAULT_UPSTREAM_LIMIT} "),
    ("names.[].ttl", f"Default {DEFAULT_EXTERNAL_TTL} (external)"),
    ("names.[].negative_ttl", f"Default {DEFAULT_NEGATIVE_TTL}."),
    ("lookups.[].rate", f"Default {DEFAULT_RATE}."),
    ("lookups.[].surge_rate", "Default: rate."),
    ("lookups.[].libc", f"Default {DEFAULT_LIBC}."),
    ("check.step", f"Default {DEFAULT_STEP}."),
    ("check.horizon", f"Default {DEFAULT_HORIZON}."),
    ("check.initial_cache", f"Default {DEFAULT_INITIAL_CACHE}."),
    ("check.arrivals", f"`{DEFAULT_ARRIVALS}` (default)"),
    ("check.burst", f"Default {DEFAULT_BURST}."),
    ("check.reply_ms", f"Default {DEFAULT_REPLY_MS} "),
])
def test_the_schema_states_the_default_the_settings_use(field, says):
    assert says in describe(field)


# ---- bounds: errors at file:line:col ---------------------------------------------------


@pytest.mark.parametrize(("text", "error"), [
    ("coredns:\n  replicas: 0\n", "kalc.yaml:2:13: coredns.replicas: must be >= 1"),
    ("coredns:\n  skew: 1.5\n", "kalc.yaml:2:9: coredns.skew: must be <= 1"),
    ("coredns:\n  replicas_per_node: 1001\n",
     "kalc.yaml:2:22: coredns.replicas_per_node: must be <= 1000"),
    ("cluster:\n  max_pods_per_node: 0\n",
     "kalc.yaml:2:22: cluster.max_pods_per_node: must be >= 1"),
    ("cluster:\n  node_nameservers: [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4]\n",
     "kalc.yaml:2:21: cluster.node_nameservers: at most 3 item(s)"),
    ("check:\n  step: 61\n", "kalc.yaml:2:9: check.step: must be <= 60"),
    ("check:\n  horizon: 0\n", "kalc.yaml:2:12: check.horizon: must be >= 1"),
    ("check:\n  burst: 0\n", "kalc.yaml:2:10: check.burst: must be > 0"),
    ("check:\n  reply_ms: 60001\n", "kalc.yaml:2:13: check.reply_ms: must be <= 60000"),
    ("surge:\n  max_steps: -1\n", "kalc.yaml:2:14: surge.max_steps: must be >= 0"),
    ("upstreams:\n  - address: node\n    limit: 0\n",
     "kalc.yaml:3:12: upstreams.0.limit: must be >= 1"),
    ("upstreams: []\n", "kalc.yaml:1:12: upstreams: needs at least 1 item(s)"),
    ("names:\n  - id: a\n    example: a.example\nlookups:\n  - names: [a]\n    rate: 2\n"
     "    surge_rate: 1\n", "kalc.yaml:5:5: lookups: surge_rate is below rate"),
])
def test_a_value_out_of_bounds_is_an_error_at_its_place_with_its_line(text, error):
    with pytest.raises(ConfigErrors) as caught:
        env(text)
    message, offending, caret = str(caught.value).splitlines()
    assert message == error
    _, line, column, _ = error.split(":", 3)
    written = text.splitlines()[int(line) - 1]
    assert offending.endswith(written)
    margin = len(offending) - len(written)
    assert caret == " " * (margin + int(column) - 1) + "^"
