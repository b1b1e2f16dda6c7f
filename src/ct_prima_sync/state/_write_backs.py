"""The write-back queue: Prima's reference on its way back to commercetools, off the critical path.

Once Prima's reference is recorded the order is in Prima (``submitted``) and its write-back is
queued: the order is worked again only to write the reference to commercetools, never sent to
Prima again. The queue is in the ledger:

1. ``submitted`` orders (and an order claimed again with its reference, after a crash) wait for
   the write-back pass of the run that holds them. :func:`finish_write_back` marks them ``done``,
   many in one transaction (``finish_write_backs``). A crash leaves them ``submitted``; once the
   lease runs out the next run claims them and the pass finishes them.
2. A write-back that failed makes the order ``done`` at once (it is in Prima: posted as far as
   every flow, health and finance are concerned) with ``write_back_due_at`` set: it is retried
   from then, with backoff, each attempt counted in ``write_back_attempts``
   (``defer_write_back``). ``claim_write_backs`` takes due ones and moves their due time on by a
   lease, so two workers never write the same order at once and a worker that dies gives them
   back when the lease runs out. A successful write-back clears the due time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import attrs
from attrs import frozen

from ._common import check_limit
from ._ledger import IN_PROGRESS, lease_until
from ._records import ExceptionRecord, OrderRecord, OrderStatus, utc
from ._sql_base import SqlBase, chunks

if TYPE_CHECKING:
    from ._sql_base import Tx

__all__ = [
    "WRITE_BACK_KIND",
    "WRITE_BACK_SUBJECT",
    "WriteBackItem",
    "finish_write_back",
    "written_back_note",
]

#: The exception kind and subject of a failed write-back; ``finish_write_backs`` resolves the
#: order's open one. The subject keeps it apart from the dispatch flow's ``CT_WRITE_BACK_FAILED``
#: about the same order (a delivery commercetools refused), which only the dispatch flow closes.
WRITE_BACK_KIND: Final = "CT_WRITE_BACK_FAILED"
WRITE_BACK_SUBJECT: Final = "write_back"


@frozen(kw_only=True)
class WriteBackItem:
    """An order whose write-back is queued for a retry: Prima has it (``prima_reference``), the
    commercetools order does not show it yet. ``due_at``: when it is tried next (a claim moves
    it on by a lease); ``attempts``: the write-backs that failed so far."""

    order_id: str
    order_number: str | None
    prima_reference: str
    due_at: datetime
    attempts: int


def finish_write_back(record: OrderRecord, *, worker_id: str, now: datetime) -> OrderRecord | None:
    """The order once its write-back is done: ``done``, lease released, for an order in progress
    with its reference whose lease ``worker_id`` holds (or held, run out and taken by nobody:
    the write-back is done all the same); ``record`` itself when it is already ``done`` (a
    queued retry). None when the order is not this worker's to finish (another worker took it
    over; it finishes the write-back itself)."""
    now = utc(now, "now")
    if record.status is OrderStatus.DONE:
        return record
    if record.status in IN_PROGRESS and record.prima_reference and record.lease_owner == worker_id:
        return attrs.evolve(
            record,
            status=OrderStatus.DONE,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    return None


def written_back_note(reference: str) -> str:
    """The resolution note of the write-back exceptions a successful write-back closes."""
    return f"resolved automatically: Prima's reference {reference} is on the commercetools order"


#: Only ``done`` orders ever have a write-back queued (``defer_write_back`` makes them so and
#: nothing leaves ``done``), so the partial index alone finds them.
_PENDING_OF = "write_back_due_at IS NOT NULL"


class MemoryWriteBackMixin:
    """The write-back queue in the memory store (``write_back_due_at``/``_attempts`` by order)."""

    _lock: threading.RLock
    _orders: dict[str, OrderRecord]
    _exceptions: dict[int, ExceptionRecord]

    def _open(self) -> None:
        raise NotImplementedError

    def _init_write_backs(self) -> None:
        self._wb_due: dict[str, datetime] = {}
        self._wb_attempts: dict[str, int] = {}

    def finish_write_backs(
        self, order_ids: Sequence[str], *, worker_id: str, now: datetime
    ) -> list[str]:
        """See :meth:`StateStore.finish_write_backs`."""
        now = utc(now, "now")
        finished: list[str] = []
        with self._lock:
            self._open()
            for order_id in dict.fromkeys(order_ids):
                record = self._orders.get(order_id)
                updated = (
                    None
                    if record is None
                    else finish_write_back(record, worker_id=worker_id, now=now)
                )
                if updated is None:
                    continue
                self._orders[order_id] = updated
                self._wb_due.pop(order_id, None)
                self._resolve_write_back(order_id, updated.prima_reference or "", now)
                finished.append(order_id)
        return finished

    def _resolve_write_back(self, order_id: str, reference: str, now: datetime) -> None:
        for exception_id, problem in list(self._exceptions.items()):
            if (
                problem.is_open
                and problem.order_id == order_id
                and problem.kind == WRITE_BACK_KIND
                and problem.subject == WRITE_BACK_SUBJECT
            ):
                self._exceptions[exception_id] = attrs.evolve(
                    problem, resolved_at=now, resolution_note=written_back_note(reference)
                )

    def defer_write_back(
        self, order_id: str, *, worker_id: str, retry_at: datetime, now: datetime
    ) -> int | None:
        """See :meth:`StateStore.defer_write_back`."""
        now, retry_at = utc(now, "now"), utc(retry_at, "retry_at")
        with self._lock:
            self._open()
            record = self._orders.get(order_id)
            updated = (
                None if record is None else finish_write_back(record, worker_id=worker_id, now=now)
            )
            if updated is None:
                return None
            self._orders[order_id] = updated
            self._wb_due[order_id] = retry_at
            attempts = self._wb_attempts.get(order_id, 0) + 1
            self._wb_attempts[order_id] = attempts
            return attempts

    def claim_write_backs(
        self, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[WriteBackItem]:
        """See :meth:`StateStore.claim_write_backs`."""
        check_limit(limit)
        now = utc(now, "now")
        until = lease_until(now, lease_seconds)
        with self._lock:
            self._open()
            due = sorted(
                (at, order_id)
                for order_id, at in self._wb_due.items()
                if at <= now and self._orders[order_id].status is OrderStatus.DONE
            )[:limit]
            items = []
            for _at, order_id in due:
                self._wb_due[order_id] = until
                items.append(self._write_back_entry(order_id))
            return items

    def get_write_back(self, order_id: str) -> WriteBackItem | None:
        """See :meth:`StateStore.get_write_back`."""
        with self._lock:
            self._open()
            if order_id not in self._wb_due or order_id not in self._orders:
                return None
            return self._write_back_entry(order_id)

    def count_write_backs_queued(self) -> int:
        """See :meth:`StateStore.count_write_backs_queued`."""
        with self._lock:
            self._open()
            return sum(1 for o in self._wb_due if self._orders[o].status is OrderStatus.DONE)

    def make_write_backs_due(self, order_ids: Sequence[str], *, now: datetime) -> list[str]:
        """See :meth:`StateStore.make_write_backs_due`."""
        now = utc(now, "now")
        moved = []
        with self._lock:
            self._open()
            for order_id in dict.fromkeys(order_ids):
                due = self._wb_due.get(order_id)
                record = self._orders.get(order_id)
                if due is None or record is None or record.status is not OrderStatus.DONE:
                    continue
                if due > now:
                    self._wb_due[order_id] = now
                    moved.append(order_id)
            return moved

    def _write_back_entry(self, order_id: str) -> WriteBackItem:
        record = self._orders[order_id]
        return WriteBackItem(
            order_id=order_id,
            order_number=record.order_number,
            prima_reference=record.prima_reference or "",
            due_at=self._wb_due[order_id],
            attempts=self._wb_attempts.get(order_id, 0),
        )


#: Ids per statement of ``finish_write_backs``.
_ID_CHUNK = 400

_ITEM_COLUMNS = "order_id, order_number, prima_reference, write_back_due_at, write_back_attempts"


class SqlWriteBackMixin(SqlBase):
    """The write-back queue over SQL (schema v10: ``orders.write_back_due_at``,
    ``orders.write_back_attempts``, index ``orders_write_back_idx``)."""

    #: Makes SQLite read the queue's index in order (and refuse rather than scan); PostgreSQL
    #: has no hint and plans it from the partial index alone.
    write_back_index: str = " INDEXED BY orders_write_back_idx"

    if TYPE_CHECKING:  # provided by SqlOrdersMixin

        def _lock_order(self, tx: Tx, order_id: str) -> OrderRecord: ...
        def _store_order(
            self, tx: Tx, record: OrderRecord, before: OrderRecord | None = None
        ) -> None: ...

    def finish_write_backs(
        self, order_ids: Sequence[str], *, worker_id: str, now: datetime
    ) -> list[str]:
        """See :meth:`StateStore.finish_write_backs`.

        A few statements for the whole batch: one guarded ``UPDATE`` makes ``done`` the orders
        :func:`finish_write_back` finishes from in progress (only the status and lease columns
        change; such an order has no write-back queued, since only ``done`` orders ever do);
        a second, only for the orders left (queued retries, already ``done``), clears their
        queued write-back; one more closes the finished orders' open write-back exceptions.
        Where the database runs writes inside ``WITH`` (PostgreSQL), the first ``UPDATE`` and
        the closing of its orders' exceptions are one statement of their own
        (``_finished_with``), and the rest goes in a transaction only for the orders it left."""
        now = utc(now, "now")
        if not order_ids:
            return []
        t_now = self.ts_in(now)
        in_progress = ", ".join(sorted(f"'{s.value}'" for s in IN_PROGRESS))
        references: dict[str, str] = {}
        left = sorted(set(order_ids))
        if self.modifying_with:  # the orders finished from in progress, one statement each part
            for part in chunks(left, _ID_CHUNK):
                with self._write_one() as tx:
                    rows = tx.all(*self._finished_with(part, worker_id, t_now, in_progress))
                references.update((row[0], row[1] or "") for row in rows)
            left = [o for o in left if o not in references]
            if not left:
                return [o for o in dict.fromkeys(order_ids) if o in references]
        # Where one writer at a time runs, each row returned says whether its order has an open
        # write-back exception (read in this write transaction: nobody adds one before it
        # commits); the closing statement goes only for the orders that have one.
        returning = "order_id, prima_reference"
        looks: tuple[str, ...] = ()
        if self.single_writer:
            returning += (
                ", EXISTS (SELECT 1 FROM exceptions WHERE exceptions.order_id = orders.order_id "
                "AND kind = ? AND subject = ? AND resolved_at IS NULL)"
            )
            looks = (WRITE_BACK_KIND, WRITE_BACK_SUBJECT)
        calm: set[str] = set()
        with self._write() as tx:
            for part in chunks(left, _ID_CHUNK):
                rows = self.guarded_update(
                    tx,
                    part,
                    sets="status = 'done', lease_owner = NULL, lease_expires_at = NULL, "
                    "next_attempt_at = NULL, updated_at = ?",
                    set_params=(t_now,),
                    where=f"status IN ({in_progress}) AND prima_reference IS NOT NULL "
                    "AND prima_reference <> '' AND lease_owner = ?",
                    where_params=(worker_id,),
                    returning=returning,
                    returning_params=looks,
                )
                references.update((row[0], row[1] or "") for row in rows)
                if looks:
                    calm.update(row[0] for row in rows if not row[2])
                rest = [o for o in part if o not in references]
                if rest:
                    rows = self.guarded_update(
                        tx,
                        rest,
                        sets="write_back_due_at = NULL",
                        set_params=(),
                        where="status = 'done'",
                        where_params=(),
                        returning=returning,
                        returning_params=looks,
                    )
                    references.update((row[0], row[1] or "") for row in rows)
                    if looks:
                        calm.update(row[0] for row in rows if not row[2])
            closing = sorted(o for o in references if o in left and o not in calm)
            for part in chunks(closing, _ID_CHUNK):
                marks = ", ".join("?" * len(part))
                case = "CASE order_id " + " ".join("WHEN ? THEN ?" for _ in part) + " END"
                notes = [v for o in part for v in (o, written_back_note(references[o]))]
                tx.run(
                    f"UPDATE exceptions SET resolved_at = ?, resolution_note = {case} "  # noqa: S608
                    f"WHERE order_id IN ({marks}) AND kind = ? AND subject = ? "
                    "AND resolved_at IS NULL",
                    (t_now, *notes, *part, WRITE_BACK_KIND, WRITE_BACK_SUBJECT),
                )
        return [o for o in dict.fromkeys(order_ids) if o in references]

    def _finished_with(
        self, part: Sequence[str], worker_id: str, t_now: Any, in_progress: str
    ) -> tuple[str, list[Any]]:
        """The first ``UPDATE`` of :meth:`finish_write_backs` with the closing of the finished
        orders' open write-back exceptions, one statement (``modifying_with`` stores): its
        rows are the orders finished, with their Prima references."""
        marks = ", ".join("?" * len(part))
        before, after = written_back_note("\x00").split("\x00")
        sql = (
            "WITH finished AS (UPDATE orders SET status = 'done', lease_owner = NULL, "  # noqa: S608
            "lease_expires_at = NULL, next_attempt_at = NULL, updated_at = ? "
            f"WHERE {self.orders_in(marks)} AND status IN ({in_progress}) "
            "AND prima_reference IS NOT NULL AND prima_reference <> '' AND lease_owner = ? "
            "RETURNING order_id, prima_reference), "
            "closed AS (UPDATE exceptions SET resolved_at = ?, "
            "resolution_note = ? || finished.prima_reference || ? FROM finished "
            "WHERE exceptions.order_id = finished.order_id AND kind = ? AND subject = ? "
            "AND resolved_at IS NULL) "
            "SELECT order_id, prima_reference FROM finished"
        )
        params = [t_now, *part, worker_id, t_now, before, after, WRITE_BACK_KIND]
        return sql, [*params, WRITE_BACK_SUBJECT]

    def defer_write_back(
        self, order_id: str, *, worker_id: str, retry_at: datetime, now: datetime
    ) -> int | None:
        """See :meth:`StateStore.defer_write_back`."""
        now, retry_at = utc(now, "now"), utc(retry_at, "retry_at")
        with self._write() as tx:
            record = self._lock_order(tx, order_id)
            updated = finish_write_back(record, worker_id=worker_id, now=now)
            if updated is None:
                return None
            if updated is not record:
                self._store_order(tx, updated, record)
            row = tx.one(
                "UPDATE orders SET write_back_due_at = ?, "
                "write_back_attempts = write_back_attempts + 1 WHERE order_id = ? "
                "RETURNING write_back_attempts",
                (self.ts_in(retry_at), order_id),
            )
            return None if row is None else int(row[0])

    def claim_write_backs(
        self, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[WriteBackItem]:
        """See :meth:`StateStore.claim_write_backs`."""
        check_limit(limit)
        now = utc(now, "now")
        until = lease_until(now, lease_seconds)
        with self._write() as tx:
            rows = tx.all(
                self.write_back_claim_statement(), (self.ts_in(until), self.ts_in(now), limit)
            )
        return sorted((self._write_back_item(r) for r in rows), key=lambda i: i.order_id)

    def write_back_claim_statement(self) -> str:
        """The statement of :meth:`claim_write_backs` (parameters: the new due time, now, the
        limit): the due rows are read from ``orders_write_back_idx`` in order with the LIMIT
        (PostgreSQL also skips rows another worker's claim holds), so a claim costs the same
        whatever the number of orders."""
        locking = f"{self.for_update} SKIP LOCKED" if self.for_update else ""
        return (
            f"UPDATE orders SET write_back_due_at = ? WHERE order_id IN ("  # noqa: S608
            f"SELECT order_id FROM orders{self.write_back_index} "
            "WHERE write_back_due_at IS NOT NULL AND write_back_due_at <= ? "
            f"ORDER BY write_back_due_at, order_id LIMIT ?{locking}) "
            f"RETURNING {_ITEM_COLUMNS}"
        )

    def get_write_back(self, order_id: str) -> WriteBackItem | None:
        """See :meth:`StateStore.get_write_back`."""
        with self._read() as tx:
            row = tx.one(
                f"SELECT {_ITEM_COLUMNS} FROM orders WHERE order_id = ? "  # noqa: S608
                f"AND {_PENDING_OF}",
                (order_id,),
            )
        return None if row is None else self._write_back_item(row)

    def count_write_backs_queued(self) -> int:
        """See :meth:`StateStore.count_write_backs_queued`."""
        with self._read() as tx:
            row = tx.one(
                f"SELECT COUNT(*) FROM orders{self.write_back_index} WHERE {_PENDING_OF}"  # noqa: S608
            )
        return 0 if row is None else int(row[0])

    def make_write_backs_due(self, order_ids: Sequence[str], *, now: datetime) -> list[str]:
        """See :meth:`StateStore.make_write_backs_due`. One statement per few hundred ids, by
        primary key."""
        t_now = self.ts_in(utc(now, "now"))
        moved: set[str] = set()
        with self._write() as tx:
            for part in chunks(list(dict.fromkeys(order_ids)), _ID_CHUNK):
                marks = ", ".join("?" * len(part))
                rows = tx.all(
                    f"UPDATE orders SET write_back_due_at = ? WHERE order_id IN ({marks}) "  # noqa: S608
                    "AND status = 'done' AND write_back_due_at > ? RETURNING order_id",
                    (t_now, *part, t_now),
                )
                moved.update(row[0] for row in rows)
        return [o for o in dict.fromkeys(order_ids) if o in moved]

    def _write_back_item(self, row: Any) -> WriteBackItem:
        return WriteBackItem(
            order_id=row[0],
            order_number=row[1],
            prima_reference=row[2] or "",
            due_at=self.ts_out(row[3]),
            attempts=int(row[4]),
        )
