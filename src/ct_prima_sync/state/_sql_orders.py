"""The order ledger over SQL: read the row locked, apply ``_ledger``, write it back."""

# ruff: noqa: S608  (SQL is built from constant fragments and placeholders only;
# every value travels as a parameter)

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from ..errors import DuplicateRecordError, LeaseLostError, StateError
from . import _ledger
from ._claim import BRANCHES, ClaimBranch, claim_order
from ._common import check_limit, check_references, merge_lines
from ._records import NewOrder, OrderLine, OrderRecord, OrderStatus, utc
from ._sql_base import ORDER_COLUMNS, Row, Tx, chunks
from ._sql_held import SqlHeldMixin

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
_COLUMNS = tuple(column.strip() for column in ORDER_COLUMNS.split(","))
#: ``UPDATE`` statements that set only some columns, by the positions (in ``ORDER_COLUMNS``) of
#: the columns they set: built on first use, a handful in all (one per kind of change).
_PARTIAL_UPDATES: dict[tuple[int, ...], str] = {}
_INSERT_LINE = "INSERT INTO order_lines (order_id, sku, depot, quantity) VALUES (?, ?, ?, ?)"
_DELETE_LINES = "DELETE FROM order_lines WHERE order_id = ?"
#: Pending units per SKU and depot: the ledger's lines and the held orders' lines.
_PENDING = (
    "SELECT sku, depot, SUM(quantity) FROM ("
    "SELECT sku, depot, quantity FROM order_lines{where} UNION ALL "
    "SELECT sku, depot, quantity FROM held_lines{where}) AS pending GROUP BY sku, depot"
)
#: SKUs per pending-stock query (SQLite allows 32,766 parameters; a few hundred plan well).
_PENDING_CHUNK = 500

#: What a claim sets on every row it takes (mirrors ``_ledger.claim_record``); parameters:
#: worker id, lease end, now.
CLAIM_SET = (
    "status = 'claimed', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?, "
    "next_attempt_at = NULL, updated_at = ?"
)


class SqlOrdersMixin(SqlHeldMixin):
    """``StateStore`` ledger operations for SQL stores (held orders included: ingest moves
    them into the ledger)."""

    def claim_statement(self, branch: ClaimBranch) -> str:
        """The ``UPDATE ... RETURNING`` that claims ``branch``'s rows (SQLite; parameters as
        :meth:`claim_params`). ``INDEXED BY`` makes SQLite read the branch's index in order,
        and refuse the statement rather than fall back to a scan if it ever could not."""
        return (
            f"UPDATE orders SET {CLAIM_SET} WHERE order_id IN (SELECT order_id FROM orders "
            f"INDEXED BY {branch.index} WHERE {branch.where} ORDER BY {branch.order_by} "
            f"LIMIT ?) RETURNING {ORDER_COLUMNS}"
        )

    def claim_params(
        self, branch: ClaimBranch, worker_id: str, until: Any, now: Any, limit: int
    ) -> tuple[Any, ...]:
        """The parameters of :meth:`claim_statement`."""
        return (worker_id, until, now, *[now] * branch.params, limit)

    def _claim_rows(self, tx: Tx, worker_id: str, until: Any, now: Any, limit: int) -> list[Row]:
        """Lease up to ``limit`` claimable rows, branch by branch (the caller holds a write
        transaction)."""
        rows: list[Row] = []
        for branch in BRANCHES:
            if len(rows) >= limit:
                break
            params = self.claim_params(branch, worker_id, until, now, limit - len(rows))
            rows += tx.all(self.claim_statement(branch), params)
        return rows

    def _lock_order(self, tx: Tx, order_id: str) -> OrderRecord:
        row = tx.one(_SELECT_ORDER + self.for_update, (order_id,))
        if row is None:
            raise StateError(f"unknown order {order_id}")
        return self.order_from_row(row)

    def _store_order(self, tx: Tx, record: OrderRecord, before: OrderRecord | None = None) -> None:
        """Write ``record`` over its row; with ``before`` (the row as this transaction read it)
        only the columns that changed, so that the indexes over the others are left alone (an
        ``UPDATE`` that sets an indexed column rewrites that index's entry, changed or not)."""
        params = self.order_params(record)
        if before is None:
            tx.run(_UPDATE_ORDER, (*params[1:], params[0]))
            return
        old = self.order_params(before)
        changed = tuple(i for i in range(1, len(params)) if params[i] != old[i])
        if not changed:
            return
        sql = _PARTIAL_UPDATES.get(changed)
        if sql is None:
            sets = ", ".join(f"{_COLUMNS[i]} = ?" for i in changed)
            sql = _PARTIAL_UPDATES.setdefault(
                changed, f"UPDATE orders SET {sets} WHERE order_id = ?"
            )
        tx.run(sql, (*(params[i] for i in changed), params[0]))

    def _update(self, order_id: str, change: Callable[[OrderRecord], OrderRecord]) -> OrderRecord:
        with self._write() as tx:
            current = self._lock_order(tx, order_id)
            updated = change(current)
            self._store_order(tx, updated, current)
            return updated

    def ingest(self, order: NewOrder, *, now: datetime) -> bool:
        """See :meth:`StateStore.ingest`."""
        return self.ingest_many([order], now=now) == 1

    def ingest_many(self, orders: Sequence[NewOrder], *, now: datetime) -> int:
        """See :meth:`StateStore.ingest_many`."""
        lines = [merge_lines(o.lines) for o in orders]  # bad lines refuse the page up front
        with self._write() as tx:
            self._drop_held(tx, [o.order_id for o in orders])  # the ledger counts them now
            return sum(
                self._ingest_one(tx, o, merged, now)
                for o, merged in zip(orders, lines, strict=True)
            )

    def _ingest_one(
        self, tx: Tx, order: NewOrder, lines: dict[tuple[str, str], int], now: datetime
    ) -> bool:
        record = _ledger.new_record(order, now)
        row = tx.one(_SELECT_ORDER + self.for_update, (order.order_id,))
        if row is not None:
            current = self.order_from_row(row)
            updated = _ledger.ingest_update(current, order, now)
            if updated is not None:
                self._store_order(tx, updated, current)
                if updated.prima_reference is None:
                    tx.run(_DELETE_LINES, (order.order_id,))
                    self._insert_lines(tx, order.order_id, lines)
            return False
        try:
            inserted = tx.run(_INSERT_ORDER, self.order_params(record)) == 1
        except Exception as error:
            # The unique order number refuses a number another order has (no SELECT first): the
            # row itself is new, as read above, and has no Prima reference yet.
            if order.order_number is None or not self.is_unique_violation(error):
                raise
            raise DuplicateRecordError(
                f"order number {order.order_number} already belongs to another order"
            ) from None
        if inserted:
            self._insert_lines(tx, order.order_id, lines)
        return inserted

    def _insert_lines(self, tx: Tx, order_id: str, lines: dict[tuple[str, str], int]) -> None:
        if lines:
            rows = [(order_id, sku, depot, units) for (sku, depot), units in lines.items()]
            tx.many(_INSERT_LINE, rows)

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
        now = utc(now, "now")
        until = _ledger.lease_until(now, lease_seconds)
        t_now, t_until = self.ts_in(now), self.ts_in(until)
        with self._write() as tx:
            rows = self._claim_rows(tx, worker_id, t_until, t_now, limit)
        return sorted((self.order_from_row(r) for r in rows), key=claim_order)

    def claim_order(
        self, order_id: str, worker_id: str, *, lease_seconds: float, now: datetime
    ) -> OrderRecord | None:
        """See :meth:`StateStore.claim_order`."""
        now = utc(now, "now")
        until = _ledger.lease_until(now, lease_seconds)
        with self._write() as tx:
            row = tx.one(_SELECT_ORDER + self.for_update, (order_id,))
            if row is None:
                return None
            record = self.order_from_row(row)
            if not _ledger.is_claimable(record, now):
                return None
            claimed = _ledger.claim_record(record, worker_id, until, now)
            self._store_order(tx, claimed, record)
            return claimed

    def renew_lease(
        self, order_id: str, *, worker_id: str, lease_seconds: float, now: datetime
    ) -> OrderRecord:
        """See :meth:`StateStore.renew_lease`."""
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

    def begin_submission(
        self,
        order_id: str,
        *,
        worker_id: str,
        now: datetime,
        lease_seconds: float | None = None,
    ) -> OrderRecord:
        """See :meth:`StateStore.begin_submission`."""
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
        """See :meth:`StateStore.begin_submissions`."""
        until = None if lease_seconds is None else _ledger.lease_until(now, lease_seconds)

        def begin(record: OrderRecord) -> OrderRecord:
            return _ledger.begin_submission(
                record, worker_id=worker_id, now=now, until=until, again=again
            )

        return self._update_each(order_ids, begin)

    def _update_each(
        self, order_ids: Sequence[str], change: Callable[[OrderRecord], OrderRecord]
    ) -> list[OrderRecord]:
        """Apply ``change`` to each order in one transaction, leaving out those whose lease the
        caller lost; rows are locked in id order (two workers never wait on each other in a
        circle)."""
        updated: dict[str, OrderRecord] = {}
        read: dict[str, OrderRecord] = {}
        with self._write() as tx:
            for order_id in sorted(set(order_ids)):
                read[order_id] = self._lock_order(tx, order_id)
                try:
                    updated[order_id] = change(read[order_id])
                except LeaseLostError:
                    continue
            for order_id, record in updated.items():
                self._store_order(tx, record, read[order_id])
        return [updated[i] for i in dict.fromkeys(order_ids) if i in updated]

    def record_prima_reference(
        self, order_id: str, *, worker_id: str, reference: str, now: datetime
    ) -> OrderRecord:
        """See :meth:`StateStore.record_prima_reference`."""
        with self._write() as tx:
            current = self._lock_order(tx, order_id)
            updated = _ledger.record_reference(
                current, worker_id=worker_id, reference=reference, now=now
            )
            self._record_reference(tx, updated, reference, current)
            return updated

    def record_prima_references(
        self, references: Sequence[tuple[str, str]], *, worker_id: str, now: datetime
    ) -> list[OrderRecord]:
        """See :meth:`StateStore.record_prima_references`."""
        check_references(references)
        recorded: dict[str, OrderRecord] = {}
        read: dict[str, OrderRecord] = {}
        with self._write() as tx:
            for order_id, reference in sorted(references):
                read[order_id] = self._lock_order(tx, order_id)
                try:
                    recorded[order_id] = _ledger.record_reference(
                        read[order_id], worker_id=worker_id, reference=reference, now=now
                    )
                except LeaseLostError:
                    continue
            for order_id, reference in references:
                if order_id in recorded:
                    self._record_reference(tx, recorded[order_id], reference, read[order_id])
        return [recorded[i] for i, _ in references if i in recorded]

    def _record_reference(
        self, tx: Tx, updated: OrderRecord, reference: str, current: OrderRecord
    ) -> None:
        """Write an order's recorded reference (``current``: its row as read in ``tx``): unique
        across orders, its open exceptions closed, its lines no longer pending."""
        order_id = updated.order_id
        holder = tx.one("SELECT order_id FROM orders WHERE prima_reference = ?", (reference,))
        if holder is not None and holder[0] != order_id:
            raise DuplicateRecordError(
                f"Prima reference {reference} is already recorded for another order"
            )
        self._store_order(tx, updated, current)
        tx.run(
            "UPDATE exceptions SET resolved_at = ?, resolution_note = ? "
            "WHERE order_id = ? AND resolved_at IS NULL",
            (self.ts_in(updated.updated_at), _ledger.in_prima_note(reference), order_id),
        )
        tx.run(_DELETE_LINES, (order_id,))
        self._drop_held(tx, [order_id])

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

    def order_lines(self, order_id: str) -> list[OrderLine]:
        """See :meth:`StateStore.order_lines`."""
        with self._read() as tx:
            rows = tx.all(
                "SELECT sku, depot, quantity FROM order_lines WHERE order_id = ? "
                "ORDER BY sku, depot",
                (order_id,),
            )
        return [OrderLine(sku=sku, depot=depot, quantity=int(units)) for sku, depot, units in rows]

    def pending_stock(self, skus: Iterable[str] | None = None) -> dict[tuple[str, str], int]:
        """See :meth:`StateStore.pending_stock`."""
        pending: dict[tuple[str, str], int] = {}
        with self._read() as tx:
            if skus is None:
                rows = tx.all(_PENDING.format(where=""))
            else:
                rows = []
                for part in chunks(list(dict.fromkeys(skus)), _PENDING_CHUNK):
                    where = f" WHERE sku IN ({', '.join('?' * len(part))})"
                    rows += tx.all(_PENDING.format(where=where), [*part, *part])
        for sku, depot, units in rows:
            pending[(sku, depot)] = int(units)
        return pending
