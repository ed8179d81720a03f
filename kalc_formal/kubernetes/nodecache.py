"""Domain stage: the Corefile node-cache (NodeLocal DNSCache) writes and runs (J1-J3).

node-cache does not run the ConfigMap's Corefile as written: at start and on every change
it reads it as a template (``-basecorefile``), fills in its own placeholders and appends a
server block per stub domain of the kube-dns ConfigMap, then runs the result
(kubernetes/dns ``cmd/node-cache/app/configmap.go``, ``updateCorefile``;
specs/kube-dns-configmap.md):

- ``__PILLAR__UPSTREAM__SERVERS__``: the kube-dns ConfigMap's ``upstreamNameservers``
  joined by spaces when it has any (a ``forward . __PILLAR__UPSTREAM__SERVERS__`` block
  with ``force_tcp``, written exactly as the addon writes it, loses ``force_tcp``: the
  custom upstreams are asked over UDP), else ``/etc/resolv.conf`` (the node's own);
- ``__PILLAR__CLUSTER__DNS__``: the ClusterIP of the ``-upstreamsvc`` Service;
- ``__PILLAR__LOCAL__DNS__``: the ``-localip`` addresses, space-separated;
  ``__PILLAR__DNS__SERVER__``: nothing;
- one block per stub domain: ``DOMAIN:PORT { errors; cache 30; bind LOCALIPS;
  forward . SERVERS }``, appended after the template.

A Corefile whose upstream placeholder was already filled in (by sed, say) keeps what it
says: node-cache's replacement finds nothing to replace, so ``upstreamNameservers`` has
no effect on it. The substitutions keep every line of the template where it was, so
positions still point into the ConfigMap; the appended blocks point at the kube-dns
ConfigMap's stub domain (each forward at its first nameserver).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kalc_formal.errors import ConfigError
from kalc_formal.kubernetes.kubedns import KubeDnsConfigMap, StubDomain
from kalc_formal.kubernetes.podspec import Located
from kalc_formal.kubernetes.resources import Cluster, NodeLocalDns, Note
from kalc_formal.kubernetes.templates import NODE_CACHE_PLACEHOLDERS
from kalc_formal.source import Source, Span

__all__ = [
    "CLUSTER_DNS",
    "DNS_SERVER",
    "LOCAL_DNS",
    "NODE_CACHE_PLACEHOLDERS",
    "UPSTREAM_SERVERS",
    "FilledSource",
    "GeneratedSource",
    "NodeCacheCorefile",
    "node_cache_corefile",
]

UPSTREAM_SERVERS = "__PILLAR__UPSTREAM__SERVERS__"
CLUSTER_DNS = "__PILLAR__CLUSTER__DNS__"
LOCAL_DNS = "__PILLAR__LOCAL__DNS__"
DNS_SERVER = "__PILLAR__DNS__SERVER__"
assert {UPSTREAM_SERVERS, CLUSTER_DNS, LOCAL_DNS, DNS_SERVER} == NODE_CACHE_PLACEHOLDERS
RESOLV_CONF = "/etc/resolv.conf"
STUB_CACHE_TTL = 30
"""``defaultTTL`` of the stub domain block."""
_TCP_BLOCK = f"\n    forward . {UPSTREAM_SERVERS} {{\n            force_tcp\n    }}\n"
"""``upstreamTCPBlock``: replaced as a whole (so force_tcp goes) when upstreams are set."""


@dataclass(frozen=True, slots=True)
class GeneratedSource(Source):
    """Text kalc-formal wrote as node-cache would; line ``n`` of it stands for
    ``anchors[n - 1]`` in the file the kube-dns ConfigMap is in (``path``, ``file_text``)."""

    anchors: tuple[Span, ...] = ()

    def span(self, line: int, column: int) -> Span:
        if not self.anchors:
            return Span(self.path, 1, 1)
        return self.anchors[min(max(line, 1), len(self.anchors)) - 1]


@dataclass(frozen=True, slots=True)
class FilledSource(Source):
    """The template with the upstreamNameservers written in: each address's token stands
    for its value in the kube-dns ConfigMap, ``overrides`` (text line, first and last
    column, position); everything else maps as the template's own lines do."""

    overrides: tuple[tuple[int, int, int, Span], ...] = ()

    def span(self, line: int, column: int) -> Span:
        for at_line, first, last, span in self.overrides:
            if line == at_line and first <= column <= last:
                return span
        return Span(self.path, line + self.line_offset, column + self.column_offset)


@dataclass(frozen=True)
class NodeCacheCorefile:
    """What node-cache runs: ``template`` filled in, then ``stub_blocks`` (None: none)."""

    template: Source
    stub_blocks: GeneratedSource | None
    kube_dns: KubeDnsConfigMap | None
    notes: tuple[Note, ...]
    """What node-cache took from the kube-dns ConfigMap, and where."""
    warnings: tuple[str, ...]
    """What it would not take, and why."""


def node_cache_corefile(cluster: Cluster) -> NodeCacheCorefile | None:
    """The Corefile the cluster's node-cache runs; None without NodeLocal DNSCache or
    its Corefile. A placeholder node-cache fills from something not in the input is an
    error at the placeholder."""
    source = cluster.node_local_corefile_source
    if not cluster.node_local_dns or source is None:
        return None
    local = cluster.node_local_dns[0]
    kube_dns, warnings = _mounted_kube_dns(cluster, local)
    notes: list[Note] = []
    text = source.text
    if CLUSTER_DNS in text:
        text = text.replace(CLUSTER_DNS, _cluster_dns_ip(cluster, local, source))
    text = text.replace(LOCAL_DNS, " ".join(ip.value for ip in local.local_ips))
    text = text.replace(DNS_SERVER, "")
    overrides: tuple[tuple[int, int, int, Span], ...] = ()
    if kube_dns is not None and kube_dns.upstream_nameservers:
        text, overrides = _custom_upstreams(
            dataclasses.replace(source, text=text), kube_dns, kube_dns.upstream_nameservers,
            notes, warnings)
    else:
        text = text.replace(UPSTREAM_SERVERS, RESOLV_CONF)
    template: Source = FilledSource(
        source.path, text, source.line_offset, source.column_offset, source.file_text, overrides,
    ) if overrides and type(source) is Source else dataclasses.replace(source, text=text)
    stubs = _stub_blocks(kube_dns, local) if kube_dns is not None and kube_dns.stub_domains else None
    if kube_dns is not None:
        notes += [Note(
            f"node-cache adds server block {s.domain}:{local.dns_port} forwarding to "
            f"{' '.join(n.value for n in s.servers)}", s.span) for s in kube_dns.stub_domains]
    return NodeCacheCorefile(template, stubs, kube_dns, tuple(notes), tuple(warnings))


def _custom_upstreams(
    source: Source, kube_dns: KubeDnsConfigMap, upstreams: tuple[Located[str], ...],
    notes: list[Note], warnings: list[str],
) -> tuple[str, tuple[tuple[int, int, int, Span], ...]]:
    """The template with ``upstreamNameservers`` in place of its upstream placeholder, and
    where each address now stands (text line, first and last column) with its own position."""
    servers = " ".join(u.value for u in upstreams)
    at = kube_dns.upstream_span or kube_dns.span
    text = source.text
    if UPSTREAM_SERVERS not in text:
        warnings.append(
            f"{at}: upstreamNameservers {servers} has no effect: the NodeLocal DNSCache "
            f"Corefile ({source.span(1, 1)}) has no {UPSTREAM_SERVERS} left for node-cache "
            "to replace (it was filled in before), so node-cache keeps the forward it has "
            "(configmap.go updateCorefile)")
        return text, ()
    overrides = []
    for index in _indices(text, UPSTREAM_SERVERS):
        line, column = _position(text, index)
        notes.append(Note(
            f"node-cache forwards to upstreamNameservers {servers} over UDP in place of "
            f"{UPSTREAM_SERVERS} (at {source.span(line, column)}), not to the node's "
            "/etc/resolv.conf", at))
        for upstream in upstreams:
            overrides.append((line, column, column + len(upstream.value) - 1, upstream.span))
            column += len(upstream.value) + 1
    text = text.replace(_TCP_BLOCK, f"\n    forward . {servers}\n\n\n")
    return text.replace(UPSTREAM_SERVERS, servers), tuple(overrides)


def _indices(text: str, word: str) -> list[int]:
    found, start = [], text.find(word)
    while start >= 0:
        found.append(start)
        start = text.find(word, start + 1)
    return found


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _mounted_kube_dns(cluster: Cluster, local: NodeLocalDns) -> tuple[KubeDnsConfigMap | None, list[str]]:
    """The kube-dns ConfigMap node-cache reads: the one mounted at the directory it reads
    (``-kubednscm``, else /etc/kube-dns), in the DaemonSet's namespace."""
    by_key = {(m.namespace, m.name): m for m in cluster.kube_dns_configmaps}
    mount = local.kube_dns_mount
    if mount is not None:
        found = by_key.get((local.workload.namespace, mount.value))
        return found, []
    warnings = [
        f"{m.span}: NodeLocal DNSCache does not read ConfigMap {m.namespace}/{m.name}: node-cache "
        f"reads it only from a directory mounted at {local.kube_dns_dir} (the DaemonSet at "
        f"{local.workload.span} mounts none there), so its stubDomains and upstreamNameservers "
        "have no effect" for m in cluster.kube_dns_configmaps
    ]
    return None, warnings


def _cluster_dns_ip(cluster: Cluster, local: NodeLocalDns, source: Source) -> str:
    name = local.upstream_service or "kube-dns"
    for service in cluster.dns_services:
        if service.name == name and service.namespace == local.workload.namespace \
                and service.cluster_ip is not None:
            return service.cluster_ip.value
    line, column = _position(source.text, source.text.find(CLUSTER_DNS))
    raise ConfigError.at(
        source, line, column,
        f"node-cache fills {CLUSTER_DNS} with the ClusterIP of Service "
        f"{local.workload.namespace}/{name} (-upstreamsvc), which is not in the input "
        "with a ClusterIP: add it, or write the address in the Corefile",
    )


def _stub_blocks(kube_dns: KubeDnsConfigMap, local: NodeLocalDns) -> GeneratedSource:
    """``stubDomainBlock`` per stub domain (sorted: node-cache walks a Go map, in no set
    order, and the order of server blocks does not change which one serves a name)."""
    lines: list[str] = []
    anchors: list[Span] = []
    bind = " ".join(ip.value for ip in local.local_ips)
    for stub in sorted(kube_dns.stub_domains, key=lambda s: s.domain):
        block = _stub_block(stub, local.dns_port, bind)
        lines += block
        anchors += [stub.span] * (len(block) - 2) + [stub.servers[0].span, stub.span]
    file = kube_dns.file
    file_text = file.file_text if file.file_text is not None else file.text
    return GeneratedSource(file.path, "\n".join(lines) + "\n", 0, 0, file_text, tuple(anchors))


def _stub_block(stub: StubDomain, port: int, bind: str) -> list[str]:
    servers = " ".join(s.value for s in stub.servers)
    return [
        f"{stub.domain}:{port} {{", "    errors", f"    cache {STUB_CACHE_TTL}",
        f"    bind {bind}", f"    forward . {servers}", "}",
    ]
