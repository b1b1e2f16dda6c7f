"""LeaseLock: each holder owns the lock alone, even holders that share a worker id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ct_prima_sync.engine import FakeClock, LeaseLock, LockBusyError, LockLostError
from ct_prima_sync.state import StateStore, open_store


@pytest.fixture
def store() -> Iterator[StateStore]:
    with open_store("memory://") as opened:
        yield opened


def test_two_holders_with_the_same_worker_id_do_not_share_the_lock(store: StateStore) -> None:
    clock = FakeClock()
    first = LeaseLock(store, "stock", holder="worker-1", ttl_seconds=30, clock=clock)
    second = LeaseLock(store, "stock", holder="worker-1", ttl_seconds=30, clock=clock)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()


def test_a_lock_whose_holder_stopped_renewing_expires(store: StateStore) -> None:
    clock = FakeClock()
    dead = LeaseLock(store, "stock", holder="w", ttl_seconds=30, clock=clock)
    assert dead.acquire()
    clock.advance(31)
    taker = LeaseLock(store, "stock", holder="w", ttl_seconds=30, clock=clock)
    assert taker.acquire()
    with pytest.raises(LockLostError, match="another holder took it"):
        dead.renew()
    assert not dead.held
    dead.release()  # does not free the new holder's lock
    assert not LeaseLock(store, "stock", holder="w", ttl_seconds=30, clock=clock).acquire()


def test_renewing_keeps_the_lock_past_its_first_expiry(store: StateStore) -> None:
    clock = FakeClock()
    lock = LeaseLock(store, "stock", holder="w", ttl_seconds=30, clock=clock)
    assert lock.acquire()
    clock.advance(20)
    lock.renew()
    clock.advance(20)
    assert not LeaseLock(store, "stock", holder="x", ttl_seconds=30, clock=clock).acquire()


def test_the_context_manager_refuses_a_busy_lock_and_releases_on_exit(store: StateStore) -> None:
    clock = FakeClock()
    with LeaseLock(store, "stock", holder="a", ttl_seconds=30, clock=clock) as held:
        assert held.held
        with (
            pytest.raises(LockBusyError),
            LeaseLock(store, "stock", holder="b", ttl_seconds=30, clock=clock),
        ):
            pass
    assert LeaseLock(store, "stock", holder="b", ttl_seconds=30, clock=clock).acquire()
