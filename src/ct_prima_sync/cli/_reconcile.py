"""``reconcile``: a period's commercetools orders, ledger and Prima postings side by side, every
gap named with its owner; exit 0 balanced, 1 gaps, 2 errors (docs/finance.md)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any, TextIO

from ..engine import ReconciliationReport, read_prima_export
from ..errors import CommercetoolsError, PrimaError
from ..mapping import PostingPeriod
from ._common import add_settings, load, subparser
from ._exits import EXIT_ISSUES, EXIT_OK, EXIT_USAGE, UsageError
from ._output import table, write_json
from ._runs import RunContext, open_engine, period_arg

__all__ = ["add_reconcile", "reconciliation_lines"]

_GAP_COLUMNS = ("type", "owner", "currency", "order_number", "batch_id", "difference", "detail")


def add_reconcile(subparsers: Any) -> None:
    """``reconcile --period 2026-11``."""
    parser = subparser(
        subparsers,
        "reconcile",
        help="a period's orders in commercetools, the ledger and Prima's postings side by side; "
        "every gap with its owner",
        description="Reconcile a period per currency: commercetools' orders created in it (read "
        "from commercetools), the ledger, and Prima (each order's status, the posted batches, "
        "and with --prima-export the orders Prima lists). Exit code 0 when it balances, 1 when "
        "there are gaps, 2 when a side could not be read or the arguments are wrong.",
    )
    parser.add_argument(
        "--period",
        required=True,
        type=period_arg,
        metavar="PERIOD",
        help="a month (2026-11), a day (2026-11-03) or days (2026-11-01..2026-11-15)",
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="ingest the orphans found (in commercetools, never in the ledger) so that the next "
        "order run sends them",
    )
    parser.add_argument(
        "--prima-export",
        metavar="FILE",
        help="Prima's export of the period's orders (CSV: order_number, order_date, currency, "
        "gross) for orders in Prima but unknown to commercetools",
    )
    add_settings(parser)
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table (default): for people; csv: the gaps for a spreadsheet; json: for programs",
    )
    parser.set_defaults(handler=_run_reconcile)


def _run_reconcile(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    period = PostingPeriod.parse(args.period)
    settings = load(args)
    if settings.postings_config is None:
        raise UsageError(
            "reconcile needs a [postings] section (its timezone decides the period, its accounts "
            "what should be posted): see docs/finance.md"
        )
    prima_orders = None
    if args.prima_export:
        prima_orders = read_prima_export(Path(args.prima_export), period)
    context = RunContext(err, show_progress=False)
    try:
        with open_engine(
            settings, "reconcile", context, postings=settings.postings_config
        ) as engine:
            report = engine.reconcile(period, repair=args.repair, prima_orders=prima_orders)
    except (CommercetoolsError, PrimaError) as exc:
        raise UsageError(f"reconciliation did not run: {exc}") from None
    if report.errors:
        err.write(f"ct-prima-sync: error: reconciliation did not run: {report.errors[0]}\n")
        return EXIT_USAGE
    if args.format == "json":
        write_json(report.as_dict(), out)
    elif args.format == "csv":
        _write_csv(report, out)
    else:
        out.write("\n".join(reconciliation_lines(report)) + "\n")
    return EXIT_OK if report.balanced else EXIT_ISSUES


def _write_csv(report: ReconciliationReport, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_GAP_COLUMNS)
    for gap in report.as_dict()["gaps"]:
        writer.writerow([gap[c] for c in _GAP_COLUMNS])


def reconciliation_lines(report: ReconciliationReport) -> list[str]:
    """The report for people: totals per currency, then the gaps, then what did not run."""
    import io  # noqa: PLC0415

    data = report.as_dict()
    verdict = "BALANCED" if report.balanced else "GAPS FOUND"
    lines = [f"reconciliation {report.period}: {verdict}"]
    buffer = io.StringIO()
    table(
        [
            [t["currency"], t["orders"], t["matched"], t["commercetools"], t["ledger"],
             t["expected_postings"], t["posted"], "yes" if t["balanced"] else "NO"]
            for t in data["totals"]
        ],
        ["currency", "orders", "matched", "commercetools", "ledger", "to post", "posted",
         "balanced"],
        buffer,
    )  # fmt: skip
    lines += buffer.getvalue().splitlines()
    if data["gaps"]:
        buffer = io.StringIO()
        table(
            [[g["type"], g["owner"], g["currency"], g["order_number"] or g["batch_id"],
              g["difference"], g["detail"]] for g in data["gaps"]],
            ["gap", "owner", "currency", "order / batch", "difference", "detail"],
            buffer,
        )  # fmt: skip
        lines += ["", *buffer.getvalue().splitlines()]
    if data["repaired"]:
        lines.append(
            f"repaired (ingested; the next order run sends them): {', '.join(data['repaired'])}"
        )
    lines += [f"not run: {reason}" for reason in data["not_run"]]
    return lines
