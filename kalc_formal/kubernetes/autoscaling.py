"""Typed config model stage: cluster-proportional-autoscaler targets and parameters.

The parameters are decoded as the autoscaler decodes them (Go ``encoding/json``
into its ``linearParams``/``ladderParams`` structs, then its own checks), so a
value the autoscaler rejects is an error here too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kalc_formal.errors import ConfigError
from kalc_formal.kubernetes.podspec import FieldReader, go_flag, pod_path
from kalc_formal.source import Source, Span

__all__ = [
    "AutoscalerParams",
    "LadderParams",
    "LinearParams",
    "ScaleTarget",
    "parse_params",
    "read_configmap_params",
    "read_targets",
]


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


_TARGET_KINDS = {
    "deployment": "Deployment",
    "replicationcontroller": "ReplicationController",
    "replicaset": "ReplicaSet",
}


def read_targets(
    reader: FieldReader, args: Sequence[str], paths: Sequence[tuple[str | int, ...]]
) -> tuple[ScaleTarget, ...] | None:
    """The ``--target`` list, checked as the autoscaler checks it (kind/name, case-insensitive)."""
    target = go_flag(args, "target")
    if target is None:
        reader.fail(
            "the cluster-proportional-autoscaler needs --target (deployment/NAME, replicationcontroller/NAME or replicaset/NAME)",
            *pod_path(reader.document.kind),
            "containers",
        )
        return None
    found = []
    for part in target[1].split(","):
        kind, _, name = part.strip().partition("/")
        if kind.lower() not in _TARGET_KINDS or not name:
            reader.text_value(
                "deployment/NAME, replicationcontroller/NAME or replicaset/NAME (the autoscaler's --target format)",
                part.strip(),
                *paths[target[0]],
            )
            return None
        found.append(ScaleTarget(_TARGET_KINDS[kind.lower()], name.lower()))
    return tuple(found)


def read_configmap_params(
    reader: FieldReader, key: tuple[str, str]
) -> AutoscalerParams | None:
    data = reader.typed(dict, "a mapping", "data") or {}
    if len(data) != 1 or next(iter(data)) not in ("linear", "ladder"):
        reader.fail(
            "the cluster-proportional-autoscaler expects exactly one data entry, 'linear' or 'ladder'",
            "data",
        )
        return None
    mode = next(iter(data))
    text = reader.typed(str, "a string (JSON)", "data", mode)
    source = reader.document.embedded_source("data", mode)
    if text is None or source is None:
        return None
    return parse_params(
        reader, text, ("data", mode), source, 0, key[1], key[0], single=True, mode=mode
    )


def parse_params(
    reader: FieldReader,
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
        reader.errors.append(
            ConfigError(
                f"not valid JSON: {error.msg}", span, source.line_text(span.line)
            )
        )
        return None
    if not single:
        if (
            not isinstance(value, dict)
            or len(value) != 1
            or next(iter(value)) not in ("linear", "ladder")
        ):
            reader.fail(
                "--default-params must be a JSON object with one key, 'linear' or 'ladder'",
                *path,
            )
            return None
        mode = next(iter(value))
        value = value[mode]
    assert mode is not None
    problems: list[tuple[str, str]] = []
    params = _linear(value, problems) if mode == "linear" else _ladder(value, problems)
    for key, message in problems:
        position = text.lower().find(f'"{key.lower()}"')
        span = _json_span(source, text, offset, max(position, 0))
        reader.errors.append(
            ConfigError(
                f"{mode} autoscaler parameters: {message}",
                span,
                source.line_text(span.line),
            )
        )
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


def _go_typed(
    value: dict[str, Any], name: str, kind: str, problems: list[tuple[str, str]]
) -> Any:
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
        problems.append(
            (
                name,
                f"{name} must be {'an integer' if kind == 'int' else 'a number' if kind == 'float' else 'true or false'}, not {json.dumps(item)} (the autoscaler fails to decode it)",
            )
        )
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
        problems.append(
            ("linear", "give coresPerReplica or nodesPerReplica (greater than 0)")
        )
    for key, number in (("coresPerReplica", cores), ("nodesPerReplica", nodes)):
        if number < 0:
            problems.append((key, f"invalid negative value for {key}: {number:g}"))
    return LinearParams(cores, nodes, minimum, maximum, prevent, include)


def _ladder(value: Any, problems: list[tuple[str, str]]) -> LadderParams | None:
    if not isinstance(value, dict):
        problems.append(("ladder", "must be a JSON object"))
        return None
    include = _go_typed(value, "includeUnschedulableNodes", "bool", problems)
    steps = [
        _ladder_steps(value, key, problems)
        for key in ("coresToReplicas", "nodesToReplicas")
    ]
    if problems or steps[0] is None or steps[1] is None:
        return None
    return LadderParams(steps[0], steps[1], include)


def _ladder_steps(
    value: dict[str, Any], key: str, problems: list[tuple[str, str]]
) -> tuple[tuple[int, int], ...] | None:
    """Entries decode into Go ``[2]int``: short arrays pad with 0, long ones are cut."""
    entries = _go_field(value, key)
    if entries is None:
        return ()
    if not isinstance(entries, list) or not all(
        isinstance(e, list)
        and all(isinstance(n, int) and not isinstance(n, bool) for n in e)
        for e in entries
    ):
        problems.append((key, f"{key} must be a list of [integer, integer] pairs"))
        return None
    steps = [(*e[:2], 0, 0)[:2] for e in entries]
    if any(a < 0 or b < 0 for a, b in steps):
        problems.append((key, f"invalid negative values in {key}"))
    return tuple(sorted((int(a), int(b)) for a, b in steps))
