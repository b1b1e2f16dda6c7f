"""The lock that lets one order attempt at a time ask Prima about one customer.

Rules:

1. The lock is owned per attempt (the order's id and attempt number, :func:`attempt_owner`),
   never per worker: the threads of one engine share a worker id, and two of them working two
   orders of one new customer must not both create it.
2. It lives one Prima request timeout plus a margin (``_timing``) and is renewed before each
   Prima call made under it, unless it was taken or renewed less than ``fresh_seconds`` ago
   (half the margin in the engine): it then still lives a request timeout and more, and
   renewing it would only cost a transaction. An attempt that finds it taken over stops with
   :class:`CustomerLockBusyError` (transient: the order is retried).
3. A lock held by an earlier attempt at the *same* order is stale: that attempt died or lost the
   order's lease, since this one holds it now. It is taken back at once, so a worker killed while
   resolving a customer does not hold up that order's retry.
4. Locks held for other orders are waited for, up to ``wait_seconds``: threads of one engine wait
   for each other in process (real time, no polling); other processes through the store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Final

from ..errors import StateError
from ..state import OrderRecord, StateStore
from ._clock import Clock
from ._locks import LeaseLock, LockLostError

__all__ = [
    "LOCK_WAIT_SECONDS",
    "CustomerLock",
    "CustomerLockBusyError",
    "CustomerLocks",
    "attempt_owner",
]

#: How long an attempt waits for another one to finish with the same customer.
LOCK_WAIT_SECONDS: Final = 10.0
_POLL_SECONDS: Final = 0.05


class CustomerLockBusyError(StateError):
    """Another attempt has been asking Prima about this customer for longer than the wait
    allows, or took the lock over: retry later."""


def attempt_owner(order_id: str, attempt: int) -> str:
    """The name one attempt at one order holds customer locks under."""
    return f"order {order_id} attempt {attempt}"


class _InProcess:
    """One ``threading.Lock`` per name, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def acquire(self, name: str, timeout: float) -> bool:
        with self._guard:
            lock, users = self._locks.get(name, (None, 0))
            lock = lock or threading.Lock()
            self._locks[name] = (lock, users + 1)
        if lock.acquire(timeout=timeout):
            return True
        self._leave(name)
        return False

    def release(self, name: str) -> None:
        with self._guard:
            lock, _ = self._locks[name]
        lock.release()
        self._leave(name)

    def _leave(self, name: str) -> None:
        with self._guard:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)


class CustomerLocks:
    """Hands out :class:`CustomerLock` s over one store; shared by the threads of one engine."""

    def __init__(
        self,
        store: StateStore,
        *,
        ttl_seconds: float,
        clock: Clock,
        wait_seconds: float = LOCK_WAIT_SECONDS,
        fresh_seconds: float = 0.0,
    ) -> None:
        if not 0 <= fresh_seconds < ttl_seconds:
            raise ValueError(
                f"fresh_seconds must be at least 0 and less than ttl_seconds, got {fresh_seconds!r}"
            )
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.wait_seconds = wait_seconds
        self.fresh_seconds = fresh_seconds
        self.in_process = _InProcess()

    @contextmanager
    def hold(self, name: str, record: OrderRecord) -> Iterator[CustomerLock]:
        """Hold the lock ``name`` for the attempt at ``record``'s order while the block runs."""
        lock = CustomerLock(self, name, record)
        lock.acquire()
        try:
            yield lock
        finally:
            lock.release()


class CustomerLock:
    """One order attempt's hold on a customer (see the module's rules)."""

    def __init__(self, locks: CustomerLocks, name: str, record: OrderRecord) -> None:
        self._locks = locks
        self._record = record
        self._local_held = False
        self._taken_at: datetime | None = None  # when the store's lock was last taken or renewed
        self._lock = LeaseLock(
            locks.store,
            name,
            holder=record.lease_owner or "",
            ttl_seconds=locks.ttl_seconds,
            clock=locks.clock,
            owner=attempt_owner(record.order_id, record.attempts),
        )

    @property
    def name(self) -> str:
        """The lock's name in the store."""
        return self._lock.name

    def acquire(self) -> None:
        """Take the lock (rules 3 and 4); :class:`CustomerLockBusyError` when the wait runs out."""
        locks = self._locks
        if not locks.in_process.acquire(self.name, locks.wait_seconds):
            raise self._busy()
        self._local_held = True
        try:
            taken_at = locks.clock.now()
            if self._lock.acquire() or (self._take_back() and self._lock.acquire()):
                self._taken_at = taken_at
                return
            waited = 0.0
            while True:
                taken_at = locks.clock.now()
                if self._lock.acquire():
                    break
                if waited >= locks.wait_seconds:
                    raise self._busy()
                locks.clock.sleep(_POLL_SECONDS)
                waited += _POLL_SECONDS
            self._taken_at = taken_at
        except BaseException:
            self.release()
            raise

    @staticmethod
    def _busy() -> CustomerLockBusyError:
        return CustomerLockBusyError(
            "another order of this customer is still being resolved in Prima; retrying later"
        )

    def _take_back(self) -> bool:
        order_id, attempt = self._record.order_id, self._record.attempts
        return any(
            self._locks.store.unlock(self.name, owner=attempt_owner(order_id, earlier))
            for earlier in range(attempt - 1, 0, -1)
        )

    def renew(self) -> None:
        """Extend the lock before the next Prima call (rule 2): not when it was taken or renewed
        less than ``fresh_seconds`` ago."""
        now = self._locks.clock.now()
        if self._taken_at is not None and now - self._taken_at < timedelta(
            seconds=self._locks.fresh_seconds
        ):
            return
        try:
            self._lock.renew()
            self._taken_at = now
        except LockLostError:
            raise CustomerLockBusyError(
                "the customer lock expired while Prima was being asked and another order took "
                "it; retrying later"
            ) from None

    @property
    def held_as(self) -> tuple[str, str] | None:
        """The store lock's name and owner while this attempt holds it, for a write that gives
        it back in its own transaction (``StateStore.record_prima_reference(unlock=...)``),
        then :meth:`given_back`; None once it is not held."""
        return (self._lock.name, self._lock.owner) if self._lock.held else None

    def given_back(self) -> None:
        """The store lock was given back with a recording; :meth:`release` still lets the
        other threads of this engine in."""
        self._lock.given_back()

    def release(self) -> None:
        """Give the lock back. Idempotent."""
        try:
            self._lock.release()
        finally:
            if self._local_held:
                self._local_held = False
                self._locks.in_process.release(self.name)
