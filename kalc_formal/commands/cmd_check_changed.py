"""Shell: `kalc-formal check-changed FILE...`, check the cluster folders changed files are in.

What a pre-commit hook runs (``.pre-commit-hooks.yaml``): pre-commit passes the names of
the changed files; each is mapped to its cluster folder, the nearest folder at or above it
that holds a ``kalc.yaml`` (up to the working directory), and each folder is checked once.
A file in no cluster folder, or outside the working directory, is skipped. Exit 0 when every folder is proved or safe, else
2 if any folder has bad input, 1 if any is unsafe, 3 if any is unknown.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from kalc_formal.commands.cmd_check import EXIT_CODES, _positive
from kalc_formal.config.corefile_env import parse_assignments, redact, redacting
from kalc_formal.config.reading import read_inputs
from kalc_formal.engine import analyse_inputs, check
from kalc_formal.errors import KalcError
from kalc_formal.model.solve import DEFAULT_BUDGET, DEFAULT_RLIMIT, Verdict
from kalc_formal.source import shown, shown_lines
from kalc_formal.views.report import render_text, verdict_line

CLUSTER_MARKER = "kalc.yaml"
EXIT_BAD_INPUT = 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check-changed",
        help="check the cluster folders (with a kalc.yaml) that changed files are in",
        description="Map each FILE to its cluster folder: the nearest folder at or above it, "
        "up to the working directory, that holds a kalc.yaml. Check each such folder once "
        "(a pre-commit hook passes the changed files). Files in no cluster folder are "
        "skipped. Exit 0: all proved or safe; 2: bad input in a folder; 1: one is unsafe; "
        "3: one is unknown.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="changed files")
    parser.add_argument("--rlimit", type=_positive, metavar="N", default=DEFAULT_RLIMIT,
                        help=f"Z3's resource budget per query (default {DEFAULT_RLIMIT:,})")
    parser.add_argument("--budget", type=_positive, metavar="N", default=DEFAULT_BUDGET,
                        help=f"Z3's resource budget for each folder's check (default {DEFAULT_BUDGET:,})")
    parser.add_argument("--corefile-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a value for the Corefiles' {$NAME} and {%%NAME%%} in every folder "
                        "(over the CoreDNS and node-cache containers' env; kalc-formal's own "
                        "environment is never read), as for check")
    parser.set_defaults(run=run)


def cluster_folders(files: Iterable[str], root: Path) -> list[Path]:
    """The cluster folders of ``files``, relative to ``root``, in order; files outside
    ``root`` are skipped."""
    root = Path(os.path.abspath(root))
    found: dict[Path, None] = {}
    for name in files:
        path = Path(os.path.abspath(name))
        if root not in path.parents:
            continue
        folder = path if path.is_dir() else path.parent
        while not (folder / CLUSTER_MARKER).is_file() and folder != root:
            folder = folder.parent
        if (folder / CLUSTER_MARKER).is_file():
            found[folder] = None
    return [Path(os.path.relpath(folder, root)) for folder in found]


def run(args: argparse.Namespace) -> int:
    corefile_env = parse_assignments(args.corefile_env)
    folders = cluster_folders(args.files, Path.cwd())
    codes = []
    for folder in folders:
        codes.append(_check_folder(str(folder), args, corefile_env))
    if not folders:
        print("kalc-formal: no changed file is in a cluster folder (one with a kalc.yaml)")
    for code in (EXIT_BAD_INPUT, EXIT_CODES[Verdict.UNSAFE], EXIT_CODES[Verdict.UNKNOWN]):
        if code in codes:
            return code
    return 0


def _check_folder(folder: str, args: argparse.Namespace, corefile_env: Mapping[str, str]) -> int:
    secrets: tuple[str, ...] = ()
    try:
        inputs = read_inputs([folder], corefile_env=corefile_env)
        secrets = inputs.secrets
        with redacting(secrets):
            analysis = analyse_inputs(inputs)
            outcome = check(analysis, rlimit=args.rlimit, budget=args.budget)
    except KalcError as error:
        print(f"{shown(folder)}: bad input", file=sys.stderr)
        print(shown_lines(str(error)), file=sys.stderr)
        return EXIT_BAD_INPUT
    code = EXIT_CODES[outcome.verdict]
    if code == 0:
        text = f"{folder}: {verdict_line(analysis, outcome)}\n"
    else:
        text = f"== {folder}\n{render_text(analysis, outcome)}\n"
    sys.stdout.write(redact(shown_lines(text), secrets))
    return code
