"""The ``ct-prima-sync`` command: operators' and iPaaS entry points over the public API.

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and sets
``handler``; add a command by writing such a function and listing it in :data:`COMMANDS`.

Exit codes: 0 success; 1 the command ran and found problems (an order with issues); 2 usage or
configuration errors (bad arguments, unreadable files, invalid mapping configuration). Messages
for people go to stderr; results to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TextIO

from . import __version__
from ._cli_sync import add_demo, add_exceptions, add_health, add_resolve, add_retry, add_run
from .errors import ConfigurationError, CtPrimaSyncError
from .mapping import MappingConfig, MappingResult, map_order_json
from .mapping._json import MAX_ORDER_BYTES, read_order_text
from .prima import OmlinkCodec
from .prima._xml import SubmitOrdersRequest

__all__ = ["COMMANDS", "EXIT_ISSUES", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK: Final = 0
EXIT_ISSUES: Final = 1
EXIT_USAGE: Final = 2

Handler = Callable[[argparse.Namespace, TextIO, TextIO, TextIO], int]


class _UsageError(Exception):
    """A problem the user fixes on the command line or in a file: exit code 2."""


def _read_text(name: str, stdin: TextIO, what: str) -> str:
    if name == "-":
        return stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise _UsageError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _UsageError(f"{what} {name} is not UTF-8 text") from None


def _load_mapping_config(name: str, stdin: TextIO) -> dict[str, Any]:
    text = _read_text(name, stdin, "configuration")
    try:
        if name.endswith(".json"):
            data = json.loads(text, parse_float=Decimal)
        else:
            data = tomllib.loads(text, parse_float=Decimal)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise _UsageError(f"configuration {name} is not valid: {exc}") from None
    if not isinstance(data, dict):
        raise _UsageError(f"configuration {name} must be a table of settings")
    return data


# -- map-order ---------------------------------------------------------------------------------


def _add_map_order(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "map-order",
        help="map one commercetools order to a Prima sales order (no network)",
        description=(
            "Read a commercetools Order JSON and print the Prima sales order it becomes, with "
            "its totals and issues (JSON), or the omlink MultiNewOrder request XML that would be "
            "sent. Exit code 0 when the order maps, 1 when it has issues, 2 for usage or "
            "configuration errors."
        ),
    )
    parser.add_argument(
        "--config", required=True, help="mapping configuration (mapping.toml, or .json)"
    )
    parser.add_argument(
        "--format",
        choices=("json", "omlink"),
        default="json",
        help="json: the mapped order, totals and issues; omlink: the request XML",
    )
    parser.add_argument("order", help="the order JSON file, or - for standard input")
    parser.set_defaults(handler=_run_map_order)


def _read_order(name: str, stdin: TextIO) -> bytes:
    """The order file's bytes, at most one more than an order may have (the rest is not read)."""
    if name == "-":
        source = getattr(stdin, "buffer", None)
        if source is None:  # a text stream without bytes beneath (tests hand in StringIO)
            return stdin.read(MAX_ORDER_BYTES + 1).encode("utf-8", "surrogateescape")
        data: bytes = source.read(MAX_ORDER_BYTES + 1)
        return data
    try:
        with Path(name).open("rb") as handle:
            return handle.read(MAX_ORDER_BYTES + 1)
    except OSError as exc:
        raise _UsageError(f"cannot read order {name}: {exc.strerror or exc}") from None


def _run_map_order(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if args.config == "-" and args.order == "-":
        raise _UsageError("the configuration and the order cannot both come from stdin")
    try:
        config = MappingConfig.from_dict(_load_mapping_config(args.config, stdin))
    except ConfigurationError as exc:
        raise _UsageError(f"invalid configuration {args.config}: {exc}") from None
    order = read_order_text(_read_order(args.order, stdin))
    result = order if isinstance(order, MappingResult) else map_order_json(order, config)
    if args.format == "omlink" and result.sales_order is not None:
        # A preview: the order number stands in for the per-send UniqueId the client draws.
        sales_order = result.sales_order
        request = SubmitOrdersRequest(orders=(sales_order,), unique_ids=(sales_order.order_number,))
        stdout.write(OmlinkCodec().encode_request(request))
        stdout.write("\n")
        return EXIT_OK
    if args.format == "omlink":
        for issue in result.issues:
            where = f" at {issue.path}" if issue.path else ""
            stderr.write(f"{issue.code}{where}: {issue.message}\n")
    else:
        stdout.write(result.to_json(indent=2))
        stdout.write("\n")
    if not result.ok:
        stderr.write(f"the order has {len(result.issues)} issue(s); it was not mapped\n")
        return EXIT_ISSUES
    return EXIT_OK


# -- the command -------------------------------------------------------------------------------

#: The subcommands, each added by one function (``demo``, ``run``, ... join this tuple).
COMMANDS: Final[tuple[Callable[[Any], None], ...]] = (
    add_demo,
    add_run,
    _add_map_order,
    add_exceptions,
    add_retry,
    add_resolve,
    add_health,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``ct-prima-sync`` argument parser with every subcommand of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="ct-prima-sync",
        description="Keep a commercetools project and a Prima ERP in step.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
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
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Handler = args.handler
    try:
        return handler(args, stdin, stdout, stderr)
    except _UsageError as exc:
        stderr.write(f"ct-prima-sync: error: {exc}\n")
        return EXIT_USAGE
    except ConfigurationError as exc:
        stderr.write(f"ct-prima-sync: configuration error: {exc}\n")
        return EXIT_USAGE
    except CtPrimaSyncError as exc:
        stderr.write(f"ct-prima-sync: {exc.__class__.__name__}: {exc}\n")
        return EXIT_ISSUES
    except BrokenPipeError:  # the reader (``| head``) went away: not an error of ours
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
