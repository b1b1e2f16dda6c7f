"""The exception queue: ``exceptions``, ``retry``, ``resolve``. Only the state store is needed,
so the people who fix problems need no credentials for commercetools or Prima."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..engine import KNOWN_KINDS
from ..engine._queue import list_exceptions, replay_exceptions
from ..state import ExceptionFilter, ExceptionRecord, Owner, StateStore
from ._common import add_format, add_state, now, open_state, owner, positive_int, subparser
from ._exits import EXIT_ISSUES, EXIT_OK, UsageError
from ._output import age, table, write_json

__all__ = ["add_exceptions", "add_resolve", "add_retry", "exception_json", "reason"]

_OWNERS = [str(o) for o in Owner]


def reason(record: ExceptionRecord) -> str:
    """The one-line reason an exception shows."""
    detail = record.detail
    text = detail.get("message") or detail.get("request_error") or detail.get("error") or ""
    return str(text)


def order_label(record: ExceptionRecord) -> str:
    """The order number an exception is about (its id when the number is unknown), or what else
    it is about (``SKU@DEPOT`` for the stock run's)."""
    if record.order_id is None:
        return record.subject or "(all orders)"
    return str(record.detail.get("order_number") or record.order_id)


def exception_json(record: ExceptionRecord) -> dict[str, Any]:
    """An exception as the JSON the commands print."""
    return {
        "id": record.exception_id,
        "kind": record.kind,
        "owner": str(record.owner),
        "order_id": record.order_id,
        "order_number": record.detail.get("order_number"),
        "subject": record.subject,
        "reason": reason(record),
        "detail": record.detail,
        "first_seen": record.first_seen.isoformat(),
        "last_seen": record.last_seen.isoformat(),
        "occurrences": record.occurrences,
        "transient": record.transient,
        "next_retry_at": record.next_retry_at.isoformat() if record.next_retry_at else None,
        "resolved_at": record.resolved_at.isoformat() if record.resolved_at else None,
        "resolution_note": record.resolution_note,
        "resolved_by": record.resolved_by,
    }


# -- exceptions --------------------------------------------------------------------------------


def add_exceptions(subparsers: Any) -> None:
    """``exceptions``: the queue as a table (or JSON)."""
    parser = subparser(
        subparsers,
        "exceptions",
        help="list the exception queue (open problems, by owner)",
        description="List open exceptions by owner: order number, kind, age and reason. "
        "--all adds resolved ones with their note and who resolved them.",
    )
    add_state(parser)
    parser.add_argument("--owner", choices=_OWNERS)
    parser.add_argument("--kind", help="only this kind, e.g. UNMAPPED_SKU")
    parser.add_argument("--all", action="store_true", help="include resolved exceptions")
    add_format(parser)
    parser.set_defaults(handler=_run_exceptions)


def _run_exceptions(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    with open_state(args, create=False) as store:
        if args.kind:
            _check_kind(store, args.kind)
        records = list_exceptions(
            store, owner=owner(args.owner), kind=args.kind, include_resolved=args.all
        )
    if args.format == "json":
        write_json([exception_json(r) for r in records], out)
        return EXIT_OK
    opened = sum(r.is_open for r in records)
    out.write(
        f"{opened} open exception(s)"
        + (f", {len(records) - opened} resolved" if args.all else "")
        + "\n"
    )
    moment = now()
    for team in Owner:
        mine = [r for r in records if r.owner is team]
        if not mine:
            continue
        out.write(f"\n{team} ({len(mine)})\n")
        headers = ["ID", "ORDER", "KIND", "AGE", "SEEN"]
        if args.all:
            headers += ["STATUS", "BY"]
        rows = []
        for r in mine:
            row: list[object] = [
                f"#{r.exception_id}",
                order_label(r),
                r.kind,
                age(r.first_seen, moment),
                f"x{r.occurrences}" + (" retrying" if r.transient and r.is_open else ""),
            ]
            if args.all:
                row += [
                    "open" if r.is_open else f"resolved {age(r.resolved_at or moment, moment)} ago",
                    r.resolved_by or "-",
                ]
            note = f"  [note: {r.resolution_note}]" if args.all and r.resolution_note else ""
            rows.append([*row, reason(r) + note])
        table(rows, [*headers, "REASON"], out)
    return EXIT_OK


def known_kinds(store: StateStore) -> set[str]:
    """Every kind an exception can have: mapping issue codes, pipeline kinds, kinds on record."""
    seen = {r.kind for r in store.list_exceptions(ExceptionFilter(open_only=False))}
    return set(KNOWN_KINDS) | seen


def _check_kind(store: StateStore, kind: str) -> None:
    kinds = known_kinds(store)
    if kind not in kinds:
        raise UsageError(f"unknown kind {kind!r}; the kinds are: {', '.join(sorted(kinds))}")


# -- retry -------------------------------------------------------------------------------------


def add_retry(subparsers: Any) -> None:
    """``retry``: send the orders behind open exceptions back to the backlog."""
    parser = subparser(
        subparsers,
        "retry",
        help="after a fix, send the orders behind open exceptions again (safe to repeat)",
        description="Put the orders behind open exceptions back in the backlog; the next run "
        "sends them (an order Prima already has is recognised, never sent twice). Choose by "
        "exception id, --order (number or id), --kind or --owner; --all for every open one. "
        "Exit code 1 when nothing matched.",
    )
    add_state(parser)
    parser.add_argument("exception_id", nargs="?", type=positive_int, help="an exception id")
    parser.add_argument("--order", help="an order number (as the tables show) or order id")
    parser.add_argument("--kind", help="every open exception of this kind")
    parser.add_argument("--owner", choices=_OWNERS)
    parser.add_argument("--all", action="store_true", help="every open exception")
    parser.set_defaults(handler=_run_retry)


def _run_retry(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    chosen = args.exception_id is not None or args.order or args.kind or args.owner
    if not chosen and not args.all:
        raise UsageError("say what to retry: an exception id, --order, --kind, --owner or --all")
    if chosen and args.all:
        raise UsageError("--all retries every open exception: leave out the other choices")
    with open_state(args, create=False) as store:
        kind, order_id = args.kind, None
        if kind:
            _check_kind(store, kind)
        if args.exception_id is not None:
            record = store.get_exception(args.exception_id)
            if record is None:
                raise UsageError(
                    f"no exception #{args.exception_id} (see: ct-prima-sync exceptions)"
                )
            if not record.is_open:
                err.write(f"warning: exception #{record.exception_id} is already resolved\n")
                return EXIT_ISSUES
            if record.order_id is None:
                err.write(
                    f"warning: exception #{record.exception_id} is about no single order"
                    + (
                        f" ({record.subject}): the next stock run looks at it again"
                        if record.subject
                        else "; its orders wait in the backlog and the next run tries them"
                    )
                    + "\n"
                )
                return EXIT_ISSUES
            kind, order_id = record.kind, record.order_id
        if args.order:
            found = store.get_order_by_number(args.order) or store.get_order(args.order)
            if found is None:
                err.write(f"warning: no order {args.order} in the ledger; nothing was requeued\n")
                return EXIT_ISSUES
            if order_id is not None and order_id != found.order_id:
                raise UsageError(f"exception #{args.exception_id} is not about order {args.order}")
            order_id = found.order_id
        count = replay_exceptions(
            store, now=now(), order_id=order_id, kind=kind, owner=owner(args.owner)
        )
    if count == 0:
        err.write("warning: no open exception matches; nothing was requeued\n")
        return EXIT_ISSUES
    out.write(f"{count} order(s) back in the backlog; the next run sends them\n")
    return EXIT_OK


# -- resolve -----------------------------------------------------------------------------------


def add_resolve(subparsers: Any) -> None:
    """``resolve``: close an exception with a note and who did it."""
    parser = subparser(
        subparsers,
        "resolve",
        help="close an exception with a note (and who resolved it)",
        description="Close an exception that needs no retry, saying what was done.",
    )
    add_state(parser)
    parser.add_argument("exception_id", type=positive_int)
    parser.add_argument("--note", required=True, help="what was done about it")
    parser.add_argument("--by", help="who resolved it (a name or team), kept with the note")
    parser.set_defaults(handler=_run_resolve)


def _run_resolve(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    if not args.note.strip():
        raise UsageError("--note must say what was done")
    with open_state(args, create=False) as store:
        record = store.get_exception(args.exception_id)
        if record is None:
            raise UsageError(f"no exception #{args.exception_id} (see: ct-prima-sync exceptions)")
        if not record.is_open:
            err.write(f"warning: exception #{record.exception_id} is already resolved\n")
            return EXIT_ISSUES
        record = store.resolve_exception(
            args.exception_id, note=args.note, now=now(), by=args.by or None
        )
    by = f" by {record.resolved_by}" if record.resolved_by else ""
    out.write(
        f"exception #{record.exception_id} ({record.kind}, {order_label(record)}) resolved{by}\n"
    )
    return EXIT_OK
