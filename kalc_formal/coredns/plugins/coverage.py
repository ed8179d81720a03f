"""Which plugins the model covers: modelled, ignored (no effect on what reaches the
upstream) or not modelled (an effect the model does not have)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kalc_formal.source import Span

CoverageStatus = Literal["modelled", "ignored", "not-modelled"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """How the model treats one directive of a server block."""

    directive_name: str
    span: Span = field(compare=False)
    status: CoverageStatus
    reason: str


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


