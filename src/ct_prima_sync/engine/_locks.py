"""``LeaseLock``: a named lock in the state store, owned by one holder and renewed while it works.

The store's ``try_lock`` succeeds again for the owner that already holds a lock, so an owner name
shared by several holders (the threads of one engine, two runs of one worker id) would let them
all in. Each ``LeaseLock`` therefore owns the lock under a name of its own: the holder's prefix
(a worker id, for people reading the store) and a random token. A holder that dies stops renewing
and the lock expires after ``ttl_seconds``; a holder that outlives its lease finds out at its next
``renew`` and must stop.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from ..errors import StateError
from ..state import StateStore
from ._clock import Clock

__all__ = ["LeaseLock", "LockBusyError", "LockLostError", "try_lock"]

_log = logging.getLogger("ct_prima_sync.engine.locks")


class LockBusyError(StateError):
    """Another holder has the lock (raised by ``with LeaseLock(...)``)."""


class LockLostError(StateError):
    """The lock's lease ran out and another holder took it: stop the work it protected."""


class LeaseLock:
    """One holder's claim on the store lock ``name``.

    ``acquire`` answers at once (no waiting); ``renew`` extends the lease and raises
    :class:`LockLostError` when another holder has taken the lock since; ``release`` gives it back
    and is idempotent. As a context manager it acquires (raising :class:`LockBusyError` when the
    lock is held elsewhere) and releases on exit.

    ``owner`` replaces the random owner name. Give one only where no two live holders can ever
    share it, and a later holder must recognise an earlier one's lock by name: one attempt at one
    order, say (the order's lease lets its attempts run one at a time), whose next attempt takes
    back, at once, a lock the previous one died holding.
    """

    def __init__(
        self,
        store: StateStore,
        name: str,
        *,
        holder: str,
        ttl_seconds: float,
        clock: Clock,
        owner: str | None = None,
    ) -> None:
        if not name:
            raise ValueError("a lock needs a name")
        if not ttl_seconds > 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds!r}")
        self._store = store
        self._clock = clock
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.owner = owner or f"{holder}/{uuid.uuid4().hex}"
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this holder took the lock and has not released it (as far as it knows)."""
        return self._held

    def acquire(self) -> bool:
        """Take the lock for ``ttl_seconds``; False if another holder has it."""
        self._held = self._store.try_lock(
            self.name, owner=self.owner, ttl_seconds=self.ttl_seconds, now=self._clock.now()
        )
        return self._held

    def renew(self) -> None:
        """Extend the lease to ``ttl_seconds`` from now; :class:`LockLostError` if it was lost."""
        if not self._held:
            raise LockLostError(f"lock {self.name!r} is not held")
        if not self._store.try_lock(
            self.name, owner=self.owner, ttl_seconds=self.ttl_seconds, now=self._clock.now()
        ):
            self._held = False
            raise LockLostError(f"lock {self.name!r} expired and another holder took it")

    def release(self) -> None:
        """Give the lock back (only if this holder still has it). Idempotent."""
        if self._held:
            self._held = False
            self._store.unlock(self.name, owner=self.owner)

    def given_back(self) -> None:
        """The store released the lock along with other writes (a recording's ``unlock``):
        :meth:`release` has nothing left to do."""
        self._held = False

    def __enter__(self) -> Self:
        if not self.acquire():
            raise LockBusyError(f"lock {self.name!r} is held by another holder")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"LeaseLock(name={self.name!r}, owner={self.owner!r}, held={self._held})"


class _Renewer:
    """Renews a held lock every ``every`` seconds of real time, on a daemon thread, until
    stopped or the lock is lost (then ``lock.held`` turns False)."""

    def __init__(self, lock: LeaseLock, every: float) -> None:
        self._lock = lock
        self._every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"ct-prima-sync-lock-{lock.name}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            try:
                self._lock.renew()
            except LockLostError:
                _log.warning("lock %r was lost: another holder took it", self._lock.name)
                return
            except Exception as error:  # a store hiccup: the next round tries again
                _log.warning("lock %r not renewed: %s", self._lock.name, type(error).__name__)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


@contextmanager
def try_lock(
    store: StateStore,
    name: str,
    *,
    holder: str,
    ttl_seconds: float,
    clock: Clock,
    renew_every: float | None = None,
) -> Iterator[LeaseLock | None]:
    """Try to take the store lock ``name`` for this holder: yields the held :class:`LeaseLock`,
    renewed in the background every ``renew_every`` seconds (default a third of
    ``ttl_seconds``) while the block runs, or None at once when another holder has it. Released
    on exit. A holder whose renewal failed long enough for the lease to lapse sees
    ``lock.held`` turn False and should stop."""
    lock = LeaseLock(store, name, holder=holder, ttl_seconds=ttl_seconds, clock=clock)
    if not lock.acquire():
        yield None
        return
    renewer = _Renewer(lock, renew_every if renew_every is not None else ttl_seconds / 3)
    try:
        yield lock
    finally:
        renewer.stop()
        lock.release()
