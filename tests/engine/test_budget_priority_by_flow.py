"""Order submission goes before dispatch polling and stock reads by the flow a request belongs
to, not only by its type: the order flow's OrderStatus checks go first, the dispatch flow's
OrderStatus polls wait; a poll never holds the concurrency slot a submission needs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from ct_prima_sync.engine import FakeClock, SharedBudget
from ct_prima_sync.prima import RequestFlow, request_flow
from ct_prima_sync.state import StateStore, open_store

T0 = datetime(2026, 11, 27, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: object) -> StateStore:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/b.db"
    return open_store(url)


def _budget(store: StateStore, clock: FakeClock, **kw: object) -> SharedBudget:
    options: dict[str, object] = {
        "rate": 2.0,
        "burst": 2,
        "max_concurrency": 2,
        "priority_requests": frozenset({"MultiNewOrder"}),
        "clock": clock,
    }
    options.update(kw)
    return SharedBudget(store, **options)  # type: ignore[arg-type]


def _send(
    budget: SharedBudget,
    clock: FakeClock,
    kind: str,
    flow: RequestFlow | None,
    max_wait: float | None = None,
) -> float | None:
    """When the request went (seconds after T0), None if it got no slot."""

    def go() -> float | None:
        with budget.slot(max_wait, kind) as granted:
            return (clock.now() - T0).total_seconds() if granted else None

    if flow is None:
        return go()
    with request_flow(flow):
        return go()


def test_the_order_flows_status_check_goes_first_and_the_dispatch_poll_of_the_same_type_waits(
    store: StateStore,
) -> None:
    clock = FakeClock(T0)
    budget = _budget(store, clock)
    assert _send(budget, clock, "MultiNewOrder", RequestFlow.ORDERS) == 0
    # One token of two left: the dispatch flow's OrderStatus keeps it back...
    assert _send(budget, clock, "OrderStatus", RequestFlow.DISPATCH, max_wait=0.1) is None
    # ...the order flow's OrderStatus (resolving an ambiguous submission) takes it.
    assert _send(budget, clock, "OrderStatus", RequestFlow.ORDERS, max_wait=0) == 0


def test_stock_reads_and_postings_wait_like_dispatch_polls(store: StateStore) -> None:
    clock = FakeClock(T0)
    budget = _budget(store, clock)
    assert _send(budget, clock, "CustomerFind", RequestFlow.ORDERS) == 0
    for kind, flow in [
        ("MultiAvailableToSell", RequestFlow.STOCK),
        ("DespatchDetails", RequestFlow.DISPATCH),
        ("PostJournal", RequestFlow.POSTINGS),
    ]:
        assert _send(budget, clock, kind, flow, max_wait=0.1) is None, kind


def test_a_flow_outranks_the_request_type(store: StateStore) -> None:
    """A MultiNewOrder some other flow sends (none does today) waits as that flow does; a
    request no flow claims is judged by its type, as before flows were known."""
    clock = FakeClock(T0)
    budget = _budget(store, clock)
    assert _send(budget, clock, "MultiNewOrder", None) == 0
    assert _send(budget, clock, "MultiNewOrder", RequestFlow.STOCK, max_wait=0.1) is None
    assert _send(budget, clock, "OrderStatus", None, max_wait=0.1) is None
    assert _send(budget, clock, "MultiNewOrder", None, max_wait=0) == 0


def test_which_flows_go_first_is_configurable(store: StateStore) -> None:
    clock = FakeClock(T0)
    budget = _budget(store, clock, priority_flows=frozenset({RequestFlow.STOCK}))
    assert _send(budget, clock, "MultiAvailableToSell", RequestFlow.STOCK) == 0
    assert _send(budget, clock, "MultiNewOrder", RequestFlow.ORDERS, max_wait=0.1) is None


def test_polls_never_take_the_last_concurrency_slot(tmp_path: object) -> None:
    store = open_store(f"sqlite:///{tmp_path}/c.db")
    clock = FakeClock(T0)
    budget = _budget(store, clock, rate=100.0, burst=100, max_concurrency=3)
    with (
        request_flow(RequestFlow.DISPATCH),
        budget.slot(0, "OrderStatus") as a,
        budget.slot(0, "OrderStatus") as b,
    ):
        assert a
        assert b
        with budget.slot(0, "OrderStatus") as c:
            assert not c, "the third slot is kept for the order flow"
        with request_flow(RequestFlow.ORDERS), budget.slot(0, "MultiNewOrder") as d:
            assert d, "a submission still finds a slot while polls fill the rest"


def test_a_waiting_poll_gives_its_concurrency_slot_back(tmp_path: object) -> None:
    """A poll that must wait for the rate does not sit on a concurrency slot meanwhile."""
    store = open_store(f"sqlite:///{tmp_path}/w.db")
    clock = FakeClock(T0)
    budget = _budget(store, clock, rate=1.0, burst=1, max_concurrency=2)
    # Submissions of other workers hold the rate three seconds ahead.
    for _ in range(3):
        store.reserve_request("prima", rate=1.0, burst=1, now=clock.now())
    assert _send(budget, clock, "OrderStatus", RequestFlow.DISPATCH, max_wait=1.5) is None
    for slot in range(2):
        assert store.try_lock(f"prima:in-flight:{slot}", owner="x", ttl_seconds=9, now=clock.now())


def test_the_flow_is_the_threads_own(store: StateStore) -> None:
    """Threads of one worker each carry their own flow: one thread's dispatch block does not
    make another thread's submission wait."""
    clock = FakeClock(T0)
    budget = _budget(store, clock)
    polling, done = threading.Event(), threading.Event()

    def dispatch_thread() -> None:
        with request_flow(RequestFlow.DISPATCH):
            polling.set()
            done.wait(5)

    with ThreadPoolExecutor(2) as pool:
        pool.submit(dispatch_thread)
        assert polling.wait(5)
        assert _send(budget, clock, "MultiNewOrder", None) == 0
        assert _send(budget, clock, "MultiNewOrder", None, max_wait=0) == 0
        done.set()
