"""What a proof relies on: the config facts it needs, each with where it is written and
what relaxing it gave, and the facts relaxed without breaking it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kalc_formal.analysis.relaxations import Reliance, Trial
from kalc_formal.model.solve import Verdict

MAX_SPANS_SHOWN = 3
"""The most positions of one fact written in text (JSON lists them all)."""


def render_text(reliances: Sequence[Reliance], verdict: Verdict) -> str:
    """A section per proved property; one line when no property is proved."""
    if not reliances:
        return f"Relies on: there is no proof to explain (the verdict is {verdict.value}).\n"
    return "\n".join(_section(r) for r in reliances)


def _section(reliance: Reliance) -> str:
    relied = reliance.having("relied-on")
    lines = [
        f"Relies on (a minimal set of config facts: with all the others below relaxed, {reliance.property} "
        "is still proved; relaxing any one of these as well, it is not; "
        f"{reliance.proofs} check(s) of edited copies):"
    ]
    lines += [_line(t, f"{t.fact.relaxation}: {t.verdict}{_weakest(t)}") for t in relied]
    if not relied:
        lines.append("  none of the config facts below: all relaxed together, it is still proved")
    relaxed = reliance.having("relaxed")
    if relaxed:
        lines.append("Not relied on (relaxed together, still proved):")
        lines += [_line(t, t.fact.relaxation) for t in relaxed]
    undecided = reliance.having("undecided")
    if undecided:
        lines.append("Cannot say (kept as written; the check of the relaxed copy did not decide):")
        lines += [_line(t, f"{t.fact.relaxation}: {t.note or t.verdict}") for t in undecided]
    untested = reliance.having("untested")
    if untested:
        lines.append("Not tested (kept as written):")
        lines += [_line(t, t.note) for t in untested]
    return "\n".join(lines) + "\n"


def _weakest(trial: Trial) -> str:
    bound = trial.fact.bound
    if bound is None or trial.weakest is None:
        return ""
    note = f", {trial.weakest_note}" if trial.weakest_note else ""
    if trial.weakest == bound.written:
        return f"; no weaker {bound.name} is proved{note}"
    return f"; {bound.name} {trial.weakest:,} is enough (written: {bound.written:,}){note}"


def _line(trial: Trial, outcome: str) -> str:
    spans = trial.fact.spans
    where = ", ".join(str(s) for s in spans[:MAX_SPANS_SHOWN])
    if len(spans) > MAX_SPANS_SHOWN:
        where += f" and {len(spans) - MAX_SPANS_SHOWN:,} more"
    return f"  {trial.fact.text} at {where} ({outcome})"


def as_json(reliances: Sequence[Reliance]) -> list[dict[str, Any]]:
    return [
        {
            "property": reliance.property,
            "fact": t.fact.text,
            "kind": t.fact.kind,
            "positions": [str(s) for s in t.fact.spans],
            "relaxation": t.fact.relaxation,
            "status": t.status,
            "verdict": t.verdict or None,
            "note": t.note,
            "bound": None if t.fact.bound is None else {
                "name": t.fact.bound.name,
                "written": t.fact.bound.written,
                "weakest_proved": t.weakest,
                "note": t.weakest_note,
            },
        }
        for reliance in reliances
        for t in reliance.trials
    ]
