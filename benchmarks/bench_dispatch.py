"""The dispatch flow: Prima requests the schedule saves, and what one status check costs.

1. **Requests a day.** 10,000 open orders up to two weeks old, a dispatch run every 15 minutes
   for a day: the Prima requests the age-based schedule makes against the naive baseline (every
   open order on every run, what the public client this library learned from did).
2. **Cost of a check.** One dispatch run over N due orders with nothing despatched (one Prima
   request each, no commercetools read), per store, against the baseline of the N
   ``FakePrima.order_status`` calls alone: the ratio is what the engine adds per check (the
   schedule, the ledger write, the exception look-up).
3. **Cost of a delivery.** A run in which every one of M orders was despatched (a commercetools
   read and update each, in process), against the same run with nothing despatched.

Environment: ``BENCH_DISPATCH_N`` (orders for 2 and 3, default 1000).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from ct_prima_sync.engine import EngineConfig, FakeClock, SyncEngine
from ct_prima_sync.mapping import (
    CheckCandidate,
    CheckSchedule,
    DispatchConfig,
    next_check_at,
    plan_checks,
)
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.scenario import build_scenario, connect_commercetools

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def requests_a_day(orders: int = 10_000) -> tuple[int, int]:
    """(scheduled, naive) Prima requests over one day of 15-minute runs."""
    rng = random.Random(1)
    schedule = CheckSchedule(max_checks_per_run=orders)
    open_orders = {}
    for n in range(orders):
        accepted = NOW - timedelta(seconds=rng.randrange(14 * 24 * 3600))
        interval = schedule.interval(NOW - accepted)
        due = max(NOW - interval * rng.random() + interval, accepted)
        open_orders[n] = CheckCandidate(order_id=str(n), accepted_at=accepted, next_check_at=due)
    scheduled = 0
    runs = 24 * 4
    for run in range(runs):
        now = NOW + run * timedelta(minutes=15)
        plan = plan_checks(open_orders.values(), now=now, schedule=schedule)
        scheduled += len(plan.order_ids)
        for order_id in plan.order_ids:
            c = open_orders[int(order_id)]
            following = next_check_at(accepted_at=c.accepted_at, checked_at=now, schedule=schedule)
            open_orders[int(order_id)] = attrs.evolve(c, next_check_at=following)
    return scheduled, orders * runs


def _engine(url: str, n: int, *, despatched: bool) -> tuple[SyncEngine, FakePrima]:
    scenario = build_scenario(orders=n, bad_every=0, seed=2)
    clock = FakeClock(NOW)
    prima = FakePrima(scenario.world, sleep=lambda _s: None)
    config = EngineConfig(
        worker_id="bench",
        initial_cursor=scenario.first_order_at - timedelta(days=1),
        concurrency=1,
        dispatch=DispatchConfig(
            schedule=CheckSchedule(max_checks_per_run=n, batch_size=500),
            take_on_per_run=n,
            watch_commercetools=False,
        ),
    )
    store = open_store(url)
    engine = SyncEngine(
        commercetools=connect_commercetools(scenario.commercetools, sleep=lambda _s: None),
        prima=prima,
        store=store,
        mapping=scenario.mapping,
        config=config,
        clock=clock,
    )
    engine.sync_orders()
    engine.sync_dispatch()  # take every order on; the timed run is the next one
    if despatched:
        for order in scenario.world.orders():
            scenario.world.despatch(order.order_number)
    clock.advance(60)
    return engine, prima


def _timed_run(url: str, n: int, *, despatched: bool) -> float:
    engine, _ = _engine(url, n, despatched=despatched)
    started = time.perf_counter()
    summary = engine.sync_dispatch()
    seconds = time.perf_counter() - started
    assert (summary.taken_on, summary.checked) == (0, n)
    assert summary.shipped == (n if despatched else 0)
    return seconds


def _baseline(n: int) -> float:
    _, prima = _engine("memory://", n, despatched=False)
    numbers = [o.order_number for o in prima.world.orders()]
    started = time.perf_counter()
    for number in numbers:
        prima.order_status(number)
    return time.perf_counter() - started


def main() -> None:
    """Print the figures and ratios."""
    scheduled, naive = requests_a_day()
    print(
        f"Prima requests a day, 10,000 open orders, a run every 15 min: scheduled {scheduled:,}"
        f" vs every order every run {naive:,} (ratio {naive / scheduled:.1f}x fewer)"
    )
    n = int(os.environ.get("BENCH_DISPATCH_N", "1000"))
    base = _baseline(n)
    print(f"baseline: {n} FakePrima.order_status calls: {base:.2f} s ({n / base:,.0f}/s)")
    with tempfile.TemporaryDirectory() as folder:
        for name, url in (
            ("memory", "memory://"),
            ("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}"),
        ):
            quiet = _timed_run(url if name == "memory" else url + ".quiet", n, despatched=False)
            busy = _timed_run(url if name == "memory" else url + ".busy", n, despatched=True)
            print(
                f"{name}: {n} checks, nothing despatched {quiet:.2f} s ({n / quiet:,.0f}/s, "
                f"{quiet / base:.1f}x the Prima calls alone); every order despatched "
                f"{busy:.2f} s ({n / busy:,.0f} deliveries/s, {busy / quiet:.1f}x a quiet run)"
            )
