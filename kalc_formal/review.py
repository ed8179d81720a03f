"""The diff pipeline: check the cluster before and after a change, and compare.

Each side is read, analysed and decided by the check pipeline, with the same settings;
the facts each side's model reads are compared (analysis.changes).
"""

from __future__ import annotations

from typing import TextIO

from kalc_formal.analysis.changes import Comparison, Side, compare_sides, facts
from kalc_formal.analysis.scaling import Parameter
from kalc_formal.capacity import edges
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import CheckOptions, analyse_inputs, check_properties
from kalc_formal.errors import InvalidArgument


def diff_paths(
    before: list[str], after: list[str], *, labels: tuple[str, str], env_path: str | None = None,
    version: str | None = None, horizon: int | None = None, rlimit: int | None = None,
    budget: int | None = None, stdin: TextIO | None = None, allow_outside_root: bool = False,
    capacity: tuple[Parameter, ...] = (),
) -> Comparison:
    """Check both sides with the same options and compare them."""
    if before.count("-") + after.count("-") > 1:
        raise InvalidArgument("diff: only one side can be read from stdin (-)")
    sides: list[Side] = []
    options = CheckOptions(horizon=horizon, rlimit=rlimit, budget=budget)
    for paths, label in ((before, labels[0]), (after, labels[1])):
        inputs = read_inputs(paths, env_path=env_path, version=version, stdin=stdin,
                             allow_outside_root=allow_outside_root)
        analysis = analyse_inputs(inputs, horizon=horizon)
        outcomes = check_properties(analysis, rlimit=rlimit, budget=budget)
        found_edges = edges(inputs, capacity, options) if capacity else []
        sides.append(Side(
            label, analysis, outcomes["upstream-limit"], facts(inputs, analysis),
            tuple(found_edges), outcomes.get("server-load"),
        ))
    return compare_sides(sides[0], sides[1])
