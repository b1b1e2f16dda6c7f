"""The shared request budget over SQL: one row per budget, read, written back.

The row is read without a transaction and written back by one statement of its own that
changes it only if it still holds what was read (compare and set): two statements, no ``BEGIN``
and ``COMMIT``. Should another worker have changed it in between (or the row be new), the change
goes the locked way: the row is locked for the few microseconds of the arithmetic (``BEGIN
IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL). The caller sleeps after the
write, never in it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import _budget
from ._records import utc
from ._sql_base import SqlBase, Tx

_ENSURE = "INSERT INTO request_budgets (name, tat) VALUES (?, NULL) ON CONFLICT (name) DO NOTHING"
_SELECT = "SELECT tat FROM request_budgets WHERE name = ?"
_SET = "UPDATE request_budgets SET tat = ? WHERE name = ?"
_SET_IF = "UPDATE request_budgets SET tat = ? WHERE name = ? AND tat = ?"


class SqlBudgetMixin(SqlBase):
    """``StateStore`` request budgets for SQL stores."""

    def _with_budget(self, name: str, change: Callable[[datetime | None], datetime | None]) -> None:
        """Put ``change(tat)`` in the budget's row, ``change`` called once per try: first
        against the row as read, written only if it still holds that; else locked."""
        with self._read() as tx:
            row = tx.one(_SELECT, (name,))
        if row is not None and row[0] is not None:
            stored = row[0]
            read = self.ts_out(stored)
            wanted = change(read)
            if wanted is None or wanted == read:
                return
            with self._write_one() as tx:
                if tx.run(_SET_IF, (self.ts_in(wanted), name, stored)) == 1:
                    return
        with self._write() as tx:
            tat = self._locked_tat(tx, name)
            updated = change(tat)
            if updated is not None and updated != tat:
                tx.run(_SET, (self.ts_in(updated), name))

    def _locked_tat(self, tx: Tx, name: str) -> datetime | None:
        # The row is made once, by the budget's first request: later ones lock it straight away.
        row = tx.one(_SELECT + self.for_update, (name,))
        if row is None:
            tx.run(_ENSURE, (name,))
            row = tx.one(_SELECT + self.for_update, (name,))
        return None if row is None or row[0] is None else self.ts_out(row[0])

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
        waited: list[float | None] = []

        def change(tat: datetime | None) -> datetime | None:
            wait, new_tat = _budget.reserve(
                tat, now, rate=rate, burst=burst, headroom=headroom, max_wait=max_wait
            )
            waited.append(wait)
            return new_tat

        self._with_budget(name, change)
        return waited[-1]  # the try that was written (or found nothing to write)

    def pause_requests(
        self, name: str, *, seconds: float, rate: float, burst: int, now: datetime
    ) -> None:
        """See :meth:`StateStore.pause_requests`."""
        _budget.check_budget(rate, burst)
        now = utc(now, "now")
        self._with_budget(
            name, lambda tat: _budget.pause(tat, now, seconds=seconds, rate=rate, burst=burst)
        )
