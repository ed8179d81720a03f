"""The diff report: what the change does to the property, and what it changed."""

from __future__ import annotations

import json
import re
from typing import Any

from kalc_formal.analysis.changes import Change, Comparison, Fact, Side
from kalc_formal.views import serverload
from kalc_formal.views.capacity import edge_json, edge_text
from kalc_formal.views.report import PROPERTY, as_json, trace_text, verdict_line
from kalc_formal.views.schemas import SCHEMA_VERSION

MAX_LISTED = 40
"""The most changes listed in text per kind (seen, ignored); JSON lists them all."""

_HEADLINES = {
    "regression": f"regression — {PROPERTY} can be violated after the change, and could not before",
    "fix": f"fix — {PROPERTY} could be violated before the change, and cannot after",
    "still-safe": f"no regression — {PROPERTY} holds before and after the change",
    "still-unsafe": f"not fixed — {PROPERTY} can be violated before and after the change",
    "unknown": "unknown — at least one side has no verdict, so nothing is claimed about the change",
}


def render_text(comparison: Comparison) -> str:
    before, after = comparison.before, comparison.after
    load_movement = comparison.server_load_movement
    headline = _HEADLINES[comparison.movement.value] if load_movement is None else (
        f"{comparison.overall.value} — upstream-limit: {comparison.movement.value}, "
        f"server-load: {load_movement.value}"
    )
    parts = [
        f"diff: {headline}",
        "\n".join([
            f"  before  {before.label}: {_verdict(before)}",
            f"  after   {after.label}: {_verdict(after)}",
        ]),
    ]
    parts.append(_changes_text("What changed that the model reads", comparison.seen))
    parts.append(_changes_text("What changed that the model does not read", comparison.ignored))
    movement = comparison.movement.value
    if movement == "regression":
        parts.append("After the change (this counterexample does not exist before it):")
        parts.append(trace_text(after.analysis, after.outcome))
    elif movement == "fix":
        parts.append("Before the change (this counterexample no longer exists after it):")
        parts.append(trace_text(before.analysis, before.outcome))
    elif movement == "still-safe":
        parts.append(_headroom_text(comparison))
    elif movement == "still-unsafe":
        parts.append(_margin_text(comparison))
    if load_movement is not None:
        parts.append(_server_load_text(comparison, load_movement.value))
    parts.append(_capacity_text(comparison))
    return "\n\n".join(p for p in parts if p) + "\n"


def _server_load_text(comparison: Comparison, load_movement: str) -> str:
    """server-load before and after, and the counterexample that the change brings or
    removes."""
    lines = [f"server-load (client queries at the busiest server against its capacity): {load_movement}"]
    for name, side in (("before", comparison.before), ("after", comparison.after)):
        summary = (serverload.summary(side.analysis, side.server_load)
                   if side.server_load is not None else "not decided (no capacity in kalc.yaml)")
        lines.append(f"  {name:<7} {summary}")
    text = "\n".join(lines)
    shown = {"regression": comparison.after, "fix": comparison.before}.get(load_movement)
    if shown is not None and shown.server_load is not None:
        text += "\n\n" + serverload.render_text(shown.analysis, shown.server_load)
    return text


def _capacity_text(comparison: Comparison) -> str:
    before, after = comparison.before, comparison.after
    if not before.edges:
        return ""
    lines = ["Capacity before -> after (each parameter alone; proved up to):"]
    step = after.analysis.step_seconds
    for old, new in zip(before.edges, after.edges, strict=True):
        lines.append(f"  {old.parameter.value}")
        lines.append(f"    before: {edge_text(old, step)}")
        lines.append(f"    after:  {edge_text(new, step)}")
    return "\n".join(lines)


def _verdict(side: Side) -> str:
    return verdict_line(side.analysis, side.outcome).removeprefix("verdict: ")


def _changes_text(title: str, changes: tuple[Change, ...]) -> str:
    if not changes:
        return f"{title}: nothing."
    groups = _grouped(changes)
    lines = [f"{title} ({len(changes):,}):"]
    for key, members in groups[:MAX_LISTED]:
        first = members[0]
        many = f" — {len(members):,} workloads, e.g. {first.key.split(' ', 1)[0]}" \
            if len(members) > 1 else ""
        lines.append(f"  {key}{many}")
        lines.append(f"    before: {_fact_text(first.before)}")
        lines.append(f"    after:  {_fact_text(first.after)}")
    if len(groups) > MAX_LISTED:
        lines.append(f"  ... and {len(groups) - MAX_LISTED:,} more (all are in --format json)")
    return "\n".join(lines)


_WORKLOAD = re.compile(r"^([A-Za-z]+)/([^/ ]+)/([^/ ]+)( .*)?$")


def _grouped(changes: tuple[Change, ...]) -> list[tuple[str, list[Change]]]:
    """Changes that differ only in the workload's namespace, with the same values, as one."""
    groups: dict[tuple[str, str | None, str | None], list[Change]] = {}
    for change in changes:
        match = _WORKLOAD.match(change.key)
        key = (f"{match[1]}/*/{match[3]}{match[4] or ''}" if match else change.key)
        values = (_value(change.before), _value(change.after))
        groups.setdefault((key, *values), []).append(change)
    return [(key, members) if len(members) > 1 else (members[0].key, members)
            for (key, _, _), members in groups.items()]


def _value(fact: Fact | None) -> str | None:
    return None if fact is None else fact.value


def _fact_text(fact: Fact | None) -> str:
    if fact is None:
        return "(absent)"
    return fact.value + (f"  at {fact.at}" if fact.at else "")


def _headroom_text(comparison: Comparison) -> str:
    before, after = comparison.before, comparison.after
    lines = ["Headroom (the most packets any one limit window can carry, from any state):"]
    scopes = {s.id: s for s in after.analysis.model.scopes}
    for scope_id, info in after.analysis.scopes.items():
        old = _headroom(before, info.label, info.addresses)
        new = after.outcome.worst_step.get(scope_id)
        limit = scopes[scope_id].limit if scope_id in scopes else None
        lines.append(
            f"  {info.label} -> {', '.join(info.addresses)}: before {_packets(old, limit)}, "
            f"after {_packets(new, limit)}"
        )
    return "\n".join(lines)


def _headroom(side: Side, label: str, addresses: tuple[str, ...]) -> int | None:
    for scope_id, info in side.analysis.scopes.items():
        if info.label == label and info.addresses == addresses:
            worst: int | None = side.outcome.worst_step.get(scope_id)
            return worst
    return None


def _packets(worst: int | None, limit: int | None) -> str:
    if worst is None:
        return "not computed"
    if not limit:
        return f"{worst:,} packets"
    return f"{worst:,} packets ({100 * worst / limit:.1f}% of {limit:,})"


def _margin_text(comparison: Comparison) -> str:
    lines = ["How the margin moved (the smallest surge above baseline that reaches a violation, "
             "and how soon):"]
    for name, side in (("before", comparison.before), ("after", comparison.after)):
        trace = side.outcome.counterexample
        if trace is None:
            lines.append(f"  {name}: no counterexample")
            continue
        minimal = "" if trace.surge_minimal else " (not confirmed smallest)"
        at = (trace.length - 1) * side.analysis.step_seconds
        lines.append(f"  {name}: surge {trace.surge:,}{minimal}, violated at t={at} s")
    return "\n".join(lines)


def render_json(comparison: Comparison) -> str:
    return json.dumps(as_json_diff(comparison), indent=2) + "\n"


def as_json_diff(comparison: Comparison) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "diff",
        "property": PROPERTY,
        "movement": comparison.movement.value,
        "overall_movement": comparison.overall.value,
        **({"server_load_movement": m.value}
           if (m := comparison.server_load_movement) is not None else {}),
        "before": _side_json(comparison.before),
        "after": _side_json(comparison.after),
        "changes": [
            {"key": c.key, "seen": c.seen, "before": _fact_json(c.before),
             "after": _fact_json(c.after)}
            for c in comparison.changes
        ],
    }


def _side_json(side: Side) -> dict[str, Any]:
    document = {"label": side.label, **as_json(side.analysis, side.outcome, side.server_load)}
    if side.edges:
        document["capacity"] = [edge_json(e) for e in side.edges]
    return document


def _fact_json(fact: Fact | None) -> dict[str, Any] | None:
    if fact is None:
        return None
    return {"value": fact.value, "at": str(fact.at) if fact.at else None}

