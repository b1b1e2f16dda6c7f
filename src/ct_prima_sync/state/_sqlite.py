"""The SQLite store: the embedded default. One file, WAL journal, safe across processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import DuplicateRecordError, StateError
from ._schema import CREATE_VERSION_TABLE, MIGRATIONS, SCHEMA_VERSION
from ._sql_base import Row
from ._sql_budget import SqlBudgetMixin
from ._sql_dispatch import SqlDispatchMixin
from ._sql_ops import SqlOpsMixin
from ._sql_orders import SqlOrdersMixin
from ._sql_tables import SqlTablesMixin
from ._write_backs import SqlWriteBackMixin

__all__ = ["SqliteStore"]

#: Seconds a writer waits for another process's write transaction before giving up.
DEFAULT_BUSY_TIMEOUT = 30.0
#: Times converted to and from their stored text, kept (each way) until this many are: the
#: rows of one claim, begin or recording share their moments (``now``, the lease's end, when
#: the order came in), and ``isoformat`` and ``fromisoformat`` cost a few microseconds a
#: call. Both are immutable and the conversion depends only on the instant: what is kept is
#: what would be computed.
_TIMES = 1024


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)


class _SqliteAlone(_SqliteTx):
    """The cursor of a write that is one statement in autocommit (``SqliteStore._write_one``):
    each statement is stepped to its end, which commits it."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self._conn.execute(sql, params).fetchall()
        return rows[0] if rows else None


def _read_only(path: str, exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith("SQLITE_READONLY"):
        return True
    if code.startswith("SQLITE_CANTOPEN") and path != ":memory:":
        target = Path(path)
        folder = target.parent
        if target.exists() and not os.access(target, os.W_OK):
            return True
        return folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK)
    return False


def _failure(path: str, exc: sqlite3.Error) -> str:
    """What went wrong with the state file, and what to do about it."""
    if _read_only(path, exc):
        return (
            f"the state file {path} is read-only ({exc}): the sync must be able to write it "
            "and its directory (SQLite keeps -wal and -shm files next to it); fix the "
            "permissions, or point [state] url at a writable copy"
        )
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith("SQLITE_CANTOPEN") and not Path(path).parent.is_dir():
        return f"cannot open the state file {path}: its directory does not exist"
    if code.startswith("SQLITE_NOTADB") or code.startswith("SQLITE_CORRUPT"):
        return (
            f"the state file {path} is damaged or not an SQLite database ({exc}): restore it "
            "from a backup (see docs/state.md)"
        )
    # SQLite messages name tables and constraints, never row values.
    return f"SQLite failed on the state file {path}: {exc}"


def _translation(path: str, exc: BaseException) -> Exception | None:
    """The library's error for an ``sqlite3`` one (None for any other error)."""
    if isinstance(exc, sqlite3.IntegrityError):
        if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
            return DuplicateRecordError("a unique key is already taken")
        return StateError(f"SQLite refused the write: {type(exc).__name__}")
    if isinstance(exc, sqlite3.Error):
        return StateError(_failure(path, exc))
    return None


@contextmanager
def _translated(path: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        translated = _translation(path, exc)
        assert translated is not None
        raise translated from None


class _Unit:
    """One unit of work on the store's connection (``SqliteStore._read``, ``_write``,
    ``_write_one``): the connection's lock held throughout, ``sqlite3`` errors translated, and
    for ``_write`` a transaction begun (``BEGIN IMMEDIATE``), committed on success and rolled
    back on any error. A class of its own rather than a generator's context manager: it is
    entered several times per order, and two nested generator ones cost ten times as much."""

    __slots__ = ("_begin", "_cursor", "_store")

    def __init__(self, store: SqliteStore, cursor: type[_SqliteTx], *, begin: bool) -> None:
        self._store = store
        self._cursor = cursor
        self._begin = begin

    def __enter__(self) -> _SqliteTx:
        store = self._store
        store._lock.acquire()
        try:
            if store._closed:
                raise StateError("the state store is closed")
            if self._begin:
                store._conn.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            store._lock.release()
            translated = _translation(store.path, exc)
            if translated is None:
                raise
            raise translated from None
        return self._cursor(store._conn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store = self._store
        try:
            if self._begin:
                store._conn.execute("ROLLBACK" if exc is not None else "COMMIT")
        except BaseException as failed:
            translated = _translation(store.path, failed)
            if translated is None:
                raise
            raise translated from None
        finally:
            store._lock.release()
        if exc is not None:
            translated = _translation(store.path, exc)
            if translated is not None:
                raise translated from None


def _enable_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch a (possibly brand-new) file to WAL. The switch needs the file to itself and SQLite
    answers "database is locked" at once, without its busy handler, while another connection
    opening the same new file holds it: try again for up to ``busy_timeout`` seconds."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


class SqliteStore(
    SqlOrdersMixin,
    SqlWriteBackMixin,
    SqlTablesMixin,
    SqlDispatchMixin,
    SqlOpsMixin,
    SqlBudgetMixin,
):
    """A :class:`StateStore` in one SQLite file (``open_store("sqlite:///sync.db")``).

    Several processes may open the same file: writes are serialised by ``BEGIN IMMEDIATE`` and
    wait up to ``busy_timeout`` seconds for each other. Inside a process the store holds one
    connection behind a lock, so a thread pool can share it. Deleted and overwritten content is
    zeroed (``secure_delete``), so a purge of personal data leaves nothing in the file once
    :meth:`compact` has emptied the write-ahead log.
    """

    #: ``BEGIN IMMEDIATE`` takes the database's one write lock (see ``SqlBase.single_writer``).
    single_writer = True

    def __init__(self, path: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
        self._texts: dict[datetime, str] = {}
        self._moments: dict[str, datetime] = {}
        self._lock = threading.RLock()
        self._closed = False
        with _translated(path):
            self._conn = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                _enable_wal(self._conn, busy_timeout)
                self._conn.execute("PRAGMA synchronous = NORMAL")
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._conn.execute("PRAGMA secure_delete = ON")
                self._migrate()
            except BaseException:
                self._conn.close()
                raise

    def __repr__(self) -> str:
        return f"SqliteStore(path={self.path!r}, closed={self._closed})"

    def _migrate(self) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(CREATE_VERSION_TABLE["sqlite"])
            current = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            self.migrated_from = int(current)
            if current > SCHEMA_VERSION:
                raise StateError(
                    f"the database schema is version {current}, newer than this library "
                    f"supports ({SCHEMA_VERSION}): upgrade ct-prima-sync"
                )
            for version, statements in MIGRATIONS["sqlite"]:
                if version > current:
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    #: The schema version the database had when this store opened it (0: a new database);
    #: opening migrated it to :meth:`schema_version`.
    migrated_from: int = 0

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._read() as tx:
            row = tx.one("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    def compact(self) -> None:
        """Copy every change into the database file and empty the write-ahead log, so that
        purged content survives in neither (another process still reading the old content keeps
        the log until it is done: run this again later)."""
        with self._read() as tx:
            tx.one("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the connection. Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def _read(self) -> _Unit:
        return _Unit(self, _SqliteTx, begin=False)

    def _write(self) -> _Unit:
        return _Unit(self, _SqliteTx, begin=True)

    def _write_one(self) -> _Unit:
        """One write statement in autocommit: SQLite runs it as its own transaction, taking
        the write lock as it starts (waiting for it as ``BEGIN IMMEDIATE`` would, through the
        busy timeout) and committing as it ends, all or nothing; no ``BEGIN IMMEDIATE`` and
        ``COMMIT`` around it. Inside a transaction already open (the connection's lock is
        re-entrant) it joins that one."""
        return _Unit(self, _SqliteAlone, begin=False)

    def ts_in(self, value: datetime | None) -> Any:
        if value is None:
            return None
        # Equal datetimes are one instant, whatever their zone: one text (see _TIMES).
        text = self._texts.get(value)
        if text is None:
            if len(self._texts) >= _TIMES:
                self._texts.clear()
            text = self._texts[value] = value.astimezone(UTC).isoformat(timespec="microseconds")
        return text

    def ts_out(self, value: Any) -> datetime:
        moment = self._moments.get(value)
        if moment is None:
            if len(self._moments) >= _TIMES:
                self._moments.clear()
            moment = self._moments[value] = datetime.fromisoformat(value)
        return moment

    def is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)

    def json_in(self, text: str) -> Any:
        return text

    def json_out(self, value: Any) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(value)
        return loaded
