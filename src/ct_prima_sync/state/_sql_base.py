"""Plumbing shared by the SQLite and PostgreSQL stores: transactions, rows and value adapters.

SQL is written once with ``?`` placeholders; the PostgreSQL store rewrites them to ``%s``. The
dialects differ only in how times and JSON are stored, in row locking (``FOR UPDATE``) and in
how a transaction starts, which each store supplies.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from ._records import (
    ExceptionRecord,
    OrderRecord,
    OrderStatus,
    OrderTotals,
    Owner,
)

Row = tuple[Any, ...]

#: An order's stored status as its enum member (a dict lookup; ``OrderStatus(value)`` is not).
_STATUSES: dict[str, OrderStatus] = {status.value: status for status in OrderStatus}

ORDER_COLUMNS = (
    "order_id, order_number, status, attempts, lease_owner, lease_expires_at, next_attempt_at, "
    "prima_reference, submission_started_at, last_error, currency, fraction_digits, net_minor, "
    "tax_minor, gross_minor, ct_version, created_at, updated_at"
)

EXCEPTION_COLUMNS = (
    "exception_id, kind, owner, order_id, detail, first_seen, last_seen, occurrences, transient, "
    "next_retry_at, resolved_at, resolution_note, resolved_by, subject"
)


class Tx(Protocol):
    """A cursor inside one transaction (or one autocommit read)."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run ``sql`` and return its first row."""
        ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run ``sql`` and return every row."""
        ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run ``sql`` and return the number of rows it changed."""
        ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` once per parameter row (executemany)."""
        ...


class SqlBase(abc.ABC):
    """What the SQL mixins need from a concrete store."""

    #: appended to a SELECT that must lock the rows it reads until the transaction ends
    for_update: str = ""
    #: the scalar function that returns the larger of its arguments
    greatest: str = "MAX"
    #: whether the database runs ``INSERT``/``UPDATE``/``DELETE`` inside ``WITH`` (PostgreSQL
    #: does, SQLite does not): the order path then puts a step's statements in one
    modifying_with: bool = False
    #: whether one write transaction at a time runs against the database, and what it reads
    #: stays as read until it commits (SQLite: ``BEGIN IMMEDIATE`` takes the database's one
    #: write lock). A write may then look before it writes, in the same transaction, and skip
    #: a statement that would change nothing (``_sql_orders``: the follow-ups of a recording).
    single_writer: bool = False

    def orders_in(self, marks: str) -> str:
        """The condition that picks the ``orders`` rows whose ids are the placeholders
        ``marks`` (``?, ?, ...``) for a guarded ``UPDATE``; PostgreSQL also locks them in id
        order first, so that two workers never wait on each other in a circle."""
        return "order_id = ?" if marks == "?" else f"order_id IN ({marks})"

    def guarded_update(
        self,
        tx: Tx,
        order_ids: Sequence[str],
        *,
        sets: str,
        set_params: Sequence[Any],
        where: str,
        where_params: Sequence[Any],
        returning: str = ORDER_COLUMNS,
        returning_params: Sequence[Any] = (),
    ) -> list[Row]:
        """``UPDATE orders SET sets WHERE <the rows of order_ids> AND where RETURNING
        returning``, in one statement: the rows ``where`` refuses are left alone and missing
        from the result (the caller reads those again to say why). ``order_ids`` must be
        non-empty and few enough for one statement's parameters."""
        marks = ", ".join("?" * len(order_ids))
        sql = (
            f"UPDATE orders SET {sets} WHERE {self.orders_in(marks)} AND ({where}) "  # noqa: S608
            f"RETURNING {returning}"
        )
        return tx.all(sql, (*set_params, *order_ids, *where_params, *returning_params))

    @abc.abstractmethod
    def _write(self) -> AbstractContextManager[Tx]:
        """A write transaction: serialised with other writers, committed on success."""

    @abc.abstractmethod
    def _read(self) -> AbstractContextManager[Tx]:
        """A read-only unit of work."""

    def _write_one(self) -> AbstractContextManager[Tx]:
        """A write of ONE statement, which is its own transaction: committed when it returns.
        Only for a statement that must stand alone anyway (nothing else to run with it, no
        read before it to decide). The SQLite and PostgreSQL stores run it in autocommit, without
        ``BEGIN`` and ``COMMIT`` (on PostgreSQL two round trips fewer, on SQLite two statements);
        any other store as :meth:`_write`."""
        return self._write()

    @abc.abstractmethod
    def ts_in(self, value: datetime | None) -> Any:
        """A UTC datetime as the database stores it."""

    @abc.abstractmethod
    def ts_out(self, value: Any) -> datetime:
        """A stored time as a UTC datetime."""

    @abc.abstractmethod
    def json_in(self, text: str) -> Any:
        """Canonical JSON text as the database stores it."""

    @abc.abstractmethod
    def json_out(self, value: Any) -> dict[str, Any]:
        """A stored JSON value as a dict."""

    @abc.abstractmethod
    def is_unique_violation(self, error: Exception) -> bool:
        """Whether ``error``, raised by the driver inside a transaction, is a unique constraint
        refusing a row (the transaction is then to be rolled back)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ts(self, value: Any) -> datetime | None:
        return None if value is None else self.ts_out(value)

    def order_from_row(self, row: Row) -> OrderRecord:
        """An ``orders`` row (``ORDER_COLUMNS``, then anything else a caller selected) as a
        record. On every claim, begin and recording of every order: the status is looked up,
        not called (an enum's call is several Python frames), and the times converted inline."""
        ts = self.ts_out
        lease, due, started = row[5], row[6], row[8]
        return OrderRecord(
            order_id=row[0],
            order_number=row[1],
            status=_STATUSES[row[2]],
            attempts=row[3],
            lease_owner=row[4],
            lease_expires_at=None if lease is None else ts(lease),
            next_attempt_at=None if due is None else ts(due),
            prima_reference=row[7],
            submission_started_at=None if started is None else ts(started),
            last_error=row[9],
            totals=OrderTotals(
                currency=row[10],
                fraction_digits=row[11],
                net=row[12],
                tax=row[13],
                gross=row[14],
            ),
            ct_version=row[15],
            created_at=ts(row[16]),
            updated_at=ts(row[17]),
        )

    def order_params(self, r: OrderRecord) -> tuple[Any, ...]:
        """A record as parameters in ``ORDER_COLUMNS`` order."""
        return (
            r.order_id,
            r.order_number,
            r.status.value,
            r.attempts,
            r.lease_owner,
            self.ts_in(r.lease_expires_at),
            self.ts_in(r.next_attempt_at),
            r.prima_reference,
            self.ts_in(r.submission_started_at),
            r.last_error,
            r.totals.currency,
            r.totals.fraction_digits,
            r.totals.net,
            r.totals.tax,
            r.totals.gross,
            r.ct_version,
            self.ts_in(r.created_at),
            self.ts_in(r.updated_at),
        )

    def exception_from_row(self, row: Row) -> ExceptionRecord:
        """An ``exceptions`` row (``EXCEPTION_COLUMNS``) as a record."""
        return ExceptionRecord(
            exception_id=int(row[0]),
            kind=row[1],
            owner=Owner(row[2]),
            order_id=row[3] or None,
            detail=self.json_out(row[4]),
            first_seen=self.ts_out(row[5]),
            last_seen=self.ts_out(row[6]),
            occurrences=row[7],
            transient=bool(row[8]),
            next_retry_at=self._ts(row[9]),
            resolved_at=self._ts(row[10]),
            resolution_note=row[11],
            resolved_by=row[12],
            subject=row[13] or None,
        )


def ids_in(ids: Sequence[str]) -> str:
    """``order_id = ?`` for one id, ``order_id IN (?, ...)`` for more (one text per count)."""
    return "order_id = ?" if len(ids) == 1 else f"order_id IN ({', '.join('?' * len(ids))})"


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
