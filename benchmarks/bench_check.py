"""Scale benchmark of `kalc-formal check` (issue 3): time to verdict and formula size.

Run from the repository root:  python -m benchmarks.bench_check [--quick] [--runs N]
[--section NAME ...] [--markdown PATH] [--json PATH]

Each point is a synthetic cluster (benchmarks/synthetic.py) written to a temporary
folder and run through the real pipeline: ``reading.read_inputs`` ->
``analyse_inputs`` -> ``check``, each stage timed with ``time.perf_counter``; the
median of ``--runs`` runs (default 3) is reported; a point whose first run takes more
than ``SLOW_SECONDS`` is run once. Formula size is the unrolling of the case's
FlowModel to its horizon (``encode.Unrolling`` plus ``formula_size``). Results and
method: specs/benchmark.md.

Every point (and each of the sections unsafe, horizon, reading) runs in a new Python
process: Z3's global context and the garbage collector's heap then do not carry
over from one point to the next. Each process makes one small warm-up run first.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml
import z3
from tabulate import tabulate

from benchmarks.synthetic import Case, Plan, plan_case, scaled, write_case
from kalc_formal import engine
from kalc_formal.analysis.result import Analysis, client_load
from kalc_formal.config import reading
from kalc_formal.config.envspec import Given
from kalc_formal.model import solve
from kalc_formal.model.encode import FormulaSize, Unrolling, formula_size
from kalc_formal.model.flowmodel import FlowModel
from kalc_formal.model.solve import Outcome, SolverGaveUp

C_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ROOT = Path(__file__).resolve().parent.parent
FOLDER = "cluster"
SLOW_SECONDS = 10.0
"""A point whose first run takes longer than this is not run again."""
SECTIONS = ("grid", "goal", "tenfold", "unsafe", "bounded", "horizon", "reading", "classes",
            "serverload")


@dataclass(slots=True)
class Stages:
    read: float
    analyse: float
    solve: float

    @property
    def total(self) -> float:
        return self.read + self.analyse + self.solve


@dataclass(slots=True)
class Point:
    """One measured case."""

    case: Case
    rate: str = ""
    surge_rate: str = ""
    limit: int = 0
    generator_worst_step: int = 0
    verdict: str = ""
    steps: str = ""
    reason: str = ""
    times: Stages = field(default_factory=lambda: Stages(0.0, 0.0, 0.0))
    all_times: list[list[float]] = field(default_factory=list)
    pod_classes: int = 0
    flows: int = 0
    key_classes: int = 0
    evicting_pools: str = ""
    model_worst_step: int | None = None
    trace_packets: int | None = None
    size: FormulaSize | None = None
    encode_seconds: float = 0.0
    manifest_bytes: int = 0
    documents: int = 0
    error: str = ""


@contextlib.contextmanager
def written(case: Case) -> Iterator[tuple[Path, Plan]]:
    """``case`` written to ``<temporary>/cluster``, with the working directory there.

    The pipeline is given the relative path ``cluster``: file paths end up in key
    class ids and so in Z3's variable names, and Z3's search depends on those names.
    """
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="kalc-bench-") as temporary:
        os.chdir(temporary)
        try:
            folder = Path(FOLDER)
            yield folder, write_case(case, folder)
        finally:
            os.chdir(previous)


def run_pipeline(folder: Path) -> tuple[Analysis, Outcome, list[float]]:
    """Read, analyse and decide once; the seconds each stage took."""
    gc.collect()
    start = time.perf_counter()
    inputs = reading.read_inputs([str(folder)])
    read = time.perf_counter()
    analysis = engine.analyse_inputs(inputs)
    analysed = time.perf_counter()
    outcome = engine.check(analysis)
    decided = time.perf_counter()
    return analysis, outcome, [read - start, analysed - read, decided - analysed]


def unrolled(model: FlowModel, horizon: int) -> list[Any]:
    """The assertions of the unrolling to ``horizon`` steps, with the violation query."""
    unrolling = Unrolling(model, horizon)
    facts = list(unrolling.initial)
    for _ in range(horizon):
        facts += unrolling.extend()
    facts.append(z3.Or([unrolling.violation(t) for t in range(horizon)]))
    return facts


def measure(case: Case, runs: int, *, size: bool = True) -> Point:
    """``measure_here`` in a new Python process."""
    data = _child("point", {"case": asdict(case), "runs": runs, "size": size})
    return point_from(data)


def measure_here(case: Case, runs: int, *, size: bool = True) -> Point:
    """Write ``case``, run it ``runs`` times, and record verdict, medians and size."""
    with written(case) as (folder, plan):
        point = _planned(case, plan, folder)
        try:
            for _ in range(runs):
                analysis, outcome, seconds = run_pipeline(folder)
                point.all_times.append(seconds)
                if sum(seconds) > SLOW_SECONDS:
                    break
        except Exception as error:  # a crash of the pipeline is a result to report
            point.error = f"{type(error).__name__}: {error}"
            point.verdict = "error"
            return point
    columns = list(zip(*point.all_times, strict=True))
    point.times = Stages(*(statistics.median(c) for c in columns))
    _describe(point, analysis, outcome)
    if size:
        start = time.perf_counter()
        facts = unrolled(analysis.model, case.horizon)
        point.encode_seconds = time.perf_counter() - start
        point.size = formula_size(facts)
    return point


def point_from(data: dict[str, Any]) -> Point:
    data = dict(data)
    data["case"] = Case(**data["case"])
    data["times"] = Stages(**data["times"])
    data["size"] = FormulaSize(**data["size"]) if data["size"] else None
    return Point(**data)


def _child(kind: str, arguments: dict[str, Any]) -> Any:
    """Run ``kind`` with ``arguments`` in a new Python process; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_check", "--child", kind, json.dumps(arguments)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {kind} failed:\n{done.stderr}")
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout)


def run_child(kind: str, arguments: dict[str, Any]) -> Any:
    run_pipeline_warm_up()
    if kind == "point":
        case = Case(**arguments["case"])
        return asdict(measure_here(case, arguments["runs"], size=arguments["size"]))
    rows: list[Any]
    if kind == "horizon":
        rows = horizon_here(arguments["runs"], arguments["depths"])
    elif kind == "unsafe":
        rows = unsafe_here(arguments["runs"])
    elif kind == "classes":
        rows = classes_here(arguments["runs"], arguments["classes"])
    elif kind == "serverload":
        rows = serverload_here(arguments["runs"])
    else:
        rows = reading_here(arguments["runs"])
    return [asdict(row) for row in rows]


def _planned(case: Case, plan: Plan, folder: Path) -> Point:
    files = [folder / "coredns.yaml", *sorted((folder / "namespaces").glob("*.yaml"))]
    texts = [f.read_text() for f in files]
    return Point(
        case, plan.rate, plan.surge_rate, plan.limit, plan.worst_step,
        manifest_bytes=sum(len(t.encode()) for t in texts),
        documents=sum(t.count("\n---\n") + 1 for t in texts),
    )


def _describe(point: Point, analysis: Analysis, outcome: Outcome) -> None:
    model = analysis.model
    point.verdict = outcome.verdict.value
    point.reason = outcome.reason
    if outcome.counterexample is not None:
        point.steps = f"trace {outcome.counterexample.length}"
        point.trace_packets = outcome.counterexample.steps[-1].upstream.get("u0")
    elif outcome.induction_depth is not None:
        point.steps = f"k={outcome.induction_depth}"
    point.pod_classes = len({f.pod_class for f in analysis.flows.values()})
    point.flows = len(model.flows)
    point.key_classes = len(model.key_classes)
    point.evicting_pools = f"{sum(model.may_evict(p.id) for p in model.pools)}/{len(model.pools)}"
    point.model_worst_step = outcome.worst_step.get("u0")


# ---- the points -------------------------------------------------------------------------


def base(intent: str) -> Case:
    return Case("base", pods=5_000, namespaces=100, names=50, intent=intent,  # type: ignore[arg-type]
                coredns_replicas=2, horizon=60)


def goal(intent: str, pods: int = 50_000, **changes: Any) -> Case:
    return Case(f"goal {pods:,} pods", pods=pods, namespaces=500, names=200,
                intent=intent, coredns_replicas=20, horizon=120, nodes=2_000,  # type: ignore[arg-type]
                **changes)


def grid_cases(quick: bool) -> Iterator[Case]:
    """One-at-a-time sweeps around the base point, for both intents, and the corners.

    ``quick``: the base point, the corners and the largest value of pods and namespaces.
    """
    for intent in ("unsafe", "proved"):
        b = base(intent)
        yield scaled(b, label="base")
        yield scaled(b, label="smallest", pods=100, namespaces=10, names=10, coredns_replicas=1,
                     horizon=30)
        for pods in (500, 50_000):
            if pods == 50_000 or not quick:
                yield scaled(b, label=f"pods {pods:,}", pods=pods)
        for namespaces in (10, 500):
            if namespaces == 500 or not quick:
                yield scaled(b, label=f"namespaces {namespaces}", namespaces=namespaces)
        if quick:
            continue
        for names in (10, 200):
            yield scaled(b, label=f"names {names}", names=names)
        for classes in (1, 16):
            yield scaled(b, label=f"200 names in {classes} classes", names=200, name_classes=classes)
        for replicas in (1, 20):
            yield scaled(b, label=f"replicas {replicas}", coredns_replicas=replicas)
        for horizon in (30, 120):
            yield scaled(b, label=f"horizon {horizon}", horizon=horizon)
        yield scaled(b, label="autopath off", autopath=False)
        yield scaled(b, label="1.14.7, 1 pod class", version="1.14.7", tiers=1)
        yield scaled(b, label="1.14.7, 2 pod classes", version="1.14.7")


def section_grid(runs: int, quick: bool) -> list[Point]:
    return [_progress(measure(case, runs)) for case in grid_cases(quick)]


def section_goal(runs: int, quick: bool) -> list[Point]:
    """The goal case (its per-namespace autopath keys overflow the 9,984-entry cache), and
    the same with 20 namespaces, whose keys fit."""
    points = []
    for intent in ("unsafe", "proved"):
        points.append(_progress(measure(goal(intent), runs)))
        fits = scaled(goal(intent), label="goal, 20 ns (fits the cache)", namespaces=20)
        points.append(_progress(measure(fits, runs)))
    return points


def section_tenfold(runs: int, quick: bool) -> list[Point]:
    """5,000 vs 50,000 pods at equal classes: more workloads, or bigger workloads."""
    points = []
    for intent in ("unsafe", "proved"):
        for pods, per_namespace, how in (
            (5_000, 1, "500 workloads x 10 pods"),
            (50_000, 10, "5,000 workloads x 10 pods"),
            (50_000, 1, "500 workloads x 100 pods"),
        ):
            case = scaled(goal(intent, pods), label=how, workloads_per_namespace=per_namespace)
            points.append(_progress(measure(case, runs, size=pods == 5_000)))
    return points


@dataclass(slots=True)
class Phase:
    case: str
    phase: str
    seconds: float
    result: str


def section_unsafe(runs: int, quick: bool) -> list[Phase]:
    return [Phase(**row) for row in _child("unsafe", {"runs": runs})]


def unsafe_here(runs: int) -> list[Phase]:
    """The solve stage of unsafe cases, phase by phase, as ``solve.decide`` runs them."""
    phases: list[Phase] = []
    cases = [
        goal("unsafe"),
        scaled(base("unsafe"), label="autopath off, busy baseline", autopath=False, tiers=1,
               calm_baseline=False),
    ]
    for case in cases:
        model = _model(case)
        timed: dict[str, list[float]] = {}
        results: dict[str, str] = {}
        for _ in range(runs):
            for name, seconds, result in _unsafe_phases(model, case.horizon):
                timed.setdefault(name, []).append(seconds)
                results[name] = result
        phases += [Phase(case.label, n, statistics.median(s), results[n]) for n, s in timed.items()]
        _progress_text(f"unsafe phases: {case.label}")
    return phases


def _unsafe_phases(model: FlowModel, horizon: int) -> Iterator[tuple[str, float, str]]:
    start = time.perf_counter()
    depth = solve.prove_by_induction(model, 0)
    yield "k-induction at k=0 (fails)", time.perf_counter() - start, f"k={depth}"
    start = time.perf_counter()
    found = solve.find_shortest_violation(model, min(solve.QUICK_STEPS, horizon))
    assert found is not None
    unrolling, solver, step = found
    yield "shortest violation (BMC, deepening)", time.perf_counter() - start, f"step {step}"
    start = time.perf_counter()
    best, _minimal = solve.smallest_surge(unrolling, solver)
    surge = best.eval(unrolling.surge(), model_completion=True).as_long()
    yield "smallest surge (binary search)", time.perf_counter() - start, f"surge {surge:,}"
    start = time.perf_counter()
    steps = solve.replay(model, unrolling.decode(best), step + 1)
    over = ", ".join(steps[-1].violated) or "none"
    yield "decode and replay", time.perf_counter() - start, f"over the limit: {over}"


def section_bounded(runs: int, quick: bool) -> list[Point]:
    """A case whose shortest trace has 2 steps, checked at horizons 1 and 2."""
    case = scaled(base("unsafe"), label="autopath off", autopath=False, tiers=1,
                  calm_baseline=False)
    return [
        _progress(measure(scaled(case, label=f"autopath off, horizon {h}", horizon=h), runs))
        for h in (1, 2)
    ]


@dataclass(slots=True)
class Deep:
    case: str
    evicting: str
    horizon: int
    seconds: float
    result: str


def section_horizon(runs: int, quick: bool) -> list[Deep]:
    depths = [10, 20, 30, 60] if quick else [10, 20, 30, 60, 120]
    return [Deep(**row) for row in _child("horizon", {"runs": runs, "depths": depths})]


def horizon_here(runs: int, depths: list[int]) -> list[Deep]:
    """The monolithic BMC query at the horizon (``solve.any_violation_within``).

    ``decide`` reaches it only when neither k=0 induction nor the 5-step search decides
    (the path to safe-bounded); measured here for what a deeper verdict would cost.
    """
    rows = []
    cases = [
        scaled(goal("proved", 5_000), label="20 ns, fits the cache", namespaces=20),
        scaled(goal("proved", 5_000), label="500 ns, may evict"),
    ]
    for case in cases:
        model = _model(case)
        evicting = f"{sum(model.may_evict(p.id) for p in model.pools)}/{len(model.pools)}"
        for horizon in depths:
            times, result = [], ""
            for _ in range(runs):
                start = time.perf_counter()
                try:
                    found = solve.any_violation_within(model, horizon)
                    result = "no violation" if found is None else f"violation at {found}"
                except SolverGaveUp as gave_up:
                    result = f"unknown (Z3: {gave_up})"
                times.append(time.perf_counter() - start)
            rows.append(Deep(case.label, evicting, horizon, statistics.median(times), result))
            _progress_text(f"horizon {horizon}: {case.label}: {result}")
            if result.startswith("unknown"):
                break
    return rows


@dataclass(slots=True)
class Classes:
    """One case of the name-class sweep: the solve stage as `check` runs it (with the
    CLI's default budget), and what it could say beyond the verdict."""

    intent: str
    classes: int
    flows: int
    key_classes: int
    rate: str
    surge_rate: str
    seconds: float
    units: int
    verdict: str
    headroom: str
    surge: str
    int_variables: int
    assertions: int


CLASS_COUNTS = (4, 8, 16)


def section_classes(runs: int, quick: bool) -> list[Classes]:
    return [Classes(**row) for row in _child("classes", {"runs": runs, "classes": CLASS_COUNTS})]


def classes_case(intent: str, classes: int, rates: tuple[str, str] | None = None) -> Case:
    """200 names in ``classes`` name classes on the base cluster (5,000 pods, 100
    namespaces, 2 replicas, H = 60); ``rates``: (rate, surge rate), else planned."""
    return scaled(base(intent), label=f"200 names in {classes} classes", names=200,
                  name_classes=classes, rates=rates)


def classes_here(runs: int, counts: list[int]) -> list[Classes]:
    """The same cluster with 200 names in each of ``counts`` name classes, at the rates
    planned for the first count (same pods, namespaces, names and rates): the solve
    stage's time (median of ``runs``), the Z3 units it spent (deterministic), whether
    the headroom was computed (proved) and the smallest surge confirmed (unsafe)."""
    rows = []
    for intent in ("proved", "unsafe"):
        plan = plan_case(classes_case(intent, counts[0]))
        rates = (plan.rate, plan.surge_rate)
        for count in counts:
            case = classes_case(intent, count, rates)
            model = _model(case)
            times, outcome = [], None
            for _ in range(runs):
                gc.collect()
                start = time.perf_counter()
                outcome = solve.decide(model, case.horizon, budget=solve.DEFAULT_BUDGET)
                times.append(time.perf_counter() - start)
            assert outcome is not None
            size = formula_size(unrolled(model, case.horizon))
            rows.append(Classes(
                intent, count, len(model.flows), len(model.key_classes), *rates,
                statistics.median(times), outcome.units or 0, outcome.verdict.value,
                _headroom(model, outcome), _surge(outcome), size.int_variables, size.assertions,
            ))
            _progress_text(f"classes {count} [{intent}]: {outcome.verdict.value} "
                           f"{statistics.median(times):.2f}s")
    return rows


def _headroom(model: FlowModel, outcome: Outcome) -> str:
    if outcome.verdict is not solve.Verdict.PROVED:
        return "-"
    if all(s.id in outcome.worst_step for s in model.scopes):
        return "yes (" + ", ".join(f"{v:,}" for v in outcome.worst_step.values()) + ")"
    return "no"


def _surge(outcome: Outcome) -> str:
    trace = outcome.counterexample
    if trace is None:
        return "-"
    return f"{'yes' if trace.surge_minimal else 'no'} ({trace.surge:,})"


def classes_table(rows: list[Classes]) -> str:
    table = []
    for row in rows:
        first = next(r for r in rows if r.intent == row.intent)
        table.append([
            row.intent, row.classes, row.flows, row.key_classes, f"{row.rate} / {row.surge_rate}",
            row.verdict, f"{row.seconds:.2f}", f"{row.seconds / first.seconds:.2f}",
            f"{row.units:,}", row.headroom, row.surge, f"{row.int_variables:,}",
            f"{row.assertions:,}",
        ])
    headers = ["built for", "name classes", "flows", "key classes", "rate / surge rate",
               "verdict", "solve s", f"x {rows[0].classes} classes", "Z3 + encoding units",
               "headroom computed", "smallest surge confirmed", "int vars@H", "assertions@H"]
    return tabulate(table, headers, tablefmt="github")


@dataclass(slots=True)
class Reading:
    case: str
    what: str
    seconds: float


@dataclass(slots=True)
class LoadPoint:
    """server-load on one case: the capacity set just above (proved) or below (unsafe)
    the busiest replica's peak client queries, and the seconds its check took."""

    case: str
    namespaces: int
    pods: int
    flows: int
    peak: int
    capacity: int
    verdict: str
    evidence: str
    seconds: float


def section_serverload(runs: int, quick: bool) -> list[LoadPoint]:
    return [LoadPoint(**row) for row in _child("serverload", {"runs": runs})]


def serverload_here(runs: int) -> list[LoadPoint]:
    """The goal case and the same with ten times the namespaces, each with a capacity 1%
    above and 1% below the busiest replica's peak."""
    rows = []
    for case in (goal("unsafe"), scaled(goal("unsafe"), label="goal, 5,000 ns", namespaces=5_000)):
        with written(case) as (folder, _):
            inputs = reading.read_inputs([str(folder)])
            peak = client_load(engine.analyse_inputs(inputs))["coredns"][1]
            for capacity in (peak * 101 // 100, peak * 99 // 100):
                env = dataclasses.replace(inputs.env, coredns=dataclasses.replace(
                    inputs.env.coredns, capacity_qps=Given(capacity, None)))
                analysis = engine.analyse_inputs(inputs, env=env)
                seconds = _median(runs, partial(engine.check_property, analysis, "server-load"))
                outcome = engine.check_property(analysis, "server-load")
                evidence = (
                    f"surge {outcome.counterexample.surge:,}" if outcome.counterexample
                    else f"worst {outcome.worst_step.get('coredns', 0):,}"
                )
                rows.append(LoadPoint(case.label, case.namespaces, case.pods,
                                      len(analysis.model.flows), peak, capacity,
                                      outcome.verdict.value, evidence, seconds))
    return rows


def section_reading(runs: int, quick: bool) -> list[Reading]:
    return [Reading(**row) for row in _child("reading", {"runs": runs})]


def reading_here(runs: int) -> list[Reading]:
    """Where reading 50,000 pods' manifests goes: YAML composition, the GC, the rest."""
    rows = []
    for pods, per_namespace in ((5_000, 1), (50_000, 10)):
        case = scaled(goal("proved", pods), workloads_per_namespace=per_namespace)
        label = f"{pods:,} pods, {500 * per_namespace:,} workloads"
        with written(case) as (folder, _):
            rows += _reading_rows(label, folder, runs)
        _progress_text(f"reading: {label}")
    return rows


def _reading_rows(label: str, folder: Path, runs: int) -> list[Reading]:
    texts = [f.read_text() for f in sorted(folder.rglob("*.yaml")) if f.name != "kalc.yaml"]

    def read() -> object:
        return reading.read_inputs([str(folder)])

    def compose() -> object:
        return [list(yaml.compose_all(text, Loader=C_LOADER)) for text in texts]

    return [
        Reading(label, "read_inputs", _median(runs, read)),
        Reading(label, "read_inputs, cyclic GC off", _median(runs, read, gc_off=True)),
        Reading(label, "yaml.compose_all (C parser), one call per file", _median(runs, compose)),
        Reading(label, "yaml.compose_all, one call per file, GC off",
                _median(runs, compose, gc_off=True)),
    ]


def _median(runs: int, action: Callable[[], object], *, gc_off: bool = False) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        if gc_off:
            gc.disable()
        try:
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times)


def _model(case: Case) -> FlowModel:
    with written(case) as (folder, _):
        return engine.analyse_inputs(reading.read_inputs([str(folder)])).model


def cli_seconds(case: Case) -> tuple[float, int]:
    """Wall time of `python -m kalc_formal check DIR --format json` in a new process."""
    with written(case) as (folder, _):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "kalc_formal", "check", str(folder), "--format", "json"],
            capture_output=True, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        return time.perf_counter() - start, done.returncode


# ---- output -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "z3": z3.get_version_string(),
        "pyyaml": f"{yaml.__version__} (libyaml: {yaml.__with_libyaml__})",
        "platform": platform.platform(),
    }


def _chain(case: Case) -> str:
    return f"{'autopath' if case.autopath else 'no autopath'} {case.version}"


def _seconds(value: float) -> str:
    return f"{value:.2f}"


def _short(error: str) -> str:
    kind, _, message = error.partition(": ")
    return f"error ({kind}): ...{message[-45:]}" if len(message) > 45 else f"error ({kind}): {message}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def timing_table(points: list[Point]) -> str:
    rows = []
    for p in points:
        c = p.case
        rows.append([
            c.label, f"{c.pods:,}", c.namespaces, f"{c.names} ({c.name_classes}+svc)",
            c.coredns_replicas, c.horizon, _chain(c), c.intent,
            p.verdict if not p.error else _short(p.error), p.steps, len(p.all_times),
            _seconds(p.times.read), _seconds(p.times.analyse), _seconds(p.times.solve),
            _seconds(p.times.total),
        ])
    headers = ["case", "pods", "ns", "names (classes)", "R", "H", "CoreDNS", "built for",
               "verdict", "steps", "runs", "read s", "analyse s", "solve s", "total s"]
    return tabulate(rows, headers, tablefmt="github")


def size_table(points: list[Point]) -> str:
    rows = []
    for p in points:
        if p.error:
            continue
        size = p.size
        rows.append([
            p.case.label, p.case.intent, f"{p.documents:,}", f"{p.manifest_bytes / 1e6:.2f}",
            p.pod_classes, p.flows, p.key_classes, p.evicting_pools,
            f"{size.int_variables:,}" if size else "-", f"{size.bool_variables:,}" if size else "-",
            f"{size.assertions:,}" if size else "-", f"{size.nodes:,}" if size else "-",
            _seconds(p.encode_seconds) if size else "-",
            f"{p.generator_worst_step:,} / {_count(p.model_worst_step)} / {p.limit:,}",
            _count(p.trace_packets),
        ])
    headers = ["case", "built for", "docs", "MB", "pod classes", "flows", "key classes",
               "evicting pools", "int vars@H", "bool vars@H", "assertions@H", "DAG nodes@H",
               "encode@H s", "worst step: generator / model / limit", "trace's last step"]
    return tabulate(rows, headers, tablefmt="github")


def tenfold_summary(points: list[Point]) -> str:
    rows = []
    for intent in ("unsafe", "proved"):
        mine = [p for p in points if p.case.intent == intent and not p.error]
        small = mine[0]
        for large in mine[1:]:
            rows.append([
                intent, large.case.label,
                f"{large.times.total / small.times.total:.2f}",
                f"{(large.times.analyse + large.times.solve) / (small.times.analyse + small.times.solve):.2f}",
                f"{large.times.read / small.times.read:.2f}",
            ])
    headers = ["built for", "50,000 pods as", "total ratio", "analyse+solve ratio", "read ratio"]
    return tabulate(rows, headers, tablefmt="github")


def render(results: dict[str, Any], extras: dict[str, Any]) -> str:
    out = ["## Machine", "", tabulate(machine().items(), ["", ""], tablefmt="github"), ""]
    for name in ("grid", "goal", "tenfold", "bounded"):
        if name in results:
            out += [f"## {name}", "", timing_table(results[name]), "", size_table(results[name]), ""]
        if name == "tenfold" and name in results:
            out += [tenfold_summary(results[name]), ""]
    if "unsafe" in results:
        out += ["## unsafe: solve phases", "", tabulate(
            [[p.case, p.phase, f"{p.seconds:.3f}", p.result] for p in results["unsafe"]],
            ["case", "phase", "seconds", "result"], tablefmt="github"), ""]
    if "horizon" in results:
        out += ["## horizon: monolithic BMC at the horizon", "", tabulate(
            [[d.case, d.evicting, d.horizon, f"{d.seconds:.2f}", d.result] for d in results["horizon"]],
            ["case", "evicting pools", "H", "seconds", "result"], tablefmt="github"), ""]
    if "classes" in results:
        out += ["## classes: 200 names in 4, 8 and 16 name classes", "",
                classes_table(results["classes"]), ""]
    if "serverload" in results:
        out += ["## serverload: server-load at the goal case and at 10x its namespaces", "",
                tabulate([[p.case, p.namespaces, f"{p.pods:,}", p.flows, f"{p.peak:,}",
                           f"{p.capacity:,}", p.verdict, p.evidence, f"{p.seconds:.3f}"]
                          for p in results["serverload"]],
                         ["case", "ns", "pods", "flows", "peak/s", "capacity/s", "verdict",
                          "evidence", "solve s"], tablefmt="github"), ""]
    if "reading" in results:
        out += ["## reading", "", tabulate(
            [[r.case, r.what, f"{r.seconds:.2f}"] for r in results["reading"]],
            ["case", "what", "seconds"], tablefmt="github"), ""]
    if extras:
        out += ["## cli", "", tabulate(extras.items(), ["", ""], tablefmt="github"), ""]
    return "\n".join(out)


def _progress(point: Point) -> Point:
    c = point.case
    _progress_text(
        f"{c.label} [{c.intent}]: {point.verdict} {point.steps} total {point.times.total:.2f}s"
        + (f" {point.error}" if point.error else "")
    )
    return point


def _progress_text(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per point (median)")
    parser.add_argument("--quick", action="store_true", help="fewer grid points")
    parser.add_argument("--section", action="append", choices=SECTIONS,
                        help="run only these sections (repeatable)")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child[0], json.loads(args.child[1])), default=str))
        return 0
    sections = args.section or list(SECTIONS)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    runners: dict[str, Callable[[int, bool], list[Any]]] = {
        "grid": section_grid, "goal": section_goal, "tenfold": section_tenfold,
        "unsafe": section_unsafe, "bounded": section_bounded,
        "horizon": section_horizon, "reading": section_reading, "classes": section_classes,
        "serverload": section_serverload,
    }
    for name in sections:
        results[name] = runners[name](args.runs, args.quick)
    extras: dict[str, Any] = {}
    if "goal" in sections:
        seconds, code = cli_seconds(goal("unsafe"))
        extras["`python -m kalc_formal check` on the goal case (unsafe), new process"] = (
            f"{seconds:.2f} s, exit {code}"
        )
    extras["benchmark wall time"] = f"{time.perf_counter() - started:.0f} s"
    text = render(results, extras)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": machine(), **{k: [asdict(v) for v in vs] for k, vs in results.items()}},
            indent=1, default=str,
        ))
    return 0


def run_pipeline_warm_up() -> None:
    """One small run first, so one-off costs (imports, grammar building) hit no point."""
    with written(Case("warm-up", 100, 10, 10, "proved")) as (folder, _):
        run_pipeline(folder)


if __name__ == "__main__":
    raise SystemExit(main())
