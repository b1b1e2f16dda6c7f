"""``health``: the state of the flow at a glance, for people and for monitoring."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..engine import EngineConfig, SystemClock
from ..engine._queue import health_report
from ._common import add_format, add_state, load, open_state, subparser
from ._exits import EXIT_ISSUES, EXIT_OK
from ._output import write_json

__all__ = ["add_health"]


def add_health(subparsers: Any) -> None:
    """``health``: counts, the oldest open problem; exit 1 when one is overdue."""
    parser = subparser(
        subparsers,
        "health",
        help="orders by status and open exceptions by owner; exit 1 if any is overdue",
        description="Orders by ledger status, open exceptions by owner and how old the oldest "
        "is. Exit code 1 when an exception is older than the escalation age (default 4 hours, "
        "[engine.retry] escalate_after_seconds), for monitoring.",
    )
    add_state(parser)
    parser.add_argument(
        "--escalate-after",
        type=float,
        metavar="SECONDS",
        help="seconds before an open exception is overdue",
    )
    add_format(parser)
    parser.set_defaults(handler=_run_health)


def _run_health(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    engine = EngineConfig() if args.state else load(args).engine
    escalate = args.escalate_after or engine.retry.escalate_after_seconds
    with open_state(args, create=False) as store:
        report = health_report(
            store,
            now=SystemClock().now(),
            escalate_after_seconds=escalate,
            cursor_name=engine.cursor_name,
        )
    if args.format == "json":
        write_json(report.as_dict(), out)
    else:
        counts = ", ".join(f"{k} {v}" for k, v in report.orders_by_status.items() if v)
        owners = ", ".join(f"{k} {v}" for k, v in report.open_exceptions_by_owner.items())
        oldest = report.oldest_open_exception_seconds
        out.write(
            f"health: {'ok' if report.ok else 'OVERDUE'}\n"
            f"orders: {counts or 'none yet'}\n"
            f"open exceptions: {owners}"
            + (f" (oldest {oldest / 3600:.1f} h)" if oldest is not None else "")
            + "\n"
            f"overdue (open longer than {escalate / 3600:g} h): {report.overdue_exceptions}\n"
            f"orders polled up to: {report.cursor or 'never polled'}\n"
        )
    return EXIT_OK if report.ok else EXIT_ISSUES
