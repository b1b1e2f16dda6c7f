"""Adaptive flow control: submissions slow down when Prima answers 429/503 or slowly, and speed
back up when it recovers; the run summary says what rate it ran at. All on a fake clock."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

import pytest

from ct_prima_sync.engine import AimdRate, EngineConfig, FakeClock, SubmissionFlow
from ct_prima_sync.engine._adaptive import paced
from ct_prima_sync.errors import ConfigurationError, PrimaRateLimitedError
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing import (
    FakePrima,
    PrimaFault,
    PrimaFaultKind,
    PrimaRequestKind,
    PrimaWorld,
    make_sales_order,
)
from ct_prima_sync.testing.scenario import SyncScenario

from .conftest import EngineFactory

FLOW = SubmissionFlow(max_rate=8.0, min_rate=0.5, decrease=0.5, increase=1.0, hold_seconds=1.0)


def test_the_rate_starts_at_the_ceiling_and_halves_on_trouble() -> None:
    aimd = AimdRate(FLOW)
    assert aimd.rate == 8.0
    aimd.struggled(0.0)
    assert aimd.rate == 4.0


def test_trouble_reported_by_requests_already_in_flight_cuts_once() -> None:
    aimd = AimdRate(FLOW)
    for t in (0.0, 0.1, 0.2, 0.9):
        aimd.struggled(t)
    assert (aimd.rate, aimd.cuts) == (4.0, 1)
    aimd.struggled(1.5)  # grown by 1.5 since the first cut, then halved: (4 + 1.5) / 2
    assert aimd.rate == pytest.approx(2.75)
    assert aimd.cuts == 2


def test_the_rate_recovers_additively_up_to_the_ceiling() -> None:
    aimd = AimdRate(FLOW)
    aimd.struggled(0.0)
    assert aimd.rate == 4.0
    aimd.reserve(0.0)
    aimd.reserve(2.0)  # two seconds of normal answers: +1 per second
    assert aimd.rate == pytest.approx(6.0)
    aimd.reserve(60.0)
    assert aimd.rate == 8.0


def test_the_rate_never_falls_below_the_floor() -> None:
    aimd = AimdRate(SubmissionFlow(max_rate=8.0, min_rate=0.5, increase=0.01))
    for second in range(20):
        aimd.struggled(float(second))
    assert aimd.rate == pytest.approx(0.5, abs=0.01)


def test_a_reply_much_slower_than_usual_counts_as_trouble() -> None:
    aimd = AimdRate(FLOW)
    for t in range(6):
        aimd.succeeded(float(t), latency=0.1)
    aimd.succeeded(6.0, latency=0.2)  # slower, not alarming
    assert aimd.rate == 8.0
    aimd.succeeded(7.0, latency=1.0)  # ten times the usual
    assert aimd.rate == 4.0


def test_slots_are_spaced_at_the_current_rate() -> None:
    aimd = AimdRate(SubmissionFlow(max_rate=2.0, increase=0.1))
    assert [aimd.reserve(0.0) for _ in range(3)] == pytest.approx([0.0, 0.5, 1.0])


def test_paced_slots_never_go_faster_than_the_ceiling_through_cuts_and_growth() -> None:
    """Callers racing for slots (each reading the time a little late) while troubles cut the
    rate and calm answers grow it back: consecutive slots are never closer than one interval
    at the ceiling, so a server bucket of the ceiling and burst 1 refuses none of them."""
    flow = SubmissionFlow(max_rate=4.0, min_rate=0.5, increase=2.0, hold_seconds=0.5)
    aimd = AimdRate(flow, rate_limit=10.0)  # the client's limit is higher: max_rate rules
    rng = random.Random(7)
    now, slots = 0.0, []
    for n in range(2000):
        now += rng.choice((0.0, 0.01, 0.1, 0.3))
        stale = max(0.0, now - rng.choice((0.0, 0.05, 0.2)))  # read before the lock was taken
        slots.append(stale + aimd.reserve(stale))
        if n % 97 == 0:
            aimd.struggled(now)
    assert aimd.cuts > 5
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / 4.0 - 1e-9


@pytest.mark.parametrize(
    "bad",
    [
        {"max_rate": 0},
        {"max_rate": 1, "decrease": 1.0},
        {"max_rate": 1, "min_rate": 2},
        {"max_rate": 1, "latency_factor": 1.0},
        {"max_rate": 1, "increase": -1},
    ],
)
def test_settings_that_cannot_work_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match="submission_flow"):
        SubmissionFlow(**bad)


def test_engine_settings_read_the_submission_flow_table() -> None:
    config = EngineConfig.from_dict({"submission_flow": {"max_rate": 4, "decrease": 0.7}})
    assert config.submission_flow == SubmissionFlow(max_rate=4, decrease=0.7)
    assert EngineConfig().submission_flow is None


def _world() -> tuple[PrimaWorld, object]:
    from ct_prima_sync.prima import SkuCode

    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    sku = SkuCode(product="TEE1", matrix=("BLK", "M"))
    world.add_product(sku)
    world.set_stock(sku, "WH1", 1000)
    return world, sku


def test_a_429_slows_the_paced_gateway_and_calm_answers_speed_it_up_again() -> None:
    world, sku = _world()
    fake = FakePrima(world, sleep=lambda _s: None)
    clock = FakeClock(datetime(2026, 11, 27, tzinfo=UTC))
    aimd = AimdRate(SubmissionFlow(max_rate=4.0, increase=1.0, hold_seconds=0.1))
    prima = paced(fake, aimd, clock)
    sent: list[float] = []

    def submit(n: int) -> None:
        prima.submit_orders([make_sales_order(f"W-{n}", [(sku, 1, "WH1")])])  # type: ignore[list-item]
        sent.append(clock.monotonic())

    for n in range(4):
        submit(n)
    fake.faults.script(PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.RATE_LIMITED))
    with pytest.raises(PrimaRateLimitedError):
        submit(99)
    assert aimd.rate == pytest.approx(2.0, abs=0.3)
    before = clock.monotonic()
    submit(4)
    submit(5)
    assert sent[-1] - sent[-2] == pytest.approx(1 / aimd.rate, rel=0.3)
    assert sent[-1] - before > 0.4, "the next submissions came at the lower rate"
    for n in range(6, 30):
        submit(n)
    assert aimd.rate == 4.0, "recovered to the ceiling"
    assert len(world.orders()) == 30


def test_the_run_summary_reports_the_rate_it_ran_at(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, clock: FakeClock
) -> None:
    prima = FakePrima(scenario.world, sleep=clock.sleep)
    prima.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS,
        *[PrimaFault(kind=PrimaFaultKind.RATE_LIMITED)] * 2,
    )
    engine = make_engine(
        store, prima=prima, submission_flow=SubmissionFlow(max_rate=5.0, increase=0.01)
    )
    summary = engine.sync_orders()
    assert summary.submission_rate is not None
    assert summary.submission_rate < 5.0
    assert summary.submissions >= summary.posted > 0
    assert summary.submissions_per_second is not None
    assert 0 < summary.submissions_per_second <= 5.0
    shown = summary.as_dict()
    assert shown["submission_rate"] == round(summary.submission_rate, 2)
    assert "submissions_per_second" in shown


def test_without_adaptive_flow_control_the_summary_has_no_rate(
    store: StateStore, make_engine: EngineFactory
) -> None:
    summary = make_engine(store).sync_orders()
    assert summary.submission_rate is None
    assert summary.submissions_per_second is None
    assert summary.as_dict()["submission_rate"] is None
