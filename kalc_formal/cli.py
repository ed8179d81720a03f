"""Shell: the ``kalc-formal`` command line.

Exit codes: 0 ok (proved or safe), 1 unsafe, 2 bad input or usage, 3 unknown,
4 internal error (a bug in kalc-formal, never a verdict).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from kalc_formal import __version__
from kalc_formal.errors import KalcError, error_list
from kalc_formal.source import shown, shown_lines

EXIT_OK = 0
EXIT_UNSAFE = 1
EXIT_BAD_INPUT = 2
EXIT_UNKNOWN = 3
EXIT_INTERNAL_ERROR = 4

REPORT_BUG = (
    "this is a bug in kalc-formal, not a verdict on your cluster; please report it to the "
    "kalc-formal maintainers with the command line and the inputs (run again with --debug "
    "for the traceback)"
)


def _command_modules() -> list[ModuleType]:
    from kalc_formal.commands import (
        cmd_capacity,
        cmd_check,
        cmd_diff,
        cmd_inspect,
        cmd_lookup,
    )

    modules: list[ModuleType] = [cmd_lookup, cmd_inspect, cmd_check, cmd_diff, cmd_capacity]
    return modules


def main_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="kalc-formal",
        description="Can this Kubernetes DNS configuration drive CoreDNS's upstream "
        "over its rate limit? Read, inspect, and check it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    debug_help = "on an internal error, print the Python traceback"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        module.add_parser(subparsers)
    for command in subparsers.choices.values():
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help=debug_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code. No exception leaves it: an unexpected one
    is an internal error (exit 4), reported in one line on stderr."""
    args = main_parser().parse_args(argv)
    json_output = getattr(args, "format", "text") == "json"
    try:
        code: int = args.run(args)
    except KalcError as error:
        print(shown_lines(str(error)), file=sys.stderr)
        if json_output:
            _print_json({"verdict": "error",
                         "errors": [e.as_json() for e in error_list(error)]})
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("kalc-formal: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        return _internal_error(error, debug=args.debug, json_output=json_output)
    return code


def _internal_error(error: BaseException, *, debug: bool, json_output: bool) -> int:
    detail = shown(f"{type(error).__name__}: {error}", limit=500)
    if debug:
        traceback.print_exc(file=sys.stderr)
    print(f"kalc-formal: internal error: {detail}; {REPORT_BUG}", file=sys.stderr)
    if json_output:
        _print_json({"verdict": "internal-error",
                     "errors": [{"path": None, "line": None, "col": None, "message": detail}]})
    return EXIT_INTERNAL_ERROR


def _print_json(document: dict[str, object]) -> None:
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.write(json.dumps(document, indent=2) + "\n")


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main(sys.argv[1:]))
