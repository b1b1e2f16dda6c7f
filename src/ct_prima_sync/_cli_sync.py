"""The sync commands of ``ct-prima-sync``: demo, run (orders, stock), exceptions, retry, resolve,
health.

Each ``add_*`` function declares one subcommand (see ``cli.COMMANDS``). The queue commands need
only the state store, so people can work the exception queue without credentials for either
system.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ._settings import SyncSettings, load_settings
from .commercetools import CommercetoolsClient
from .engine import EngineConfig, StockRunStatus, StockRunSummary, SyncEngine, SystemClock
from .engine._queue import health_report, list_exceptions, replay_exceptions
from .errors import ConfigurationError
from .prima import OmlinkClient
from .state import Owner, StateStore, open_store

__all__ = [
    "add_demo",
    "add_exceptions",
    "add_health",
    "add_resolve",
    "add_retry",
    "add_run",
]


class SettingsError(ConfigurationError):
    """A settings problem the user fixes (exit code 2)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _settings(args: argparse.Namespace) -> SyncSettings:
    return load_settings(Path(args.config), os.environ)


def _state_url(args: argparse.Namespace) -> str:
    if getattr(args, "state", None):
        return str(args.state)
    if getattr(args, "config", None):
        return str(_settings(args).state_url)
    raise SettingsError("give --state URL or --config sync.toml")


def _store(args: argparse.Namespace) -> StateStore:
    return open_store(_state_url(args))


def _state_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--state", help="state store URL, e.g. sqlite:///sync.db")
    where.add_argument("--config", help="settings file (its [state] url is used)")


def _owner(value: str | None) -> Owner | None:
    return Owner(value) if value else None


# -- demo ------------------------------------------------------------------------------------------


def add_demo(subparsers: Any) -> None:
    """``demo``: the whole order flow on SQLite and the bundled emulators."""
    parser = subparsers.add_parser(
        "demo",
        help="run the order sync end to end on SQLite and the bundled emulators (no setup)",
        description=(
            "Seed a commercetools fake with orders (some deliberately bad) and a Prima emulator "
            "with the matching catalogue, run one full order sync with SQLite state, and report "
            "what was posted and what waits in the exception queue, and why."
        ),
    )
    parser.add_argument("--database", default="ct-prima-sync-demo.db", help="SQLite file")
    parser.add_argument("--orders", type=int, default=300, help="how many orders (300)")
    parser.add_argument("--bad-every", type=int, default=25, help="every n-th order is bad (25)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace, _stdin: TextIO, stdout: TextIO, _stderr: TextIO) -> int:
    # The demo pulls in the fakes and emulators: load them only when asked for.
    from ._demo import run_demo  # noqa: PLC0415

    logging.basicConfig(level=logging.ERROR)
    return run_demo(
        database=Path(args.database),
        orders=args.orders,
        bad_every=args.bad_every,
        seed=args.seed,
        out=stdout,
    )


# -- run ---------------------------------------------------------------------------------------


def add_run(subparsers: Any) -> None:
    """``run [orders|stock]``: one order sync, or one stock run, against the configured systems."""
    parser = subparsers.add_parser(
        "run",
        help="one sync run: orders (poll commercetools, send to Prima) or stock (Prima ATS to "
        "commercetools inventory)",
        description=(
            "Run one order sync (the default) or one stock run with the systems and state named "
            "in the settings file, and print its summary as JSON. Exit code 0 when the run "
            "completed (for stock also when another stock run was already running), 1 when it "
            "stopped early or writes failed, 2 for usage or configuration errors."
        ),
    )
    parser.add_argument(
        "flow", nargs="?", choices=("orders", "stock"), default="orders", help="what to run"
    )
    parser.add_argument("--config", required=True, help="settings file (sync.toml)")
    parser.add_argument("--max-orders", type=int, default=None, help="orders: at most this many")
    parser.add_argument(
        "--sku",
        action="append",
        dest="skus",
        metavar="SKU",
        help="stock: only this commercetools SKU (repeat for more); creates missing entries",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="stock: plan and print, write nothing anywhere"
    )
    parser.add_argument(
        "--catalogue",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stock: also check Prima's whole catalogue for stock commercetools has no entry "
        "for (default: when engine.stock.catalogue_every_seconds have passed)",
    )
    parser.set_defaults(handler=_run_run)


def _run_run(args: argparse.Namespace, _stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    settings = _settings(args)
    ct_config, prima_config, mapping = settings.commercetools, settings.prima, settings.mapping
    if ct_config is None or prima_config is None or mapping is None:
        raise SettingsError("run needs the sections [commercetools], [prima] and [mapping]")
    if args.flow == "orders" and (args.skus or args.dry_run or args.catalogue is not None):
        raise SettingsError("--sku, --dry-run and --catalogue belong to 'run stock'")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with (
        open_store(settings.state_url) as store,
        CommercetoolsClient(ct_config) as commercetools,
        OmlinkClient(prima_config) as prima,
    ):
        engine = SyncEngine(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=mapping,
            config=settings.engine,
        )
        if args.flow == "stock":
            stock = engine.sync_stock(
                skus=args.skus, dry_run=args.dry_run, catalogue=args.catalogue
            )
            json.dump(stock.as_dict(), stdout, indent=2)
            stdout.write("\n")
            stderr.write(_stock_line(stock) + "\n")
            return 0 if stock.ok else 1
        summary = engine.sync_orders(max_orders=args.max_orders)
    json.dump(summary.as_dict(), stdout, indent=2)
    stdout.write("\n")
    return 0


def _stock_line(summary: StockRunSummary) -> str:
    """One sentence for the operator reading the terminal."""
    if summary.status is StockRunStatus.ALREADY_RUNNING:
        return "stock: another stock run is already running; this one did nothing"
    verb = "would write" if summary.dry_run else "wrote"
    written = summary.planned if summary.dry_run else summary.created + summary.updated
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.reasons.items()))
    line = (
        f"stock: read {summary.read} entries, {verb} {written} ({why or 'nothing changed'}), "
        f"{summary.unchanged} already right, {summary.failed} failed"
    )
    if summary.problems:
        line += "; exceptions: " + ", ".join(
            f"{n} {kind}" for kind, n in sorted(summary.problems.items())
        )
    if summary.status is not StockRunStatus.COMPLETED:
        line += f"; stopped early ({summary.status}: {summary.error or 'see the log'})"
    return line


# -- the exception queue -------------------------------------------------------------------------


def add_exceptions(subparsers: Any) -> None:
    """``exceptions``: list the queue."""
    parser = subparsers.add_parser(
        "exceptions", help="list the exception queue (open problems, by owner)"
    )
    _state_options(parser)
    parser.add_argument("--owner", choices=[str(o) for o in Owner])
    parser.add_argument("--kind", help="only this kind, e.g. UNMAPPED_SKU")
    parser.add_argument("--all", action="store_true", help="include resolved exceptions")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=_run_exceptions)


def _run_exceptions(
    args: argparse.Namespace, _stdin: TextIO, stdout: TextIO, _stderr: TextIO
) -> int:
    with _store(args) as store:
        records = list_exceptions(
            store, owner=_owner(args.owner), kind=args.kind, include_resolved=args.all
        )
    if args.format == "json":
        json.dump(
            [
                {
                    "id": r.exception_id,
                    "kind": r.kind,
                    "owner": str(r.owner),
                    "order_id": r.order_id,
                    "subject": r.subject,
                    "detail": r.detail,
                    "first_seen": r.first_seen.isoformat(),
                    "last_seen": r.last_seen.isoformat(),
                    "occurrences": r.occurrences,
                    "transient": r.transient,
                    "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
                }
                for r in records
            ],
            stdout,
            indent=2,
        )
        stdout.write("\n")
        return 0
    stdout.write(f"{len(records)} exception(s)\n")
    for owner in Owner:
        mine = [r for r in records if r.owner is owner]
        if not mine:
            continue
        stdout.write(f"\n{owner} ({len(mine)})\n")
        for r in mine:
            number = r.detail.get("order_number") or r.order_id or r.subject or "-"
            reason = r.detail.get("message") or r.detail.get("request_error") or ""
            retry = " (retrying)" if r.transient and r.is_open else ""
            stdout.write(
                f"  #{r.exception_id:<5} {number:<20} {r.kind:<24} x{r.occurrences}{retry}"
                f"  {reason}\n"
            )
    return 0


def add_retry(subparsers: Any) -> None:
    """``retry``: replay the orders behind open exceptions."""
    parser = subparsers.add_parser(
        "retry",
        help="after a fix, send the orders behind open exceptions again (safe to repeat)",
    )
    _state_options(parser)
    parser.add_argument("--kind")
    parser.add_argument("--owner", choices=[str(o) for o in Owner])
    parser.add_argument("--order", help="a commercetools order id")
    parser.set_defaults(handler=_run_retry)


def _run_retry(args: argparse.Namespace, _stdin: TextIO, stdout: TextIO, _stderr: TextIO) -> int:
    with _store(args) as store:
        count = replay_exceptions(
            store, now=_now(), order_id=args.order, kind=args.kind, owner=_owner(args.owner)
        )
    stdout.write(f"{count} order(s) back in the backlog; the next run sends them\n")
    return 0


def add_resolve(subparsers: Any) -> None:
    """``resolve``: close an exception with a note."""
    parser = subparsers.add_parser("resolve", help="close an exception with a note")
    _state_options(parser)
    parser.add_argument("exception_id", type=int)
    parser.add_argument("--note", required=True, help="what was done about it")
    parser.set_defaults(handler=_run_resolve)


def _run_resolve(args: argparse.Namespace, _stdin: TextIO, stdout: TextIO, _stderr: TextIO) -> int:
    with _store(args) as store:
        record = store.resolve_exception(args.exception_id, note=args.note, now=_now())
    stdout.write(f"exception #{record.exception_id} ({record.kind}) resolved\n")
    return 0


def add_health(subparsers: Any) -> None:
    """``health``: the state of the flow, exit 1 when something is overdue."""
    parser = subparsers.add_parser(
        "health", help="orders by status and open exceptions by owner; exit 1 if any is overdue"
    )
    _state_options(parser)
    parser.add_argument(
        "--escalate-after", type=float, default=None, help="seconds before an exception is overdue"
    )
    parser.set_defaults(handler=_run_health)


def _run_health(args: argparse.Namespace, _stdin: TextIO, stdout: TextIO, _stderr: TextIO) -> int:
    engine = _settings(args).engine if getattr(args, "config", None) else EngineConfig()
    escalate = args.escalate_after or engine.retry.escalate_after_seconds
    with _store(args) as store:
        report = health_report(
            store, now=SystemClock().now(), escalate_after_seconds=escalate,
            cursor_name=engine.cursor_name,
        )  # fmt: skip
    json.dump(report.as_dict(), stdout, indent=2)
    stdout.write("\n")
    return 0 if report.ok else 1
