"""Write-backs in groups: one commercetools GraphQL request per group of orders
(``WriteBack.batch_size``); an order whose update did not apply goes the one-order way, so each
order is written back exactly once whatever the request came to."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from typing import cast

import pytest

from ct_prima_sync.commercetools import CommercetoolsClient, Order
from ct_prima_sync.engine import EngineConfig, FakeClock, WriteBack
from ct_prima_sync.engine._summary import SummaryBuilder
from ct_prima_sync.engine._write_back import ReferenceWriter
from ct_prima_sync.engine._write_back_pass import WriteBackPass
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.state import OrderStatus, StateStore, open_store
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .conftest import EngineFactory

_ONE_ORDER = re.compile(r"/orders/[^/?]+$")
#: Twenty orders in claim batches of ten, groups of five: two full groups per claim batch.
GRAPHQL_REQUESTS = 4


@pytest.fixture
def scenario() -> SyncScenario:
    """Twenty good orders."""
    return build_scenario(orders=20, bad_every=0, seed=7)


def _synced(scenario: SyncScenario) -> dict[str, int]:
    """How many Prima references each commercetools order carries, by order id."""
    return {o["id"]: len(o.get("syncInfo") or []) for o in scenario.commercetools.orders()}


def _graphql(scenario: SyncScenario) -> int:
    return sum(1 for r in scenario.commercetools.requests if r.path.endswith("/graphql"))


def _one_order_posts(scenario: SyncScenario) -> list[str]:
    return [
        r.path.rsplit("/", 1)[1]
        for r in scenario.commercetools.requests
        if r.method == "POST" and _ONE_ORDER.search(r.path)
    ]


def _all_done_once(scenario: SyncScenario, store: StateStore) -> None:
    assert set(_synced(scenario).values()) == {1}, "each order written back exactly once"
    assert store.count_orders_by_status()[OrderStatus.DONE] == len(scenario.good)
    assert all(n == 1 for n in scenario.world.submission_counts().values())


def test_a_claim_batch_is_written_back_in_few_requests(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    # One submitting thread, so that every claim batch's orders are all queued before its
    # collection (with more, an order whose customer is busy in another thread goes back to the
    # ledger and comes in a later claim batch, with a group of its own).
    engine = make_engine(store, claim_batch=10, concurrency=1, write_back=WriteBack(batch_size=5))

    summary = engine.sync_orders()

    assert summary.write_backs_done == len(scenario.good)
    assert _one_order_posts(scenario) == []
    assert _graphql(scenario) == GRAPHQL_REQUESTS
    _all_done_once(scenario, store)


def test_an_order_changed_meanwhile_is_read_again_and_the_rest_of_its_group_is_written(
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ct_prima_sync.engine.write_back")
    changed: list[str] = []

    def merchant_edits_the_first_order(step: str, order_id: str) -> None:
        if step == "recorded" and not changed:
            changed.append(order_id)
            scenario.commercetools.update_order(
                order_id, [{"action": "changeShipmentState", "shipmentState": "Ready"}]
            )

    engine = make_engine(
        store, checkpoint=merchant_edits_the_first_order, write_back=WriteBack(batch_size=25)
    )

    summary = engine.sync_orders()

    assert (summary.write_backs_done, summary.write_backs_failed) == (len(scenario.good), 0)
    assert _one_order_posts(scenario) == changed, "only the conflicting order went alone"
    edited = scenario.commercetools.order(changed[0])
    assert edited["shipmentState"] == "Ready", "the merchant's change is kept"
    said = [r.getMessage() for r in caplog.records if "grouped write-back" in r.getMessage()]
    (line,) = said  # how many orders its group held depends on when the run collected
    assert re.fullmatch(r"grouped write-back: 1 of \d+ orders go the one-order way "
                        r"\(ConcurrentModification\)", line)  # fmt: skip
    _all_done_once(scenario, store)


def test_a_failed_group_request_falls_back_to_one_request_per_order(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    scenario.commercetools.faults.fail(500, method="POST", path="/graphql$", times=None)
    engine = make_engine(store, write_back=WriteBack(batch_size=25))

    summary = engine.sync_orders()

    assert (summary.write_backs_done, summary.write_backs_failed) == (len(scenario.good), 0)
    assert sorted(_one_order_posts(scenario)) == sorted(_synced(scenario))
    _all_done_once(scenario, store)


def test_a_group_request_applied_but_unanswered_is_not_written_twice(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    scenario.commercetools.faults.read_timeout(
        method="POST", path="/graphql$", after_send=True, times=None
    )
    engine = make_engine(store, write_back=WriteBack(batch_size=25))

    summary = engine.sync_orders()

    assert (summary.write_backs_done, summary.write_backs_failed) == (len(scenario.good), 0)
    # Each order's own update meets a 409 (the group's request applied it), reads the order
    # again and finds nothing left to write.
    assert len(_one_order_posts(scenario)) == len(scenario.good)
    _all_done_once(scenario, store)


def test_batch_size_one_writes_each_order_in_its_own_request(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    engine = make_engine(store, write_back=WriteBack(batch_size=1))

    summary = engine.sync_orders()

    assert summary.write_backs_done == len(scenario.good)
    assert _graphql(scenario) == 0
    assert len(_one_order_posts(scenario)) == len(scenario.good)
    _all_done_once(scenario, store)


def test_queued_retries_are_read_again_and_written_in_groups(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    faults = scenario.commercetools.faults
    faults.fail(503, method="POST", path=r"/orders/[^/?]+$|/graphql$", times=None)
    engine = make_engine(store, write_back=WriteBack(batch_size=8))
    first = engine.sync_orders()
    assert first.write_backs_failed == len(scenario.good)
    faults.clear()
    scenario.commercetools.clear_requests()
    clock.advance(3600)

    later = engine.sync_orders()

    assert later.write_backs_done == len(scenario.good)
    assert _graphql(scenario) == 3, "twenty retries in groups of eight"
    assert _one_order_posts(scenario) == []
    _all_done_once(scenario, store)


def test_the_settings_file_sets_the_group_size() -> None:
    config = EngineConfig.from_dict({"write_back": {"batch_size": 7}})
    assert config.write_back.batch_size == 7
    assert EngineConfig().write_back.batch_size == 25
    for wrong in (0, -1):
        with pytest.raises(ConfigurationError, match="batch_size"):
            EngineConfig.from_dict({"write_back": {"batch_size": wrong}})


class _GatedGroups:
    """A reference writer whose every group waits until the test lets it finish (in the order
    they were sent: one write-back thread); each group finds nothing left to write."""

    def __init__(self, n: int) -> None:
        self.gates = [threading.Event() for _ in range(n)]
        self.groups: list[list[str]] = []
        self._lock = threading.Lock()

    def write_many(self, orders: list[tuple[object, str]]) -> list[None]:
        with self._lock:
            gate = self.gates[len(self.groups)]
            self.groups.append([reference for _, reference in orders])
        assert gate.wait(30), "the test never let this group finish"
        return [None] * len(orders)


def _pass(clock: FakeClock, writer: _GatedGroups, store: StateStore) -> WriteBackPass:
    config = EngineConfig(
        worker_id="w", claim_batch=3, write_back=WriteBack(concurrency=1, batch_size=3)
    )
    return WriteBackPass(
        ct=cast("CommercetoolsClient", None),
        store=store,
        writer=cast("ReferenceWriter", writer),
        config=config,
        clock=clock,
        checkpoint=lambda _step, _order_id: None,
    )


def _collect_in_thread(
    write_backs: WriteBackPass, writer: _GatedGroups, clock: FakeClock, release: int
) -> list[int]:
    """Collect while the test releases the first ``release`` groups one by one; how many were
    released when the collection returned."""
    summary = SummaryBuilder(clock.now())
    returned: list[int] = []
    released = [0]

    def collect() -> None:
        write_backs.collect(summary, retries=False)
        returned.append(released[0])

    collector = threading.Thread(target=collect)
    collector.start()
    for n in range(release):
        released[0] = n + 1
        writer.gates[n].set()
    collector.join(30)
    assert not collector.is_alive()
    return returned


def test_a_group_holding_an_order_whose_lease_runs_out_is_waited_for(clock: FakeClock) -> None:
    writer = _GatedGroups(2)
    with open_store("memory://") as store:
        write_backs = _pass(clock, writer, store)
        try:
            far = clock.now() + timedelta(days=1)
            soon = clock.now() + timedelta(seconds=1)
            write_backs.queue("o-0", None, cast("Order", object()), "P0", lease_expires_at=far)
            write_backs.queue("o-1", None, cast("Order", object()), "P1", lease_expires_at=soon)

            returned = _collect_in_thread(write_backs, writer, clock, release=1)

            assert writer.groups == [["P0", "P1"]], "the filling group went at the collection"
            assert returned == [1], "returned before the order's write-back was collected"
        finally:
            for gate in writer.gates:
                gate.set()
            write_backs.close()


def test_the_in_flight_bound_counts_orders_not_groups(clock: FakeClock) -> None:
    writer = _GatedGroups(3)
    with open_store("memory://") as store:
        write_backs = _pass(clock, writer, store)
        try:
            far = clock.now() + timedelta(days=1)
            for n in range(7):  # two full groups sent at once, the seventh order filling
                write_backs.queue(
                    f"o-{n}", None, cast("Order", object()), f"P{n}", lease_expires_at=far
                )

            # Seven orders in flight, above twice a claim batch: it waits until three are left.
            returned = _collect_in_thread(write_backs, writer, clock, release=2)

            assert returned == [2]
            assert [len(g) for g in writer.groups] == [3, 3, 1]
        finally:
            for gate in writer.gates:
                gate.set()
            write_backs.close()
