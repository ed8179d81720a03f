"""Typed config model stage: the hard scheduling rules that bound how many pods share a node.

The scheduler's spreading (its scoring) is a preference; only filters bound where
pods land: required pod anti-affinity, topology spread constraints with
``whenUnsatisfiable: DoNotSchedule``, a DaemonSet's one pod per node, nodeSelector
and required node affinity (fewer eligible nodes), the kubelet's maxPods, and the
pods' resource requests against the nodes' allocatable resources. See
specs/model.md section 1 "Server groups and scopes".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from kalc_formal.kubernetes.podspec import FieldReader, pod_path, selects
from kalc_formal.source import Span

__all__ = [
    "DEFAULT_MAX_PODS",
    "HOSTNAME",
    "NodeBound",
    "NodeRequirement",
    "Placement",
    "cpu_millis",
    "eligible_nodes",
    "memory_bytes",
    "pods_per_node",
    "read_placement",
]

BoundOrigin = Literal["kalc.yaml", "manifests", "default"]

HOSTNAME = "kubernetes.io/hostname"
DEFAULT_MAX_PODS = 110
"""The kubelet's default maxPods (KubeletConfiguration ``maxPods``)."""


@dataclass(frozen=True, slots=True)
class NodeRequirement:
    """One matchExpression of a required node affinity term."""

    key: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Placement:
    """What a pod template says about where its pods may land.

    ``anti_affinity``: the required pod anti-affinity term on the hostname that selects
    the pods' own labels. ``spread``: (maxSkew, position) of each DoNotSchedule
    topology spread constraint on the hostname that selects the pods' own labels.
    ``node_selector`` and ``node_terms`` (required node affinity: any term, all of its
    expressions; None when there is none) limit the eligible nodes. ``cpu_millis`` and
    ``memory_bytes``: the pod's requests (sum over its containers; 0 when a container
    requests none). ``host_port``: a port the pod takes on its node (a ``hostPort``, or
    any container port of a hostNetwork pod): two such pods never share a node.
    """

    anti_affinity: Span | None = None
    spread: tuple[tuple[int, Span], ...] = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    node_terms: tuple[tuple[NodeRequirement, ...], ...] | None = None
    node_rules: Span | None = None
    cpu_millis: int = 0
    memory_bytes: int = 0
    host_port: Span | None = None

    @property
    def restricted(self) -> bool:
        return bool(self.node_selector) or self.node_terms is not None

    def eligible(self, labels: Mapping[str, str]) -> bool | None:
        """Whether a node with ``labels`` may run the pods; None when it cannot be told."""
        if any(labels.get(k) != v for k, v in self.node_selector):
            return False
        if self.node_terms is None:
            return True
        results = [_term_matches(term, labels) for term in self.node_terms]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False


@dataclass(frozen=True, slots=True)
class NodeBound:
    """At most ``pods`` pods on one node, and why (``span``: the rule or setting)."""

    pods: int
    reason: str
    origin: BoundOrigin
    span: Span | None = None


def read_placement(reader: FieldReader, kind: str, labels: Mapping[str, str]) -> Placement:
    pod = pod_path(kind)
    anti = (*pod, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    anti_span = None
    for index, term in enumerate(reader.items(*anti)):
        if isinstance(term, dict) and term.get("topologyKey") == HOSTNAME and selects(
            term.get("labelSelector"), labels
        ):
            anti_span = reader.span(*anti, index)
            break
    spread = []
    for index, constraint in enumerate(reader.items(*pod, "topologySpreadConstraints")):
        if (
            isinstance(constraint, dict)
            and constraint.get("topologyKey") == HOSTNAME
            and constraint.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule"
            and selects(constraint.get("labelSelector"), labels)
            and _positive_int(constraint.get("maxSkew"))
        ):
            spread.append(
                (int(constraint["maxSkew"]), reader.span(*pod, "topologySpreadConstraints", index))
            )
    selector = reader.get(*pod, "nodeSelector")
    node_selector = tuple(sorted(
        (str(k), str(v)) for k, v in selector.items()
    )) if isinstance(selector, dict) else ()
    terms_path = (*pod, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                  "nodeSelectorTerms")
    raw_terms = reader.get(*terms_path)
    node_terms = (
        tuple(_node_term(term) for term in raw_terms) if isinstance(raw_terms, list) else None
    )
    rules_span = None
    if node_terms is not None:
        rules_span = reader.span(*terms_path)
    elif node_selector:
        rules_span = reader.span(*pod, "nodeSelector")
    cpu = memory = 0
    for container in reader.items(*pod, "containers"):
        requests = _requests(container)
        cpu += cpu_millis(requests.get("cpu")) or 0
        memory += memory_bytes(requests.get("memory")) or 0
    return Placement(anti_span, tuple(spread), node_selector, node_terms, rules_span, cpu, memory,
                     _host_port(reader, pod))


def _host_port(reader: FieldReader, pod: tuple[str, ...]) -> Span | None:
    """The first port the pod takes on its node: the scheduler's NodePorts filter keeps
    two pods with the same host port (protocol, host IP) off one node."""
    host_network = reader.get(*pod, "hostNetwork") is True
    for index, container in enumerate(reader.items(*pod, "containers")):
        ports = container.get("ports") if isinstance(container, dict) else None
        for number, port in enumerate(ports if isinstance(ports, list) else []):
            if not isinstance(port, dict):
                continue
            key = "containerPort" if host_network else "hostPort"
            if _positive_int(port.get(key)) or (host_network and _positive_int(port.get("hostPort"))):
                return reader.span(*pod, "containers", index, "ports", number)
    return None


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _requests(container: object) -> Mapping[str, Any]:
    resources = container.get("resources") if isinstance(container, dict) else None
    requests = resources.get("requests") if isinstance(resources, dict) else None
    return requests if isinstance(requests, dict) else {}


def _node_term(term: object) -> tuple[NodeRequirement, ...]:
    expressions = term.get("matchExpressions") if isinstance(term, dict) else None
    result = []
    for expression in expressions if isinstance(expressions, list) else []:
        if not isinstance(expression, dict):
            continue
        values = expression.get("values")
        result.append(NodeRequirement(
            str(expression.get("key")), str(expression.get("operator")),
            tuple(str(v) for v in values) if isinstance(values, list) else (),
        ))
    fields = term.get("matchFields") if isinstance(term, dict) else None
    if fields:
        result.append(NodeRequirement("(matchFields)", "unknown", ()))
    return tuple(result)


def _term_matches(term: tuple[NodeRequirement, ...], labels: Mapping[str, str]) -> bool | None:
    """All expressions of the term hold: True, False, or None when one cannot be told."""
    if not term:
        return False
    unknown = False
    for requirement in term:
        value = labels.get(requirement.key)
        if requirement.operator == "In":
            holds: bool | None = value is not None and value in requirement.values
        elif requirement.operator == "NotIn":
            holds = value is None or value not in requirement.values
        elif requirement.operator == "Exists":
            holds = value is not None
        elif requirement.operator == "DoesNotExist":
            holds = value is None
        elif requirement.operator in ("Gt", "Lt") and len(requirement.values) == 1:
            holds = _compare(value, requirement.values[0], requirement.operator)
        else:
            holds = None
        if holds is False:
            return False
        unknown = unknown or holds is None
    return None if unknown else True


def _compare(value: str | None, bound: str, operator: str) -> bool | None:
    if value is None:
        return False
    if not re.fullmatch(r"-?\d+", value) or not re.fullmatch(r"-?\d+", bound):
        return None
    return int(value) > int(bound) if operator == "Gt" else int(value) < int(bound)


def cpu_millis(quantity: object) -> int | None:
    """CPU quantity in millicores ("4", "3920m", "1.5", 2); None for other forms."""
    if isinstance(quantity, int) and not isinstance(quantity, bool):
        return quantity * 1000
    if isinstance(quantity, float):
        return round(quantity * 1000) if math.isfinite(quantity * 1000) else None
    if isinstance(quantity, str) and (match := re.fullmatch(r"(\d+(?:\.\d+)?)(m?)", quantity)):
        number = Fraction(match.group(1))
        return round(number if match.group(2) else number * 1000)
    return None


_MEMORY_UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}


def memory_bytes(quantity: object) -> int | None:
    """Memory quantity in bytes ("128Mi", "1G", "1048576"); None for other forms."""
    if isinstance(quantity, int) and not isinstance(quantity, bool):
        return quantity
    if isinstance(quantity, str) and (
        match := re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)", quantity)
    ):
        return int(Fraction(match.group(1)) * _MEMORY_UNITS[match.group(2)])
    return None


def pods_per_node(
    kind: str, pods: int, placement: Placement, *, eligible_nodes: int,
    workload_span: Span, narrowed: NodeBound | None = None,
) -> NodeBound:
    """The most pods of one workload (``pods`` of them) that can be on one node.

    DaemonSet, a host port and required anti-affinity: 1. A DoNotSchedule spread constraint with
    maxSkew ``s`` over ``N`` eligible nodes: a pod lands on node n only if n's count
    after it exceeds the smallest count by at most ``s``, so with ``c`` on n every other
    node holds at least ``c - s`` and ``pods >= c + (N - 1)(c - s)``: ``c <= floor((pods +
    s(N - 1)) / N)``. ``narrowed`` is a setting of kalc.yaml that may lower the result.
    """
    bounds = [NodeBound(pods, "no hard rule keeps them apart", "manifests", workload_span)]
    if kind == "DaemonSet":
        bounds.append(NodeBound(1, "DaemonSet: one pod per node", "manifests", workload_span))
    if placement.host_port is not None:
        bounds.append(NodeBound(
            1, "a host port (NodePorts filter: one pod per port on a node)", "manifests",
            placement.host_port,
        ))
    if placement.anti_affinity is not None:
        bounds.append(NodeBound(
            1, f"required podAntiAffinity on {HOSTNAME}", "manifests", placement.anti_affinity,
        ))
    nodes = max(1, eligible_nodes)
    for skew, span in placement.spread:
        bound = (pods + skew * (nodes - 1)) // nodes
        bounds.append(NodeBound(
            bound, f"topologySpreadConstraints maxSkew {skew} (DoNotSchedule) over {nodes} "
            f"eligible node(s)", "manifests", span,
        ))
    best = min(bounds, key=lambda b: b.pods)
    if narrowed is not None and narrowed.pods < best.pods:
        return narrowed
    return best


def eligible_nodes(
    placement: Placement, node_labels: Sequence[Mapping[str, str]], nodes: int
) -> int:
    """How many nodes may run the pods, counted low: with Node objects, those that match
    (one whose match cannot be told counts as not matching); without them, ``nodes``
    if nothing restricts the pods, else 1."""
    if not node_labels:
        return 1 if placement.restricted else nodes
    return sum(1 for labels in node_labels if placement.eligible(labels) is True)
