"""The shared request budget over SQL: one row per budget, read locked, written back.

The row is locked for the few microseconds of the arithmetic (``BEGIN IMMEDIATE`` on SQLite,
``SELECT ... FOR UPDATE`` on PostgreSQL); the caller sleeps after the transaction, never in it.
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


class SqlBudgetMixin(SqlBase):
    """``StateStore`` request budgets for SQL stores."""

    def _with_budget(self, name: str, change: Callable[[datetime | None], datetime | None]) -> None:
        with self._write() as tx:
            tat = self._locked_tat(tx, name)
            updated = change(tat)
            if updated is not None and updated != tat:
                tx.run(_SET, (self.ts_in(updated), name))

    def _locked_tat(self, tx: Tx, name: str) -> datetime | None:
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
        return waited[0]

    def pause_requests(
        self, name: str, *, seconds: float, rate: float, burst: int, now: datetime
    ) -> None:
        """See :meth:`StateStore.pause_requests`."""
        _budget.check_budget(rate, burst)
        now = utc(now, "now")
        self._with_budget(
            name, lambda tat: _budget.pause(tat, now, seconds=seconds, rate=rate, burst=burst)
        )
