"""Server block keys (A19-A22): ``[transport://]zone[:port]`` into zones and ports."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Mapping

from kalc_formal import golang
from kalc_formal.coredns.corefile.model import ServerKey
from kalc_formal.source import Span

DEFAULT_PORTS: Mapping[str, int] = {
    "dns": 53,
    "tls": 853,
    "quic": 853,
    "grpc": 443,
    "https": 443,
    "https3": 443,
}
"""Default port per transport, of a server key (A19, register.go) and of a forward
``TO`` (E1)."""
DNS_PORT = DEFAULT_PORTS["dns"]
"""Where pods send their queries: plain DNS on port 53."""
TRANSPORT_SCHEMES = ("tls", "dns", "quic", "grpc", "https3", "https", "unix")
"""The ``scheme://`` prefixes of a server key or a forward ``TO``, longest match first."""


def parse_server_key(text: str, span: Span) -> list[ServerKey]:
    """The keys CoreDNS makes of one server block key (InspectServerBlocks).

    ``[transport://]zone[:port]``; a CIDR zone becomes its reverse zones, split on
    octet (IPv4) or nibble (IPv6) boundaries (A21). Raises ValueError with
    CoreDNS's message for a bad key.
    """
    transport, rest = "dns", text
    for scheme in TRANSPORT_SCHEMES:
        if text.startswith(scheme + "://"):
            transport, rest = scheme, text[len(scheme) + 3 :]
            break
    hosts, port_text = _plugin_split_host_port(rest)
    for host in hosts:
        _plugin_split_host_port(golang.fqdn(host))
    if transport == "unix":
        raise ValueError(f"unix:// cannot serve a zone: {text}")
    port = int(port_text) if port_text else DEFAULT_PORTS[transport]
    if not 0 <= port <= 65535:
        raise ValueError(f"invalid port {port_text} in {text}")
    keys = []
    for host in hosts:
        zone = golang.fqdn(host).lower()
        canonical = ("" if transport == "dns" else transport + "://") + f"{zone}:{port}"
        keys.append(ServerKey(canonical, transport, zone, port, span))
    return keys


def _plugin_split_host_port(text: str) -> tuple[list[str], str]:
    """plugin.SplitHostPort: hosts (reverse zones for a CIDR) and the port text."""
    port = ""
    colon = text.rfind(":")
    if colon == len(text) - 1 and colon != -1:
        raise ValueError(f'expecting data after last colon: "{text}"')
    if colon != -1:
        with contextlib.suppress(ValueError):
            port, text = str(golang.atoi(text[colon + 1 :])), text[:colon]
    if len(text.encode("utf-8")) > 255:
        raise ValueError(f"specified zone is too long: {len(text.encode('utf-8'))} > 255")
    if not golang.is_domain_name(text):
        raise ValueError(f"zone is not a valid domain name: {text}")
    network = _parse_cidr(text)
    if network is None:
        return [text], port
    if text[0] == ":" or (text[0] == "0" and ":" in text):
        raise ValueError(f"invalid CIDR {text}")
    return reverse_zones(network), port


def _parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if "/" not in text or "%" in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def reverse_zones(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """cidr.Split then cidr.Reverse: the reverse zones covering ``network`` (A21)."""
    boundary = 8 if network.version == 4 else 4
    prefix = -(-network.prefixlen // boundary) * boundary
    subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = (
        [network] if prefix == network.prefixlen else list(network.subnets(new_prefix=prefix))
    )
    zones = []
    for subnet in subnets:
        labels = subnet.network_address.reverse_pointer.split(".")
        skip = (subnet.max_prefixlen - subnet.prefixlen) // boundary
        zones.append(".".join(labels[skip:]) + ".")
    return zones


