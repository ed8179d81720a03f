"""The inspect pipeline: what was read and how the model treats it, for ``kalc-formal inspect``.

``inspect_inputs`` gathers, from what ``config.reading.read_inputs`` read:

- the server blocks of the CoreDNS (and node-local cache) Corefile: keys, and the
  plugins in execution order for the CoreDNS version (B1-B6) with their positions;
- the pod classes that ``check`` forms: namespaces, dnsPolicy, hostNetwork, the
  resolv.conf the kubelet writes (H1-H5), pod counts (base..peak with HPAs), client
  library. They are the check pipeline's own (``engine.analyse_inputs``'s
  ``Analysis.pod_classes``), not formed a second time;
- what one lookup costs, per pod class, for four kinds of name (a short Service
  name, ``kubernetes.default``, an external name, an FQDN with a trailing dot) and
  for each name kalc.yaml declares: the queries the client sends and how many
  upstream packets they cause when every cache misses. kalc.yaml's names are read
  from the check pipeline's analysis; the four probe names from one more analysis of
  the same cluster with the probes as its names (the probes are not in kalc.yaml's
  world, so they cannot join the first one). Every number comes from
  ``flows.analyse``, so ``inspect`` and ``check`` cannot differ;
- coverage: each Corefile directive and each pod DNS field, modelled, ignored
  (cannot matter) or not modelled, with its position;
- the assumptions (defaults marked), Corefile warnings, cluster notes, the kinds
  of document ignored, and the places the model does not cover.

Without any client workload in the input, costs are for one assumed pod
(ClusterFirst, namespace ``default``, glibc), and the output says so. Without a
Corefile there is no analysis and no costs (``costs`` is None), and the output says
so. ``views.inspection`` renders the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from kalc_formal.analysis.inspection import (
    NOT_MODELLED,
    BlockView,
    DirectiveCoverage,
    FieldCoverage,
    Inspection,
    LookupCost,
    NameKind,
    Notice,
    PluginView,
    PodClassView,
    applied_settings,
)
from kalc_formal.analysis.podclasses import PodClass, pod_classes, pod_dns_config
from kalc_formal.analysis.result import Analysis, FlowInfo
from kalc_formal.clients.resolvconf import (
    FLAG_OPTIONS,
    NUMERIC_OPTIONS,
    Libc,
    ResolvConf,
    ResolverSettings,
    ResolvOption,
    pod_resolv_conf,
)
from kalc_formal.config.envspec import EnvSpec, Given, LookupSpec, NameSpec
from kalc_formal.config.names import name_classes
from kalc_formal.config.reading import Inputs, dns_workloads
from kalc_formal.config.settings import Assumption, CheckSettings
from kalc_formal.coredns.corefile import DNS_PORT
from kalc_formal.coredns.plugins import CorefileConfig, CoverageStatus, order_version
from kalc_formal.engine import analyse_inputs, input_settings
from kalc_formal.kubernetes.cluster import Workload
from kalc_formal.kubernetes.podspec import Located, PodDns
from kalc_formal.source import Span

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


def inspect_inputs(inputs: Inputs) -> Inspection:
    """What ``inputs`` hold and how ``check`` would model them."""
    notices: list[Notice] = []
    for corefile in (inputs.corefile, inputs.nodelocal_corefile):
        if corefile is not None:
            notices += [Notice("corefile", w) for w in corefile.warnings]
    notices += [Notice("corefile", w) for w in inputs.env_warnings]
    notices += [Notice("kube-dns", n.message, n.span) for n in inputs.node_cache_notes]
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
    analysis = analyse_inputs(used) if inputs.config is not None else None
    settings, classes = _settings_and_classes(used, analysis)
    notices += _unselected(clients, classes)
    blocks, directives = _blocks(inputs)
    if inputs.config is not None and not any(b.serves_pods for b in blocks if b.server == "coredns"):
        notices.append(Notice(
            "inspect", "no CoreDNS server block listens for plain DNS on port 53: "
            "pods' queries are refused",
        ))
    costs: tuple[LookupCost, ...] | None = None
    if analysis is None:
        assumptions = tuple(settings.recorder.assumptions)
        notices.append(Notice(
            "inspect", "no CoreDNS Corefile in the input: lookup costs need one "
            "(give a ConfigMap with a `Corefile` key, or a file named Corefile)",
        ))
    else:
        assumptions = analysis.assumptions
        costs = tuple(_costs(used, analysis, notices))
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


def _settings_and_classes(
    inputs: Inputs, analysis: Analysis | None
) -> tuple[CheckSettings, Sequence[PodClass]]:
    """The analysis's settings and pod classes; without a Corefile there is no analysis,
    and they are decided and formed as ``flows.analyse`` does (same arguments)."""
    if analysis is not None:
        if analysis.settings is None:
            raise AssertionError("the check pipeline's Analysis carries no settings")
        return analysis.settings, analysis.pod_classes
    settings = input_settings(inputs)
    special = {n.namespace for n in name_classes(settings) if n.namespace}
    return settings, pod_classes(
        inputs.cluster, settings.lookups, nodes=settings.nodes, special_namespaces=special,
        scale_to_hpa_max=settings.scale_to_hpa_max, excluded=dns_workloads(inputs.cluster),
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
                    applied_settings(plugin),
                ))
            serves = any(k.transport == "dns" and k.port == DNS_PORT for k in block.keys)
            blocks.append(BlockView(server, block.keys, serves, tuple(plugins)))
            label = " ".join(k.text for k in block.keys)
            coverage += [
                DirectiveCoverage(server, label, c.directive_name, c.span, c.status, c.reason)
                for c in block.directives_coverage
            ]
    return tuple(blocks), tuple(coverage)


def _costs(inputs: Inputs, analysis: Analysis, notices: list[Notice]) -> list[LookupCost]:
    """The probes' costs (a second analysis, of the probe names, over the same cluster),
    then kalc.yaml's names (from ``analysis``, the check pipeline's)."""
    settings, classes = _settings_and_classes(inputs, analysis)
    special = {n.namespace for n in name_classes(settings) if n.namespace}
    env = _probe_env(inputs.env, settings.lookups, special | {NAMESPACED_SERVICE[1]})
    probe_analysis = analyse_inputs(inputs, env=env)
    probe_settings, probe_classes = _settings_and_classes(inputs, probe_analysis)
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
                flow = analysis.flow(pod_class.id, name_id)
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
        flow = analysis.flow(part.id, name_id)
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


def _class_view(pod_class: PodClass, settings: CheckSettings, assumed: bool) -> PodClassView:
    namespace = pod_class.namespaces[0]
    made = pod_resolv_conf(
        dns_policy=pod_class.dns_policy, host_network=pod_class.host_network,
        dns_config=pod_dns_config(pod_class.dns_config), namespace=namespace,
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
        dns_config=pod_dns_config(pod_class.dns_config), namespace=pod_class.namespaces[0],
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
