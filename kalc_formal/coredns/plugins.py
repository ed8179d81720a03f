"""Input stage: typed plugin options, the plugin chain per CoreDNS version, coverage.

``configure`` reads each server block of a parsed Corefile the way the plugins'
``setup.go`` functions of the chosen CoreDNS version do, and orders the plugins
as that version's ``core/dnsserver/zdirectives.go`` does (B1-B6): the order in
the Corefile does not matter (A13).

>>> from kalc_formal.coredns.corefile import parse_corefile
>>> from kalc_formal.source import Source
>>> text = ".:53 {\\n    forward . 10.0.0.2\\n    autopath @kubernetes\\n    cache 30\\n"
>>> text += "    kubernetes cluster.local {\\n        pods verified\\n    }\\n}\\n"
>>> config = configure(parse_corefile(Source("Corefile", text)),
...                    version=CoreDNSVersion.parse("1.14.6"))
>>> [plugin.name for plugin in config.blocks[0].plugins]
['cache', 'autopath', 'kubernetes', 'forward']
>>> config.blocks[0].plugins[0].success_max_ttl
30.0
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeVar

from kalc_formal.coredns.corefile import (
    BlockLine,
    Corefile,
    Directive,
    ServerBlock,
    ServerKey,
    Token,
    is_domain_name,
    parse_server_key,
)
from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument
from kalc_formal.source import Span

# ---- versions -------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class CoreDNSVersion:
    """A CoreDNS release number such as 1.14.7."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> CoreDNSVersion:
        """Read "1.14.6", "v1.11.1" or "1.11" (patch 0); InvalidArgument otherwise."""
        match = re.fullmatch(r"v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?", text.strip())
        if match is None:
            raise InvalidArgument(f"not a CoreDNS version: {text!r} (expected like 1.14.7)")
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


DEFAULT_COREDNS_VERSION = "1.14.7"
"""The version assumed when neither the user nor the CoreDNS image gives one: the
newest release whose plugin order is in ``PLUGIN_ORDERS``. Callers report it."""


def _v(text: str) -> CoreDNSVersion:
    return CoreDNSVersion.parse(text)


PLUGIN_ORDERS: tuple[tuple[str, str], ...] = (
    # (first release with this order, directives in execution order) from
    # core/dnsserver/zdirectives.go at each tag of coredns/coredns (the compiled list;
    # plugin.cfg differs from it at v1.0.5 and v1.14.2, and release builds do not
    # regenerate it). Facts B2-B5.
    ("1.0.0", "tls root bind debug trace health pprof prometheus errors log dnstap chaos cache rewrite loadbalance dnssec autopath reverse hosts federation kubernetes file auto secondary etcd proxy erratic whoami startup shutdown"),
    ("1.0.1", "tls nsid root bind debug trace health pprof prometheus errors log dnstap chaos cache rewrite loadbalance dnssec autopath reverse hosts federation kubernetes file auto secondary etcd proxy erratic whoami startup shutdown"),
    ("1.0.3", "tls nsid root bind debug trace health pprof prometheus errors log dnstap chaos cache rewrite loadbalance dnssec autopath reverse template hosts federation kubernetes file auto secondary etcd proxy erratic whoami startup shutdown"),
    ("1.0.5", "tls nsid root bind debug trace health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath reverse template hosts route53 federation kubernetes file auto secondary etcd proxy erratic whoami on startup shutdown"),
    ("1.0.6", "tls nsid root bind debug trace health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath reverse template hosts route53 federation kubernetes file auto secondary etcd forward proxy erratic whoami on startup shutdown"),
    ("1.1.0", "tls reload nsid root bind debug trace health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath reverse template hosts route53 federation kubernetes file auto secondary etcd forward proxy erratic whoami on startup shutdown"),
    ("1.1.1", "tls reload nsid root bind debug trace health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath reverse template hosts route53 federation kubernetes file auto secondary etcd forward proxy erratic whoami on"),
    ("1.2.0", "metadata tls reload nsid root bind debug trace health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath template hosts route53 federation kubernetes file auto secondary etcd forward proxy erratic whoami on"),
    ("1.2.1", "metadata tls reload nsid root bind debug trace health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath template hosts route53 federation kubernetes file auto secondary etcd loop forward proxy erratic whoami on"),
    ("1.3.0", "metadata tls reload nsid root bind debug trace health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath template hosts route53 federation k8s_external kubernetes file auto secondary etcd loop forward proxy erratic whoami on"),
    ("1.5.0", "metadata cancel tls reload nsid root bind debug trace ready health pprof prometheus errors log dnstap chaos loadbalance cache rewrite dnssec autopath template hosts route53 federation k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on"),
    ("1.5.1", "metadata cancel tls reload nsid root bind debug trace ready health pprof prometheus errors log dnstap any chaos loadbalance cache rewrite dnssec autopath template hosts route53 federation k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on"),
    ("1.6.2", "metadata cancel tls reload nsid root bind debug trace ready health pprof prometheus errors log dnstap any chaos loadbalance cache rewrite dnssec autopath template hosts route53 azure federation k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on"),
    ("1.6.3", "metadata cancel tls reload nsid root bind debug trace ready health pprof prometheus errors log dnstap any chaos loadbalance cache rewrite dnssec autopath template hosts route53 azure clouddns federation k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.6.4", "metadata cancel tls reload nsid root bind debug trace ready health pprof prometheus errors log dnstap acl any chaos loadbalance cache rewrite dnssec autopath template hosts route53 azure clouddns federation k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.6.5", "metadata cancel tls reload nsid root bind debug trace ready health pprof prometheus errors log dnstap acl any chaos loadbalance cache rewrite dnssec autopath template transfer hosts route53 azure clouddns federation k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.6.6", "metadata cancel tls reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap acl any chaos loadbalance cache rewrite dnssec autopath template transfer hosts route53 azure clouddns federation k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.7.0", "metadata cancel tls reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap dns64 acl any chaos loadbalance cache rewrite dnssec autopath template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.8.1", "metadata cancel tls reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance cache rewrite dnssec autopath template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.8.4", "metadata cancel tls reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance cache rewrite dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.8.5", "metadata geoip cancel tls reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.9.4", "metadata geoip cancel tls reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign"),
    ("1.10.0", "metadata geoip cancel tls reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view"),
    ("1.10.1", "metadata geoip cancel tls timeouts reload nsid bufsize root bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view"),
    ("1.11.3", "root metadata geoip cancel tls timeouts reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view"),
    ("1.12.0", "root metadata geoip cancel tls timeouts multisocket reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view"),
    ("1.12.2", "root metadata geoip cancel tls quic timeouts multisocket reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view"),
    ("1.13.0", "root metadata geoip cancel tls quic timeouts multisocket reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view nomad"),
    ("1.14.0", "root metadata geoip cancel tls quic grpc_server https https3 timeouts multisocket reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view nomad"),
    ("1.14.2", "root metadata geoip cancel tls proxyproto quic grpc_server https https3 timeouts multisocket reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view nomad"),
    ("1.14.3", "root metadata geoip cancel tls proxyproto quic grpc_server https https3 timeouts multisocket reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 any chaos loadbalance tsig cache rewrite acl header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view nomad"),
    ("1.14.7", "root metadata geoip cancel proxyproto quic grpc_server https https3 timeouts multisocket reload nsid bufsize bind debug trace ready health pprof shed prometheus errors log dnstap local dns64 any chaos loadbalance tsig rewrite autopath acl cache header dnssec tls minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view nomad"),
)
NEWEST_KNOWN_ORDER = PLUGIN_ORDERS[-1][0]


def plugin_order(version: CoreDNSVersion) -> tuple[str, ...]:
    """The directives of ``version`` in execution order (B1-B3).

    A version newer than the newest table uses that table (``order_version``
    says which one was used). Versions before 1.0.0 are InvalidArgument.
    """
    return tuple(PLUGIN_ORDERS[_order_index(version)][1].split())


def order_version(version: CoreDNSVersion) -> str:
    """The release whose order table applies to ``version``."""
    return PLUGIN_ORDERS[_order_index(version)][0]


def valid_directives(version: CoreDNSVersion) -> frozenset[str]:
    """The directive names ``version`` accepts (its zdirectives.go list, A10)."""
    return frozenset(plugin_order(version))


def _order_index(version: CoreDNSVersion) -> int:
    if version < _v("1.0.0"):
        raise InvalidArgument(f"CoreDNS {version} is older than 1.0.0, which kalc-formal does not read")
    index = 0
    for position, (first, _) in enumerate(PLUGIN_ORDERS):
        if _v(first) <= version:
            index = position
    return index


ERR_ONCE_SINCE: Mapping[str, str] = {
    # The first release whose setup returns plugin.ErrOnce on a repeat (A12;
    # `git grep plugin.ErrOnce` per tag). forward did so from 1.1.0 to 1.9.3 only.
    "cache": "1.1.0", "dnssec": "1.1.0", "errors": "1.1.0", "hosts": "1.1.0",
    "kubernetes": "1.1.0", "prometheus": "1.1.0", "nsid": "1.1.0", "pprof": "1.1.0",
    "loop": "1.2.1", "grpc": "1.5.0", "ready": "1.5.0", "tsig": "1.9.4",
    "view": "1.10.0", "shed": "1.14.7",
}
ERR_ONCE_MESSAGE = "this plugin can only be used once per Server Block"


# ---- coverage ---------------------------------------------------------------------------

CoverageStatus = Literal["modelled", "ignored", "not-modelled"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """How the model treats one directive of a server block."""

    directive_name: str
    span: Span = field(compare=False)
    status: CoverageStatus
    reason: str


MODELLED = "its effect on which queries reach the upstream, and how many, is modelled"
COVERAGE: Mapping[str, tuple[CoverageStatus, str]] = {
    "kubernetes": ("modelled", "answers the cluster zones locally (F1-F6)"),
    "autopath": ("modelled", "server-side search path walk (C1-C15)"),
    "cache": ("modelled", "positive and negative caching (D1-D13)"),
    "forward": ("modelled", "sends queries to the upstream (E1-E10)"),
    "hosts": ("modelled", "answers names listed in a hosts file or inline"),
    "errors": ("ignored", "logs errors; does not change replies"),
    "log": ("ignored", "logs queries; does not change replies"),
    "health": ("ignored", "HTTP health endpoint; adds no handler (B5)"),
    "ready": ("ignored", "HTTP readiness endpoint; adds no handler (B5)"),
    "prometheus": ("ignored", "metrics only"),
    "reload": ("ignored", "reloads the Corefile when it changes; adds no handler (B5)"),
    "loop": ("ignored", "sends probes only during the first 30 s after start (B7)"),
    "debug": ("ignored", "turns off panic recovery"),
    "pprof": ("ignored", "profiling endpoint"),
    "trace": ("ignored", "tracing only"),
    "dnstap": ("ignored", "logs messages only"),
    "metadata": ("ignored", "collects metadata for other plugins"),
    "geoip": ("ignored", "adds metadata only"),
    "nsid": ("ignored", "adds an EDNS0 NSID option to replies"),
    "root": ("ignored", "sets the directory for relative file names"),
    "bind": ("ignored", "sets listen addresses; does not change how a received query is answered"),
    "tls": ("ignored", "configures the listener's TLS"),
    "quic": ("ignored", "configures the DNS-over-QUIC listener"),
    "grpc_server": ("ignored", "configures the gRPC listener"),
    "https": ("ignored", "configures the DNS-over-HTTPS listener"),
    "https3": ("ignored", "configures the DNS-over-HTTP/3 listener"),
    "proxyproto": ("ignored", "accepts the PROXY protocol on the listener"),
    "multisocket": ("ignored", "number of listening sockets"),
    "timeouts": ("ignored", "server read/write/idle timeouts of stream listeners"),
    "chaos": ("ignored", "answers class CH queries only"),
    "any": ("ignored", "changes replies to qtype ANY only"),
    "loadbalance": ("ignored", "reorders records in replies"),
    "transfer": ("ignored", "zone transfers only"),
    "on": ("ignored", "runs commands on start-up and shutdown events"),
    "startup": ("ignored", "runs commands on start-up"),
    "shutdown": ("ignored", "runs commands on shutdown"),
    "rewrite": ("not-modelled", "rewrites names and types, which changes what is cached and forwarded"),
    "template": ("not-modelled", "answers matching queries itself"),
    "file": ("not-modelled", "answers its zones from a zone file"),
    "auto": ("not-modelled", "answers zones from zone files"),
    "secondary": ("not-modelled", "answers transferred zones"),
    "view": ("not-modelled", "filters which queries this server block serves"),
    "acl": ("not-modelled", "blocks, filters or drops queries"),
    "k8s_external": ("not-modelled", "answers its zones from Kubernetes services"),
    "local": ("not-modelled", "answers localhost names locally"),
    "dns64": ("not-modelled", "synthesizes AAAA records and sends extra A queries"),
    "header": ("not-modelled", "changes header flags"),
    "minimal": ("not-modelled", "drops the authority and additional sections of positive replies below the cache, which changes the TTL the cache keeps them for (D5)"),
    "dnssec": ("not-modelled", "signs replies"),
    "sign": ("not-modelled", "signs zone files"),
    "tsig": ("not-modelled", "can reject unsigned queries"),
    "bufsize": ("not-modelled", "limits the EDNS0 buffer size, which can cause truncation and TCP retries"),
    "cancel": ("not-modelled", "cancels requests after a timeout"),
    "shed": ("not-modelled", "refuses queries under load"),
    "erratic": ("not-modelled", "drops, delays or truncates replies"),
    "whoami": ("not-modelled", "answers every query it receives itself"),
    "grpc": ("not-modelled", "sends queries to a gRPC upstream"),
    "proxy": ("not-modelled", "sends queries to an upstream (the old proxy plugin)"),
    "route53": ("not-modelled", "answers zones from Route 53"),
    "azure": ("not-modelled", "answers zones from Azure DNS"),
    "clouddns": ("not-modelled", "answers zones from Google Cloud DNS"),
    "etcd": ("not-modelled", "answers zones from etcd"),
    "nomad": ("not-modelled", "answers zones from Nomad"),
    "federation": ("not-modelled", "answers Kubernetes federation names"),
    "reverse": ("not-modelled", "synthesizes reverse records"),
}


# ---- typed plugin configs ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KubernetesConfig:
    """``kubernetes [ZONES...] {...}`` (F1-F6; plugin/kubernetes/setup.go ParseStanza)."""

    name: ClassVar[str] = "kubernetes"
    zones: tuple[str, ...]
    pods: Literal["disabled", "insecure", "verified"]
    ttl: int
    fallthrough: tuple[str, ...] | None
    namespaces: tuple[str, ...]
    endpoint_pod_names: bool
    noendpoints: bool
    options: Mapping[str, tuple[str, ...]]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AutopathConfig:
    """``autopath [ZONE...] RESOLV-CONF`` (C1, C2; plugin/autopath/setup.go).

    ``inert`` says why this autopath does nothing, when it does nothing: the named
    plugin is not in the block (C2), or kubernetes does not have ``pods verified``
    (C3).
    """

    name: ClassVar[str] = "autopath"
    zones: tuple[str, ...]
    source: str
    source_plugin: str | None
    resolv_file: str | None
    inert: str | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """``cache [TTL] [ZONES...] {...}`` (D1-D4, D7, D11, D12; plugin/cache/setup.go).

    Durations are in seconds. ``*_capacity`` is as configured; the effective
    capacity is ``256 * max(4, capacity // 256)`` (pkg/cache New: 256 shards of
    at least 4 entries, D3), and eviction happens per shard.
    """

    name: ClassVar[str] = "cache"
    zones: tuple[str, ...]
    success_capacity: int
    success_capacity_effective: int
    success_max_ttl: float
    success_min_ttl: float
    denial_capacity: int
    denial_capacity_effective: int
    denial_max_ttl: float
    denial_min_ttl: float
    prefetch_amount: int
    prefetch_duration: float
    prefetch_percentage: int
    serve_stale: float | None
    serve_stale_refresh: Literal["immediate", "verify"]
    servfail_ttl: float
    disable_success_zones: tuple[str, ...]
    disable_denial_zones: tuple[str, ...]
    keepttl: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Upstream:
    """One ``TO`` of forward: an address, a resolv.conf-style file, or a host name.

    A file is kept as a reference: CoreDNS reads it inside its container at start
    (E3). ``port`` is None for a file.
    """

    text: str
    kind: Literal["address", "file", "hostname"]
    transport: str
    host: str
    port: int | None
    tls_server_name: str | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ForwardConfig:
    """One ``forward FROM TO... {...}`` (E1-E10; plugin/forward/setup.go).

    Durations are in seconds. ``max_connect_attempts`` is the effective cap per
    query, None for no cap (E5: 2 x upstreams by default from 1.14.7, no cap
    before); ``read_timeout`` is 2 s where the version has no option for it.
    """

    name: ClassVar[str] = "forward"
    from_zone: str
    to: tuple[Upstream, ...]
    except_zones: tuple[str, ...]
    policy: Literal["random", "round_robin", "sequential"]
    max_concurrent: int | None
    max_fails: int
    health_check: float
    health_check_recursion_desired: bool
    health_check_domain: str
    force_tcp: bool
    prefer_udp: bool
    expire: float
    max_connect_attempts: int | None
    max_connect_attempts_configured: int | None
    read_timeout: float
    failover_rcodes: tuple[str, ...]
    next_rcodes: tuple[str, ...]
    next_on_nodata: bool
    failfast_all_unhealthy_upstreams: bool
    options: Mapping[str, tuple[str, ...]]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class HostsEntry:
    """One inline line of the hosts plugin: an address and its names."""

    address: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HostsConfig:
    """``hosts [FILE [ZONES...]] {...}`` (plugin/hosts/setup.go)."""

    name: ClassVar[str] = "hosts"
    file: str
    zones: tuple[str, ...]
    entries: tuple[HostsEntry, ...]
    ttl: int
    no_reverse: bool
    reload: float
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class RewriteRule:
    """One rewrite rule: ``[continue|stop] TYPE [MATCH] ARGS...``."""

    mode: Literal["stop", "continue"]
    rule_type: str
    match: str | None
    args: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class RewriteConfig:
    """Every ``rewrite`` rule of the block, in Corefile order (A12)."""

    name: ClassVar[str] = "rewrite"
    rules: tuple[RewriteRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class TemplateRule:
    """One ``template CLASS TYPE [ZONE...] {...}``."""

    qclass: str
    qtype: str
    zones: tuple[str, ...]
    match: tuple[str, ...]
    answer: tuple[str, ...]
    additional: tuple[str, ...]
    authority: tuple[str, ...]
    rcode: str
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class TemplateConfig:
    """Every ``template`` of the block, in Corefile order (A12)."""

    name: ClassVar[str] = "template"
    templates: tuple[TemplateRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class FileConfig:
    """``file DBFILE [ZONES...] {...}``; repeats add zones."""

    name: ClassVar[str] = "file"
    files: Mapping[str, str]
    reload: float
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LoopConfig:
    name: ClassVar[str] = "loop"
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ErrorsConfig:
    name: ClassVar[str] = "errors"
    stacktrace: bool
    consolidate: tuple[tuple[str, ...], ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LogRule:
    name_scope: str
    format: str | None
    classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LogConfig:
    name: ClassVar[str] = "log"
    rules: tuple[LogRule, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    name: ClassVar[str] = "health"
    address: str
    lameduck: float
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ReadyConfig:
    name: ClassVar[str] = "ready"
    address: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class PrometheusConfig:
    name: ClassVar[str] = "prometheus"
    address: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ReloadConfig:
    name: ClassVar[str] = "reload"
    interval: float
    jitter: float
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LoadbalanceConfig:
    name: ClassVar[str] = "loadbalance"
    policy: str
    args: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class K8sExternalConfig:
    name: ClassVar[str] = "k8s_external"
    zones: tuple[str, ...]
    ttl: int
    apex: str
    headless: bool
    fallthrough: tuple[str, ...] | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class LocalConfig:
    name: ClassVar[str] = "local"
    localhost_prefix: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ViewConfig:
    name: ClassVar[str] = "view"
    view_name: str
    expressions: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AclPolicy:
    action: Literal["allow", "block", "filter", "drop"]
    qtypes: tuple[str, ...]
    networks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AclConfig:
    name: ClassVar[str] = "acl"
    rules: tuple[tuple[tuple[str, ...], tuple[AclPolicy, ...]], ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AnyConfig:
    name: ClassVar[str] = "any"
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class MinimalConfig:
    name: ClassVar[str] = "minimal"
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class GenericPlugin:
    """A directive kalc-formal keeps without reading its options."""

    name: str
    args: tuple[Token, ...]
    block: tuple[BlockLine, ...] | None
    span: Span = field(compare=False)


PluginConfig = (
    KubernetesConfig | AutopathConfig | CacheConfig | ForwardConfig | HostsConfig
    | RewriteConfig | TemplateConfig | FileConfig | LoopConfig | ErrorsConfig | LogConfig
    | HealthConfig | ReadyConfig | PrometheusConfig | ReloadConfig | LoadbalanceConfig
    | K8sExternalConfig | LocalConfig | ViewConfig | AclConfig | AnyConfig | MinimalConfig
    | GenericPlugin
)


@dataclass(frozen=True, slots=True)
class BlockConfig:
    """One server block: its keys, its plugins in execution order, and coverage."""

    keys: tuple[ServerKey, ...]
    plugins: tuple[PluginConfig, ...]
    directives_coverage: tuple[Coverage, ...]


@dataclass(frozen=True, slots=True)
class CorefileConfig:
    """Every server block configured for one CoreDNS version."""

    version: CoreDNSVersion
    order_version: str
    blocks: tuple[BlockConfig, ...]


# ---- configure ----------------------------------------------------------------------------


def configure(corefile: Corefile, *, version: CoreDNSVersion) -> CorefileConfig:
    """Read every directive's options as ``version`` of CoreDNS does, and order them.

    Raises ConfigErrors (or a single ConfigError) for unknown directives, repeats
    that the plugin rejects (A12), and bad options; errors of independent
    directives are all reported.
    """
    if not isinstance(version, CoreDNSVersion):
        raise InvalidArgument(f"version must be a CoreDNSVersion, not {type(version).__name__}")
    order = plugin_order(version)
    blocks = []
    errors: list[ConfigError] = []
    for block in corefile.blocks:
        reader = _BlockReader(corefile, block, version, order, errors)
        blocks.append(reader.read())
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return CorefileConfig(version, order_version(version), tuple(blocks))


class _Fail(Exception):
    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


def _error(corefile: Corefile, span: Span, message: str) -> ConfigError:
    return corefile.error(span, message)


class _BlockReader:
    def __init__(
        self,
        corefile: Corefile,
        block: ServerBlock,
        version: CoreDNSVersion,
        order: tuple[str, ...],
        errors: list[ConfigError],
    ) -> None:
        self.corefile = corefile
        self.block = block
        self.version = version
        self.order = order
        self.errors = errors
        self.key_zones = tuple(key.zone for key in block.keys)

    def read(self) -> BlockConfig:
        coverage = []
        by_name: dict[str, list[Directive]] = {}
        for directive in self.block.directives:
            if directive.name not in self.order:
                self.errors.append(_error(self.corefile, directive.span, f"Unknown directive '{directive.name}'"))
                continue
            by_name.setdefault(directive.name, []).append(directive)
            status, reason = COVERAGE.get(directive.name, ("not-modelled", "kalc-formal does not know this plugin"))
            coverage.append(Coverage(directive.name, directive.span, status, reason))
        plugins: list[PluginConfig] = []
        for name in sorted(by_name, key=self.order.index):
            try:
                plugins += self._configs(name, by_name[name])
            except _Fail as failure:
                self.errors.append(_error(self.corefile, failure.span, f"plugin/{name}: {failure.message}"))
        coverage = [self._adjusted(item, by_name) for item in coverage]
        try:
            plugins = [_autopath_source(plugin, plugins) for plugin in plugins]
        except _Fail as failure:
            self.errors.append(_error(self.corefile, failure.span, f"plugin/autopath: {failure.message}"))
        return BlockConfig(self.block.keys, tuple(plugins), tuple(coverage))

    def _adjusted(self, item: Coverage, by_name: Mapping[str, list[Directive]]) -> Coverage:
        occurrences = by_name.get(item.directive_name, [])
        if item.directive_name == "autopath" and occurrences and occurrences[-1].span != item.span:
            last = occurrences[-1].span
            return Coverage(item.directive_name, item.span, "ignored", f"overridden by the autopath at line {last.line}: the last one wins (A12)")
        return item

    def _configs(self, name: str, directives: list[Directive]) -> list[PluginConfig]:
        since = ERR_ONCE_SINCE.get(name)
        once = since is not None and self.version >= _v(since)
        if name == "forward" and _v("1.1.0") <= self.version < _v("1.9.4"):
            once = True
        if len(directives) > 1 and self.version < _v("1.1.0") and (since is not None or name == "forward"):
            raise _Fail(directives[1].span, f"a repeated {name} before CoreDNS 1.1.0 is not modelled")
        if once and len(directives) > 1:
            raise _Fail(directives[1].span, ERR_ONCE_MESSAGE)
        reader = _READERS.get(name)
        if reader is None:
            return [GenericPlugin(d.name, d.args, d.block, d.span) for d in directives]
        return reader(self, directives)

    # -- helpers used by the plugin readers --

    def zones(self, args: Sequence[Token]) -> tuple[str, ...]:
        """plugin.OriginsFromArgsOrServerBlock: the args' zones, else the block's."""
        if not args:
            return self.key_zones
        zones: list[str] = []
        for token in args:
            zones += normalize_exact(token.text)
        return tuple(zones)

    def at_least(self, version: str) -> bool:
        return self.version >= _v(version)


def normalize_exact(text: str) -> list[str]:
    """plugin.Host(text).NormalizeExact(): zones of a host, [] when it is invalid."""
    try:
        return [key.zone for key in parse_server_key(text, Span("", 0, 0))]
    except ValueError:
        return []


def _fallthrough(args: Sequence[Token]) -> tuple[str, ...]:
    """fall.SetZonesFromArgs: the zones given, or the root zone."""
    if not args:
        return (".",)
    zones: list[str] = []
    for token in args:
        zones += normalize_exact(token.text)
    return tuple(zones)


# ---- Dispenser-like access to a directive ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Option:
    """One line of a plugin block: ``name`` then ``args``."""

    name: Token
    args: tuple[Token, ...]
    span: Span


def _options(directive: Directive) -> Iterator[_Option]:
    """The lines of a one-level plugin block, as Dispenser.NextBlock gives them.

    A nested block inside is read by such plugins as the property ``{``.
    """
    for line in directive.block or ():
        if line.block is not None or not line.tokens:
            raise _Fail(line.span, "unknown property '{' (this plugin takes no nested block)")
        yield _Option(line.tokens[0], line.tokens[1:], line.span)


def _unread_rest(option: _Option) -> Iterator[_Option]:
    """The option, then its arguments as the next option, for properties whose setup
    case reads no arguments: Dispenser.NextBlock hands the next token over as the
    next property."""
    yield _Option(option.name, (), option.span)
    if option.args:
        yield _Option(option.args[0], option.args[1:], option.args[0].span)


def _lines_as_read(directive: Directive, flags: frozenset[str]) -> Iterator[_Option]:
    """``_options``, with the arguments of the properties in ``flags`` read as the next
    property."""
    for option in _options(directive):
        if option.name.text in flags:
            yield from _unread_rest(option)
        else:
            yield option


def _no_block(directive: Directive) -> None:
    """For plugins whose setup reads the next argument after the name: a block's ``{``
    is that argument, and Dispenser.ArgErr reports it."""
    if directive.block is not None:
        raise _Fail(directive.span, "Unexpected token '{', expecting argument")


def _arg_error(token: Token | Directive) -> _Fail:
    text = token.name if isinstance(token, Directive) else token.text
    return _Fail(token.span, f"Wrong argument count or unexpected line ending after '{text}'")


def _last(directive: Directive) -> Token | Directive:
    return directive.args[-1] if directive.args else directive


def _option_last(option: _Option) -> Token:
    return option.args[-1] if option.args else option.name


def _unknown(option: _Option) -> _Fail:
    return _Fail(option.name.span, f"unknown property '{option.name.text}'")


def _in_range(reader: _BlockReader, releases: str) -> bool:
    """Whether the reader's version is in ``releases``: "1.4.0" (since) or "1.0.0-1.6.9"."""
    low, _, high = releases.partition("-")
    return reader.at_least(low) and (not high or reader.version <= _v(high))


_H = TypeVar("_H")


def _handler(reader: _BlockReader, option: _Option, table: Mapping[str, tuple[str, _H]]) -> _H | None:
    """The handler of ``option`` if the reader's version has that option."""
    entry = table.get(option.name.text)
    if entry is None or not _in_range(reader, entry[0]):
        return None
    return entry[1]


# ---- value parsers (Go semantics) -------------------------------------------------------------


def _go_atoi(token: Token) -> int:
    """strconv.Atoi."""
    if not re.fullmatch(r"[+-]?[0-9]+", token.text) or not -(2**63) <= int(token.text) < 2**63:
        raise _Fail(token.span, f'strconv.Atoi: parsing "{token.text}": invalid syntax')
    return int(token.text)


def _go_parse_uint32(token: Token) -> int:
    """strconv.ParseUint(text, 10, 32)."""
    if not re.fullmatch(r"[0-9]+", token.text):
        raise _Fail(token.span, f'strconv.ParseUint: parsing "{token.text}": invalid syntax')
    if int(token.text) >= 2**32:
        raise _Fail(token.span, f'strconv.ParseUint: parsing "{token.text}": value out of range')
    return int(token.text)


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """time.ParseDuration in seconds ("300ms", "1m30s", "-1.5h", "0"); ValueError if bad."""
    rest = text
    sign = 1.0
    if rest[:1] in "+-" and rest:
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise ValueError(f'time: invalid duration "{text}"')
    total = 0.0
    while rest:
        number = re.match(r"[0-9]*(?:\.[0-9]*)?", rest)
        digits = number.group(0) if number else ""
        if digits in ("", "."):
            raise ValueError(f'time: invalid duration "{text}"')
        rest = rest[len(digits) :]
        unit = re.match(r"[^0-9.]*", rest)
        unit_text = unit.group(0) if unit else ""
        if not unit_text:
            raise ValueError(f'time: missing unit in duration "{text}"')
        if unit_text not in _DURATION_UNITS:
            raise ValueError(f'time: unknown unit "{unit_text}" in duration "{text}"')
        total += float(digits) * _DURATION_UNITS[unit_text]
        rest = rest[len(unit_text) :]
    return sign * total


def _go_duration(token: Token) -> float:
    try:
        return parse_go_duration(token.text)
    except ValueError as error:
        raise _Fail(token.span, str(error)) from None


RCODES = (
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", "BADSIG", "BADKEY", "BADTIME", "BADMODE",
    "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
)
"""miekg/dns StringToRcode keys (v1.1.72)."""
QTYPES = frozenset(
    ["A", "AAAA", "AFSDB", "AMTRELAY", "ANY", "APL", "ATMA", "AVC", "AXFR", "CAA", "CDNSKEY", "CDS", "CERT", "CNAME", "CSYNC", "DHCID", "DLV", "DNAME", "DNSKEY", "DS", "EID", "EUI48", "EUI64", "GID", "GPOS", "HINFO", "HIP", "HTTPS", "IPSECKEY", "ISDN", "IXFR", "KEY", "KX", "L32", "L64", "LOC", "LP", "MAILA", "MAILB", "MB", "MD", "MF", "MG", "MINFO", "MR", "MX", "NAPTR", "NID", "NIMLOC", "NINFO", "NS", "NSEC", "NSEC3", "NSEC3PARAM", "NULL", "NXNAME", "NXT", "OPENPGPKEY", "OPT", "PTR", "PX", "RESINFO", "RKEY", "RP", "RRSIG", "RT", "SIG", "SMIMEA", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TA", "TALINK", "TKEY", "TLSA", "TSIG", "TXT", "UID", "UINFO", "UNSPEC", "URI", "X25", "ZONEMD", "NSAP-PTR", "None", "Reserved"]
)
"""miekg/dns StringToType keys (v1.1.72)."""
QCLASSES = frozenset({"IN", "CS", "CH", "HS", "NONE", "ANY"})


def _rcode(token: Token) -> str:
    upper = token.text.upper()
    if upper not in RCODES:
        raise _Fail(token.span, f"{token.text} is not a valid rcode")
    return upper


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """net.ParseIP (no zone)."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def split_host_port(text: str) -> tuple[str, str]:
    """net.SplitHostPort; ValueError with Go's message."""
    def fail(reason: str) -> ValueError:
        return ValueError(f"address {text}: {reason}")

    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise fail("missing ']' in address")
        if end + 1 == len(text) or text[end + 1] != ":":
            raise fail("missing port in address")
        host, port = text[1:end], text[end + 2 :]
        if ":" in port:
            raise fail("too many colons in address")
        return host, port
    colon = text.rfind(":")
    if colon == -1:
        raise fail("missing port in address")
    host, port = text[:colon], text[colon + 1 :]
    if ":" in host:
        raise fail("too many colons in address")
    if "[" in host or "]" in host or "]" in port:
        raise fail("unexpected '[' or ']' in address")
    return host, port


def _address(token: Token) -> str:
    try:
        split_host_port(token.text)
    except ValueError as error:
        raise _Fail(token.span, str(error)) from None
    return token.text


# ---- the plugin readers ------------------------------------------------------------------------

_Reader = Callable[[_BlockReader, list[Directive]], list[PluginConfig]]
_READERS: dict[str, _Reader] = {}


def _reads(name: str) -> Callable[[_Reader], _Reader]:
    def register(function: _Reader) -> _Reader:
        _READERS[name] = function
        return function

    return register


@dataclass
class _KubernetesState:
    pods: Literal["disabled", "insecure", "verified"] = "disabled"
    ttl: int = 5
    fallthrough: tuple[str, ...] | None = None
    namespaces: tuple[str, ...] = ()
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _no_args(option: _Option) -> None:
    if option.args:
        raise _arg_error(option.args[-1])


def _some_args(option: _Option) -> None:
    if not option.args:
        raise _arg_error(option.name)


def _arg_count(option: _Option, *counts: int) -> None:
    if len(option.args) not in counts:
        raise _arg_error(_option_last(option))


def _k8s_pods(state: _KubernetesState, option: _Option) -> None:
    _arg_count(option, 1)
    value = option.args[0].text
    if value == "disabled":
        state.pods = "disabled"
    elif value == "insecure":
        state.pods = "insecure"
    elif value == "verified":
        state.pods = "verified"
    else:
        raise _Fail(option.args[0].span, f"wrong value for pods: {value},  must be one of: disabled, verified, insecure")


def _k8s_namespaces(state: _KubernetesState, option: _Option) -> None:
    _some_args(option)
    state.namespaces += tuple(token.text for token in option.args)


def _k8s_ttl(state: _KubernetesState, option: _Option) -> None:
    _some_args(option)
    state.ttl = _go_atoi(option.args[0])
    if not 0 <= state.ttl <= 3600:
        raise _Fail(option.args[0].span, f"ttl must be in range [0, 3600]: {state.ttl}")


def _k8s_fallthrough(state: _KubernetesState, option: _Option) -> None:
    state.fallthrough = _fallthrough(option.args)


def _k8s_ignore(state: _KubernetesState, option: _Option) -> None:
    if option.args and option.args[0].text != "empty_service":
        raise _Fail(option.args[0].span, f"unable to parse ignore value: '{option.args[0].text}'")


def _k8s_duration(state: _KubernetesState, option: _Option) -> None:
    _some_args(option)
    _go_duration(option.args[0])


def _k8s_api_number(state: _KubernetesState, option: _Option) -> None:
    _arg_count(option, 1)
    _non_negative_number(option.args[0], option.name.text, allow_float=option.name.text == "apiserver_qps")


_KUBERNETES_OPTIONS: Mapping[str, tuple[str, Callable[[_KubernetesState, _Option], None]]] = {
    "endpoint_pod_names": ("1.0.0", lambda state, option: _no_args(option)),
    "pods": ("1.0.0", _k8s_pods),
    "namespaces": ("1.0.0", _k8s_namespaces),
    "endpoint": ("1.0.0", lambda state, option: _some_args(option)),
    "tls": ("1.0.0", lambda state, option: _arg_count(option, 3)),
    "labels": ("1.0.0", lambda state, option: _some_args(option)),
    "fallthrough": ("1.0.0", _k8s_fallthrough),
    "ttl": ("1.0.0", _k8s_ttl),
    "upstream": ("1.0.0-1.6.9", lambda state, option: None),
    "resyncperiod": ("1.0.0-1.6.9", _k8s_duration),
    "noendpoints": ("1.0.6", lambda state, option: _no_args(option)),
    "transfer": ("1.0.6-1.7.1", lambda state, option: None),
    "ignore": ("1.1.3", _k8s_ignore),
    "kubeconfig": ("1.2.3", lambda state, option: _arg_count(option, 1, 2)),
    "namespace_labels": ("1.5.0", lambda state, option: _some_args(option)),
    "multicluster": ("1.12.2", lambda state, option: None),
    "startup_timeout": ("1.12.3", _k8s_duration),
    "apiserver_qps": ("1.14.0", _k8s_api_number),
    "apiserver_burst": ("1.14.0", _k8s_api_number),
    "apiserver_max_inflight": ("1.14.0", _k8s_api_number),
    "zonal": ("1.14.7", lambda state, option: _no_args(option)),
}


@_reads("kubernetes")
def _kubernetes(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[0]
    zones = reader.zones(directive.args)
    if not any(not _is_reverse(zone) for zone in zones):
        raise _Fail(directive.span, "non-reverse zone name must be used")
    state = _KubernetesState()
    for option in _options(directive):
        handler = _handler(reader, option, _KUBERNETES_OPTIONS)
        if handler is None:
            raise _unknown(option)
        state.options[option.name.text] = tuple(token.text for token in option.args)
        handler(state, option)
    options = state.options
    if "namespaces" in options and "namespace_labels" in options:
        raise _Fail(directive.span, "namespaces and namespace_labels cannot both be set")
    if "zonal" in options and "noendpoints" in options:
        raise _Fail(directive.span, "zonal requires the endpoint cache; remove noendpoints")
    return [KubernetesConfig(
        zones, state.pods, state.ttl, state.fallthrough, state.namespaces,
        "endpoint_pod_names" in options, "noendpoints" in options, options, directive.span,
    )]


def _non_negative_number(token: Token, name: str, *, allow_float: bool) -> None:
    pattern = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?" if allow_float else r"[+-]?[0-9]+"
    if not re.fullmatch(pattern, token.text):
        raise _Fail(token.span, f"invalid {name} {token.text!r}")
    if float(token.text) < 0:
        raise _Fail(token.span, f"{name} must be >= 0")


def _is_reverse(zone: str) -> bool:
    return zone.endswith(("in-addr.arpa.", "ip6.arpa."))


@_reads("autopath")
def _autopath(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    configs = []
    for directive in directives:
        if directive.block is not None:
            raise _Fail(directive.span, "no resolv-conf specified (autopath takes no block)")
        if not directive.args:
            raise _Fail(directive.span, "no resolv-conf specified")
        source = directive.args[-1].text
        plugin = source[1:] if source.startswith("@") else None
        configs.append(AutopathConfig(
            reader.zones(directive.args[:-1]), source, plugin, None if plugin is not None else source, None, directive.span,
        ))
    return [configs[-1]]


CACHE_DEFAULT_CAPACITY = 10_000
CACHE_MAX_TTL = 3600.0
CACHE_MAX_NTTL = 1800.0
CACHE_MIN_TTL = 5.0


def cache_effective_capacity(capacity: int) -> int:
    """pkg/cache New: 256 shards of ``max(capacity / 256, 4)`` entries (D3)."""
    per_shard = int(capacity / 256) if capacity >= 0 else -((-capacity) // 256)
    return 256 * max(per_shard, 4)


@dataclass
class _CacheState:
    pcap: int = CACHE_DEFAULT_CAPACITY
    ncap: int = CACHE_DEFAULT_CAPACITY
    pttl: float = CACHE_MAX_TTL
    nttl: float = CACHE_MAX_NTTL
    minpttl: float = CACHE_MIN_TTL
    minnttl: float = CACHE_MIN_TTL
    failttl: float = CACHE_MIN_TTL
    prefetch: int = 0
    duration: float = 60.0
    percentage: int = 10
    serve_stale: float | None = None
    refresh: Literal["immediate", "verify"] = "immediate"
    disable_success: tuple[str, ...] = ()
    disable_denial: tuple[str, ...] = ()
    keepttl: bool = False
    seen: set[str] = field(default_factory=set)


def _cache_capacity(state: _CacheState, option: _Option) -> None:
    """``success|denial CAPACITY [TTL [MINTTL]]``."""
    args = option.args
    _some_args(option)
    capacity = _go_atoi(args[0])
    ttl = minimum = None
    if len(args) > 1:
        ttl = _go_atoi(args[1])
        if ttl <= 0:
            raise _Fail(args[1].span, f"cache TTL can not be zero or negative: {ttl}")
    if len(args) > 2:
        minimum = _go_atoi(args[2])
        if minimum < 0:
            raise _Fail(args[2].span, f"cache min TTL can not be negative: {minimum}")
    if option.name.text == "success":
        state.pcap = capacity
        state.pttl = float(ttl) if ttl is not None else state.pttl
        state.minpttl = float(minimum) if minimum is not None else state.minpttl
    else:
        state.ncap = capacity
        state.nttl = float(ttl) if ttl is not None else state.nttl
        state.minnttl = float(minimum) if minimum is not None else state.minnttl


def _cache_prefetch(state: _CacheState, option: _Option) -> None:
    """``prefetch AMOUNT [DURATION [PERCENTAGE%]]`` (D11)."""
    args = option.args
    if not args or len(args) > 3:
        raise _arg_error(_option_last(option))
    state.prefetch = _go_atoi(args[0])
    if state.prefetch < 0:
        raise _Fail(args[0].span, f"prefetch amount should be positive: {state.prefetch}")
    if len(args) > 1:
        state.duration = _go_duration(args[1])
    if len(args) > 2:
        text = args[2].text
        if not text.endswith("%"):
            raise _Fail(args[2].span, f"last character of percentage should be `%`, but is: {text[-1:]!r}")
        state.percentage = _go_atoi(Token(text[:-1], args[2].span))
        if not 10 <= state.percentage <= 90:
            raise _Fail(args[2].span, f"percentage should fall in range [10, 90]: {state.percentage}")


def _cache_serve_stale(state: _CacheState, option: _Option) -> None:
    """``serve_stale [DURATION [immediate|verify [...]]]`` (D12)."""
    args = option.args
    if len(args) > 5:
        raise _arg_error(args[-1])
    state.serve_stale = 3600.0
    if args:
        state.serve_stale = _go_duration(args[0])
        if state.serve_stale < 0:
            raise _Fail(args[0].span, "invalid negative duration for serve_stale")
    if len(args) > 1:
        mode = args[1].text.lower()
        if mode not in ("immediate", "verify"):
            raise _Fail(args[1].span, f"invalid value for serve_stale refresh mode: {mode}")
        state.refresh = "verify" if mode == "verify" else "immediate"
    if len(args) > 4 and state.refresh == "immediate":
        raise _arg_error(args[-1])
    for token in args[2:]:
        if _go_duration(token) < 0:
            raise _Fail(token.span, "invalid negative duration for serve_stale")


def _cache_stale_policy(state: _CacheState, option: _Option) -> None:
    _arg_count(option, 1)
    if option.args[0].text.lower() != "prefer_positive":
        raise _Fail(option.args[0].span, f"invalid serve_stale_policy: {option.args[0].text}")


def _cache_servfail(state: _CacheState, option: _Option) -> None:
    """``servfail DURATION``: 0 disables, at most 5 minutes (D7)."""
    _arg_count(option, 1)
    state.failttl = _go_duration(option.args[0])
    if state.failttl < 0:
        raise _Fail(option.args[0].span, "invalid negative ttl for servfail")
    if state.failttl > 300:
        raise _Fail(option.args[0].span, "caching SERVFAIL responses over 5 minutes is not permitted")


def _cache_disable(state: _CacheState, option: _Option) -> None:
    """``disable success|denial [ZONES...]`` (default: the root zone)."""
    _some_args(option)
    kind = option.args[0].text
    zones = tuple(_normalized_name(token) for token in option.args[1:]) or (".",)
    if kind == "success":
        state.disable_success = zones
    elif kind == "denial":
        state.disable_denial = zones
    else:
        raise _Fail(option.args[0].span, 'cache type for disable must be "success" or "denial"')


def _cache_keepttl(state: _CacheState, option: _Option) -> None:
    _no_args(option)
    state.keepttl = True


def _autopath_source(plugin: PluginConfig, chain: list[PluginConfig]) -> PluginConfig:
    """Mark an autopath that does nothing (C2, C3); a named plugin must be an AutoPather."""
    if not isinstance(plugin, AutopathConfig) or plugin.source_plugin is None:
        return plugin
    named = plugin.source_plugin
    found = [p for p in chain if p.name == named]
    if not found:
        inert = f"autopath names @{named} but the block has no {named} plugin, so it does nothing (C2)"
    elif named not in ("kubernetes", "erratic"):
        raise _Fail(plugin.span, f"{named} does not implement the AutoPather interface")
    elif isinstance(found[0], KubernetesConfig) and found[0].pods != "verified":
        inert = f"kubernetes has pods {found[0].pods}, not verified, so autopath finds no pod and does nothing (C3)"
    else:
        return plugin
    return dataclasses.replace(plugin, inert=inert)


_CACHE_OPTIONS: Mapping[str, tuple[str, Callable[[_CacheState, _Option], None]]] = {
    "success": ("1.0.0", _cache_capacity),
    "denial": ("1.0.0", _cache_capacity),
    "prefetch": ("1.0.0", _cache_prefetch),
    "serve_stale": ("1.6.6", _cache_serve_stale),
    "disable": ("1.9.4", _cache_disable),
    "servfail": ("1.9.4", _cache_servfail),
    "keepttl": ("1.10.1", _cache_keepttl),
    "serve_stale_policy": ("1.14.7", _cache_stale_policy),
}


@_reads("cache")
def _cache(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[0]
    state = _CacheState()
    args = list(directive.args)
    if args and re.fullmatch(r"[+-]?[0-9]+", args[0].text):
        ttl = _go_atoi(args[0])
        if ttl <= 0:
            raise _Fail(args[0].span, f"cache TTL can not be zero or negative: {ttl}")
        state.pttl = state.nttl = float(ttl)
        args = args[1:]
    for option in _options(directive):
        handler = _handler(reader, option, _CACHE_OPTIONS)
        if handler is None:
            raise _arg_error(option.name)
        state.seen.add(option.name.text)
        handler(state, option)
    if "serve_stale_policy" in state.seen and "serve_stale" not in state.seen:
        raise _Fail(directive.span, "serve_stale_policy requires serve_stale")
    return [CacheConfig(
        reader.zones(args), state.pcap, cache_effective_capacity(state.pcap), state.pttl,
        state.minpttl, state.ncap, cache_effective_capacity(state.ncap), state.nttl,
        state.minnttl, state.prefetch, state.duration, state.percentage, state.serve_stale,
        state.refresh, state.failttl, state.disable_success, state.disable_denial,
        state.keepttl, directive.span,
    )]


def _normalized_name(token: Token) -> str:
    """plugin.Name(text).Normalize(): lower case, fully qualified."""
    name = token.text
    return (name if name.endswith(".") else name + ".").lower()


FORWARD_MAX_UPSTREAMS = 15


@dataclass
class _ForwardState:
    policy: Literal["random", "round_robin", "sequential"] = "random"
    max_fails: int = 2
    health_check: float = 0.5
    health_check_rd: bool = True
    health_check_domain: str = "."
    expire: float = 10.0
    read_timeout: float = 2.0
    max_concurrent: int | None = None
    max_connect_attempts: int | None = None
    except_zones: tuple[str, ...] = ()
    failover: tuple[str, ...] = ()
    next: tuple[str, ...] = ()
    flags: set[str] = field(default_factory=set)


def _forward_flag(state: _ForwardState, option: _Option) -> None:
    _no_args(option)
    state.flags.add(option.name.text)


def _forward_except(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    state.except_zones += tuple(zone for token in option.args for zone in normalize_exact(token.text))


def _forward_uint(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    value = _go_parse_uint32(option.args[0])
    if option.name.text == "max_fails":
        state.max_fails = value
    else:
        state.max_connect_attempts = value


def _forward_duration(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    name, value = option.name.text, _go_duration(option.args[0])
    if name == "read_timeout" and value <= 0:
        raise _Fail(option.args[0].span, f"read_timeout must be positive: {option.args[0].text}")
    if value < 0:
        raise _Fail(option.args[0].span, f"{name} can't be negative: {option.args[0].text}")
    if name == "expire":
        state.expire = value
    elif name == "read_timeout":
        state.read_timeout = value


def _forward_int(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    value = _go_atoi(option.args[0])
    if value < 0:
        raise _Fail(option.args[0].span, f"{option.name.text} can't be negative: {value}")
    if option.name.text == "max_concurrent":
        state.max_concurrent = value


def _forward_policy(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    value = option.args[0].text
    if value == "random":
        state.policy = "random"
    elif value == "round_robin":
        state.policy = "round_robin"
    elif value == "sequential":
        state.policy = "sequential"
    else:
        raise _Fail(option.args[0].span, f"unknown policy '{value}'")


def _forward_rcodes(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    rcodes = tuple(_rcode(token) for token in option.args)
    if option.name.text == "next":
        state.next += rcodes
        return
    if "NOERROR" in rcodes:
        raise _Fail(option.args[rcodes.index("NOERROR")].span, "NoError cannot be used in failover")
    state.failover += rcodes


def _forward_health_check(state: _ForwardState, option: _Option, *, extras: bool = True) -> None:
    """``health_check DURATION [no_rec] [domain FQDN]`` (E7)."""
    args = option.args
    _some_args(option)
    state.health_check = _go_duration(args[0])
    if state.health_check < 0:
        raise _Fail(args[0].span, f"health_check can't be negative: {args[0].text}")
    state.health_check_domain = "."
    words = iter(args[1:])
    for word in words:
        if word.text == "no_rec" and extras:
            state.health_check_rd = False
        elif word.text == "domain" and extras:
            domain = next(words, None)
            if domain is None:
                raise _arg_error(word)
            if not is_domain_name(domain.text):
                raise _Fail(domain.span, f"health_check: invalid domain name {domain.text}")
            state.health_check_domain = _normalized_name(domain)
        else:
            raise _Fail(word.span, f"health_check: unknown option {word.text}")


def _forward_tls(state: _ForwardState, option: _Option) -> None:
    if len(option.args) > 3:
        raise _arg_error(option.args[-1])


def _forward_doh_method(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    if option.args[0].text not in ("GET", "POST"):
        raise _Fail(option.args[0].span, "doh_method must be either POST or GET")


def _forward_source_address(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    if _ip(option.args[0].text) is None:
        raise _Fail(option.args[0].span, f"invalid IP address: {option.args[0].text}")


def _forward_resolver(state: _ForwardState, option: _Option) -> None:
    _some_args(option)
    for token in option.args:
        host = token.text
        with contextlib.suppress(ValueError):
            host = split_host_port(host)[0]
        if _ip(host) is None:
            raise _Fail(token.span, f'resolver must be an IP address or IP:port: "{token.text}"')


_ForwardHandler = Callable[[_ForwardState, _Option], None]
_FORWARD_OPTIONS: Mapping[str, tuple[str, _ForwardHandler]] = {
    "except": ("1.0.6", _forward_except),
    "max_fails": ("1.0.6", _forward_uint),
    "health_check": ("1.0.6", _forward_health_check),
    "force_tcp": ("1.0.6", _forward_flag),
    "tls": ("1.0.6", _forward_tls),
    "tls_servername": ("1.0.6", lambda state, option: _some_args(option)),
    "expire": ("1.0.6", _forward_duration),
    "policy": ("1.0.6", _forward_policy),
    "prefer_udp": ("1.2.0", _forward_flag),
    "max_concurrent": ("1.6.8", _forward_int),
    "next": ("1.11.4", _forward_rcodes),
    "failfast_all_unhealthy_upstreams": ("1.12.1", _forward_flag),
    "failover": ("1.13.0", _forward_rcodes),
    "max_connect_attempts": ("1.13.2", _forward_uint),
    "max_idle_conns": ("1.14.1", _forward_int),
    "max_age": ("1.14.3", _forward_duration),
    "next_on_nodata": ("1.14.4", _forward_flag),
    "resolver": ("1.14.4", _forward_resolver),
    "doh_method": ("1.14.5", _forward_doh_method),
    "read_timeout": ("1.14.5", _forward_duration),
    "source_address": ("1.14.6", _forward_source_address),
}


@_reads("forward")
def _forward(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    return [_forward_stanza(reader, directive) for directive in directives]


def _forward_stanza(reader: _BlockReader, directive: Directive) -> ForwardConfig:
    if not directive.args:
        raise _arg_error(directive)
    zones = normalize_exact(directive.args[0].text)
    if not zones:
        raise _Fail(directive.args[0].span, f"unable to normalize '{directive.args[0].text}'")
    if len(directive.args) < 2:
        raise _arg_error(directive.args[0])
    state = _ForwardState()
    options: dict[str, tuple[str, ...]] = {}
    for option in _options(directive):
        handler = _handler(reader, option, _FORWARD_OPTIONS)
        if handler is None:
            raise _unknown(option)
        if option.name.text == "policy" and option.args and option.args[0].text == "sequential" and not reader.at_least("1.1.2"):
            raise _Fail(option.args[0].span, "unknown policy 'sequential'")
        options[option.name.text] = tuple(token.text for token in option.args)
        if option.name.text == "health_check":
            _forward_health_check(state, option, extras=reader.at_least("1.6.8"))
        else:
            handler(state, option)
    upstreams = tuple(_upstream(reader, token) for token in directive.args[1:])
    if len(upstreams) > FORWARD_MAX_UPSTREAMS:
        raise _Fail(directive.span, f"more than {FORWARD_MAX_UPSTREAMS} TOs configured: {len(upstreams)}")
    configured = state.max_connect_attempts
    effective: int | None
    if configured is not None:
        effective = configured or None
    else:
        effective = 2 * len(upstreams) if reader.at_least("1.14.7") else None
    return ForwardConfig(
        zones[0], upstreams, state.except_zones, state.policy, state.max_concurrent,
        state.max_fails, state.health_check, state.health_check_rd, state.health_check_domain,
        "force_tcp" in state.flags, "prefer_udp" in state.flags, state.expire, effective,
        configured, state.read_timeout, state.failover, state.next,
        "next_on_nodata" in state.flags, "failfast_all_unhealthy_upstreams" in state.flags,
        options, directive.span,
    )


_TRANSPORT_PREFIXES = ("tls", "dns", "quic", "grpc", "https3", "https", "unix")
_TO_PORTS = {"dns": 53, "tls": 853, "quic": 853, "grpc": 443, "https": 443, "https3": 443}


def _upstream(reader: _BlockReader, token: Token) -> Upstream:
    """parse.HostPortOrFile, then forward's hostname and transport checks (E1, E3)."""
    text = token.text
    transport, rest = "dns", text
    for scheme in _TRANSPORT_PREFIXES:
        if text.startswith(scheme + "://"):
            transport, rest = scheme, text[len(scheme) + 3 :]
            break
    server_name = None
    if "%" in rest and transport == "tls":
        rest, server_name = _split_tls_server_name(rest)
    if not rest:
        raise _Fail(token.span, f'invalid address: "{text}"')
    allowed = {"dns", "tls"} | ({"https"} if reader.at_least("1.14.5") else set())
    if transport not in allowed:
        raise _Fail(token.span, f"'{transport}' is not supported as a destination protocol in forward: {text}")
    if transport == "https" and "/" in rest:
        raise _Fail(token.span, f"paths are not allowed in HTTPS upstream addresses (the /dns-query path is used by default): {text}")
    host, port = rest.strip("[]"), _TO_PORTS[transport]
    try:
        host, port_text = split_host_port(rest)
        if not re.fullmatch(r"[0-9]+", port_text) or int(port_text) > 65535:
            raise _Fail(token.span, f"invalid port in {text}")
        port = int(port_text)
    except ValueError:
        pass
    if _ip(host.split("%")[0]) is not None:
        return Upstream(text, "address", transport, host, port, server_name, token.span)
    if "/" in rest or not reader.at_least("1.14.4") or not is_domain_name(host):
        return Upstream(text, "file", transport, rest, None, server_name, token.span)
    return Upstream(text, "hostname", transport, host, port, server_name, token.span)


def _split_tls_server_name(rest: str) -> tuple[str, str]:
    """forward splitZone: ``9.9.9.9%dns.quad9.net[:port]``."""
    index = rest.rfind("%")
    host, zone = rest[:index], rest[index + 1 :]
    if ":" in zone:
        colon = zone.rfind(":")
        host += zone[colon:]
        zone = zone[:colon].removesuffix("]")
    return host, zone


@dataclass
class _HostsState:
    ttl: int = 3600
    reload: float = 5.0
    no_reverse: bool = False
    fallthrough: tuple[str, ...] | None = None
    seen: set[str] = field(default_factory=set)


def _hosts_fallthrough(state: _HostsState, option: _Option) -> None:
    state.fallthrough = _fallthrough(option.args)


def _hosts_ttl(state: _HostsState, option: _Option) -> None:
    if not option.args:
        raise _Fail(option.name.span, "ttl needs a time in second")
    try:
        state.ttl = _go_atoi(option.args[0])
    except _Fail:
        raise _Fail(option.args[0].span, "ttl needs a number of second") from None
    if not 0 < state.ttl <= 65535:
        raise _Fail(option.args[0].span, "ttl provided is invalid")


def _hosts_reload(state: _HostsState, option: _Option) -> None:
    if len(option.args) != 1:
        raise _Fail(option.name.span, "reload needs a duration (zero seconds to disable)")
    text = option.args[0].text
    try:
        state.reload = parse_go_duration(text)
    except ValueError:
        raise _Fail(option.args[0].span, f"invalid duration for reload '{text}'") from None
    if state.reload < 0:
        raise _Fail(option.args[0].span, f"invalid negative duration for reload '{text}'")


def _hosts_no_reverse(state: _HostsState, option: _Option) -> None:
    state.no_reverse = True


_HOSTS_OPTIONS: Mapping[str, tuple[str, Callable[[_HostsState, _Option], None]]] = {
    "fallthrough": ("1.0.0", _hosts_fallthrough),
    "no_reverse": ("1.4.0", _hosts_no_reverse),
    "ttl": ("1.4.0", _hosts_ttl),
    "reload": ("1.4.0", _hosts_reload),
    "fallthrough_unsupported": ("1.14.7", lambda state, option: _no_args(option)),
}


@_reads("hosts")
def _hosts(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[0]
    args = directive.args
    state = _HostsState()
    entries: list[HostsEntry] = []
    for option in _lines_as_read(directive, frozenset({"no_reverse"})):
        handler = _handler(reader, option, _HOSTS_OPTIONS)
        if handler is None:
            if state.fallthrough:
                raise _unknown(option)
            entry = _hosts_entry(option)
            if entry is not None:
                entries.append(entry)
            continue
        state.seen.add(option.name.text)
        handler(state, option)
    if "fallthrough_unsupported" in state.seen and not state.fallthrough:
        raise _Fail(directive.span, "fallthrough_unsupported requires fallthrough")
    return [HostsConfig(
        args[0].text if args else "/etc/hosts", reader.zones(args[1:]), tuple(entries),
        state.ttl, state.no_reverse, state.reload, state.fallthrough, directive.span,
    )]


def _hosts_entry(option: _Option) -> HostsEntry | None:
    """A hosts-file line; lines without a valid address are skipped, as CoreDNS does."""
    words = [option.name.text] + [token.text for token in option.args]
    address = _ip(words[0].split("%")[0])
    if address is None or len(words) < 2:
        return None
    return HostsEntry(words[0], tuple(word.lower().rstrip(".") + "." for word in words[1:]))


_REWRITE_TYPES = ("name", "class", "type", "edns0", "ttl", "cname", "rcode")
_NAME_MATCHES = ("exact", "prefix", "suffix", "substring", "regex")


@_reads("rewrite")
def _rewrite(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    del reader
    rules = []
    for directive in directives:
        words = list(directive.args)
        if len(words) < 2:
            words += [token for line in directive.block or () for token in line.tokens]
        if not words:
            raise _Fail(directive.span, "no rule type specified for rewrite")
        rules.append(_rewrite_rule(words, directive.span))
    return [RewriteConfig(tuple(rules), directives[0].span)]


def _rewrite_rule(words: list[Token], span: Span) -> RewriteRule:
    """rewrite.go newRule: ``[continue|stop] TYPE ARGS...`` (types checked, not all args)."""
    mode: Literal["stop", "continue"] = "stop"
    first = words[0].text.lower()
    if first in ("stop", "continue"):
        if len(words) < 2:
            raise _Fail(words[0].span, f"{first} rule must begin with a rule type")
        mode = "continue" if first == "continue" else "stop"
        words = words[1:]
    rule_type, args = words[0].text.lower(), words[1:]
    if rule_type == "answer":
        raise _Fail(words[0].span, "response rewrites must begin with a name rule")
    if rule_type not in _REWRITE_TYPES:
        raise _Fail(words[0].span, f'invalid rule type "{words[0].text}"')
    if rule_type in ("class", "type") and len(args) != 2:
        raise _Fail(words[0].span, f"{rule_type} rules must have exactly two arguments")
    match = None
    if rule_type == "name":
        if len(args) < 2:
            raise _Fail(words[0].span, "too few arguments for a name rule")
        match = "exact" if len(args) == 2 else args[0].text.lower()
        if match not in _NAME_MATCHES:
            raise _Fail(args[0].span, f"name rule supports only exact, prefix, suffix, substring, and regex name matching, received: {match}")
    return RewriteRule(mode, rule_type, match, tuple(token.text for token in args), span)


@_reads("template")
def _template(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    templates = []
    for directive in directives:
        args = directive.args
        if not args:
            raise _arg_error(directive)
        if args[0].text not in QCLASSES:
            raise _Fail(args[0].span, f"invalid query class {args[0].text}")
        if len(args) < 2:
            raise _arg_error(args[0])
        if args[1].text not in QTYPES:
            raise _Fail(args[1].span, f"invalid RR class {args[1].text}")
        state = _TemplateState()
        for option in _options(directive):
            _template_option(reader, state, option)
        templates.append(TemplateRule(
            args[0].text, args[1].text, reader.zones(args[2:]), state.parts["match"],
            state.parts["answer"], state.parts["additional"], state.parts["authority"],
            state.rcode, state.fallthrough, directive.span,
        ))
    return [TemplateConfig(tuple(templates), directives[0].span)]


@dataclass
class _TemplateState:
    parts: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"match": (), "answer": (), "additional": (), "authority": ()}
    )
    rcode: str = "NOERROR"
    fallthrough: tuple[str, ...] | None = None


def _template_option(reader: _BlockReader, state: _TemplateState, option: _Option) -> None:
    name, args = option.name.text, option.args
    if name in state.parts:
        _some_args(option)
        state.parts[name] += tuple(token.text for token in args)
    elif name == "rcode":
        _some_args(option)
        if args[0].text not in RCODES:
            raise _Fail(args[0].span, f"unknown rcode {args[0].text}")
        state.rcode = args[0].text
    elif name == "ederror" and reader.at_least("1.10.1"):
        _arg_count(option, 1, 2)
        if not re.fullmatch(r"[0-9]+", args[0].text) or int(args[0].text) > 65535:
            raise _Fail(args[0].span, f"error parsing extended DNS error code {args[0].text}")
    elif name == "fallthrough":
        state.fallthrough = _fallthrough(args)
    elif name != "upstream":
        raise _arg_error(option.name)


_FILE_OPTIONS: Mapping[str, tuple[str, None]] = {
    "fallthrough": ("1.12.2", None), "reload": ("1.2.3", None), "reload_by_mtime": ("1.14.4", None),
    "upstream": ("1.0.0", None), "transfer": ("1.0.0-1.7.1", None), "no_reload": ("1.0.0-1.4.0", None),
}


@_reads("file")
def _file(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    files: dict[str, str] = {}
    reload_interval = 60.0
    fallthrough: tuple[str, ...] | None = None
    for directive in directives:
        if not directive.args:
            raise _arg_error(directive)
        for zone in reader.zones(directive.args[1:]):
            files[zone] = directive.args[0].text
        for option in _lines_as_read(directive, frozenset({"reload_by_mtime"})):
            if option.name.text not in _FILE_OPTIONS or not _in_range(reader, _FILE_OPTIONS[option.name.text][0]):
                raise _unknown(option)
            if option.name.text == "fallthrough":
                fallthrough = _fallthrough(option.args)
            elif option.name.text == "reload":
                if not option.args:
                    raise _Fail(option.name.span, "reload duration value is expected")
                reload_interval = _go_duration(option.args[0])
    return [FileConfig(files, reload_interval, fallthrough, directives[0].span)]


@_reads("loop")
def _loop(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    del reader
    directive = directives[0]
    if directive.args:
        raise _arg_error(directive.args[0])
    _no_block(directive)
    return [LoopConfig(directive.span)]


@_reads("errors")
def _errors(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[0]
    if len(directive.args) > 1:
        raise _arg_error(directive.args[-1])
    if directive.args and directive.args[0].text != "stdout":
        raise _Fail(directive.args[0].span, f"invalid log file: {directive.args[0].text}")
    stacktrace = False
    consolidate: list[tuple[str, ...]] = []
    for option in _lines_as_read(directive, frozenset({"stacktrace"})):
        name = option.name.text
        if name == "stacktrace" and reader.at_least("1.9.3"):
            stacktrace = True
        elif name == "consolidate" and reader.at_least("1.9.3"):
            if not 2 <= len(option.args) <= 4:
                raise _arg_error(_option_last(option))
            _go_duration(option.args[0])
            consolidate.append(tuple(token.text for token in option.args))
        else:
            raise _Fail(option.name.span, f"Syntax error: Unexpected token '{name}', expecting 'Unknown field {name}'")
    return [ErrorsConfig(stacktrace, tuple(consolidate), directive.span)]


_LOG_CLASSES = ("all", "success", "denial", "error")


@_reads("log")
def _log(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    del reader
    rules: list[LogRule] = []
    for directive in directives:
        names = [token.text for token in directive.args]
        log_format = None
        if len(names) > 1 and "{" in names[-1]:
            log_format = names.pop()
        classes: list[str] = []
        for option in _options(directive):
            if option.name.text != "class":
                raise _unknown(option)
            if not option.args:
                raise _arg_error(option.name)
            for token in option.args:
                if token.text not in _LOG_CLASSES:
                    raise _Fail(token.span, f"invalid class: {token.text}")
                classes.append(token.text)
        for scope in names or ["."]:
            rules.append(LogRule(scope if scope.endswith(".") else scope + ".", log_format, tuple(classes) or ("all",)))
    return [LogConfig(tuple(rules), directives[0].span)]


@_reads("health")
def _health(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    address, lameduck = "", 0.0
    for directive in directives:
        if len(directive.args) > 1:
            raise _arg_error(directive.args[-1])
        if directive.args:
            address = _address(directive.args[0])
        for option in _options(directive):
            if option.name.text != "lameduck" or not reader.at_least("1.0.5"):
                raise _unknown(option)
            if len(option.args) != 1:
                raise _arg_error(_option_last(option))
            lameduck = _go_duration(option.args[0])
    return [HealthConfig(address or ":8080", lameduck, directives[-1].span)]


@_reads("ready")
def _ready(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[0]
    if len(directive.args) > 1:
        raise _arg_error(directive.args[-1])
    address = _address(directive.args[0]) if directive.args else ":8181"
    for option in _options(directive):
        if option.name.text != "monitor" or not reader.at_least("1.12.2"):
            raise _unknown(option)
        if len(option.args) != 1:
            raise _arg_error(_option_last(option))
        if option.args[0].text not in ("until-ready", "continuously"):
            raise _Fail(option.args[0].span, f"invalid monitor type: {option.args[0].text}")
    return [ReadyConfig(address, directive.span)]


@_reads("prometheus")
def _prometheus(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[0]
    if len(directive.args) > 1:
        raise _arg_error(directive.args[-1])
    address = _address(directive.args[0]) if directive.args else "localhost:9153"
    for option in _options(directive):
        if option.name.text not in ("runtime_metrics", "tls") or not reader.at_least("1.14.3"):
            raise _unknown(option)
    return [PrometheusConfig(address, directive.span)]


@_reads("reload")
def _reload(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    del reader
    directive = directives[0]  # setup reads only the first occurrence
    args = directive.args
    if len(args) > 2:
        raise _arg_error(args[-1])
    interval = _go_duration(args[0]) if args else 30.0
    if interval < 2:
        raise _Fail(args[0].span, "interval value must be greater or equal to 2s")
    jitter = _go_duration(args[1]) if len(args) > 1 else 15.0
    if jitter != 0 and jitter < 1:
        raise _Fail(args[1].span, "jitter value must be 0 or greater or equal to 1s")
    return [ReloadConfig(interval, min(jitter, interval / 2), directive.span)]


@_reads("loadbalance")
def _loadbalance(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[-1]
    args = directive.args
    policy = args[0].text if args else "round_robin"
    if policy == "round_robin" and len(args) > 1:
        raise _Fail(args[1].span, f"unknown property for {policy}")
    if policy == "weighted" and reader.at_least("1.10.1"):
        if len(args) != 2:
            raise _Fail((args[2] if len(args) > 2 else args[0]).span, "missing weight file argument" if len(args) < 2 else "unexpected argument(s)")
    elif policy != "round_robin":
        raise _Fail(args[0].span, f"unknown policy: {policy}")
    for option in _options(directive):
        if option.name.text == "prefer" and policy != "weighted" and reader.at_least("1.12.4"):
            for token in option.args:
                if _parse_network(token.text) is None:
                    raise _Fail(token.span, f'invalid CIDR "{token.text}"')
        elif option.name.text == "reload" and policy == "weighted":
            if len(option.args) != 1:
                raise _arg_error(_option_last(option))
            _go_duration(option.args[0])
        else:
            raise _unknown(option)
    return [LoadbalanceConfig(policy, tuple(token.text for token in args[1:]), directive.span)]


def _parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False) if "/" in text else None
    except ValueError:
        return None


@_reads("k8s_external")
def _k8s_external(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    directive = directives[-1]
    for earlier in directives[:-1]:
        _k8s_external_options(reader, earlier)
    ttl, apex, headless, fallthrough = _k8s_external_options(reader, directive)
    return [K8sExternalConfig(reader.zones(directive.args), ttl, apex, headless, fallthrough, directive.span)]


def _k8s_external_options(reader: _BlockReader, directive: Directive) -> tuple[int, str, bool, tuple[str, ...] | None]:
    ttl, apex, headless = 5, "dns", False
    fallthrough: tuple[str, ...] | None = None
    for option in _lines_as_read(directive, frozenset({"headless"})):
        name = option.name.text
        if name == "ttl":
            if not option.args:
                raise _arg_error(option.name)
            ttl = _go_atoi(option.args[0])
            if not 0 <= ttl <= 3600:
                raise _Fail(option.args[0].span, f"ttl must be in range [0, 3600]: {ttl}")
        elif name == "apex":
            if not option.args:
                raise _arg_error(option.name)
            apex = option.args[0].text
        elif name == "headless" and reader.at_least("1.9.4"):
            headless = True
        elif name == "fallthrough" and reader.at_least("1.11.0"):
            fallthrough = _fallthrough(option.args)
        else:
            raise _unknown(option)
    return ttl, apex, headless, fallthrough


@_reads("local")
def _local(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    prefix = True
    for directive in directives:
        if directive.args:
            raise _arg_error(directive.args[0])
        for option in _options(directive):
            if option.name.text != "localhost_prefix" or not reader.at_least("1.14.5"):
                raise _unknown(option)
            if len(option.args) != 1:
                raise _arg_error(_option_last(option))
            if option.args[0].text not in ("on", "off"):
                raise _Fail(option.args[0].span, f"localhost_prefix expects 'on' or 'off', got \"{option.args[0].text}\"")
            prefix = option.args[0].text == "on"
    return [LocalConfig(prefix, directives[0].span)]


@_reads("view")
def _view(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    del reader
    directive = directives[0]
    if len(directive.args) != 1:
        raise _arg_error(_last(directive))
    expressions = []
    for option in _options(directive):
        if option.name.text != "expr":
            raise _unknown(option)
        expressions.append(" ".join(token.text for token in option.args))
    return [ViewConfig(directive.args[0].text, tuple(expressions), directive.span)]


@_reads("acl")
def _acl(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    rules = []
    for directive in directives:
        policies = []
        for option in _options(directive):
            action = option.name.text.lower()
            if action not in ("allow", "block", "filter", "drop"):
                raise _Fail(option.name.span, f"unexpected token \"{option.name.text}\"; expect 'allow', 'block', 'filter' or 'drop'")
            policies.append(_acl_policy(action, option))  # type: ignore[arg-type]
        rules.append((reader.zones(directive.args), tuple(policies)))
    return [AclConfig(tuple(rules), directives[0].span)]


def _acl_policy(action: Literal["allow", "block", "filter", "drop"], option: _Option) -> AclPolicy:
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for token in option.args:
        word = token.text.lower()
        if word in ("type", "net"):
            if current is not None and not sections[current]:
                raise _Fail(token.span, f'no token specified in "{current}" section')
            current = word
            sections[current] = []
            continue
        if current is None:
            raise _Fail(token.span, f"unexpected token \"{token.text}\"; expect 'type | net'")
        if current == "type" and token.text != "*" and token.text not in QTYPES:
            raise _Fail(token.span, f'unexpected token "{token.text}"; expect legal QTYPE')
        if current == "net" and token.text != "*" and _parse_network(token.text if "/" in token.text else _host_network(token.text)) is None:
            raise _Fail(token.span, f'illegal CIDR notation "{token.text}"')
        sections[current].append(token.text)
    if current is not None and not sections[current]:
        raise _Fail(option.span, f'no token specified in "{current}" section')
    return AclPolicy(action, tuple(sections.get("type", ["*"])), tuple(sections.get("net", ["*"])))


def _host_network(text: str) -> str:
    return text + ("/128" if ":" in text else "/32")


@_reads("any")
def _any(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    del reader
    directive = directives[0]
    if directive.args:
        raise _arg_error(directive.args[0])
    _no_block(directive)
    return [AnyConfig(directive.span)]


@_reads("minimal")
def _minimal(reader: _BlockReader, directives: list[Directive]) -> list[PluginConfig]:
    del reader
    directive = directives[0]
    if directive.args:
        raise _arg_error(directive.args[0])
    _no_block(directive)
    return [MinimalConfig(directive.span)]
