"""Despatch progress: what the ledger remembers about an order after Prima accepted it.

One :class:`DispatchRecord` per order Prima holds. It says whether the order is still followed
(``open``) or finished (``shipped``, ``cancelled``, ``closed``), when Prima is next asked about it,
what commercetools showed when the order was last reviewed (its lines with the quantities
despatched so far, its order state, its returns), and every delivery written to commercetools with
its ``deliveryKey``. Finance reads the despatch dates from here.

Rules every store keeps (the agreement tests hold them to it):

1. A record is created once per order (:meth:`StateStore.follow_for_dispatch` leaves an existing
   one alone).
2. :meth:`StateStore.save_dispatch` replaces a record only when the caller read the current
   ``revision``; it stores ``revision + 1``. A stale revision raises
   :class:`~ct_prima_sync.errors.StateError` (two runs acted on one order).
3. Deliveries are append-only: a saved record's deliveries are added by key and never removed or
   changed, and a key is unique within its order.
4. ``next_check_at`` is set exactly while the record is ``open``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs
from attrs import frozen

from ..errors import StateError
from ._records import OrderRecord, utc

__all__ = [
    "DeliveryRecord",
    "DispatchLine",
    "DispatchRecord",
    "DispatchState",
    "ReturnRecord",
    "check_dispatch_record",
    "check_new_dispatch_record",
    "due_order",
    "lines_from_json",
    "lines_to_json",
    "new_dispatch_record",
    "normalised",
    "returns_from_json",
    "returns_to_json",
    "saved_dispatch_record",
]


class DispatchState(enum.StrEnum):
    """Whether an order is still followed for dispatch.

    ``open``: Prima has it and not all of it is despatched (or the despatch is not yet in
    commercetools). ``shipped``: everything left the warehouse and commercetools shows it.
    ``cancelled``: Prima cancelled it and the cancellation was handled. ``closed``: no longer
    followed for another reason (deleted in commercetools, older than the start of following).
    """

    OPEN = "open"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    CLOSED = "closed"

    @property
    def finished(self) -> bool:
        """True for every state but ``open``."""
        return self is not DispatchState.OPEN


@frozen(kw_only=True)
class DispatchLine:
    """One line of the commercetools order that can ship: its (custom) line item id, the Prima
    SKU it maps to (``""`` when it maps to none), the quantity ordered and the quantity
    despatched so far."""

    line_id: str
    sku: str
    ordered: int
    despatched: int = 0
    custom: bool = False
    """True for a custom line item that ships as a product."""


@frozen(kw_only=True)
class DeliveryRecord:
    """A delivery written to commercetools for a Prima despatch.

    ``despatch_ref`` is Prima's despatch id (empty when the installation reports no despatch
    details and the delivery stands for "everything that was left"); ``despatched_on`` is Prima's
    despatch date (or the day the sync saw the despatch, without details); ``items`` are
    ``(line id, quantity)`` pairs.
    """

    delivery_key: str
    despatch_ref: str
    despatched_on: date
    items: tuple[tuple[str, int], ...]
    written_at: datetime
    shipping_key: str | None = None
    carrier: str = ""
    tracking_ids: tuple[str, ...] = ()


@frozen(kw_only=True)
class ReturnRecord:
    """A return recorded in commercetools (``returnInfo``), as passed on to Prima or operations.

    ``passed_on`` says how: ``"request"`` (sent to Prima) or ``"exception"`` (an operations
    exception); finance reads the quantities and states from here.
    """

    return_item_id: str
    line_id: str
    quantity: int
    shipment_state: str
    payment_state: str
    recorded_at: datetime
    return_date: datetime | None = None
    passed_on: str = "exception"


@frozen(kw_only=True)
class DispatchRecord:
    """Despatch progress of one order (see the module docstring for the rules)."""

    order_id: str
    order_number: str | None
    prima_reference: str
    state: DispatchState
    accepted_at: datetime
    """When Prima took the order: the age that spaces out the status checks."""
    next_check_at: datetime | None
    last_checked_at: datetime | None
    checks: int
    prima_status: str
    """Prima's status text at the last check (empty before the first)."""
    ct_order_state: str
    """commercetools' ``orderState`` when the order was last reviewed."""
    lines: tuple[DispatchLine, ...]
    deliveries: tuple[DeliveryRecord, ...]
    returns: tuple[ReturnRecord, ...]
    first_despatched_on: date | None
    last_despatched_on: date | None
    finished_at: datetime | None
    revision: int
    created_at: datetime
    updated_at: datetime

    def delivery(self, key: str) -> DeliveryRecord | None:
        """The delivery with this key, or None."""
        return next((d for d in self.deliveries if d.delivery_key == key), None)


def new_dispatch_record(
    order: OrderRecord,
    *,
    now: datetime,
    lines: Sequence[DispatchLine] = (),
    ct_order_state: str = "",
    state: DispatchState = DispatchState.OPEN,
    accepted_at: datetime | None = None,
) -> DispatchRecord:
    """The first despatch record of a ledger order Prima accepted (due for a check at once).

    ``accepted_at`` defaults to when the submission started (else the ledger row's last change).
    """
    if not order.prima_reference:
        raise StateError(f"order {order.order_id} has no Prima reference to follow")
    now = utc(now, "now")
    accepted = utc(accepted_at or order.submission_started_at or order.updated_at, "accepted_at")
    return DispatchRecord(
        order_id=order.order_id,
        order_number=order.order_number,
        prima_reference=order.prima_reference,
        state=state,
        accepted_at=accepted,
        next_check_at=None if state.finished else accepted,
        last_checked_at=None,
        checks=0,
        prima_status="",
        ct_order_state=ct_order_state,
        lines=tuple(lines),
        deliveries=(),
        returns=(),
        first_despatched_on=None,
        last_despatched_on=None,
        finished_at=now if state.finished else None,
        revision=0,
        created_at=now,
        updated_at=now,
    )


def check_dispatch_record(record: DispatchRecord) -> None:
    """Refuse a record that breaks the rules a store keeps (StateError)."""
    if record.state.finished != (record.next_check_at is None):
        raise StateError(
            f"order {record.order_id}: next_check_at must be set exactly while the record is open"
        )
    keys = [d.delivery_key for d in record.deliveries]
    if len(keys) != len(set(keys)):
        raise StateError(f"order {record.order_id}: a delivery key appears twice")
    for line in record.lines:
        if line.ordered < 0 or line.despatched < 0:
            raise StateError(f"order {record.order_id}: line quantities must not be negative")


def check_new_dispatch_record(record: DispatchRecord) -> None:
    """Refuse a record that cannot start following an order (StateError)."""
    check_dispatch_record(record)
    if record.deliveries:
        raise StateError(f"order {record.order_id}: a new despatch record has no deliveries yet")


def saved_dispatch_record(
    stored: DispatchRecord | None, record: DispatchRecord, *, now: datetime
) -> DispatchRecord:
    """What a store writes for ``save_dispatch(record)`` over what it holds (rules 2 and 3)."""
    if stored is None:
        raise StateError(f"order {record.order_id} is not followed for dispatch")
    if stored.revision != record.revision:
        raise StateError(
            f"order {record.order_id}: despatch progress changed since it was read "
            f"(revision {stored.revision}, not {record.revision}); read it again"
        )
    check_dispatch_record(record)
    record = normalised(record)
    kept = {d.delivery_key: d for d in stored.deliveries}
    for delivery in record.deliveries:
        kept.setdefault(delivery.delivery_key, delivery)
    return attrs.evolve(
        record,
        created_at=stored.created_at,
        deliveries=tuple(sorted(kept.values(), key=lambda d: (d.written_at, d.delivery_key))),
        revision=stored.revision + 1,
        updated_at=utc(now, "now"),
    )


# -- JSON forms the SQL stores keep ------------------------------------------------------------


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat(timespec="microseconds")


def _unstamp(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def lines_to_json(lines: Sequence[DispatchLine]) -> str:
    """Lines as canonical JSON text."""
    return _dump([attrs.asdict(line) for line in lines])


def lines_from_json(data: Any) -> tuple[DispatchLine, ...]:
    """Lines from their JSON form (text or already decoded)."""
    rows = json.loads(data) if isinstance(data, str) else data
    return tuple(DispatchLine(**row) for row in rows)


def returns_to_json(returns: Sequence[ReturnRecord]) -> str:
    """Returns as canonical JSON text."""
    return _dump(
        [
            {
                **attrs.asdict(r),
                "recorded_at": _stamp(r.recorded_at),
                "return_date": _stamp(r.return_date),
            }
            for r in returns
        ]
    )


def returns_from_json(data: Any) -> tuple[ReturnRecord, ...]:
    """Returns from their JSON form."""
    rows = json.loads(data) if isinstance(data, str) else data
    return tuple(
        ReturnRecord(
            **{
                **row,
                "recorded_at": _unstamp(row["recorded_at"]),
                "return_date": _unstamp(row["return_date"]),
            }
        )
        for row in rows
    )


def _in_utc(value: datetime | None) -> bool:
    return value is None or value.tzinfo is UTC


def normalised(record: DispatchRecord) -> DispatchRecord:
    """``record`` with every time in UTC, as every store hands it back."""
    if all(
        _in_utc(t)
        for t in (
            record.accepted_at,
            record.next_check_at,
            record.last_checked_at,
            record.finished_at,
            record.created_at,
            record.updated_at,
            *(d.written_at for d in record.deliveries),
            *(r.recorded_at for r in record.returns),
            *(r.return_date for r in record.returns),
        )
    ):
        return record

    def at(value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    return attrs.evolve(
        record,
        accepted_at=utc(record.accepted_at, "accepted_at"),
        next_check_at=at(record.next_check_at),
        last_checked_at=at(record.last_checked_at),
        finished_at=at(record.finished_at),
        created_at=utc(record.created_at, "created_at"),
        updated_at=utc(record.updated_at, "updated_at"),
        deliveries=tuple(
            attrs.evolve(d, written_at=utc(d.written_at, "written_at")) for d in record.deliveries
        ),
        returns=tuple(
            attrs.evolve(r, recorded_at=utc(r.recorded_at), return_date=at(r.return_date))
            for r in record.returns
        ),
    )


def due_order(record: DispatchRecord) -> tuple[datetime, datetime, str]:
    """The order in which due records come back: most overdue first, then oldest, then by id."""
    assert record.next_check_at is not None
    return (record.next_check_at, record.accepted_at, record.order_id)
