"""Domain stage: one typed resource from the fields of one Kubernetes object.

A workload and its pod DNS, a DNS server (CoreDNS or kube-dns, told by its image), the
ConfigMap volume that holds its Corefile, a Corefile ConfigMap, a DNS Service, a
NodeLocal DNSCache DaemonSet, an HPA, a Node and a cluster-proportional-autoscaler.
Each reader records bad values as errors on its FieldReader; kubernetes/cluster.py
decides what to keep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from kalc_formal.errors import ConfigError
from kalc_formal.inputs.placeholders import (
    COREFILE,
    find_placeholders,
    template_message,
)
from kalc_formal.kubernetes.autoscaling import (
    AutoscalerParams,
    parse_params,
    read_targets,
)
from kalc_formal.kubernetes.kinds import pod_path
from kalc_formal.kubernetes.manifests import Document
from kalc_formal.kubernetes.placement import cpu_millis, memory_bytes, read_placement
from kalc_formal.kubernetes.podspec import (
    FieldReader,
    Located,
    container_args,
    go_flag,
    image_parts,
    is_ip,
    read_images,
    read_owner,
    read_pod_dns,
    read_string_list,
)
from kalc_formal.kubernetes.resources import (
    CorefileConfigMap,
    DnsServer,
    DnsService,
    HorizontalPodAutoscaler,
    Node,
    NodeLocalDns,
    ProportionalAutoscaler,
    ServicePort,
    Workload,
)
from kalc_formal.kubernetes.rollout import (
    read_anti_affinity,
    read_hostname_spread,
    read_strategy,
)
from kalc_formal.kubernetes.templates import NODE_CACHE_PLACEHOLDERS
from kalc_formal.source import shown

__all__ = [
    "bad_names",
    "configmap_mounted_at",
    "configmap_volume",
    "coredns_version",
    "has_image",
    "is_node_cache",
    "is_proportional_autoscaler",
    "read_corefile_configmap",
    "read_dns_server",
    "read_dns_service",
    "read_hpa",
    "read_node",
    "read_node_local",
    "read_proportional_autoscaler",
    "read_workload",
    "with_params",
]


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?-?")


def bad_names(document: Document) -> tuple[str, str] | None:
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



# ------------------------------------------------------------------ workloads and pod DNS


def read_workload(reader: FieldReader, namespace: str) -> Workload:
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


def is_node_cache(image: str) -> bool:
    return _last_component(image).startswith("k8s-dns-node-cache")


def is_proportional_autoscaler(image: str) -> bool:
    return _last_component(image).startswith("cluster-proportional-autoscaler")


def has_image(workload: Workload, test: Callable[[str], bool]) -> bool:
    return any(test(image.value) for image in workload.images)


def coredns_version(image: str) -> str | None:
    """The CoreDNS version in an image tag: ``v1.11.1`` -> ``"1.11.1"``; else None."""
    tag = image_parts(image)[1]
    match = re.match(r"v?(\d+\.\d+\.\d+)(?![\d.])", tag or "")
    return match.group(1) if match else None


# ------------------------------------------------------------------ DNS servers


def read_dns_server(
    reader: FieldReader,
    workload: Workload,
    corefiles: Mapping[tuple[str, str], CorefileConfigMap],
) -> DnsServer | None:
    if workload.kind in ("Job", "CronJob") or has_image(workload, is_node_cache):
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
    configmap = configmap_volume(reader, workload)
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


def configmap_volume(reader: FieldReader, workload: Workload) -> Located[str] | None:
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


def read_corefile_configmap(
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
    left = [p for p in find_placeholders(source.text, COREFILE) if p.text in NODE_CACHE_PLACEHOLDERS] \
        if "__PILLAR__" in source.text else []
    if role == "coredns" and left:
        message = template_message(left) + " (only node-cache fills these, in a Corefile its " \
            "NodeLocal DNSCache DaemonSet mounts)"
        reader.errors.append(ConfigError.at(source, left[0].line, left[0].column, message))
        return None
    return CorefileConfigMap(key[1], key[0], role, source, reader.document.span)


def read_dns_service(
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


def read_node_local(
    reader: FieldReader,
    workload: Workload,
    corefiles: Mapping[tuple[str, str], CorefileConfigMap],
) -> NodeLocalDns | None:
    image = next((i for i in workload.images if is_node_cache(i.value)), None)
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
    configmap = configmap_volume(reader, workload)
    kube_dns_flag = go_flag(args, "kubednscm")
    kube_dns_dir = kube_dns_flag[1] if kube_dns_flag and kube_dns_flag[1] else KUBE_DNS_DIR
    port_flag = go_flag(args, "dns.port")
    dns_port = 53
    if port_flag is not None:
        if port_flag[1].isdigit() and 0 < int(port_flag[1]) < 65536:
            dns_port = int(port_flag[1])
        else:
            reader.text_value("a port number (in -dns.port)", port_flag[1], *arg_paths[port_flag[0]])
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
        kube_dns_dir=kube_dns_dir,
        kube_dns_mount=configmap_mounted_at(reader, (*pod, "containers", index), kube_dns_dir),
        dns_port=dns_port,
    )


KUBE_DNS_DIR = "/etc/kube-dns"
"""``DefaultKubednsCMPath`` of node-cache: read when it exists and -kubednscm is not given."""


def configmap_mounted_at(
    reader: FieldReader, container: tuple[str | int, ...], directory: str
) -> Located[str] | None:
    """The ConfigMap whose volume the container mounts (whole, no subPath) at ``directory``."""
    pod = container[:-2]
    volumes = {
        v.get("name"): (v["configMap"].get("name"), index)
        for index, v in enumerate(reader.items(*pod, "volumes"))
        if isinstance(v, dict) and isinstance(v.get("name"), str) and isinstance(v.get("configMap"), dict)
    }
    for index, mount in enumerate(reader.items(*container, "volumeMounts")):
        if not isinstance(mount, dict) or mount.get("subPath"):
            continue
        path, name = mount.get("mountPath"), mount.get("name")
        found = volumes.get(name) if isinstance(name, str) else None
        if isinstance(path, str) and path.rstrip("/") == directory.rstrip("/") \
                and found is not None and isinstance(found[0], str):
            return Located(found[0], reader.span(*container, "volumeMounts", index))
    return None


# ------------------------------------------------------------------ autoscalers and nodes


def read_hpa(reader: FieldReader, namespace: str) -> HorizontalPodAutoscaler | None:
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
        reader.span("spec", "maxReplicas"),
    )


def read_node(reader: FieldReader) -> Node:
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


def read_proportional_autoscaler(
    reader: FieldReader, workload: Workload
) -> ProportionalAutoscaler | None:
    pod = pod_path(workload.kind)
    index = next(
        i
        for i, c in enumerate(reader.items(*pod, "containers"))
        if isinstance(c, dict) and is_proportional_autoscaler(str(c.get("image")))
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


def with_params(
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
