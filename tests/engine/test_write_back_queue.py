"""The commercetools write-back runs beside the submissions: commercetools refusing it never
holds Prima's queue, never sends an order to Prima twice and never makes an order look
unposted; its retry goes through the ledger and a later run finishes it."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import pytest

from ct_prima_sync.engine import EngineConfig, FakeClock, RetryBackoff, WriteBack
from ct_prima_sync.state import OrderStatus, Owner, StateStore, open_store
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .conftest import EngineFactory

#: commercetools' order updates (the write-back: one order's, or a group's GraphQL request), and
#: nothing else the run asks.
_ORDER_UPDATE = r"/orders/[^/?]+$|/graphql$"


@pytest.fixture
def scenario() -> SyncScenario:
    """Twenty good orders."""
    return build_scenario(orders=20, bad_every=0, seed=7)


class Crash(BaseException):
    """The process dying: nothing in the engine catches it."""


def _refuse_write_backs(scenario: SyncScenario) -> None:
    scenario.commercetools.faults.fail(503, method="POST", path=_ORDER_UPDATE, times=None)


def _synced(scenario: SyncScenario) -> dict[str, int]:
    """How many Prima references each commercetools order carries, by order number."""
    return {o["orderNumber"]: len(o.get("syncInfo") or []) for o in scenario.commercetools.orders()}


def test_commercetools_refusing_the_write_back_neither_holds_nor_repeats_prima(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    _refuse_write_backs(scenario)
    engine = make_engine(store, retry=RetryBackoff(base_seconds=60, cap_seconds=600))

    first = engine.sync_orders()

    good = len(scenario.good)
    assert (first.posted, first.retrying, first.backlog, first.stopped) == (good, 0, 0, None)
    assert (first.write_backs_done, first.write_backs_failed) == (0, good)
    assert first.write_backs_pending == good
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)
    counts = store.count_orders_by_status()
    assert counts[OrderStatus.DONE] == good, "in Prima is done, whatever commercetools says"
    problems = store.list_exceptions()
    assert {(p.kind, p.owner, p.transient) for p in problems} == {
        ("CT_WRITE_BACK_FAILED", Owner.ECOMMERCE, True)
    }
    assert len(problems) == good
    assert {p.detail["prima_reference"] for p in problems} == {
        o.prima_reference for o in scenario.world.orders()
    }
    health = engine.health().flow("orders").figures
    assert (health["backlog"], health["oldest_not_in_prima"]) == (0, None)
    assert (health["write_back_pending"], health["write_back_retrying"]) == (good, good)
    assert set(_synced(scenario).values()) == {0}

    scenario.commercetools.faults.clear()
    again = engine.sync_orders()
    assert (again.write_backs_done, again.write_backs_pending) == (0, good), "not due yet"
    clock.advance(61)
    later = engine.sync_orders()

    assert (later.write_backs_done, later.write_backs_failed) == (good, 0)
    assert (later.write_backs_pending, later.posted, later.backlog) == (0, 0, 0)
    assert set(_synced(scenario).values()) == {1}
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)
    assert [p for p in store.list_exceptions() if p.is_open] == []
    assert engine.health().flow("orders").figures["write_back_pending"] == 0


def test_a_write_back_that_keeps_failing_backs_off_through_the_ledger(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    _refuse_write_backs(scenario)
    engine = make_engine(store, retry=RetryBackoff(base_seconds=60, cap_seconds=600))
    engine.sync_orders()
    clock.advance(61)

    second = engine.sync_orders()

    good = len(scenario.good)
    assert (second.write_backs_failed, second.write_backs_pending) == (good, good)
    order_id = scenario.commercetools.orders()[0]["id"]
    queued = store.get_write_back(order_id)
    assert queued is not None
    assert queued.attempts == 2
    assert (queued.due_at - clock.now()).total_seconds() == 120, "the backoff doubled"
    (problem,) = store.list_exceptions()[:1]
    assert problem.occurrences == 2, "one open exception per order, counted again"
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)


def test_a_slow_write_back_does_not_hold_the_next_submission(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    submitted = threading.Event()
    seen: list[str] = []

    def checkpoint(step: str, _order_id: str) -> None:
        if step == "submitted":
            seen.append(_order_id)
            if len(seen) == len(scenario.good):
                submitted.set()
        elif step == "written_back" and not submitted.is_set():
            # The first write-backs wait until every order went to Prima: a run that held the
            # submissions for them would wait here for ever (the timeout says it did).
            assert submitted.wait(timeout=8), "the submissions waited for a write-back"

    engine = make_engine(store, checkpoint=checkpoint, concurrency=1, claim_batch=10)

    summary = engine.sync_orders()

    assert (summary.posted, summary.write_backs_done) == (len(scenario.good),) * 2
    assert set(_synced(scenario).values()) == {1}


@contextmanager
def _counting_commits(store: StateStore) -> Iterator[list[str]]:
    """Records the function of the write-back pass behind each commit ('' for other commits)."""
    commits: list[str] = []
    write = store._write  # type: ignore[attr-defined]

    @contextmanager
    def counted() -> Iterator[Any]:
        frames = traceback.extract_stack(limit=12)
        with write() as tx:
            yield tx
        mine = [f.name for f in frames if f.filename.endswith("_write_back_pass.py")]
        commits.append(mine[-1] if mine else "")

    store._write = counted  # type: ignore[attr-defined]
    try:
        yield commits
    finally:
        del store._write  # type: ignore[attr-defined]


def test_the_write_back_commits_once_per_claim_batch_not_per_order(
    scenario: SyncScenario, tmp_path_factory: pytest.TempPathFactory, make_engine: EngineFactory
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('commits')}/sync.db"
    with open_store(url) as store, _counting_commits(store) as commits:
        summary = make_engine(store, claim_batch=5).sync_orders()

    assert summary.write_backs_done == len(scenario.good) == 20
    write_back = [c for c in commits if c]
    # Four claim batches: at most one "done" commit after each and one at the run's end, and
    # one look at the retry queue (empty) for the whole run. Before, each order took its own.
    assert len(write_back) <= 4 + 1 + 1, write_back
    assert write_back.count("_start_due_retries") == 1


def test_a_crash_between_the_reference_and_the_write_back_leaves_it_queued(
    scenario: SyncScenario,
    make_engine: EngineFactory,
    clock: FakeClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('crash')}/sync.db"

    def crash_after_the_third_reference(step: str, _order_id: str, seen: list[str] = []) -> None:  # noqa: B006
        if step == "recorded":
            seen.append(_order_id)
            if len(seen) == 3:
                raise Crash

    with open_store(url) as store:
        crashing = make_engine(store, checkpoint=crash_after_the_third_reference, concurrency=1)
        with pytest.raises(Crash):
            crashing.sync_orders()
        figures = crashing.health().flow("orders").figures
        assert figures["write_back_pending"] >= 1, "the crashed order is in Prima, written or not"
        assert figures["stalled"] == 0
        in_prima = {o.order_number for o in scenario.world.orders()}
        backlog = figures["backlog"]
        assert backlog == len(scenario.good) - len(in_prima), "in Prima is never waiting"
    clock.advance(EngineConfig().lease_seconds + 1)
    with open_store(url) as store:
        summary = make_engine(store, worker_id="worker-2").sync_orders()
        assert (summary.backlog, summary.write_backs_pending) == (0, 0)
        assert store.count_orders_by_status()[OrderStatus.DONE] == len(scenario.good)
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)
    assert set(_synced(scenario).values()) == {1}, "each written back exactly once"


def test_the_write_back_runs_on_threads_of_its_own(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    threads: set[str] = set()

    def checkpoint(step: str, _order_id: str) -> None:
        if step == "written_back":
            threads.add(threading.current_thread().name)

    engine = make_engine(store, checkpoint=checkpoint, write_back=WriteBack(concurrency=3))
    engine.sync_orders()

    assert threads
    assert all(name.startswith("ct-prima-sync-write-back") for name in threads)
    assert len(threads) <= 3


def test_a_subscription_message_answers_for_its_order_and_leaves_the_retries_to_the_run(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    _refuse_write_backs(scenario)
    engine = make_engine(store, retry=RetryBackoff(base_seconds=60, cap_seconds=600))
    engine.sync_orders()
    scenario.commercetools.faults.clear()
    clock.advance(61)
    order = scenario.commercetools.orders()[0]

    answered = engine.handle_message(
        {"resource": {"typeId": "order", "id": order["id"]}, "order": order}
    )

    assert answered.write_backs_done == 0
    assert store.count_write_backs_queued() == len(scenario.good)
    assert engine.sync_orders().write_backs_done == len(scenario.good)


def test_an_operators_retry_makes_a_queued_write_back_due_at_once(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    """The write-back's exception retried (by id and by order, as ``ct-prima-sync retry``
    does) after commercetools was fixed: the next run writes the reference back without waiting
    out the backoff, and sends nothing to Prima again."""
    _refuse_write_backs(scenario)
    engine = make_engine(store, retry=RetryBackoff(base_seconds=3600, cap_seconds=3600))
    engine.sync_orders()
    scenario.commercetools.faults.clear()
    first, second = (o["id"] for o in scenario.commercetools.orders()[:2])
    (problem,) = [p for p in store.list_exceptions() if p.order_id == first]

    assert engine.retry_exception(problem.exception_id) == 1
    assert engine.retry_exceptions(order_id=second) == 1
    for order_id in (first, second):
        queued = store.get_write_back(order_id)
        assert queued is not None
        assert queued.due_at == clock.now(), "due at once, not after the hour's backoff"
        assert queued.attempts == 1

    later = engine.sync_orders()
    assert later.write_backs_done == 2
    assert store.get_write_back(first) is None
    assert store.get_write_back(second) is None
    assert later.write_backs_pending == len(scenario.good) - 2, "the others keep their backoff"
    synced = _synced(scenario)
    numbers = {o["id"]: o["orderNumber"] for o in scenario.commercetools.orders()}
    assert (synced[numbers[first]], synced[numbers[second]]) == (1, 1)
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)


class _GatedWriter:
    """A reference writer whose every write waits until the test lets it finish (in the order
    they were queued: one write-back thread)."""

    def __init__(self, n: int) -> None:
        self.gates = [threading.Event() for _ in range(n)]
        self.finished = 0
        self._lock = threading.Lock()
        self._next = 0

    def write(self, order: object, reference: str) -> None:
        with self._lock:
            gate = self.gates[self._next]
            self._next += 1
        assert gate.wait(30), "the test never let this write finish"
        with self._lock:
            self.finished += 1


def test_the_run_waits_when_write_backs_fall_twice_a_claim_batch_behind(
    clock: FakeClock,
) -> None:
    """More write-backs in flight than twice a claim batch (here 2 x 3): collecting after a batch
    waits for them until no more than one claim batch is left, so the write-backs held in memory
    stay bounded however far commercetools falls behind; up to that bound it never waits."""
    from ct_prima_sync.commercetools import CommercetoolsClient, Order
    from ct_prima_sync.engine._summary import SummaryBuilder
    from ct_prima_sync.engine._write_back import ReferenceWriter
    from ct_prima_sync.engine._write_back_pass import WriteBackPass

    # One order per job (batch_size 1), so that each gate holds one write-back.
    config = EngineConfig(
        worker_id="w", claim_batch=3, write_back=WriteBack(concurrency=1, batch_size=1)
    )
    writer = _GatedWriter(7)
    with open_store("memory://") as store:
        write_backs = WriteBackPass(
            ct=cast("CommercetoolsClient", None),
            store=store,
            writer=cast("ReferenceWriter", writer),
            config=config,
            clock=clock,
            checkpoint=lambda _step, _order_id: None,
        )
        summary = SummaryBuilder(clock.now())
        far = clock.now() + timedelta(days=1)  # no lease about to run out: only the bound waits
        try:
            for n in range(6):
                write_backs.queue(
                    f"o-{n}", None, cast("Order", object()), f"P{n}", lease_expires_at=far
                )
            write_backs.collect(summary, retries=False)  # six in flight: at the bound, no wait
            assert writer.finished == 0

            write_backs.queue("o-6", None, cast("Order", object()), "P6", lease_expires_at=far)
            finished_when_returned: list[int] = []
            released = [0]

            def collect() -> None:
                write_backs.collect(summary, retries=False)
                finished_when_returned.append(released[0])

            collector = threading.Thread(target=collect)
            collector.start()
            for n in range(4):  # seven in flight: it waits until three are left
                released[0] = n + 1
                writer.gates[n].set()
            collector.join(30)
            assert not collector.is_alive()
            assert finished_when_returned == [4], "returned before the write-backs caught up"
            assert writer.finished == 4
        finally:
            for gate in writer.gates:
                gate.set()
            write_backs.close()
