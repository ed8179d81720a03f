"""The falsification campaign: the checker's verdict on a generated cluster against the
reference simulator's worst schedule found.

- `proved` / `safe-bounded`: no schedule may exceed the limit; one that does is a
  false proof (per fixed second, or only over a sliding one-second window).
- `unsafe`: the checker's trace is concretised (its per-step lookups and restarts,
  placed and timed by the greedy adversary); if that does not exceed the limit,
  the adversarial schedules are tried; if none does, it is a false alarm (for
  what the simulator can reach: see refsim's scope).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kalc_formal.cli import main as kalc_main
from tests.oracle.gen import render
from tests.oracle.schedules import (
    GREEDY,
    Flow,
    Result,
    Strategy,
    flows,
    grid_strategies,
    random_strategies,
    run,
)
from tests.oracle.spec import ClusterSpec

TINY_LOOKUPS = 2000
"""Runs with at most this many lookups get the grid search before an `unsafe` is called a
false alarm."""


@dataclass
class Case:
    spec: ClusterSpec
    verdict: str
    limit: int
    checker_seconds: float
    sim_seconds: float = 0.0
    best: Result | None = None
    schedules: int = 0
    trace_result: Result | None = None
    outcome: str = ""
    """held | false-proof | false-proof-sliding | confirmed | false-alarm | skipped"""
    note: str = ""
    checker: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        peak = self.best.peak if self.best else None
        found = f"{peak.fixed}/s fixed, {peak.sliding} sliding at {peak.where} ({self.best.strategy})" \
            if peak and self.best else "-"
        return (f"{self.spec.name}: {self.verdict:12s} limit {self.limit}/s ({self.spec.scope}); "
                f"simulator {found}; {self.outcome} {self.note}").rstrip()


def check(folder: Path) -> dict[str, Any]:
    """`kalc-formal check FOLDER --format json`, in-process."""
    out = io.StringIO()
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = kalc_main(["check", str(folder), "--format", "json"])
    try:
        result: dict[str, Any] = json.loads(out.getvalue())
    except json.JSONDecodeError:
        result = {"verdict": "error", "reason": err.getvalue().strip()[-400:], "exit": code}
    return result


def trace_budgets(spec: ClusterSpec, checker: dict[str, Any]) -> tuple[dict[int, dict[Flow, int]], list[int]]:
    """The checker's trace as per-step lookups per flow and restart steps. Flows are matched by
    name class id; several lookup classes with one name class share its lookups by their peak."""
    budgets: dict[int, dict[Flow, int]] = {}
    restarts: list[int] = []
    for step in checker.get("trace", []):
        t = int(step["t"])
        per_name: dict[str, int] = {}
        for flow_id, count in step.get("lookups", {}).items():
            name_id = flow_id.rsplit("/", 1)[-1]
            per_name[name_id] = per_name.get(name_id, 0) + int(count)
        budgets[t] = {}
        for name_id, count in per_name.items():
            owners = [f for f in flows(spec) if f[1] == name_id]
            for i, flow in enumerate(owners):
                share = count // len(owners) + (1 if i < count % len(owners) else 0)
                budgets[t][flow] = share
        if step.get("restarted"):
            restarts.append(t)
    return budgets, restarts


def falsify(spec: ClusterSpec, folder: Path, *, random_count: int = 4, seed: int = 0,
            greedy: tuple[Strategy, ...] = GREEDY, proofs_only: bool = False) -> Case:
    """Check the rendered cluster, then search the simulator; `proofs_only` skips the search
    for an `unsafe` verdict."""
    render(spec, folder)
    started = time.perf_counter()
    checker = check(folder)
    checker_seconds = time.perf_counter() - started
    verdict = str(checker.get("verdict"))
    case = Case(spec, verdict, spec.limit, checker_seconds, checker=checker)
    if verdict not in ("proved", "safe-bounded", "unsafe") or (proofs_only and verdict == "unsafe"):
        case.outcome = "skipped"
        case.note = str(checker.get("reason", ""))[:160]
        return case
    started = time.perf_counter()
    results: list[Result] = []
    if verdict == "unsafe" and checker.get("trace"):
        budgets, restarts = trace_budgets(spec, checker)
        case.trace_result = run(spec, GREEDY[0], budgets=budgets, restart_steps=restarts)
        results.append(case.trace_result)
        if case.trace_result.peak.sliding > spec.limit:
            case.outcome = "confirmed"
            case.note = "by the concretised trace"
    if not case.outcome:
        for strategy in [*greedy, *random_strategies(random_count, seed)]:
            results.append(run(spec, strategy))
            if verdict == "unsafe" and results[-1].peak.sliding > spec.limit:
                break
    tiny = max((r.lookups for r in results), default=0) <= TINY_LOOKUPS
    if verdict == "unsafe" and tiny and all(r.peak.sliding <= spec.limit for r in results):
        for strategy in grid_strategies():
            results.append(run(spec, strategy))
            if results[-1].peak.sliding > spec.limit:
                break
        case.note = f"grid of {len(grid_strategies())} schedules searched"
    case.schedules = len(results)
    case.best = max(results, key=lambda r: (r.peak.sliding, r.peak.fixed))
    case.sim_seconds = time.perf_counter() - started
    peak = case.best.peak
    if verdict in ("proved", "safe-bounded"):
        fixed = max(r.peak.fixed for r in results)
        case.outcome = ("false-proof" if fixed > spec.limit else
                        "false-proof-sliding" if peak.sliding > spec.limit else "held")
    elif not case.outcome:
        # the checker's limits hold over any one-second window (window: sliding, the
        # default the generated kalc.yaml keeps): a sliding second over the limit confirms
        case.outcome = "confirmed" if peak.sliding > spec.limit else "false-alarm"
    return case
