"""Typed config model stage: how a controller rolls out its pods and spreads them over nodes.

Rolling-update bounds follow the Deployment controller (``ResolveFenceposts``
in ``pkg/controller/deployment/util``, ``GetScaledValueFromIntOrPercent`` in
apimachinery's ``intstr``); spreading is read from pod anti-affinity and
topology spread constraints on ``kubernetes.io/hostname``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kalc_formal.kubernetes.podspec import (
    FieldReader,
    describe,
    dotted,
    pod_path,
    selects,
)
from kalc_formal.source import Span

__all__ = [
    "HOSTNAME",
    "RollingUpdate",
    "read_anti_affinity",
    "read_hostname_spread",
    "read_strategy",
    "resolve_fenceposts",
]


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


def resolve_fenceposts(
    max_surge: int | str, max_unavailable: int | str, desired: int
) -> tuple[int, int]:
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


HOSTNAME = "kubernetes.io/hostname"


def read_strategy(
    reader: FieldReader, kind: str, replicas: int | None
) -> tuple[str, RollingUpdate | None]:
    """The update strategy type, and the rolling-update bounds of a Deployment or DaemonSet.

    Defaults: maxSurge and maxUnavailable 25% for a Deployment, 0 and 1 for a
    DaemonSet. Both 0 and a maxUnavailable over 100% are errors, as in API
    validation. The bounds resolve against ``replicas`` when it is known.
    """
    key = "updateStrategy" if kind in ("DaemonSet", "StatefulSet") else "strategy"
    strategy = reader.typed(str, "a string", "spec", key, "type") or "RollingUpdate"
    if strategy != "RollingUpdate" or kind not in ("Deployment", "DaemonSet"):
        return strategy, None
    defaults: tuple[int | str, int | str] = (
        ("25%", "25%") if kind == "Deployment" else (0, 1)
    )
    path = ("spec", key, "rollingUpdate")
    surge = _int_or_percent(reader, (*path, "maxSurge"), defaults[0])
    unavailable = _int_or_percent(reader, (*path, "maxUnavailable"), defaults[1])
    if surge is None or unavailable is None:
        return strategy, None
    if (
        _scaled(surge, 100, round_up=True) == 0
        and _scaled(unavailable, 100, round_up=False) == 0
    ):
        reader.fail("maxUnavailable may not be 0 when maxSurge is 0", *path)
    if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
        reader.fail(
            "maxUnavailable must not be greater than 100%", *path, "maxUnavailable"
        )
    resolved: tuple[int | None, int | None] = (None, None)
    if replicas is not None:
        resolved = resolve_fenceposts(surge, unavailable, replicas)
    return strategy, RollingUpdate(
        surge, unavailable, resolved[0], resolved[1], reader.span(*path)
    )


def _int_or_percent(
    reader: FieldReader, path: tuple[str, ...], default: int | str
) -> int | str | None:
    value = reader.get(*path)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+%", value):
        return value
    reader.fail(
        f"{dotted(path)} must be a non-negative integer or a percentage like '25%', not {describe(value)}",
        *path,
    )
    return None


def read_anti_affinity(
    reader: FieldReader, kind: str, labels: Mapping[str, str]
) -> str:
    """required, preferred or none: pod anti-affinity on the hostname against the pod's own labels."""
    anti = (*pod_path(kind), "affinity", "podAntiAffinity")
    for term in reader.items(*anti, "requiredDuringSchedulingIgnoredDuringExecution"):
        if (
            isinstance(term, dict)
            and term.get("topologyKey") == HOSTNAME
            and selects(term.get("labelSelector"), labels)
        ):
            return "required"
    for weighted in reader.items(
        *anti, "preferredDuringSchedulingIgnoredDuringExecution"
    ):
        term = weighted.get("podAffinityTerm") if isinstance(weighted, dict) else None
        if (
            isinstance(term, dict)
            and term.get("topologyKey") == HOSTNAME
            and selects(term.get("labelSelector"), labels)
        ):
            return "preferred"
    return "none"


def read_hostname_spread(
    reader: FieldReader, kind: str, labels: Mapping[str, str]
) -> str:
    """required, preferred or none: a topology spread constraint on the hostname over the pod's own labels."""
    found = "none"
    for constraint in reader.get(*pod_path(kind), "topologySpreadConstraints") or []:
        if (
            not isinstance(constraint, dict)
            or constraint.get("topologyKey") != HOSTNAME
        ):
            continue
        if not selects(constraint.get("labelSelector"), labels):
            continue
        if constraint.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule":
            return "required"
        found = "preferred"
    return found
