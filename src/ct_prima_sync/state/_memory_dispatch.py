"""Despatch progress for the memory store (rules in ``_dispatch_records``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from ..errors import StateError
from ._common import check_limit
from ._dispatch_records import (
    DispatchRecord,
    DispatchState,
    check_new_dispatch_record,
    due_order,
    normalised,
    saved_dispatch_record,
)
from ._records import OrderRecord, utc


class MemoryDispatchMixin:
    """The despatch tables of :class:`MemoryStore`, guarded by the store's lock."""

    _lock: threading.RLock
    _orders: dict[str, OrderRecord]

    def _open(self) -> None:
        raise NotImplementedError

    def _init_dispatch(self) -> None:
        self._dispatch: dict[str, DispatchRecord] = {}

    def untracked_orders(self, *, limit: int) -> list[OrderRecord]:
        check_limit(limit)
        with self._lock:
            self._open()
            waiting = [
                r
                for r in self._orders.values()
                if r.prima_reference is not None and r.order_id not in self._dispatch
            ]
            return sorted(waiting, key=lambda r: (r.created_at, r.order_id))[:limit]

    def follow_for_dispatch(self, records: Sequence[DispatchRecord], *, now: datetime) -> int:
        utc(now, "now")
        with self._lock:
            self._open()
            fresh: dict[str, DispatchRecord] = {}
            for record in records:
                if record.order_id not in self._orders:
                    raise StateError(f"unknown order {record.order_id}")
                check_new_dispatch_record(record)
                if record.order_id not in self._dispatch:
                    fresh.setdefault(record.order_id, normalised(attrs.evolve(record, revision=0)))
            self._dispatch.update(fresh)
            return len(fresh)

    def get_dispatch(self, order_id: str) -> DispatchRecord | None:
        with self._lock:
            self._open()
            return self._dispatch.get(order_id)

    def get_dispatches(self, order_ids: Iterable[str]) -> dict[str, DispatchRecord]:
        with self._lock:
            self._open()
            return {i: self._dispatch[i] for i in order_ids if i in self._dispatch}

    def due_dispatch(
        self,
        *,
        now: datetime,
        limit: int,
        after: tuple[datetime, datetime, str] | None = None,
    ) -> list[DispatchRecord]:
        check_limit(limit)
        now = utc(now, "now")
        if after is not None:
            after = (utc(after[0], "after"), utc(after[1], "after"), after[2])
        with self._lock:
            self._open()
            due = [
                r
                for r in self._dispatch.values()
                if r.next_check_at is not None
                and r.next_check_at <= now
                and (after is None or due_order(r) > after)
            ]
            return sorted(due, key=due_order)[:limit]

    def count_due_dispatch(self, *, now: datetime) -> int:
        now = utc(now, "now")
        with self._lock:
            self._open()
            return sum(
                r.next_check_at is not None and r.next_check_at <= now
                for r in self._dispatch.values()
            )

    def save_dispatch(self, record: DispatchRecord, *, now: datetime) -> DispatchRecord:
        with self._lock:
            self._open()
            saved = saved_dispatch_record(self._dispatch.get(record.order_id), record, now=now)
            self._dispatch[record.order_id] = saved
            return saved

    def list_dispatch(
        self, state: DispatchState | None = None, *, limit: int | None = None
    ) -> list[DispatchRecord]:
        check_limit(limit)
        with self._lock:
            self._open()
            chosen = [
                r for _, r in sorted(self._dispatch.items()) if state is None or r.state is state
            ]
            return chosen if limit is None else chosen[:limit]

    def count_dispatch_by_state(self) -> dict[DispatchState, int]:
        with self._lock:
            self._open()
            counts = dict.fromkeys(DispatchState, 0)
            for record in self._dispatch.values():
                counts[record.state] += 1
            return counts

    def make_dispatch_due(self, order_ids: Sequence[str], *, now: datetime) -> int:
        now = utc(now, "now")
        moved = 0
        with self._lock:
            self._open()
            for order_id in dict.fromkeys(order_ids):
                record = self._dispatch.get(order_id)
                if record is None or record.next_check_at is None or record.next_check_at <= now:
                    continue
                self._dispatch[order_id] = attrs.evolve(record, next_check_at=now)
                moved += 1
            return moved
