"""The leases of one claim batch, kept alive while the batch is worked.

A claim leases a whole batch with one expiry, and its last orders start long after its first
when Prima is slow. Each time an order of the batch starts, the orders still waiting whose lease
is half gone are renewed, so none expires before its turn comes. An order whose lease was lost
all the same (taken over after it expired) is left to its new worker.

A batch also knows which of its orders it still holds: claimed and not yet settled (an outcome
reached). While its requests wait for the request budget the next batch is claimed, and that
claim may hand this worker back an order of its own whose lease ran out meanwhile (a lease names
the worker, nothing more, so the claim renews it and the batch's writes still hold): the next
batch leaves such an order to the batch that holds it (:meth:`BatchLeases.not_held`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from ..errors import LeaseLostError
from ..state import OrderRecord, StateStore
from ._clock import Clock
from ._timing import Timing

__all__ = ["BatchLeases"]

_log = logging.getLogger("ct_prima_sync.engine.orders")

#: Kept off the moment the first waiting lease is half gone, so that rounding never skips one.
_MARGIN = timedelta(milliseconds=1)


class BatchLeases:
    """The claimed orders of one batch not started yet, and those not settled yet; shared by the
    engine's worker threads."""

    def __init__(
        self,
        store: StateStore,
        claimed: Sequence[OrderRecord],
        *,
        worker_id: str,
        timing: Timing,
        clock: Clock,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        self._timing = timing
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting = {record.order_id: record for record in claimed}
        self._unsettled = set(self._waiting)
        # Before this moment no waiting lease needs renewing (None: look at each): a batch
        # shares one expiry, so most starts need not look through the batch.
        self._quiet_until = self._first_due(self._waiting.values())

    def not_held(self, claimed: Sequence[OrderRecord]) -> list[OrderRecord]:
        """The records of ``claimed`` (the next batch) whose order this batch does not hold
        (claimed and not :meth:`settled` yet)."""
        with self._lock:
            held = [r for r in claimed if r.order_id in self._unsettled]
        if not held:
            return list(claimed)
        _log.info(
            "claimed again orders whose lease ran out while their request waited; they stay "
            "with the batch that holds them",
            extra={"order_ids": [r.order_id for r in held]},
        )
        ids = {r.order_id for r in held}
        return [r for r in claimed if r.order_id not in ids]

    def settled(self, order_id: str) -> None:
        """``order_id``'s attempt reached its outcome: the batch is done with it (a write-back
        queued for it goes on apart, under the lease its submission took)."""
        with self._lock:
            self._unsettled.discard(order_id)

    def start(self, record: OrderRecord) -> OrderRecord:
        """``record``'s order starts now: renew the waiting ones that need it; returns the
        order's record as last renewed."""
        return self._renew_due(record, keep=False)

    def prepare(self, record: OrderRecord) -> OrderRecord:
        """``record``'s order is prepared now to go in a batched request later: renew the
        waiting ones that need it; the order itself keeps waiting (its lease renewed as the
        others start) until :meth:`start` when its request goes. Returns its record as last
        renewed."""
        return self._renew_due(record, keep=True)

    def _first_due(self, records: Iterable[OrderRecord]) -> datetime | None:
        """A moment before which none of ``records`` needs renewing (``Timing.needs_renewal``:
        less than half the lease left), a little early; None if one has no expiry."""
        expiries = [r.lease_expires_at for r in records]
        if not expiries:
            return None
        if any(e is None for e in expiries):
            return None
        first = min(e for e in expiries if e is not None)
        return first - timedelta(seconds=self._timing.lease_seconds / 2) - _MARGIN

    def _renew_due(self, record: OrderRecord, *, keep: bool) -> OrderRecord:
        now = self._clock.now()
        with self._lock:
            if keep:
                current = self._waiting.setdefault(record.order_id, record)
            else:
                current = self._waiting.pop(record.order_id, record)
            if self._quiet_until is not None and now < self._quiet_until:
                return current
            due = [
                r for r in self._waiting.values()
                if r.order_id != record.order_id
                and self._timing.needs_renewal(r.lease_expires_at, now)
            ]  # fmt: skip
            if not due:
                self._quiet_until = self._first_due(self._waiting.values())
        for waiting in due:
            try:
                renewed = self._store.renew_lease(
                    waiting.order_id,
                    worker_id=self._worker_id,
                    lease_seconds=self._timing.lease_seconds,
                    now=now,
                )
            except LeaseLostError:
                continue  # its process() meets the loss and leaves the order alone
            with self._lock:
                if waiting.order_id in self._waiting:
                    self._waiting[waiting.order_id] = renewed
        return current
