"""Report stage: what was read and how the model treats it, for ``kalc-formal inspect``.

``inspect_inputs`` gathers, from what ``engine.read_inputs`` read:

- the server blocks of the CoreDNS (and node-local cache) Corefile: keys, and the
  plugins in execution order for the CoreDNS version (B1-B6) with their positions;
- the pod classes that ``check`` forms (``podclasses.pod_classes``): namespaces,
  dnsPolicy, hostNetwork, the resolv.conf the kubelet writes (H1-H5), pod counts
  (base..peak with HPAs), client library;
- what one lookup costs, per pod class, for four kinds of name (a short Service
  name, ``kubernetes.default``, an external name, an FQDN with a trailing dot) and
  for each name kalc.yaml declares: the queries the client sends and how many
  upstream packets they cause when every cache misses. Every number comes from
  ``flows.analyse`` (the static analysis ``check`` runs), so the two cannot differ;
- coverage: each Corefile directive and each pod DNS field, modelled, ignored
  (cannot matter) or not modelled, with its position;
- the assumptions (defaults marked), Corefile warnings, cluster notes, the kinds
  of document ignored, and the places the model does not cover.

Without any client workload in the input, costs are for one assumed pod
(ClusterFirst, namespace ``default``, glibc), and the output says so. Without a
Corefile there are no costs (``costs`` is None), and the output says so.

JSON shape (``as_json``), top-level keys: ``version`` (coredns, origin,
plugin_order), ``inputs`` (corefile, kalc_yaml, workloads, ignored_kinds),
``blocks``, ``pod_classes``, ``costs`` (null without a Corefile), ``coverage``
(directives, pod_fields), ``assumptions``, ``warnings`` (source, message, at).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tabulate import tabulate

from kalc_formal.analysis.podclasses import PodClass, pod_classes
from kalc_formal.analysis.result import Analysis, FlowInfo
from kalc_formal.clients.resolvconf import (
    FLAG_OPTIONS,
    NUMERIC_OPTIONS,
    Libc,
    PodDNSConfig,
    ResolvConf,
    ResolverSettings,
    ResolvOption,
    pod_resolv_conf,
)
from kalc_formal.config.envspec import EnvSpec, Given, LookupSpec, NameSpec
from kalc_formal.config.names import name_classes
from kalc_formal.config.reading import Inputs, dns_workloads
from kalc_formal.config.settings import Assumption, CheckSettings
from kalc_formal.coredns.corefile import ServerKey
from kalc_formal.coredns.plugins import CorefileConfig, CoverageStatus, order_version
from kalc_formal.engine import analyse_inputs, input_settings
from kalc_formal.kubernetes.cluster import Cluster, Workload
from kalc_formal.kubernetes.podspec import DnsConfig, Located, PodDns
from kalc_formal.source import Span

NameKind = Literal["short service", "service.namespace", "external", "FQDN", "kalc.yaml"]

SHORT_SERVICE = "web"
"""The short-name probe: a Service of this name exists in the pod's own namespace."""
NAMESPACED_SERVICE = ("kubernetes", "default")
"""The service.namespace probe: ``kubernetes.default`` exists in every cluster."""
EXTERNAL_NAME = "api.example.com"
"""The external-name probe; it exists (A answer), and so does its FQDN form."""

PROBES: tuple[tuple[NameKind, str], ...] = (
    ("short service", "kf-probe-short"),
    ("service.namespace", "kf-probe-namespaced"),
    ("external", "kf-probe-external"),
    ("FQDN", "kf-probe-fqdn"),
)
ASSUMED_POD_PATH = "<assumed pod>"
ASSUMED_POD_TEXT = "ClusterFirst, namespace default, glibc"
DEFAULT_POD_NAMESPACE = "default"
DNS_PORT = 53
NOT_MODELLED = "not modelled: "


# ---- the data ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PluginView:
    """One plugin of a server block, at its place in the execution order."""

    name: str
    span: Span
    status: CoverageStatus
    reason: str


@dataclass(frozen=True, slots=True)
class BlockView:
    """One server block: ``server`` is "coredns" or "node-local"."""

    server: str
    keys: tuple[ServerKey, ...]
    serves_pods: bool
    """True when a key listens for plain DNS on port 53, where pods send queries."""
    plugins: tuple[PluginView, ...]


@dataclass(frozen=True, slots=True)
class PodClassView:
    """A pod class as ``check`` forms it, with the resolv.conf its pods get."""

    id: str
    label: str
    namespaces: tuple[str, ...]
    workloads: tuple[Workload, ...]
    dns_policy: str
    dns_policy_defaulted: bool
    host_network: bool
    libc: str
    pods_base: int
    pods_peak: int
    resolv_conf: str
    resolv_conf_namespace: str
    """The namespace the resolv.conf above is written for (the class's first)."""
    kubelet_warnings: tuple[str, ...]
    assumed: bool


@dataclass(frozen=True, slots=True)
class LookupCost:
    """One lookup (A and AAAA) of one name by the pods of a class.

    ``namespaces`` is the part of the class this applies to: all of it, unless
    the class's namespaces differ in cost (then one LookupCost per part).
    """

    pod_class: str
    namespaces: tuple[str, ...]
    kind: NameKind
    name: str
    name_id: str | None
    via: str
    queries: tuple[str, ...]
    upstream_cold: int
    """Upstream packets the queries cause when every cache misses."""


@dataclass(frozen=True, slots=True)
class DirectiveCoverage:
    server: str
    block: str
    directive: str
    span: Span
    status: CoverageStatus
    reason: str


@dataclass(frozen=True, slots=True)
class FieldCoverage:
    """One pod DNS field of a class (positions of its first workload)."""

    pod_class: str
    field: str
    value: str
    span: Span | None
    status: CoverageStatus
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning or note; ``source`` says who raised it."""

    source: str
    message: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Inspection:
    """Everything ``kalc-formal inspect`` shows."""

    coredns_version: str
    version_origin: str
    order_version: str
    corefile_path: str | None
    env_path: str | None
    workload_count: int
    ignored_kinds: dict[str, int]
    blocks: tuple[BlockView, ...]
    pod_classes: tuple[PodClassView, ...]
    costs: tuple[LookupCost, ...] | None
    directive_coverage: tuple[DirectiveCoverage, ...]
    field_coverage: tuple[FieldCoverage, ...]
    assumptions: tuple[Assumption, ...]
    notices: tuple[Notice, ...]


# ---- gathering ---------------------------------------------------------------------


def inspect_inputs(inputs: Inputs) -> Inspection:
    """What ``inputs`` hold and how ``check`` would model them."""
    notices: list[Notice] = []
    for corefile in (inputs.corefile, inputs.nodelocal_corefile):
        if corefile is not None:
            notices += [Notice("corefile", w) for w in corefile.warnings]
    notices += [Notice("cluster", n.message, n.span) for n in inputs.cluster.notes]
    excluded = {id(w) for w in dns_workloads(inputs.cluster)}
    clients = [w for w in inputs.cluster.workloads if id(w) not in excluded]
    assumed = not clients
    used = _with_assumed_pod(inputs) if assumed else inputs
    if assumed:
        notices.append(Notice(
            "inspect", "no client workload in the input: the pod classes and costs below are "
            f"for one ASSUMED pod ({ASSUMED_POD_TEXT}), not for pods of this cluster",
        ))
    settings = input_settings(used)
    special = {n.namespace for n in name_classes(settings) if n.namespace}
    classes = _classes(used.cluster, settings, special)
    notices += _unselected(clients, classes)
    blocks, directives = _blocks(inputs)
    if inputs.config is not None and not any(b.serves_pods for b in blocks if b.server == "coredns"):
        notices.append(Notice(
            "inspect", "no CoreDNS server block listens for plain DNS on port 53: "
            "pods' queries are refused",
        ))
    costs: tuple[LookupCost, ...] | None = None
    assumptions = tuple(settings.recorder.assumptions)
    if inputs.config is None:
        notices.append(Notice(
            "inspect", "no CoreDNS Corefile in the input: lookup costs need one "
            "(give a ConfigMap with a `Corefile` key, or a file named Corefile)",
        ))
    else:
        analysis = analyse_inputs(used)
        assumptions = analysis.assumptions
        costs = tuple(_costs(used, settings, classes, special, analysis, notices))
    if assumed:
        assumptions += (Assumption("inspect.pod", ASSUMED_POD_TEXT, "default",
                                   "no client workload in the input"),)
    views = tuple(_class_view(c, settings, assumed) for c in classes)
    fields = tuple(f for c in classes for f in _field_coverage(c, used, settings, assumed))
    for view in views:
        notices += [Notice("kubelet", f"{view.id}: {w}") for w in view.kubelet_warnings]
    return Inspection(
        coredns_version=str(inputs.version),
        version_origin=inputs.version_origin,
        order_version=order_version(inputs.version),
        corefile_path=inputs.corefile.source_path if inputs.corefile else None,
        env_path=inputs.env.path,
        workload_count=len(clients),
        ignored_kinds=dict(sorted(inputs.cluster.ignored.items())),
        blocks=blocks,
        pod_classes=views,
        costs=costs,
        directive_coverage=directives,
        field_coverage=fields,
        assumptions=assumptions,
        notices=tuple(_unique(notices)),
    )


def _with_assumed_pod(inputs: Inputs) -> Inputs:
    span = Span(ASSUMED_POD_PATH, 1, 1)
    pod = Workload(
        kind="Pod", name="assumed-pod", namespace=DEFAULT_POD_NAMESPACE, namespace_defaulted=True,
        replicas=1, per_node=False, replicas_span=span, replicas_defaulted=True, labels={},
        dns=PodDns(Located("ClusterFirst", span), True, Located(False, span), None),
        images=(), owner=None, span=span,
    )
    cluster = dataclasses.replace(inputs.cluster, workloads=(*inputs.cluster.workloads, pod))
    env = dataclasses.replace(inputs.env, lookups=None)
    return dataclasses.replace(inputs, cluster=cluster, env=env)


def _classes(cluster: Cluster, settings: CheckSettings, special: Iterable[str]) -> list[PodClass]:
    """The pod classes ``flows.analyse`` forms for these settings (same arguments)."""
    return pod_classes(
        cluster, settings.lookups, nodes=settings.nodes, special_namespaces=special,
        scale_to_hpa_max=settings.scale_to_hpa_max, excluded=dns_workloads(cluster),
    )


def _unselected(clients: Sequence[Workload], classes: Sequence[PodClass]) -> list[Notice]:
    selected = {id(w) for c in classes for w in c.workloads}
    left = [w for w in clients if id(w) not in selected]
    if not left:
        return []
    shown = ", ".join(f"{w.kind}/{w.name} (ns {w.namespace})" for w in left[:5])
    more = f", +{len(left) - 5}" if len(left) > 5 else ""
    return [Notice(
        "inspect", f"{len(left)} workload(s) are selected by no kalc.yaml lookup, so they send "
        f"no lookups in the model: {shown}{more}", left[0].span,
    )]


def _blocks(inputs: Inputs) -> tuple[tuple[BlockView, ...], tuple[DirectiveCoverage, ...]]:
    blocks: list[BlockView] = []
    coverage: list[DirectiveCoverage] = []
    configs: list[tuple[str, CorefileConfig]] = []
    if inputs.config is not None:
        configs.append(("coredns", inputs.config))
    if inputs.nodelocal is not None:
        configs.append(("node-local", inputs.nodelocal))
    for server, config in configs:
        for block in config.blocks:
            status = {(c.directive_name, c.span): c for c in block.directives_coverage}
            plugins = []
            for plugin in block.plugins:
                found = status.get((plugin.name, plugin.span))
                plugins.append(PluginView(
                    plugin.name, plugin.span, found.status if found else "not-modelled",
                    found.reason if found else "kalc-formal does not know this plugin",
                ))
            serves = any(k.transport == "dns" and k.port == DNS_PORT for k in block.keys)
            blocks.append(BlockView(server, block.keys, serves, tuple(plugins)))
            label = " ".join(k.text for k in block.keys)
            coverage += [
                DirectiveCoverage(server, label, c.directive_name, c.span, c.status, c.reason)
                for c in block.directives_coverage
            ]
    return tuple(blocks), tuple(coverage)


# ---- costs -------------------------------------------------------------------------


def _costs(
    inputs: Inputs, settings: CheckSettings, classes: Sequence[PodClass], special: set[str],
    analysis: Analysis, notices: list[Notice],
) -> list[LookupCost]:
    """The probes' costs (a second analysis over the same cluster), then kalc.yaml's names."""
    _check_same_classes(classes, analysis.flows)
    probe_special = special | {NAMESPACED_SERVICE[1]}
    env = _probe_env(inputs.env, settings.lookups, probe_special)
    probe_settings = input_settings(inputs, env=env)
    probe_classes = _classes(inputs.cluster, probe_settings, probe_special)
    probe_analysis = analyse_inputs(inputs, env=env)
    _check_same_classes(probe_classes, probe_analysis.flows)
    owner = _owners(classes, settings.lookups)
    parts: dict[str, list[PodClass]] = {c.id: [] for c in classes}
    for probe_class in probe_classes:
        index = _lookup_index(probe_class, probe_settings.lookups)
        parts[owner[(index, id(probe_class.workloads[0]))]].append(probe_class)
    costs: list[LookupCost] = []
    for pod_class in classes:
        for kind, name_id in PROBES:
            costs += _probe_cost(pod_class, parts[pod_class.id], kind, name_id, probe_analysis)
        if inputs.env.names is not None:
            for name_id in pod_class.lookup.names:
                flow = analysis.flows[f"{pod_class.id}/{name_id}"]
                costs.append(_cost(pod_class.id, pod_class.namespaces, "kalc.yaml", name_id, flow))
    for item in (*analysis.unmodelled, *probe_analysis.unmodelled):
        notices.append(Notice("model", f"{NOT_MODELLED}{item.reason}", item.span))
    notices += [Notice("model", note) for note in analysis.notes]
    notices += [Notice("model", warning) for warning in analysis.warnings]
    return costs


def _probe_env(env: EnvSpec, lookups: Sequence[LookupSpec], special: set[str]) -> EnvSpec:
    """kalc.yaml with the probe names, looked up by the same pods with the same library.

    The short Service exists in every namespace: in the classes that stand for
    many namespaces (``flows.service_world``'s sentinel) and, one NameSpec each,
    in the namespaces that keep their own class.
    """
    short, namespaced, external, fqdn = (name_id for _, name_id in PROBES)
    names = [
        NameSpec(short, service=SHORT_SERVICE, form="short"),
        *(NameSpec(f"{short}@{ns}", service=SHORT_SERVICE, namespace=ns, form="short")
          for ns in sorted(special)),
        NameSpec(namespaced, service=NAMESPACED_SERVICE[0], namespace=NAMESPACED_SERVICE[1],
                 form="namespaced"),
        NameSpec(external, example=EXTERNAL_NAME),
        NameSpec(fqdn, example=EXTERNAL_NAME + "."),
    ]
    probes = (short, namespaced, external, fqdn)
    mirrored = tuple(dataclasses.replace(lookup, names=probes) for lookup in lookups)
    return dataclasses.replace(env, names=Given(tuple(names)), lookups=Given(mirrored))


def _check_same_classes(classes: Sequence[PodClass], flows: dict[str, FlowInfo]) -> None:
    """The recomputed classes are those ``analyse`` used (same ids, labels, counts)."""
    by_id = {c.id: c for c in classes}
    for flow_id, flow in flows.items():
        pod_class = by_id.get(flow_id.split("/", 1)[0])
        if pod_class is None or (pod_class.label, pod_class.pods_base, pod_class.pods_peak) != (
            flow.pod_class, flow.pods_base, flow.pods_peak,
        ):
            raise AssertionError(f"inspect's pod classes differ from the analysis at flow {flow_id}")


def _lookup_index(pod_class: PodClass, lookups: Sequence[LookupSpec]) -> int:
    return next(i for i, lookup in enumerate(lookups) if lookup is pod_class.lookup)


def _owners(classes: Sequence[PodClass], lookups: Sequence[LookupSpec]) -> dict[tuple[int, int], str]:
    """(lookup index, workload) -> the class holding it."""
    return {
        (_lookup_index(c, lookups), id(w)): c.id for c in classes for w in c.workloads
    }


def _probe_cost(
    pod_class: PodClass, parts: Sequence[PodClass], kind: NameKind, name_id: str,
    analysis: Analysis,
) -> list[LookupCost]:
    if not parts:
        raise AssertionError(f"no part of the probe analysis maps to {pod_class.id}")
    groups: dict[tuple[str, tuple[str, ...], int], list[str]] = {}
    flows: dict[tuple[str, tuple[str, ...], int], FlowInfo] = {}
    for part in parts:
        flow = analysis.flows[f"{part.id}/{name_id}"]
        key = (flow.server, flow.client_queries, flow.upstream_cold)
        groups.setdefault(key, []).extend(part.namespaces)
        flows[key] = flow
    if len(groups) == 1:
        return [_cost(pod_class.id, pod_class.namespaces, kind, None, next(iter(flows.values())))]
    return [
        _cost(pod_class.id, tuple(sorted(set(namespaces))), kind, None, flows[key])
        for key, namespaces in groups.items()
    ]


def _cost(
    class_id: str, namespaces: tuple[str, ...], kind: NameKind, name_id: str | None, flow: FlowInfo,
) -> LookupCost:
    return LookupCost(
        class_id, namespaces, kind, flow.name_class, name_id, flow.server, flow.client_queries,
        flow.upstream_cold,
    )


# ---- pod classes and their fields --------------------------------------------------


def _pod_dns_config(config: DnsConfig | None) -> PodDNSConfig | None:
    if config is None:
        return None
    return PodDNSConfig(
        tuple(n.value for n in config.nameservers),
        tuple(s.value for s in config.searches),
        tuple(ResolvOption(o.name, o.value) for o in config.options),
    )


def _class_view(pod_class: PodClass, settings: CheckSettings, assumed: bool) -> PodClassView:
    namespace = pod_class.namespaces[0]
    made = pod_resolv_conf(
        dns_policy=pod_class.dns_policy, host_network=pod_class.host_network,
        dns_config=_pod_dns_config(pod_class.dns_config), namespace=namespace,
        cluster_domain=settings.domain, cluster_dns=(settings.dns_ip,),
        node_resolv_conf=settings.node_resolv_conf,
    )
    first = pod_class.workloads[0]
    return PodClassView(
        id=pod_class.id, label=pod_class.label, namespaces=pod_class.namespaces,
        workloads=pod_class.workloads, dns_policy=pod_class.dns_policy,
        dns_policy_defaulted=first.dns.policy_defaulted, host_network=pod_class.host_network,
        libc=pod_class.lookup.libc or Libc.GLIBC.value, pods_base=pod_class.pods_base,
        pods_peak=pod_class.pods_peak, resolv_conf=made.resolv_conf.text,
        resolv_conf_namespace=namespace,
        kubelet_warnings=tuple(
            ("rejected by the API server: " if w.rejected else "") + w.message for w in made.warnings
        ),
        assumed=assumed,
    )


def _field_coverage(
    pod_class: PodClass, inputs: Inputs, settings: CheckSettings, assumed: bool
) -> list[FieldCoverage]:
    first = pod_class.workloads[0]

    def at(span: Span) -> Span | None:
        return None if assumed else span

    dns = first.dns
    policy = dns.policy.value + (" (not set: the default)" if dns.policy_defaulted else "")
    rows = [
        FieldCoverage(pod_class.id, "dnsPolicy", policy, at(dns.policy.span), "modelled",
                      "the kubelet's resolv.conf for each policy (H1-H3)"),
        FieldCoverage(pod_class.id, "hostNetwork", "true" if dns.host_network.value else "false",
                      at(dns.host_network.span), "modelled",
                      "ClusterFirst falls back to Default on the host network (H1); "
                      "autopath cannot map such pods (H6)"),
    ]
    config = pod_class.dns_config
    if config is None:
        return rows
    status, reason = _nameserver_coverage(pod_class, inputs, settings)
    rows += [
        FieldCoverage(pod_class.id, "dnsConfig.nameservers", n.value, n.span, status, reason)
        for n in config.nameservers
    ]
    rows += [
        FieldCoverage(pod_class.id, "dnsConfig.searches", s.value, s.span, "modelled",
                      "appended to the policy's search list, then cut to the limits (H4, H5)")
        for s in config.searches
    ]
    libc = Libc(pod_class.lookup.libc or Libc.GLIBC.value)
    for option in config.options:
        status, reason = option_coverage(option.name, libc)
        value = option.name if option.value is None else f"{option.name}:{option.value}"
        rows.append(FieldCoverage(pod_class.id, f"dnsConfig.options[{option.name}]", value,
                                  option.span, status, reason))
    return rows


def _nameserver_coverage(
    pod_class: PodClass, inputs: Inputs, settings: CheckSettings
) -> tuple[CoverageStatus, str]:
    """As ``flows`` routes a pod: the cluster DNS, a node-local address, or a node nameserver."""
    view = pod_resolv_conf(
        dns_policy=pod_class.dns_policy, host_network=pod_class.host_network,
        dns_config=_pod_dns_config(pod_class.dns_config), namespace=pod_class.namespaces[0],
        cluster_domain=settings.domain, cluster_dns=(settings.dns_ip,),
        node_resolv_conf=settings.node_resolv_conf,
    ).resolv_conf
    first = view.nameservers[0] if view.nameservers else ""
    local = {ip.value for n in inputs.cluster.node_local_dns for ip in n.local_ips}
    known = {settings.dns_ip, *settings.node_nameservers} | (local if inputs.nodelocal else set())
    if first in known:
        return "modelled", "appended to the policy's nameservers (H4); the first one decides " \
            "which server answers"
    return "not-modelled", f"the pods ask {first or '(no nameserver)'} first, which is neither " \
        f"the cluster DNS ({settings.dns_ip}) nor a node nameserver"


_BASELINE = ResolvConf(("10.96.0.10",))


def option_coverage(name: str, libc: Libc) -> tuple[CoverageStatus, str]:
    """Whether ``libc``'s reading of ``options NAME`` changes what the resolver model uses.

    Derived from the resolv.conf readers (``ResolvConf.settings``): the option is
    modelled when it changes a setting the resolver model reads (for ndots,
    timeout and attempts: any value other than the default does), else ignored.

    >>> option_coverage("rotate", Libc.GLIBC)[0], option_coverage("rotate", Libc.MUSL)[0]
    ('modelled', 'ignored')
    >>> option_coverage("edns0", Libc.GLIBC)
    ('ignored', 'glibc takes nothing from it that changes the queries one lookup sends')
    """
    value = "15" if name in NUMERIC_OPTIONS else None
    conf = ResolvConf(_BASELINE.nameservers, (), (ResolvOption(name, value),))
    if _read(conf.settings(libc)) != _read(_BASELINE.settings(libc)):
        facts = {Libc.GLIBC: "G1-G7", Libc.MUSL: "G8-G12", Libc.GO: "G13-G16"}[libc]
        return "modelled", f"{libc.value} reads it and the resolver model follows it ({facts})"
    if name in NUMERIC_OPTIONS or name in FLAG_OPTIONS:
        return "ignored", f"{libc.value} takes nothing from it that changes the queries one lookup sends"
    return "ignored", f"not a resolver option {libc.value} reads"


def _read(settings: ResolverSettings) -> ResolverSettings:
    return dataclasses.replace(settings, ignored=())


def _unique(notices: Iterable[Notice]) -> list[Notice]:
    seen: set[Notice] = set()
    result = []
    for notice in notices:
        if notice not in seen:
            seen.add(notice)
            result.append(notice)
    return result


# ---- text --------------------------------------------------------------------------


def render_text(inspection: Inspection) -> str:
    """The inspection as titled tables."""
    parts = [_head(inspection)]
    if inspection.corefile_path is not None:
        parts.append(_blocks_text(inspection))
    parts.append(_classes_text(inspection))
    parts.append(_costs_text(inspection))
    if inspection.corefile_path is not None:
        parts.append("Coverage of Corefile directives:\n" + (tabulate(
            [[c.server, c.block, c.directive, str(c.span), c.status, c.reason]
             for c in inspection.directive_coverage],
            headers=["server", "block", "directive", "at", "status", "reason"],
        ) if inspection.directive_coverage else "  (no directives)"))
    if inspection.field_coverage:
        parts.append("Coverage of pod DNS fields (positions of each class's first workload):\n"
                     + tabulate(
                         [[f.pod_class, f.field, f.value, str(f.span) if f.span else "(assumed)",
                           f.status, f.reason] for f in inspection.field_coverage],
                         headers=["class", "field", "value", "at", "status", "reason"],
                     ))
    parts.append("Assumptions (* = default; set them in kalc.yaml):\n" + tabulate(
        [[a.key + ("*" if a.origin == "default" else ""), a.value,
          a.origin + (f" ({a.at})" if a.at else ""), a.note]
         for a in inspection.assumptions],
        headers=["setting", "value", "from", "note"],
    ))
    if inspection.notices:
        parts.append("Warnings and notes:\n" + "\n".join(
            f"  {n.source}: " + (f"{n.span}: " if n.span else "") + n.message
            for n in inspection.notices
        ))
    return "\n\n".join(parts) + "\n"


def _head(inspection: Inspection) -> str:
    order = f"; plugin order of {inspection.order_version}"
    ignored = ", ".join(f"{kind} {count}" for kind, count in inspection.ignored_kinds.items())
    lines = [
        f"CoreDNS {inspection.coredns_version} (from {inspection.version_origin}{order})",
        f"Corefile: {inspection.corefile_path or '(none found)'}",
        f"kalc.yaml: {inspection.env_path or '(none: defaults)'}",
        f"client workloads: {inspection.workload_count}",
        f"documents ignored (not relevant to DNS load): {ignored or 'none'}",
    ]
    return "\n".join(lines)


def _blocks_text(inspection: Inspection) -> str:
    parts = []
    numbers: dict[str, int] = {}
    for block in inspection.blocks:
        index = numbers[block.server] = numbers.get(block.server, 0) + 1
        keys = ", ".join(f"{k.text} ({k.transport}, zone {k.zone}, port {k.port})" for k in block.keys)
        at = str(block.keys[0].span) if block.keys else ""
        served = "" if block.serves_pods else "  [not on dns port 53: pods do not reach it]"
        rows = [[n, p.name, str(p.span), p.status] for n, p in enumerate(block.plugins, start=1)]
        table = tabulate(rows, headers=["#", "plugin", "at", "coverage"]) if rows else "  (no plugins)"
        parts.append(f"{block.server} block {index}: {keys} at {at}{served}\n{table}")
    body = "\n\n".join(parts) if parts else "  (none: the Corefile has no server block)"
    return "Server blocks (plugins in execution order):\n\n" + body


def _classes_text(inspection: Inspection) -> str:
    if not inspection.pod_classes:
        return "Pod classes: none (no workload in the input is a DNS client)"
    rows = []
    for c in inspection.pod_classes:
        names = ", ".join(c.namespaces[:3]) + (f", +{len(c.namespaces) - 3}" if len(c.namespaces) > 3 else "")
        kinds = Counter(f"{w.kind}/{w.name}" for w in c.workloads)
        workloads = ", ".join(k + (f" x{n}" if n > 1 else "") for k, n in list(kinds.items())[:2])
        if len(kinds) > 2:
            workloads += f", +{len(kinds) - 2}"
        policy = c.dns_policy + ("*" if c.dns_policy_defaulted else "")
        rows.append([c.id, names, workloads, policy, "yes" if c.host_network else "no", c.libc,
                     f"{c.pods_base:,}..{c.pods_peak:,}"])
    table = tabulate(rows, headers=["class", "namespaces", "workloads", "dnsPolicy (* = not set)",
                                    "hostNetwork", "libc", "pods (base..peak)"])
    confs = []
    for c in inspection.pod_classes:
        others = " (the other namespaces differ only in their own name)" if len(c.namespaces) > 1 else ""
        body = "".join(f"    {line}\n" for line in c.resolv_conf.splitlines()) or "    (empty)\n"
        confs.append(f"  {c.id}: resolv.conf in ns {c.resolv_conf_namespace}{others}:\n{body}")
    title = "Pod classes" + (" (ASSUMED: no client workload in the input)" if any(c.assumed for c in inspection.pod_classes) else "")
    return f"{title}:\n{table}\n\n" + "\n".join(confs).rstrip("\n")


def _costs_text(inspection: Inspection) -> str:
    if inspection.costs is None:
        return "Lookup costs: need a CoreDNS Corefile (none in the input)"
    title = ("Lookup costs (one getaddrinfo, A and AAAA; upstream = packets to the upstream "
             "when every cache misses):")
    if not inspection.costs:
        return f"{title}\n  (no pod class)"
    partial = any(
        cost.namespaces != next(c.namespaces for c in inspection.pod_classes if c.id == cost.pod_class)
        for cost in inspection.costs
    )
    rows = []
    for cost in inspection.costs:
        kind = f"kalc.yaml {cost.name_id}" if cost.kind == "kalc.yaml" else cost.kind
        row = [cost.pod_class, kind, cost.name, cost.via, len(cost.queries), cost.upstream_cold]
        if partial:
            row.insert(1, ", ".join(cost.namespaces))
        rows.append(row)
    headers = ["class", "name kind", "name", "via", "queries/lookup", "upstream/lookup (cold)"]
    if partial:
        headers.insert(1, "namespaces")
    text = f"{title}\n{tabulate(rows, headers=headers)}"
    gaps = sum(1 for n in inspection.notices if n.source == "model" and n.message.startswith(NOT_MODELLED))
    if gaps:
        text += (f"\n\nnote: {gaps} place(s) in the query path are not modelled (see the warnings); "
                 "a query that meets one is counted as answered SERVFAIL there")
    return text


# ---- JSON --------------------------------------------------------------------------


def render_json(inspection: Inspection) -> str:
    return json.dumps(as_json(inspection), indent=2) + "\n"


def _at(span: Span | None) -> str | None:
    return str(span) if span is not None else None


def as_json(inspection: Inspection) -> dict[str, Any]:
    """The inspection as plain data (shape in the module docstring)."""
    return {
        "version": {
            "coredns": inspection.coredns_version, "origin": inspection.version_origin,
            "plugin_order": inspection.order_version,
        },
        "inputs": {
            "corefile": inspection.corefile_path, "kalc_yaml": inspection.env_path,
            "workloads": inspection.workload_count, "ignored_kinds": inspection.ignored_kinds,
        },
        "blocks": [
            {
                "server": b.server,
                "keys": [{"text": k.text, "transport": k.transport, "zone": k.zone, "port": k.port,
                          "at": _at(k.span)} for k in b.keys],
                "serves_pods": b.serves_pods,
                "plugins": [{"name": p.name, "at": _at(p.span), "status": p.status,
                             "reason": p.reason} for p in b.plugins],
            }
            for b in inspection.blocks
        ],
        "pod_classes": [
            {
                "id": c.id, "label": c.label, "namespaces": list(c.namespaces),
                "workloads": [{"kind": w.kind, "name": w.name, "namespace": w.namespace,
                               "at": None if c.assumed else _at(w.span)} for w in c.workloads],
                "dns_policy": c.dns_policy, "dns_policy_defaulted": c.dns_policy_defaulted,
                "host_network": c.host_network, "libc": c.libc, "pods_base": c.pods_base,
                "pods_peak": c.pods_peak, "resolv_conf": c.resolv_conf,
                "resolv_conf_namespace": c.resolv_conf_namespace,
                "kubelet_warnings": list(c.kubelet_warnings), "assumed": c.assumed,
            }
            for c in inspection.pod_classes
        ],
        "costs": None if inspection.costs is None else [
            {
                "pod_class": c.pod_class, "namespaces": list(c.namespaces), "kind": c.kind,
                "name": c.name, "name_id": c.name_id, "via": c.via,
                "queries_per_lookup": len(c.queries), "upstream_per_lookup_cold": c.upstream_cold,
                "queries": list(c.queries),
            }
            for c in inspection.costs
        ],
        "coverage": {
            "directives": [
                {"server": c.server, "block": c.block, "directive": c.directive, "at": _at(c.span),
                 "status": c.status, "reason": c.reason}
                for c in inspection.directive_coverage
            ],
            "pod_fields": [
                {"pod_class": f.pod_class, "field": f.field, "value": f.value, "at": _at(f.span),
                 "status": f.status, "reason": f.reason}
                for f in inspection.field_coverage
            ],
        },
        "assumptions": [
            {"key": a.key, "value": a.value, "origin": a.origin, "default": a.origin == "default",
             "note": a.note, "at": _at(a.at)}
            for a in inspection.assumptions
        ],
        "warnings": [
            {"source": n.source, "message": n.message, "at": _at(n.span)} for n in inspection.notices
        ],
    }
