"""A poll reads orders page by page and stores its cursor after each page: stopped after any page
(a crash, an outage), the next poll reads again every order the ledger does not have yet, and
nothing is lost or sent twice. So does the poll of the messages API (``OrderCreated``), with its
own cursor. Pages are five orders (or messages) here so that a poll has several."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from ct_prima_sync.engine import EligibilityRules, FakeClock, SyncEngine, _order_ingest
from ct_prima_sync.state import OrderStatus, StateStore
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from ..conftest import one_line_order
from ._small_pages import ORDERS, PAGE, CrashError

EngineFactory = Callable[..., SyncEngine]


@pytest.fixture
def scenario(ct_now: list[datetime]) -> SyncScenario:
    return build_scenario(orders=0, seed=6, clock=lambda: ct_now[0])


def _place(scenario: SyncScenario, ct_now: list[datetime], count: int, *, first: int = 0) -> None:
    """Orders placed 0 or 1 ms apart in turn, so that some share a modification time (even
    across a page boundary) and ids do not follow modification times."""
    for n in range(first, first + count):
        ct_now[0] += timedelta(milliseconds=n % 2)
        number = f"P-{n:03d}"
        order = one_line_order(scenario, number, email=f"{number.lower()}@example.com", seed=n)
        scenario.commercetools.add_order(order)


def _ledger(store: StateStore) -> set[str | None]:
    return {r.order_number for r in store.list_orders(list(OrderStatus))}


_CURSORS = {"orders": "orders.lastModifiedAt", "messages": "messages.createdAt"}


def _poll(engine: SyncEngine, source: str) -> int:
    """One poll of ``source`` without the overlap window: how many orders were new."""
    if source == "messages":
        return engine.poll_messages(overlap_seconds=0)
    return engine.poll_orders(overlap_seconds=0)


def _cursor(store: StateStore, source: str = "orders") -> datetime:
    stored = store.get_cursor(_CURSORS[source])
    assert stored is not None
    return datetime.fromisoformat(stored.value)


def _crash_on_call(
    store: StateStore, method: str, call: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = getattr(store, method)
    calls = [0]

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == call:
            raise CrashError(f"{method} call {call}")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, method, crashing)


@pytest.mark.parametrize("source", ["orders", "messages"])
@pytest.mark.parametrize("after_page", [0, 1, 3])
@pytest.mark.parametrize(
    "where",
    ["writing the next page", "storing the next page's cursor"],
)
def test_a_poll_that_crashes_after_a_page_loses_nothing_and_sends_nothing_twice(
    *,
    source: str,
    after_page: int,
    where: str,
    scenario: SyncScenario,
    ct_now: list[datetime],
    store: StateStore,
    make_engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _place(scenario, ct_now, ORDERS)
    method = "ingest_many" if where == "writing the next page" else "set_cursor"
    crashing = make_engine(store)
    with monkeypatch.context() as patch:
        _crash_on_call(store, method, after_page + 1, patch)
        with pytest.raises(CrashError):
            _poll(crashing, source)

    in_ledger = _ledger(store)
    written = after_page + (method == "set_cursor")
    assert len(in_ledger) == PAGE * written
    missing = [o for o in scenario.commercetools.orders() if o["orderNumber"] not in in_ledger]
    if after_page:  # no cursor is stored before the first page is in the ledger
        cursor = _cursor(store, source)
        # (an order's OrderCreated message is stamped with its lastModifiedAt)
        assert all(datetime.fromisoformat(o["lastModifiedAt"]) >= cursor for o in missing)
    else:
        assert store.get_cursor(_CURSORS[source]) is None

    # The next poll, without the overlap window, reads the rest; a run sends each order once.
    engine = make_engine(store)
    added = _poll(engine, source)
    assert added == ORDERS - len(in_ledger)
    assert len(_ledger(store)) == ORDERS
    summary = engine.sync_orders(from_messages=source == "messages")
    assert summary.posted == ORDERS
    numbers = [o["orderNumber"] for o in scenario.commercetools.orders()]
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in numbers)


@pytest.mark.parametrize("source", ["orders", "messages"])
def test_the_cursor_stored_after_each_page_never_passes_an_order_not_yet_due(
    *,
    source: str,
    scenario: SyncScenario,
    ct_now: list[datetime],
    clock: FakeClock,
    store: StateStore,
    make_engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A young order first, then old orders modified after it: it is on the first page.
    held_at = _young_then_old(scenario, ct_now, clock)
    engine = make_engine(store, eligibility=EligibilityRules(min_age_seconds=600))
    poll = engine.poll_messages if source == "messages" else engine.poll_orders
    stored = _cursors_stored(monkeypatch, store, _CURSORS[source])
    assert poll(overlap_seconds=0) == 12
    assert len(stored) == 3  # one cursor per page: 5, 5 and 3 orders (or messages)
    assert all(datetime.fromisoformat(v) == held_at for v in stored)
    assert "YOUNG" not in _ledger(store)

    clock.advance(600)
    assert poll(overlap_seconds=0) == 1
    assert "YOUNG" in _ledger(store)
    clock.advance(600)
    assert poll(overlap_seconds=0) == 0
    assert _cursor(store, source) > held_at


def test_the_run_keeps_at_most_a_page_of_polled_orders(
    scenario: SyncScenario, ct_now: list[datetime], store: StateStore, make_engine: EngineFactory
) -> None:
    _place(scenario, ct_now, ORDERS)
    engine = make_engine(store)
    engine.poll_orders()
    assert len(engine._seen) <= _order_ingest.SEEN_LIMIT
    assert engine.sync_orders().posted == ORDERS
    assert engine._seen == {}


def _young_then_old(scenario: SyncScenario, ct_now: list[datetime], clock: FakeClock) -> datetime:
    """An order too young to be due, then twelve old orders modified after it; the young
    order's ``lastModifiedAt``."""
    ct_now[0] = clock.now() - timedelta(seconds=60)
    young = one_line_order(scenario, "YOUNG", email="young@example.com", seed=900)
    young["createdAt"] = ct_now[0].isoformat().replace("+00:00", "Z")
    held_at = datetime.fromisoformat(scenario.commercetools.add_order(young)["lastModifiedAt"])
    for n in range(12):
        ct_now[0] += timedelta(seconds=1)
        order = one_line_order(scenario, f"OLD-{n}", email=f"old{n}@example.com", seed=n)
        order["createdAt"] = (clock.now() - timedelta(hours=3)).isoformat().replace("+00:00", "Z")
        scenario.commercetools.add_order(order)
    return held_at


def _cursors_stored(monkeypatch: pytest.MonkeyPatch, store: StateStore, cursor: str) -> list[str]:
    """The values stored for ``cursor`` from now on, in order."""
    stored: list[str] = []
    real = store.set_cursor

    def spy(name: str, value: str, **kwargs: Any) -> None:
        if name == cursor:
            stored.append(value)
        real(name, value, **kwargs)

    monkeypatch.setattr(store, "set_cursor", spy)
    return stored
