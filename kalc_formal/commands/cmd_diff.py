"""Shell: `kalc-formal diff`, what a change does to the upstream-limit property."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from kalc_formal import __version__
from kalc_formal.analysis.changes import Movement
from kalc_formal.analysis.scaling import parse_parameter
from kalc_formal.commands.cmd_check import add_check_options
from kalc_formal.errors import InvalidArgument
from kalc_formal.inputs.gitrev import checkout, parse_revision
from kalc_formal.review import diff_paths
from kalc_formal.source import shown_lines
from kalc_formal.views.diff import render_json, render_text
from kalc_formal.views.sarif import render_diff_sarif

EXIT_CODES = {
    Movement.REGRESSION: 1,
    Movement.FIX: 0,
    Movement.STILL_SAFE: 0,
    Movement.STILL_UNSAFE: 0,
    Movement.UNKNOWN: 3,
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="can this change cause the failure? (regression, fix, or neither, with why)",
        description="Check the cluster before and after a change and compare: a regression "
        "(the failure is reachable after and not before, with the counterexample), a fix, "
        "or neither (with the headroom or the margin on each side), and what changed that "
        "the model reads, with the lines on each side. Exit 1: regression; 0: no regression; "
        "2: bad input; 3: unknown on either side.",
    )
    parser.add_argument("sides", nargs="+", metavar="SIDE",
                        help="BEFORE AFTER (folders, files or -), or with --git only AFTER")
    parser.add_argument("--git", metavar="REV[:PATH]",
                        help="take BEFORE from git: PATH (default: AFTER's path) as it was at "
                        "REV, read from the repository without a checkout")
    add_check_options(parser, formats=("text", "json", "sarif"))
    parser.add_argument("--capacity", nargs="?", const="surge,rate,pods,names,namespaces",
                        metavar="PARAMS", help="also show how far each growth parameter can "
                        "move on each side (several checks each)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="kalc-diff-") as scratch:
        before, after, labels, relabel = _sides(args, Path(scratch))
        comparison = diff_paths(
            before, after, labels=labels, env_path=args.env, version=args.coredns_version,
            horizon=args.horizon, rlimit=args.rlimit, budget=args.budget, stdin=sys.stdin,
            allow_outside_root=args.allow_outside_root,
            capacity=tuple(parse_parameter(p.strip()) for p in (args.capacity or "").split(",")
                           if p.strip()),
        )
        if args.format == "sarif":
            text = render_diff_sarif(comparison, tool_version=__version__)
        else:
            text = render_json(comparison) if args.format == "json" else render_text(comparison)
        for prefix, label in relabel:
            text = text.replace(prefix, label)
    sys.stdout.write(text if args.format in ("json", "sarif") else shown_lines(text))
    return EXIT_CODES[comparison.overall]


def _sides(
    args: argparse.Namespace, scratch: Path
) -> tuple[list[str], list[str], tuple[str, str], list[tuple[str, str]]]:
    if args.git is None:
        if len(args.sides) != 2:
            raise InvalidArgument("diff: give BEFORE and AFTER (or --git REV and AFTER)")
        before, after = args.sides
        return [before], [after], (before, after), []
    if len(args.sides) != 1:
        raise InvalidArgument("diff: with --git, give only AFTER")
    after = args.sides[0]
    revision = parse_revision(args.git, after if after != "-" else ".")
    written = checkout(revision, scratch)
    relabel = [(f"{scratch}/", f"{revision.revision}:")]
    return [str(written)], [after], (revision.label, after), relabel
