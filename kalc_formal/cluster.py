"""Typed config model stage: the DNS-relevant resources of a cluster, from manifest documents.

:func:`build_cluster` reads workloads (their pod DNS fields and replica
counts), the CoreDNS (or kube-dns) servers, their Service and Corefile
ConfigMaps, NodeLocal DNSCache, autoscalers and Nodes. Bad values give
ConfigErrors at the field, all collected; a resource with a bad value is left
out. Every other document is counted by kind in ``Cluster.ignored``.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TextIO, TypeVar

from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.manifests import Document, Limits, load_documents
from kalc_formal.placeholders import STRICT, find_placeholders, template_message
from kalc_formal.source import Source, Span

__all__ = [
    "DNS_POLICIES",
    "AutoscalerParams",
    "BuildResult",
    "Cluster",
    "CorefileConfigMap",
    "DnsConfig",
    "DnsOption",
    "DnsServer",
    "DnsService",
    "HorizontalPodAutoscaler",
    "LadderParams",
    "LinearParams",
    "Located",
    "Node",
    "NodeLocalDns",
    "Note",
    "PodDns",
    "ProportionalAutoscaler",
    "RollingUpdate",
    "ScaleTarget",
    "ServicePort",
    "Workload",
    "build_cluster",
    "read_cluster",
    "resolve_fenceposts",
]

T = TypeVar("T")

DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
"""The pod dnsPolicy values the API accepts (kubelet rules: H1)."""

MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    """A value and where it was written."""

    value: T
    span: Span


@dataclass(frozen=True, slots=True)
class Note:
    """Something the reader assumed or decided that the user should know."""

    message: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class DnsOption:
    """One ``dnsConfig.options`` entry; ``value`` is None for a bare flag (H4)."""

    name: str
    value: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class DnsConfig:
    """A pod's ``dnsConfig``, applied after its dnsPolicy (H4)."""

    nameservers: tuple[Located[str], ...]
    searches: tuple[Located[str], ...]
    options: tuple[DnsOption, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class PodDns:
    """The DNS fields of a pod spec. ``policy`` defaults to ClusterFirst."""

    policy: Located[str]
    policy_defaulted: bool
    host_network: Located[bool]
    config: DnsConfig | None


@dataclass(frozen=True)
class Workload:
    """Pods from one Pod or controller template, with their DNS settings.

    ``replicas`` is the pod count the manifest asks for: ``spec.replicas``
    (default 1), a Job's ``parallelism`` (default 1), a CronJob's job template
    ``parallelism``, 1 for a Pod; ``None`` with ``per_node`` for a DaemonSet,
    which runs one pod per eligible node.
    """

    kind: str
    name: str
    namespace: str
    namespace_defaulted: bool
    replicas: int | None
    per_node: bool
    replicas_span: Span
    replicas_defaulted: bool
    labels: Mapping[str, str] = field(hash=False)
    dns: PodDns
    images: tuple[Located[str], ...]
    owner: tuple[str, str] | None
    span: Span
    api_version: str = ""


@dataclass(frozen=True, slots=True)
class RollingUpdate:
    """Rolling-update bounds, as written and resolved against ``replicas``.

    Resolution follows the Deployment controller (``ResolveFenceposts``):
    a percentage maxSurge rounds up, maxUnavailable rounds down, and if both
    resolve to 0, maxUnavailable becomes 1.
    """

    max_surge: int | str
    max_unavailable: int | str
    resolved_surge: int | None
    resolved_unavailable: int | None
    span: Span


@dataclass(frozen=True, slots=True)
class CorefileConfigMap:
    """A ConfigMap with a ``Corefile`` key; ``role`` is coredns or node-local-dns."""

    name: str
    namespace: str
    role: str
    corefile_source: Source
    span: Span


@dataclass(frozen=True)
class DnsServer:
    """A CoreDNS (or kube-dns) server workload.

    ``version`` is the CoreDNS version from the image tag (``v1.11.1`` and
    ``1.11.1-eksbuild.1`` give ``"1.11.1"``; ``latest`` gives None).
    ``anti_affinity`` and ``hostname_spread`` say whether replicas are kept on
    different nodes: required, preferred or none (pod anti-affinity and
    topology spread constraints on ``kubernetes.io/hostname`` that select the
    server's own pods).
    """

    workload: Workload
    software: str
    image: Located[str] | None
    version: str | None
    strategy: str
    rolling_update: RollingUpdate | None
    anti_affinity: str
    hostname_spread: str
    corefile_configmap: Located[str] | None
    corefile: CorefileConfigMap | None


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str | None
    port: int
    protocol: str
    span: Span


@dataclass(frozen=True)
class DnsService:
    """A Service in front of DNS servers (kube-dns, coredns, or one selecting them)."""

    name: str
    namespace: str
    cluster_ip: Located[str] | None
    cluster_ips: tuple[Located[str], ...]
    ports: tuple[ServicePort, ...]
    selector: Mapping[str, str] = field(hash=False)
    span: Span


@dataclass(frozen=True)
class NodeLocalDns:
    """A NodeLocal DNSCache DaemonSet (J1): node-cache on every node."""

    workload: Workload
    image: Located[str]
    local_ips: tuple[Located[str], ...]
    upstream_service: str | None
    args: tuple[str, ...]
    corefile_configmap: Located[str] | None
    corefile: CorefileConfigMap | None


@dataclass(frozen=True, slots=True)
class HorizontalPodAutoscaler:
    name: str
    namespace: str
    target_kind: str
    target_name: str
    min_replicas: int
    min_defaulted: bool
    max_replicas: int
    span: Span


@dataclass(frozen=True, slots=True)
class LinearParams:
    """cluster-proportional-autoscaler linear mode (``min`` 0 means 1, ``max`` 0 no cap)."""

    cores_per_replica: float
    nodes_per_replica: float
    min_replicas: int
    max_replicas: int
    prevent_single_point_failure: bool
    include_unschedulable_nodes: bool


@dataclass(frozen=True, slots=True)
class LadderParams:
    """cluster-proportional-autoscaler ladder mode; steps sorted by threshold."""

    cores_to_replicas: tuple[tuple[int, int], ...]
    nodes_to_replicas: tuple[tuple[int, int], ...]
    include_unschedulable_nodes: bool


@dataclass(frozen=True, slots=True)
class AutoscalerParams:
    """Scaling parameters from a ConfigMap, or from ``--default-params``."""

    mode: str
    params: LinearParams | LadderParams
    configmap: str | None
    namespace: str
    span: Span


@dataclass(frozen=True, slots=True)
class ScaleTarget:
    kind: str
    name: str


@dataclass(frozen=True)
class ProportionalAutoscaler:
    """A cluster-proportional-autoscaler (dns-autoscaler) deployment.

    ``params`` are those of its ConfigMap when the input has it, else its
    ``--default-params`` (which it writes to the ConfigMap when missing).
    """

    workload: Workload
    namespace: str
    targets: tuple[ScaleTarget, ...]
    configmap: str | None
    default_params: AutoscalerParams | None
    params: AutoscalerParams | None


@dataclass(frozen=True)
class Node:
    """A Node object: zone and instance type from its well-known labels."""

    name: str
    labels: Mapping[str, str] = field(hash=False)
    zone: str | None
    instance_type: str | None
    unschedulable: bool
    allocatable_cpu_millis: int | None
    span: Span


@dataclass(frozen=True)
class Cluster:
    """What the manifests say about a cluster's DNS."""

    workloads: tuple[Workload, ...] = ()
    owned_workloads: tuple[Workload, ...] = ()
    dns_servers: tuple[DnsServer, ...] = ()
    dns_services: tuple[DnsService, ...] = ()
    corefile_configmaps: tuple[CorefileConfigMap, ...] = ()
    node_local_dns: tuple[NodeLocalDns, ...] = ()
    horizontal_autoscalers: tuple[HorizontalPodAutoscaler, ...] = ()
    proportional_autoscalers: tuple[ProportionalAutoscaler, ...] = ()
    autoscaler_params: tuple[AutoscalerParams, ...] = ()
    nodes: tuple[Node, ...] = ()
    ignored: Mapping[str, int] = field(default_factory=dict, hash=False)
    notes: tuple[Note, ...] = ()

    @property
    def corefile_source(self) -> Source | None:
        """The CoreDNS Corefile: the one the server mounts, else the only one."""
        return _pick_corefile([s.corefile for s in self.dns_servers], self.corefile_configmaps, "coredns")

    @property
    def node_local_corefile_source(self) -> Source | None:
        """The NodeLocal DNSCache Corefile, chosen like :attr:`corefile_source`."""
        return _pick_corefile([n.corefile for n in self.node_local_dns], self.corefile_configmaps, "node-local-dns")

    @property
    def node_count(self) -> int | None:
        """The number of Node objects, or None when the input has none."""
        return len(self.nodes) if self.nodes else None


def _pick_corefile(
    mounted: Sequence[CorefileConfigMap | None], all_maps: Sequence[CorefileConfigMap], role: str
) -> Source | None:
    chosen = {id(m): m for m in mounted if m is not None}
    if len(chosen) == 1:
        return next(iter(chosen.values())).corefile_source
    of_role = [m for m in all_maps if m.role == role]
    if not chosen and len(of_role) == 1:
        return of_role[0].corefile_source
    return None


@dataclass(frozen=True)
class BuildResult:
    cluster: Cluster
    errors: tuple[ConfigError, ...]


def read_cluster(
    paths: Sequence[str],
    *,
    stdin: TextIO | None = None,
    limits: Limits | None = None,
    allow_outside_root: bool = False,
) -> Cluster:
    """Load and build; raise ConfigErrors with every error of both stages."""
    loaded = load_documents(paths, stdin=stdin, limits=limits, allow_outside_root=allow_outside_root)
    built = build_cluster(loaded.documents)
    errors = loaded.errors + built.errors
    if errors:
        raise ConfigErrors(errors)
    return built.cluster


def resolve_fenceposts(max_surge: int | str, max_unavailable: int | str, desired: int) -> tuple[int, int]:
    """Kubernetes' ResolveFenceposts: (surge, unavailable) for ``desired`` pods.

    >>> resolve_fenceposts("25%", "25%", 3)
    (1, 0)
    >>> resolve_fenceposts("10%", 0, 1)
    (1, 0)
    >>> resolve_fenceposts(0, "10%", 5)
    (0, 1)
    """
    surge = _scaled(max_surge, desired, round_up=True)
    unavailable = _scaled(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _scaled(value: int | str, total: int, *, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    percent = float(int(value.removesuffix("%"))) * float(total) / 100
    return math.ceil(percent) if round_up else math.floor(percent)


# ------------------------------------------------------------------ building

_API_GROUPS = {
    "Pod": {""},
    "ReplicationController": {""},
    "Deployment": {"apps", "extensions"},
    "ReplicaSet": {"apps", "extensions"},
    "DaemonSet": {"apps", "extensions"},
    "StatefulSet": {"apps"},
    "Job": {"batch"},
    "CronJob": {"batch"},
    "ConfigMap": {""},
    "Service": {""},
    "Node": {""},
    "HorizontalPodAutoscaler": {"autoscaling"},
}
_WORKLOAD_KINDS = ("Pod", "ReplicationController", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob")
_HOSTNAME = "kubernetes.io/hostname"


def build_cluster(documents: Sequence[Document]) -> BuildResult:
    """The cluster model of ``documents``, and an error for every bad value.

    >>> from kalc_formal.manifests import load_text
    >>> text = "apiVersion: v1\\nkind: Pod\\nmetadata: {name: web}\\nspec: {dnsPolicy: Default}\\n"
    >>> cluster = build_cluster(load_text(text).documents).cluster
    >>> [(w.name, w.namespace, w.replicas, w.dns.policy.value) for w in cluster.workloads]
    [('web', 'default', 1, 'Default')]
    """
    builder = _Builder()
    for document in documents:
        builder.add(document)
    return builder.finish()


class _Reader:
    """Typed access to one document's fields; errors collect in ``errors``."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.errors: list[ConfigError] = []

    def get(self, *path: str | int) -> Any:
        data: Any = self.document.data
        for step in path:
            if isinstance(data, dict) and isinstance(step, str):
                data = data.get(step)
            elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
                data = data[step]
            else:
                return None
        return data

    def span(self, *path: str | int) -> Span:
        return self.document.span_at(*path)

    def fail(self, message: str, *path: str | int) -> None:
        self.errors.append(self.document.error(message, *path))

    def typed(self, expected: type | tuple[type, ...], what: str, *path: str | int) -> Any:
        """The value at ``path`` if it is ``expected`` (bools are not ints), else None."""
        value = self.get(*path)
        if value is None:
            return None
        wanted = expected if isinstance(expected, tuple) else (expected,)
        if isinstance(value, bool) and bool not in wanted:
            value_ok = False
        else:
            value_ok = isinstance(value, wanted)
        if not value_ok:
            self.fail(f"{_dotted(path)} must be {what}, not {_describe(value)}", *path)
            return None
        return value

    def count(self, what: str, *path: str | int, default: int = 1) -> tuple[int, bool]:
        value = self.typed(int, "an integer", *path)
        if value is None:
            return default, self.get(*path) is None
        if value < 0:
            self.fail(f"{_dotted(path)} must not be negative ({what})", *path)
        return value, False

    def strings(self, *path: str | int) -> dict[str, str]:
        value = self.typed(dict, "a mapping of strings", *path)
        if value is None:
            return {}
        result: dict[str, str] = {}
        for key, item in value.items():
            if isinstance(item, str):
                result[key] = item
            else:
                self.fail(f"{_dotted((*path, key))} must be a string, not {_describe(item)}", *path, key)
        return result

    def text_value(self, what: str, value: str, *path: str | int) -> None:
        """An error for a string that is not ``what``, worded for placeholders."""
        found = find_placeholders(value, STRICT)
        if found:
            self.fail(f"{_dotted(path)}: {template_message(found)}", *path)
        else:
            self.fail(f"{_dotted(path)} must be {what}, not {value!r}", *path)


def _dotted(path: Iterable[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _describe(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return f"{names.get(type(value), type(value).__name__)} ({json.dumps(value)[:40] if not isinstance(value, dict | list) else '...'})"


def _pod_path(kind: str) -> tuple[str, ...]:
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_SEARCH = re.compile(r"\.|[a-z0-9_](?:[-a-z0-9_]*[a-z0-9_])?(?:\.[a-z0-9_](?:[-a-z0-9_]*[a-z0-9_])?)*\.?")


class _Builder:
    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self.workloads: list[tuple[Workload, _Reader]] = []
        self.configmaps: dict[tuple[str, str], _Reader] = {}
        self.services: list[tuple[str, _Reader]] = []
        self.hpas: list[HorizontalPodAutoscaler] = []
        self.nodes: list[Node] = []
        self.ignored: Counter[str] = Counter()
        self.defaulted_namespaces: list[Span] = []

    def add(self, document: Document) -> None:
        kind = document.kind
        groups = _API_GROUPS.get(kind)
        group = document.api_version.split("/")[0] if "/" in document.api_version else ""
        if groups is None:
            self.ignored[kind or "(no kind)"] += 1
        elif not document.api_version:
            self.errors.append(document.error(f"apiVersion is missing for this {kind}", "kind"))
        elif group not in groups:
            self.ignored[f"{kind} ({document.api_version})"] += 1
        elif not document.name:
            message = f"metadata.name is missing for this {kind} (a partial object, to be completed by a template or an operator?)"
            self.errors.append(document.error(message, "metadata"))
        else:
            self._add_typed(_Reader(document), kind)

    def _add_typed(self, reader: _Reader, kind: str) -> None:
        namespace = self._namespace(reader.document)
        if kind in _WORKLOAD_KINDS:
            workload = _workload(reader, namespace)
            if self.collect(reader):
                self.workloads.append((workload, reader))
        elif kind == "ConfigMap":
            self.configmaps[(namespace, reader.document.name)] = reader
        elif kind == "Service":
            self.services.append((namespace, reader))
        elif kind == "HorizontalPodAutoscaler":
            hpa = _hpa(reader, namespace)
            if self.collect(reader) and hpa is not None:
                self.hpas.append(hpa)
        else:
            node = _node(reader)
            if self.collect(reader):
                self.nodes.append(node)

    def collect(self, reader: _Reader) -> bool:
        """Move the reader's errors here; True if it had none."""
        clean = not reader.errors
        self.errors.extend(reader.errors)
        reader.errors.clear()
        return clean

    def _namespace(self, document: Document) -> str:
        if document.namespace is None:
            self.defaulted_namespaces.append(document.span)
            return "default"
        return document.namespace

    def finish(self) -> BuildResult:
        present = {(w.kind, w.namespace, w.name) for w, _ in self.workloads}
        top = [(w, r) for w, r in self.workloads if not _owner_present(w, present)]
        owned = tuple(w for w, _ in self.workloads if _owner_present(w, present))
        corefiles = self._corefile_configmaps(top)
        servers: list[DnsServer] = []
        node_local: list[NodeLocalDns] = []
        for workload, reader in top:
            server = _dns_server(reader, workload, corefiles)
            local = _node_local(reader, workload, corefiles)
            if self.collect(reader):
                servers += [server] if server else []
                node_local += [local] if local else []
        scalers, params = self._proportional(top)
        services = self._dns_services(servers)
        used = set(corefiles) | {(p.namespace, p.configmap) for p in params}
        self.ignored["ConfigMap"] += sum(1 for key in self.configmaps if key not in used)
        self.ignored["Service"] += len(self.services) - len(services)
        cluster = Cluster(
            workloads=tuple(w for w, _ in top),
            owned_workloads=owned,
            dns_servers=tuple(servers),
            dns_services=tuple(services),
            corefile_configmaps=tuple(corefiles.values()),
            node_local_dns=tuple(node_local),
            horizontal_autoscalers=tuple(self.hpas),
            proportional_autoscalers=tuple(scalers),
            autoscaler_params=tuple(params),
            nodes=tuple(self.nodes),
            ignored={k: v for k, v in sorted(self.ignored.items()) if v},
            notes=tuple(self._notes(owned)),
        )
        return BuildResult(cluster, tuple(self.errors))

    def _corefile_configmaps(self, top: list[tuple[Workload, _Reader]]) -> dict[tuple[str, str], CorefileConfigMap]:
        node_local_maps = {
            (w.namespace, volume.value)
            for w, r in top
            if _has_image(w, _is_node_cache) and (volume := _configmap_volume(r, w)) is not None
        }
        found: dict[tuple[str, str], CorefileConfigMap] = {}
        for key, reader in self.configmaps.items():
            corefile = _corefile_configmap(reader, key, key in node_local_maps)
            if self.collect(reader) and corefile is not None:
                found[key] = corefile
        return found

    def _proportional(self, top: list[tuple[Workload, _Reader]]) -> tuple[list[ProportionalAutoscaler], list[AutoscalerParams]]:
        scalers: list[ProportionalAutoscaler] = []
        for workload, reader in top:
            if _has_image(workload, _is_proportional_autoscaler):
                scaler = _proportional_autoscaler(reader, workload)
                if self.collect(reader) and scaler is not None:
                    scalers.append(scaler)
        referenced = {(s.namespace, s.configmap) for s in scalers}
        params: list[AutoscalerParams] = []
        for key, reader in self.configmaps.items():
            data = reader.get("data")
            if key in referenced or (isinstance(data, dict) and set(data) in ({"linear"}, {"ladder"})):
                found = _configmap_params(reader, key)
                if self.collect(reader) and found is not None:
                    params.append(found)
        by_key = {(p.namespace, p.configmap): p for p in params}
        return [_with_params(s, by_key) for s in scalers], params

    def _dns_services(self, servers: list[DnsServer]) -> list[DnsService]:
        services = []
        for namespace, reader in self.services:
            selector = reader.strings("spec", "selector")
            selects_server = bool(selector) and any(
                s.workload.namespace == namespace and selector.items() <= s.workload.labels.items() for s in servers
            )
            if reader.document.name in ("kube-dns", "coredns") or selects_server:
                service = _dns_service(reader, namespace, selector)
                if self.collect(reader):
                    services.append(service)
            reader.errors.clear()
        return services

    def _notes(self, owned: tuple[Workload, ...]) -> list[Note]:
        notes = []
        if self.defaulted_namespaces:
            count = len(self.defaulted_namespaces)
            message = f"{count} object(s) have no metadata.namespace and are taken to be in namespace 'default'"
            notes.append(Note(message, self.defaulted_namespaces[0]))
        if owned:
            first = owned[0]
            message = f"{len(owned)} workload(s) are counted through an owner that is also in the input (first: {first.kind} {first.name})"
            notes.append(Note(message, first.span))
        return notes


def _owner_present(workload: Workload, present: set[tuple[str, str, str]]) -> bool:
    """Whether the workload's controller (or that one's controller) is in the input.

    A ReplicaSet made by a Deployment is named ``<deployment>-<pod-template-hash>``
    and a Job made by a CronJob ``<cronjob>-<number>``, so a Pod whose
    ReplicaSet or Job is missing is still traced to the Deployment or CronJob.
    """
    if workload.owner is None:
        return False
    kind, name = workload.owner
    if (kind, workload.namespace, name) in present:
        return True
    pod_hash = workload.labels.get("pod-template-hash")
    if kind == "ReplicaSet" and pod_hash and name.endswith("-" + pod_hash):
        return ("Deployment", workload.namespace, name[: -len(pod_hash) - 1]) in present
    job = re.fullmatch(r"(.+)-\d+", name)
    return kind == "Job" and job is not None and ("CronJob", workload.namespace, job.group(1)) in present


# ------------------------------------------------------------------ workloads and pod DNS


def _workload(reader: _Reader, namespace: str) -> Workload:
    document = reader.document
    kind = document.kind
    pod = _pod_path(kind)
    replicas, replicas_path, defaulted = _replicas(reader, kind)
    labels_path = ("metadata", "labels") if kind == "Pod" else (*pod[:-1], "metadata", "labels")
    return Workload(
        kind=kind,
        name=document.name,
        namespace=namespace,
        namespace_defaulted=document.namespace is None,
        replicas=replicas,
        per_node=kind == "DaemonSet",
        replicas_span=reader.span(*replicas_path),
        replicas_defaulted=defaulted,
        labels=reader.strings(*labels_path),
        dns=_pod_dns(reader, pod),
        images=_images(reader, pod),
        owner=_owner(reader),
        span=document.span,
        api_version=document.api_version,
    )


def _replicas(reader: _Reader, kind: str) -> tuple[int | None, tuple[str, ...], bool]:
    if kind == "DaemonSet":
        return None, ("spec",), False
    if kind == "Pod":
        return 1, ("spec",), False
    path = {"Job": ("spec", "parallelism"), "CronJob": ("spec", "jobTemplate", "spec", "parallelism")}.get(kind, ("spec", "replicas"))
    what = "parallelism" if kind in ("Job", "CronJob") else "replicas"
    value, defaulted = reader.count(what, *path)
    return value, path, defaulted


def _pod_dns(reader: _Reader, pod: tuple[str, ...]) -> PodDns:
    policy = reader.typed(str, "a string", *pod, "dnsPolicy")
    defaulted = reader.get(*pod, "dnsPolicy") is None
    if policy is not None and policy not in DNS_POLICIES:
        reader.fail(f"dnsPolicy must be one of {', '.join(DNS_POLICIES)}, not {policy!r}", *pod, "dnsPolicy")
    host_network = reader.typed(bool, "true or false", *pod, "hostNetwork")
    config = _dns_config(reader, (*pod, "dnsConfig"))
    if policy == "None" and (config is None or not config.nameservers):
        reader.fail("dnsPolicy None needs dnsConfig with at least one nameserver", *pod, "dnsPolicy")
    return PodDns(
        policy=Located(policy or "ClusterFirst", reader.span(*pod, "dnsPolicy")),
        policy_defaulted=defaulted,
        host_network=Located(bool(host_network), reader.span(*pod, "hostNetwork")),
        config=config,
    )


def _dns_config(reader: _Reader, path: tuple[str, ...]) -> DnsConfig | None:
    if reader.typed(dict, "a mapping", *path) is None:
        return None
    nameservers = _string_list(reader, (*path, "nameservers"), "an IP address", _is_ip)
    if len(nameservers) > MAX_NAMESERVERS:
        reader.fail(f"dnsConfig.nameservers must not have more than {MAX_NAMESERVERS} entries", *path, "nameservers")
    searches = _string_list(reader, (*path, "searches"), "a DNS domain", lambda s: len(s) <= 253 and bool(_SEARCH.fullmatch(s)))
    if len(searches) > MAX_SEARCHES:
        reader.fail(f"dnsConfig.searches must not have more than {MAX_SEARCHES} entries", *path, "searches")
    if len(" ".join(s.value for s in searches)) > MAX_SEARCH_CHARS:
        reader.fail(f"dnsConfig.searches must not be longer than {MAX_SEARCH_CHARS} characters in all", *path, "searches")
    options = []
    for index, item in enumerate(reader.typed(list, "a list", *path, "options") or []):
        name = reader.typed(str, "a string", *path, "options", index, "name")
        value = reader.typed(str, "a string", *path, "options", index, "value")
        if not isinstance(item, dict) or not name:
            reader.fail("each dnsConfig option needs a name", *path, "options", index)
            continue
        options.append(DnsOption(name, value, reader.span(*path, "options", index)))
    return DnsConfig(tuple(nameservers), tuple(searches), tuple(options), reader.span(*path))


def _string_list(
    reader: _Reader, path: tuple[str | int, ...], what: str, valid: Callable[[str], bool]
) -> list[Located[str]]:
    result = []
    for index, _ in enumerate(reader.typed(list, "a list", *path) or []):
        value = reader.typed(str, what, *path, index)
        if value is None:
            continue
        if not valid(value):
            reader.text_value(what, value, *path, index)
            continue
        result.append(Located(value, reader.span(*path, index)))
    return result


def _images(reader: _Reader, pod: tuple[str, ...]) -> tuple[Located[str], ...]:
    images = []
    for index, container in enumerate(reader.typed(list, "a list", *pod, "containers") or []):
        if not isinstance(container, dict):
            reader.fail("each container must be a mapping", *pod, "containers", index)
            continue
        image = reader.typed(str, "a string", *pod, "containers", index, "image")
        if image:
            images.append(Located(image, reader.span(*pod, "containers", index, "image")))
    return tuple(images)


def _owner(reader: _Reader) -> tuple[str, str] | None:
    for reference in reader.get("metadata", "ownerReferences") or []:
        if isinstance(reference, dict) and reference.get("controller") is True:
            kind, name = reference.get("kind"), reference.get("name")
            if isinstance(kind, str) and isinstance(name, str):
                return kind, name
    return None


# ------------------------------------------------------------------ images


def _image_parts(image: str) -> tuple[str, str | None]:
    """(repository, tag) of an image reference; the digest is dropped."""
    reference = image.split("@", 1)[0]
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, None


def _last_component(image: str) -> str:
    return _image_parts(image)[0].rsplit("/", 1)[-1]


def _is_coredns(image: str) -> bool:
    last = _last_component(image)
    return last == "coredns" or last.endswith("-coredns")


def _is_kube_dns(image: str) -> bool:
    return bool(re.fullmatch(r"(k8s-dns-)?kube-?dns(-[a-z0-9]+)?", _last_component(image)))


def _is_node_cache(image: str) -> bool:
    return _last_component(image).startswith("k8s-dns-node-cache")


def _is_proportional_autoscaler(image: str) -> bool:
    return _last_component(image).startswith("cluster-proportional-autoscaler")


def _has_image(workload: Workload, test: Callable[[str], bool]) -> bool:
    return any(test(image.value) for image in workload.images)


def coredns_version(image: str) -> str | None:
    """The CoreDNS version in an image tag: ``v1.11.1`` -> ``"1.11.1"``; else None."""
    tag = _image_parts(image)[1]
    match = re.match(r"v?(\d+\.\d+\.\d+)(?![\d.])", tag or "")
    return match.group(1) if match else None


# ------------------------------------------------------------------ DNS servers


def _dns_server(reader: _Reader, workload: Workload, corefiles: Mapping[tuple[str, str], CorefileConfigMap]) -> DnsServer | None:
    if workload.kind in ("Job", "CronJob") or _has_image(workload, _is_node_cache):
        return None
    coredns = next((i for i in workload.images if _is_coredns(i.value)), None)
    kube_dns = next((i for i in workload.images if _is_kube_dns(i.value)), None)
    if coredns is None and kube_dns is None and workload.labels.get("k8s-app") != "kube-dns":
        return None
    software = "coredns" if coredns else "kube-dns" if kube_dns else "unknown"
    image = coredns or kube_dns
    configmap = _configmap_volume(reader, workload)
    strategy, rolling = _strategy(reader, workload)
    return DnsServer(
        workload=workload,
        software=software,
        image=image,
        version=coredns_version(coredns.value) if coredns else None,
        strategy=strategy,
        rolling_update=rolling,
        anti_affinity=_anti_affinity(reader, workload),
        hostname_spread=_hostname_spread(reader, workload),
        corefile_configmap=configmap,
        corefile=corefiles.get((workload.namespace, configmap.value)) if configmap else None,
    )


def _configmap_volume(reader: _Reader, workload: Workload) -> Located[str] | None:
    """The ConfigMap volume that holds the Corefile (items with key Corefile, else the only one)."""
    pod = _pod_path(workload.kind)
    candidates = []
    for index, volume in enumerate(reader.get(*pod, "volumes") or []):
        source = volume.get("configMap") if isinstance(volume, dict) else None
        name = source.get("name") if isinstance(source, dict) else None
        if not isinstance(name, str):
            continue
        items = source.get("items") if isinstance(source, dict) else None
        keys = {i.get("key") for i in items if isinstance(i, dict)} if isinstance(items, list) else set()
        located = Located(name, reader.span(*pod, "volumes", index, "configMap", "name"))
        if "Corefile" in keys:
            return located
        candidates.append(located)
    return candidates[0] if len(candidates) == 1 else None


def _strategy(reader: _Reader, workload: Workload) -> tuple[str, RollingUpdate | None]:
    key = "updateStrategy" if workload.kind in ("DaemonSet", "StatefulSet") else "strategy"
    kind = reader.typed(str, "a string", "spec", key, "type") or "RollingUpdate"
    if kind != "RollingUpdate" or workload.kind not in ("Deployment", "DaemonSet"):
        return kind, None
    defaults: tuple[int | str, int | str] = ("25%", "25%") if workload.kind == "Deployment" else (0, 1)
    path = ("spec", key, "rollingUpdate")
    surge = _int_or_percent(reader, (*path, "maxSurge"), defaults[0])
    unavailable = _int_or_percent(reader, (*path, "maxUnavailable"), defaults[1])
    if surge is None or unavailable is None:
        return kind, None
    if _scaled(surge, 100, round_up=True) == 0 and _scaled(unavailable, 100, round_up=False) == 0:
        reader.fail("maxUnavailable may not be 0 when maxSurge is 0", *path)
    if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
        reader.fail("maxUnavailable must not be greater than 100%", *path, "maxUnavailable")
    resolved: tuple[int | None, int | None] = (None, None)
    if workload.replicas is not None:
        resolved = resolve_fenceposts(surge, unavailable, workload.replicas)
    return kind, RollingUpdate(surge, unavailable, resolved[0], resolved[1], reader.span(*path))


def _int_or_percent(reader: _Reader, path: tuple[str, ...], default: int | str) -> int | str | None:
    value = reader.get(*path)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+%", value):
        return value
    reader.fail(f"{_dotted(path)} must be a non-negative integer or a percentage like '25%', not {_describe(value)}", *path)
    return None


def _selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels, matchExpressions) matches ``labels``."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict) or any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, dict) or not _expression_matches(expression, labels):
            return False
    return bool(match_labels) or bool(selector.get("matchExpressions"))


def _expression_matches(expression: dict[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
    if not isinstance(key, str):
        return False
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def _anti_affinity(reader: _Reader, workload: Workload) -> str:
    anti = (*_pod_path(workload.kind), "affinity", "podAntiAffinity")
    for term in reader.get(*anti, "requiredDuringSchedulingIgnoredDuringExecution") or []:
        if isinstance(term, dict) and term.get("topologyKey") == _HOSTNAME and _selects(term.get("labelSelector"), workload.labels):
            return "required"
    for weighted in reader.get(*anti, "preferredDuringSchedulingIgnoredDuringExecution") or []:
        term = weighted.get("podAffinityTerm") if isinstance(weighted, dict) else None
        if isinstance(term, dict) and term.get("topologyKey") == _HOSTNAME and _selects(term.get("labelSelector"), workload.labels):
            return "preferred"
    return "none"


def _hostname_spread(reader: _Reader, workload: Workload) -> str:
    found = "none"
    for constraint in reader.get(*_pod_path(workload.kind), "topologySpreadConstraints") or []:
        if not isinstance(constraint, dict) or constraint.get("topologyKey") != _HOSTNAME:
            continue
        if not _selects(constraint.get("labelSelector"), workload.labels):
            continue
        if constraint.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule":
            return "required"
        found = "preferred"
    return found


# ------------------------------------------------------------------ ConfigMaps, Services, NodeLocal DNS


def _corefile_configmap(reader: _Reader, key: tuple[str, str], node_local: bool) -> CorefileConfigMap | None:
    if reader.get("data", "Corefile") is None:
        return None
    if reader.typed(str, "a string (the Corefile text)", "data", "Corefile") is None:
        return None
    source = reader.document.embedded_source("data", "Corefile")
    assert source is not None
    role = "node-local-dns" if node_local or key[1] in ("node-local-dns", "nodelocaldns") else "coredns"
    return CorefileConfigMap(key[1], key[0], role, source, reader.document.span)


def _dns_service(reader: _Reader, namespace: str, selector: dict[str, str]) -> DnsService:
    cluster_ip = None
    value = reader.typed(str, "a string", "spec", "clusterIP")
    if value is not None and value not in ("", "None") and not _is_ip(value):
        reader.text_value("an IP address, '' or 'None'", value, "spec", "clusterIP")
    elif value:
        cluster_ip = Located(value, reader.span("spec", "clusterIP"))
    cluster_ips = _string_list(reader, ("spec", "clusterIPs"), "an IP address", lambda s: _is_ip(s) or s == "None")
    ports = []
    for index, port in enumerate(reader.typed(list, "a list", "spec", "ports") or []):
        number = reader.typed(int, "an integer", "spec", "ports", index, "port")
        if not isinstance(port, dict) or number is None:
            reader.fail("each Service port needs a port number", "spec", "ports", index)
            continue
        name = reader.typed(str, "a string", "spec", "ports", index, "name")
        protocol = reader.typed(str, "a string", "spec", "ports", index, "protocol") or "TCP"
        ports.append(ServicePort(name, number, protocol, reader.span("spec", "ports", index)))
    return DnsService(reader.document.name, namespace, cluster_ip, tuple(cluster_ips), tuple(ports), selector, reader.document.span)


def _node_local(reader: _Reader, workload: Workload, corefiles: Mapping[tuple[str, str], CorefileConfigMap]) -> NodeLocalDns | None:
    image = next((i for i in workload.images if _is_node_cache(i.value)), None)
    if image is None:
        return None
    pod = _pod_path(workload.kind)
    index = next(i for i, c in enumerate(reader.get(*pod, "containers")) if isinstance(c, dict) and c.get("image") == image.value)
    args, arg_paths = _container_args(reader, (*pod, "containers", index))
    local_ips: list[Located[str]] = []
    local = _flag(args, "localip")
    if local is not None:
        for address in local[1].split(","):
            if _is_ip(address.strip()):
                local_ips.append(Located(address.strip(), reader.span(*arg_paths[local[0]])))
            else:
                reader.text_value("an IP address (in -localip)", address.strip(), *arg_paths[local[0]])
    upstream = _flag(args, "upstreamsvc")
    configmap = _configmap_volume(reader, workload)
    return NodeLocalDns(
        workload=workload,
        image=image,
        local_ips=tuple(local_ips),
        upstream_service=upstream[1] if upstream else None,
        args=tuple(args),
        corefile_configmap=configmap,
        corefile=corefiles.get((workload.namespace, configmap.value)) if configmap else None,
    )


def _container_args(reader: _Reader, container: tuple[str | int, ...]) -> tuple[list[str], list[tuple[str | int, ...]]]:
    """The container's command then args (strings only), with each one's path."""
    args: list[str] = []
    paths: list[tuple[str | int, ...]] = []
    for key in ("command", "args"):
        for index, value in enumerate(reader.typed(list, "a list", *container, key) or []):
            if isinstance(value, str):
                args.append(value)
                paths.append((*container, key, index))
    return args, paths


def _flag(args: Sequence[str], name: str) -> tuple[int, str] | None:
    """(index, value) of a Go-style flag: ``-name v``, ``--name v``, ``-name=v``, ``--name=v``."""
    for index, arg in enumerate(args):
        for prefix in (f"-{name}", f"--{name}"):
            if arg == prefix and index + 1 < len(args):
                return index + 1, args[index + 1]
            if arg.startswith(prefix + "="):
                return index, arg[len(prefix) + 1 :]
    return None


# ------------------------------------------------------------------ autoscalers and nodes


def _hpa(reader: _Reader, namespace: str) -> HorizontalPodAutoscaler | None:
    kind = reader.typed(str, "a string", "spec", "scaleTargetRef", "kind")
    name = reader.typed(str, "a string", "spec", "scaleTargetRef", "name")
    if not kind or not name:
        reader.fail("spec.scaleTargetRef needs a kind and a name", "spec", "scaleTargetRef")
    minimum = reader.typed(int, "an integer", "spec", "minReplicas")
    maximum = reader.typed(int, "an integer", "spec", "maxReplicas")
    if maximum is None:
        reader.fail("spec.maxReplicas is required (at least 1)", "spec")
    elif maximum < 1:
        reader.fail("spec.maxReplicas must be at least 1", "spec", "maxReplicas")
    if minimum is not None and minimum < 0:
        reader.fail("spec.minReplicas must not be negative", "spec", "minReplicas")
    if minimum is not None and maximum is not None and minimum > maximum:
        reader.fail(f"spec.minReplicas ({minimum}) is above spec.maxReplicas ({maximum})", "spec", "minReplicas")
    if not kind or not name or maximum is None:
        return None
    return HorizontalPodAutoscaler(reader.document.name, namespace, kind, name, 1 if minimum is None else minimum, minimum is None, maximum, reader.document.span)


def _node(reader: _Reader) -> Node:
    labels = reader.strings("metadata", "labels")
    zone = labels.get("topology.kubernetes.io/zone") or labels.get("failure-domain.beta.kubernetes.io/zone")
    instance = labels.get("node.kubernetes.io/instance-type") or labels.get("beta.kubernetes.io/instance-type")
    unschedulable = reader.typed(bool, "true or false", "spec", "unschedulable")
    return Node(reader.document.name, labels, zone, instance, bool(unschedulable), _cpu_millis(reader.get("status", "allocatable", "cpu")), reader.document.span)


def _cpu_millis(quantity: object) -> int | None:
    """CPU quantity in millicores ("4", "3920m", "1.5", 2); None for other forms."""
    if isinstance(quantity, int) and not isinstance(quantity, bool):
        return quantity * 1000
    if isinstance(quantity, float):
        return round(quantity * 1000)
    if isinstance(quantity, str) and (match := re.fullmatch(r"(\d+(?:\.\d+)?)(m?)", quantity)):
        number = float(match.group(1))
        return round(number if match.group(2) else number * 1000)
    return None


_TARGET_KINDS = {"deployment": "Deployment", "replicationcontroller": "ReplicationController", "replicaset": "ReplicaSet"}


def _proportional_autoscaler(reader: _Reader, workload: Workload) -> ProportionalAutoscaler | None:
    pod = _pod_path(workload.kind)
    index = next(i for i, c in enumerate(reader.get(*pod, "containers")) if isinstance(c, dict) and _is_proportional_autoscaler(str(c.get("image"))))
    args, paths = _container_args(reader, (*pod, "containers", index))
    namespace_flag = _flag(args, "namespace")
    namespace = namespace_flag[1] if namespace_flag else workload.namespace
    configmap_flag = _flag(args, "configmap")
    targets = _targets(reader, args, paths)
    default = _flag(args, "default-params")
    default_params = None
    if default is not None:
        source = reader.document.embedded_source(*paths[default[0]])
        text = default[1]
        assert source is not None
        offset = len(source.text) - len(text)
        default_params = _parse_params(reader, text, paths[default[0]], source, offset, None, namespace, single=False)
    if targets is None:
        return None
    return ProportionalAutoscaler(workload, namespace, targets, configmap_flag[1] if configmap_flag else None, default_params, None)


def _targets(reader: _Reader, args: Sequence[str], paths: Sequence[tuple[str | int, ...]]) -> tuple[ScaleTarget, ...] | None:
    """The ``--target`` list, checked as the autoscaler checks it (kind/name, case-insensitive)."""
    target = _flag(args, "target")
    if target is None:
        reader.fail("the cluster-proportional-autoscaler needs --target (deployment/NAME, replicationcontroller/NAME or replicaset/NAME)", *_pod_path(reader.document.kind), "containers")
        return None
    found = []
    for part in target[1].split(","):
        kind, _, name = part.strip().partition("/")
        if kind.lower() not in _TARGET_KINDS or not name:
            reader.text_value("deployment/NAME, replicationcontroller/NAME or replicaset/NAME (the autoscaler's --target format)", part.strip(), *paths[target[0]])
            return None
        found.append(ScaleTarget(_TARGET_KINDS[kind.lower()], name.lower()))
    return tuple(found)


def _with_params(scaler: ProportionalAutoscaler, by_key: Mapping[tuple[str, str | None], AutoscalerParams]) -> ProportionalAutoscaler:
    params = by_key.get((scaler.namespace, scaler.configmap)) or scaler.default_params
    return ProportionalAutoscaler(scaler.workload, scaler.namespace, scaler.targets, scaler.configmap, scaler.default_params, params)


def _configmap_params(reader: _Reader, key: tuple[str, str]) -> AutoscalerParams | None:
    data = reader.typed(dict, "a mapping", "data") or {}
    if len(data) != 1 or next(iter(data)) not in ("linear", "ladder"):
        reader.fail("the cluster-proportional-autoscaler expects exactly one data entry, 'linear' or 'ladder'", "data")
        return None
    mode = next(iter(data))
    text = reader.typed(str, "a string (JSON)", "data", mode)
    source = reader.document.embedded_source("data", mode)
    if text is None or source is None:
        return None
    return _parse_params(reader, text, ("data", mode), source, 0, key[1], key[0], single=True, mode=mode)


def _parse_params(
    reader: _Reader,
    text: str,
    path: tuple[str | int, ...],
    source: Source,
    offset: int,
    configmap: str | None,
    namespace: str,
    *,
    single: bool,
    mode: str | None = None,
) -> AutoscalerParams | None:
    """Parameters decoded as the autoscaler decodes them (Go encoding/json rules)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        span = _json_span(source, text, offset, error.pos)
        reader.errors.append(ConfigError(f"not valid JSON: {error.msg}", span, source.line_text(span.line)))
        return None
    if not single:
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("linear", "ladder"):
            reader.fail("--default-params must be a JSON object with one key, 'linear' or 'ladder'", *path)
            return None
        mode = next(iter(value))
        value = value[mode]
    assert mode is not None
    problems: list[tuple[str, str]] = []
    params = _linear(value, problems) if mode == "linear" else _ladder(value, problems)
    for key, message in problems:
        position = text.lower().find(f'"{key.lower()}"')
        span = _json_span(source, text, offset, max(position, 0))
        reader.errors.append(ConfigError(f"{mode} autoscaler parameters: {message}", span, source.line_text(span.line)))
    if params is None or problems:
        return None
    return AutoscalerParams(mode, params, configmap, namespace, reader.span(*path))


def _json_span(source: Source, text: str, offset: int, position: int) -> Span:
    absolute = offset + position
    line = source.text.count("\n", 0, absolute) + 1
    column = absolute - (source.text.rfind("\n", 0, absolute) + 1) + 1
    return source.span(line, column)


def _go_field(value: dict[str, Any], name: str) -> Any:
    if name in value:
        return value[name]
    return next((v for k, v in value.items() if k.lower() == name.lower()), None)


def _go_typed(value: dict[str, Any], name: str, kind: str, problems: list[tuple[str, str]]) -> Any:
    """A field as Go's encoding/json would decode it into ``kind`` (int, float, bool)."""
    item = _go_field(value, name)
    if item is None:
        return {"int": 0, "float": 0.0, "bool": False}[kind]
    ok = {
        "int": isinstance(item, int) and not isinstance(item, bool),
        "float": isinstance(item, int | float) and not isinstance(item, bool),
        "bool": isinstance(item, bool),
    }[kind]
    if not ok:
        problems.append((name, f"{name} must be {'an integer' if kind == 'int' else 'a number' if kind == 'float' else 'true or false'}, not {json.dumps(item)} (the autoscaler fails to decode it)"))
        return None
    return float(item) if kind == "float" else item


def _linear(value: Any, problems: list[tuple[str, str]]) -> LinearParams | None:
    if not isinstance(value, dict):
        problems.append(("linear", "must be a JSON object"))
        return None
    cores = _go_typed(value, "coresPerReplica", "float", problems)
    nodes = _go_typed(value, "nodesPerReplica", "float", problems)
    minimum = _go_typed(value, "min", "int", problems)
    maximum = _go_typed(value, "max", "int", problems)
    prevent = _go_typed(value, "preventSinglePointFailure", "bool", problems)
    include = _go_typed(value, "includeUnschedulableNodes", "bool", problems)
    if problems:
        return None
    if minimum < 0:
        problems.append(("min", f"invalid negative value for min: {minimum}"))
    minimum = minimum or 1
    if maximum != 0 and maximum < minimum:
        problems.append(("max", f"max ({maximum}) must not be below min ({minimum})"))
    if cores == 0 and nodes == 0:
        problems.append(("linear", "give coresPerReplica or nodesPerReplica (greater than 0)"))
    for key, number in (("coresPerReplica", cores), ("nodesPerReplica", nodes)):
        if number < 0:
            problems.append((key, f"invalid negative value for {key}: {number:g}"))
    return LinearParams(cores, nodes, minimum, maximum, prevent, include)


def _ladder(value: Any, problems: list[tuple[str, str]]) -> LadderParams | None:
    if not isinstance(value, dict):
        problems.append(("ladder", "must be a JSON object"))
        return None
    include = _go_typed(value, "includeUnschedulableNodes", "bool", problems)
    steps = [_ladder_steps(value, key, problems) for key in ("coresToReplicas", "nodesToReplicas")]
    if problems or steps[0] is None or steps[1] is None:
        return None
    return LadderParams(steps[0], steps[1], include)


def _ladder_steps(value: dict[str, Any], key: str, problems: list[tuple[str, str]]) -> tuple[tuple[int, int], ...] | None:
    """Entries decode into Go ``[2]int``: short arrays pad with 0, long ones are cut."""
    entries = _go_field(value, key)
    if entries is None:
        return ()
    if not isinstance(entries, list) or not all(isinstance(e, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in e) for e in entries):
        problems.append((key, f"{key} must be a list of [integer, integer] pairs"))
        return None
    steps = [(*e[:2], 0, 0)[:2] for e in entries]
    if any(a < 0 or b < 0 for a, b in steps):
        problems.append((key, f"invalid negative values in {key}"))
    return tuple(sorted((int(a), int(b)) for a, b in steps))
