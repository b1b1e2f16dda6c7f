"""A new customer reaches Prima once, however the engine's threads interleave, and a worker that
died while resolving a customer holds nobody up for long."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from ct_prima_sync.engine import CustomerPolicy, FakeClock, RetryBackoff, SyncEngine
from ct_prima_sync.engine._customer_lock import CustomerLocks
from ct_prima_sync.prima import CustomerDetails, PrimaCustomer
from ct_prima_sync.state import NewOrder, OrderStatus, OrderTotals, StateStore
from ct_prima_sync.testing import FakePrima, PrimaWorld
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .conftest import one_line_order

EngineFactory = Callable[..., SyncEngine]
#: These tests are about the opt-in customer requests (CustomerFind / CustomerCreate).
OPT_IN = CustomerPolicy(lookup_by_email=True, create_missing=True)

GUEST = "same.guest@example.com"
_TOTALS = OrderTotals(currency="EUR", fraction_digits=2, net=100, tax=19, gross=119)


@pytest.fixture
def scenario() -> SyncScenario:
    """Three guest orders by one new customer, and nothing else."""
    built = build_scenario(orders=0, seed=8)
    for n in range(1, 4):
        built.commercetools.add_order(one_line_order(built, f"GUEST-{n}", email=GUEST, seed=n))
    return SyncScenario(
        commercetools=built.commercetools,
        world=built.world,
        mapping=built.mapping,
        good=("GUEST-1", "GUEST-2", "GUEST-3"),
        bad={},
        first_order_at=built.first_order_at,
    )


def _accounts(world: PrimaWorld) -> list[PrimaCustomer]:
    return [c for c in world.customers() if c.email == GUEST]


class LookupBarrier(FakePrima):
    """Holds each customer lookup until another lookup arrives (or ``timeout`` real seconds
    pass): two lookups of one new customer at once is exactly how it gets created twice."""

    def __init__(self, world: PrimaWorld, *, timeout: float = 0.5) -> None:
        super().__init__(world, sleep=lambda _s: None)
        self.barrier = threading.Barrier(2, timeout=timeout)
        self.met = False

    def find_customer(self, *, account_code: str = "", email: str = "") -> PrimaCustomer | None:
        try:
            self.barrier.wait()
            self.met = True
        except threading.BrokenBarrierError:
            pass  # nobody came: the lookups are one at a time
        return super().find_customer(account_code=account_code, email=email)


def test_two_threads_of_one_engine_never_look_up_and_create_one_customer_together(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    prima = LookupBarrier(scenario.world)
    engine = make_engine(store, customers=OPT_IN, prima=prima, concurrency=2, claim_batch=2)

    summary = engine.sync_orders(max_orders=2)

    assert not prima.met, "two threads were inside the customer lookup at the same time"
    assert len(_accounts(scenario.world)) == 1
    assert summary.posted == 2
    (account,) = _accounts(scenario.world)
    assert {o.order.customer.account_code for o in scenario.world.orders()} == {
        account.account_code
    }


class HangingLookup(FakePrima):
    """The first customer lookup never returns until ``wake`` is set: the worker making it is as
    good as dead (killed, or stuck), and holds what it held."""

    def __init__(self, world: PrimaWorld) -> None:
        super().__init__(world, sleep=lambda _s: None)
        self.wake = threading.Event()
        self.hanging = threading.Event()
        self._calls = 0

    def find_customer(self, *, account_code: str = "", email: str = "") -> PrimaCustomer | None:
        self._calls += 1
        if self._calls == 1:
            self.hanging.set()
            self.wake.wait(timeout=30)
        return super().find_customer(account_code=account_code, email=email)

    def create_customer(self, details: CustomerDetails) -> PrimaCustomer:
        return super().create_customer(details)


def test_the_next_attempt_at_the_order_takes_back_its_dead_workers_customer_lock_at_once(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    hanging = HangingLookup(scenario.world)
    dead = make_engine(
        store, customers=OPT_IN, prima=hanging, concurrency=1, claim_batch=1, lease_seconds=30
    )
    worker = threading.Thread(target=lambda: dead.sync_orders(max_orders=1), daemon=True)
    worker.start()
    assert hanging.hanging.wait(timeout=10)
    try:
        (stuck,) = [
            r
            for r in (store.get_order(o["id"]) for o in scenario.commercetools.orders())
            if r is not None and r.status is OrderStatus.CLAIMED
        ]
        clock.advance(31)  # its order's lease runs out; its customer lock has not

        summary = make_engine(
            store, customers=OPT_IN, worker_id="worker-2", concurrency=1
        ).process_backlog(max_orders=1)

        assert summary.posted == 1, summary.problems
        assert store.get_order(stuck.order_id).status is OrderStatus.DONE  # type: ignore[union-attr]
    finally:
        hanging.wake.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    # The dead worker woke to find its order taken over: it created nothing and sent nothing.
    assert len(_accounts(scenario.world)) == 1
    assert scenario.world.submission_count(store.get_order(stuck.order_id).order_number or "") == 1  # type: ignore[union-attr]


def test_other_orders_of_the_customer_wait_only_as_long_as_one_prima_request_may_take(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    hanging = HangingLookup(scenario.world)
    config = {"prima_request_timeout": 20.0, "retry": RetryBackoff(base_seconds=5, cap_seconds=5)}
    dead = make_engine(
        store, customers=OPT_IN, prima=hanging, concurrency=1, claim_batch=1, **config
    )
    worker = threading.Thread(target=lambda: dead.sync_orders(max_orders=1), daemon=True)
    worker.start()
    assert hanging.hanging.wait(timeout=10)
    try:
        other = make_engine(
            store, customers=OPT_IN, worker_id="worker-2", concurrency=1, claim_batch=1, **config
        )
        blocked = other.process_backlog(max_orders=1)
        assert blocked.problems == {"CUSTOMER_LOCKED": 1}
        # The lock lives one request timeout (20 s) and a margin; the lock wait and the retry
        # backoff take the clock past it.
        clock.advance(timedelta(seconds=30).total_seconds())
        later = other.process_backlog(max_orders=1)
        assert later.posted == 1, later.problems
    finally:
        hanging.wake.set()
        worker.join(timeout=30)
    assert len(_accounts(scenario.world)) == 1


class _CountedLocks:
    """A store that counts the lock takes and renewals (``try_lock``) that reach it."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def try_lock(self, name: str, *, owner: str, ttl_seconds: float, now: datetime) -> bool:
        self.calls += 1
        return self._store.try_lock(name, owner=owner, ttl_seconds=ttl_seconds, now=now)


def test_a_customer_lock_is_renewed_before_a_prima_call_unless_it_was_just_taken(
    store: StateStore, clock: FakeClock
) -> None:
    """Rule 2: taken or renewed less than ``fresh_seconds`` ago, the lock still lives more
    than a request timeout, and renewing it would only cost a transaction."""
    store.ingest(
        NewOrder(order_id="o1", order_number="N1", ct_version=1, totals=_TOTALS), now=clock.now()
    )
    (record,) = store.claim("w", lease_seconds=60, limit=1, now=clock.now())
    counted = _CountedLocks(store)
    locks = CustomerLocks(
        counted,  # type: ignore[arg-type]
        ttl_seconds=35,
        clock=clock,
        fresh_seconds=2.5,
    )

    with locks.hold("customer:x", record) as lock:
        assert counted.calls == 1  # taken
        lock.renew()
        clock.advance(2.4)
        lock.renew()
        assert counted.calls == 1  # both within 2.5 s of the take
        clock.advance(0.1)
        lock.renew()
        assert counted.calls == 2  # 2.5 s after the take: renewed
        clock.advance(2.4)
        lock.renew()
        assert counted.calls == 2  # within 2.5 s of the renewal
        clock.advance(30)
        lock.renew()
        assert counted.calls == 3
        assert store.try_lock("customer:x", owner="other", ttl_seconds=35, now=clock.now()) is False


def test_a_customer_lock_with_no_freshness_is_renewed_every_time(
    store: StateStore, clock: FakeClock
) -> None:
    store.ingest(
        NewOrder(order_id="o1", order_number="N1", ct_version=1, totals=_TOTALS), now=clock.now()
    )
    (record,) = store.claim("w", lease_seconds=60, limit=1, now=clock.now())
    counted = _CountedLocks(store)
    locks = CustomerLocks(counted, ttl_seconds=35, clock=clock)  # type: ignore[arg-type]

    with locks.hold("customer:x", record) as lock:
        lock.renew()
        lock.renew()
    assert counted.calls == 3
    with pytest.raises(ValueError, match="fresh_seconds"):
        CustomerLocks(store, ttl_seconds=35, clock=clock, fresh_seconds=35)
