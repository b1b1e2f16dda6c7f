"""The shared request budget over SQL: one row per budget, read, written back.

The row is read without a transaction and written back by one statement of its own that
changes it only if it still holds what was read (compare and set): two statements, no ``BEGIN``
and ``COMMIT``. Should another worker have changed it in between (or the row be new), the change
goes the locked way: the row is locked for the few microseconds of the arithmetic (``BEGIN
IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL). The caller sleeps after the
write, never in it.

Where one writer at a time runs (SQLite), the store remembers the value it last wrote to each
budget's row and tries the compare and set against that first, without reading: one statement.
The compare and set is the guard, whatever was remembered: it changes the row only if the row
still holds the remembered value, exactly as if it had just been read. If another process
changed the row since, nothing is written, the entry is forgotten and the row is read as above.
A try that would write nothing (a refused reservation) is never decided on a remembered value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import _budget
from ._records import utc
from ._sql_base import SqlBase, Tx

_ENSURE = "INSERT INTO request_budgets (name, tat) VALUES (?, NULL) ON CONFLICT (name) DO NOTHING"
_SELECT = "SELECT tat FROM request_budgets WHERE name = ?"
_SET = "UPDATE request_budgets SET tat = ? WHERE name = ?"
_SET_IF = "UPDATE request_budgets SET tat = ? WHERE name = ? AND tat = ?"


class SqlBudgetMixin(SqlBase):
    """``StateStore`` request budgets for SQL stores."""

    #: budget name -> the ``tat`` this store last wrote there, as stored (``single_writer``).
    _written_tats: dict[str, Any] | None = None

    def _with_budget(self, name: str, change: Callable[[datetime | None], datetime | None]) -> None:
        """Put ``change(tat)`` in the budget's row, ``change`` called once per try: first
        against the value this store last wrote there (``single_writer``), then against the
        row as read, each written only if the row still holds that; else locked."""
        if self.single_writer:
            if self._written_tats is None:
                self._written_tats = {}
            remembered = self._written_tats.get(name)
            if remembered is not None:
                wanted = change(self.ts_out(remembered))
                if wanted is not None and wanted != self.ts_out(remembered):
                    stored = self.ts_in(wanted)
                    with self._write_one() as tx:
                        if tx.run(_SET_IF, (stored, name, remembered)) == 1:
                            self._written_tats[name] = stored
                            return
                    self._written_tats.pop(name, None)  # changed elsewhere: read it
        with self._read() as tx:
            row = tx.one(_SELECT, (name,))
        if row is not None and row[0] is not None:
            stored = row[0]
            read = self.ts_out(stored)
            wanted = change(read)
            if wanted is None or wanted == read:
                return
            written = self.ts_in(wanted)
            with self._write_one() as tx:
                if tx.run(_SET_IF, (written, name, stored)) == 1:
                    self._remember_tat(name, written)
                    return
        with self._write() as tx:
            tat = self._locked_tat(tx, name)
            updated = change(tat)
            if updated is not None and updated != tat:
                written = self.ts_in(updated)
                tx.run(_SET, (written, name))
                self._remember_tat(name, written)

    def _remember_tat(self, name: str, stored: Any) -> None:
        if self._written_tats is not None:
            self._written_tats[name] = stored

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
