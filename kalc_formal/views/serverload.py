"""Report stage: the server-load property (client queries at the busiest replica or
node-local cache against its capacity) as text and JSON, beside upstream-limit."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from kalc_formal.analysis.result import Analysis, client_load
from kalc_formal.model.flowmodel import ServerLimit
from kalc_formal.model.solve import Outcome, Verdict, worst
from kalc_formal.source import Span
from kalc_formal.views.text import wrap

SERVER_LOAD = "server-load"
SERVER_LOAD_TEXT = (
    "client queries per step at the busiest CoreDNS replica (and node-local cache) stay "
    "within its capacity"
)
CAPACITY_KEYS = {"coredns": "coredns.capacity_qps", "nodelocal": "nodelocal.capacity_qps"}


def capacity_span(analysis: Analysis, limit: ServerLimit) -> Span | None:
    """Where kalc.yaml gives the capacity of ``limit``'s server."""
    key = CAPACITY_KEYS.get(analysis.groups[limit.group].server)
    return next((a.at for a in analysis.assumptions if a.key == key), None)


def _per_second(analysis: Analysis, queries: int) -> str:
    seconds = analysis.step_seconds
    return f"{queries:,} client queries/s" if seconds == 1 else (
        f"{queries:,} client queries in {seconds} s"
    )


def summary(analysis: Analysis, outcome: Outcome) -> str:
    """One line: the server-load verdict and what it rests on."""
    limits = analysis.model.server_limits
    if outcome.verdict is Verdict.PROVED:
        parts = []
        for limit in limits:
            worst = outcome.worst_step.get(limit.id)
            at_most = (
                f"at most {_per_second(analysis, worst)}, {100 * worst / limit.limit:.1f}% of "
                if worst is not None and limit.limit else "within "
            )
            parts.append(f"{limit.label} takes {at_most}its capacity ({limit.limit:,})")
        return (f"proved — {'; '.join(parts)} at every step of every run "
                f"({outcome.induction_depth}-induction, checked twice)")
    if outcome.verdict is Verdict.SAFE_BOUNDED:
        return f"safe-bounded — no server over its capacity within {outcome.horizon} steps; not proved beyond"
    if outcome.verdict is Verdict.UNSAFE and outcome.counterexample is not None:
        trace = outcome.counterexample
        last = trace.steps[-1]
        over = [
            f"{limit.label} takes {_per_second(analysis, last.server_load[limit.id])} at "
            f"t={last.t * analysis.step_seconds} s, over its capacity of {limit.limit:,}"
            for limit in limits if limit.id in last.overloaded
        ]
        surge = (
            f"smallest surge for it: {trace.surge:,}" if trace.surge_minimal
            else f"a surge of {trace.surge:,} (Z3 gave up before confirming it is the smallest)"
        )
        return f"unsafe — {'; '.join(over)} ({surge} lookups above baseline)"
    return f"unknown — {outcome.reason}"


def verdict_lines(
    analysis: Analysis, upstream: Outcome, server_load: Outcome, upstream_line: str
) -> list[str]:
    """The check's verdict when it decided server-load too: the worst, then one line per
    property (``upstream_line``: upstream-limit's verdict line)."""
    overall = worst([upstream.verdict, server_load.verdict])
    lines = [f"verdict: {overall.value} (the worst of 2 properties)"]
    lines += wrap(upstream_line.replace("verdict: ", "upstream-limit: ", 1), "  ", "    ")
    lines += wrap(f"{SERVER_LOAD}: {summary(analysis, server_load)}", "  ", "    ")
    return ["\n".join(lines)]


def render_text(analysis: Analysis, outcome: Outcome) -> str:
    """The server-load sections: the replayed overload, or the note the verdict carries."""
    parts = []
    if outcome.counterexample is not None:
        parts.append("Server load (server-load's counterexample, replayed in the simulator):")
        parts.append(_trace_table(analysis, outcome))
        spans = [capacity_span(analysis, limit) for limit in analysis.model.server_limits]
        where = ", ".join(str(s) for s in spans if s)
        lines = wrap(
            "then: the replica serves queries above its capacity late or drops them; clients "
            "time out and re-send (G3), which adds load" + (f"; capacity at {where}" if where else ""),
            "  ", "        ",
        )
        parts.append("\n".join(lines))
    if outcome.reason and outcome.verdict is not Verdict.UNKNOWN:
        parts.append(f"note: {outcome.reason}")
    return "\n\n".join(parts)


def _trace_table(analysis: Analysis, outcome: Outcome) -> str:
    assert outcome.counterexample is not None
    limits = analysis.model.server_limits
    headers = ["t (s)", "lookups", *[f"{limit.label} (capacity {limit.limit:,})" for limit in limits]]
    rows = [
        [step.t * analysis.step_seconds, f"{sum(step.lookups.values()):,}",
         *[f"{step.server_load[limit.id]:,}" for limit in limits]]
        for step in outcome.counterexample.steps
    ]
    return tabulate(rows, headers=headers)


def load_capacity(analysis: Analysis, group_id: str) -> str:
    """The capacity column of the load table: per second, or why no claim is made."""
    for limit in analysis.model.server_limits:
        if limit.group == group_id:
            return f"{limit.limit // analysis.step_seconds:,}/s"
    key = CAPACITY_KEYS.get(analysis.groups[group_id].server)
    return f"none given ({key}): no claim" if key else "-"


def as_json(analysis: Analysis, outcome: Outcome) -> dict[str, Any]:
    """The server-load verdict and its evidence as plain data."""
    load = client_load(analysis)
    data: dict[str, Any] = {
        "property": SERVER_LOAD,
        "property_text": SERVER_LOAD_TEXT,
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "induction_depth": outcome.induction_depth,
        "checks": list(outcome.checks),
        "limits": [
            {"id": limit.id, "server": limit.label,
             "capacity_per_second": limit.limit // analysis.step_seconds,
             "at": str(span) if (span := capacity_span(analysis, limit)) else None,
             "peak_per_second": load[limit.group][1],
             "worst_step": outcome.worst_step.get(limit.id)}
            for limit in analysis.model.server_limits
        ],
    }
    if outcome.counterexample is not None:
        trace = outcome.counterexample
        data["trace"] = [
            {"t": step.t * analysis.step_seconds, "lookups": step.lookups,
             "server_load": step.server_load, "over": list(step.overloaded)}
            for step in trace.steps
        ]
        data["surge"] = trace.surge
        data["surge_minimal"] = trace.surge_minimal
    return data
