"""Shell: `kalc-formal capacity`, the proved region over one or two growth parameters."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kalc_formal.analysis.scaling import (
    Parameter,
    current_value,
    parse_parameter,
)
from kalc_formal.capacity import MAX_RANGE_END, MAX_ROWS, decider, edge_within, region
from kalc_formal.commands.cmd_check import add_check_options
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import CheckOptions, input_settings
from kalc_formal.errors import InvalidArgument
from kalc_formal.source import shown_lines
from kalc_formal.views.capacity import (
    edge_json,
    edge_text,
    region_svg,
    region_text,
)
from kalc_formal.views.schemas import SCHEMA_VERSION


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "capacity",
        help="how far the cluster can grow with the property still proved",
        description="Search where the proof stops holding as growth parameters move: one "
        "--vary gives the edge along it; two give, for rows of the first, the edge along "
        "the second (a search along each row, not a dense grid). Parameters: surge and rate "
        "(multipliers of kalc.yaml's lookup rates), pods and names (multipliers), namespaces "
        "(a count). Exit 0: shown; 2: bad input.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="manifest files or folders, a Corefile, or - for stdin")
    parser.add_argument("--vary", action="append", required=True, metavar="PARAM=LO..HI",
                        help="e.g. surge=1..5 or namespaces=100..5000 (once or twice)")
    parser.add_argument("--rows", type=int, default=8, metavar="N",
                        help=f"rows of the first parameter with two --vary (2 to {MAX_ROWS})")
    parser.add_argument("--plot", metavar="FILE.svg", help="draw the proved region (two --vary)")
    add_check_options(parser)
    parser.set_defaults(run=run)


def parse_range(text: str) -> tuple[Parameter, float, float]:
    name, _, bounds = text.partition("=")
    low_text, _, high_text = bounds.partition("..")
    parameter = parse_parameter(name.strip())
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise InvalidArgument(f"--vary {text[:60]!r}: expected PARAM=LO..HI with numbers") from None
    if not 0 < low < high <= MAX_RANGE_END:
        raise InvalidArgument(f"--vary {text[:60]!r}: need 0 < LO < HI <= {MAX_RANGE_END:,}")
    return parameter, low, high


def run(args: argparse.Namespace) -> int:
    ranges = [parse_range(text) for text in args.vary]
    if len(ranges) > 2 or len({p for p, _, _ in ranges}) != len(ranges):
        raise InvalidArgument("--vary: give one or two different parameters")
    if not 2 <= args.rows <= MAX_ROWS:
        raise InvalidArgument(f"--rows must be between 2 and {MAX_ROWS}")
    if args.plot and len(ranges) != 2:
        raise InvalidArgument("--plot draws a region: give two --vary")
    inputs = read_inputs(args.paths, env_path=args.env, version=args.coredns_version,
                         stdin=sys.stdin, allow_outside_root=args.allow_outside_root)
    step = input_settings(inputs, horizon=args.horizon).step
    decide = decider(inputs, CheckOptions(horizon=args.horizon, rlimit=args.rlimit, budget=args.budget))
    if len(ranges) == 1:
        parameter, low, high = ranges[0]
        found = edge_within(decide, inputs, parameter, (low, high))
        if args.format == "json":
            sys.stdout.write(json.dumps({"schema_version": SCHEMA_VERSION, "command": "capacity", "edges": [edge_json(found)]},
                                        indent=2) + "\n")
        else:
            sys.stdout.write(shown_lines(f"{parameter.value}: {edge_text(found, step)}\n"))
        return 0
    (rows_parameter, row_low, row_high), (parameter, low, high) = ranges
    rows = region(decide, inputs, ranges[0], args.rows, ranges[1])
    now = (current_value(inputs, rows_parameter), current_value(inputs, parameter))
    if args.plot:
        Path(args.plot).write_text(region_svg(rows, rows_parameter, (row_low, row_high),
                                              (low, high), now))
    if args.format == "json":
        sys.stdout.write(json.dumps({
            "schema_version": SCHEMA_VERSION, "command": "capacity",
            "rows_parameter": rows_parameter.value,
            "rows": [{"value": value, **edge_json(e)} for value, e in rows],
        }, indent=2) + "\n")
        return 0
    plotted = f"\n\nDrawn in {args.plot}" if args.plot else ""
    sys.stdout.write(shown_lines(f"{region_text(rows, rows_parameter, now)}{plotted}\n"))
    return 0

