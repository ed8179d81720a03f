"""CoreDNS versions and each version's plugin order (B1-B6) and repeat rules (A12).

The order in which a server block's plugins run is the order of that version's
``core/dnsserver/zdirectives.go``, not the Corefile's (A13).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kalc_formal.errors import InvalidArgument


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

