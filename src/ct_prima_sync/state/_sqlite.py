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


@contextmanager
def _translated(path: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
            raise DuplicateRecordError("a unique key is already taken") from None
        raise StateError(f"SQLite refused the write: {type(exc).__name__}") from None
    except sqlite3.Error as exc:
        raise StateError(_failure(path, exc)) from None


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

    @contextmanager
    def _read(self) -> Iterator[_SqliteTx]:
        with self._lock, _translated(self.path):
            if self._closed:
                raise StateError("the state store is closed")
            yield _SqliteTx(self._conn)

    @contextmanager
    def _write(self) -> Iterator[_SqliteTx]:
        with self._lock, _translated(self.path):
            if self._closed:
                raise StateError("the state store is closed")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _write_one(self) -> Iterator[_SqliteTx]:
        """One write statement in autocommit: SQLite runs it as its own transaction, taking
        the write lock as it starts (waiting for it as ``BEGIN IMMEDIATE`` would, through the
        busy timeout) and committing as it ends, all or nothing; no ``BEGIN IMMEDIATE`` and
        ``COMMIT`` around it. Inside a transaction already open (the connection's lock is
        re-entrant) it joins that one."""
        with self._lock, _translated(self.path):
            if self._closed:
                raise StateError("the state store is closed")
            yield _SqliteAlone(self._conn)

    def ts_in(self, value: datetime | None) -> Any:
        return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")

    def ts_out(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)

    def is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)

    def json_in(self, text: str) -> Any:
        return text

    def json_out(self, value: Any) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(value)
        return loaded
