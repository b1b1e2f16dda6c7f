"""Flow control that adapts, shared by every worker: a 429, a 503 or a slow reply one worker
sees cuts the rate of the whole budget for all of them, and they grow back together; the run
summary reports that shared rate."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ct_prima_sync.engine import (
    AimdRate,
    FakeClock,
    RateState,
    SharedBudget,
    SharedRate,
    SubmissionFlow,
    SyncEngine,
    request_budget,
)
from ct_prima_sync.errors import StateError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, SkuCode
from ct_prima_sync.state import StateStore, open_store
from ct_prima_sync.testing import (
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaRequestKind,
    PrimaWorld,
)
from ct_prima_sync.testing.scenario import build_scenario

from ..cli.conftest import write_settings

T0 = datetime(2026, 11, 27, tzinfo=UTC)
FLOW = SubmissionFlow(max_rate=10.0, min_rate=0.5, decrease=0.5, increase=1.0, hold_seconds=1.0)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return open_store(f"sqlite:///{tmp_path}/rate.db")


def _worker(store: StateStore, clock: FakeClock, **kw: object) -> SharedRate:
    options: dict[str, object] = {"ceiling": 8.0, "clock": clock, "refresh_seconds": 0.25}
    options.update(kw)
    return SharedRate(store, "prima", FLOW, **options)  # type: ignore[arg-type]


def test_the_rate_state_does_aimd_arithmetic() -> None:
    start = RateState.cut(None, T0, FLOW, 8.0)
    assert start is not None
    assert start.rate == 4.0, "an unused budget is at its ceiling; a cut halves it"
    assert RateState.cut(start, T0 + timedelta(seconds=0.5), FLOW, 8.0) is None, "held"
    assert start.rate_at(T0 + timedelta(seconds=2), FLOW, 8.0) == 6.0, "grows 1 per second"
    assert start.rate_at(T0 + timedelta(seconds=60), FLOW, 8.0) == 8.0, "up to the ceiling"
    again = RateState.cut(start, T0 + timedelta(seconds=2), FLOW, 8.0)
    assert again is not None
    assert again.rate == 3.0
    floor = RateState(rate=0.6, since=T0, cut_at=T0 - timedelta(seconds=5))
    lowest = RateState.cut(floor, T0, FLOW, 8.0)
    assert lowest is not None
    assert lowest.rate == FLOW.min_rate
    assert RateState.loads(again.dumps()) == again
    assert RateState.loads("not json") is None


def test_a_429_one_worker_sees_slows_every_worker_and_they_recover_together(
    store: StateStore,
) -> None:
    clock = FakeClock(T0)
    first, second = _worker(store, clock), _worker(store, clock)
    assert first.rate() == second.rate() == 8.0
    first.observe("MultiNewOrder", seconds=0.05, struggled=True)
    assert first.rate() == 4.0
    clock.advance(0.25)  # the other worker reads the store again
    assert second.rate() == pytest.approx(4.25)
    clock.advance(1.75)
    assert first.rate() == second.rate() == pytest.approx(6.0)
    clock.advance(10)
    assert first.rate() == second.rate() == 8.0


def test_workers_reporting_one_episode_at_once_cut_once(store: StateStore) -> None:
    clock = FakeClock(T0)
    workers = [_worker(store, clock) for _ in range(4)]
    for worker in workers:
        worker.observe("OrderStatus", seconds=0.05, struggled=True)
    assert sum(w.cuts for w in workers) == 1
    assert workers[3].rate() == 4.0
    clock.advance(FLOW.hold_seconds)
    workers[2].observe("OrderStatus", seconds=0.05, struggled=True)
    assert workers[0].rate() == pytest.approx(2.5), "a later episode cuts again"


def test_a_reply_much_slower_than_usual_for_its_type_counts_as_trouble(store: StateStore) -> None:
    clock = FakeClock(T0)
    worker = _worker(store, clock)
    for _ in range(10):
        worker.observe("MultiNewOrder", seconds=0.4, struggled=False)
        worker.observe("OrderStatus", seconds=0.1, struggled=False)
    worker.observe("MultiNewOrder", seconds=0.8, struggled=False)
    assert worker.rate() == 8.0, "twice the usual is not trouble"
    worker.observe("OrderStatus", seconds=0.45, struggled=False)
    assert worker.rate() == 8.0, "a jitter of fractions of a second is not trouble"
    worker.observe("MultiNewOrder", seconds=0.2, struggled=False)  # a quick one is fine
    worker.observe("OrderStatus", seconds=1.0, struggled=False)  # ten times its own usual
    assert worker.rate() == 4.0


def test_the_ceiling_is_the_budget_or_max_rate_whichever_is_lower(store: StateStore) -> None:
    clock = FakeClock(T0)
    assert _worker(store, clock, ceiling=20.0).rate() == FLOW.max_rate
    assert _worker(store, clock, ceiling=3.0).rate() == 3.0


def _config(**kw: object) -> OmlinkConfig:
    return OmlinkConfig(endpoint="http://prima.test/omlink", max_wait=60.0, **kw)  # type: ignore[arg-type]


def test_a_429_through_one_workers_client_lowers_the_pace_of_another(store: StateStore) -> None:
    """Real omlink clients over the emulator, each with its own shared budget on one store."""
    clock = FakeClock(T0)
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    tee = SkuCode(product="TEE1", matrix=("BLK", "M"))
    world.add_product(tee)
    world.set_stock(tee, "WH1", 100)
    emulator = PrimaEmulator(world, sleep=lambda _s: None)
    config = _config(rate_limit=8.0, burst=1, max_concurrency=4)
    flow = SubmissionFlow(max_rate=8.0, increase=0.5, hold_seconds=1.0)

    def client() -> tuple[SharedBudget, OmlinkClient]:
        budget = request_budget(store, config, adaptive=flow, clock=clock)
        assert isinstance(budget, SharedBudget)
        return budget, OmlinkClient(
            config, transport=emulator.transport(), flow=budget, sleep=lambda _s: None
        )

    (budget_a, a), (budget_b, b) = client(), client()
    # Two 429s, then an answer: the read is retried (honouring Retry-After) and goes through.
    emulator.faults.script(
        PrimaRequestKind.AVAILABLE_TO_SELL, *[PrimaFault(kind=PrimaFaultKind.RATE_LIMITED)] * 2
    )
    a.available_to_sell([tee])
    assert emulator.arrivals.rate_limited == 2
    assert emulator.arrivals.rate_limited_of("MultiAvailableToSell") == 2
    assert budget_b.current_rate < 8.0, "the other worker slows down too"
    started = clock.now()
    for _ in range(4):
        b.available_to_sell([tee])
    spent = (clock.now() - started).total_seconds()
    assert spent >= 3 / budget_b.current_rate * 0.9, "paced at the lowered rate"
    assert budget_a.current_rate == pytest.approx(budget_b.current_rate, rel=0.2)


def test_a_store_that_fails_while_recording_an_answer_never_hides_the_answer(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    budget = SharedBudget(store, rate=5.0, adaptive=FLOW, clock=FakeClock(T0))
    store.close()
    with caplog.at_level(logging.ERROR, logger="ct_prima_sync.engine"):
        budget.observe("MultiNewOrder", seconds=0.1, struggled=True)
    assert "shared budget" in caplog.text
    with pytest.raises(StateError):
        store.get_cursor("x")


def test_an_engine_from_settings_shares_the_adaptive_budget_and_reports_its_rate(
    tmp_path: Path,
) -> None:
    scenario = build_scenario(orders=6, bad_every=0, seed=14)
    emulator = PrimaEmulator(scenario.world)
    emulator.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.RATE_LIMITED, retry_after=0)
    )
    flow = {"max_rate": 500.0, "increase": 0.01, "hold_seconds": 1.0}
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        path = write_settings(
            tmp_path, scenario, ct_url=ct_url, prima_url=prima_url,
            prima={"rate_limit": 1000.0}, engine={"submission_flow": flow},
        )  # fmt: skip
        with SyncEngine.from_settings(path) as engine, SyncEngine.from_settings(path) as other:
            summary = engine.sync_orders()
            other_summary = other.sync_orders()
    assert summary.submission_rate is not None
    assert summary.submission_rate < 500.0 * 0.6, "the 429 cut the shared rate"
    assert summary.submissions >= 1
    # The second worker never saw a 429 and reports the same, shared, rate.
    assert other_summary.submission_rate == pytest.approx(summary.submission_rate, rel=0.05)
    with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:
        assert store.get_cursor("prima:adaptive-rate") is not None


def test_without_max_rate_the_ceiling_follows_the_budget(store: StateStore) -> None:
    flow = SubmissionFlow(increase=1.0, hold_seconds=1.0)
    shared = SharedRate(store, "prima", flow, ceiling=40.0, clock=FakeClock(T0))
    assert shared.ceiling == 40.0
    assert AimdRate(flow, rate_limit=12.0).ceiling == 12.0
    assert AimdRate(flow).ceiling == 5.0  # no client known: the omlink client's default
    assert AimdRate(SubmissionFlow(max_rate=8.0), rate_limit=12.0).ceiling == 8.0
