"""Domain stage: template placeholders in the fields of a manifest the cluster model reads.

Which placeholder styles count depends on the field: a ``$HOME`` in a container command
is a shell variable, a ``$X`` in a nameserver list is an unfilled placeholder. The
fields and their contexts per kind are listed in :func:`_read_fields`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kalc_formal.inputs.placeholders import (
    ANY,
    COREFILE,
    STRICT,
    TYPED,
    UNAMBIGUOUS,
    Placeholder,
    find_placeholders,
    might_hold_placeholders,
)
from kalc_formal.kubernetes.kinds import WORKLOAD_KINDS, pod_path

__all__ = ["NODE_CACHE_PLACEHOLDERS", "document_placeholders"]

NODE_CACHE_PLACEHOLDERS = frozenset({
    "__PILLAR__UPSTREAM__SERVERS__", "__PILLAR__CLUSTER__DNS__",
    "__PILLAR__LOCAL__DNS__", "__PILLAR__DNS__SERVER__",
})
"""The placeholders node-cache fills in its own Corefile when it runs (configmap.go
``updateCorefile``): left in a ConfigMap's Corefile here, and an error later unless a
NodeLocal DNSCache DaemonSet mounts that ConfigMap (kubernetes/nodecache.py)."""

_Pattern = tuple[str, ...]


def _read_fields(kind: str) -> list[tuple[_Pattern, frozenset[str]]]:
    """The fields the cluster model reads for ``kind``, with their placeholder context."""
    fields: list[tuple[_Pattern, frozenset[str]]] = [
        (("kind",), ANY),
        (("apiVersion",), ANY),
        (("metadata", "name"), STRICT),
        (("metadata", "generateName"), STRICT),
        (("metadata", "namespace"), STRICT),
        (("metadata", "labels", "**"), ANY),
        (("metadata", "ownerReferences", "**"), ANY),
    ]
    if kind in WORKLOAD_KINDS:
        pod = pod_path(kind)
        fields += [
            (("spec", "replicas"), ANY),
            (("spec", "parallelism"), ANY),
            (("spec", "jobTemplate", "spec", "parallelism"), ANY),
            (("spec", "strategy", "**"), ANY),
            (("spec", "updateStrategy", "**"), ANY),
            ((*pod[:-1], "metadata", "labels", "**"), ANY),
            ((*pod, "dnsPolicy"), ANY),
            ((*pod, "hostNetwork"), ANY),
            ((*pod, "dnsConfig", "nameservers", "*"), STRICT),
            ((*pod, "dnsConfig", "searches", "*"), STRICT),
            ((*pod, "dnsConfig", "options", "**"), TYPED),
            ((*pod, "containers", "*", "image"), TYPED),
            ((*pod, "affinity", "podAntiAffinity", "**"), ANY),
            ((*pod, "affinity", "nodeAffinity", "**"), ANY),
            ((*pod, "nodeSelector", "**"), ANY),
            ((*pod, "containers", "*", "resources", "requests", "**"), ANY),
            ((*pod, "containers", "*", "ports", "**"), ANY),
            ((*pod, "topologySpreadConstraints", "**"), ANY),
            ((*pod, "volumes", "*", "configMap", "**"), ANY),
        ]
    elif kind == "ConfigMap":
        fields += [
            (("data", "Corefile"), COREFILE),
            (("data", "linear"), ANY),
            (("data", "ladder"), ANY),
        ]
    elif kind == "Service":
        fields += [
            (("spec", "clusterIP"), STRICT),
            (("spec", "clusterIPs", "*"), STRICT),
            (("spec", "ports", "**"), ANY),
            (("spec", "selector", "**"), ANY),
        ]
    elif kind == "HorizontalPodAutoscaler":
        fields += [
            (("spec", "scaleTargetRef", "**"), ANY),
            (("spec", "minReplicas"), ANY),
            (("spec", "maxReplicas"), ANY),
        ]
    elif kind == "Node":
        fields += [
            (("spec", "unschedulable"), ANY),
            (("status", "allocatable", "cpu"), ANY),
            (("status", "allocatable", "memory"), ANY),
            (("status", "allocatable", "pods"), ANY),
        ]
    return fields


def _matches(pattern: _Pattern, path: Sequence[str | int]) -> bool:
    for number, step in enumerate(pattern):
        if step == "**":
            return True
        if number >= len(path) or (step != "*" and step != path[number]):
            return False
    return len(pattern) == len(path)


def document_placeholders(
    kind: str, node: MappingNode, text: str, line_offset: int, index_offset: int
) -> list[Placeholder]:
    """Placeholders in the scalars of a DNS-relevant document of ``kind``.

    ``node`` was composed from ``text[index_offset:]``, whose first line is line
    ``line_offset + 1`` of the file. Unambiguous styles count in every scalar; the
    others only in the fields the cluster model reads (see :func:`_read_fields`).
    """
    offset = index_offset
    if not might_hold_placeholders(
        text[offset + node.start_mark.index : offset + node.end_mark.index]
    ):
        return []
    fields = _read_fields(kind)
    found: list[Placeholder] = []
    for path, scalar in _scalars(node, (), set()):
        start, end = scalar.start_mark, scalar.end_mark
        raw = text[offset + start.index : offset + end.index]
        if might_hold_placeholders(raw):
            context = next(
                (c for pattern, c in fields if _matches(pattern, path)), UNAMBIGUOUS
            )
            found += [
                p for p in find_placeholders(
                    raw,
                    context,
                    line=line_offset + start.line + 1,
                    column=start.column + 1,
                )
                if not (context is COREFILE and p.text in NODE_CACHE_PLACEHOLDERS)
            ]
    return found


def _scalars(
    node: Node, path: tuple[str | int, ...], seen: set[int]
) -> Iterator[tuple[tuple[str | int, ...], ScalarNode]]:
    """Every scalar under ``node`` once (an alias target is not visited again), with its path."""
    stack: list[tuple[tuple[str | int, ...], Node]] = [(path, node)]
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            yield path, node
        elif isinstance(node, SequenceNode):
            stack.extend(
                ((*path, n), item) for n, item in reversed(list(enumerate(node.value)))
            )
        elif isinstance(node, MappingNode):
            stack.extend(
                ((*path, str(key.value)), value)
                for key, value in reversed(node.value)
                if isinstance(key, ScalarNode)
            )
