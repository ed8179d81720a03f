"""The falsification campaign for server-load: the checker's verdict on the client queries of
the busiest CoreDNS replica (or node-local cache) against the reference simulator.

For each generated cluster the checker is first asked with a capacity no run can reach; its
proof gives the most client queries one step can bring to the busiest server (the headroom
`worst`). Then two capacities are checked:

- `worst` (a tight proof): no schedule of the simulator may bring more than `worst` client
  queries to one server from the lookups started in one step (`false-proof-step`: the
  model's own count is wrong), in a fixed second [k, k+1) (`false-proof`: a lookup started
  late in one second sends its later candidates in the next), nor in any window [t, t+1)
  (`false-proof-sliding`: the model's per-step count is not a sliding one-second bound);
- `worst - 1` (an `unsafe` verdict): the checker's trace is concretised (its per-step lookups,
  placed and timed by the adversary) and the adversarial schedules are tried until one brings
  more than the capacity in a fixed second (`confirmed`), else `false-alarm`.

The simulator's kube-proxy split is the model's rule (split `flow`: the busiest replica gets
at most max(floor((1 + skew) / R x L), ceil(L / R)) of each flow's L lookups in a step, K7).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.oracle.campaign import check, trace_budgets
from tests.oracle.gen import render
from tests.oracle.refsim import Peak, pods_of
from tests.oracle.schedules import GREEDY, Result, Strategy, random_strategies, run
from tests.oracle.spec import ClusterSpec

UNREACHABLE = 10**8
"""A capacity no generated cluster reaches: the proof then reports the busiest step."""

LOAD_GREEDY = tuple(dataclasses.replace(s, split="flow", saving=False) for s in (
    *GREEDY,
    Strategy("straddle", timing="straddle"),
    Strategy("straddle-300ms", timing="straddle", reply_time=0.3),
    Strategy("straddle-burst-history", timing="straddle", prephase_mode="burst"),
    Strategy("alternate-300ms-burst-history", timing="alternate", reply_time=0.3,
             prephase_mode="burst"),
))
"""The upstream campaign's greedy schedules and schedules that put one step's lookups at its
end (their later candidates go out in the next second, after the upstream's reply: 20 ms, or
300 ms for a slow upstream) and the next step's at its start; all with the checker's
assumptions: the per-flow split, and pods that send alike (no pod spends in one step the
lookups it did not make before)."""

BUNCHED = dataclasses.replace(GREEDY[0], name="greedy-expiry-bunched-pods", split="flow")
"""Outside the checker's assumption that the pods of a class send alike: a pod may spend in one
step what it did not send before (its lookups so far stay within its rate)."""

CI_LOAD_STRATEGIES = (LOAD_GREEDY[5], LOAD_GREEDY[8], LOAD_GREEDY[9])
"""A fast subset: alternate, straddle, straddle with a slow upstream."""


@dataclass
class LoadCase:
    spec: ClusterSpec
    server: str
    """coredns | nodelocal: the server whose capacity is checked."""
    verdict: str
    capacity: int
    """Client queries per second of one server."""
    worst: int | None
    """The checker's most client queries in one step at the busiest server (its headroom)."""
    checker_seconds: float
    sim_seconds: float = 0.0
    best: Result | None = None
    schedules: int = 0
    trace_load: int | None = None
    """The client queries the checker's counterexample has at its last step."""
    step_load: int = 0
    """The simulator's most client queries at one server from the lookups started in one
    step (the checker's count), over every schedule."""
    bunched_step_load: int | None = None
    """The same with pods that do not send alike (`BUNCHED`), for a proof."""
    outcome: str = ""
    """held | false-proof-step (the lookups of one step bring more than the proof) |
    false-proof (a fixed second gets more) | false-proof-sliding (a one-second window
    gets more) | confirmed | false-alarm | skipped"""
    note: str = ""
    results: list[Result] = field(default_factory=list)

    @property
    def peak(self) -> Peak | None:
        return self.best.load[self.server] if self.best else None

    def line(self) -> str:
        peak = self.peak
        found = (f"{peak.fixed}/s fixed, {peak.sliding} sliding at {peak.where} "
                 f"({self.best.strategy})" if peak and self.best else "-")
        return (f"{self.spec.name}: {self.verdict:8s} {self.server} capacity {self.capacity}/s "
                f"(checker's worst step {self.worst}); simulator {found}; {self.outcome} "
                f"{self.note}").rstrip()


def served_by(spec: ClusterSpec) -> str | None:
    """The server the clients ask: CoreDNS, the node-local caches, or none (all direct)."""
    paths = {pod.path for pod in pods_of(spec)}
    return "coredns" if "coredns" in paths else "nodelocal" if "nodelocal" in paths else None


def with_capacity(spec: ClusterSpec, server: str, capacity: int) -> ClusterSpec:
    if server == "coredns":
        return dataclasses.replace(spec, capacity_qps=capacity, nodelocal_capacity_qps=None)
    return dataclasses.replace(spec, nodelocal_capacity_qps=capacity, capacity_qps=None)


@dataclass(frozen=True)
class LoadVerdict:
    """The checker's server-load verdict (`check --format json`, `properties`)."""

    verdict: str
    reason: str = ""
    worst: int | None = None
    """The most client queries one step brings to the busiest server (for a proof)."""
    trace: tuple[dict[str, Any], ...] = ()


def check_server_load(spec: ClusterSpec, folder: Path) -> LoadVerdict:
    """The checker's server-load verdict on the rendered cluster (the command line, in-process)."""
    render(spec, folder)
    document = check(folder)
    properties = [document["server_load"]] if "server_load" in document else []
    if not properties:
        reason = str(document.get("reason") or "no server-load limit in the model")
        return LoadVerdict("error" if document.get("verdict") == "error" else "none", reason[:160])
    (load,) = properties
    worsts = [limit["worst_step"] for limit in load["limits"] if limit.get("worst_step") is not None]
    return LoadVerdict(str(load["verdict"]), str(load.get("reason") or ""),
                       max(worsts) if worsts else None, tuple(load.get("trace", ())))


def falsify_load(spec: ClusterSpec, folder: Path, *, strategies: tuple[Strategy, ...] = LOAD_GREEDY,
                 random_count: int = 2, seed: int = 0, unsafe: bool = True) -> list[LoadCase]:
    """The tight proof (and with `unsafe`, the overload one below it) of one cluster."""
    server = served_by(spec)
    if server is None:
        return [LoadCase(spec, "-", "skipped", 0, None, 0.0, outcome="skipped",
                         note="every client asks the node's nameservers directly")]
    started = time.perf_counter()
    probe = check_server_load(with_capacity(spec, server, UNREACHABLE), folder / "probe")
    if probe.verdict != "proved" or probe.worst is None:
        return [LoadCase(spec, server, "skipped", UNREACHABLE, None,
                         time.perf_counter() - started, outcome="skipped",
                         note=f"{probe.verdict}: {probe.reason}"[:160])]
    worst = probe.worst
    capacities = [worst, worst - 1] if unsafe and worst > 1 else [worst]
    cases = []
    for capacity in capacities:
        cases.append(_case(with_capacity(spec, server, capacity), server, capacity, worst,
                           folder / f"capacity-{capacity}", strategies, random_count, seed))
    return cases


def _case(spec: ClusterSpec, server: str, capacity: int, worst: int, folder: Path,
          strategies: tuple[Strategy, ...], random_count: int, seed: int) -> LoadCase:
    started = time.perf_counter()
    outcome = check_server_load(spec, folder)
    checker_seconds = time.perf_counter() - started
    case = LoadCase(spec, server, outcome.verdict, capacity, worst, checker_seconds)
    if outcome.verdict not in ("proved", "unsafe"):
        case.outcome, case.note = "skipped", outcome.reason[:160]
        return case
    started = time.perf_counter()
    results = case.results

    def over(result: Result) -> bool:
        return result.load[server].fixed > capacity

    if outcome.trace:
        case.trace_load = max(outcome.trace[-1]["server_load"].values())
        budgets, restarts = trace_budgets(spec, {"trace": list(outcome.trace)})
        results.append(run(spec, dataclasses.replace(LOAD_GREEDY[0], name="concretised-trace"),
                           budgets=budgets, restart_steps=restarts))
        if over(results[-1]):
            case.note = "by the concretised trace"
    if not results or not over(results[-1]):
        for strategy in [*strategies, *(dataclasses.replace(s, split="flow", saving=False)
                                        for s in random_strategies(random_count, seed))]:
            results.append(run(spec, strategy))
            if outcome.verdict == "unsafe" and over(results[-1]):
                break
    case.schedules = len(results)
    case.best = max(results, key=lambda r: (r.load[server].fixed, r.load[server].sliding))
    case.sim_seconds = time.perf_counter() - started
    peak = case.best.load[server]
    sliding = max(r.load[server].sliding for r in results)
    case.step_load = max(r.step_load[server] for r in results)
    if outcome.verdict == "proved":
        case.bunched_step_load = run(spec, BUNCHED).step_load[server]
        case.outcome = ("false-proof-step" if case.step_load > capacity else
                        "false-proof" if peak.fixed > capacity else
                        "false-proof-sliding" if sliding > capacity else "held")
        case.note = (f"per step {case.step_load}, sliding {sliding}"
                     if case.outcome != "held" else "")
    else:
        case.outcome = "confirmed" if peak.fixed > capacity else "false-alarm"
    return case
