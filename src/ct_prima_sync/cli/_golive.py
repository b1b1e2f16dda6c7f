"""``shadow-report``: what shadow and hold-mode runs recorded, against what Prima holds for the
same order numbers (the go-live comparison, docs/golive.md)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..engine import SystemClock, compare_with_prima, request_budget
from ..prima import OmlinkClient, RequestFlow, for_flow
from ..state import open_store
from ._common import add_format, add_settings, load, moment, positive_int, subparser
from ._exits import EXIT_ISSUES, EXIT_OK, UsageError
from ._output import table, write_json

__all__ = ["add_shadow_report"]


def add_shadow_report(subparsers: Any) -> None:
    """``shadow-report``: the differences between the library's verdicts and Prima."""
    parser = subparser(
        subparsers,
        "shadow-report",
        help="compare what shadow runs would have sent with what Prima holds (go-live)",
        description="Ask Prima (OrderStatus) about every order shadow and hold-mode runs "
        "recorded and list the differences: orders the library would send that Prima does not "
        "have (missing_in_prima), orders Prima has that the library would hold back "
        "(only_in_prima), orders Prima holds as cancelled, orders not checked. Exit code 0 when "
        "there is no difference, 1 when there are.",
    )
    add_settings(parser)
    parser.add_argument("--since", type=moment, metavar="TIME", help="only records from TIME on")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="at most N orders")
    parser.add_argument("--all", action="store_true", help="every order, not only differences")
    add_format(parser)
    parser.set_defaults(handler=_run_shadow_report)


def _run_shadow_report(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    settings = load(args)
    if settings.prima is None:
        raise UsageError("the shadow report asks Prima: add [prima] to the settings file")
    with (
        open_store(settings.state_url, busy_timeout=settings.state.busy_timeout, create=False)
        as store,
        OmlinkClient(settings.prima, flow=request_budget(store, settings.prima)) as prima,
    ):  # fmt: skip
        report = compare_with_prima(
            store,
            for_flow(prima, RequestFlow.RECONCILE),
            now=SystemClock().now(),
            since=args.since,
            limit=args.limit,
        )
    if args.format == "json":
        write_json(report.as_dict(all_rows=args.all), out)
    else:
        counts = report.counts()
        out.write(
            f"{len(report.rows)} order(s) compared with Prima: {counts['agree']} agree, "
            f"{counts['missing_in_prima']} missing in Prima, {counts['only_in_prima']} only in "
            f"Prima, {counts['cancelled_in_prima']} cancelled in Prima, "
            f"{counts['not_checked']} not checked\n"
        )
        rows = [
            [
                row.record.order_number or row.record.order_id,
                str(row.record.verdict),
                row.prima_status,
                str(row.difference) if row.difference else "-",
                ", ".join(row.record.kinds),
            ]
            for row in (report.rows if args.all else report.differences)
        ]
        if rows:
            out.write("\n")
            table(rows, ["order", "library", "Prima", "difference", "problems"], out)
    return EXIT_ISSUES if report.differences else EXIT_OK
