"""``run``: one pass of the sync flows against the systems named in the settings file.

Scheduling stays with the host (cron, systemd timers, Kubernetes CronJobs, Celery beat): each
``run`` is one pass and exits. Flows plug in through :data:`FLOWS`: a flow is a function that
takes the settings, the parsed arguments and a :class:`RunContext` and returns a
:class:`FlowResult`; ``run all`` runs every available one in the order listed. A flow this
version does not have is listed with ``None`` and refused with a sentence.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TextIO

from attrs import frozen

from ..commercetools import CommercetoolsClient
from ..engine import (
    DispatchSummary,
    GoLiveMode,
    HoldingPrima,
    LoggingNotifier,
    PostingsConfig,
    PostingSummary,
    RehearsalReport,
    RoutingNotifier,
    RunSummary,
    StockRunStatus,
    StockRunSummary,
    SyncEngine,
    SystemClock,
    request_budget,
)
from ..errors import ConfigurationError
from ..mapping import PostingPeriod
from ..money import Money
from ..prima import OmlinkClient, PrimaGateway
from ..settings import Settings
from ..state import OrderTotals, open_store
from ._common import add_format, add_settings, load, moment, positive_int, subparser
from ._exits import EXIT_ISSUES, EXIT_OK, UsageError
from ._metrics import check_textfile, write_run_metrics
from ._output import Progress, table, write_json
from ._signals import StopRequest, stopping_cleanly

__all__ = [
    "FLOWS",
    "FlowResult",
    "RunContext",
    "add_run",
    "dispatch_lines",
    "open_engine",
    "period_arg",
    "postings_lines",
    "stock_lines",
    "summary_lines",
]


@frozen(kw_only=True)
class FlowResult:
    """What one flow's pass did: a JSON-able summary, lines for people, and whether it ran
    through (False: it stopped early because a system did not answer)."""

    summary: dict[str, Any]
    lines: tuple[str, ...]
    completed: bool
    outage: str | None = None
    """``PRIMA_UNAVAILABLE`` / ``CT_UNAVAILABLE`` when a system did not answer: ``run all`` then
    leaves the flows after this one for the next run (the outage is already recorded)."""


class RunContext:
    """What a flow may use besides the settings: the error stream (progress is drawn there when
    it is a terminal) and the stop hook signals call."""

    def __init__(self, stderr: TextIO, *, show_progress: bool) -> None:
        self.stderr = stderr
        self.show_progress = show_progress
        self.stop_hooks: list[Callable[[], None]] = []

    def stop(self) -> None:
        """Ask every running flow to stop cleanly."""
        for hook in self.stop_hooks:
            hook()


Flow = Callable[[Settings, argparse.Namespace, RunContext], FlowResult]


def summary_lines(summary: RunSummary) -> tuple[str, ...]:
    """The order run's summary for people."""
    lines = [
        f"orders: {summary.posted} posted, {summary.already_in_prima} already in Prima, "
        f"{summary.excepted} to the exception queue, {summary.retrying} to retry later"
        + (f", {summary.released} released unstarted" if summary.released else ""),
        f"  {summary.ingested} new from commercetools; {summary.backlog} still waiting; "
        f"{summary.seconds:.1f} s ({summary.rate:.1f} orders/s)",
    ]
    if summary.write_backs_done or summary.write_backs_failed or summary.write_backs_pending:
        lines.append(
            f"  write-back to commercetools: {summary.write_backs_done} done, "
            f"{summary.write_backs_failed} failed (retried later), "
            f"{summary.write_backs_pending} pending"
        )
    if summary.problems:
        lines.append(
            "  problems: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.problems.items()))
        )
    if summary.skipped_ineligible:
        rules = ", ".join(f"{k} {v}" for k, v in sorted(summary.skipped_rules.items()))
        lines.append(
            f"  {summary.skipped_ineligible} left alone by the eligibility rules ({rules})"
        )
    if summary.future_dated:
        lines.append(
            f"  {summary.future_dated} dated after this machine's clock: check both clocks "
            "(they wait until this clock passes them)"
        )
    if summary.stopped in ("PRIMA_UNAVAILABLE", "CT_UNAVAILABLE"):
        system = "Prima" if summary.stopped == "PRIMA_UNAVAILABLE" else "commercetools"
        lines.append(
            f"  STOPPED: {system} did not answer; exception #{summary.outage_exception_id} "
            f"records the outage. {summary.backlog} orders wait for the next run."
        )
    elif summary.stopped == "requested":
        lines.append("  stopped on request: the orders in hand were finished, the rest released")
    if summary.alerts_failed:
        lines.append(
            f"  alerts: {summary.alerts_failed} not delivered to every channel (see the log); "
            f"{summary.alerts_sent} delivered"
        )
    return tuple(lines)


_VERDICTS: Final = {
    "would_send": "would send",
    "would_except": "would wait in the exception queue",
    "not_checked": "could not check",
}


def rehearsal_lines(report: RehearsalReport, *, orders: bool) -> tuple[str, ...]:
    """A dry or shadow run's summary for people (``orders``: one line per order too)."""
    counts = report.counts()
    what = (
        "dry run: nothing was sent and nothing was changed"
        if report.mode == "dry_run"
        else "shadow run: nothing was sent; the results are kept for `ct-prima-sync shadow-report`"
    )
    lines = [
        what,
        f"  {counts['would_send']} would be sent to Prima ({counts['new_customers']} with a new "
        f"Prima customer), {counts['would_except']} would wait in the exception queue, "
        f"{counts['not_checked']} could not be checked",
    ]
    if report.kinds():
        lines.append("  problems: " + ", ".join(f"{k} {v}" for k, v in report.kinds().items()))
    if report.stopped:
        lines.append(f"  STOPPED early: {report.stopped}")
    if orders and report.records:
        rows = [
            [
                r.order_number or r.order_id,
                _VERDICTS.get(str(r.verdict), str(r.verdict)),
                "" if r.totals is None else str(gross(r.totals)),
                ", ".join(r.kinds),
            ]
            for r in report.records
        ]
        lines.append("")
        lines.extend(_table_lines(rows, ["order", "verdict", "gross", "problems"]))
    return tuple(lines)


def gross(totals: OrderTotals) -> Money:
    """The gross amount of ``totals``, exact."""
    return Money.of(totals.gross, totals.currency, totals.fraction_digits)


def _table_lines(rows: list[list[str]], headers: list[str]) -> list[str]:
    import io  # noqa: PLC0415

    buffer = io.StringIO()
    table(rows, headers, buffer)
    return buffer.getvalue().splitlines()


def _notifier(settings: Settings) -> RoutingNotifier | LoggingNotifier:
    return settings.alerts.notifier() if settings.alerts is not None else LoggingNotifier()


@contextmanager
def open_engine(
    settings: Settings,
    flow: str,
    context: RunContext,
    *,
    hold: bool = False,
    postings: PostingsConfig | None = None,
) -> Iterator[SyncEngine]:
    """An engine over the systems and state of the settings, stoppable by signals while it is
    in use, alerting where ``[alerts]`` says (``hold``: orders go to Prima with
    ``HoldOrder=Yes``); a sentence names what the settings lack for ``flow``."""
    ct_config, prima_config, mapping = settings.commercetools, settings.prima, settings.mapping
    if ct_config is None or prima_config is None or mapping is None:
        missing = [
            f"[{name}]"
            for name, value in (("commercetools", ct_config), ("prima", prima_config),
                                ("mapping", mapping))
            if value is None
        ]  # fmt: skip
        raise UsageError(f"the {flow} flow needs {' and '.join(missing)} in the settings file")
    clock = SystemClock()
    notifier = _notifier(settings)
    with (
        contextlib.closing(notifier)
        if isinstance(notifier, RoutingNotifier)
        else contextlib.nullcontext(),
        open_store(settings.state_url, busy_timeout=settings.state.busy_timeout) as store,
        CommercetoolsClient(ct_config) as commercetools,
        OmlinkClient(
            prima_config,
            flow=request_budget(
                store, prima_config, adaptive=settings.engine.submission_flow, clock=clock
            ),
        ) as omlink,
    ):
        prima: PrimaGateway = omlink
        if hold:
            prima = HoldingPrima(
                omlink, store=store, clock=clock, narrative=settings.golive.hold_narrative
            )
        engine = SyncEngine(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=mapping,
            config=settings.engine,
            clock=clock,
            notifier=notifier,
            postings=postings,
        )
        context.stop_hooks.append(engine.request_stop)
        try:
            yield engine
        finally:
            context.stop_hooks.remove(engine.request_stop)


def _orders(settings: Settings, args: argparse.Namespace, context: RunContext) -> FlowResult:
    mode = GoLiveMode(args.mode) if args.mode else settings.golive.mode
    rehearsing = args.dry_run or mode is GoLiveMode.SHADOW
    progress = (
        Progress(context.stderr, "orders") if context.show_progress and not rehearsing else None
    )
    hold = mode is GoLiveMode.HOLD and not args.dry_run
    with open_engine(settings, "order", context, hold=hold) as engine:
        try:
            if rehearsing:
                return _rehearse(engine, args)
            if args.created_from:
                summary = engine.replay_orders(
                    args.created_from,
                    args.created_to,
                    max_orders=args.max_orders,
                    progress=progress,
                )
            else:
                summary = engine.sync_orders(max_orders=args.max_orders, progress=progress)
        finally:
            if progress is not None:
                progress.close()
    lines = summary_lines(summary)
    if hold:
        lines += ("  hold mode: orders went to Prima with HoldOrder=Yes; release them in Prima",)
    down = summary.stopped if summary.stopped in ("PRIMA_UNAVAILABLE", "CT_UNAVAILABLE") else None
    return FlowResult(
        summary={**summary.as_dict(), "mode": str(mode)},
        lines=lines,
        completed=down is None,
        outage=down,
    )


def _rehearse(engine: SyncEngine, args: argparse.Namespace) -> FlowResult:
    orders = (
        engine.orders_created_between(args.created_from, args.created_to)
        if args.created_from
        else None
    )
    report = engine.rehearse(orders=orders, record=not args.dry_run, max_orders=args.max_orders)
    return FlowResult(
        summary=report.as_dict(orders=args.dry_run),
        lines=rehearsal_lines(report, orders=args.dry_run),
        completed=report.stopped not in ("PRIMA_UNAVAILABLE", "CT_UNAVAILABLE"),
    )


def dispatch_lines(summary: DispatchSummary) -> tuple[str, ...]:
    """The dispatch run's summary for people."""
    if summary.skipped:
        return ("dispatch: running on another worker; nothing was done",)
    lines = [
        f"dispatch: {summary.deliveries} deliveries written, {summary.shipped} orders shipped, "
        f"{summary.partial} part shipped, {summary.cancelled} cancelled in Prima",
        f"  Prima asked about {summary.checked} orders ({summary.deferred} left for the next "
        f"run); {summary.taken_on} newly followed, {summary.reviewed} changed in commercetools; "
        f"{summary.open} still followed",
    ]
    if summary.problems:
        lines.append(
            "  problems: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.problems.items()))
        )
    if summary.stopped in ("PRIMA_UNAVAILABLE", "CT_UNAVAILABLE"):
        system = "Prima" if summary.stopped == "PRIMA_UNAVAILABLE" else "commercetools"
        lines.append(f"  STOPPED: {system} did not answer; the next run carries on")
    elif summary.stopped:
        lines.append(f"  stopped early: {summary.stopped}")
    return tuple(lines)


def _dispatch(settings: Settings, _args: argparse.Namespace, context: RunContext) -> FlowResult:
    with open_engine(settings, "dispatch", context) as engine:
        summary = engine.sync_dispatch()
    return FlowResult(
        summary=summary.as_dict(),
        lines=dispatch_lines(summary),
        completed=summary.stopped in (None, "requested"),
    )


def stock_lines(summary: StockRunSummary) -> tuple[str, ...]:
    """The stock run's summary for people: what was read and written, and why."""
    if summary.status is StockRunStatus.ALREADY_RUNNING:
        return ("stock: another stock run is already running; this one did nothing",)
    verb = "would write" if summary.dry_run else "wrote"
    written = summary.planned if summary.dry_run else summary.created + summary.updated
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.reasons.items()))
    lines = [
        f"stock: read {summary.read} entries, {verb} {written} ({why or 'nothing changed'}), "
        f"{summary.unchanged} already right, {summary.failed} failed",
        f"  {summary.ats_rows} figures from Prima; {summary.ingested} new orders counted as "
        f"pending; {summary.seconds:.1f} s ({summary.rate:.0f} entries/s)"
        + (
            f"; Prima's whole catalogue checked ({summary.catalogue_rows} rows)"
            if summary.catalogue_rows is not None
            else ""
        ),
    ]
    if summary.problems:
        lines.append(
            "  exceptions: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.problems.items()))
        )
    if summary.status is StockRunStatus.STOPPED:
        lines.append("  stopped on request after the chunk in hand; the next run carries on")
    elif summary.outage is not None:
        system = "Prima" if summary.outage == "PRIMA_UNAVAILABLE" else "commercetools"
        lines.append(
            f"  STOPPED: {system} did not answer; the {summary.outage} exception records the "
            "outage and the next run carries on"
        )
    elif summary.status is not StockRunStatus.COMPLETED:
        lines.append(
            f"  STOPPED EARLY ({summary.status}): {summary.error or 'see the log'}; "
            "the next run carries on"
        )
    return tuple(lines)


def _stock(settings: Settings, args: argparse.Namespace, context: RunContext) -> FlowResult:
    with open_engine(settings, "stock", context) as engine:
        summary = engine.sync_stock(skus=args.skus, dry_run=args.dry_run, catalogue=args.catalogue)
    return FlowResult(
        summary=summary.as_dict(),
        lines=stock_lines(summary),
        completed=summary.ok or summary.status is StockRunStatus.STOPPED,
        outage=summary.outage,
    )


def postings_lines(summary: PostingSummary) -> tuple[str, ...]:
    """The postings run's summary for people."""
    if summary.stopped == "running":
        return ("postings: another close is running; this one did nothing",)
    lines = [
        f"postings ({summary.mode}, {summary.period}): {summary.posted} batches posted, "
        f"{summary.entries_batched} entries from {summary.orders_read} orders read"
        + (f", {summary.late_entries} late from earlier periods" if summary.late_entries else ""),
    ]
    lines += [
        f"  {b.batch_id}: {b.entries} entries, {b.gross} {b.status}"
        + (f" ({b.reference})" if b.reference else "")
        for b in summary.batches
    ]
    if not summary.batches:
        lines.append("  nothing new to post")
    if summary.problems:
        lines.append(
            "  exceptions for finance: "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.problems.items()))
            + " (ct-prima-sync exceptions --owner finance)"
        )
    if summary.stopped in ("PRIMA_UNAVAILABLE", "CT_UNAVAILABLE"):
        system = "Prima" if summary.stopped == "PRIMA_UNAVAILABLE" else "commercetools"
        lines.append(f"  STOPPED: {system} did not answer; the next close carries on")
    return tuple(lines)


def _postings(settings: Settings, args: argparse.Namespace, context: RunContext) -> FlowResult:
    config = settings.postings_config
    if config is None:
        raise UsageError(
            "the postings flow needs a [postings] section with [postings.accounts] in the "
            "settings file (docs/finance.md)"
        )
    with open_engine(settings, "postings", context, postings=config) as engine:
        if args.confirm:
            batch = engine.confirm_batch_posted(args.confirm)
            return FlowResult(
                summary={"confirmed": batch.batch_id},
                lines=(f"postings: {batch.batch_id} recorded as posted; it is never sent again",),
                completed=True,
            )
        summary = engine.post_batches(period=args.period)
    down = summary.stopped if summary.stopped in ("PRIMA_UNAVAILABLE", "CT_UNAVAILABLE") else None
    return FlowResult(
        summary=summary.as_dict(),
        lines=postings_lines(summary),
        completed=summary.ok or summary.stopped == "running",
        outage=down,
    )


#: The flows ``run`` knows, in the order ``run all`` runs them; None: not in this version.
FLOWS: Final[dict[str, Flow | None]] = {
    "orders": _orders,
    "stock": _stock,
    "dispatch": _dispatch,
    "postings": _postings,
}


def add_run(subparsers: Any) -> None:
    """``run``: one pass of one flow, or of all of them."""
    parser = subparser(
        subparsers,
        "run",
        help="one pass of the sync: orders to Prima, Prima's stock and despatches to "
        "commercetools, the finance postings (where [postings] is set)",
        description="Run one pass of a flow (or of every available flow) with the systems and "
        "state named in the settings file, print a summary and exit. Exit code 0 when the pass "
        "ran through (orders that need a person wait in the exception queue; a stock run also "
        "when another one was running), 1 when it stopped because Prima or commercetools did "
        "not answer or stock writes failed, 130/143 when interrupted.",
    )
    parser.add_argument(
        "flow",
        nargs="?",
        default="all",
        choices=("all", *FLOWS),
        help="which flow: all (default), " + ", ".join(FLOWS),
    )
    add_settings(parser)
    parser.add_argument(
        "--max-orders", type=positive_int, metavar="N", help="stop after N orders (orders flow)"
    )
    parser.add_argument(
        "--shop",
        metavar="NAME",
        help="the source of [sources.NAME] to run, where several shops feed one Prima "
        "(docs/configuration.md)",
    )
    stock = parser.add_argument_group("the stock flow (docs/stock.md)")
    stock.add_argument(
        "--sku",
        action="append",
        dest="skus",
        metavar="SKU",
        help="only this commercetools SKU (repeat for more); creates missing entries",
    )
    stock.add_argument(
        "--catalogue",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also check Prima's whole catalogue for stock commercetools has no entry for "
        "(default: when engine.stock.catalogue_every_seconds have passed)",
    )
    postings = parser.add_argument_group("the postings flow (docs/finance.md)")
    postings.add_argument(
        "--period",
        type=period_arg,
        metavar="PERIOD",
        help="the period to close: a day (2026-11-03), a month (2026-11) or a range of days "
        "(2026-11-01..2026-11-15); default: yesterday in [postings] timezone",
    )
    postings.add_argument(
        "--confirm",
        metavar="BATCH",
        help="record that Prima imported the file of this batch (after a crash left it "
        "unrecorded), so it is never sent again",
    )
    golive = parser.add_argument_group("going live (docs/golive.md)")
    golive.add_argument(
        "--mode",
        choices=[str(m) for m in GoLiveMode],
        help="override [golive] mode: live (default), shadow (send nothing, record what would "
        "be sent), hold (send with HoldOrder=Yes)",
    )
    golive.add_argument(
        "--dry-run",
        action="store_true",
        help="orders: map and check what this run would send, send nothing, change nothing, and "
        "list it; run stock: plan and print the stock figures, write nothing",
    )
    golive.add_argument(
        "--from",
        dest="created_from",
        type=moment,
        metavar="TIME",
        help="replay the orders created from this date or time (with --to): a bounded replay",
    )
    golive.add_argument(
        "--to",
        dest="created_to",
        type=moment,
        metavar="TIME",
        help="... up to (not including) this date or time",
    )
    add_format(parser)
    parser.set_defaults(handler=_run_run)


def _run_run(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    if args.flow not in ("stock", "all") and (args.skus or args.catalogue is not None):
        raise UsageError("--sku and --catalogue belong to the stock flow: run stock")
    if args.flow == "all" and args.skus:
        raise UsageError("--sku belongs to one stock run: run stock --sku SKU")
    if args.flow != "postings" and (args.period or args.confirm):
        raise UsageError("--period and --confirm belong to the postings flow: run postings")
    if args.flow in ("dispatch", "postings") and args.dry_run:
        raise UsageError("--dry-run is for the orders flow and the stock flow")
    if args.flow not in ("orders", "all") and (args.created_from or args.created_to or args.mode):
        raise UsageError("--mode, --from and --to are for the orders flow")
    if args.flow == "all":
        chosen = [name for name, flow in FLOWS.items() if flow is not None]
    else:
        if FLOWS[args.flow] is None:
            available = ", ".join(name for name, flow in FLOWS.items() if flow is not None)
            raise UsageError(
                f"the {args.flow} flow is not available in this version (available: {available})"
            )
        chosen = [args.flow]
    if (args.created_from is None) != (args.created_to is None):
        raise UsageError("a replay needs both --from and --to (a bounded date range)")
    if args.created_from is not None and not args.created_from < args.created_to:
        raise UsageError("--from must be before --to")
    if (args.dry_run or args.created_from) and args.flow == "all":
        # a rehearsal or a replay of the orders; `run stock --dry-run` plans the stock
        chosen = ["orders"]
    settings = load(args)
    if args.flow == "all" and settings.postings is None:
        chosen = [name for name in chosen if name != "postings"]
    if args.shop:
        settings = settings.for_source(args.shop)
    elif settings.sources:
        raise UsageError(
            f"the settings name several shops ({', '.join(sorted(settings.sources))}): "
            "give --shop NAME, one run per shop"
        )
    textfile = settings.metrics_textfile
    if textfile is not None:
        check_textfile(textfile)
    context = RunContext(err, show_progress=err.isatty() and args.format == "table")
    results: dict[str, FlowResult] = {}
    with stopping_cleanly(context.stop, err) as stop:
        down: str | None = None
        for name in chosen:
            if stop.signum is not None:
                break
            if down is not None:
                results[name] = _left_for_later(name, down)
                continue
            flow = FLOWS[name]
            assert flow is not None
            results[name] = flow(settings, args, context)
            down = results[name].outage
    if textfile is not None and not args.dry_run:
        write_run_metrics(settings, textfile, err)
    _print(results, args.format, out, one=args.flow != "all")
    return _exit_code(results, stop)


def period_arg(text: str) -> str:
    """An argparse type: a posting period (a day, a month or a range of days)."""
    try:
        return PostingPeriod.parse(text).label
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _left_for_later(name: str, outage: str) -> FlowResult:
    system = "Prima" if outage == "PRIMA_UNAVAILABLE" else "commercetools"
    return FlowResult(
        summary={"skipped": outage},
        lines=(f"{name}: not run: {system} did not answer; the next run carries on",),
        completed=False,
        outage=outage,
    )


def _print(results: dict[str, FlowResult], fmt: str, out: TextIO, *, one: bool) -> None:
    """``run FLOW --format json`` prints that flow's summary; ``run all`` one per flow."""
    if fmt == "json":
        summaries = {name: r.summary for name, r in results.items()}
        write_json(next(iter(summaries.values()), {}) if one else summaries, out)
        return
    for result in results.values():
        out.write("\n".join(result.lines) + "\n")


def _exit_code(results: dict[str, FlowResult], stop: StopRequest) -> int:
    if stop.exit_code is not None:
        return stop.exit_code
    return EXIT_OK if all(r.completed for r in results.values()) else EXIT_ISSUES
