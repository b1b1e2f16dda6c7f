"""One order: ``order`` (its whole story from the ledger) and ``map-order`` (offline mapping)."""

from __future__ import annotations

import argparse
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ..errors import ConfigurationError
from ..mapping import MappingConfig, MappingResult, map_order_json
from ..mapping._json import MAX_ORDER_BYTES, read_order_text
from ..prima import encode_sales_orders
from ..state import ExceptionFilter, OrderRecord, OrderStatus, WriteBackItem
from ._common import add_format, add_state, now, open_state, subparser
from ._exits import EXIT_ISSUES, EXIT_OK, UsageError
from ._output import age, table, write_json
from ._queue import exception_json, reason

__all__ = ["add_map_order", "add_order"]


# -- order -------------------------------------------------------------------------------------


def add_order(subparsers: Any) -> None:
    """``order``: one order's story."""
    parser = subparser(
        subparsers,
        "order",
        help="one order's whole story: ledger status and times, attempts, exceptions, Prima "
        "reference, write-back",
        description="Show what the sync knows about one order, by its order number (as the "
        "tables show) or its commercetools id. Exit code 1 when the ledger does not have it.",
    )
    add_state(parser)
    parser.add_argument("order", help="order number, e.g. WEB-1001, or commercetools order id")
    add_format(parser)
    parser.set_defaults(handler=_run_order)


def _write_back(record: OrderRecord, queued: WriteBackItem | None = None) -> str:
    if queued is not None:
        return (
            f"pending: Prima has the order; writing its reference to commercetools failed "
            f"{queued.attempts} time(s), next try {_when(queued.due_at)} (CT_WRITE_BACK_FAILED; "
            "nothing is sent to Prima again)"
        )
    if record.status is OrderStatus.DONE:
        return "done: Prima's reference is on the order in commercetools"
    if record.prima_reference:
        return "pending: Prima has the order; the reference is not yet on the commercetools order"
    return "not yet (Prima does not have the order yet)"


def _run_order(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    with open_state(args, create=False) as store:
        record = store.get_order_by_number(args.order) or store.get_order(args.order)
        if record is None:
            err.write(f"warning: no order {args.order} in the ledger (not polled yet, not "
                      "eligible, or a typo)\n")  # fmt: skip
            return EXIT_ISSUES
        exceptions = store.list_exceptions(
            ExceptionFilter(open_only=False, order_id=record.order_id)
        )
        queued = store.get_write_back(record.order_id)
    story = {
        "order_id": record.order_id,
        "order_number": record.order_number,
        "status": str(record.status),
        "attempts": record.attempts,
        "ingested_at": record.created_at.isoformat(),
        "last_change_at": record.updated_at.isoformat(),
        "submission_started_at": _iso(record.submission_started_at),
        "ambiguous": record.ambiguous,
        "next_attempt_at": _iso(record.next_attempt_at),
        "lease_owner": record.lease_owner,
        "lease_expires_at": _iso(record.lease_expires_at),
        "prima_reference": record.prima_reference,
        "write_back": _write_back(record, queued).split(":")[0],
        "write_back_attempts": queued.attempts if queued is not None else 0,
        "write_back_due_at": _iso(queued.due_at) if queued is not None else None,
        "last_error": record.last_error,
        "totals": {
            "currency": record.totals.currency,
            "net": _amount(record.totals.net, record.totals.fraction_digits),
            "tax": _amount(record.totals.tax, record.totals.fraction_digits),
            "gross": _amount(record.totals.gross, record.totals.fraction_digits),
        },
        "exceptions": [exception_json(e) for e in exceptions],
    }
    if args.format == "json":
        write_json(story, out)
        return EXIT_OK
    moment = now()
    t = record.totals
    lines = [
        ("order", f"{record.order_number or '-'}  (id {record.order_id})"),
        ("status", f"{record.status} since {_when(record.updated_at)}"),
        ("ingested", _when(record.created_at)),
        ("attempts", str(record.attempts)),
        ("sent to Prima", _when(record.submission_started_at) if record.submission_started_at
         else "not yet"),
        ("Prima reference", record.prima_reference or "-"),
        ("write-back", _write_back(record, queued)),
        ("gross", f"{_amount(t.gross, t.fraction_digits)} {t.currency} "
         f"(net {_amount(t.net, t.fraction_digits)}, tax {_amount(t.tax, t.fraction_digits)})"),
    ]  # fmt: skip
    if record.ambiguous:
        lines.append(("note", "a submission started without an answer: Prima is asked first"))
    if record.next_attempt_at:
        lines.append(("next attempt", _when(record.next_attempt_at)))
    if record.lease_owner:
        lines.append(("in the hands of", f"{record.lease_owner} until "
                      f"{_when(record.lease_expires_at)}"))  # fmt: skip
    if record.last_error:
        lines.append(("last error", record.last_error))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        out.write(f"{key.ljust(width)}  {value}\n")
    out.write(f"\nexceptions ({len(exceptions)})\n")
    if exceptions:
        table(
            [
                [
                    f"#{e.exception_id}",
                    e.kind,
                    str(e.owner),
                    _when(e.first_seen),
                    f"x{e.occurrences}",
                    "open"
                    if e.is_open
                    else f"resolved {age(e.resolved_at or moment, moment)} ago"
                    + (f" by {e.resolved_by}" if e.resolved_by else ""),
                    reason(e) + (f"  [note: {e.resolution_note}]" if e.resolution_note else ""),
                ]
                for e in exceptions
            ],
            ["ID", "KIND", "OWNER", "FIRST SEEN", "SEEN", "STATUS", "REASON"],
            out,
        )
    return EXIT_OK


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def _amount(minor: int, digits: int) -> str:
    return str(Decimal(minor).scaleb(-digits))


# -- map-order ---------------------------------------------------------------------------------


def _read_text(name: str, stdin: TextIO, what: str) -> str:
    if name == "-":
        return stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except IsADirectoryError:
        raise UsageError(f"{what} {name} is a directory, not a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} {name} is not UTF-8 text") from None


def _load_mapping_config(name: str, stdin: TextIO) -> dict[str, Any]:
    text = _read_text(name, stdin, "configuration")
    try:
        if name.endswith(".json"):
            data = json.loads(text, parse_float=Decimal)
        else:
            data = tomllib.loads(text, parse_float=Decimal)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"configuration {name} is not valid: {exc}") from None
    except RecursionError:
        raise UsageError(f"configuration {name} is nested too deeply") from None
    if not isinstance(data, dict):
        raise UsageError(f"configuration {name} must be a table of settings")
    return data


def add_map_order(subparsers: Any) -> None:
    """``map-order``: one commercetools order mapped offline."""
    parser = subparser(
        subparsers,
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
    except IsADirectoryError:
        raise UsageError(f"order {name} is a directory, not a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read order {name}: {exc.strerror or exc}") from None


def _run_map_order(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if args.config == "-" and args.order == "-":
        raise UsageError("the configuration and the order cannot both come from stdin")
    try:
        config = MappingConfig.from_dict(_load_mapping_config(args.config, stdin))
    except ConfigurationError as exc:
        raise UsageError(f"invalid configuration {args.config}: {exc}") from None
    order = read_order_text(_read_order(args.order, stdin))
    result = order if isinstance(order, MappingResult) else map_order_json(order, config)
    if args.format == "omlink" and result.sales_order is not None:
        # A preview: the order number stands in for the per-send UniqueId the client draws.
        stdout.write(encode_sales_orders([result.sales_order]))
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
