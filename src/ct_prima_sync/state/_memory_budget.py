"""The shared request budget of :class:`MemoryStore` (one process: the same arithmetic as the
SQL stores, over a dict)."""

from __future__ import annotations

import threading
from datetime import datetime

from . import _budget
from ._records import utc


class MemoryBudgetMixin:
    """Request budgets by name, guarded by the store's lock."""

    _lock: threading.RLock

    def _open(self) -> None:
        raise NotImplementedError

    def _init_budget(self) -> None:
        self._budgets: dict[str, datetime] = {}

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
        with self._lock:
            self._open()
            wait, tat = _budget.reserve(
                self._budgets.get(name),
                now,
                rate=rate,
                burst=burst,
                headroom=headroom,
                max_wait=max_wait,
            )
            if wait is not None and tat is not None:
                self._budgets[name] = tat
            return wait

    def pause_requests(
        self, name: str, *, seconds: float, rate: float, burst: int, now: datetime
    ) -> None:
        """See :meth:`StateStore.pause_requests`."""
        _budget.check_budget(rate, burst)
        now = utc(now, "now")
        with self._lock:
            self._open()
            tat = _budget.pause(
                self._budgets.get(name), now, seconds=seconds, rate=rate, burst=burst
            )
            if tat is not None:
                self._budgets[name] = tat
