"""``health``: every flow and the exception queue at a glance, for people and for monitoring."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any, TextIO

from ..engine import EngineConfig, FlowHealth, HealthPolicy, HealthReport, HealthStatus, SystemClock
from ..engine._health import health_report
from ._common import add_format, add_state, load, open_state, subparser
from ._exits import EXIT_ISSUES, EXIT_OK
from ._output import age, table, write_json

__all__ = ["add_health", "health_lines"]


def add_health(subparsers: Any) -> None:
    """``health``: each flow's last runs and staleness, the backlog, the queue; exit 1 when
    failing."""
    parser = subparser(
        subparsers,
        "health",
        help="every flow's last run and staleness, the order backlog, open exceptions by owner; "
        "exit 1 when failing",
        description="Each flow's last successful run and its age, the last failure and why, the "
        "order backlog (oldest order not yet in Prima, stalled orders, time since commercetools "
        "was read) and open exceptions by owner and age, with an overall status and its "
        "reasons. Exit code 1 when failing: an enabled flow that never ran or has no success "
        "within its [health.<flow>] stale_after_seconds, an order waiting longer than that, or "
        "an exception older than the escalation age ([engine.retry] escalate_after_seconds).",
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
    settings = None if args.state else load(args)
    engine = settings.engine if settings is not None else EngineConfig()
    policy = settings.health_policy if settings is not None else HealthPolicy()
    escalate = args.escalate_after or engine.retry.escalate_after_seconds
    with open_state(args, create=False) as store:
        report = health_report(
            store,
            now=SystemClock().now(),
            escalate_after_seconds=escalate,
            cursor_name=engine.cursor_name,
            policy=policy,
        )
    if args.format == "json":
        write_json(report.as_dict(), out)
    else:
        out.write("\n".join(health_lines(report)) + "\n")
    return EXIT_OK if report.ok else EXIT_ISSUES


def _ago(now: datetime, seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return age(now - timedelta(seconds=seconds), now) + " ago"


def _flow_row(flow: FlowHealth, now: datetime) -> list[str]:
    record = flow.record
    last_run = "-"
    if record is not None and record.last_finished_at is not None:
        ok = record.last_failed_at != record.last_finished_at
        since = (now - record.last_finished_at).total_seconds()
        last_run = f"{'ok' if ok else 'FAILED'} {_ago(now, since)}"
    return [
        flow.flow,
        str(flow.status).upper() if flow.status is not HealthStatus.OK else "ok",
        _ago(now, flow.last_success_age_seconds) if record else "never",
        last_run,
        "" if record is None or record.last_duration_seconds is None
        else f"{record.last_duration_seconds:.1f} s",
        "; ".join(flow.reasons),
    ]  # fmt: skip


def health_lines(report: HealthReport) -> list[str]:
    """The report for people."""
    now = report.checked_at
    lines = [f"health: {'ok' if report.status is HealthStatus.OK else str(report.status).upper()}"]
    lines += [f"  {reason}" for reason in report.reasons]
    lines.append("")
    rows = [_flow_row(f, now) for f in report.flows if f.status is not HealthStatus.OFF]
    off = [f.flow for f in report.flows if f.status is HealthStatus.OFF]
    import io  # noqa: PLC0415

    buffer = io.StringIO()
    table(rows, ["flow", "status", "last success", "last run", "took", "why"], buffer)
    lines += buffer.getvalue().splitlines()
    if off:
        lines.append(f"not enabled and never ran: {', '.join(off)}")
    orders = report.flow("orders").figures
    counts = ", ".join(f"{k} {v}" for k, v in report.orders_by_status.items() if v)
    lines.append("")
    lines.append(f"orders: {counts or 'none yet'}; {orders['backlog']} waiting")
    if orders.get("write_back_pending"):
        lines.append(
            f"  {orders['write_back_pending']} in Prima with the write-back to commercetools "
            f"pending ({orders.get('write_back_retrying', 0)} retrying after a failure); not "
            "waiting for Prima"
        )
    for label, key in (
        ("oldest waiting", "oldest_waiting"),
        ("oldest not in Prima", "oldest_not_in_prima"),
    ):
        oldest = orders[key]
        if oldest:
            lines.append(
                f"  {label}: {oldest['order_number'] or oldest['order_id']} ({oldest['status']}, "
                f"{_ago(now, oldest['age_seconds'])})"
            )
    if orders["stalled"]:
        lines.append(f"  stalled (in progress, lease expired): {orders['stalled']}")
    lines.append(
        f"  commercetools last read: {_ago(now, orders['lag_seconds'])}"
        + (f" (orders modified up to {orders['polled_up_to']})" if orders["polled_up_to"] else "")
    )
    owners = [
        f"{owner} {entry['open']}"
        + (f" (oldest {_ago(now, entry['oldest_seconds'])})" if entry["open"] else "")
        + (f", {entry['overdue']} OVERDUE" if entry["overdue"] else "")
        for owner, entry in report.exceptions_by_owner.items()
    ]
    lines.append(
        f"open exceptions: {'; '.join(owners)} (overdue after "
        f"{report.escalate_after_seconds / 3600:g} h)"
    )
    return lines
