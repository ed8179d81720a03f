"""Shell: `kalc-formal check`, can the upstream's rate limit be exceeded?"""

from __future__ import annotations

import argparse
import sys

from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs, check
from kalc_formal.model.solve import DEFAULT_BUDGET, DEFAULT_RLIMIT, Verdict
from kalc_formal.source import shown_lines
from kalc_formal.views.report import render_json, render_text

MAX_HORIZON = 10_000
"""The most steps --horizon may ask for (kalc.yaml's check.horizon has the same cap)."""

EXIT_CODES = {
    Verdict.PROVED: 0,
    Verdict.SAFE_BOUNDED: 0,
    Verdict.UNSAFE: 1,
    Verdict.UNKNOWN: 3,
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="is upstream rate-limit failure reachable? (proof or shortest counterexample)",
        description="Read the manifests and Corefile under PATH (and kalc.yaml beside them), "
        "and decide whether CoreDNS's (or the node-local caches') packets to an upstream "
        "resolver can exceed its rate limit. Exit 0: proved or safe within the horizon; "
        "1: unsafe (a replayed counterexample); 2: bad input; 3: unknown.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="manifest files or folders, a Corefile, or - for stdin")
    add_check_options(parser)
    parser.set_defaults(run=run)


def add_check_options(parser: argparse.ArgumentParser) -> None:
    """The options `check` and `diff` share."""
    parser.add_argument("--env", metavar="KALC_YAML", help="the environment spec "
                        "(default: kalc.yaml beside the first PATH that has one)")
    parser.add_argument("--horizon", type=_horizon, metavar="N",
                        help=f"steps to search (1 to {MAX_HORIZON:,})")
    parser.add_argument("--coredns-version", metavar="V", help="e.g. 1.14.6")
    parser.add_argument("--rlimit", type=_positive, metavar="N", default=DEFAULT_RLIMIT,
                        help="Z3's resource budget per query (deterministic, unlike a "
                        f"timeout; default {DEFAULT_RLIMIT:,})")
    parser.add_argument("--budget", type=_positive, metavar="N", default=DEFAULT_BUDGET,
                        help="Z3's resource budget for the whole check, all queries together; "
                        f"when spent the verdict is unknown (default {DEFAULT_BUDGET:,})")
    parser.add_argument("--format", default="text", choices=["text", "json"])
    parser.add_argument("--allow-outside-root", action="store_true",
                        help="follow links and imports that leave the input folders")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _horizon(text: str) -> int:
    value = _positive(text)
    if value > MAX_HORIZON:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_HORIZON:,}")
    return value


def run(args: argparse.Namespace) -> int:
    inputs = read_inputs(
        args.paths, env_path=args.env, version=args.coredns_version, stdin=sys.stdin,
        allow_outside_root=args.allow_outside_root,
    )
    analysis = analyse_inputs(inputs, horizon=args.horizon)
    outcome = check(analysis, rlimit=args.rlimit, budget=args.budget)
    if args.format == "json":
        sys.stdout.write(render_json(analysis, outcome))
    else:
        sys.stdout.write(shown_lines(render_text(analysis, outcome)))
    return EXIT_CODES[outcome.verdict]
