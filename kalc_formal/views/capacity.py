"""How far from the edge: each growth parameter's proved range, as text, JSON or SVG."""

from __future__ import annotations

from html import escape
from typing import Any

from tabulate import tabulate

from kalc_formal.analysis.scaling import DESCRIPTIONS, WHOLE_NUMBERS, Edge, Parameter
from kalc_formal.model.solve import Outcome, Verdict


def value_text(parameter: Parameter, value: float | None) -> str:
    if value is None:
        return "-"
    if parameter in WHOLE_NUMBERS:
        return f"{round(value):,}"
    return f"x{value:.3g}"


def edge_text(edge: Edge, step_seconds: int) -> str:
    p = edge.parameter
    now = f"now {value_text(p, edge.current)}"
    if edge.safe is None:
        return f"{now}: not proved even at {value_text(p, edge.beyond)}" + _beyond(edge, step_seconds)
    if edge.beyond is None:
        return f"{now}: proved up to at least {value_text(p, edge.safe)} (the largest tried)"
    bound = "" if edge.exact else "at least "
    return f"{now}: proved up to {bound}{value_text(p, edge.safe)}, not at " \
        f"{value_text(p, edge.beyond)}" + _beyond(edge, step_seconds)


def _beyond(edge: Edge, step_seconds: int) -> str:
    outcome = edge.beyond_outcome
    if outcome is None:
        return ""
    return f" ({_outcome_text(outcome, step_seconds)})"


def _outcome_text(outcome: Outcome, step_seconds: int) -> str:
    trace = outcome.counterexample
    if outcome.verdict is Verdict.UNSAFE and trace is not None:
        return f"unsafe: a replayed counterexample exceeds the limit at t={(trace.length - 1) * step_seconds} s"
    if outcome.verdict is Verdict.UNKNOWN:
        return "unknown: Z3 gave up, so the edge may be further"
    return outcome.verdict.value


def render_edges_text(edges: list[Edge], step_seconds: int, prop: str = "") -> str:
    """The edges as text; ``prop`` names the property when the check decided several."""
    title = f"Capacity for {prop}" if prop else "Capacity"
    lines = [f"{title} (each parameter alone, the others as read; proved means proved at that value):"]
    width = max(len(e.parameter.value) for e in edges)
    for edge in edges:
        lines.append(f"  {edge.parameter.value:<{width}}  {edge_text(edge, step_seconds)}")
        lines.append(f"  {'':<{width}}  ({DESCRIPTIONS[edge.parameter]}; {len(edge.probes)} checks)")
    return "\n".join(lines)


def edge_json(edge: Edge) -> dict[str, Any]:
    return {
        "parameter": edge.parameter.value,
        "current": edge.current,
        "proved_up_to": edge.safe,
        "not_proved_at": edge.beyond,
        "not_proved_verdict": edge.beyond_outcome.verdict.value if edge.beyond_outcome else None,
        "exact": edge.exact,
        "largest_tried": edge.limit,
        "checks": [{"value": p.value, "verdict": p.outcome.verdict.value} for p in edge.probes],
    }


def region_text(
    rows: list[tuple[float, Edge]], row_parameter: Parameter, now: tuple[float, float]
) -> str:
    """The proved region as the capacity command prints it; ``now``: the current values."""
    column = rows[0][1].parameter
    head = (f"The proved region: for each {row_parameter.value}, how far {column.value} "
            f"can go (now {value_text(row_parameter, now[0])}, {value_text(column, now[1])}):")
    return f"{head}\n\n{region_table(rows, row_parameter)}"


def region_table(rows: list[tuple[float, Edge]], row_parameter: Parameter) -> str:
    column = rows[0][1].parameter
    body = [
        [value_text(row_parameter, value), value_text(column, edge.safe),
         value_text(column, edge.beyond), _row_note(edge)]
        for value, edge in rows
    ]
    headers = [f"{row_parameter.value}", f"{column.value}: proved up to", "not proved at", ""]
    return tabulate(body, headers=headers)


def _row_note(edge: Edge) -> str:
    if edge.safe is None:
        return "none proved in the range"
    if edge.beyond is None:
        return "proved to the end of the range"
    return "" if edge.exact else "at least (Z3 gave up or the search stopped)"


WIDTH, HEIGHT, MARGIN = 560, 400, 60


def region_svg(
    rows: list[tuple[float, Edge]], row_parameter: Parameter, x_range: tuple[float, float],
    y_range: tuple[float, float], operating_point: tuple[float, float],
) -> str:
    """The proved region: x is the row parameter, y the searched one; one bar per row."""
    column = rows[0][1].parameter
    (x0, x1), (y0, y1) = x_range, y_range

    half = (WIDTH - 2 * MARGIN) / max(1, len(rows)) / 2

    def sx(x: float) -> float:
        return MARGIN + half + (x - x0) / ((x1 - x0) or 1) * (WIDTH - 2 * MARGIN - 2 * half)

    def sy(y: float) -> float:
        return HEIGHT - MARGIN - (y - y0) / ((y1 - y0) or 1) * (HEIGHT - 2 * MARGIN)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle">proved region: '
        f'{escape(row_parameter.value)} x {escape(column.value)}</text>',
    ]
    for value, edge in rows:
        top = edge.safe if edge.safe is not None else y0
        colour = "#7fc97f" if edge.exact or edge.beyond is None else "#beaed4"
        parts.append(
            f'<rect x="{sx(value) - half:.1f}" y="{sy(min(top, y1)):.1f}" width="{2 * half:.1f}" '
            f'height="{max(0.0, sy(y0) - sy(min(top, y1))):.1f}" fill="{colour}" stroke="#333" '
            f'stroke-width="0.5"><title>{escape(row_parameter.value)} {value_text(row_parameter, value)}: '
            f'{escape(column.value)} proved up to {value_text(column, edge.safe)}</title></rect>'
        )
    px, py = operating_point
    parts += [
        f'<line x1="{MARGIN}" y1="{sy(y0)}" x2="{WIDTH - MARGIN}" y2="{sy(y0)}" stroke="black"/>',
        f'<line x1="{MARGIN}" y1="{sy(y0)}" x2="{MARGIN}" y2="{MARGIN}" stroke="black"/>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 15}" text-anchor="middle">'
        f'{escape(row_parameter.value)} ({escape(DESCRIPTIONS[row_parameter])})</text>',
        f'<text x="15" y="{HEIGHT / 2}" text-anchor="middle" transform="rotate(-90 15 {HEIGHT / 2})">'
        f'{escape(column.value)} ({escape(DESCRIPTIONS[column])})</text>',
        f'<circle cx="{sx(px):.1f}" cy="{sy(py):.1f}" r="5" fill="#d7191c"><title>now</title></circle>',
        f'<text x="{sx(px) + 8:.1f}" y="{sy(py) - 8:.1f}" fill="#d7191c">now</text>',
    ]
    for x in (x0, x1):
        parts.append(f'<text x="{sx(x):.1f}" y="{sy(y0) + 16:.1f}" text-anchor="middle">'
                     f'{value_text(row_parameter, x)}</text>')
    for y in (y0, y1):
        parts.append(f'<text x="{MARGIN - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">'
                     f'{value_text(column, y)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
