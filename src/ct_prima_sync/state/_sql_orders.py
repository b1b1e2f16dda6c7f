"""The order ledger over SQL: read the row locked, apply ``_ledger``, write it back; on the
order path (ingest, begin, record), a few statements per page or batch instead: multi-row
``INSERT`` and guarded ``UPDATE ... RETURNING`` whose condition is the ledger's check."""

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
from ._sql_base import ORDER_COLUMNS, Row, Tx, chunks, ids_in
from ._sql_held import SqlHeldMixin
from ._sql_tables import PUT_CUSTOMER

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
_DELETE_LINES = "DELETE FROM order_lines WHERE order_id = ?"
#: ``StateStore.unlock``'s delete, for a lock given back with a recording.
_UNLOCK = "DELETE FROM flow_locks WHERE name = ? AND owner = ?"
#: One row of ``orders`` / ``order_lines`` in a multi-row ``INSERT``.
#: Columns of ``ORDER_COLUMNS``: what a row returned after them starts at this index.
_ORDER_WIDTH = len(ORDER_COLUMNS.split(","))
_ORDER_ROW = "(" + ", ".join("?" * _ORDER_WIDTH) + ")"
_LINE_ROW = "(?, ?, ?, ?)"
#: Rows per multi-row ``INSERT`` and ids per guarded ``UPDATE`` (SQLite allows 32,766
#: parameters, PostgreSQL 65,535: these stay far below either).
_INSERT_CHUNK = 200
_ID_CHUNK = 400
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


def _statuses(statuses: Iterable[OrderStatus]) -> str:
    """``status IN (...)`` over constant statuses (their values are fixed identifiers)."""
    return "status IN (" + ", ".join(sorted(f"'{s.value}'" for s in statuses)) + ")"


#: The lease check of ``_ledger.check_lease`` as a condition; parameters: worker id, now.
_LEASE_HELD = "lease_owner = ? AND lease_expires_at > ?"


def _case(pairs: Sequence[tuple[str, str]]) -> tuple[str, list[str]]:
    """``CASE order_id WHEN ? THEN ? ... END`` and its parameters: a value per order (one
    order's value alone is just ``?``: the statements for one order keep one text)."""
    if len(pairs) == 1:
        return "?", [pairs[0][1]]
    sql = "CASE order_id " + " ".join("WHEN ? THEN ?" for _ in pairs) + " END"
    return sql, [value for pair in pairs for value in pair]


#: What a recording's guarded ``UPDATE`` returns after ``ORDER_COLUMNS`` where one writer
#: at a time runs (``single_writer``): whether the order has open exceptions to close, and a
#: held copy to drop (held lines exist only under their held order: a foreign key). Read in
#: the recording's own write transaction, nobody can add either before it commits, so a
#: follow-up statement for an order without them would change nothing and is left out.
_FOLLOW_UPS = (
    "EXISTS (SELECT 1 FROM exceptions WHERE exceptions.order_id = orders.order_id "
    "AND resolved_at IS NULL), "
    "EXISTS (SELECT 1 FROM held_orders WHERE held_orders.order_id = orders.order_id)"
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

    def claim_all_statement(self) -> str | None:
        """One statement that claims from every branch, most urgent first (parameters as
        :meth:`claim_all_params`), or None: the branches then go one statement each, in one
        transaction (SQLite)."""
        return None

    def claim_all_params(self, worker_id: str, until: Any, now: Any, limit: int) -> tuple[Any, ...]:
        """The parameters of :meth:`claim_all_statement`."""
        raise NotImplementedError

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
        """See :meth:`StateStore.ingest_many`.

        New orders go in with one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING``
        (and their lines with one more); only an order the insert left out, already in the
        ledger or seen earlier on the page, is read and updated on its own (``_ingest_one``,
        which also names an order number another order holds)."""
        lines = [merge_lines(o.lines) for o in orders]  # bad lines refuse the page up front
        with self._write() as tx:
            self._drop_held(tx, [o.order_id for o in orders])  # the ledger counts them now
            first: dict[str, int] = {}
            for index, order in enumerate(orders):
                first.setdefault(order.order_id, index)
            inserted: set[str] = set()
            for part in chunks(list(first.values()), _INSERT_CHUNK):
                inserted |= self._insert_orders(tx, [orders[i] for i in part], now)
            self._insert_lines(
                tx,
                [
                    (orders[i].order_id, lines[i])
                    for i in first.values()
                    if orders[i].order_id in inserted
                ],
            )
            for index, order in enumerate(orders):  # the rest in page order, as before
                if first[order.order_id] != index or order.order_id not in inserted:
                    self._ingest_one(tx, order, lines[index], now)
            return len(inserted)

    def _insert_orders(self, tx: Tx, orders: Sequence[NewOrder], now: datetime) -> set[str]:
        """Insert the rows of ``orders`` (distinct ids) that no row's unique key refuses; the
        ids inserted."""
        params = [p for order in orders for p in self.order_params(_ledger.new_record(order, now))]
        rows = tx.all(
            f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES "
            f"{', '.join([_ORDER_ROW] * len(orders))} ON CONFLICT DO NOTHING RETURNING order_id",
            params,
        )
        return {row[0] for row in rows}

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
                    self._insert_lines(tx, [(order.order_id, lines)])
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
            self._insert_lines(tx, [(order.order_id, lines)])
        return inserted

    def _insert_lines(
        self, tx: Tx, orders: Sequence[tuple[str, dict[tuple[str, str], int]]]
    ) -> None:
        """Insert the lines of these orders, many rows per statement."""
        rows = [
            (order_id, sku, depot, units)
            for order_id, lines in orders
            for (sku, depot), units in lines.items()
        ]
        for part in chunks(rows, _INSERT_CHUNK):
            tx.run(
                "INSERT INTO order_lines (order_id, sku, depot, quantity) VALUES "
                + ", ".join([_LINE_ROW] * len(part)),
                [value for row in part for value in row],
            )

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
        whole = self.claim_all_statement()
        if whole is not None:  # every branch in one statement, its own transaction
            with self._write_one() as tx:
                rows = tx.all(whole, self.claim_all_params(worker_id, t_until, t_now, limit))
        else:
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
        """See :meth:`StateStore.begin_submission`.

        The guarded ``UPDATE`` alone first, as a statement of its own (``_write_one``: on
        PostgreSQL no ``BEGIN`` and ``COMMIT`` around it); only an order it refuses is tried
        again in a transaction that reads it locked and raises the ledger's error."""
        with self._write_one() as tx:
            begun = self._begin(
                tx, [order_id], worker_id, now, lease_seconds, again=False, settle=False
            )
        if order_id in begun:
            return begun[order_id]
        with self._write() as tx:
            begun = self._begin(tx, [order_id], worker_id, now, lease_seconds, again=False)
            return begun[order_id]

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
        if not order_ids:
            return []
        with self._write() as tx:
            begun = self._begin(
                tx, order_ids, worker_id, now, lease_seconds, again=again, skip_lost=True
            )
        return [begun[i] for i in dict.fromkeys(order_ids) if i in begun]

    def _begin(
        self,
        tx: Tx,
        order_ids: Sequence[str],
        worker_id: str,
        now: datetime,
        lease_seconds: float | None,
        *,
        again: bool,
        skip_lost: bool = False,
        settle: bool = True,
    ) -> dict[str, OrderRecord]:
        """``_ledger.begin_submission`` for each order, as one guarded ``UPDATE ... RETURNING``
        per chunk of ids: its condition is the ledger's (the caller's unexpired lease, a status
        a submission may start from), so an order it leaves out is one the ledger refuses;
        ``_settle_refused`` reads those again and raises the ledger's error (a lost lease
        leaves the order out with ``skip_lost``). Without ``settle`` the refused orders are
        only left out."""
        now = utc(now, "now")
        until = None if lease_seconds is None else _ledger.lease_until(now, lease_seconds)
        t_now = self.ts_in(now)
        sets = "status = 'submitting', submission_started_at = ?, updated_at = ?"
        set_params: list[Any] = [t_now, t_now]
        if until is not None:  # extended, never shortened
            sets += f", lease_expires_at = {self.greatest}(?, lease_expires_at)"
            set_params.append(self.ts_in(until))
        allowed = _ledger.SUBMISSION_FROM
        if again:
            allowed = allowed | {OrderStatus.SUBMITTING}
        where = f"{_LEASE_HELD} AND {_statuses(allowed)}"
        begun: dict[str, OrderRecord] = {}
        ids = sorted(set(order_ids))
        for part in chunks(ids, _ID_CHUNK):
            rows = self.guarded_update(
                tx,
                part,
                sets=sets,
                set_params=set_params,
                where=where,
                where_params=(worker_id, t_now),
            )
            begun.update((r.order_id, r) for r in map(self.order_from_row, rows))

        def begin(record: OrderRecord) -> OrderRecord:
            return _ledger.begin_submission(
                record, worker_id=worker_id, now=now, until=until, again=again
            )

        refused = [i for i in ids if i not in begun]
        if settle:
            begun.update(self._settle_refused(tx, refused, begin, skip_lost=skip_lost))
        return begun

    def _settle_refused(
        self,
        tx: Tx,
        order_ids: Sequence[str],
        change: Callable[[OrderRecord], OrderRecord],
        *,
        skip_lost: bool,
    ) -> dict[str, OrderRecord]:
        """The orders a guarded ``UPDATE`` left out, read again (locked) and put through the
        ledger's own ``change``: it raises what the condition refused (an unknown order is a
        :class:`StateError`; a lost lease is left out with ``skip_lost``). Should the ledger
        allow a change after all, it is written: the ledger decides."""
        settled: dict[str, OrderRecord] = {}
        for order_id in order_ids:
            current = self._lock_order(tx, order_id)
            try:
                updated = change(current)
            except LeaseLostError:
                if skip_lost:
                    continue
                raise
            self._store_order(tx, updated, current)
            settled[order_id] = updated
        return settled

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
        """See :meth:`StateStore.record_prima_reference`.

        Where the database runs writes inside ``WITH`` (``modifying_with``: PostgreSQL), the
        whole recording is first tried as ONE statement of its own (``_record_alone``); only
        an order its condition refuses goes through the transaction below, which reads it
        locked and raises the ledger's error."""
        if self.modifying_with and reference:
            alone = self._record_alone(
                order_id, worker_id, reference, now, customer=customer, unlock=unlock
            )
            if alone is not None:
                return alone
        with self._write() as tx:
            recorded = self._record_references(tx, {order_id: reference}, worker_id, now)
            if customer is not None:
                key, account_code = customer
                tx.run(PUT_CUSTOMER, (key, account_code, self.ts_in(utc(now, "now"))))
            if unlock is not None:
                tx.run(_UNLOCK, unlock)
            return recorded[order_id]

    def _record_alone(
        self,
        order_id: str,
        worker_id: str,
        reference: str,
        now: datetime,
        *,
        customer: tuple[str, str] | None,
        unlock: tuple[str, str] | None = None,
    ) -> OrderRecord | None:
        """The recording of one order (and the customer map entry, and the lock given back)
        as one statement of its own (``_recorded_with``): the recorded order, or None when the
        condition refused it (nothing was written then)."""
        try:
            with self._write_one() as tx:
                rows = self._recorded_with(
                    tx,
                    {order_id: reference},
                    worker_id,
                    self.ts_in(utc(now, "now")),
                    customer=customer,
                    unlock=unlock,
                )
        except DuplicateRecordError:
            raise DuplicateRecordError(
                f"Prima reference {reference} is already recorded for another order"
            ) from None
        return self.order_from_row(rows[0]) if rows else None

    def _recorded_with(
        self,
        tx: Tx,
        references: dict[str, str],
        worker_id: str,
        t_now: Any,
        *,
        customer: tuple[str, str] | None = None,
        unlock: tuple[str, str] | None = None,
    ) -> list[Row]:
        """What ``_record_references`` writes for these orders (up to ``_ID_CHUNK``), in one
        statement (``modifying_with`` stores): the guarded ``UPDATE ... RETURNING`` of the
        orders, and, each a data-modifying ``WITH`` query over the rows it returned only, the
        closing of their open exceptions, the deletion of their lines and of any held copy,
        the ``customer`` map entry put and the ``unlock`` lock given back. The rows recorded;
        the condition's refusals are left out, with nothing written for them. A reference
        another order has fails the statement as a whole."""
        ids = sorted(references)
        marks = ", ".join("?" * len(ids))
        case, case_params = _case([(i, references[i]) for i in ids])
        notes, note_params = _case([(i, _ledger.in_prima_note(references[i])) for i in ids])
        recorded = "SELECT order_id FROM recorded"
        sql = (
            f"WITH recorded AS (UPDATE orders SET status = 'submitted', prima_reference = {case}, "
            f"updated_at = ? WHERE {self.orders_in(marks)} AND {_LEASE_HELD} "
            f"AND {_statuses(_ledger.REFERENCE_FROM)} RETURNING {ORDER_COLUMNS}), "
            f"closed AS (UPDATE exceptions SET resolved_at = ?, resolution_note = {notes} "
            f"WHERE order_id IN ({recorded}) AND resolved_at IS NULL), "
            f"lines_deleted AS (DELETE FROM order_lines WHERE order_id IN ({recorded})), "
            f"held_lines_dropped AS (DELETE FROM held_lines WHERE order_id IN ({recorded})), "
            f"held_dropped AS (DELETE FROM held_orders WHERE order_id IN ({recorded}))"
        )
        params: list[Any] = [*case_params, t_now, *ids, worker_id, t_now, t_now, *note_params]
        if customer is not None:
            sql += (
                ", customer AS (INSERT INTO customer_map (key, account_code, updated_at) "
                "SELECT ?, ?, ? FROM recorded ON CONFLICT (key) DO UPDATE SET "
                "account_code = excluded.account_code, updated_at = excluded.updated_at)"
            )
            params += [customer[0], customer[1], t_now]
        if unlock is not None:
            sql += (
                ", unlocked AS (DELETE FROM flow_locks WHERE name = ? AND owner = ? "
                "AND EXISTS (SELECT 1 FROM recorded))"
            )
            params += [unlock[0], unlock[1]]
        return tx.all(f"{sql} SELECT {ORDER_COLUMNS} FROM recorded", params)

    def record_prima_references(
        self, references: Sequence[tuple[str, str]], *, worker_id: str, now: datetime
    ) -> list[OrderRecord]:
        """See :meth:`StateStore.record_prima_references`."""
        check_references(references)
        if not references:
            return []
        with self._write() as tx:
            recorded = self._record_references(tx, dict(references), worker_id, now, skip_lost=True)
        return [recorded[i] for i, _ in references if i in recorded]

    def _record_references(
        self,
        tx: Tx,
        references: dict[str, str],
        worker_id: str,
        now: datetime,
        *,
        skip_lost: bool = False,
    ) -> dict[str, OrderRecord]:
        """``_ledger.record_reference`` for each order, a few statements for all of them: one
        guarded ``UPDATE ... RETURNING`` (the ledger's lease and status checks as its condition;
        what it refuses goes through ``_settle_refused``), then the recorded orders' open
        exceptions closed, their lines deleted and any held copy dropped (``modifying_with``
        stores: all in the one statement of ``_recorded_with``, then the follow-up statements
        only for what ``_settle_refused`` wrote). The unique index on ``prima_reference``
        refuses a reference another order has: the whole transaction is refused with a
        :class:`DuplicateRecordError`."""
        now = utc(now, "now")
        t_now = self.ts_in(now)
        where = f"{_LEASE_HELD} AND {_statuses(_ledger.REFERENCE_FROM)}"
        ids = sorted(references)
        recorded: dict[str, OrderRecord] = {}

        def record(current: OrderRecord) -> OrderRecord:
            reference = references[current.order_id]
            return _ledger.record_reference(
                current, worker_id=worker_id, reference=reference, now=now
            )

        settled: dict[str, OrderRecord] = {}
        # Where one writer at a time runs, the orders the guarded UPDATE returned with no open
        # exception to close (no held copy to drop): their follow-up statements are skipped.
        calm: set[str] = set()
        unheld: set[str] = set()
        looks = self.single_writer and not self.modifying_with
        try:
            # An empty reference is the ledger's to refuse (after its lease check).
            for part in chunks([i for i in ids if references[i]], _ID_CHUNK):
                if self.modifying_with:  # the follow-up statements included
                    rows = self._recorded_with(
                        tx, {i: references[i] for i in part}, worker_id, t_now
                    )
                else:
                    case, case_params = _case([(i, references[i]) for i in part])
                    rows = self.guarded_update(
                        tx,
                        part,
                        sets=f"status = 'submitted', prima_reference = {case}, updated_at = ?",
                        set_params=[*case_params, t_now],
                        where=where,
                        where_params=(worker_id, t_now),
                        returning=f"{ORDER_COLUMNS}, {_FOLLOW_UPS}" if looks else ORDER_COLUMNS,
                    )
                    if looks:
                        calm.update(r[0] for r in rows if not r[_ORDER_WIDTH])
                        unheld.update(r[0] for r in rows if not r[_ORDER_WIDTH + 1])
                recorded.update((r.order_id, r) for r in map(self.order_from_row, rows))
            refused = [i for i in ids if i not in recorded]
            settled = self._settle_refused(tx, refused, record, skip_lost=skip_lost)
            recorded.update(settled)
        except Exception as error:
            if not self.is_unique_violation(error):
                raise
            if len(ids) == 1:
                message = f"Prima reference {references[ids[0]]} is already recorded"
            else:
                message = "a Prima reference of the batch is already recorded"
            raise DuplicateRecordError(f"{message} for another order") from None
        done = sorted(settled if self.modifying_with else recorded)
        for part in chunks([i for i in done if i not in calm], _ID_CHUNK):
            case, case_params = _case([(i, _ledger.in_prima_note(references[i])) for i in part])
            tx.run(
                f"UPDATE exceptions SET resolved_at = ?, resolution_note = {case} "
                f"WHERE {ids_in(part)} AND resolved_at IS NULL",
                (t_now, *case_params, *part),
            )
        for part in chunks(done, _ID_CHUNK):
            tx.run(f"DELETE FROM order_lines WHERE {ids_in(part)}", part)
        held = [i for i in done if i not in unheld]
        if held:
            self._drop_held(tx, held)
        return recorded

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
