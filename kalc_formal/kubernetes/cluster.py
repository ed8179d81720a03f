"""Domain stage: the DNS-relevant resources of a cluster, from manifest documents.

:func:`build_cluster` reads workloads (their pod DNS fields and replica
counts), the CoreDNS (or kube-dns) servers, their Service and Corefile
ConfigMaps, NodeLocal DNSCache, autoscalers and Nodes. Bad values give
ConfigErrors at the field, all collected; a resource with a bad value is left
out. Every other document is counted by kind in ``Cluster.ignored``.

This module decides across objects (which are new, which are owned, which DNS server
mounts which Corefile, which Services are DNS ones); the resources are defined in
kubernetes/resources.py and read one object at a time in kubernetes/objects.py.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from kalc_formal.errors import ConfigError, ConfigErrors
from kalc_formal.inputs.files import cyclic_gc_paused
from kalc_formal.kubernetes.autoscaling import (
    AutoscalerParams,
    LadderParams,
    LinearParams,
    ScaleTarget,
    read_configmap_params,
)
from kalc_formal.kubernetes.environment import image_container_env
from kalc_formal.kubernetes.kinds import API_GROUPS, WORKLOAD_KINDS, pod_path
from kalc_formal.kubernetes.kubedns import (
    KubeDnsConfigMap,
    is_kube_dns_configmap,
    read_kube_dns_configmap,
)
from kalc_formal.kubernetes.manifests import Document, Limits, load_documents
from kalc_formal.kubernetes.objects import (
    bad_names,
    configmap_volume,
    coredns_version,
    has_image,
    is_node_cache,
    is_proportional_autoscaler,
    read_corefile_configmap,
    read_dns_server,
    read_dns_service,
    read_hpa,
    read_node,
    read_node_local,
    read_proportional_autoscaler,
    read_workload,
    with_params,
)
from kalc_formal.kubernetes.podspec import (
    DNS_POLICIES,
    DnsConfig,
    DnsOption,
    FieldReader,
    Located,
    PodDns,
)
from kalc_formal.kubernetes.resources import (
    Cluster,
    CorefileConfigMap,
    DnsServer,
    DnsService,
    HorizontalPodAutoscaler,
    MountedFile,
    Node,
    NodeLocalDns,
    Note,
    ProportionalAutoscaler,
    ServicePort,
    Workload,
    choose_dns_service,
)
from kalc_formal.kubernetes.rollout import RollingUpdate, resolve_fenceposts
from kalc_formal.source import Span

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
    "MountedFile",
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
    "choose_dns_service",
    "coredns_version",
    "read_cluster",
    "resolve_fenceposts",
]


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
        self.secrets: dict[tuple[str, str], Document] = {}
        self.services: list[tuple[str, FieldReader]] = []
        self.hpas: list[HorizontalPodAutoscaler] = []
        self.nodes: list[Node] = []
        self.ignored: Counter[str] = Counter()
        self.defaulted_namespaces: list[Span] = []
        self.seen: dict[tuple[str, str, str], Span] = {}

    def add(self, document: Document) -> None:
        kind = document.kind
        groups = API_GROUPS.get(kind)
        group = (
            document.api_version.split("/")[0] if "/" in document.api_version else ""
        )
        if groups is None:
            if kind == "Secret" and document.name:
                self.secrets[(document.namespace or "default", document.name)] = document
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
        elif (problem := bad_names(document)) is not None:
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
            workload = read_workload(reader, namespace)
            if self.collect(reader):
                self.workloads.append((workload, reader))
        elif kind == "ConfigMap":
            self.configmaps[(namespace, reader.document.name)] = reader
        elif kind == "Service":
            self.services.append((namespace, reader))
        elif kind == "HorizontalPodAutoscaler":
            hpa = read_hpa(reader, namespace)
            if self.collect(reader) and hpa is not None:
                self.hpas.append(hpa)
        else:
            node = read_node(reader)
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
            server = read_dns_server(reader, workload, corefiles)
            local = read_node_local(reader, workload, corefiles)
            if self.collect(reader):
                servers += [server] if server else []
                node_local += [local] if local else []
        self._mounted_without_corefile(servers)
        scalers, params = self._proportional(top)
        services = self._dns_services(servers)
        configmaps = {k: m.document for k, m in self.configmaps.items()}
        env = next((image_container_env(r, pod_path(w.kind), s.image.value if s.image else None,
                                        w.namespace, configmaps, self.secrets)
                    for s in servers if s.software == "coredns" for w, r in top if w is s.workload), None)
        node_local = [dataclasses.replace(n, env=image_container_env(
            r, pod_path(w.kind), n.image.value, w.namespace, configmaps, self.secrets))
            for n in node_local for w, r in top if w is n.workload]
        kube_dns = self._kube_dns_configmaps(node_local)
        envs = [e for e in (env, *(n.env for n in node_local)) if e is not None]
        used = set(corefiles) | {(p.namespace, p.configmap) for p in params} \
            | {key for e in envs for key in e.used_configmaps} \
            | {(m.namespace, m.name) for m in kube_dns}
        self.ignored["Secret"] -= len({key for e in envs for key in e.used_secrets})
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
            coredns_env=env,
            kube_dns_configmaps=tuple(kube_dns),
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
            if has_image(w, is_node_cache)
            and (volume := configmap_volume(r, w)) is not None
        }
        found: dict[tuple[str, str], CorefileConfigMap] = {}
        for key, reader in self.configmaps.items():
            corefile = read_corefile_configmap(reader, key, key in node_local_maps)
            if self.collect(reader) and corefile is not None:
                found[key] = corefile
        return found

    def _kube_dns_configmaps(self, node_local: list[NodeLocalDns]) -> list[KubeDnsConfigMap]:
        """The legacy kube-dns ConfigMaps (named kube-dns, or mounted where node-cache reads
        one, whatever their name), read and checked (an error per bad value)."""
        mounted = {(n.workload.namespace, n.kube_dns_mount.value)
                   for n in node_local if n.kube_dns_mount is not None}
        found = []
        for (namespace, name), reader in self.configmaps.items():
            if is_kube_dns_configmap(reader.document, any_name=(namespace, name) in mounted):
                config, errors = read_kube_dns_configmap(reader.document, namespace)
                self.errors += errors
                found += [config] if config is not None else []
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
            if has_image(workload, is_proportional_autoscaler):
                scaler = read_proportional_autoscaler(reader, workload)
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
        return [with_params(s, by_key) for s in scalers], params

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
                service = read_dns_service(reader, namespace, selector)
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
