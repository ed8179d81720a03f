"""Public API: load a cluster from paths or from objects, check it, and read the result
as typed, JSON-able values. ``kalc_formal`` re-exports these names lazily (importing the
package imports no z3); everything not re-exported there is internal.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from kalc_formal.analysis.changes import (
    Change,
    Movement,
    Side,
    compare_sides,
    facts,
)
from kalc_formal.analysis.result import Analysis
from kalc_formal.analysis.scaling import (
    Edge,
    Parameter,
    current_value,
    parse_parameter,
    scaled,
)
from kalc_formal.capacity import (
    MAX_CHECKS,
    MAX_RANGE_END,
    MAX_ROWS,
    decider,
    edge_within,
    grower,
    region,
)
from kalc_formal.config.envspec import EnvSpec, load_env
from kalc_formal.config.objects import (
    COREFILE_NAME,
    ENV_NAME,
    Manifest,
    as_yaml,
    manifest_name,
    manifest_text,
    read_env_object,
    read_objects,
)
from kalc_formal.config.reading import (
    Inputs,
    choose_version,
    dns_workloads,
    read_inputs,
)
from kalc_formal.engine import (
    CheckOptions,
    analyse_inputs,
    check_properties,
    check_property,
    input_settings,
)
from kalc_formal.errors import InvalidArgument
from kalc_formal.model.flowmodel import Property
from kalc_formal.model.solve import Outcome, Verdict, worst
from kalc_formal.results import (
    Assumption,
    CapacityCheck,
    CapacityEdge,
    CapacityRegion,
    CapacityResult,
    CapacityRow,
    CheckResult,
    DiffResult,
    FactChange,
    Headroom,
    PropertyResult,
    TraceEvent,
    TraceStep,
    Unmodelled,
    UpstreamCount,
)
from kalc_formal.views.capacity import (
    edge_json,
    edge_text,
    region_text,
    render_edges_text,
)
from kalc_formal.views.diff import render_text as render_diff
from kalc_formal.views.report import PROPERTY, as_json, render_text, verdict_line
from kalc_formal.views.serverload import SERVER_LOAD, summary

PROPERTIES = (PROPERTY, SERVER_LOAD)
"""The properties ``check`` can decide: upstream-limit always, server-load where kalc.yaml
gives a capacity (``coredns.capacity_qps``, ``nodelocal.capacity_qps``)."""
GROWTH_PARAMETERS = tuple(p.value for p in Parameter)
"""The parameters :meth:`Cluster.capacity` varies and :meth:`Cluster.with_overrides` sets."""
MAX_HORIZON = 10_000
"""The most steps a check may search (the command line's cap)."""

EnvArg = Mapping[str, Any] | str | os.PathLike[str] | None
"""kalc.yaml: its contents as a mapping, or the path of the file."""


@dataclass(frozen=True, slots=True, eq=False)
class Cluster:
    """A cluster read and checked for bad input, ready for ``check``: its manifests,
    Corefile(s) and kalc.yaml.

    Make one with :func:`load` (paths) or :func:`load_objects` (objects in memory).
    ``sources`` names what it was read from; ``overrides`` lists what
    :meth:`with_overrides` changed, so results and failure messages can say so.
    """

    sources: tuple[str, ...]
    overrides: tuple[str, ...]
    yaml: str | None
    """The objects it was read from as YAML documents (None when read from files)."""
    _inputs: Inputs = field(repr=False)
    _read_version: Callable[[str], Inputs] = field(repr=False)
    _version_given: str | None = field(repr=False)

    def __repr__(self) -> str:
        extra = f", overrides={list(self.overrides)}" if self.overrides else ""
        return (
            f"Cluster(sources={list(self.sources)}, coredns_version={self.coredns_version!r}, "
            f"namespaces={len(self.namespaces)}{extra})"
        )

    @property
    def coredns_version(self) -> str:
        """The CoreDNS version its Corefile was read for."""
        return str(self._inputs.version)

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces of its client workloads (DNS servers' own left out), sorted."""
        servers = {id(w) for w in dns_workloads(self._inputs.cluster)}
        return tuple(sorted({
            w.namespace for w in self._inputs.cluster.workloads if id(w) not in servers
        }))

    def with_env(self, env: EnvArg) -> Cluster:
        """The same cluster under another kalc.yaml (a mapping or a path): it replaces
        the one read with the cluster, as ``--env`` does. Give it before any override."""
        if self.overrides:
            raise InvalidArgument(
                f"with_env on a cluster with overrides ({', '.join(self.overrides)}): "
                "set kalc.yaml first, then the overrides"
            )
        return _with_spec(self, _env_spec(env), ())

    def with_overrides(
        self, *, surge: float | None = None, rate: float | None = None,
        pods: float | None = None, names: float | None = None, namespaces: int | None = None,
    ) -> Cluster:
        """The same cluster grown or shrunk, as ``kalc-formal capacity`` varies it.

        ``surge``: every lookup's peak rate (``surge_rate``) times this, never below
        its baseline; ``rate``: baseline and peak rates times this; ``pods``: the
        client workloads' replicas and autoscaler bounds times this; ``names``: the
        count of every external name class times this; ``namespaces``: this many
        client namespaces (the first ones, or the client workloads repeated in new
        namespaces). An override the model cannot express (namespaces when kalc.yaml's
        lookups select namespaces by name) raises InvalidArgument.
        """
        asked = {"surge": surge, "rate": rate, "pods": pods, "names": names,
                 "namespaces": namespaces}
        values: dict[Parameter, float] = {}
        for name, value in asked.items():
            if value is not None:
                values[Parameter(name)] = _factor(name, value, whole=name == "namespaces")
        if not values:
            return self
        settings = input_settings(self._inputs)
        return _grown(self, values, scaled(self._inputs, settings.names, settings.lookups, values))

    def capacity(
        self, vary: str | Sequence[str] | Mapping[str, tuple[float, float] | None], *,
        rows: int | None = None, property: str = PROPERTY, env: EnvArg = None,
        horizon: int | None = None, rlimit: int | None = None, budget: int | None = None,
        max_checks: int = MAX_CHECKS,
    ) -> CapacityResult:
        """How far each growth parameter can move with ``property`` still proved, as
        ``kalc-formal capacity`` and ``check --capacity`` search it (whole checks of the
        cluster grown as :meth:`with_overrides` grows it; doubling or halving from the
        current value, then halving the gap).

        ``vary``: parameter names (each searched over the search's own range, as
        ``check --capacity``: factors from 1/64 to 64, namespaces from 1 to 64 times
        the count), or a mapping of names to ``(low, high)`` (``--vary NAME=LOW..HIGH``;
        None: the own range). Each parameter moves alone, the others as in this cluster;
        with ``rows`` (2 to 24) and two ranged parameters, the region instead: for
        ``rows`` values of the first, the edge along the second. At most ``max_checks``
        checks per edge; the other options are :func:`check`'s.

        >>> import kalc_formal
        >>> cluster = kalc_formal.load("examples/datadog-autopath-off-sized")
        >>> found = cluster.capacity({"namespaces": (100, 1000)}).edge("namespaces")
        >>> found.proved_up_to, found.not_proved_at, found.exact, len(found.checks)
        (757.0, 758.0, True, 11)
        """
        return _capacity(self, vary, rows=rows, property=property, env=env, horizon=horizon,
                         rlimit=rlimit, budget=budget, max_checks=max_checks)


def _grown(cluster: Cluster, values: Mapping[Parameter, float], inputs: Inputs) -> Cluster:
    """``cluster`` with ``inputs``, the cluster grown by ``values``, and the overrides said."""
    said = tuple(f"{p.value}={v:g}" for p, v in values.items())
    return Cluster(cluster.sources, cluster.overrides + said, cluster.yaml, inputs,
                   cluster._read_version, cluster._version_given)


def _factor(name: str, value: object, *, whole: bool) -> float:
    if whole:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
            raise InvalidArgument(f"{name}={value!r}: a whole number of namespaces, 1 to 100,000")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not 0.001 <= value <= 1000:
        raise InvalidArgument(f"{name}={value!r}: a factor from 0.001 to 1,000")
    return float(value)


def _with_spec(cluster: Cluster, spec: EnvSpec, said: tuple[str, ...]) -> Cluster:
    """``cluster`` under ``spec``, its Corefile read again if ``spec`` picks another
    CoreDNS version (the valid directives and plugin order depend on it)."""
    inputs = cluster._inputs
    chosen, origin = choose_version(cluster._version_given, spec, inputs.cluster)
    if chosen != inputs.version:
        inputs = cluster._read_version(str(chosen))
    inputs = dataclasses.replace(inputs, env=spec, version_origin=origin)
    return Cluster(
        cluster.sources, cluster.overrides + said, cluster.yaml, inputs, cluster._read_version,
        cluster._version_given,
    )


def _env_spec(env: EnvArg) -> EnvSpec:
    if env is None:
        return EnvSpec()
    if isinstance(env, Mapping):
        return read_env_object(env)
    if isinstance(env, str | os.PathLike):
        return load_env(Path(env), display=os.fspath(env))
    raise InvalidArgument(
        f"env: kalc.yaml as a mapping or a path, not {type(env).__name__}"
    )


def _version_arg(version: str | None) -> str | None:
    if version is not None and not isinstance(version, str):
        raise InvalidArgument(f"coredns_version: a string such as '1.14.6', not {version!r}")
    return version


def load(
    *paths: str | os.PathLike[str], env: EnvArg = None, coredns_version: str | None = None,
    allow_outside_root: bool = False,
) -> Cluster:
    """Read a cluster from manifest files or folders and a Corefile, as
    ``kalc-formal check PATH...`` does.

    ``env``: kalc.yaml as a mapping or a path (default: the kalc.yaml beside the
    first path that has one). Bad input raises ConfigError or ConfigErrors, each
    with its ``file:line:col``; bad arguments raise InvalidArgument.

    >>> import kalc_formal
    >>> cluster = kalc_formal.load("examples/small-cluster")
    >>> cluster.namespaces
    ('shop',)
    """
    if not paths:
        raise InvalidArgument("load: give at least one manifest file or folder")
    for path in paths:
        if not isinstance(path, str | os.PathLike):
            raise InvalidArgument(f"load: a path, not {type(path).__name__}")
    names = [os.fspath(p) for p in paths]
    version = _version_arg(coredns_version)
    env_path = os.fspath(env) if isinstance(env, str | os.PathLike) else None
    if env is not None and env_path is None and not isinstance(env, Mapping):
        _env_spec(env)

    def read(chosen: str | None) -> Inputs:
        return read_inputs(
            names, env_path=env_path, version=chosen, allow_outside_root=allow_outside_root,
        )

    cluster = Cluster(tuple(names), (), None, read(version), read, version)
    return cluster.with_env(env) if isinstance(env, Mapping) else cluster


def load_objects(
    manifests: Sequence[Manifest] = (), *, corefile: str | None = None,
    env: Mapping[str, Any] | None = None, coredns_version: str | None = None,
) -> Cluster:
    """Read a cluster from objects in memory, through the same parsers as files.

    ``manifests``: Kubernetes objects as mappings, or YAML texts; ``corefile``: the
    Corefile's text (default: the CoreDNS ConfigMap among the manifests); ``env``:
    kalc.yaml's contents. Positions in errors and traces name the object:
    ``<manifest 3>:12:5`` is line 12 of the third manifest written as YAML,
    ``<Corefile>:4:5``, ``<kalc.yaml>:2:3``. A Corefile's ``import`` reads files
    relative to the current folder.

    >>> import kalc_formal
    >>> corefile = ".:53 {\\n    kubernetes cluster.local\\n    forward . 10.0.0.2\\n    cache 30\\n}\\n"
    >>> pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}
    >>> kalc_formal.load_objects([pod], corefile=corefile).namespaces
    ('default',)
    """
    version = _version_arg(coredns_version)
    if env is not None and not isinstance(env, Mapping):
        raise InvalidArgument(f"env: kalc.yaml's contents as a mapping, not {type(env).__name__}")
    if isinstance(manifests, str | Mapping):
        raise InvalidArgument("manifests: a list of mappings or YAML texts (wrap one in a list)")
    texts = [manifest_text(m, i) for i, m in enumerate(manifests, start=1)]

    def read(chosen: str | None) -> Inputs:
        return read_objects(texts, corefile=corefile, env=env, version=chosen)

    sources = tuple(manifest_name(i) for i in range(1, len(texts) + 1))
    sources += (COREFILE_NAME,) if corefile is not None else ()
    inputs = read(version)
    return Cluster(sources, (), _as_yaml(texts, corefile, env), inputs, read, version)


def _as_yaml(texts: list[str], corefile: str | None, env: Mapping[str, Any] | None) -> str:
    """The objects as YAML documents, each headed by the name its positions carry (on the
    ``---`` line, so that line numbers stay those of the object)."""
    parts = [f"--- # {manifest_name(i)}\n{text.rstrip()}\n" for i, text in enumerate(texts, 1)]
    if corefile is not None:
        parts.append(f"--- # {COREFILE_NAME}, as text\n" + as_yaml({"Corefile": corefile}, COREFILE_NAME))
    if env is not None:
        parts.append(f"--- # {ENV_NAME}\n" + as_yaml(env, ENV_NAME))
    return "".join(parts)


def check(
    cluster: Cluster, *, property: str | None = None, env: EnvArg = None,
    horizon: int | None = None, rlimit: int | None = None, budget: int | None = None,
) -> CheckResult:
    """Decide whether ``property`` can be violated in ``cluster`` (None: every property
    the cluster has limits for, as ``kalc-formal check`` does; the verdict is the worst).

    ``env`` replaces the cluster's kalc.yaml for this check; ``horizon`` (steps),
    ``rlimit`` (Z3 units per query) and ``budget`` (for the whole check) are those
    of ``kalc-formal check``. Same input, same result: budgets are deterministic.

    >>> import kalc_formal
    >>> result = kalc_formal.check(kalc_formal.load("examples/small-cluster"), horizon=5)
    >>> result.verdict.value, result.ok
    ('proved', True)
    """
    cluster, analysis, outcomes = _decided(
        "check", cluster, property, env, horizon, rlimit, budget,
    )
    return result_of(analysis, outcomes["upstream-limit"], cluster, outcomes.get("server-load"),
                     only=property)


def _decided(
    caller: str, cluster: Cluster, property: str | None, env: EnvArg, horizon: int | None,
    rlimit: int | None, budget: int | None,
) -> tuple[Cluster, Analysis, dict[Property, Outcome]]:
    cluster, options = _prepared(caller, cluster, property, env, horizon, rlimit, budget)
    analysis = analyse_inputs(cluster._inputs, horizon=options.horizon)
    if property == SERVER_LOAD and not analysis.model.server_limits:
        raise InvalidArgument(
            f"{caller}: property='server-load' needs a capacity in kalc.yaml "
            "(coredns.capacity_qps or nodelocal.capacity_qps) for a server the clients ask"
        )
    return cluster, analysis, check_properties(analysis, rlimit=options.rlimit,
                                               budget=options.budget)


def _prepared(
    caller: str, cluster: Cluster, property: str | None, env: EnvArg, horizon: int | None,
    rlimit: int | None, budget: int | None,
) -> tuple[Cluster, CheckOptions]:
    """The cluster under ``env`` and the check's options, each argument checked."""
    if not isinstance(cluster, Cluster):
        raise InvalidArgument(
            f"{caller}: a Cluster from kalc_formal.load or load_objects, not "
            f"{type(cluster).__name__}"
        )
    if property is not None and property not in PROPERTIES:
        raise InvalidArgument(f"property={property!r}: one of {', '.join(PROPERTIES)}")
    horizon = _count("horizon", horizon, MAX_HORIZON)
    rlimit = _count("rlimit", rlimit)
    budget = _count("budget", budget)
    if env is not None:
        cluster = cluster.with_env(env)
    return cluster, CheckOptions(horizon=horizon, rlimit=rlimit, budget=budget)


def diff(
    before: Cluster, after: Cluster, *, property: str | None = None, env: EnvArg = None,
    horizon: int | None = None, rlimit: int | None = None, budget: int | None = None,
) -> DiffResult:
    """Check both sides of a change with the same options and compare them, as
    ``kalc-formal diff BEFORE AFTER`` does (``env`` replaces both sides' kalc.yaml).

    >>> import kalc_formal
    >>> change = kalc_formal.diff(kalc_formal.load("examples/datadog-autopath-off-sized"),
    ...                           kalc_formal.load("examples/datadog-autopath"), horizon=3)
    >>> change.movement.value, change.changes[0].key, change.changes[0].after_at
    ('regression', 'coredns .:53 autopath', 'examples/datadog-autopath/coredns-configmap.yaml:19:9')
    """
    sides = []
    checked = []
    for label, cluster in (("before", before), ("after", after)):
        cluster, analysis, outcomes = _decided(
            "diff", cluster, property, env, horizon, rlimit, budget,
        )
        outcome, server_load = outcomes["upstream-limit"], outcomes.get("server-load")
        if property == PROPERTY:
            server_load = None
        shown = ", ".join(cluster.sources[:3]) + (", ..." if len(cluster.sources) > 3 else "")
        sides.append(Side(shown or label, analysis, outcome, facts(cluster._inputs, analysis),
                          server_load=server_load))
        checked.append(result_of(analysis, outcome, cluster, server_load))
    comparison = compare_sides(sides[0], sides[1])
    return DiffResult(
        comparison.movement, checked[0], checked[1],
        tuple(_fact_change(c) for c in comparison.changes), render_diff(comparison),
        comparison.server_load_movement, comparison.overall,
    )


def _fact_change(change: Change) -> FactChange:
    def at(fact: Any) -> str | None:
        return str(fact.at) if fact is not None and fact.at is not None else None

    return FactChange(
        change.key,
        change.before.value if change.before is not None else None,
        change.after.value if change.after is not None else None,
        at(change.before), at(change.after), change.seen,
    )


def _count(name: str, value: int | None, most: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name}={value!r}: a whole number, at least 1")
    if most is not None and value > most:
        raise InvalidArgument(f"{name}={value:,}: at most {most:,}")
    return value


def result_of(
    analysis: Analysis, outcome: Outcome, cluster: Cluster, server_load: Outcome | None = None,
    *, only: str | None = None,
) -> CheckResult:
    """The typed result of a check (built from the same JSON the command line prints):
    ``outcome`` is upstream-limit's, ``server_load`` server-load's when decided; ``only``
    names the one property the result's verdict is about (None: the worst of both)."""
    data = as_json(analysis, outcome, server_load)
    counterexample = outcome.counterexample is not None
    properties = [PropertyResult(PROPERTY, outcome.verdict, verdict_line(analysis, outcome))]
    if server_load is not None:
        properties.append(PropertyResult(SERVER_LOAD, server_load.verdict,
                                         f"{SERVER_LOAD}: {summary(analysis, server_load)}"))
    chosen = [p for p in properties if only is None or p.property == only]
    return CheckResult(
        verdict=worst([p.verdict for p in chosen]),
        properties=tuple(chosen),
        horizon=data["horizon"],
        step_seconds=data["step_seconds"],
        coredns_version=data["coredns_version"],
        reason=data["reason"],
        warnings=tuple(data["warnings"]),
        induction_depth=data["induction_depth"],
        trace=tuple(_step(row) for row in data.get("trace", ())),
        events=tuple(
            TraceEvent(e["t"], e["kind"], e["text"], tuple(e["at"]), tuple(e["facts"]))
            for e in data.get("events", ())
        ),
        surge=data["surge"] if counterexample else None,
        surge_minimal=data["surge_minimal"] if counterexample else None,
        headroom=_headroom(analysis, outcome),
        assumptions=tuple(Assumption(**a) for a in data["assumptions"]),
        unmodelled=tuple(Unmodelled(**u) for u in data["unmodelled"]),
        sources=cluster.sources,
        overrides=cluster.overrides,
        report=render_text(analysis, outcome, server_load),
        _json=data,
    )


def _step(row: Mapping[str, Any]) -> TraceStep:
    return TraceStep(
        t=row["t"], lookups=dict(row["lookups"]), restarted=tuple(row["restarted"]),
        misses=dict(row["misses"]), fills=dict(row["fills"]),
        upstream={scope: UpstreamCount(**count) for scope, count in row["upstream"].items()},
    )


def _headroom(analysis: Analysis, outcome: Outcome) -> tuple[Headroom, ...]:
    if outcome.verdict is not Verdict.PROVED:
        return ()
    return tuple(
        Headroom(
            scope.id, analysis.scopes[scope.id].label, analysis.scopes[scope.id].addresses,
            outcome.worst_step.get(scope.id), scope.limit, scope.window_steps,
        )
        for scope in analysis.model.scopes
    )


# --------------------------------------------------------------------------- capacity


Bounds = tuple[float, float] | None


def _capacity(
    cluster: Cluster, vary: str | Sequence[str] | Mapping[str, Bounds], *, rows: int | None,
    property: str, env: EnvArg, horizon: int | None, rlimit: int | None, budget: int | None,
    max_checks: int,
) -> CapacityResult:
    cluster, options = _prepared("capacity", cluster, property, env, horizon, rlimit, budget)
    varied = _varied(vary)
    max_checks = _count("max_checks", max_checks, 1000) or MAX_CHECKS
    inputs = cluster._inputs
    decide = decider(inputs, options, cast(Property, property))
    grow = grower(inputs, options)
    step = input_settings(inputs, horizon=options.horizon).step

    def typed(found: Edge, fixed: Mapping[Parameter, float]) -> CapacityEdge:
        return _edge_result(found, fixed, cluster, grow, options, step, property)

    if rows is None:
        found = [edge_within(decide, inputs, p, bounds, max_checks=max_checks)
                 for p, bounds in varied.items()]
        return CapacityResult(
            property, tuple(typed(e, {}) for e in found), None, step, cluster.sources,
            cluster.overrides, render_edges_text(found, step) + "\n",
        )
    (rows_parameter, row_bounds), (parameter, bounds) = _region_ranges(varied, rows)
    table = region(decide, inputs, (rows_parameter, *row_bounds), rows, (parameter, *bounds),
                   max_checks=max_checks)
    now = (current_value(inputs, rows_parameter), current_value(inputs, parameter))
    shown = CapacityRegion(rows_parameter.value, parameter.value, tuple(
        CapacityRow(value, typed(e, {rows_parameter: value})) for value, e in table
    ))
    return CapacityResult(property, (), shown, step, cluster.sources, cluster.overrides,
                          region_text(table, rows_parameter, now) + "\n")


def _edge_result(
    found: Edge, fixed: Mapping[Parameter, float], cluster: Cluster,
    grow: Callable[[Mapping[Parameter, float]], Inputs], options: CheckOptions, step: int,
    property: str,
) -> CapacityEdge:
    """The typed edge; the check past it is analysed again (the same analysis the search
    decided) so that its result carries the replayed counterexample."""
    not_proved = None
    if found.beyond is not None and found.beyond_outcome is not None:
        values = {**fixed, found.parameter: found.beyond}
        inputs = grow(values)
        analysis = analyse_inputs(inputs, horizon=options.horizon)
        grown = _grown(cluster, values, inputs)
        if property == SERVER_LOAD:
            upstream = check_property(analysis, "upstream-limit", rlimit=options.rlimit,
                                      budget=options.budget)
            not_proved = result_of(analysis, upstream, grown, found.beyond_outcome,
                                   only=SERVER_LOAD)
        else:
            not_proved = result_of(analysis, found.beyond_outcome, grown, only=PROPERTY)
    return CapacityEdge(
        found.parameter.value, found.current, found.safe, found.beyond, not_proved,
        found.exact, found.limit,
        tuple(CapacityCheck(p.value, p.outcome.verdict) for p in found.probes),
        edge_text(found, step), edge_json(found),
    )


def _varied(vary: object) -> dict[Parameter, Bounds]:
    if isinstance(vary, str):
        vary = [vary]
    if isinstance(vary, Mapping):
        pairs = list(vary.items())
    elif isinstance(vary, Sequence):
        pairs = [(name, None) for name in vary]
    else:
        raise InvalidArgument(
            f"vary: parameter names or a mapping of names to (low, high), not {type(vary).__name__}"
        )
    if not pairs:
        raise InvalidArgument(f"vary: name at least one of {', '.join(GROWTH_PARAMETERS)}")
    varied: dict[Parameter, Bounds] = {}
    for name, bounds in pairs:
        if not isinstance(name, str):
            raise InvalidArgument(f"vary: a parameter name, not {name!r}")
        parameter = parse_parameter(name)
        if parameter in varied:
            raise InvalidArgument(f"vary: {name} is given twice")
        varied[parameter] = _bounds(name, bounds)
    return varied


def _bounds(name: str, bounds: object) -> Bounds:
    if bounds is None:
        return None
    numbers = (
        isinstance(bounds, tuple | list) and len(bounds) == 2
        and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
    )
    if not numbers or not 0 < bounds[0] < bounds[1] <= MAX_RANGE_END:  # type: ignore[index]
        raise InvalidArgument(
            f"vary: {name}={bounds!r}: a range (low, high) with 0 < low < high <= {MAX_RANGE_END:,}"
        )
    return float(bounds[0]), float(bounds[1])  # type: ignore[index]


def _region_ranges(
    varied: dict[Parameter, Bounds], rows: int
) -> tuple[tuple[Parameter, tuple[float, float]], tuple[Parameter, tuple[float, float]]]:
    if isinstance(rows, bool) or not isinstance(rows, int) or not 2 <= rows <= MAX_ROWS:
        raise InvalidArgument(f"rows={rows!r}: a whole number from 2 to {MAX_ROWS}")
    ranged = [(p, b) for p, b in varied.items() if b is not None]
    if len(varied) != 2 or len(ranged) != 2:
        raise InvalidArgument(
            "rows: a region needs two parameters, each with its range (low, high)"
        )
    return ranged[0], ranged[1]


__all__ = [
    "GROWTH_PARAMETERS",
    "PROPERTIES",
    "Assumption",
    "CapacityCheck",
    "CapacityEdge",
    "CapacityRegion",
    "CapacityResult",
    "CapacityRow",
    "CheckResult",
    "Cluster",
    "DiffResult",
    "FactChange",
    "Headroom",
    "Movement",
    "PropertyResult",
    "TraceEvent",
    "TraceStep",
    "Unmodelled",
    "UpstreamCount",
    "Verdict",
    "check",
    "diff",
    "load",
    "load_objects",
]
