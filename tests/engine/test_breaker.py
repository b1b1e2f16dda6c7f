"""The circuit breaker: a dead Prima stops an order run with one exception for the outage, and the
first run after Prima is back posts every order exactly once."""

from __future__ import annotations

import threading

from ct_prima_sync.engine import ProblemKind
from ct_prima_sync.state import ExceptionRecord, OrderStatus, StateStore
from ct_prima_sync.testing import FakePrima, PrimaFault, PrimaFaultKind, PrimaRequestKind
from ct_prima_sync.testing.scenario import SyncScenario

from .conftest import EngineFactory


def _prima_exceptions(store: StateStore) -> list[ExceptionRecord]:
    return [r for r in store.list_exceptions() if r.kind.startswith("PRIMA_")]


def _bad(scenario: SyncScenario) -> set[str]:
    return set(scenario.bad)


def _down(prima: FakePrima, kind: PrimaFaultKind, count: int = 10_000) -> None:
    prima.faults.script(None, *[PrimaFault(kind=kind)] * count)


def test_a_dead_prima_stops_the_run_with_one_exception_and_nothing_lost(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario
) -> None:
    prima = FakePrima(scenario.world, sleep=lambda _s: None)
    _down(prima, PrimaFaultKind.CONNECTION_RESET)
    engine = make_engine(store, prima=prima, breaker_threshold=3, concurrency=1)

    summary = engine.sync_orders()

    assert summary.stopped == "PRIMA_UNAVAILABLE"
    assert summary.posted == 0
    (outage,) = _prima_exceptions(store)
    assert (outage.kind, outage.order_id, outage.exception_id) == (
        "PRIMA_UNAVAILABLE",
        None,
        summary.outage_exception_id,
    )
    excepted = summary.excepted  # bad orders met before the outage wait for a person
    assert outage.detail["orders_waiting"] == len(scenario.order_numbers) - excepted
    assert summary.problems["PRIMA_UNAVAILABLE"] == 1
    # Prima was asked about 3 orders, not 60; nothing waits for a lease to expire.
    assert len(prima.faults.fired) <= 3 * 4
    counts = store.count_orders_by_status()
    waiting = counts[OrderStatus.NEW] + counts[OrderStatus.CLAIMED]
    assert waiting == len(scenario.order_numbers) - excepted
    assert all(
        r.lease_owner is None
        for n in scenario.order_numbers
        if (r := store.get_order_by_number(n)) is not None
    )

    again = engine.sync_orders()  # still down: the same exception counts another occurrence
    assert again.stopped == "PRIMA_UNAVAILABLE"
    (same,) = _prima_exceptions(store)
    assert (same.exception_id, same.occurrences) == (outage.exception_id, 2)

    healthy = FakePrima(scenario.world, sleep=lambda _s: None)
    back = make_engine(store, prima=healthy, breaker_threshold=3)
    summary = back.sync_orders()
    assert summary.stopped is None
    assert summary.posted == len([n for n in scenario.good if n not in _bad(scenario)])
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)
    closed = store.get_exception(outage.exception_id)
    assert closed is not None
    assert closed.resolved_at is not None
    assert ProblemKind.PRIMA_UNAVAILABLE.value not in {r.kind for r in _prima_exceptions(store)}


def test_submissions_lost_in_an_outage_stay_ambiguous_and_are_never_sent_twice(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario
) -> None:
    prima = FakePrima(scenario.world, sleep=lambda _s: None)
    # Prima takes the orders, then every answer is lost: each may have been applied.
    prima.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS,
        *[PrimaFault(kind=PrimaFaultKind.REPLY_LOST, applied=True)] * 10_000,
    )
    # ... and asking Prima whether it has them fails too.
    prima.faults.script(
        PrimaRequestKind.ORDER_STATUS,
        *[PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET)] * 10_000,
    )
    engine = make_engine(store, prima=prima, breaker_threshold=3, concurrency=1)
    summary = engine.sync_orders()
    assert summary.stopped == "PRIMA_UNAVAILABLE"
    (outage,) = _prima_exceptions(store)
    assert outage.detail["possibly_applied"] >= 1

    back = make_engine(store, prima=FakePrima(scenario.world, sleep=lambda _s: None))
    summary = back.sync_orders()
    assert summary.already_in_prima >= 1
    submissions = scenario.world.submission_counts()
    posted = [n for n in scenario.good if submissions[n]]
    assert len(posted) == len(scenario.good)
    assert all(submissions[n] == 1 for n in scenario.good)


def test_a_stop_request_finishes_the_order_in_hand_and_releases_the_rest(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario
) -> None:
    engine = make_engine(store, concurrency=1, claim_batch=10)
    stopped = threading.Event()

    def stop_after_first(done: int, _total: int) -> None:
        if done == 1 and not stopped.is_set():
            stopped.set()
            engine.request_stop()

    summary = engine.sync_orders(progress=stop_after_first)
    assert summary.stopped == "requested"
    assert summary.processed == 1
    assert summary.released == 9
    assert all(
        r.lease_owner is None
        for n in scenario.order_numbers
        if (r := store.get_order_by_number(n)) is not None
    )
    rest = engine.sync_orders()  # at once: no lease to wait for
    assert rest.stopped is None
    assert rest.processed == len(scenario.order_numbers) - 1
