"""A dispatch run works a page at a time, whatever the number of orders it follows: it takes
orders on a page at a time, reviews commercetools' changes page by page (storing its cursor after
each page, so a run stopped midway resumes there), and reads the due orders from the store a
batch at a time, asking about each once per run. Pages are five orders here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from ct_prima_sync.engine import SyncEngine, _dispatch_run
from ct_prima_sync.mapping import CheckInterval, CheckSchedule, DispatchConfig
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing import CommercetoolsFault
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

EngineFactory = Callable[..., SyncEngine]
ORDERS = 12
PAGE = 5


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dispatch_run, "_READ_PAGE", PAGE)
    monkeypatch.setattr(_dispatch_run, "_REVIEW_PAGE", PAGE)


@pytest.fixture
def scenario() -> SyncScenario:
    # commercetools' clock moves 10 ms at each reading, so no two changes share a modification
    # time and the poll overlap (1 ms below) repeats exactly the last order of a page, however
    # fast the machine runs (on the wall clock, how many orders fell within the overlap varied).
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    ticks = count()
    return build_scenario(
        orders=ORDERS,
        bad_every=0,
        seed=8,
        clock=lambda: start + timedelta(milliseconds=10 * next(ticks)),
    )


def _cursors(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    stored: list[str] = []
    real = store.set_cursor

    def spy(name: str, value: str, **kwargs: Any) -> None:
        if name == _dispatch_run.DISPATCH_CURSOR:
            stored.append(value)
        real(name, value, **kwargs)

    monkeypatch.setattr(store, "set_cursor", spy)
    return stored


def test_a_run_takes_on_reviews_and_checks_every_order_a_page_at_a_time(
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(store)
    assert engine.sync_orders().posted == ORDERS
    reads = [0]
    real = store.untracked_orders

    def counted(*, limit: int) -> Any:
        reads[0] += 1
        assert limit <= PAGE
        return real(limit=limit)

    monkeypatch.setattr(store, "untracked_orders", counted)
    stored = _cursors(store, monkeypatch)

    summary = engine.sync_dispatch()

    assert (summary.taken_on, summary.checked, summary.deferred) == (ORDERS, ORDERS, 0)
    assert reads[0] == 4  # pages of 5, 5 and 2, then none left
    # Every order was written back after the poll: the review reads 12 changes in 3 pages.
    assert len(stored) == 3
    assert stored == sorted(stored)


def test_a_review_stopped_on_a_later_page_resumes_after_the_last_page_it_finished(
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(store, poll_overlap_seconds=0.001)
    assert engine.sync_orders().posted == ORDERS
    stored = _cursors(store, monkeypatch)
    # The review's second page (the first query is the take-on's read by id) never answers.
    scenario.commercetools.faults.add(
        CommercetoolsFault(kind="status", method="GET", path=r"/orders$", skip=4, times=None)
    )

    first = engine.sync_dispatch()

    assert first.stopped == "CT_UNAVAILABLE"
    assert len(stored) == 1, "the first page's cursor is kept"
    scenario.commercetools.faults.clear()
    again = engine.sync_dispatch()
    assert again.stopped is None
    assert len(stored) == 1 + 2, "the next run reads from the first page's last order on"


def test_due_orders_are_read_a_batch_at_a_time_and_each_asked_about_once_per_run(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    # Asked about on every run (interval 0), so an order checked is due again at once.
    schedule = CheckSchedule(
        intervals=(CheckInterval(min_age_hours=0, every_hours=0),),
        max_checks_per_run=9,
        batch_size=4,
    )
    engine = make_engine(store, dispatch=DispatchConfig(schedule=schedule))
    assert engine.sync_orders().posted == ORDERS

    first = engine.sync_dispatch()
    checks = {r.order_id: r.checks for r in store.list_dispatch()}

    assert (first.checked, first.deferred) == (9, ORDERS - 9)
    assert sorted(checks.values()) == [0, 0, 0] + [1] * 9
    second = engine.sync_dispatch()
    assert (second.checked, second.deferred) == (9, ORDERS - 9)
    after = {r.order_id: r.checks for r in store.list_dispatch()}
    assert sum(after.values()) == 18
    assert all(after[o] - checks[o] <= 1 for o in after), "once per run"
