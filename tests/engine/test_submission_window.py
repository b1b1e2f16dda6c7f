"""No second submission while the first may still be on its way to Prima: the lease outlasts a
slow submit, and "unknown to Prima" counts only once the submission can no longer arrive."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pytest

from ct_prima_sync.engine import FakeClock, RetryBackoff, RunSummary, SyncEngine
from ct_prima_sync.errors import PrimaUnavailableError
from ct_prima_sync.prima import OrderStatusReport, SalesOrder, SubmitResult
from ct_prima_sync.state import OrderStatus, StateStore
from ct_prima_sync.testing import (
    FakePrima,
    PrimaFault,
    PrimaFaultKind,
    PrimaRequestKind,
    PrimaWorld,
)
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

EngineFactory = Callable[..., SyncEngine]

REQUEST_TIMEOUT = 100.0


@pytest.fixture
def scenario() -> SyncScenario:
    """One good order: whatever happens to it happens to the only order there is."""
    return build_scenario(orders=1, seed=21)


class SlowSubmit(FakePrima):
    """A Prima whose submit takes ``seconds`` of the clock; ``meanwhile`` runs in the middle of
    it, before Prima has applied anything (another worker looking for work, say)."""

    def __init__(
        self, world: PrimaWorld, clock: FakeClock, seconds: float, meanwhile: Callable[[], None]
    ) -> None:
        super().__init__(world, sleep=lambda _s: None)
        self._clock = clock
        self._seconds = seconds
        self._meanwhile = meanwhile

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        self._clock.advance(self._seconds)
        self._meanwhile()
        return super().submit_orders(orders)


def test_a_submit_slower_than_the_lease_is_never_taken_over_and_sent_again(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    (number,) = scenario.good
    other = make_engine(store, worker_id="worker-2", concurrency=1)
    during: list[RunSummary] = []
    leases: list[float] = []

    def at_submission(step: str, order_id: str) -> None:
        if step == "submitting":
            record = store.get_order(order_id)
            assert record is not None
            assert record.lease_expires_at is not None
            leases.append((record.lease_expires_at - clock.now()).total_seconds())

    slow = SlowSubmit(
        scenario.world, clock, seconds=60, meanwhile=lambda: during.append(other.process_backlog())
    )
    first = make_engine(
        store,
        prima=slow,
        checkpoint=at_submission,
        concurrency=1,
        lease_seconds=30,  # shorter than the submit
        prima_request_timeout=REQUEST_TIMEOUT,
    )

    summary = first.sync_orders()

    assert leases, "the order was never submitted"
    assert min(leases) >= REQUEST_TIMEOUT, "a submission began with too little lease left"
    assert [s.processed for s in during] == [0], "another worker took the order mid-submit"
    assert summary.posted == 1
    assert scenario.world.submission_count(number) == 1


class LateApplying(FakePrima):
    """A Prima behind a queue: the connection drops while each submission is sent, and Prima
    applies it ``delay`` seconds later. Until then it does not know the order."""

    def __init__(self, world: PrimaWorld, clock: FakeClock, delay: float) -> None:
        super().__init__(world, sleep=lambda _s: None)
        self._clock = clock
        self._delay = delay
        self._queued: list[tuple[datetime, Sequence[SalesOrder]]] = []
        self.sent = 0

    def _arrive(self) -> None:
        due = [entry for entry in self._queued if entry[0] <= self._clock.now()]
        for entry in due:
            self._queued.remove(entry)
            super().submit_orders(entry[1])

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        self.sent += 1
        self._queued.append((self._clock.now() + timedelta(seconds=self._delay), orders))
        raise PrimaUnavailableError("connection reset after sending", may_have_been_applied=True)

    def order_status(self, order_number: str) -> OrderStatusReport:
        self._arrive()
        return super().order_status(order_number)


def test_unknown_to_prima_is_not_trusted_while_the_submission_may_still_arrive(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    (number,) = scenario.good
    prima = LateApplying(scenario.world, clock, delay=50)
    engine = make_engine(
        store,
        prima=prima,
        retry=RetryBackoff(base_seconds=1),
        prima_request_timeout=REQUEST_TIMEOUT,
    )

    first = engine.sync_orders()
    assert (first.retrying, prima.sent) == (1, 1)
    clock.advance(5)
    assert engine.process_backlog().processed == 0, "retried inside the submission's window"
    # Not even a replay by a person re-sends it inside the window.
    assert engine.retry_exceptions() == 1
    replayed = engine.process_backlog()
    assert (replayed.retrying, prima.sent) == (1, 1)

    clock.advance(REQUEST_TIMEOUT)  # Prima applied it long ago; the window is over
    last = engine.process_backlog()

    assert (last.already_in_prima, prima.sent) == (1, 1)
    assert scenario.world.submission_count(number) == 1
    order_id = scenario.commercetools.orders()[0]["id"]
    assert store.get_order(order_id).status is OrderStatus.DONE  # type: ignore[union-attr]
    assert engine.exceptions(order_id=order_id) == []


def test_orders_waiting_out_their_submission_window_do_not_trip_the_breaker(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    # The submission timed out unapplied; right after, Prima answers again: it does not know the
    # order, which may still be on its way. Prima answered: no outage, the run goes on.
    timing_out = FakePrima(scenario.world, sleep=lambda _s: None)
    timing_out.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.TIMEOUT, applied=False)
    )
    settings = {"breaker_threshold": 1, "prima_request_timeout": REQUEST_TIMEOUT}
    assert make_engine(store, prima=timing_out, **settings).sync_orders().stopped is not None

    clock.advance(5)
    healthy = FakePrima(scenario.world, sleep=lambda _s: None)
    again = make_engine(store, prima=healthy, **settings).process_backlog()

    assert again.stopped is None
    assert again.retrying == 1
    assert scenario.world.orders() == []
