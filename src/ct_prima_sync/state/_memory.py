"""The reference store: plain dicts behind one lock. For tests, demos and single-run hosts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import attrs

from ..errors import DuplicateRecordError, LeaseLostError, StateError
from . import _claim, _ledger
from ._common import check_limit, check_references, json_detail, merge_lines
from ._memory_budget import MemoryBudgetMixin
from ._memory_dispatch import MemoryDispatchMixin
from ._memory_held import MemoryHeldMixin
from ._memory_ops import MemoryOpsMixin
from ._memory_tables import MemoryTablesMixin
from ._records import (
    OPEN_EXCEPTIONS,
    ExceptionFilter,
    ExceptionRecord,
    NewOrder,
    OrderLine,
    OrderRecord,
    OrderStatus,
    Owner,
    utc,
)
from ._write_backs import MemoryWriteBackMixin

__all__ = ["MemoryStore"]


class MemoryStore(
    MemoryTablesMixin,
    MemoryDispatchMixin,
    MemoryOpsMixin,
    MemoryHeldMixin,
    MemoryBudgetMixin,
    MemoryWriteBackMixin,
):
    """A :class:`StateStore` in memory; nothing survives the process. ``open_store("memory://")``."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._orders: dict[str, OrderRecord] = {}
        self._numbers: dict[str, str] = {}
        self._references: dict[str, str] = {}
        # Lines of the orders Prima has not accepted yet, by order id: (sku, depot) -> units.
        self._lines: dict[str, dict[tuple[str, str], int]] = {}
        self._exceptions: dict[int, ExceptionRecord] = {}
        self._next_exception_id = 1
        self._init_tables()
        self._init_dispatch()
        self._init_ops()
        self._init_held()
        self._init_budget()
        self._init_write_backs()

    def __repr__(self) -> str:
        return f"MemoryStore(closed={self._closed})"

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Mark the store closed. Idempotent."""
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self) -> None:
        if self._closed:
            raise StateError("the state store is closed")

    # -- order ledger ----------------------------------------------------------------------------
    def ingest(self, order: NewOrder, *, now: datetime) -> bool:
        return self.ingest_many([order], now=now) == 1

    def ingest_many(self, orders: Sequence[NewOrder], *, now: datetime) -> int:
        lines = [merge_lines(o.lines) for o in orders]  # bad lines refuse the page up front
        with self._lock:
            self._open()
            # Check every order number first, so a duplicate leaves the page unapplied.
            numbers: dict[str, str] = {}
            for o in orders:
                if o.order_id in self._orders or o.order_number is None:
                    continue
                holder = self._numbers.get(o.order_number, numbers.get(o.order_number))
                if holder is not None and holder != o.order_id:
                    raise DuplicateRecordError(
                        f"order number {o.order_number} already belongs to another order"
                    )
                numbers[o.order_number] = o.order_id
            self._drop_held(o.order_id for o in orders)  # the ledger counts them now
            return sum(
                self._ingest_one(o, merged, now) for o, merged in zip(orders, lines, strict=True)
            )

    def _ingest_one(
        self, order: NewOrder, lines: dict[tuple[str, str], int], now: datetime
    ) -> bool:
        existing = self._orders.get(order.order_id)
        if existing is not None:
            updated = _ledger.ingest_update(existing, order, now)
            if updated is not None:
                self._orders[order.order_id] = updated
                if updated.prima_reference is None:
                    self._set_lines(order.order_id, lines)
            return False
        self._orders[order.order_id] = _ledger.new_record(order, now)
        self._set_lines(order.order_id, lines)
        if order.order_number is not None:
            self._numbers[order.order_number] = order.order_id
        return True

    def _set_lines(self, order_id: str, lines: dict[tuple[str, str], int]) -> None:
        if lines:
            self._lines[order_id] = lines
        else:
            self._lines.pop(order_id, None)

    def get_order(self, order_id: str) -> OrderRecord | None:
        with self._lock:
            self._open()
            return self._orders.get(order_id)

    def get_order_by_number(self, order_number: str) -> OrderRecord | None:
        with self._lock:
            self._open()
            for record in self._orders.values():
                if record.order_number == order_number:
                    return record
            return None

    def _order(self, order_id: str) -> OrderRecord:
        record = self._orders.get(order_id)
        if record is None:
            raise StateError(f"unknown order {order_id}")
        return record

    def claim(
        self, worker_id: str, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[OrderRecord]:
        check_limit(limit)
        now = utc(now, "now")
        until = _ledger.lease_until(now, lease_seconds)
        with self._lock:
            self._open()
            candidates = _claim.select(self._orders.values(), now, limit)
            claimed = [_ledger.claim_record(r, worker_id, until, now) for r in candidates]
            for record in claimed:
                self._orders[record.order_id] = record
            return sorted(claimed, key=_claim.claim_order)

    def claim_order(
        self, order_id: str, worker_id: str, *, lease_seconds: float, now: datetime
    ) -> OrderRecord | None:
        now = utc(now, "now")
        until = _ledger.lease_until(now, lease_seconds)
        with self._lock:
            self._open()
            record = self._orders.get(order_id)
            if record is None or not _ledger.is_claimable(record, now):
                return None
            claimed = _ledger.claim_record(record, worker_id, until, now)
            self._orders[order_id] = claimed
            return claimed

    def renew_lease(
        self, order_id: str, *, worker_id: str, lease_seconds: float, now: datetime
    ) -> OrderRecord:
        until = _ledger.lease_until(now, lease_seconds)
        return self._update(
            order_id, lambda r: _ledger.renew(r, worker_id=worker_id, until=until, now=now)
        )

    def release_lease(self, order_id: str, *, worker_id: str, now: datetime) -> OrderRecord:
        return self._update(order_id, lambda r: _ledger.release(r, worker_id=worker_id, now=now))

    def transition(
        self,
        order_id: str,
        *,
        worker_id: str,
        to: OrderStatus,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> OrderRecord:
        return self._update(
            order_id,
            lambda r: _ledger.transition(
                r, worker_id=worker_id, to=to, now=now, error=error, retry_at=retry_at
            ),
        )

    def begin_submission(
        self,
        order_id: str,
        *,
        worker_id: str,
        now: datetime,
        lease_seconds: float | None = None,
    ) -> OrderRecord:
        until = None
        if lease_seconds is not None:
            until = _ledger.lease_until(now, lease_seconds)
        return self._update(
            order_id,
            lambda r: _ledger.begin_submission(r, worker_id=worker_id, now=now, until=until),
        )

    def begin_submissions(
        self,
        order_ids: Sequence[str],
        *,
        worker_id: str,
        now: datetime,
        lease_seconds: float | None = None,
        again: bool = False,
    ) -> list[OrderRecord]:
        until = None if lease_seconds is None else _ledger.lease_until(now, lease_seconds)
        with self._lock:
            self._open()
            begun: dict[str, OrderRecord] = {}
            for order_id in sorted(set(order_ids)):
                try:
                    begun[order_id] = _ledger.begin_submission(
                        self._order(order_id), worker_id=worker_id, now=now, until=until,
                        again=again,
                    )  # fmt: skip
                except LeaseLostError:
                    continue
            self._orders.update(begun)
            return [begun[i] for i in dict.fromkeys(order_ids) if i in begun]

    def record_prima_reference(
        self,
        order_id: str,
        *,
        worker_id: str,
        reference: str,
        now: datetime,
        customer: tuple[str, str] | None = None,
        unlock: tuple[str, str] | None = None,
    ) -> OrderRecord:
        with self._lock:  # one transaction: the customer and the unlock only with the reference
            recorded = self._record_references(
                [(order_id, reference)], worker_id=worker_id, now=now, skip_lost=False
            )[0]
            if customer is not None:
                self.put_customer(*customer, now=now)
            if unlock is not None:
                self.unlock(unlock[0], owner=unlock[1])
            return recorded

    def record_prima_references(
        self, references: Sequence[tuple[str, str]], *, worker_id: str, now: datetime
    ) -> list[OrderRecord]:
        check_references(references)
        return self._record_references(references, worker_id=worker_id, now=now, skip_lost=True)

    def _record_references(
        self,
        references: Sequence[tuple[str, str]],
        *,
        worker_id: str,
        now: datetime,
        skip_lost: bool,
    ) -> list[OrderRecord]:
        with self._lock:
            self._open()
            recorded: dict[str, OrderRecord] = {}
            # As on SQL, where the unique index speaks before the refused members are looked
            # at (in order): a reference another order holds outranks the first member refused.
            refused: StateError | None = None
            for order_id, reference in sorted(references):
                try:
                    recorded[order_id] = _ledger.record_reference(
                        self._order(order_id), worker_id=worker_id, reference=reference, now=now
                    )
                except LeaseLostError as error:
                    if not skip_lost:
                        refused = refused or error
                except StateError as error:
                    refused = refused or error
            for order_id, reference in references:
                holder = self._references.get(reference)
                if order_id in recorded and holder is not None and holder != order_id:
                    raise DuplicateRecordError(
                        f"Prima reference {reference} is already recorded for another order"
                    )
            if refused is not None:
                raise refused
            for order_id, reference in references:
                if order_id in recorded:
                    self._keep_reference(recorded[order_id], reference)
            return [recorded[i] for i, _ in references if i in recorded]

    def _keep_reference(self, updated: OrderRecord, reference: str) -> None:
        order_id = updated.order_id
        self._references[reference] = order_id
        self._orders[order_id] = updated
        note = _ledger.in_prima_note(reference)
        for exception_id, open_problem in list(self._exceptions.items()):
            if open_problem.is_open and open_problem.order_id == order_id:
                self._exceptions[exception_id] = attrs.evolve(
                    open_problem, resolved_at=updated.updated_at, resolution_note=note
                )
        self._lines.pop(order_id, None)
        self._drop_held([order_id])

    def requeue_order(self, order_id: str, *, now: datetime) -> OrderRecord:
        return self._update(order_id, lambda r: _ledger.requeue(r, now=now))

    def _update(self, order_id: str, change: Any) -> OrderRecord:
        with self._lock:
            self._open()
            updated: OrderRecord = change(self._order(order_id))
            self._orders[order_id] = updated
            return updated

    def count_orders_by_status(self) -> dict[OrderStatus, int]:
        with self._lock:
            self._open()
            counts = dict.fromkeys(OrderStatus, 0)
            for record in self._orders.values():
                counts[record.status] += 1
            return counts

    def order_lines(self, order_id: str) -> list[OrderLine]:
        with self._lock:
            self._open()
            lines = self._lines.get(order_id, {})
            return [
                OrderLine(sku=sku, depot=depot, quantity=units)
                for (sku, depot), units in sorted(lines.items())
            ]

    def pending_stock(self, skus: Iterable[str] | None = None) -> dict[tuple[str, str], int]:
        wanted = None if skus is None else set(skus)
        pending: dict[tuple[str, str], int] = {}
        with self._lock:
            self._open()
            for lines in self._lines.values():
                for key, units in lines.items():
                    if wanted is None or key[0] in wanted:
                        pending[key] = pending.get(key, 0) + units
            for line in self._held_pending():
                if wanted is None or line.sku in wanted:
                    key = (line.sku, line.depot)
                    pending[key] = pending.get(key, 0) + line.quantity
        return pending

    # -- exception queue -------------------------------------------------------------------------
    def record_exception(
        self,
        *,
        kind: str,
        owner: Owner,
        detail: dict[str, Any],
        now: datetime,
        order_id: str | None = None,
        transient: bool = False,
        next_retry_at: datetime | None = None,
        subject: str | None = None,
    ) -> ExceptionRecord:
        now = utc(now, "now")
        subject = subject or None
        retry = None if next_retry_at is None else utc(next_retry_at, "next_retry_at")
        clean: dict[str, Any] = json.loads(json_detail(detail))
        owner = Owner(owner)
        with self._lock:
            self._open()
            for record in self._exceptions.values():
                if (
                    record.is_open
                    and record.kind == kind
                    and record.order_id == order_id
                    and record.subject == subject
                ):
                    bumped = attrs.evolve(
                        record,
                        owner=owner,
                        detail=clean,
                        last_seen=now,
                        occurrences=record.occurrences + 1,
                        transient=transient,
                        next_retry_at=retry,
                    )
                    self._exceptions[record.exception_id] = bumped
                    self._seen_again(record.exception_id)
                    return bumped
            record = ExceptionRecord(
                exception_id=self._next_exception_id,
                kind=kind,
                owner=owner,
                order_id=order_id,
                detail=clean,
                first_seen=now,
                last_seen=now,
                occurrences=1,
                transient=transient,
                next_retry_at=retry,
                resolved_at=None,
                resolution_note=None,
                subject=subject,
            )
            self._exceptions[record.exception_id] = record
            self._next_exception_id += 1
            return record

    def get_exception(self, exception_id: int) -> ExceptionRecord | None:
        with self._lock:
            self._open()
            return self._exceptions.get(exception_id)

    def list_exceptions(
        self, where: ExceptionFilter = OPEN_EXCEPTIONS, *, limit: int | None = None
    ) -> list[ExceptionRecord]:
        check_limit(limit)
        with self._lock:
            self._open()
            found = [r for _, r in sorted(self._exceptions.items()) if where.matches(r)]
            return found[:limit]

    def due_exceptions(self, *, now: datetime, limit: int | None = None) -> list[ExceptionRecord]:
        check_limit(limit)
        now = utc(now, "now")
        with self._lock:
            self._open()
            found = [
                r
                for _, r in sorted(self._exceptions.items())
                if r.is_open and r.next_retry_at is not None and r.next_retry_at <= now
            ]
            return found[:limit]

    def resolve_exception(
        self, exception_id: int, *, note: str, now: datetime, by: str | None = None
    ) -> ExceptionRecord:
        now = utc(now, "now")
        with self._lock:
            self._open()
            record = self._exceptions.get(exception_id)
            if record is None:
                raise StateError(f"unknown exception {exception_id}")
            if not record.is_open:
                raise StateError(f"exception {exception_id} is already resolved")
            resolved = attrs.evolve(record, resolved_at=now, resolution_note=note, resolved_by=by)
            self._exceptions[exception_id] = resolved
            return resolved

    def mark_for_replay(self, where: ExceptionFilter, *, now: datetime) -> list[int]:
        now = utc(now, "now")
        with self._lock:
            self._open()
            ids = []
            for exception_id, record in sorted(self._exceptions.items()):
                if record.is_open and where.matches(record):
                    self._exceptions[exception_id] = attrs.evolve(record, next_retry_at=now)
                    ids.append(exception_id)
            return ids
