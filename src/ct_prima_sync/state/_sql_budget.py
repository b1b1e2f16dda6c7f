"""The shared request budget over SQL: two rows per budget, each step one statement.

A reservation and a departure (``_budget``) are each one upsert: the new ``tat`` is computed in
the statement from the row it locks (``max(tat, now) + 1 / rate``), a ``WHERE`` on the old
``tat`` refuses the step (no row returned), and the caller's wait follows from the row returned.
Nothing is held while the caller sleeps. A pause, rare, reads and writes both rows in one
transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from . import _budget
from ._records import utc
from ._sql_base import SqlBase

_ENSURE = "INSERT INTO request_budgets (name, tat) VALUES (?, NULL) ON CONFLICT (name) DO NOTHING"
_SELECT = "SELECT tat FROM request_budgets WHERE name = ?"
_SET = "UPDATE request_budgets SET tat = ? WHERE name = ?"

#: The suffix of the row that counts a budget's requests as they leave.
DEPARTURES = ":departures"


class SqlBudgetMixin(SqlBase):
    """``StateStore`` request budgets for SQL stores."""

    #: SQL for a stored time ``{}`` plus a number of seconds (a ``?`` parameter); SQLite's
    #: is a function each connection registers (:func:`ts_plus`).
    ts_plus_sql: str = "ts_plus({}, ?)"
    #: The row a budget step inserts (name, ``tat``). PostgreSQL's also lets the step's commit
    #: go without waiting for the write-ahead log to reach the disk: a budget row lost to a
    #: crash of the database costs at most a burst, and a step then costs no disk flush.
    #: (SQLite in WAL mode with ``synchronous = NORMAL`` flushes at checkpoints only.)
    budget_row_sql: str = "VALUES (?, ?)"

    def _step(
        self, name: str, now: datetime, rate: float, limit: datetime | None
    ) -> datetime | None:
        """One more request on the row ``name``: its new ``tat``, or None when the old one is
        past ``limit``. One statement."""
        interval = 1.0 / rate
        at = self.ts_in(now)
        later = self.ts_plus_sql.format(f"{self.greatest}(COALESCE(request_budgets.tat, ?), ?)")
        sql = (
            f"INSERT INTO request_budgets (name, tat) {self.budget_row_sql} "
            f"ON CONFLICT (name) DO UPDATE SET tat = {later}"
        )
        params: list[object] = [name, self.ts_in(_budget.next_tat(None, now, rate=rate))]
        params += [at, at, interval]
        if limit is not None:
            sql += " WHERE request_budgets.tat IS NULL OR request_budgets.tat <= ?"
            params.append(self.ts_in(limit))
        with self._read() as tx:  # one statement: autocommit, no BEGIN and COMMIT round trips
            row = tx.one(sql + " RETURNING tat", params)
        return None if row is None else self.ts_out(row[0])

    def reserve_request(
        self,
        name: str,
        *,
        rate: float,
        burst: int,
        now: datetime,
        headroom: float = 0,
        max_wait: float | None = None,
    ) -> float | None:
        """See :meth:`StateStore.reserve_request`."""
        _budget.check_budget(rate, burst, headroom)
        now = utc(now, "now")
        limit = _budget.reserve_limit(
            now, rate=rate, burst=burst, headroom=headroom, max_wait=max_wait
        )
        tat = self._step(name, now, rate, limit)
        if tat is None:
            return None
        return _budget.reserved_wait(tat, now, rate=rate, burst=burst, headroom=headroom)

    def depart_request(self, name: str, *, rate: float, burst: int, now: datetime) -> float:
        """See :meth:`StateStore.depart_request`."""
        _budget.check_budget(rate, burst)
        now = utc(now, "now")
        row = name + DEPARTURES
        limit = _budget.departure_limit(now, rate=rate, burst=burst)
        if self._step(row, now, rate, limit) is not None:
            return 0.0
        with self._read() as tx:
            found = tx.one(_SELECT, (row,))
        if found is None or found[0] is None:
            return 0.0  # the upsert refused an existing, set row: not reached
        return _budget.departure_wait(self.ts_out(found[0]), now, rate=rate, burst=burst)

    def pause_requests(
        self, name: str, *, seconds: float, rate: float, burst: int, now: datetime
    ) -> None:
        """See :meth:`StateStore.pause_requests`."""
        _budget.check_budget(rate, burst)
        now = utc(now, "now")
        with self._write() as tx:
            for row in (name, name + DEPARTURES):
                tx.run(_ENSURE, (row,))
                found = tx.one(_SELECT + self.for_update, (row,))
                tat = None if found is None or found[0] is None else self.ts_out(found[0])
                held = _budget.pause(tat, now, seconds=seconds, rate=rate, burst=burst)
                if held is not None and held != tat:
                    tx.run(_SET, (self.ts_in(held), row))


def ts_plus(stamp: str, seconds: float) -> str:
    """SQLite's ``ts_plus(stamp, seconds)``: a stored time (``SqliteStore.ts_in``) that many
    seconds later, stored the same way."""
    later = datetime.fromisoformat(stamp) + timedelta(seconds=seconds)
    return later.astimezone(UTC).isoformat(timespec="microseconds")
