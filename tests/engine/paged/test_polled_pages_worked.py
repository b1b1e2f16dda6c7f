"""An order run works each polled page as soon as it is in the ledger, before it fetches the
next, while the page's orders are in memory: no order is read again by id, and memory holds one
page however many orders changed. An outage or a crash on a later page leaves the pages before
it worked and the cursor after the last of them. A claimed order that is not in memory (another
process polled it) is read with its claim batch, one query per batch. Pages are five orders (or
messages) here so that a poll has several."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from ct_prima_sync.engine import SyncEngine
from ct_prima_sync.state import ExceptionFilter, OrderStatus, StateStore
from ct_prima_sync.testing import CommercetoolsFault
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from ..conftest import one_line_order
from ._small_pages import ORDERS, PAGE, CrashError

EngineFactory = Callable[..., SyncEngine]


_BY_ID = re.compile(r"/orders/[^/]+$")
_CURSORS = {"orders": "orders.lastModifiedAt", "messages": "messages.createdAt"}
_POLLED = {"orders": r"/orders$", "messages": r"/messages$"}


@pytest.fixture
def scenario(ct_now: list[datetime]) -> SyncScenario:
    scenario = build_scenario(orders=0, seed=7, clock=lambda: ct_now[0])
    for n in range(ORDERS):
        ct_now[0] += timedelta(milliseconds=1)
        number = f"P-{n:03d}"
        order = one_line_order(scenario, number, email=f"{number.lower()}@example.com", seed=n)
        scenario.commercetools.add_order(order)
    ct_now[0] += timedelta(seconds=1)  # the run's write-backs come after every order placed
    scenario.commercetools.clear_requests()
    return scenario


def _reads_by_id(scenario: SyncScenario) -> list[str]:
    return [
        r.path
        for r in scenario.commercetools.requests
        if r.method == "GET" and _BY_ID.search(r.path)
    ]


def _queries(scenario: SyncScenario) -> list[str]:
    """The ``where`` of every order query (the polls' and the batch reads')."""
    return [
        " ".join(r.query.get("where", ()))
        for r in scenario.commercetools.requests
        if r.method == "GET" and r.path.endswith("/orders")
    ]


def _numbers(store: StateStore, *statuses: OrderStatus) -> set[str | None]:
    return {r.order_number for r in store.list_orders(list(statuses or OrderStatus))}


def _in_prima(scenario: SyncScenario) -> set[str]:
    numbers = [o["orderNumber"] for o in scenario.commercetools.orders()]
    submissions = scenario.world.submission_counts()
    return {n for n in numbers if submissions[n]}


def _each_sent_once(scenario: SyncScenario) -> bool:
    numbers = [o["orderNumber"] for o in scenario.commercetools.orders()]
    submissions = scenario.world.submission_counts()
    return all(submissions[n] == 1 for n in numbers)


def _spy(store: StateStore, method: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Replace ``store.method`` by a spy that calls the function it returns first."""
    real = getattr(store, method)
    hooks: list[Callable[..., Any]] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        for hook in hooks:
            hook(*args, **kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, method, spy)
    return hooks.append


@pytest.mark.parametrize("source", ["orders", "messages"])
def test_a_poll_of_several_pages_works_each_page_before_the_next_and_reads_no_order_again(
    *,
    source: str,
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(store)
    cursor = _CURSORS[source]
    # At each page's cursor, the pages before it are worked (in Prima), none after.
    done_at_cursor: list[int] = []
    seen_sizes: list[int] = []
    _spy(store, "set_cursor", monkeypatch)(
        lambda name, *_a, **_k: (
            done_at_cursor.append(len(_in_prima(scenario))) if name == cursor else None
        )
    )
    _spy(store, "claim", monkeypatch)(lambda *_a, **_k: seen_sizes.append(len(engine._seen)))

    summary = engine.sync_orders(from_messages=source == "messages")

    assert (summary.ingested, summary.posted, summary.stopped) == (ORDERS, ORDERS, None)
    assert done_at_cursor == [0, 5, 10, 15, 20]
    assert _reads_by_id(scenario) == []
    assert not [w for w in _queries(scenario) if "id in" in w]
    assert seen_sizes
    assert max(seen_sizes) <= PAGE
    assert engine._seen == {}
    assert _each_sent_once(scenario)


@pytest.mark.parametrize("source", ["orders", "messages"])
def test_commercetools_down_on_the_second_page_leaves_the_first_worked_and_its_cursor(
    *,
    source: str,
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(store)
    scenario.commercetools.faults.add(
        CommercetoolsFault(
            # (the orders poll first reads the latest modification, then its pages)
            kind="status",
            method="GET",
            path=_POLLED[source],
            skip=1 + (source == "orders"),
            times=None,
        )
    )

    first = engine.sync_orders(from_messages=source == "messages")

    assert first.stopped == "CT_UNAVAILABLE"
    assert (first.ingested, first.posted) == (PAGE, PAGE)
    assert _numbers(store) == _numbers(store, OrderStatus.DONE) == _in_prima(scenario)
    assert len(_numbers(store)) == PAGE
    stored = store.get_cursor(_CURSORS[source])
    assert stored is not None
    cursor = datetime.fromisoformat(stored.value)
    in_ledger = _numbers(store)
    left = [o for o in scenario.commercetools.orders() if o["orderNumber"] not in in_ledger]
    assert len(left) == ORDERS - PAGE
    # (an order's OrderCreated message is stamped with its lastModifiedAt)
    assert all(datetime.fromisoformat(o["lastModifiedAt"]) >= cursor for o in left)

    scenario.commercetools.faults.clear()
    again = engine.sync_orders(from_messages=source == "messages")
    assert (again.stopped, again.posted) == (None, ORDERS - PAGE)
    assert _each_sent_once(scenario)


def test_a_crash_on_the_second_page_leaves_the_first_worked_and_its_cursor(
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = [0]

    def crash_on_second(*_args: Any, **_kwargs: Any) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise CrashError("writing the second page")

    with monkeypatch.context() as patch:
        _spy(store, "ingest_many", patch)(crash_on_second)
        with pytest.raises(CrashError):
            make_engine(store).sync_orders()

    assert _numbers(store) == _in_prima(scenario)
    assert len(_numbers(store)) == PAGE
    assert store.get_cursor(_CURSORS["orders"]) is not None
    summary = make_engine(store).sync_orders()
    assert summary.posted == ORDERS - PAGE
    assert _each_sent_once(scenario)


def test_max_orders_counts_over_the_whole_run_and_the_poll_still_ingests_every_page(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    summary = make_engine(store).sync_orders(max_orders=7)

    assert (summary.ingested, summary.posted) == (ORDERS, 7)
    assert len(_numbers(store)) == ORDERS
    assert len(_numbers(store, OrderStatus.DONE)) == 7
    assert _reads_by_id(scenario) == []


def test_progress_counts_up_to_the_orders_of_the_whole_run(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    reported: list[tuple[int, int]] = []

    make_engine(store).sync_orders(progress=lambda done, total: reported.append((done, total)))

    assert [done for done, _ in reported] == list(range(1, ORDERS + 1))
    assert all(done <= total <= ORDERS for done, total in reported)
    assert reported[-1] == (ORDERS, ORDERS)


def test_orders_another_process_polled_are_read_in_one_query_per_claim_batch(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    make_engine(store).poll_orders()
    scenario.commercetools.clear_requests()

    summary = make_engine(store, claim_batch=10).process_backlog()

    assert summary.posted == ORDERS
    assert _reads_by_id(scenario) == []
    reads = _queries(scenario)
    assert len(reads) == 3  # claims of 10, 10 and 3
    assert all("id in" in where for where in reads)
    assert _each_sent_once(scenario)


def test_an_order_commercetools_no_longer_has_ends_as_its_read_by_id_always_did(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    make_engine(store).poll_orders()
    gone = scenario.commercetools.orders()[3]
    scenario.commercetools.delete_order(gone["id"])
    scenario.commercetools.clear_requests()

    summary = make_engine(store).process_backlog()

    assert summary.posted == ORDERS - 1
    assert _reads_by_id(scenario) == [f"/{scenario.commercetools.project_key}/orders/{gone['id']}"]
    [problem] = store.list_exceptions(ExceptionFilter(order_id=gone["id"]))
    assert problem.kind == "CT_ORDER_NOT_FOUND"
    assert problem.detail["stage"] == "fetch"
    assert problem.detail["correlation_id"]
    record = store.get_order(gone["id"])
    assert record is not None
    assert record.status is OrderStatus.EXCEPTED


def test_a_batch_read_commercetools_does_not_answer_falls_back_to_reads_by_id(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    make_engine(store).poll_orders()
    scenario.commercetools.faults.add(
        CommercetoolsFault(kind="status", method="GET", path=r"/orders$", times=None)
    )
    scenario.commercetools.clear_requests()

    summary = make_engine(store, claim_batch=10).process_backlog()

    assert summary.posted == ORDERS
    assert len(_reads_by_id(scenario)) == ORDERS
    assert _each_sent_once(scenario)
