"""The polling schedule through the real engine: 10,000 open orders of mixed ages, a dispatch run
every 15 minutes for a day and an hour; each run stays within its budget of Prima requests and
every order is asked about within its interval (the pure schedule's own test runs longer)."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from ct_prima_sync.engine import EngineConfig, FakeClock, SyncEngine
from ct_prima_sync.mapping import CheckSchedule, DispatchConfig
from ct_prima_sync.prima import SkuCode
from ct_prima_sync.state import NewOrder, OrderTotals, StateStore, new_dispatch_record, open_store
from ct_prima_sync.testing import (
    FakeCommercetools,
    FakePrima,
    PrimaRequestKind,
    PrimaWorld,
    make_sales_order,
)
from ct_prima_sync.testing.scenario import connect_commercetools, scenario_mapping

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SPACING = timedelta(minutes=15)


def _open_orders(
    store: StateStore, world: PrimaWorld, count: int, seed: int
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """``count`` orders in Prima and followed, accepted up to two weeks before START, each as if
    the schedule had been running (its next check somewhere within its interval)."""
    rng = random.Random(seed)
    sku = SkuCode(product="TEE1", matrix=("BLK",))
    world.add_depot("WH1")
    world.add_product(sku)
    world.set_stock(sku, "WH1", 10 * count)
    schedule = CheckSchedule()
    accepted_at: dict[str, datetime] = {}
    first_due: dict[str, datetime] = {}
    totals = OrderTotals(currency="EUR", fraction_digits=2, net=100, tax=19, gross=119)
    seeded = START - timedelta(days=15)
    store.ingest_many(
        [
            NewOrder(order_id=f"o{n:05d}", order_number=f"WEB-{n:05d}", ct_version=1, totals=totals)
            for n in range(count)
        ],
        now=seeded,
    )
    ledger = {r.order_id: r for r in store.claim("seed", lease_seconds=60, limit=count, now=seeded)}
    records = []
    for n in range(count):
        order_id, number = f"o{n:05d}", f"WEB-{n:05d}"
        for step in ("mapped", "customer_resolved"):
            store.transition(order_id, worker_id="seed", to=step, now=seeded)  # type: ignore[arg-type]
        store.begin_submission(order_id, worker_id="seed", now=seeded)
        ledger[order_id] = store.record_prima_reference(
            order_id, worker_id="seed", reference=f"SO{n}", now=seeded
        )
        accepted = START - timedelta(seconds=rng.randrange(14 * 24 * 3600))
        interval = schedule.interval(START - accepted)
        due = max(START - interval * rng.random() + interval, accepted)
        record = new_dispatch_record(ledger[order_id], now=seeded, accepted_at=accepted)
        records.append(attrs.evolve(record, next_check_at=due))
        accepted_at[number] = accepted
        first_due[number] = due
    world.submit_orders([make_sales_order(f"WEB-{n:05d}", [(sku, 1, "WH1")]) for n in range(count)])
    store.follow_for_dispatch(records, now=START)
    return accepted_at, first_due


@pytest.mark.slow
def test_ten_thousand_open_orders_through_the_engine_stay_within_budget_and_interval() -> None:
    budget = 1_500
    config = DispatchConfig(
        schedule=CheckSchedule(max_checks_per_run=budget, batch_size=250),
        watch_commercetools=False,
        stalled_after_hours=10_000,  # the point here is the schedule, not 9,000 stalled orders
    )
    clock = FakeClock(START)
    world = PrimaWorld()
    with open_store("memory://") as store, connect_commercetools(FakeCommercetools()) as ct:
        accepted_at, first_due = _open_orders(store, world, 10_000, seed=4)
        engine = SyncEngine(
            commercetools=ct,
            prima=FakePrima(world, sleep=lambda _s: None),
            store=store,
            mapping=scenario_mapping(),
            config=EngineConfig(worker_id="w", dispatch=config),
            clock=clock,
        )
        schedule = config.schedule
        per_run: list[tuple[datetime, int]] = []
        for _run in range(25 * 4):
            summary = engine.sync_dispatch()
            assert summary.checked <= budget
            assert summary.deferred == 0
            per_run.append((clock.now(), summary.checked))
            clock.advance(SPACING.total_seconds())
        asked = iter(world.requests(PrimaRequestKind.ORDER_STATUS))
        checks: dict[str, list[datetime]] = defaultdict(list)
        for at, count in per_run:
            for _ in range(count):
                checks[next(asked).keys[0]].append(at)
        assert next(asked, None) is None, "Prima was asked more often than the runs counted"
    assert len(checks) == 10_000, "an order was never asked about"
    for number, times in checks.items():
        assert first_due[number] <= times[0] <= first_due[number] + SPACING, number
        for before, after in itertools.pairwise(times):
            interval = schedule.interval(before - accepted_at[number])
            assert interval <= after - before <= interval + SPACING, number
    # Every open order on every run would have been 10,000 requests a run.
    counts = [count for _, count in per_run]
    assert max(counts) <= budget
    assert sum(counts) / len(counts) < 1_000
