"""The command's frame: the parser of every subcommand, logging, and the one place where an
exception becomes an exit code (``_exits.exit_code_for``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, TextIO

from .. import __version__
from ._alerts import add_test_alerts
from ._checkout import add_checkout
from ._demo import add_demo
from ._exits import EXIT_OK, EXIT_USAGE, exit_code_for
from ._fakes import add_serve_fakes
from ._golive import add_shadow_report
from ._logs import configure_logging
from ._metrics import add_metrics
from ._migrate import add_migrate
from ._orders import add_map_order, add_order
from ._prima import add_prima
from ._privacy import add_forget_customer, add_purge
from ._queue import add_exceptions, add_resolve, add_retry
from ._reconcile import add_reconcile
from ._reports import add_health
from ._runs import add_run
from ._signals import install_termination

__all__ = ["COMMANDS", "Handler", "build_parser", "main"]

#: A subcommand's handler: (arguments, stdin, stdout, stderr) -> exit code. Raising is fine:
#: ``main`` turns every exception into its documented exit code.
Handler = Callable[[argparse.Namespace, TextIO, TextIO, TextIO], int]

#: The subcommands, each added by one function that declares its arguments and sets ``handler``.
COMMANDS: Final[tuple[Callable[[Any], None], ...]] = (
    add_run,
    add_exceptions,
    add_order,
    add_retry,
    add_resolve,
    add_health,
    add_reconcile,
    add_migrate,
    add_metrics,
    add_test_alerts,
    add_shadow_report,
    add_purge,
    add_forget_customer,
    add_map_order,
    add_demo,
    add_serve_fakes,
    add_prima,
    add_checkout,
)


def _add_common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log lines on stderr: -v progress and every request, -vv debug",
    )
    group.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines as text (default) or one JSON object per line",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``ct-prima-sync`` argument parser with every subcommand of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="ct-prima-sync",
        description="Keep a commercetools project and a Prima ERP in step. Settings: --config, "
        "else $CT_PRIMA_SYNC_CONFIG, else ./ct-prima-sync.toml.",
        epilog="Exit codes: 0 ok; 1 ran and found problems; 2 usage or configuration error; "
        "3 a fault in ct-prima-sync; 130 interrupted; 143 terminated.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    for subparser in subparsers.choices.values():
        _add_common(subparser)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    verbose = False
    try:
        install_termination()
        parser = build_parser()
        try:  # argparse prints to sys.stdout/sys.stderr: point them at our streams meanwhile
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits on --help, --version and usage errors
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        verbose = args.verbose > 0
        configure_logging(stderr, verbosity=args.verbose, log_format=args.log_format)
        handler: Handler = args.handler
        return handler(args, stdin, stdout, stderr)
    except BrokenPipeError:  # the reader (``| head``) went away: not an error of ours
        return EXIT_OK
    except BaseException as error:
        if isinstance(error, SystemExit):
            raise
        return exit_code_for(error, stderr, verbose=verbose)
