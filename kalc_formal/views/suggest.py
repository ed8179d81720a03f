"""Suggested fixes: each proved set of edits, what it costs, and its patch."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from kalc_formal.analysis.edits import APPLICATION, Suggestion, Suggestions

MAX_PATCH_LINES = 30
"""The most lines of one patch shown in text; the rest is in its file or in JSON."""


def patch_name(number: int, suggestion: Suggestion) -> str:
    return f"{number}-" + "+".join(c.id for c in suggestion.candidates) + ".patch"


def render_text(suggestions: Suggestions, patch_dir: str | None = None) -> str:
    lines = []
    if not suggestions.proved:
        lines.append(f"No suggested fix: none of the {suggestions.checks} candidate set(s) "
                     f"tried makes {_properties(suggestions)} proved.")
    else:
        holds = "hold" if len(suggestions.properties) > 1 else "holds"
        lines.append(f"Suggested fixes, each proved ({_properties(suggestions)} {holds} at every "
                     "step of every run of the edited cluster), cheapest first; apply one with "
                     "`git apply`:")
        lines.append("")
        lines += _cost_table(suggestions).split("\n")
    for number, suggestion in enumerate(suggestions.proved, 1):
        lines.append("")
        lines.append(f"{number}. " + " + ".join(c.title for c in suggestion.candidates))
        kinds = {c.kind for c in suggestion.candidates}
        if APPLICATION in kinds:
            lines.append("   application change: the clients must ask differently; its part has "
                         "no patch")
        lines.append("   cost: " + _cost_text(suggestions, suggestion))
        lines += [f"   note: {c.note}" for c in suggestion.candidates if c.note]
        if not suggestion.patch:
            continue
        lines.append("")
        patch = suggestion.patch.rstrip("\n").split("\n")
        lines += ["   " + line if line else "" for line in patch[:MAX_PATCH_LINES]]
        where = f"{patch_dir}/{patch_name(number, suggestion)}" if patch_dir else None
        if len(patch) > MAX_PATCH_LINES:
            rest = f"... {len(patch) - MAX_PATCH_LINES:,} more lines"
            lines.append(f"   {rest}: the whole patch is in {where}" if where else
                         f"   {rest}: write the whole patches with --patch-dir DIR")
        elif where:
            lines.append(f"   (also in {where})")
    if suggestions.not_proved:
        lines.append("")
        lines.append("Tried and not proved:")
        lines += [f"  {' + '.join(titles)}: {verdict}" for titles, verdict in suggestions.not_proved]
    if suggestions.limit_reached:
        lines.append(f"(stopped after {suggestions.checks} checks; larger sets were not tried)")
    return "\n".join(lines) + "\n"


def _properties(suggestions: Suggestions) -> str:
    return " and ".join(suggestions.properties)


def _cost_table(suggestions: Suggestions) -> str:
    rows: list[list[str]] = [["", "now", f"{suggestions.baseline_client_queries_per_second:,}",
                              f"{suggestions.baseline_busiest_replica_per_second:,}", ""]]
    rows += [[str(number), "+".join(c.id for c in s.candidates),
              f"{s.client_queries_per_second:,}", f"{s.busiest_replica_per_second:,}",
              f"{s.pods_restarted:,}"]
             for number, s in enumerate(suggestions.proved, 1)]
    return tabulate(rows, headers=["#", "fix", "client queries/s at peak", "busiest server /s",
                                   "pods restarted or started"],
                    colalign=("right", "left", "right", "right", "right"))


def _cost_text(suggestions: Suggestions, suggestion: Suggestion) -> str:
    return (
        f"{suggestion.client_queries_per_second:,} client queries/s at peak (now "
        f"{suggestions.baseline_client_queries_per_second:,}); busiest server "
        f"{suggestion.busiest_replica_per_second:,}/s (now "
        f"{suggestions.baseline_busiest_replica_per_second:,}); "
        f"{suggestion.pods_restarted:,} pod(s) restarted or started"
    )


def as_json(suggestions: Suggestions) -> dict[str, Any]:
    return {
        "checks": suggestions.checks,
        "properties": list(suggestions.properties),
        "limit_reached": suggestions.limit_reached,
        "baseline": {"client_queries_per_second": suggestions.baseline_client_queries_per_second,
                     "busiest_server_per_second": suggestions.baseline_busiest_replica_per_second},
        "proved": [
            {"candidates": [{"id": c.id, "title": c.title, "note": c.note,
                             "kind": c.kind}
                            for c in s.candidates],
             "client_queries_per_second": s.client_queries_per_second,
             "busiest_server_per_second": s.busiest_replica_per_second,
             "pods_restarted": s.pods_restarted,
             "induction_depth": s.outcome.induction_depth,
             "patch": s.patch}
            for s in suggestions.proved
        ],
        "not_proved": [{"candidates": list(titles), "verdict": verdict}
                       for titles, verdict in suggestions.not_proved],
    }
