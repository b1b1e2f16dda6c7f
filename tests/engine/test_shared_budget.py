"""The Prima budget shared through the store: one rate and one concurrency cap for every worker,
order submissions first, nothing sent past max_wait, Retry-After honoured by all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ct_prima_sync.engine import FakeClock, SharedBudget, request_budget
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.prima import FlowControl, OmlinkConfig
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
    budget: SharedBudget, clock: FakeClock, kind: str, max_wait: float | None = None
) -> float | None:
    """When the request of ``kind`` went (seconds after T0), None if it got no slot."""
    with budget.slot(max_wait, kind) as granted:
        return (clock.now() - T0).total_seconds() if granted else None


def test_two_workers_share_one_rate(store: StateStore) -> None:
    clock = FakeClock(T0)
    first, second = _budget(store, clock), _budget(store, clock)
    times = [_send(w, clock, "MultiNewOrder") for _ in range(3) for w in (first, second)]
    assert times == pytest.approx([0, 0, 0.5, 1.0, 1.5, 2.0])


def test_a_poll_waits_while_submissions_use_the_budget_and_goes_when_it_is_free(
    store: StateStore,
) -> None:
    clock = FakeClock(T0)
    budget = _budget(store, clock)
    assert _send(budget, clock, "MultiNewOrder") == 0
    # One token left of two: a poll keeps it back (and gives up at once, as its turn is further
    # off than it may wait), a submission takes it.
    assert _send(budget, clock, "OrderStatus", max_wait=0.1) is None
    assert _send(budget, clock, "MultiNewOrder", max_wait=0) == 0
    # After an idle spell the bucket is full again and the poll goes straight away.
    clock.advance(5)
    assert _send(budget, clock, "OrderStatus", max_wait=0) == pytest.approx(5)


def test_a_low_priority_request_never_reserves_ahead_of_later_submissions(
    store: StateStore,
) -> None:
    clock = FakeClock(T0)
    budget = _budget(store, clock, rate=1.0, burst=1)
    assert _send(budget, clock, "MultiNewOrder") == 0
    assert _send(budget, clock, "MultiNewOrder", max_wait=0) is None
    # Two submissions queued by other workers: the budget is taken three seconds ahead. A poll
    # that may wait 1.5 s looks twice and gives up without having reserved anything...
    store.reserve_request("prima", rate=1.0, burst=1, now=clock.now())
    store.reserve_request("prima", rate=1.0, burst=1, now=clock.now())
    assert _send(budget, clock, "DespatchDetails", max_wait=1.5) is None
    # ...so the next submission's turn is where it was (3 s), not behind the poll.
    assert _send(budget, clock, "MultiNewOrder") == pytest.approx(3)


class _LateWaker(FakeClock):
    """A fake clock on a busy machine: the sleeps listed in ``late`` (by their order, from 0)
    end ``by`` seconds after they should."""

    def __init__(self, start: datetime, late: set[int], by: float) -> None:
        super().__init__(start)
        self.late, self.by, self.sleeps = late, by, 0
        self.meanwhile: Callable[[], None] = lambda: None
        """What other workers do while a late sleep lasts."""

    def sleep(self, seconds: float) -> None:
        late = self.sleeps in self.late
        self.sleeps += 1
        if late:
            self.meanwhile()
        super().sleep(seconds + (self.by if late else 0.0))


def test_a_worker_held_up_after_its_moment_does_not_leave_with_the_next_one(
    store: StateStore,
) -> None:
    # Four workers, one request a second: the second worker's wait for its moment (1 s) ends
    # 0.8 s late. Leaving at 1.8 s, it would go 0.2 s before the third worker (2.0 s), two
    # requests where the budget allows one; it reserves afresh and goes at 2.0 s, the others
    # each a second later. The moment it gave up (1 s) stays spent.
    clock = _LateWaker(T0, late={0}, by=0.8)
    workers = [_budget(store, clock, rate=1.0, burst=1) for _ in range(4)]
    left = [_send(worker, clock, "MultiNewOrder") for worker in workers]
    assert left == pytest.approx([0.0, 2.0, 3.0, 4.0])
    assert [worker.held_up for worker in workers] == [0, 1, 0, 0]


def test_a_poll_held_up_past_its_moment_takes_no_turn_ahead_of_queued_submissions(
    store: StateStore,
) -> None:
    clock = _LateWaker(T0, late={0}, by=0.8)
    budget = _budget(store, clock, rate=1.0, burst=1)
    assert _send(budget, clock, "MultiNewOrder") == 0

    def two_submissions_queue() -> None:
        for _ in range(2):
            store.reserve_request("prima", rate=1.0, burst=1, now=clock.now())

    clock.meanwhile = two_submissions_queue
    # The poll's moment was 1 s; woken at 1.8 s, it reserves again as a poll does (no more than
    # an interval ahead): the next free moment is 4 s, so it is not sent...
    assert _send(budget, clock, "DespatchDetails", max_wait=1.5) is None
    assert budget.held_up == 1
    # ...and the next submission's turn is where the queue left it, not behind the poll.
    assert _send(budget, clock, "MultiNewOrder") == pytest.approx(4)


def test_a_worker_paused_while_the_store_answers_does_not_leave_with_the_next_one(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After an idle spell the second worker's moment is the moment it asked (5 s), but its
    # process is paused for 0.8 s while the store answers. Leaving at 5.8 s, it would go 0.2 s
    # before the third worker's moment (6 s): it reserves again and goes at 6 s.
    clock = FakeClock(T0)
    workers = [_budget(store, clock, rate=1.0, burst=1) for _ in range(3)]
    assert _send(workers[0], clock, "MultiNewOrder") == 0
    clock.advance(5)
    answer = store.reserve_request
    pauses = [0.8]

    def paused_answer(name: str, **kw: Any) -> float | None:
        wait = answer(name, **kw)
        clock.advance(pauses.pop() if pauses else 0.0)
        return wait

    monkeypatch.setattr(store, "reserve_request", paused_answer)
    left = [_send(worker, clock, "MultiNewOrder") for worker in workers[1:]]
    assert left == pytest.approx([6.0, 7.0])
    assert workers[1].held_up == 1


def test_a_worker_a_little_late_keeps_its_moment(store: StateStore) -> None:
    # Less than half an interval late (0.3 s of 1 s): it goes as it is rather than give its
    # moment up (no whole second holds two requests).
    clock = _LateWaker(T0, late={0}, by=0.3)
    workers = [_budget(store, clock, rate=1.0, burst=1) for _ in range(3)]
    left = [_send(worker, clock, "MultiNewOrder") for worker in workers]
    assert left == pytest.approx([0.0, 1.3, 2.0])
    assert sum(worker.held_up for worker in workers) == 0


def test_the_concurrency_cap_counts_requests_in_flight_across_workers(
    tmp_path: object,
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/c.db")
    clock = FakeClock(T0)
    first, second, third = (_budget(store, clock, rate=100.0, burst=100) for _ in range(3))
    with first.slot(0, "MultiNewOrder") as a, second.slot(0, "MultiNewOrder") as b:
        assert a
        assert b
        with third.slot(0, "MultiNewOrder") as c:
            assert not c, "a third request while two are in flight"
    with third.slot(0, "MultiNewOrder") as c:
        assert c, "the slots are free again once the requests finished"


def test_a_slot_left_by_a_dead_worker_frees_itself(store: StateStore) -> None:
    clock = FakeClock(T0)
    budget = _budget(store, clock, max_concurrency=1, slot_seconds=60)
    store.try_lock("prima:in-flight:0", owner="dead-worker", ttl_seconds=60, now=clock.now())
    assert _send(budget, clock, "MultiNewOrder", max_wait=10) is None
    assert _send(budget, clock, "MultiNewOrder", max_wait=60) == pytest.approx(60, abs=0.1)


def test_retry_after_holds_back_every_worker(store: StateStore) -> None:
    clock = FakeClock(T0)
    first, second = _budget(store, clock), _budget(store, clock)
    first.pause(30)
    assert _send(second, clock, "MultiNewOrder") == pytest.approx(30)


def test_threads_of_one_worker_each_hold_their_own_slot(tmp_path: object) -> None:
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    budget = SharedBudget(store, rate=1000.0, burst=1000, max_concurrency=3, poll_seconds=0.001)
    in_flight, peak, guard = 0, 0, threading.Lock()

    def request() -> None:
        nonlocal in_flight, peak
        with budget.slot(10, "MultiNewOrder") as granted:
            assert granted
            with guard:
                in_flight += 1
                peak = max(peak, in_flight)
            threading.Event().wait(0.005)
            with guard:
                in_flight -= 1

    threads = [threading.Thread(target=request) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak <= 3


def test_a_budget_that_lets_nothing_through_is_refused(store: StateStore) -> None:
    for bad in ({"rate": 0.0}, {"burst": 0}, {"max_concurrency": 0}, {"headroom": -1.0}):
        with pytest.raises(ConfigurationError):
            _budget(store, FakeClock(T0), **bad)


def test_the_memory_store_keeps_the_clients_own_limiter(tmp_path: object) -> None:
    config = OmlinkConfig(endpoint="http://prima.test/omlink", company_id="01")
    with open_store("memory://") as memory:
        chosen = request_budget(memory, config)
        assert type(chosen) is FlowControl
    with open_store(f"sqlite:///{tmp_path}/s.db") as sqlite:
        shared = request_budget(sqlite, config)
        assert isinstance(shared, SharedBudget)
        assert shared.priority_requests == {"MultiNewOrder", "CustomerFind", "CustomerCreate"}
        assert (shared.rate_limit, shared.burst) == (config.rate_limit, config.burst)
        assert shared.max_concurrency == config.max_concurrency
        longest = config.max_wait + config.connect_timeout + config.read_timeout
        assert shared.slot_seconds == longest + 5.0
        assert "password" not in repr(shared)
