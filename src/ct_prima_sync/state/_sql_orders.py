"""The order ledger over SQL: read the row locked, apply ``_ledger``, write it back."""

# ruff: noqa: S608  (SQL is built from constant fragments and placeholders only;
# every value travels as a parameter)

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..errors import DuplicateRecordError, StateError
from . import _ledger
from ._common import check_limit, check_seconds
from ._records import NewOrder, OrderRecord, OrderStatus, utc
from ._sql_base import ORDER_COLUMNS, Row, SqlBase, Tx

_INSERT_ORDER = (
    f"INSERT INTO orders ({ORDER_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (order_id) DO NOTHING"
)
_UPDATE_ORDER = (
    "UPDATE orders SET order_number = ?, status = ?, attempts = ?, lease_owner = ?, "
    "lease_expires_at = ?, next_attempt_at = ?, prima_reference = ?, submission_started_at = ?, "
    "last_error = ?, currency = ?, fraction_digits = ?, net_minor = ?, tax_minor = ?, "
    "gross_minor = ?, ct_version = ?, created_at = ?, updated_at = ? WHERE order_id = ?"
)
_SELECT_ORDER = f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = ?"

#: Mirrors ``_ledger.is_claimable``; parameters: now, now.
CLAIMABLE = (
    "(status = 'new' OR (status = 'failed' AND next_attempt_at <= ?) OR "
    "(status IN ('claimed', 'mapped', 'customer_resolved', 'submitting', 'submitted') "
    "AND (lease_expires_at IS NULL OR lease_expires_at <= ?)))"
)


class SqlOrdersMixin(SqlBase):
    """``StateStore`` ledger operations for SQL stores."""

    def _claim_rows(self, tx: Tx, worker_id: str, until: Any, now: Any, limit: int) -> list[Row]:
        """Lease up to ``limit`` claimable rows (the caller holds a write transaction)."""
        return tx.all(
            "UPDATE orders SET status = 'claimed', attempts = attempts + 1, lease_owner = ?, "
            "lease_expires_at = ?, next_attempt_at = NULL, updated_at = ? WHERE order_id IN ("
            f"SELECT order_id FROM orders WHERE {CLAIMABLE} "
            f"ORDER BY created_at, order_id LIMIT ?) RETURNING {ORDER_COLUMNS}",
            (worker_id, until, now, now, now, limit),
        )

    def _lock_order(self, tx: Tx, order_id: str) -> OrderRecord:
        row = tx.one(_SELECT_ORDER + self.for_update, (order_id,))
        if row is None:
            raise StateError(f"unknown order {order_id}")
        return self.order_from_row(row)

    def _store_order(self, tx: Tx, record: OrderRecord) -> None:
        params = self.order_params(record)
        tx.run(_UPDATE_ORDER, (*params[1:], params[0]))

    def _update(self, order_id: str, change: Callable[[OrderRecord], OrderRecord]) -> OrderRecord:
        with self._write() as tx:
            updated = change(self._lock_order(tx, order_id))
            self._store_order(tx, updated)
            return updated

    def ingest(self, order: NewOrder, *, now: datetime) -> bool:
        """See :meth:`StateStore.ingest`."""
        return self.ingest_many([order], now=now) == 1

    def ingest_many(self, orders: Sequence[NewOrder], *, now: datetime) -> int:
        """See :meth:`StateStore.ingest_many`."""
        with self._write() as tx:
            return sum(self._ingest_one(tx, o, now) for o in orders)

    def _ingest_one(self, tx: Tx, order: NewOrder, now: datetime) -> bool:
        record = _ledger.new_record(order, now)
        row = tx.one(_SELECT_ORDER + self.for_update, (order.order_id,))
        if row is not None:
            updated = _ledger.ingest_update(self.order_from_row(row), order, now)
            if updated is not None:
                self._store_order(tx, updated)
            return False
        if order.order_number is not None:
            taken = tx.one(
                "SELECT order_id FROM orders WHERE order_number = ?", (order.order_number,)
            )
            if taken is not None:
                raise DuplicateRecordError(
                    f"order number {order.order_number} already belongs to another order"
                )
        return tx.run(_INSERT_ORDER, self.order_params(record)) == 1

    def get_order(self, order_id: str) -> OrderRecord | None:
        """See :meth:`StateStore.get_order`."""
        with self._read() as tx:
            row = tx.one(_SELECT_ORDER, (order_id,))
        return None if row is None else self.order_from_row(row)

    def get_order_by_number(self, order_number: str) -> OrderRecord | None:
        """See :meth:`StateStore.get_order_by_number`."""
        with self._read() as tx:
            row = tx.one(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_number = ?", (order_number,)
            )
        return None if row is None else self.order_from_row(row)

    def claim(
        self, worker_id: str, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[OrderRecord]:
        """See :meth:`StateStore.claim`."""
        check_limit(limit)
        check_seconds(lease_seconds, "lease_seconds")
        now = utc(now, "now")
        until = _ledger.lease_until(now, lease_seconds)
        t_now, t_until = self.ts_in(now), self.ts_in(until)
        with self._write() as tx:
            rows = self._claim_rows(tx, worker_id, t_until, t_now, limit)
        records = [self.order_from_row(r) for r in rows]
        return sorted(records, key=lambda r: (r.created_at, r.order_id))

    def renew_lease(
        self, order_id: str, *, worker_id: str, lease_seconds: float, now: datetime
    ) -> OrderRecord:
        """See :meth:`StateStore.renew_lease`."""
        check_seconds(lease_seconds, "lease_seconds")
        until = _ledger.lease_until(now, lease_seconds)
        return self._update(
            order_id, lambda r: _ledger.renew(r, worker_id=worker_id, until=until, now=now)
        )

    def release_lease(self, order_id: str, *, worker_id: str, now: datetime) -> OrderRecord:
        """See :meth:`StateStore.release_lease`."""
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
        """See :meth:`StateStore.transition`."""
        return self._update(
            order_id,
            lambda r: _ledger.transition(
                r, worker_id=worker_id, to=to, now=now, error=error, retry_at=retry_at
            ),
        )

    def begin_submission(self, order_id: str, *, worker_id: str, now: datetime) -> OrderRecord:
        """See :meth:`StateStore.begin_submission`."""
        return self._update(
            order_id, lambda r: _ledger.begin_submission(r, worker_id=worker_id, now=now)
        )

    def record_prima_reference(
        self, order_id: str, *, worker_id: str, reference: str, now: datetime
    ) -> OrderRecord:
        """See :meth:`StateStore.record_prima_reference`."""
        with self._write() as tx:
            updated = _ledger.record_reference(
                self._lock_order(tx, order_id), worker_id=worker_id, reference=reference, now=now
            )
            holder = tx.one("SELECT order_id FROM orders WHERE prima_reference = ?", (reference,))
            if holder is not None and holder[0] != order_id:
                raise DuplicateRecordError(
                    f"Prima reference {reference} is already recorded for another order"
                )
            self._store_order(tx, updated)
            return updated

    def requeue_order(self, order_id: str, *, now: datetime) -> OrderRecord:
        """See :meth:`StateStore.requeue_order`."""
        return self._update(order_id, lambda r: _ledger.requeue(r, now=now))

    def count_orders_by_status(self) -> dict[OrderStatus, int]:
        """See :meth:`StateStore.count_orders_by_status`."""
        with self._read() as tx:
            rows = tx.all("SELECT status, COUNT(*) FROM orders GROUP BY status")
        counts = dict.fromkeys(OrderStatus, 0)
        for status, count in rows:
            counts[OrderStatus(status)] = int(count)
        return counts
