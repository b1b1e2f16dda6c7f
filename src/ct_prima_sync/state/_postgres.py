"""The PostgreSQL store: many workers on many machines share one backlog.

Needs the ``postgres`` extra (psycopg 3). Claims use ``FOR UPDATE SKIP LOCKED`` so concurrent
workers never wait for, or get, each other's orders; the order path's writes are guarded
``UPDATE ... RETURNING`` statements that lock their rows in id order first, and every other
ledger change locks its row (``SELECT ... FOR UPDATE``) for the read-decide-write; unique
constraints on order number and Prima reference are the last line against duplicates.
Connections are pooled: each operation borrows one, so a thread pool can share the store.
"""

# ruff: noqa: S608  (SQL is built from constant fragments and placeholders only;
# every value travels as a parameter)

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from ..errors import DuplicateRecordError, StateError
from ._claim import ClaimBranch
from ._schema import CREATE_VERSION_TABLE, MIGRATIONS, SCHEMA_VERSION
from ._sql_base import ORDER_COLUMNS, Row, Tx
from ._sql_budget import SqlBudgetMixin
from ._sql_dispatch import SqlDispatchMixin
from ._sql_ops import SqlOpsMixin
from ._sql_orders import CLAIM_SET, SqlOrdersMixin
from ._sql_tables import SqlTablesMixin
from ._write_backs import SqlWriteBackMixin

__all__ = ["PostgresStore"]

#: Key of the transaction-level advisory lock that serialises migrations ("ctprima" in ASCII).
MIGRATION_LOCK_KEY = 0x637470726961

_RETURNING = ", ".join(f"o.{c.strip()}" for c in ORDER_COLUMNS.split(","))
_CLAIM_SET = CLAIM_SET.replace("attempts + 1", "o.attempts + 1").replace("?", "%s")


class _PgTx:
    def __init__(self, cur: psycopg.Cursor[Row]) -> None:
        self._cur = cur

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self._cur.execute(sql.replace("?", "%s"), params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._cur.execute(sql.replace("?", "%s"), params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._cur.execute(sql.replace("?", "%s"), params).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql.replace("?", "%s"), rows)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except pg_errors.UniqueViolation as exc:
        name = exc.diag.constraint_name or "unique key"
        raise DuplicateRecordError(f"{name} is already taken") from None
    except psycopg.Error as exc:
        # Only the class and SQLSTATE: server messages can quote row values.
        raise StateError(
            f"PostgreSQL failed: {type(exc).__name__} (SQLSTATE {exc.sqlstate})"
        ) from None


class PostgresStore(
    SqlOrdersMixin,
    SqlWriteBackMixin,
    SqlTablesMixin,
    SqlDispatchMixin,
    SqlOpsMixin,
    SqlBudgetMixin,
):
    """A :class:`StateStore` in PostgreSQL (``open_store("postgresql://...")``).

    ``conninfo`` is a libpq URL or key/value string; the tables live in the connection's
    ``search_path`` (set ``options=-csearch_path=...`` in the URL to use a schema of your own).
    """

    for_update = " FOR UPDATE"
    greatest = "GREATEST"
    write_back_index = ""
    find_function = "strpos"
    detail_text = "detail::text"

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        # Idle connections, lent to one operation at a time: a thread pool of N threads holds at
        # most N, and threads that come and go do not leave connections behind.
        self._idle: list[psycopg.Connection[Row]] = []
        self._guard = threading.Lock()
        self._closed = False
        self._migrate()

    def __repr__(self) -> str:
        # The conninfo may hold a password: never shown.
        return f"PostgresStore(closed={self._closed})"

    @contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection[Row]]:
        with self._guard:
            if self._closed:
                raise StateError("the state store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            try:
                conn = psycopg.connect(self._conninfo, autocommit=True)
            except psycopg.OperationalError as exc:
                # libpq's text names host and port, never the password.
                raise StateError(f"cannot connect to PostgreSQL: {exc}") from None
        try:
            yield conn
        finally:
            with self._guard:
                keep = not (self._closed or conn.closed or conn.broken)
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @staticmethod
    def exists(conninfo: str) -> bool:
        """True when the database (and ``search_path``) already holds a store's tables."""
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        except psycopg.OperationalError as exc:
            raise StateError(f"cannot connect to PostgreSQL: {exc}") from None
        return bool(row and row[0])

    def _migrate(self) -> None:
        with self._borrow() as conn, _translated(), conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            cur.execute(CREATE_VERSION_TABLE["postgresql"])
            row = cur.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = (row[0] if row else None) or 0
            self.migrated_from = int(current)
            if current > SCHEMA_VERSION:
                raise StateError(
                    f"the database schema is version {current}, newer than this library "
                    f"supports ({SCHEMA_VERSION}): upgrade ct-prima-sync"
                )
            for version, statements in MIGRATIONS["postgresql"]:
                if version > current:
                    for statement in statements:
                        cur.execute(statement)
                    cur.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))

    #: The schema version the database had when this store opened it (0: a new database);
    #: opening migrated it to :meth:`schema_version`.
    migrated_from: int = 0

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._read() as tx:
            row = tx.one("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        """Close the idle connections; ones in use close when their operation ends. Idempotent."""
        with self._guard:
            self._closed = True
            conns, self._idle = self._idle, []
        for conn in conns:
            conn.close()

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        with self._borrow() as conn, _translated(), conn.cursor() as cur:
            yield _PgTx(cur)

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        with self._borrow() as conn, _translated(), conn.transaction(), conn.cursor() as cur:
            yield _PgTx(cur)

    def orders_in(self, marks: str) -> str:
        """The rows of a guarded ``UPDATE``, locked in id order before it changes them."""
        return (
            f"order_id IN (SELECT order_id FROM orders WHERE order_id IN ({marks}) "
            "ORDER BY order_id FOR UPDATE)"
        )

    def claim_statement(self, branch: ClaimBranch) -> str:
        """The statement that claims ``branch``'s rows: the rows are picked from the branch's
        index in order and locked, skipping rows another worker's claim holds."""
        return (
            f"WITH picked AS (SELECT order_id FROM orders WHERE {branch.where} "
            f"ORDER BY {branch.order_by_pg} LIMIT ? FOR UPDATE SKIP LOCKED) "
            f"UPDATE orders AS o SET {_CLAIM_SET} FROM picked "
            f"WHERE o.order_id = picked.order_id RETURNING {_RETURNING}"
        ).replace("?", "%s")

    def claim_params(
        self, branch: ClaimBranch, worker_id: str, until: Any, now: Any, limit: int
    ) -> tuple[Any, ...]:
        """The parameters of :meth:`claim_statement`."""
        return (*[now] * branch.params, limit, worker_id, until, now)

    def ts_in(self, value: datetime | None) -> Any:
        return None if value is None else value.astimezone(UTC)

    def ts_out(self, value: Any) -> datetime:
        stamp: datetime = value
        return stamp.astimezone(UTC)

    def date_in(self, value: date | None) -> Any:
        return value

    def is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, pg_errors.UniqueViolation)

    def json_in(self, text: str) -> Any:
        return Jsonb(json.loads(text))

    def json_out(self, value: Any) -> dict[str, Any]:
        loaded: dict[str, Any] = value
        return loaded
