"""More candidate fixes: cache times, prefetch and serve_stale, CoreDNS replicas and
their spread, NodeLocal DNSCache as a new file, and names written with a trailing dot
(an application change, proved through kalc.yaml but not a patch).

Like every candidate these are guesses; the suggest pipeline proves each one before it
is shown. None is offered where it changes nothing the model reads.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from fractions import Fraction
from pathlib import Path

from kalc_formal.analysis.edits import (
    APPLICATION,
    Candidate,
    LineEdit,
    NewFile,
    ReadText,
    cache_option_edits,
)
from kalc_formal.analysis.podclasses import selected_clients
from kalc_formal.analysis.result import Analysis
from kalc_formal.config.names import name_classes
from kalc_formal.config.reading import Inputs
from kalc_formal.coredns.plugins import CacheConfig
from kalc_formal.coredns.plugins.cache import CACHE_MAX_NTTL, CACHE_MAX_TTL
from kalc_formal.kubernetes.cluster import DnsServer, Workload

NODE_LOCAL_IP = "169.254.20.10"
"""The link-local address the NodeLocal DNSCache add-on binds (J1)."""
NODE_CACHE_IMAGE = "registry.k8s.io/dns/k8s-dns-node-cache:1.23.1"
NODE_LOCAL_FILE = "nodelocaldns.yaml"


def further_candidates(
    inputs: Inputs, analysis: Analysis, read: ReadText, paths: list[str],
) -> list[Candidate]:
    """The candidates beyond those of ``edits.candidates``, in the order they are tried."""
    found = [
        *_cache_ttls(inputs, analysis, read),
        *_coredns_replicas(inputs, analysis, read),
        *_coredns_spread(inputs, read),
        *_node_local_dns(inputs, analysis, paths),
        *_trailing_dots(inputs, read),
        *_prefetch_and_serve_stale(inputs, read),
    ]
    return [c for c in found if c.edits or c.new_files]


def _caches(inputs: Inputs) -> list[CacheConfig]:
    if inputs.config is None:
        return []
    return [p for b in inputs.config.blocks for p in b.plugins if isinstance(p, CacheConfig)]


def _seconds(value: float) -> str:
    return f"{int(value)}" if value == int(value) else f"{value}"


def _pool_line(capacity: int, max_ttl: float, min_ttl: float) -> str:
    return f"{capacity} {_seconds(max_ttl)} {_seconds(min_ttl)}"


def _cache_ttls(inputs: Inputs, analysis: Analysis, read: ReadText) -> Iterator[Candidate]:
    """Cache times (D1, D4): the maxima raised to the names' own TTLs (the records say
    they may be kept that long), and the minima raised to the maxima (answers kept past
    their TTL: a change of what clients see)."""
    if analysis.settings is None:
        return
    external = [n for n in name_classes(analysis.settings) if n.kind == "external"]
    if not external:
        return
    ttl = min(max(n.ttl for n in external), CACHE_MAX_TTL)
    negative = min(max(n.negative_ttl for n in external), CACHE_MAX_NTTL)
    shortest = min(n.ttl for n in external)
    shortest_negative = min(n.negative_ttl for n in external)
    raised: list[LineEdit] = []
    kept: list[LineEdit] = []
    raised_parts: set[str] = set()
    longest_kept = 0.0
    for cache in _caches(inputs):
        success_max = max(cache.success_max_ttl, ttl)
        denial_max = max(cache.denial_max_ttl, negative)
        if (success_max, denial_max) != (cache.success_max_ttl, cache.denial_max_ttl):
            edits = cache_option_edits(read, cache, {
                "success": _pool_line(cache.success_capacity, success_max, cache.success_min_ttl),
                "denial": _pool_line(cache.denial_capacity, denial_max, cache.denial_min_ttl),
            })
            if edits is None:
                return
            raised += edits
            if success_max != cache.success_max_ttl:
                raised_parts.add(f"success up to {success_max:,.0f} s")
            if denial_max != cache.denial_max_ttl:
                raised_parts.add(f"denial up to {denial_max:,.0f} s")
        if shortest < cache.success_max_ttl or shortest_negative < cache.denial_max_ttl:
            edits = cache_option_edits(read, cache, {
                "success": _pool_line(cache.success_capacity, cache.success_max_ttl,
                                      cache.success_max_ttl),
                "denial": _pool_line(cache.denial_capacity, cache.denial_max_ttl,
                                     cache.denial_max_ttl),
            })
            if edits is None:
                return
            kept += edits
            longest_kept = max(longest_kept, cache.success_max_ttl, cache.denial_max_ttl)
    if raised:
        yield Candidate(
            "cache-ttl", "let the cache keep answers as long as their TTL says ("
            + ", ".join(sorted(raised_parts, reverse=True)) + ", D4)", tuple(raised), 0,
        )
    if kept:
        yield Candidate(
            "cache-min-ttl", "keep every cached answer for the cache's whole TTL (min TTL = "
            "max TTL, D4)", tuple(kept), 0,
            note=f"clients may get an answer up to {longest_kept:,.0f} s after its record's TTL "
                 "ends",
        )


def _prefetch_and_serve_stale(inputs: Inputs, read: ReadText) -> Iterator[Candidate]:
    """prefetch (D11) and serve_stale (D12): the model counts their refreshes over TCP
    (6 packets), so the proof decides whether they help."""
    caches = _caches(inputs)
    for option, title, wanted in (
        ("prefetch", "prefetch popular entries before they expire (prefetch 1, D11)",
         lambda c: c.prefetch_amount == 0),
        ("serve_stale", "serve expired entries while refreshing them (serve_stale, D12)",
         lambda c: c.serve_stale is None),
    ):
        edits: list[LineEdit] = []
        for cache in caches:
            if wanted(cache):
                made = cache_option_edits(read, cache, {option: "1" if option == "prefetch" else ""})
                if made is None:
                    edits = []
                    break
                edits += made
        yield Candidate(option.replace("_", "-"), title, tuple(edits), 0)


def _coredns(inputs: Inputs) -> list[DnsServer]:
    return [s for s in inputs.cluster.dns_servers if s.software == "coredns"]


def _autoscaled(inputs: Inputs, workload: Workload) -> bool:
    cluster = inputs.cluster
    by_hpa = any(h.target_name == workload.name and h.namespace == workload.namespace
                 and h.target_kind == workload.kind for h in cluster.horizontal_autoscalers)
    return by_hpa or bool(cluster.proportional_autoscalers)


def _coredns_replicas(inputs: Inputs, analysis: Analysis, read: ReadText) -> Iterator[Candidate]:
    """More CoreDNS replicas, where the Deployment's replicas are written and no autoscaler
    owns them: each replica takes a smaller share of the lookups (K7). As many as keep
    the busiest replica within the tightest limit even when every lookup misses (its
    cold path, at the peak, with kube-proxy's skew) and within its capacity, at least
    twice as many, at most one per node."""
    settings = analysis.settings
    if settings is None:
        return
    for server in _coredns(inputs):
        workload = server.workload
        if workload.replicas is None or workload.replicas_defaulted or _autoscaled(inputs, workload):
            continue
        span = workload.replicas_span
        old = _line(read, span.path, span.line)
        pattern = rf"^(\s*replicas:\s*){workload.replicas}(\s*(#.*)?)$"
        if old is None or not re.match(pattern, old):
            continue
        wanted = min(max(2 * workload.replicas, _replicas_needed(analysis, settings.skew)),
                     settings.nodes)
        if wanted <= workload.replicas:
            continue
        new = re.sub(pattern, rf"\g<1>{wanted}\g<2>", old)
        yield Candidate(
            f"coredns-replicas-{wanted}", f"run {wanted:,} CoreDNS replicas instead of "
            f"{workload.replicas:,} ({workload.kind} {workload.namespace}/{workload.name})",
            (LineEdit(span.path, span.line, old, (new,)),), wanted - workload.replicas,
        )


def _replicas_needed(analysis: Analysis, skew: Fraction) -> int:
    """The replicas over which the peak lookups, at the busiest replica's share, fit each
    limit window of the tightest upstream limit with their cold-path packets, and each
    CoreDNS capacity with their client queries."""
    model = analysis.model
    peak = {f.id: f.peak for f in model.flows}
    share = 1 + skew
    needed = 0
    if model.scopes:
        tightest = min(Fraction(s.limit, s.window_steps) for s in model.scopes)
        packets = sum(analysis.flows[f].upstream_cold * n for f, n in peak.items()
                      if analysis.flows[f].server == "coredns")
        needed = math.ceil(packets * share / tightest) if tightest > 0 else 0
    for limit in model.server_limits:
        if analysis.groups[limit.group].server == "coredns" and limit.limit > 0:
            queries = sum(n * (delay + 1) * peak[f] for f, delay, n in limit.client_queries)
            needed = max(needed, math.ceil(queries * share / limit.limit))
    return needed


def _coredns_spread(inputs: Inputs, read: ReadText) -> Iterator[Candidate]:
    """A hard spread of the CoreDNS replicas over nodes (topologySpreadConstraints by
    hostname, maxSkew 1, DoNotSchedule), where nothing keeps them apart now: replicas on
    one node share its network interface's limit (I5)."""
    for server in _coredns(inputs):
        workload = server.workload
        if "required" in (server.anti_affinity, server.hostname_spread) or not workload.labels:
            continue
        edit = _pod_spec_insert(read, workload, [
            "topologySpreadConstraints:",
            "- maxSkew: 1",
            "  topologyKey: kubernetes.io/hostname",
            "  whenUnsatisfiable: DoNotSchedule",
            "  labelSelector:",
            "    matchLabels: " + _flow_map(workload.labels),
        ], "topologySpreadConstraints")
        if edit is None:
            continue
        yield Candidate(
            "coredns-spread", f"spread the CoreDNS replicas over nodes, at most one more on "
            f"any node than on another ({workload.kind} {workload.namespace}/{workload.name})",
            (edit,), workload.replicas or 1,
        )


def _flow_map(labels: Mapping[str, str]) -> str:
    items = sorted(labels.items())
    return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in items) + "}"


def _pod_spec_insert(read: ReadText, workload: Workload, lines: list[str],
                     key: str) -> LineEdit | None:
    """``lines`` inserted into the pod spec just before the key its dnsPolicy span names
    (the pod spec's first key when dnsPolicy is not written); None when that line is not
    a plain key of a block mapping or ``key`` is already set there."""
    span = workload.dns.policy.span
    text = read(span.path)
    old = _line(read, span.path, span.line)
    if text is None or old is None:
        return None
    indent = old[: len(old) - len(old.lstrip())]
    if not re.match(r"[A-Za-z_-]+:", old.lstrip()) or (
        workload.dns.policy_defaulted and len(indent) != span.column - 1
    ) or (not workload.dns.policy_defaulted and not old.lstrip().startswith("dnsPolicy:")):
        return None
    for other in text.split("\n")[span.line - 1:]:
        if other.strip() and len(other) - len(other.lstrip()) < len(indent):
            break
        if other.startswith(indent + key + ":"):
            return None
    return LineEdit(span.path, span.line, old, (*(indent + line for line in lines), old))


def _line(read: ReadText, path: str, number: int) -> str | None:
    text = read(path)
    if text is None:
        return None
    lines = text.split("\n")
    return lines[number - 1] if 1 <= number <= len(lines) else None


def _node_local_dns(inputs: Inputs, analysis: Analysis, paths: list[str]) -> Iterator[Candidate]:
    """NodeLocal DNSCache (J1-J4) as the kubernetes add-on's manifest, a new file beside
    the CoreDNS ConfigMap: each node caches, and sends names outside the cluster domain
    to the node's nameservers from its own interface."""
    cluster = inputs.cluster
    servers = _coredns(inputs)
    settings = analysis.settings
    if cluster.node_local_dns or not servers or settings is None or servers[0].corefile is None:
        return
    server = servers[0]
    assert server.corefile is not None
    folder = os.path.dirname(server.corefile.span.path)
    if not any(os.path.isdir(p) and _within(folder, p) for p in paths):
        return
    path = os.path.join(folder, NODE_LOCAL_FILE)
    if os.path.exists(path):
        return
    upstream_ip = _free_service_ip(inputs, settings.dns_ip)
    if upstream_ip is None:
        return
    text = _node_local_manifest(settings.domain, settings.dns_ip, upstream_ip,
                                server.workload.namespace, server.workload.labels)
    yield Candidate(
        "nodelocal-dns", "add NodeLocal DNSCache (a node-cache DaemonSet on every node, J1-J4)",
        (), settings.nodes, new_files=(NewFile(path, text),),
        note=f"the Service kube-dns-upstream takes clusterIP {upstream_ip}: make sure it is "
             "free in your service range; with kube-proxy in IPVS mode point the kubelet's "
             f"--cluster-dns at {NODE_LOCAL_IP} (J1)",
    )


def _within(path: str, folder: str) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def _free_service_ip(inputs: Inputs, dns_ip: str) -> str | None:
    """The next address after kube-dns's that no Service of the input holds."""
    try:
        address = ipaddress.ip_address(dns_ip)
    except ValueError:
        return None
    taken = {ip.value for s in inputs.cluster.dns_services for ip in s.cluster_ips}
    taken |= {s.cluster_ip.value for s in inputs.cluster.dns_services if s.cluster_ip}
    for step in range(1, 16):
        candidate = str(address + step)
        if candidate not in taken:
            return candidate
    return None


def _node_local_manifest(domain: str, dns_ip: str, upstream_ip: str, namespace: str,
                         labels: Mapping[str, str]) -> str:
    binds = f"{NODE_LOCAL_IP} {dns_ip}"
    zone_block = [
        "errors", "cache {", "    success 9984 30", "    denial 9984 5", "}", "reload", "loop",
        f"bind {binds}", f"forward . {upstream_ip} {{", "    force_tcp", "}",
        "prometheus :9253", f"health {NODE_LOCAL_IP}:8080",
    ]
    reverse_block = ["errors", "cache 30", "reload", "loop", f"bind {binds}",
                     f"forward . {upstream_ip} {{", "    force_tcp", "}", "prometheus :9253"]
    other_block = ["errors", "cache 30", "reload", "loop", f"bind {binds}",
                   "forward . /etc/resolv.conf", "prometheus :9253"]
    corefile: list[str] = []
    for zone, body in ((domain, zone_block), ("in-addr.arpa", reverse_block),
                       ("ip6.arpa", reverse_block), (".", other_block)):
        corefile += [f"    {zone}:53 {{", *(f"        {line}" for line in body), "    }"]
    selector = _flow_map(labels)
    lines = [
        "# NodeLocal DNSCache, as cluster/addons/dns/nodelocaldns/nodelocaldns.yaml with its",
        f"# __PILLAR__ placeholders filled in: local IP {NODE_LOCAL_IP}, kube-dns {dns_ip},",
        f"# kube-dns-upstream {upstream_ip}, upstream servers /etc/resolv.conf (J1-J3).",
        "apiVersion: v1", "kind: Service", "metadata:", "  name: kube-dns-upstream",
        f"  namespace: {namespace}", "spec:", f"  selector: {selector}",
        f"  clusterIP: {upstream_ip}", "  ports:", "  - name: dns", "    port: 53",
        "    protocol: UDP", "  - name: dns-tcp", "    port: 53", "    protocol: TCP", "---",
        "apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: node-local-dns",
        f"  namespace: {namespace}", "data:", "  Corefile: |", *corefile, "---",
        "apiVersion: apps/v1", "kind: DaemonSet", "metadata:", "  name: node-local-dns",
        f"  namespace: {namespace}", "  labels:", "    k8s-app: node-local-dns", "spec:",
        "  selector:", "    matchLabels:", "      k8s-app: node-local-dns", "  template:",
        "    metadata:", "      labels:", "        k8s-app: node-local-dns", "    spec:",
        "      hostNetwork: true", "      dnsPolicy: Default", "      containers:",
        "      - name: node-cache", f"        image: {NODE_CACHE_IMAGE}",
        f'        args: ["-localip", "{NODE_LOCAL_IP},{dns_ip}", "-conf", "/etc/Corefile",',
        '               "-upstreamsvc", "kube-dns-upstream"]',
        "        volumeMounts:", "        - name: config-volume", "          mountPath: /etc/coredns",
        "      volumes:", "      - name: config-volume", "        configMap:",
        "          name: node-local-dns", "          items:", "          - key: Corefile",
        "            path: Corefile.base",
    ]
    return "\n".join(lines) + "\n"


def _trailing_dots(inputs: Inputs, read: ReadText) -> Iterator[Candidate]:
    """The external names written with a trailing dot, so that the client asks them as
    given, with no search list (G1, H4). What a client asks is the application's code,
    not its YAML: kalc.yaml's copy of the names is edited only to prove it."""
    env = inputs.env
    edits: list[LineEdit] = []
    written: list[str] = []
    for index, name in enumerate(env.names.value if env.names else ()):
        if name.example is None or name.example.endswith("."):
            continue
        span = env.span(f"names.{index}.example")
        old = _line(read, span.path, span.line) if span is not None else None
        if span is None or old is None or old.count(name.example) != 1:
            return
        edits.append(LineEdit(span.path, span.line, old,
                              (old.replace(name.example, name.example + ".", 1),)))
        written.append(name.example + ".")
    shown = ", ".join(written[:3]) + (", ..." if len(written) > 3 else "")
    yield Candidate(
        "trailing-dot", f"look the external names up with a trailing dot ({shown})",
        tuple(edits), sum(w.replicas or 1 for w in selected_clients(inputs)), kind=APPLICATION,
        note="the names are in the application's code, not in its YAML; proved by "
             "re-checking with kalc.yaml's names written so",
    )
