"""Personal data: ``purge`` (the retention period) and ``forget-customer`` (erasure requests).
What the store holds and for how long: docs/security.md."""

from __future__ import annotations

import argparse
import logging
from typing import Any, TextIO

from ..engine import RetentionPolicy, SystemClock, forget_customer, purge_personal_data
from ..state import PurgeCounts, StateStore
from ._common import add_format, add_state, load, open_state, positive_int, subparser
from ._exits import EXIT_OK, UsageError
from ._output import write_json

__all__ = ["add_forget_customer", "add_purge"]

_log = logging.getLogger("ct_prima_sync.cli")


def _said(counts: PurgeCounts) -> str:
    return (
        f"{counts.payloads} payload copie(s), {counts.exceptions} exception text(s), "
        f"{counts.customers} customer map entr(y/ies)"
    )


def add_purge(subparsers: Any) -> None:
    """``purge``: remove personal data older than the retention period."""
    parser = subparser(
        subparsers,
        "purge",
        help="remove personal data older than [retention] days (payload copies, exception "
        "texts); amounts and references stay",
        description="Remove personal data the state store holds longer than the retention "
        "period: copies of what shadow runs would have sent, and the free text of exceptions "
        "resolved before then. Order numbers, amounts and Prima references stay. Run it daily "
        "(cron); health reports the retention flow when [retention] is set.",
    )
    add_state(parser)
    parser.add_argument(
        "--days",
        type=positive_int,
        metavar="N",
        help="retention in days (default [retention] days)",
    )
    add_format(parser)
    parser.set_defaults(handler=_run_purge)


def _run_purge(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    days = args.days
    if days is None:
        settings = None if args.state else load(args)
        if settings is None or settings.retention is None:
            raise UsageError(
                "no retention period: set [retention] days in the settings file or give --days"
            )
        days = settings.retention.days
    with open_state(args, create=False) as store:
        counts = purge_personal_data(store, policy=RetentionPolicy(days=days), clock=SystemClock())
    if args.format == "json":
        write_json({"days": days, **counts.as_dict()}, out)
    else:
        out.write(f"purged personal data older than {days} days: {_said(counts)}\n")
    return EXIT_OK


def add_forget_customer(subparsers: Any) -> None:
    """``forget-customer``: an erasure request for one customer."""
    parser = subparser(
        subparsers,
        "forget-customer",
        help="erasure request: remove what the state store holds about one customer",
        description="Remove at once what the state store holds about one customer: their "
        "customer map entries (commercetools id, hashed e-mail), payload copies of their orders "
        "and the free text of their orders' exceptions (and of any exception quoting the e-mail "
        "address or id). Order numbers, amounts and Prima references stay. Prima and "
        "commercetools hold the customer too: erase there as well.",
    )
    add_state(parser)
    parser.add_argument("--email", metavar="ADDRESS", help="the customer's e-mail address")
    parser.add_argument("--customer-id", metavar="ID", help="the commercetools customer id")
    parser.add_argument(
        "--order",
        action="append",
        default=[],
        metavar="NUMBER_OR_ID",
        help="one of the customer's orders (repeat for several)",
    )
    parser.add_argument("--reference", metavar="TEXT", help="the request's ticket, for the log")
    add_format(parser)
    parser.set_defaults(handler=_run_forget)


def _order_ids(store: StateStore, orders: list[str], err: TextIO) -> list[str]:
    shadow = {r.order_number: r.order_id for r in store.list_shadow_orders() if r.order_number}
    ids = []
    for given in orders:
        record = store.get_order_by_number(given) or store.get_order(given)
        if record is not None:
            ids.append(record.order_id)
        elif given in shadow:
            ids.append(shadow[given])
        else:
            ids.append(given)
            err.write(f"ct-prima-sync: warning: order {given} is not in the state store\n")
    return ids


def _run_forget(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    if not (args.email or args.customer_id or args.order):
        raise UsageError("name the customer: --email, --customer-id and/or --order")
    if args.email is not None and "@" not in args.email:
        raise UsageError(f"--email {args.email!r} is not an e-mail address")
    with open_state(args, create=False) as store:
        counts = forget_customer(
            store,
            now=SystemClock().now(),
            email=args.email,
            customer_id=args.customer_id,
            order_ids=_order_ids(store, args.order, err),
            reference=args.reference,
        )
    if args.format == "json":
        write_json(counts.as_dict(), out)
    else:
        out.write(f"forgotten: {_said(counts)}\n")
    return EXIT_OK
