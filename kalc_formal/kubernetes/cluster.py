"""Typed config model stage: the DNS-relevant resources of a cluster, from manifest documents.

:func:`build_cluster` reads workloads (their pod DNS fields and replica
counts), the CoreDNS (or kube-dns) servers, their Service and Corefile
ConfigMaps, NodeLocal DNSCache, autoscalers and Nodes. Bad values give
ConfigErrors at the field, all collected; a resource with a bad value is left
out. Every other document is counted by kind in ``Cluster.ignored``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.inputs.files import cyclic_gc_paused
from kalc_formal.kubernetes.autoscaling import (
    AutoscalerParams,
    LadderParams,
    LinearParams,
    ScaleTarget,
    parse_params,
    read_configmap_params,
    read_targets,
)
from kalc_formal.kubernetes.manifests import (
    WORKLOAD_KINDS,
    Document,
    Limits,
    load_documents,
)
from kalc_formal.kubernetes.placement import (
    Placement,
    cpu_millis,
    memory_bytes,
    read_placement,
)
from kalc_formal.kubernetes.podspec import (
    DNS_POLICIES,
    DnsConfig,
    DnsOption,
    FieldReader,
    Located,
    PodDns,
    container_args,
    go_flag,
    image_parts,
    is_ip,
    pod_path,
    read_images,
    read_owner,
    read_pod_dns,
    read_string_list,
)
from kalc_formal.kubernetes.rollout import (
    RollingUpdate,
    read_anti_affinity,
    read_hostname_spread,
    read_strategy,
    resolve_fenceposts,
)
from kalc_formal.source import Source, Span, shown

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
    "coredns_version",
    "read_cluster",
    "resolve_fenceposts",
]


@dataclass(frozen=True, slots=True)
class Note:
    """Something the reader assumed or decided that the user should know."""

    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Workload:
    """Pods from one Pod or controller template, with their DNS settings.

    ``replicas`` is the pod count the manifest asks for: ``spec.replicas``
    (default 1), a Job's ``parallelism`` (default 1), a CronJob's job template
    ``parallelism``, 1 for a Pod; ``None`` with ``per_node`` for a DaemonSet,
    which runs one pod per eligible node. ``placement``: the hard scheduling rules
    that bound how many of its pods share a node.
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
    placement: Placement = field(default_factory=Placement)


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
    """One Service port; ``protocol`` defaults to TCP as in the API."""

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


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?-?")


def _bad_names(document: Document) -> tuple[str, str] | None:
    """The metadata field and message when the object's namespace is not an RFC 1123
    label or its name not an RFC 1123 subdomain (the API server refuses both)."""
    namespace = document.namespace
    if namespace is not None and namespace != "" and not _DNS_LABEL.fullmatch(namespace):
        return "namespace", (f"metadata.namespace '{shown(namespace)}' is not a Kubernetes namespace "
                             "name (RFC 1123 label: lower-case letters, digits and -, at most 63)")
    name = document.name
    if len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        return "name", (f"metadata.name '{shown(name)}' is not a Kubernetes object name "
                        "(RFC 1123 subdomain: lower-case letters, digits, - and ., at most 253)")
    return None


@dataclass(frozen=True)
class MountedFile:
    """A file the CoreDNS container sees: ``directory``/``name``, from a ConfigMap key."""

    directory: str
    name: str
    source: Source


def choose_dns_service(services: Sequence[DnsService]) -> tuple[DnsService | None, str]:
    """The cluster DNS Service among those in front of the DNS servers, and why it was
    chosen: the one named kube-dns (the name the kubelet's clusterDNS is set from), else
    one with port 53; ties are broken by namespace and name, never by file order. A
    Service without a cluster IP, or without port 53 (a metrics Service), is not chosen."""
    with_ip = [s for s in services if s.cluster_ip is not None]
    by_name = sorted((s for s in with_ip if s.name == "kube-dns"),
                     key=lambda s: (s.namespace != "kube-system", s.namespace))
    if by_name:
        return by_name[0], f"Service {by_name[0].namespace}/kube-dns, chosen by its name"
    on_53 = sorted((s for s in with_ip if any(p.port == 53 for p in s.ports)),
                   key=lambda s: (s.namespace != "kube-system", s.namespace, s.name))
    if on_53:
        chosen = on_53[0]
        why = f"Service {chosen.namespace}/{chosen.name}, chosen as the one with port 53"
        if len(on_53) > 1:
            others = ", ".join(f"{s.namespace}/{s.name}" for s in on_53[1:])
            why += f" (first by namespace and name; also on port 53: {others})"
        return chosen, why
    return None, ""


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
    """An HPA (autoscaling/v1, v2, v2beta*): its target and replica bounds."""

    name: str
    namespace: str
    target_kind: str
    target_name: str
    min_replicas: int
    min_defaulted: bool
    max_replicas: int
    span: Span


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
    """A Node object: zone and instance type from its well-known labels; allocatable
    cpu, memory and pods (None where the object does not say)."""

    name: str
    labels: Mapping[str, str] = field(hash=False)
    zone: str | None
    instance_type: str | None
    unschedulable: bool
    allocatable_cpu_millis: int | None
    span: Span
    allocatable_memory_bytes: int | None = None
    allocatable_pods: int | None = None


@dataclass(frozen=True)
class Cluster:
    """What the manifests say about a cluster's DNS.

    ``workloads`` are the pod sources to count; ``owned_workloads`` are those
    whose controller is also in the input (a ReplicaSet of a Deployment, its
    Pods, a CronJob's Jobs), kept apart so that no pod is counted twice.
    ``ignored`` counts, by kind, the documents not relevant to DNS load
    (ConfigMaps and Services that are not DNS ones included), and ``notes``
    says what was assumed (such as the default namespace).
    """

    workloads: tuple[Workload, ...] = ()
    owned_workloads: tuple[Workload, ...] = ()
    dns_servers: tuple[DnsServer, ...] = ()
    dns_services: tuple[DnsService, ...] = ()
    corefile_configmaps: tuple[CorefileConfigMap, ...] = ()
    node_local_dns: tuple[NodeLocalDns, ...] = ()
    coredns_mounted_files: tuple[MountedFile, ...] = ()
    """Files the CoreDNS pod sees from ConfigMaps in the input, through its volume mounts
    (what a Corefile's ``import /etc/coredns/custom/*.override`` reads)."""
    horizontal_autoscalers: tuple[HorizontalPodAutoscaler, ...] = ()
    proportional_autoscalers: tuple[ProportionalAutoscaler, ...] = ()
    autoscaler_params: tuple[AutoscalerParams, ...] = ()
    nodes: tuple[Node, ...] = ()
    ignored: Mapping[str, int] = field(default_factory=dict, hash=False)
    notes: tuple[Note, ...] = ()

    @property
    def corefile_source(self) -> Source | None:
        """The CoreDNS Corefile: the one the DNS server mounts, else the only one.

        None when there is none, or when the choice is ambiguous (servers that
        mount different ConfigMaps, or several Corefile ConfigMaps and no server).
        """
        return _pick_corefile(
            [s.corefile for s in self.dns_servers], self.corefile_configmaps, "coredns"
        )

    @property
    def node_local_corefile_source(self) -> Source | None:
        """The NodeLocal DNSCache Corefile, chosen like :attr:`corefile_source`."""
        return _pick_corefile(
            [n.corefile for n in self.node_local_dns],
            self.corefile_configmaps,
            "node-local-dns",
        )

    @property
    def node_count(self) -> int | None:
        """The number of Node objects, or None when the input has none."""
        return len(self.nodes) if self.nodes else None


def _pick_corefile(
    mounted: Sequence[CorefileConfigMap | None],
    all_maps: Sequence[CorefileConfigMap],
    role: str,
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
    """Load and build; raise ConfigErrors with every error of both stages.

    The documents (and their YAML nodes) are let go before the cyclic GC runs again:
    its first collection then walks only what the cluster keeps.
    """
    with cyclic_gc_paused():
        loaded = load_documents(
            paths, stdin=stdin, limits=limits, allow_outside_root=allow_outside_root
        )
        built = build_cluster(loaded.documents)
        errors = loaded.errors + built.errors
        cluster = built.cluster
        del loaded, built
    if errors:
        raise ConfigErrors(errors)
    return cluster


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


def build_cluster(documents: Sequence[Document]) -> BuildResult:
    """The cluster model of ``documents``, and an error for every bad value.

    >>> from kalc_formal.kubernetes.manifests import load_text
    >>> text = "apiVersion: v1\\nkind: Pod\\nmetadata: {name: web}\\nspec: {dnsPolicy: Default}\\n"
    >>> cluster = build_cluster(load_text(text).documents).cluster
    >>> [(w.name, w.namespace, w.replicas, w.dns.policy.value) for w in cluster.workloads]
    [('web', 'default', 1, 'Default')]
    """
    builder = _Builder()
    for document in documents:
        builder.add(document)
    return builder.finish()


class _Builder:
    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self.workloads: list[tuple[Workload, FieldReader]] = []
        self.configmaps: dict[tuple[str, str], FieldReader] = {}
        self.services: list[tuple[str, FieldReader]] = []
        self.hpas: list[HorizontalPodAutoscaler] = []
        self.nodes: list[Node] = []
        self.ignored: Counter[str] = Counter()
        self.defaulted_namespaces: list[Span] = []
        self.seen: dict[tuple[str, str, str], Span] = {}

    def add(self, document: Document) -> None:
        kind = document.kind
        groups = _API_GROUPS.get(kind)
        group = (
            document.api_version.split("/")[0] if "/" in document.api_version else ""
        )
        if groups is None:
            self.ignored[kind or "(no kind)"] += 1
        elif not document.api_version:
            self.errors.append(
                document.error(f"apiVersion is missing for this {kind}", "kind")
            )
        elif group not in groups:
            self.ignored[f"{kind} ({document.api_version})"] += 1
        elif not document.name:
            message = f"metadata.name is missing for this {kind} (a partial object, to be completed by a template or an operator?)"
            self.errors.append(document.error(message, "metadata"))
        elif (problem := _bad_names(document)) is not None:
            self.errors.append(document.error(problem[1], "metadata", problem[0]))
        else:
            self._add_typed(FieldReader(document), kind)

    def _add_typed(self, reader: FieldReader, kind: str) -> None:
        namespace = self._namespace(reader.document)
        key = (kind, "" if kind == "Node" else namespace, reader.document.name)
        if key in self.seen:
            first = self.seen[key]
            message = (
                f"{kind} {reader.document.name} is defined twice (first at {first}); "
                "kubectl would keep only the last one"
            )
            self.errors.append(reader.document.error(message, "metadata", "name"))
            return
        self.seen[key] = reader.document.span
        if kind in WORKLOAD_KINDS:
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

    def collect(self, reader: FieldReader) -> bool:
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
        self._mounted_without_corefile(servers)
        scalers, params = self._proportional(top)
        services = self._dns_services(servers)
        used = set(corefiles) | {(p.namespace, p.configmap) for p in params}
        self.ignored["ConfigMap"] += sum(
            1 for key in self.configmaps if key not in used
        )
        self.ignored["Service"] += len(self.services) - len(services)
        cluster = Cluster(
            workloads=tuple(w for w, _ in top),
            owned_workloads=owned,
            dns_servers=tuple(servers),
            dns_services=tuple(services),
            corefile_configmaps=tuple(corefiles.values()),
            node_local_dns=tuple(node_local),
            coredns_mounted_files=self._coredns_mounted_files(top, servers),
            horizontal_autoscalers=tuple(self.hpas),
            proportional_autoscalers=tuple(scalers),
            autoscaler_params=tuple(params),
            nodes=tuple(self.nodes),
            ignored={k: v for k, v in sorted(self.ignored.items()) if v},
            notes=tuple(self._notes(owned)),
        )
        return BuildResult(cluster, tuple(self.errors))

    def _corefile_configmaps(
        self, top: list[tuple[Workload, FieldReader]]
    ) -> dict[tuple[str, str], CorefileConfigMap]:
        node_local_maps = {
            (w.namespace, volume.value)
            for w, r in top
            if _has_image(w, _is_node_cache)
            and (volume := _configmap_volume(r, w)) is not None
        }
        found: dict[tuple[str, str], CorefileConfigMap] = {}
        for key, reader in self.configmaps.items():
            corefile = _corefile_configmap(reader, key, key in node_local_maps)
            if self.collect(reader) and corefile is not None:
                found[key] = corefile
        return found

    def _coredns_mounted_files(
        self, top: list[tuple[Workload, FieldReader]], servers: list[DnsServer]
    ) -> tuple[MountedFile, ...]:
        coredns = [s for s in servers if s.software == "coredns"]
        if not coredns:
            return ()
        workload = coredns[0].workload
        reader = next(r for w, r in top if w is workload)
        pod = pod_path(workload.kind)
        volumes: dict[str, tuple[str, list[Any] | None]] = {}
        for volume in reader.items(*pod, "volumes"):
            source = volume.get("configMap") if isinstance(volume, dict) else None
            if isinstance(source, dict) and isinstance(volume.get("name"), str) \
                    and isinstance(source.get("name"), str):
                items = source.get("items")
                volumes[volume["name"]] = (source["name"], items if isinstance(items, list) else None)
        files: list[MountedFile] = []
        for container in reader.items(*pod, "containers"):
            mounts = container.get("volumeMounts") if isinstance(container, dict) else None
            for mount in mounts if isinstance(mounts, list) else []:
                if not isinstance(mount, dict) or mount.get("subPath"):
                    continue
                volume_entry = volumes.get(str(mount.get("name")))
                directory = mount.get("mountPath")
                if volume_entry is None or not isinstance(directory, str):
                    continue
                configmap = self.configmaps.get((workload.namespace, volume_entry[0]))
                data = configmap.get("data") if configmap is not None else None
                if configmap is None or not isinstance(data, dict):
                    continue
                items = volume_entry[1]
                pairs = [(str(i.get("key")), str(i.get("path"))) for i in items if isinstance(i, dict)] \
                    if items is not None else [(str(k), str(k)) for k in data]
                for key, name in pairs:
                    source = configmap.document.embedded_source("data", key)
                    if source is not None:
                        files.append(MountedFile(os.path.normpath(directory), name, source))
        return tuple(files)

    def _mounted_without_corefile(self, servers: list[DnsServer]) -> None:
        """An error at each ConfigMap a CoreDNS server mounts for its Corefile that is in
        the input but has no ``Corefile`` key (naming the keys it has)."""
        for server in servers:
            mount = server.corefile_configmap
            if server.corefile is not None or mount is None or server.software != "coredns":
                continue
            reader = self.configmaps.get((server.workload.namespace, mount.value))
            if reader is None:
                continue
            data = reader.get("data")
            keys = ", ".join(sorted(str(k) for k in data)) if isinstance(data, dict) and data else "none"
            self.errors.append(reader.document.error(
                f"ConfigMap {mount.value} is mounted by the CoreDNS {server.workload.kind} "
                f"{server.workload.name} (at {mount.span}) but has no `Corefile` key "
                f"(its data keys: {keys})", "data" if isinstance(data, dict) else "metadata",
            ))

    def _proportional(
        self, top: list[tuple[Workload, FieldReader]]
    ) -> tuple[list[ProportionalAutoscaler], list[AutoscalerParams]]:
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
            if key in referenced or (
                isinstance(data, dict) and set(data) in ({"linear"}, {"ladder"})
            ):
                found = read_configmap_params(reader, key)
                if self.collect(reader) and found is not None:
                    params.append(found)
        by_key = {(p.namespace, p.configmap): p for p in params}
        return [_with_params(s, by_key) for s in scalers], params

    def _dns_services(self, servers: list[DnsServer]) -> list[DnsService]:
        services = []
        for namespace, reader in self.services:
            selector = reader.strings("spec", "selector")
            selects_server = bool(selector) and any(
                s.workload.namespace == namespace
                and selector.items() <= s.workload.labels.items()
                for s in servers
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
    return (
        kind == "Job"
        and job is not None
        and ("CronJob", workload.namespace, job.group(1)) in present
    )


# ------------------------------------------------------------------ workloads and pod DNS


def _workload(reader: FieldReader, namespace: str) -> Workload:
    document = reader.document
    kind = document.kind
    pod = pod_path(kind)
    replicas, replicas_path, defaulted = _replicas(reader, kind)
    labels_path = (
        ("metadata", "labels") if kind == "Pod" else (*pod[:-1], "metadata", "labels")
    )
    labels = reader.strings(*labels_path)
    return Workload(
        kind=kind,
        name=document.name,
        namespace=namespace,
        namespace_defaulted=document.namespace is None,
        replicas=replicas,
        per_node=kind == "DaemonSet",
        replicas_span=reader.span(*replicas_path),
        replicas_defaulted=defaulted,
        labels=labels,
        dns=read_pod_dns(reader, pod),
        images=read_images(reader, pod),
        owner=read_owner(reader),
        span=document.span,
        api_version=document.api_version,
        placement=read_placement(reader, kind, labels),
    )


def _replicas(
    reader: FieldReader, kind: str
) -> tuple[int | None, tuple[str, ...], bool]:
    if kind == "DaemonSet":
        return None, ("spec",), False
    if kind == "Pod":
        return 1, ("spec",), False
    path = {
        "Job": ("spec", "parallelism"),
        "CronJob": ("spec", "jobTemplate", "spec", "parallelism"),
    }.get(kind, ("spec", "replicas"))
    what = "parallelism" if kind in ("Job", "CronJob") else "replicas"
    value, defaulted = reader.count(what, *path)
    return value, path, defaulted


# ------------------------------------------------------------------ images


def _last_component(image: str) -> str:
    return image_parts(image)[0].rsplit("/", 1)[-1]


def _is_coredns(image: str) -> bool:
    last = _last_component(image)
    return last == "coredns" or last.endswith("-coredns")


def _is_kube_dns(image: str) -> bool:
    return bool(
        re.fullmatch(r"(k8s-dns-)?kube-?dns(-[a-z0-9]+)?", _last_component(image))
    )


def _is_node_cache(image: str) -> bool:
    return _last_component(image).startswith("k8s-dns-node-cache")


def _is_proportional_autoscaler(image: str) -> bool:
    return _last_component(image).startswith("cluster-proportional-autoscaler")


def _has_image(workload: Workload, test: Callable[[str], bool]) -> bool:
    return any(test(image.value) for image in workload.images)


def coredns_version(image: str) -> str | None:
    """The CoreDNS version in an image tag: ``v1.11.1`` -> ``"1.11.1"``; else None."""
    tag = image_parts(image)[1]
    match = re.match(r"v?(\d+\.\d+\.\d+)(?![\d.])", tag or "")
    return match.group(1) if match else None


# ------------------------------------------------------------------ DNS servers


def _dns_server(
    reader: FieldReader,
    workload: Workload,
    corefiles: Mapping[tuple[str, str], CorefileConfigMap],
) -> DnsServer | None:
    if workload.kind in ("Job", "CronJob") or _has_image(workload, _is_node_cache):
        return None
    coredns = next((i for i in workload.images if _is_coredns(i.value)), None)
    kube_dns = next((i for i in workload.images if _is_kube_dns(i.value)), None)
    if (
        coredns is None
        and kube_dns is None
        and workload.labels.get("k8s-app") != "kube-dns"
    ):
        return None
    software = "coredns" if coredns else "kube-dns" if kube_dns else "unknown"
    image = coredns or kube_dns
    configmap = _configmap_volume(reader, workload)
    strategy, rolling = read_strategy(reader, workload.kind, workload.replicas)
    return DnsServer(
        workload=workload,
        software=software,
        image=image,
        version=coredns_version(coredns.value) if coredns else None,
        strategy=strategy,
        rolling_update=rolling,
        anti_affinity=read_anti_affinity(reader, workload.kind, workload.labels),
        hostname_spread=read_hostname_spread(reader, workload.kind, workload.labels),
        corefile_configmap=configmap,
        corefile=corefiles.get((workload.namespace, configmap.value))
        if configmap
        else None,
    )


def _configmap_volume(reader: FieldReader, workload: Workload) -> Located[str] | None:
    """The ConfigMap volume that holds the Corefile (items with key Corefile, else the only one)."""
    pod = pod_path(workload.kind)
    candidates = []
    for index, volume in enumerate(reader.items(*pod, "volumes")):
        source = volume.get("configMap") if isinstance(volume, dict) else None
        name = source.get("name") if isinstance(source, dict) else None
        if not isinstance(name, str):
            continue
        items = source.get("items") if isinstance(source, dict) else None
        keys = (
            {
                i.get("key")
                for i in items
                if isinstance(i, dict) and isinstance(i.get("key"), str)
            }
            if isinstance(items, list)
            else set()
        )
        located = Located(
            name, reader.span(*pod, "volumes", index, "configMap", "name")
        )
        if "Corefile" in keys:
            return located
        candidates.append(located)
    return candidates[0] if len(candidates) == 1 else None


# ------------------------------------------------------------------ ConfigMaps, Services, NodeLocal DNS


def _corefile_configmap(
    reader: FieldReader, key: tuple[str, str], node_local: bool
) -> CorefileConfigMap | None:
    if reader.get("data", "Corefile") is None:
        return None
    if reader.typed(str, "a string (the Corefile text)", "data", "Corefile") is None:
        return None
    source = reader.document.embedded_source("data", "Corefile")
    assert source is not None
    role = (
        "node-local-dns"
        if node_local or key[1] in ("node-local-dns", "nodelocaldns")
        else "coredns"
    )
    return CorefileConfigMap(key[1], key[0], role, source, reader.document.span)


def _dns_service(
    reader: FieldReader, namespace: str, selector: dict[str, str]
) -> DnsService:
    cluster_ip = None
    value = reader.typed(str, "a string", "spec", "clusterIP")
    if value is not None and value not in ("", "None") and not is_ip(value):
        reader.text_value("an IP address, '' or 'None'", value, "spec", "clusterIP")
    elif value:
        cluster_ip = Located(value, reader.span("spec", "clusterIP"))
    cluster_ips = read_string_list(
        reader,
        ("spec", "clusterIPs"),
        "an IP address",
        lambda s: is_ip(s) or s == "None",
    )
    ports = []
    for index, port in enumerate(reader.typed(list, "a list", "spec", "ports") or []):
        number = reader.typed(int, "an integer", "spec", "ports", index, "port")
        if not isinstance(port, dict) or number is None:
            reader.fail("each Service port needs a port number", "spec", "ports", index)
            continue
        name = reader.typed(str, "a string", "spec", "ports", index, "name")
        protocol = (
            reader.typed(str, "a string", "spec", "ports", index, "protocol") or "TCP"
        )
        ports.append(
            ServicePort(name, number, protocol, reader.span("spec", "ports", index))
        )
    return DnsService(
        reader.document.name,
        namespace,
        cluster_ip,
        tuple(cluster_ips),
        tuple(ports),
        selector,
        reader.document.span,
    )


def _node_local(
    reader: FieldReader,
    workload: Workload,
    corefiles: Mapping[tuple[str, str], CorefileConfigMap],
) -> NodeLocalDns | None:
    image = next((i for i in workload.images if _is_node_cache(i.value)), None)
    if image is None:
        return None
    pod = pod_path(workload.kind)
    index = next(
        i
        for i, c in enumerate(reader.items(*pod, "containers"))
        if isinstance(c, dict) and c.get("image") == image.value
    )
    args, arg_paths = container_args(reader, (*pod, "containers", index))
    local_ips: list[Located[str]] = []
    local = go_flag(args, "localip")
    if local is not None:
        for address in local[1].split(","):
            if is_ip(address.strip()):
                local_ips.append(
                    Located(address.strip(), reader.span(*arg_paths[local[0]]))
                )
            else:
                reader.text_value(
                    "an IP address (in -localip)", address.strip(), *arg_paths[local[0]]
                )
    upstream = go_flag(args, "upstreamsvc")
    configmap = _configmap_volume(reader, workload)
    return NodeLocalDns(
        workload=workload,
        image=image,
        local_ips=tuple(local_ips),
        upstream_service=upstream[1] if upstream else None,
        args=tuple(args),
        corefile_configmap=configmap,
        corefile=corefiles.get((workload.namespace, configmap.value))
        if configmap
        else None,
    )


# ------------------------------------------------------------------ autoscalers and nodes


def _hpa(reader: FieldReader, namespace: str) -> HorizontalPodAutoscaler | None:
    kind = reader.typed(str, "a string", "spec", "scaleTargetRef", "kind")
    name = reader.typed(str, "a string", "spec", "scaleTargetRef", "name")
    if not kind or not name:
        reader.fail(
            "spec.scaleTargetRef needs a kind and a name", "spec", "scaleTargetRef"
        )
    minimum = reader.typed(int, "an integer", "spec", "minReplicas")
    maximum = reader.typed(int, "an integer", "spec", "maxReplicas")
    if maximum is None:
        reader.fail("spec.maxReplicas is required (at least 1)", "spec")
    elif maximum < 1:
        reader.fail("spec.maxReplicas must be at least 1", "spec", "maxReplicas")
    if minimum is not None and minimum < 0:
        reader.fail("spec.minReplicas must not be negative", "spec", "minReplicas")
    if minimum is not None and maximum is not None and minimum > maximum:
        reader.fail(
            f"spec.minReplicas ({minimum}) is above spec.maxReplicas ({maximum})",
            "spec",
            "minReplicas",
        )
    if not kind or not name or maximum is None:
        return None
    return HorizontalPodAutoscaler(
        reader.document.name,
        namespace,
        kind,
        name,
        1 if minimum is None else minimum,
        minimum is None,
        maximum,
        reader.document.span,
    )


def _node(reader: FieldReader) -> Node:
    labels = reader.strings("metadata", "labels")
    zone = labels.get("topology.kubernetes.io/zone") or labels.get(
        "failure-domain.beta.kubernetes.io/zone"
    )
    instance = labels.get("node.kubernetes.io/instance-type") or labels.get(
        "beta.kubernetes.io/instance-type"
    )
    unschedulable = reader.typed(bool, "true or false", "spec", "unschedulable")
    return Node(
        reader.document.name,
        labels,
        zone,
        instance,
        bool(unschedulable),
        cpu_millis(reader.get("status", "allocatable", "cpu")),
        reader.document.span,
        memory_bytes(reader.get("status", "allocatable", "memory")),
        _pod_count(reader.get("status", "allocatable", "pods")),
    )


def _pod_count(quantity: object) -> int | None:
    if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity >= 0:
        return quantity
    if isinstance(quantity, str) and quantity.isdigit():
        return int(quantity)
    return None


def _proportional_autoscaler(
    reader: FieldReader, workload: Workload
) -> ProportionalAutoscaler | None:
    pod = pod_path(workload.kind)
    index = next(
        i
        for i, c in enumerate(reader.items(*pod, "containers"))
        if isinstance(c, dict) and _is_proportional_autoscaler(str(c.get("image")))
    )
    args, paths = container_args(reader, (*pod, "containers", index))
    namespace_flag = go_flag(args, "namespace")
    namespace = namespace_flag[1] if namespace_flag else workload.namespace
    configmap_flag = go_flag(args, "configmap")
    targets = read_targets(reader, args, paths)
    default = go_flag(args, "default-params")
    default_params = None
    if default is not None:
        source = reader.document.embedded_source(*paths[default[0]])
        text = default[1]
        assert source is not None
        offset = len(source.text) - len(text)
        default_params = parse_params(
            reader,
            text,
            paths[default[0]],
            source,
            offset,
            None,
            namespace,
            single=False,
        )
    if targets is None:
        return None
    return ProportionalAutoscaler(
        workload,
        namespace,
        targets,
        configmap_flag[1] if configmap_flag else None,
        default_params,
        None,
    )


def _with_params(
    scaler: ProportionalAutoscaler,
    by_key: Mapping[tuple[str, str | None], AutoscalerParams],
) -> ProportionalAutoscaler:
    params = by_key.get((scaler.namespace, scaler.configmap)) or scaler.default_params
    return ProportionalAutoscaler(
        scaler.workload,
        scaler.namespace,
        scaler.targets,
        scaler.configmap,
        scaler.default_params,
        params,
    )
