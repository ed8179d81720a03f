"""``kalc-formal check``'s output: the report, with the capacity edges and the suggested
fixes when they were asked for, as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kalc_formal.analysis.edits import Suggestions
from kalc_formal.analysis.relaxations import Reliance
from kalc_formal.analysis.result import Analysis
from kalc_formal.analysis.scaling import Edge
from kalc_formal.model.solve import Outcome, worst
from kalc_formal.views import reliance as reliance_view
from kalc_formal.views import report, suggest
from kalc_formal.views.capacity import edge_json, render_edges_text


def render_text(
    analysis: Analysis, outcome: Outcome, *, capacity: list[Edge] | None = None,
    suggestions: Suggestions | None = None, patch_dir: str | None = None,
    server_load: Outcome | None = None, load_capacity: list[Edge] | None = None,
    reliance: Sequence[Reliance] | None = None,
) -> str:
    text = report.render_text(analysis, outcome, server_load)
    if reliance is not None:
        verdict = worst([o.verdict for o in (outcome, server_load) if o is not None])
        head, _, rest = text.partition("\n\n")
        text = f"{head}\n\n{reliance_view.render_text(reliance, verdict)}\n{rest}"
    if capacity is not None:
        text += "\n" + render_edges_text(capacity, analysis.step_seconds) + "\n"
    if load_capacity:
        text += "\n" + render_edges_text(load_capacity, analysis.step_seconds, "server-load") + "\n"
    if suggestions is not None:
        text += "\n" + suggest.render_text(suggestions, patch_dir)
    return text


def render_json(
    analysis: Analysis, outcome: Outcome, *, capacity: list[Edge] | None = None,
    suggestions: Suggestions | None = None, server_load: Outcome | None = None,
    load_capacity: list[Edge] | None = None, reliance: Sequence[Reliance] | None = None,
) -> str:
    document = report.as_json(analysis, outcome, server_load)
    if reliance is not None:
        document["relies_on"] = reliance_view.as_json(reliance)
        document["relies_on_checks"] = sum(r.proofs for r in reliance)
    if capacity is not None:
        document["capacity"] = [edge_json(e) for e in capacity]
    if load_capacity is not None:
        document["server_load_capacity"] = [edge_json(e) for e in load_capacity]
    if suggestions is not None:
        document["suggestions"] = suggest.as_json(suggestions)
    return json.dumps(document, indent=2) + "\n"
