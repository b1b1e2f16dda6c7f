"""Design invariant 2: each commercetools order becomes exactly one Prima sales order, whatever
crashes, timeouts, lost replies, retries and duplicate messages happen."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.engine import EngineConfig, FakeClock, RetryBackoff, SyncEngine
from ct_prima_sync.engine._timing import DEFAULT_PRIMA_REQUEST_TIMEOUT
from ct_prima_sync.state import (
    CUSTOMER_KEY_SECRET_ENV,
    OrderStatus,
    Owner,
    StateStore,
    open_store,
)
from ct_prima_sync.testing import (
    FakeCommercetools,
    FakePrima,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
)
from ct_prima_sync.testing.scenario import (
    SyncScenario,
    build_scenario,
    connect_commercetools,
    remember_customers,
)

EngineFactory = Callable[..., SyncEngine]

#: Every order in a request of its own, and several per ``MultiNewOrder`` (the customers then
#: known, so that their orders go in batched requests: see ``_batched``).
BATCH_SIZES = pytest.mark.parametrize("batch", [1, 5], ids=["alone", "batched"])

STEPS = (
    "claimed",
    "mapped",
    "customer_resolved",
    "submitting",
    "submitted",
    "recorded",
    "written_back",
    "done",
)


class Crash(BaseException):
    """Simulates the process dying: not an Exception, so nothing in the engine catches it."""


def _crash_at(step: str, nth: int) -> Callable[[str, str], None]:
    seen = {"count": 0}

    def checkpoint(at: str, _order_id: str) -> None:
        if at == step:
            seen["count"] += 1
            if seen["count"] == nth:
                raise Crash(step)

    return checkpoint


def _assert_exactly_once(scenario: SyncScenario, store: StateStore) -> None:
    submissions = scenario.world.submission_counts()
    for number in scenario.good:
        # An applied-but-unanswered submission is found by the status check and never sent
        # again; one that surely did not arrive is sent once more: Prima sees each order once.
        assert submissions[number] == 1, number
    prima_numbers = [order.order_number for order in scenario.world.orders()]
    assert sorted(prima_numbers) == sorted(scenario.good), "Prima holds a duplicate or a stray"
    counts = store.count_orders_by_status()
    assert counts[OrderStatus.DONE] == len(scenario.good)
    assert counts[OrderStatus.EXCEPTED] == len(scenario.bad)
    # No owner is ever alerted about an order that is fine.
    for record in store.list_exceptions():
        order = store.get_order(record.order_id or "")
        assert order is None or order.prima_reference is None, (record.kind, order)


def _batched(scenario: SyncScenario, store: StateStore, batch: int, clock: FakeClock) -> None:
    """With batches, every customer's account known, so that orders go several per request
    (a customer's first order goes alone, for Prima to match)."""
    if batch > 1:
        remember_customers(
            scenario, store, secret=os.environ[CUSTOMER_KEY_SECRET_ENV], now=clock.now()
        )


def _assert_requests_carried(scenario: SyncScenario, batch: int) -> None:
    """The submissions went up to ``batch`` orders per request, several together."""
    sizes = {len(r.keys) for r in scenario.world.requests(PrimaRequestKind.SUBMIT_ORDERS)}
    assert max(sizes) == batch


def _every_first_submission_fails(scenario: SyncScenario) -> FakePrima:
    """A Prima that drops the connection before the first submission of every order arrives."""
    plan = PrimaFaultPlan()
    plan.script(
        PrimaRequestKind.SUBMIT_ORDERS,
        *[PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET, applied=False)]
        * len(scenario.order_numbers),
    )
    return FakePrima(scenario.world, faults=plan, sleep=lambda _s: None)


@BATCH_SIZES
@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_then_a_restart_neither_loses_nor_duplicates(
    step: str,
    batch: int,
    *,
    scenario: SyncScenario,
    make_engine: EngineFactory,
    clock: FakeClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('crash')}/sync.db"
    with open_store(url) as store:
        _batched(scenario, store, batch, clock)
        # Every order failed once before, so each one reaching Prima has an exception to close.
        first = make_engine(
            store,
            prima=_every_first_submission_fails(scenario),
            breaker_threshold=1000,
            submit_batch_size=batch,
        ).sync_orders()
        assert first.retrying == len(scenario.good) + 2  # the two Prima rejects too
        assert first.backlog == first.retrying  # waiting for their retry is still waiting
    clock.advance(DEFAULT_PRIMA_REQUEST_TIMEOUT + RetryBackoff().cap_seconds)
    with open_store(url) as store:
        crashing = make_engine(
            store, checkpoint=_crash_at(step, nth=7), concurrency=1, submit_batch_size=batch
        )
        with pytest.raises(Crash):
            crashing.process_backlog()
    clock.advance(EngineConfig().lease_seconds + 1)  # the dead worker's lease runs out
    with open_store(url) as store:
        summary = make_engine(store, worker_id="worker-2", submit_batch_size=batch).sync_orders()
        assert summary.backlog == 0
        _assert_exactly_once(scenario, store)
    _assert_requests_carried(scenario, batch)
    for order in scenario.commercetools.orders():
        if order["orderNumber"] in scenario.good:
            assert len(order["syncInfo"]) == 1, "written back twice"


@pytest.mark.parametrize(
    "fault",
    [
        PrimaFault(kind=PrimaFaultKind.REPLY_LOST),
        PrimaFault(kind=PrimaFaultKind.TIMEOUT, applied=True),
        PrimaFault(kind=PrimaFaultKind.TIMEOUT, applied=False),
        PrimaFault(kind=PrimaFaultKind.SERVER_ERROR, applied=True),
        PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET, applied=False),
        PrimaFault(kind=PrimaFaultKind.RATE_LIMITED),
    ],
    ids=lambda f: f"{f.kind.value}-{'applied' if f.applies_request else 'not-applied'}",
)
@BATCH_SIZES
def test_an_ambiguous_or_failed_submission_is_checked_with_prima_before_any_resend(
    fault: PrimaFault,
    batch: int,
    *,
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    clock: FakeClock,
) -> None:
    _batched(scenario, store, batch, clock)
    plan = PrimaFaultPlan()
    plan.on_nth(PrimaRequestKind.SUBMIT_ORDERS, 1, fault)
    prima = FakePrima(scenario.world, faults=plan, sleep=lambda _s: None)
    engine = make_engine(
        store, prima=prima, retry=RetryBackoff(base_seconds=1), submit_batch_size=batch
    )

    engine.sync_orders()
    # "Unknown to Prima" counts only once the failed submission can no longer be on its way.
    engine._clock.sleep(DEFAULT_PRIMA_REQUEST_TIMEOUT + 1)
    engine.process_backlog()

    _assert_exactly_once(scenario, store)
    assert plan.fired, "the fault never fired"
    _assert_requests_carried(scenario, batch)


@BATCH_SIZES
def test_randomised_faults_over_a_thousand_orders_lose_and_duplicate_nothing(
    batch: int, clock: FakeClock, make_engine: EngineFactory
) -> None:
    scenario = build_scenario(orders=1000, bad_every=0, seed=11)
    rng = random.Random(2026)
    plan = PrimaFaultPlan()
    plan.random(
        7,
        {
            PrimaFault(kind=PrimaFaultKind.REPLY_LOST): 0.05,
            PrimaFault(kind=PrimaFaultKind.TIMEOUT, applied=True): 0.03,
            PrimaFault(kind=PrimaFaultKind.TIMEOUT, applied=False): 0.03,
            PrimaFault(kind=PrimaFaultKind.SERVER_ERROR, applied=True): 0.02,
            PrimaFault(kind=PrimaFaultKind.SERVER_ERROR, applied=False): 0.02,
            PrimaFault(kind=PrimaFaultKind.RATE_LIMITED): 0.03,
        },
    )
    prima = FakePrima(scenario.world, faults=plan, sleep=lambda _s: None)
    ct_fake = scenario.commercetools
    ct_fake.faults.randomly(seed=5, probability=0.03)  # 5xx, 429 and resets on commercetools too
    with open_store("memory://") as store:
        _batched(scenario, store, batch, clock)
        engine = SyncEngine(
            commercetools=_client(ct_fake),
            prima=prima,
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(
                worker_id="w",
                initial_cursor=scenario.first_order_at - timedelta(days=1),
                retry=RetryBackoff(base_seconds=5, cap_seconds=60),
                submit_batch_size=batch,
            ),
            clock=clock,
        )
        orders = ct_fake.orders()
        for _round in range(40):
            # duplicate subscription deliveries of random orders, mixed with polling
            for order in rng.sample(orders, 20):
                engine.handle_message(
                    {"resource": {"typeId": "order", "id": order["id"]}, "order": order}
                )
            engine.sync_orders()
            if store.count_orders_by_status()[OrderStatus.DONE] == len(scenario.good):
                break
            clock.advance(120)
        assert plan.fired, "the fault plan never fired"
        _assert_exactly_once(scenario, store)
    _assert_requests_carried(scenario, batch)


def _client(fake: FakeCommercetools) -> CommercetoolsClient:
    return connect_commercetools(fake, sleep=lambda _s: None)


def test_the_clock_used_here_starts_after_the_orders() -> None:
    assert (
        FakeClock(datetime(2026, 11, 21, tzinfo=UTC)).now()
        > build_scenario(orders=1).first_order_at
    )


def test_a_run_closes_exceptions_left_open_on_orders_that_are_done(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = make_engine(store)
    engine.sync_orders()
    (order_id, number) = next(
        (o["id"], o["orderNumber"]) for o in scenario.commercetools.orders()
        if o["orderNumber"] in scenario.good
    )  # fmt: skip
    # What a worker dying between finishing the order and closing its problems left behind
    # (earlier versions closed them only after marking the order done).
    store.record_exception(
        kind="PRIMA_AMBIGUOUS",
        owner=Owner.OPERATIONS,
        detail={"order_number": number},
        now=clock.now(),
        order_id=order_id,
        transient=True,
    )
    clock.advance(RetryBackoff().escalate_after_seconds + 1)

    engine.process_backlog()

    assert engine.exceptions(order_id=order_id) == []
    assert engine.health().overdue_exceptions == len(scenario.bad)  # only the real problems
