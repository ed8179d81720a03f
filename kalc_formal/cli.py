"""Shell: the ``kalc-formal`` command line.

Exit codes: 0 ok (proved or safe), 1 unsafe, 2 bad input or usage, 3 unknown.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from kalc_formal import __version__
from kalc_formal.errors import ConfigError, ConfigErrors, KalcError

EXIT_OK = 0
EXIT_UNSAFE = 1
EXIT_BAD_INPUT = 2
EXIT_UNKNOWN = 3


def _command_modules() -> list[ModuleType]:
    from kalc_formal.commands import cmd_check, cmd_inspect, cmd_lookup

    modules: list[ModuleType] = [cmd_lookup, cmd_inspect, cmd_check]
    return modules


def main_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="kalc-formal",
        description="Can this Kubernetes DNS configuration drive CoreDNS's upstream "
        "over its rate limit? Read, inspect, and check it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = main_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KalcError as error:
        print(_error_text(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    return code


def _error_text(error: KalcError) -> str:
    if isinstance(error, ConfigError | ConfigErrors):
        return str(error)
    return f"kalc-formal: error: {error}"


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main(sys.argv[1:]))
