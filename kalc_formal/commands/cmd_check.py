"""Shell: `kalc-formal check`, can the upstream's rate limit be exceeded?"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from kalc_formal import __version__
from kalc_formal.analysis.edits import Suggestions
from kalc_formal.analysis.relaxations import Reliance
from kalc_formal.analysis.result import Analysis
from kalc_formal.analysis.scaling import Edge, parse_parameter
from kalc_formal.capacity import edges
from kalc_formal.commands.progress import Progress
from kalc_formal.config.corefile_env import parse_assignments, redact, redacting
from kalc_formal.config.reading import Inputs, read_inputs
from kalc_formal.engine import CheckOptions, analyse_inputs, check_properties
from kalc_formal.errors import InvalidArgument
from kalc_formal.model.flowmodel import Property
from kalc_formal.model.solve import (
    DEFAULT_BUDGET,
    DEFAULT_RLIMIT,
    Outcome,
    Verdict,
    worst,
)
from kalc_formal.reliance import MAX_PROOFS, relies_on
from kalc_formal.source import shown_lines
from kalc_formal.suggest import suggest
from kalc_formal.views.check import render_json, render_text
from kalc_formal.views.sarif import render_sarif
from kalc_formal.views.suggest import patch_name

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
    add_check_options(parser, formats=("text", "json", "sarif"))
    parser.add_argument("--corefile-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a value for the Corefiles' {$NAME} and {%%NAME%%} (over the CoreDNS "
                        "and node-cache containers' env; kalc-formal's own environment is never "
                        "read)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress line on stderr (shown only on a terminal, after 1 s)")
    parser.add_argument("--suggest", action="store_true",
                        help="when unsafe, search for the smallest sets of fixes that make it "
                        "proved, prove each, and print them as patches (cheapest first)")
    parser.add_argument("--capacity", nargs="?", const="surge,rate,pods,names,namespaces",
                        metavar="PARAMS", help="also search how far each growth parameter "
                        "(surge, rate, pods, names, namespaces; default all) can move with "
                        "the property still proved (several checks each)")
    parser.add_argument("--relies-on", action="store_true",
                        help="for each proved property, find a minimal set of config facts its "
                        "proof relies on, relaxing each in turn (a whole check each, at most "
                        f"{MAX_PROOFS} a property)")
    parser.add_argument("--patch-dir", metavar="DIR",
                        help="with --suggest, write each suggested fix as DIR/N-ID.patch")
    parser.set_defaults(run=run)


def add_check_options(
    parser: argparse.ArgumentParser, *, formats: tuple[str, ...] = ("text", "json")
) -> None:
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
    parser.add_argument("--format", default="text", choices=list(formats),
                        help="sarif: SARIF 2.1.0 for code scanning, paths relative to the "
                        "working directory" if "sarif" in formats else None)
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
        allow_outside_root=args.allow_outside_root, corefile_env=parse_assignments(args.corefile_env),
    )
    with redacting(inputs.secrets):
        analysis = analyse_inputs(inputs, horizon=args.horizon)
        with Progress(sys.stderr, enabled=not args.quiet) as progress:
            outcomes = check_properties(
                analysis, rlimit=args.rlimit, budget=args.budget, on_progress=progress.at
            )
        outcome, server_load = outcomes["upstream-limit"], outcomes.get("server-load")
        suggestions = _suggestions(args, inputs, analysis, *outcomes.values())
        capacity = _capacity(args, inputs, "upstream-limit")
        load_capacity = _capacity(args, inputs, "server-load") if server_load is not None else None
        reliance = _reliance(args, inputs, outcomes)
    if args.format == "json":
        text = render_json(analysis, outcome, capacity=capacity, load_capacity=load_capacity,
                           suggestions=suggestions,
                           server_load=server_load, reliance=reliance)
    elif args.format == "sarif":
        text = render_sarif(analysis, outcome, inputs, tool_version=__version__,
                            server_load=server_load)
    else:
        text = shown_lines(render_text(
            analysis, outcome, capacity=capacity, load_capacity=load_capacity,
            suggestions=suggestions, patch_dir=args.patch_dir,
            server_load=server_load, reliance=reliance,
        ))
    sys.stdout.write(redact(text, inputs.secrets))
    return EXIT_CODES[worst([o.verdict for o in outcomes.values()])]


def _capacity(args: argparse.Namespace, inputs: Inputs, prop: Property) -> list[Edge] | None:
    if not getattr(args, "capacity", None):
        return None
    parameters = [parse_parameter(p.strip()) for p in args.capacity.split(",") if p.strip()]
    options = CheckOptions(horizon=args.horizon, rlimit=args.rlimit, budget=args.budget)
    return edges(inputs, parameters, options, prop)


def _reliance(
    args: argparse.Namespace, inputs: Inputs, outcomes: Mapping[Property, Outcome]
) -> tuple[Reliance, ...] | None:
    """What each proved property's proof relies on (SARIF has no place for it)."""
    if not getattr(args, "relies_on", False) or args.format == "sarif":
        return None
    proved = [p for p, outcome in outcomes.items() if outcome.verdict is Verdict.PROVED]
    if proved and "-" in args.paths:
        raise InvalidArgument("--relies-on edits files: it cannot be used with - (stdin)")
    options = CheckOptions(env_path=args.env, version=args.coredns_version,
                           horizon=args.horizon, rlimit=args.rlimit, budget=args.budget)
    return tuple(
        relies_on(args.paths, options, prop=prop, inputs=inputs,
                  corefile_env=parse_assignments(args.corefile_env),
                  allow_outside_root=args.allow_outside_root)
        for prop in proved
    )


def _suggestions(
    args: argparse.Namespace, inputs: Inputs, analysis: Analysis, *outcomes: Outcome
) -> Suggestions | None:
    if not getattr(args, "suggest", False) or Verdict.UNSAFE not in [o.verdict for o in outcomes]:
        return None
    if "-" in args.paths:
        raise InvalidArgument("--suggest edits files: it cannot be used with - (stdin)")
    options = CheckOptions(env_path=args.env, version=args.coredns_version,
                           horizon=args.horizon, rlimit=args.rlimit, budget=args.budget)
    suggestions = suggest(args.paths, inputs, analysis, options)
    if args.patch_dir:
        folder = Path(args.patch_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for number, suggestion in enumerate(suggestions.proved, 1):
            if suggestion.patch:
                (folder / patch_name(number, suggestion)).write_text(suggestion.patch)
    return suggestions
