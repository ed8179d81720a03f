"""Shell: `kalc-formal inspect`, what was read and how the model treats it."""

from __future__ import annotations

import argparse
import sys

from kalc_formal.config.corefile_env import parse_assignments, redact, redacting
from kalc_formal.config.reading import read_inputs
from kalc_formal.inspect import inspect_inputs
from kalc_formal.source import shown_lines
from kalc_formal.views.inspection import render_json, render_text


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="what was read: server blocks, pod classes, lookup costs, coverage",
        description="Read the manifests and Corefile under PATH (and kalc.yaml beside them) "
        "and show what the model makes of them: the server blocks with their plugins in "
        "execution order, the pod classes with their resolv.conf, what one lookup of each "
        "kind of name costs in queries and upstream packets, and which directives and pod "
        "DNS fields are modelled, ignored or not modelled. Exit 0: shown; 2: bad input.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="manifest files or folders, a Corefile, or - for stdin")
    parser.add_argument("--env", metavar="KALC_YAML", help="the environment spec "
                        "(default: kalc.yaml beside the first PATH that has one)")
    parser.add_argument("--coredns-version", metavar="V", help="e.g. 1.14.6")
    parser.add_argument("--format", default="text", choices=["text", "json"])
    parser.add_argument("--corefile-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a value for the Corefiles' {$NAME} and {%%NAME%%} (over the CoreDNS "
                        "and node-cache containers' env; kalc-formal's own environment is never "
                        "read)")
    parser.add_argument("--allow-outside-root", action="store_true",
                        help="follow links and imports that leave the input folders")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    inputs = read_inputs(
        args.paths, env_path=args.env, version=args.coredns_version, stdin=sys.stdin,
        allow_outside_root=args.allow_outside_root, corefile_required=False,
        corefile_env=parse_assignments(args.corefile_env),
    )
    with redacting(inputs.secrets):
        inspection = inspect_inputs(inputs)
    text = render_json(inspection) if args.format == "json" else shown_lines(render_text(inspection))
    sys.stdout.write(redact(text, inputs.secrets))
    return 0
