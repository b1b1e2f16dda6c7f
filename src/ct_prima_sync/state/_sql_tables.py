"""Exception queue, customer map, cursors, stock snapshot, posting batches and flow locks in SQL."""

# ruff: noqa: S608  (SQL is built from constant fragments and placeholders only;
# every value travels as a parameter)

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..errors import DuplicateRecordError, StateError
from ._common import check_limit, check_seconds, json_detail
from ._records import (
    OPEN_EXCEPTIONS,
    BatchMember,
    BatchStatus,
    CursorValue,
    CustomerMapping,
    ExceptionFilter,
    ExceptionRecord,
    OrderTotals,
    Owner,
    PostingBatch,
    StockSnapshot,
    StockUpdate,
    utc,
)
from ._sql_base import EXCEPTION_COLUMNS, SqlBase, chunks

#: ``put_customer``'s upsert; parameters: key, account code, now.
PUT_CUSTOMER = (
    "INSERT INTO customer_map (key, account_code, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET account_code = excluded.account_code, "
    "updated_at = excluded.updated_at"
)

_RECORD_EXCEPTION = (
    "INSERT INTO exceptions (kind, owner, order_id, detail, first_seen, last_seen, occurrences, "
    "transient, next_retry_at, subject) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
    "ON CONFLICT (kind, order_id, subject) WHERE resolved_at IS NULL DO UPDATE SET "
    "owner = excluded.owner, detail = excluded.detail, last_seen = excluded.last_seen, "
    "occurrences = exceptions.occurrences + 1, transient = excluded.transient, "
    "next_retry_at = excluded.next_retry_at, purged_at = NULL "
    f"RETURNING {EXCEPTION_COLUMNS}"
)
_SELECT_EXCEPTIONS = f"SELECT {EXCEPTION_COLUMNS} FROM exceptions"
_UPSERT_STOCK = (
    "INSERT INTO stock_snapshot (sku, depot, last_ats, last_pushed, updated_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sku, depot) DO UPDATE SET "
    "last_ats = COALESCE(excluded.last_ats, stock_snapshot.last_ats), "
    "last_pushed = COALESCE(excluded.last_pushed, stock_snapshot.last_pushed), "
    "updated_at = excluded.updated_at"
)
_BATCH_COLUMNS = (
    "batch_id, kind, status, created_at, closed_at, posted_at, prima_reference, period, currency, "
    "sequence, journal"
)
_MEMBER_COLUMNS = "order_id, currency, fraction_digits, net_minor, tax_minor, gross_minor, entry"
_TRY_LOCK = (
    "INSERT INTO flow_locks (name, owner, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
    "WHERE flow_locks.owner = excluded.owner OR flow_locks.expires_at <= ?"
)
_STOCK_CHUNK = 400
#: Customer keys per ``get_customers`` statement (SQLite allows 32,766 parameters).
_CUSTOMER_CHUNK = 500


def _where(where: ExceptionFilter) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if where.open_only:
        clauses.append("resolved_at IS NULL")
    for column, value in (
        ("owner", where.owner),
        ("kind", where.kind),
        ("order_id", where.order_id),
        ("subject", where.subject),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(str(value))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class SqlTablesMixin(SqlBase):
    """``StateStore`` operations beyond the ledger, for SQL stores."""

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
        """See :meth:`StateStore.record_exception`."""
        t_now = self.ts_in(utc(now, "now"))
        retry = None if next_retry_at is None else utc(next_retry_at, "next_retry_at")
        params = (
            kind,
            Owner(owner).value,
            order_id or "",
            self.json_in(json_detail(detail)),
            t_now,
            t_now,
            bool(transient),
            self.ts_in(retry),
            subject or "",
        )
        with self._write() as tx:
            row = tx.one(_RECORD_EXCEPTION, params)
        assert row is not None
        return self.exception_from_row(row)

    def get_exception(self, exception_id: int) -> ExceptionRecord | None:
        """See :meth:`StateStore.get_exception`."""
        with self._read() as tx:
            row = tx.one(_SELECT_EXCEPTIONS + " WHERE exception_id = ?", (exception_id,))
        return None if row is None else self.exception_from_row(row)

    def list_exceptions(
        self, where: ExceptionFilter = OPEN_EXCEPTIONS, *, limit: int | None = None
    ) -> list[ExceptionRecord]:
        """See :meth:`StateStore.list_exceptions`."""
        check_limit(limit)
        sql, params = _where(where)
        sql = _SELECT_EXCEPTIONS + sql + " ORDER BY exception_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as tx:
            rows = tx.all(sql, params)
        return [self.exception_from_row(r) for r in rows]

    def due_exceptions(self, *, now: datetime, limit: int | None = None) -> list[ExceptionRecord]:
        """See :meth:`StateStore.due_exceptions`."""
        check_limit(limit)
        sql = (
            _SELECT_EXCEPTIONS + " WHERE resolved_at IS NULL AND next_retry_at <= ?"
            " ORDER BY exception_id"
        )
        params: list[Any] = [self.ts_in(utc(now, "now"))]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as tx:
            rows = tx.all(sql, params)
        return [self.exception_from_row(r) for r in rows]

    def resolve_exception(
        self, exception_id: int, *, note: str, now: datetime, by: str | None = None
    ) -> ExceptionRecord:
        """See :meth:`StateStore.resolve_exception`."""
        t_now = self.ts_in(utc(now, "now"))
        with self._write() as tx:
            row = tx.one(
                f"UPDATE exceptions SET resolved_at = ?, resolution_note = ?, resolved_by = ? "
                f"WHERE exception_id = ? AND resolved_at IS NULL RETURNING {EXCEPTION_COLUMNS}",
                (t_now, note, by, exception_id),
            )
            if row is None:
                known = tx.one(
                    "SELECT exception_id FROM exceptions WHERE exception_id = ?", (exception_id,)
                )
                if known is None:
                    raise StateError(f"unknown exception {exception_id}")
                raise StateError(f"exception {exception_id} is already resolved")
        return self.exception_from_row(row)

    def mark_for_replay(self, where: ExceptionFilter, *, now: datetime) -> list[int]:
        """See :meth:`StateStore.mark_for_replay`."""
        sql, params = _where(
            ExceptionFilter(
                owner=where.owner, kind=where.kind, order_id=where.order_id, subject=where.subject
            )
        )
        with self._write() as tx:
            rows = tx.all(
                f"UPDATE exceptions SET next_retry_at = ?{sql} RETURNING exception_id",
                [self.ts_in(utc(now, "now")), *params],
            )
        return sorted(int(r[0]) for r in rows)

    # -- customer map, cursors -------------------------------------------------------------------
    def put_customer(self, key: str, account_code: str, *, now: datetime) -> None:
        """See :meth:`StateStore.put_customer`."""
        with self._write() as tx:
            tx.run(PUT_CUSTOMER, (key, account_code, self.ts_in(utc(now, "now"))))

    def get_customer(self, key: str) -> CustomerMapping | None:
        """See :meth:`StateStore.get_customer`."""
        with self._read() as tx:
            row = tx.one("SELECT account_code, updated_at FROM customer_map WHERE key = ?", (key,))
        if row is None:
            return None
        return CustomerMapping(key=key, account_code=row[0], updated_at=self.ts_out(row[1]))

    def get_customers(self, keys: Iterable[str]) -> dict[str, CustomerMapping]:
        """See :meth:`StateStore.get_customers`."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, CustomerMapping] = {}
        if not wanted:
            return found
        with self._read() as tx:
            for part in chunks(wanted, _CUSTOMER_CHUNK):
                rows = tx.all(
                    "SELECT key, account_code, updated_at FROM customer_map "
                    f"WHERE key IN ({', '.join('?' * len(part))})",
                    part,
                )
                for key, account_code, updated_at in rows:
                    found[key] = CustomerMapping(
                        key=key, account_code=account_code, updated_at=self.ts_out(updated_at)
                    )
        return found

    def rename_customer_keys(
        self, prefix: str, rename: Callable[[str], str], *, now: datetime
    ) -> int:
        """See :meth:`StateStore.rename_customer_keys`."""
        t_now = self.ts_in(utc(now, "now"))
        with self._write() as tx:
            rows = tx.all(
                "SELECT key, account_code FROM customer_map WHERE substr(key, 1, ?) = ? "
                "ORDER BY key" + self.for_update,
                (len(prefix), prefix),
            )
            renamed = [(key, new, code) for key, code in rows if (new := rename(key)) != key]
            for key, new_key, account_code in renamed:
                tx.run("DELETE FROM customer_map WHERE key = ?", (key,))
                tx.run(
                    "INSERT INTO customer_map (key, account_code, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    (new_key, account_code, t_now),
                )
        return len(renamed)

    def set_cursor(self, name: str, value: str, *, now: datetime) -> None:
        """See :meth:`StateStore.set_cursor`."""
        with self._write() as tx:
            tx.run(
                "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (name, value, self.ts_in(utc(now, "now"))),
            )

    def get_cursor(self, name: str) -> CursorValue | None:
        """See :meth:`StateStore.get_cursor`."""
        with self._read() as tx:
            row = tx.one("SELECT value, updated_at FROM cursors WHERE name = ?", (name,))
        if row is None:
            return None
        return CursorValue(name=name, value=row[0], updated_at=self.ts_out(row[1]))

    # -- stock snapshot --------------------------------------------------------------------------
    def get_stock(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StockSnapshot]:
        """See :meth:`StateStore.get_stock`."""
        wanted = dict.fromkeys(keys)
        found: dict[tuple[str, str], StockSnapshot] = {}
        ts_out = self.ts_out
        # By SKU, the primary key's first column: a list of (sku, depot) pairs as row values is
        # not matched through the index by every SQLite version, and a scan per query would
        # cost the whole table every chunk.
        with self._read() as tx:
            for part in chunks(list(dict.fromkeys(sku for sku, _ in wanted)), _STOCK_CHUNK):
                marks = ", ".join("?" * len(part))
                rows = tx.all(
                    "SELECT sku, depot, last_ats, last_pushed, updated_at FROM stock_snapshot "
                    f"WHERE sku IN ({marks})",
                    part,
                )
                for sku, depot, ats, pushed, updated in rows:
                    if (sku, depot) in wanted:
                        found[(sku, depot)] = StockSnapshot(
                            sku=sku,
                            depot=depot,
                            last_ats=ats,
                            last_pushed=pushed,
                            updated_at=ts_out(updated),
                        )
        return {k: found[k] for k in wanted if k in found}

    def upsert_stock(self, updates: Sequence[StockUpdate], *, now: datetime) -> None:
        """See :meth:`StateStore.upsert_stock`."""
        t_now = self.ts_in(utc(now, "now"))
        rows = [(u.sku, u.depot, u.last_ats, u.last_pushed, t_now) for u in updates]
        if not rows:
            return
        with self._write() as tx:
            tx.many(_UPSERT_STOCK, rows)

    # -- posting batches -------------------------------------------------------------------------
    def _batch_from_row(self, row: tuple[Any, ...]) -> PostingBatch:
        return PostingBatch(
            batch_id=row[0],
            kind=row[1],
            status=BatchStatus(row[2]),
            created_at=self.ts_out(row[3]),
            closed_at=self._ts(row[4]),
            posted_at=self._ts(row[5]),
            prima_reference=row[6],
            period=row[7],
            currency=row[8],
            sequence=int(row[9]),
            journal=row[10],
        )

    def create_batch(
        self,
        batch_id: str,
        *,
        kind: str,
        now: datetime,
        period: str = "",
        currency: str = "",
        sequence: int = 0,
    ) -> PostingBatch:
        """See :meth:`StateStore.create_batch`."""
        with self._write() as tx:
            row = tx.one(
                f"INSERT INTO posting_batches ({_BATCH_COLUMNS}) VALUES (?, ?, 'open', ?, NULL, "
                f"NULL, NULL, ?, ?, ?, NULL) ON CONFLICT (batch_id) DO NOTHING "
                f"RETURNING {_BATCH_COLUMNS}",
                (batch_id, kind, self.ts_in(utc(now, "now")), period, currency, sequence),
            )
        if row is None:
            raise DuplicateRecordError(f"batch {batch_id} already exists")
        return self._batch_from_row(row)

    def _locked_batch(self, tx: Any, batch_id: str) -> PostingBatch:
        row = tx.one(
            f"SELECT {_BATCH_COLUMNS} FROM posting_batches WHERE batch_id = ?" + self.for_update,
            (batch_id,),
        )
        if row is None:
            raise StateError(f"unknown batch {batch_id}")
        return self._batch_from_row(row)

    def add_to_batch(self, batch_id: str, members: Sequence[BatchMember]) -> None:
        """See :meth:`StateStore.add_to_batch`."""
        with self._write() as tx:
            batch = self._locked_batch(tx, batch_id)
            if batch.status is not BatchStatus.OPEN:
                raise StateError(f"batch {batch_id} is {batch.status}, not open")
            seen: set[tuple[str, str]] = set()
            for m in members:
                taken = tx.one(
                    "SELECT batch_id FROM batch_members WHERE kind = ? AND order_id = ? "
                    "AND entry = ?",
                    (batch.kind, m.order_id, m.entry),
                )
                if taken is not None or (m.order_id, m.entry) in seen:
                    raise DuplicateRecordError(
                        f"order {m.order_id} is already in a {batch.kind} batch"
                    )
                seen.add((m.order_id, m.entry))
            if members:
                tx.many(
                    "INSERT INTO batch_members (batch_id, kind, order_id, entry, currency, "
                    "fraction_digits, net_minor, tax_minor, gross_minor) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            batch_id,
                            batch.kind,
                            m.order_id,
                            m.entry,
                            m.totals.currency,
                            m.totals.fraction_digits,
                            m.totals.net,
                            m.totals.tax,
                            m.totals.gross,
                        )
                        for m in members
                    ],
                )

    def _move_batch(
        self,
        batch_id: str,
        expected: BatchStatus,
        to: BatchStatus,
        sets: str,
        params: tuple[Any, ...],
    ) -> PostingBatch:
        with self._write() as tx:
            batch = self._locked_batch(tx, batch_id)
            if batch.status is not expected:
                raise StateError(f"batch {batch_id} is {batch.status}, not {expected}")
            row = tx.one(
                f"UPDATE posting_batches SET status = ?, {sets} WHERE batch_id = ? "
                f"RETURNING {_BATCH_COLUMNS}",
                (to.value, *params, batch_id),
            )
        assert row is not None
        return self._batch_from_row(row)

    def close_batch(
        self, batch_id: str, *, now: datetime, journal: str | None = None
    ) -> PostingBatch:
        """See :meth:`StateStore.close_batch`."""
        return self._move_batch(
            batch_id,
            BatchStatus.OPEN,
            BatchStatus.CLOSED,
            "closed_at = ?, journal = ?",
            (self.ts_in(utc(now, "now")), journal),
        )

    def mark_batch_posted(self, batch_id: str, *, reference: str, now: datetime) -> PostingBatch:
        """See :meth:`StateStore.mark_batch_posted`."""
        return self._move_batch(
            batch_id,
            BatchStatus.CLOSED,
            BatchStatus.POSTED,
            "posted_at = ?, prima_reference = ?",
            (self.ts_in(utc(now, "now")), reference),
        )

    def get_batch(self, batch_id: str) -> PostingBatch | None:
        """See :meth:`StateStore.get_batch`."""
        with self._read() as tx:
            row = tx.one(
                f"SELECT {_BATCH_COLUMNS} FROM posting_batches WHERE batch_id = ?",
                (batch_id,),
            )
        return None if row is None else self._batch_from_row(row)

    def list_batches(
        self, *, kind: str | None = None, period: str | None = None
    ) -> list[PostingBatch]:
        """See :meth:`StateStore.list_batches`."""
        where, params = [], []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if period is not None:
            where.append("period = ?")
            params.append(period)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._read() as tx:
            rows = tx.all(
                f"SELECT {_BATCH_COLUMNS} FROM posting_batches{clause} ORDER BY batch_id",
                tuple(params),
            )
        return [self._batch_from_row(r) for r in rows]

    @staticmethod
    def _member(r: tuple[Any, ...]) -> BatchMember:
        return BatchMember(
            order_id=r[0],
            totals=OrderTotals(currency=r[1], fraction_digits=r[2], net=r[3], tax=r[4], gross=r[5]),
            entry=r[6],
        )

    def batch_members(self, batch_id: str) -> list[BatchMember]:
        """See :meth:`StateStore.batch_members`."""
        with self._read() as tx:
            rows = tx.all(
                f"SELECT {_MEMBER_COLUMNS} FROM batch_members WHERE batch_id = ? "
                "ORDER BY order_id, entry",
                (batch_id,),
            )
        return [self._member(r) for r in rows]

    def batch_of(self, order_id: str, *, kind: str, entry: str = "") -> str | None:
        """See :meth:`StateStore.batch_of`."""
        with self._read() as tx:
            row = tx.one(
                "SELECT batch_id FROM batch_members WHERE kind = ? AND order_id = ? AND entry = ?",
                (kind, order_id, entry),
            )
        return None if row is None else str(row[0])

    def entries_of(self, order_ids: Iterable[str], *, kind: str) -> list[tuple[str, BatchMember]]:
        """See :meth:`StateStore.entries_of`."""
        ids = sorted(set(order_ids))
        found: list[tuple[str, BatchMember]] = []
        with self._read() as tx:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows = tx.all(
                    f"SELECT batch_id, {_MEMBER_COLUMNS} FROM batch_members WHERE kind = ? "
                    f"AND order_id IN ({marks}) ORDER BY order_id, entry",
                    (kind, *chunk),
                )
                found += [(str(r[0]), self._member(r[1:])) for r in rows]
        return found

    # -- singleton-flow locks --------------------------------------------------------------------
    def try_lock(self, name: str, *, owner: str, ttl_seconds: float, now: datetime) -> bool:
        """See :meth:`StateStore.try_lock`."""
        check_seconds(ttl_seconds, "ttl_seconds")
        now = utc(now, "now")
        until = now + timedelta(seconds=ttl_seconds)
        # The row counts as changed when it was inserted or its update's condition held; no
        # RETURNING (on SQLite that buffers the row in a table of its own, on every take).
        with self._write_one() as tx:
            return tx.run(_TRY_LOCK, (name, owner, self.ts_in(until), self.ts_in(now))) == 1

    def unlock(self, name: str, *, owner: str) -> bool:
        """See :meth:`StateStore.unlock`."""
        with self._write_one() as tx:
            return tx.run("DELETE FROM flow_locks WHERE name = ? AND owner = ?", (name, owner)) == 1
