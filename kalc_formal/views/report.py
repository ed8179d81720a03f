"""Report stage: a check's verdict, trace and assumptions as text (tables) or JSON."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from tabulate import tabulate

from kalc_formal.analysis.result import Analysis, client_load
from kalc_formal.model.solve import Outcome, Verdict, worst
from kalc_formal.source import Span
from kalc_formal.views import serverload
from kalc_formal.views.chart import Point, chart, terminal_width
from kalc_formal.views.explain import Event, event_chain
from kalc_formal.views.schemas import SCHEMA_VERSION
from kalc_formal.views.text import wrap

PROPERTY = "upstream-limit"
PROPERTY_TEXT = "upstream packets per step stay within every upstream's rate limit"


def verdict_line(analysis: Analysis, outcome: Outcome) -> str:
    seconds = analysis.step_seconds
    horizon = f"{outcome.horizon} steps of {seconds} s"
    if outcome.verdict is Verdict.PROVED:
        return (
            f"verdict: proved — {PROPERTY} holds at every step of every run "
            f"({outcome.induction_depth}-induction, checked twice)"
        )
    if outcome.verdict is Verdict.SAFE_BOUNDED:
        return f"verdict: safe-bounded — no violation of {PROPERTY} within {horizon}; not proved beyond"
    if outcome.verdict is Verdict.UNSAFE and outcome.counterexample:
        trace = outcome.counterexample
        at = (trace.length - 1) * seconds
        surge = (
            f"smallest surge for it: {trace.surge:,}" if trace.surge_minimal
            else f"a surge of {trace.surge:,} (Z3 gave up before confirming it is the smallest)"
        )
        return (
            f"verdict: unsafe — {PROPERTY} is violated at t={at} s "
            f"(shortest trace: {trace.length} step(s) of {seconds} s; {surge} lookups above "
            "baseline)"
        )
    return f"verdict: unknown — {outcome.reason}"


def render_text(
    analysis: Analysis, outcome: Outcome, server_load: Outcome | None = None,
    width: int | None = None,
) -> str:
    """The report of upstream-limit's ``outcome``, and of server-load's when decided;
    ``width``: the charts' columns (None: the terminal's, 80 when not a terminal)."""
    if server_load is None:
        parts = [verdict_line(analysis, outcome)]
    else:
        parts = serverload.verdict_lines(
            analysis, outcome, server_load, verdict_line(analysis, outcome)
        )
    parts += [f"warning: {warning}" for warning in analysis.warnings]
    if outcome.verdict is Verdict.UNKNOWN and analysis.unmodelled:
        parts.append(_unmodelled_text(analysis))
    if outcome.counterexample is not None:
        parts.append("Event chain (replayed in the simulator):")
        parts.append(_events_text(analysis, event_chain(analysis, outcome.counterexample, grouped=True)))
        parts.append(_trace_charts(analysis, outcome, width))
    rests_on = _rests_on_text(analysis, outcome)
    if rests_on:
        parts.append(rests_on)
    if outcome.verdict is Verdict.PROVED and outcome.worst_step:
        parts.append(_headroom_text(analysis, outcome))
    if server_load is not None:
        parts += [text for text in [serverload.render_text(analysis, server_load)] if text]
    parts.append("Lookups (what one lookup costs):")
    parts.append(_flows_table(analysis))
    parts.append("Load on each server group (one replica, the most loaded by kube-proxy's skew):")
    parts.append(_load_table(analysis, with_capacity=server_load is not None))
    parts.append("Upstream limits:")
    parts.append(_scopes_table(analysis))
    parts.append("Assumptions (* = default, ! = narrower than what the real system allows; set them in kalc.yaml):")
    parts.append(_assumptions_table(analysis))
    for check in outcome.checks:
        parts.append(f"checked: {check}")
    if outcome.reason and outcome.verdict is not Verdict.UNKNOWN:
        parts.append(f"note: {outcome.reason}")
    for note in analysis.notes:
        parts.append(f"note: {note}")
    return "\n\n".join(parts) + "\n"


def _unmodelled_text(analysis: Analysis) -> str:
    lines = ["Not modelled in the query path:"]
    seen = set()
    for item in analysis.unmodelled:
        text = f"  {item.span}: {item.reason}" if item.span else f"  {item.reason}"
        if text not in seen:
            seen.add(text)
            lines.append(text)
    return "\n".join(lines)


def _events_text(analysis: Analysis, events: list[Event]) -> str:
    lines = []
    for event in events:
        head = "then:" if event.kind == "then" else f"t={event.t * analysis.step_seconds}s"
        text = event.text + (f" ({', '.join(event.facts)})" if event.facts else "")
        lines += wrap(text, f"  {head:<6} ", " " * 9)
        if event.spans:
            lines += wrap("at " + _where(analysis, event.spans), " " * 9, " " * 12)
    return "\n".join(lines)


def _where(analysis: Analysis, spans: tuple[Span, ...]) -> str:
    """Config positions, each named by the plugin that sits there when there is one."""
    names = {ref.span: ref.name for ref in analysis.plugins.values() if ref.span}
    spans = tuple(dict.fromkeys(spans))
    shown = [f"{names[s]} {s}" if s in names else str(s) for s in spans[:4]]
    more = f" and {len(spans) - 4} more" if len(spans) > 4 else ""
    return ", ".join(shown) + more


def _trace_charts(analysis: Analysis, outcome: Outcome, width: int | None = None) -> str:
    """Per scope, a chart of the trace's upstream packets per step against the limit."""
    assert outcome.counterexample is not None
    width = terminal_width() if width is None else width
    trace = _trace_json(analysis, outcome)
    seconds = analysis.step_seconds
    charts = []
    for scope in analysis.model.scopes:
        info = analysis.scopes[scope.id]
        within = (f"per step of {seconds} s" if scope.window_steps == 1 else
                  f"in any {scope.window_steps} consecutive steps of {seconds} s")
        title = (f"Upstream packets per step, {info.label} to {', '.join(info.addresses)} "
                 f"(limit {scope.limit:,} per {info.kind} {within}):")
        points = [
            Point(row["t"], sum(row["lookups"].values()), row["upstream"][scope.id]["packets"],
                  row["upstream"][scope.id]["window"])
            for row in trace
        ]
        lines = textwrap.wrap(title, width=width, break_on_hyphens=False,
                              break_long_words=False)
        lines += chart(points, scope.limit, width=width, windowed=scope.window_steps > 1)
        charts.append("\n".join(lines))
    return "\n\n".join(charts)


def _flows_table(analysis: Analysis) -> str:
    headers = ["pods", "names", "libc", "via", "queries/lookup", "upstream/lookup (cold)",
               "rate/pod/name (base..surge)"]
    rows = [
        [
            f"{f.pod_class} ({f.pods_base:,}..{f.pods_peak:,})",
            f"{f.names:,} x {f.name_class}",
            f.libc,
            f.server,
            len(f.client_queries),
            f.upstream_cold,
            f"{f.rate:g}..{f.surge_rate:g}/s",
        ]
        for f in analysis.flows.values()
    ]
    return tabulate(rows, headers=headers)


def _headroom_text(analysis: Analysis, outcome: Outcome) -> str:
    lines = ["Headroom (the most any one window of a limit can carry, from any cache state):"]
    for scope in analysis.model.scopes:
        worst = outcome.worst_step.get(scope.id)
        info = analysis.scopes[scope.id]
        if worst is None:
            lines.append(
                f"  {info.label} -> {', '.join(info.addresses)}: not computed (Z3 gave up "
                "within its budget; the proof stands)"
            )
            continue
        share = 100 * worst / scope.limit if scope.limit else 0
        window = (
            f"{analysis.step_seconds} s" if scope.window_steps == 1
            else f"any {scope.window_steps} consecutive steps of {analysis.step_seconds} s "
            "(a sliding one-second window)"
        )
        lines.append(
            f"  {info.label} -> {', '.join(info.addresses)}: at most {worst:,} packets in "
            f"{window}, {share:.1f}% of the limit ({scope.limit:,})"
        )
    return "\n".join(lines)


def _load_table(analysis: Analysis, *, with_capacity: bool = False) -> str:
    headers = ["server", "client queries, baseline", "at peak"]
    rows = [
        [analysis.groups[g].label, f"{base:,}/s", f"{peak:,}/s"]
        + ([serverload.load_capacity(analysis, g)] if with_capacity else [])
        for g, (base, peak) in client_load(analysis).items()
    ]
    return tabulate(rows, headers=headers + (["capacity"] if with_capacity else []))


def _scopes_table(analysis: Analysis) -> str:
    rows = [
        [s.label, ", ".join(s.addresses), f"{s.limit_per_second:,}/s", s.kind]
        for s in analysis.scopes.values()
    ]
    return tabulate(rows, headers=["who sends", "to", "limit", "scope"])


def _assumptions_table(analysis: Analysis) -> str:
    rows = [
        [a.key + ("*" if a.origin == "default" else "") + ("!" if a.narrows else ""),
         a.value, a.origin + (f" ({a.at})" if a.at else ""), a.note]
        for a in analysis.assumptions
    ]
    return tabulate(rows, headers=["setting", "value", "from", "note"])


def _rests_on_text(analysis: Analysis, outcome: Outcome) -> str:
    """What a verdict of no violation holds only under: the narrowing settings."""
    narrowing = [a for a in analysis.assumptions if a.narrows]
    if not narrowing or outcome.verdict not in (Verdict.PROVED, Verdict.SAFE_BOUNDED):
        return ""
    lines = ["This verdict rests on these assumptions about your cluster (a run that breaks "
             "one is not covered):"]
    for a in narrowing:
        origin = a.origin + (f" {a.at}" if a.at else "")
        lines.append(f"  {a.key} = {a.value} (from {origin}): {a.note}")
    return "\n".join(lines)


def render_json(analysis: Analysis, outcome: Outcome, server_load: Outcome | None = None) -> str:
    return json.dumps(as_json(analysis, outcome, server_load), indent=2, sort_keys=False) + "\n"


def as_json(
    analysis: Analysis, outcome: Outcome, server_load: Outcome | None = None
) -> dict[str, Any]:
    """The report as plain data (the shape is documented in the README): upstream-limit
    at the top level; ``server_load`` has server-load's when it was decided."""
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "verdict": outcome.verdict.value,
        "property": PROPERTY,
        "property_text": PROPERTY_TEXT,
        "horizon": outcome.horizon,
        "step_seconds": analysis.step_seconds,
        "coredns_version": analysis.coredns_version,
        "reason": outcome.reason,
        "warnings": list(analysis.warnings),
        "induction_depth": outcome.induction_depth,
        "checks": list(outcome.checks),
        "assumptions": [
            {"key": a.key, "value": a.value, "origin": a.origin, "default": a.origin == "default",
             "narrows": a.narrows, "note": a.note, "at": str(a.at) if a.at else None}
            for a in analysis.assumptions
        ],
        "unmodelled": [
            {"plugin": u.plugin, "reason": u.reason, "at": str(u.span) if u.span else None}
            for u in analysis.unmodelled
        ],
        "flows": [_flow_json(f) for f in analysis.flows.values()],
        "worst_step": outcome.worst_step,
        "client_load": {g: {"baseline": b, "peak": p} for g, (b, p) in client_load(analysis).items()},
        "scopes": [
            {"id": s.id, "label": s.label, "addresses": list(s.addresses),
             "limit_per_second": s.limit_per_second, "scope": s.kind}
            for s in analysis.scopes.values()
        ],
    }
    if outcome.counterexample is not None:
        data["trace"] = _trace_json(analysis, outcome)
        data["events"] = [
            {"t": e.t * analysis.step_seconds, "kind": e.kind, "text": e.text,
             "at": [str(s) for s in e.spans], "facts": list(e.facts)}
            for e in event_chain(analysis, outcome.counterexample)
        ]
        data["surge"] = outcome.counterexample.surge
        data["surge_minimal"] = outcome.counterexample.surge_minimal
    outcomes = [outcome] if server_load is None else [outcome, server_load]
    data["overall_verdict"] = worst([o.verdict for o in outcomes]).value
    if server_load is not None:
        data["server_load"] = serverload.as_json(analysis, server_load)
    return data


def _flow_json(flow: Any) -> dict[str, Any]:
    return {
        "id": flow.id, "pods": flow.pod_class, "namespaces": flow.namespaces,
        "pods_base": flow.pods_base, "pods_peak": flow.pods_peak, "names": flow.names,
        "name": flow.name_class, "libc": flow.libc, "via": flow.server,
        "rate": flow.rate, "surge_rate": flow.surge_rate,
        "client_queries": list(flow.client_queries), "upstream_cold": flow.upstream_cold,
    }


def _trace_json(analysis: Analysis, outcome: Outcome) -> list[dict[str, Any]]:
    assert outcome.counterexample is not None
    steps = outcome.counterexample.steps
    rows = []
    for index, step in enumerate(steps):
        upstream = {}
        for scope in analysis.model.scopes:
            first = max(0, index - scope.window_steps + 1)
            window = sum(s.upstream[scope.id] for s in steps[first : index + 1])
            upstream[scope.id] = {
                "packets": step.upstream[scope.id], "window": window, "limit": scope.limit,
                "over": window > scope.limit,
            }
        rows.append({
            "t": step.t * analysis.step_seconds,
            "lookups": step.lookups,
            "restarted": sorted(step.restarted),
            "misses": {k: n for k, n in step.misses.items() if n},
            "fills": {k: n for k, n in step.fills.items() if n},
            "upstream": upstream,
        })
    return rows


def trace_text(analysis: Analysis, outcome: Outcome, width: int | None = None) -> str:
    """A counterexample's event chain and its charts of upstream packets per step."""
    if outcome.counterexample is None:
        return ""
    return "\n\n".join([
        "Event chain (replayed in the simulator):",
        _events_text(analysis, event_chain(analysis, outcome.counterexample, grouped=True)),
        _trace_charts(analysis, outcome, width),
    ])
