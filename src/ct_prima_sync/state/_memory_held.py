"""Held orders for the memory store (see ``_held_records``)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from ._common import check_limit, merge_lines
from ._held_records import HeldOrder, HeldRecord, HoldReason
from ._records import OrderLine, utc


class MemoryHeldMixin:
    """The held-orders table of :class:`MemoryStore`, guarded by the store's lock."""

    _lock: threading.RLock
    _orders: dict[str, Any]

    def _open(self) -> None:
        raise NotImplementedError

    def _init_held(self) -> None:
        self._held: dict[str, HeldRecord] = {}

    def hold_orders(
        self, orders: Sequence[HeldOrder], *, now: datetime, checked: bool = False
    ) -> int:
        now = utc(now, "now")
        lines = [_lines(o) for o in orders]  # bad lines refuse the call up front
        added = 0
        with self._lock:
            self._open()
            for order, merged in zip(orders, lines, strict=True):
                if order.order_id in self._orders:
                    continue
                held = self._held.get(order.order_id)
                if held is None:
                    added += 1
                    self._held[order.order_id] = HeldRecord(
                        order_id=order.order_id,
                        order_number=order.order_number,
                        ct_version=order.ct_version,
                        reason=HoldReason(order.reason),
                        lines=merged,
                        held_since=now,
                        checked_at=now,
                    )
                    continue
                if checked:
                    held = attrs.evolve(held, checked_at=now)
                if held.ct_version >= order.ct_version:
                    self._held[order.order_id] = held
                else:
                    self._held[order.order_id] = attrs.evolve(
                        held,
                        order_number=order.order_number,
                        ct_version=order.ct_version,
                        reason=HoldReason(order.reason),
                        lines=merged,
                    )
        return added

    def release_held(self, order_ids: Collection[str]) -> int:
        with self._lock:
            self._open()
            return self._drop_held(order_ids)

    def _drop_held(self, order_ids: Iterable[str]) -> int:
        return sum(self._held.pop(order_id, None) is not None for order_id in set(order_ids))

    def held_orders(
        self, *, checked_before: datetime | None = None, limit: int | None = None
    ) -> list[HeldRecord]:
        check_limit(limit)
        before = None if checked_before is None else utc(checked_before, "checked_before")
        with self._lock:
            self._open()
            found = sorted(
                (h for h in self._held.values() if before is None or h.checked_at < before),
                key=lambda h: (h.checked_at, h.order_id),
            )
        return found[:limit]

    def _held_pending(self) -> Iterable[OrderLine]:
        """Every held line (the caller holds the lock)."""
        for held in self._held.values():
            yield from held.lines


def _lines(order: HeldOrder) -> tuple[OrderLine, ...]:
    return tuple(
        OrderLine(sku=sku, depot=depot, quantity=units)
        for (sku, depot), units in sorted(merge_lines(order.lines).items())
    )
