"""Which orders to ask Prima about: the schedule backs off with age, a run stays within its
budget, and every order is still asked about within its interval."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import (
    CheckCandidate,
    CheckInterval,
    CheckSchedule,
    next_check_at,
    plan_checks,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_fresh_order_is_asked_about_every_run_and_a_week_old_one_daily() -> None:
    schedule = CheckSchedule()
    assert schedule.interval(timedelta(minutes=5)) == timedelta(0)
    assert schedule.interval(timedelta(hours=30)) == HOUR
    assert schedule.interval(timedelta(days=4)) == 4 * HOUR
    assert schedule.interval(timedelta(days=8)) == 24 * HOUR
    accepted = NOW - timedelta(days=8)
    assert next_check_at(accepted_at=accepted, checked_at=NOW, schedule=schedule) == NOW + 24 * HOUR


def test_the_most_overdue_come_first_then_the_oldest_and_the_budget_defers_the_rest() -> None:
    schedule = CheckSchedule(max_checks_per_run=3, batch_size=2)
    candidates = [
        CheckCandidate(order_id="late", accepted_at=NOW - 5 * HOUR, next_check_at=NOW - 3 * HOUR),
        CheckCandidate(order_id="old", accepted_at=NOW - 9 * HOUR, next_check_at=NOW - HOUR),
        CheckCandidate(order_id="young", accepted_at=NOW - 2 * HOUR, next_check_at=NOW - HOUR),
        CheckCandidate(order_id="b", accepted_at=NOW - 2 * HOUR, next_check_at=NOW - HOUR),
        CheckCandidate(order_id="later", accepted_at=NOW - 2 * HOUR, next_check_at=NOW + HOUR),
        CheckCandidate(order_id="done", accepted_at=NOW - 2 * HOUR, next_check_at=None),
    ]
    plan = plan_checks(candidates, now=NOW, schedule=schedule)
    assert plan.order_ids == ("late", "old", "b")
    assert plan.batches == (("late", "old"), ("b",))
    assert plan.deferred == 1


@given(
    offsets=st.lists(st.integers(-10_000, 10_000), max_size=40),
    budget=st.integers(1, 50),
)
def test_a_plan_never_exceeds_its_budget_nor_picks_an_order_not_due(
    offsets: list[int], budget: int
) -> None:
    schedule = CheckSchedule(max_checks_per_run=budget, batch_size=7)
    candidates = [
        CheckCandidate(
            order_id=f"o{n}",
            accepted_at=NOW - timedelta(days=1),
            next_check_at=NOW + timedelta(seconds=offset),
        )
        for n, offset in enumerate(offsets)
    ]
    plan = plan_checks(candidates, now=NOW, schedule=schedule)
    due = [c for c in candidates if c.next_check_at is not None and c.next_check_at <= NOW]
    assert len(plan.order_ids) == min(budget, len(due))
    assert plan.deferred == len(due) - len(plan.order_ids)
    assert {c.order_id for c in due} >= set(plan.order_ids)
    assert [i for batch in plan.batches for i in batch] == list(plan.order_ids)
    assert all(len(batch) <= 7 for batch in plan.batches)


def test_ten_thousand_open_orders_stay_within_the_budget_and_each_is_asked_in_time() -> None:
    """10,000 orders of ages up to two weeks, a run every 15 minutes for two days: no run asks
    Prima more than the budget, no order waits longer than its interval (plus one run's
    spacing), and none is asked more often than its interval."""
    rng = random.Random(12)
    spacing = timedelta(minutes=15)
    schedule = CheckSchedule(max_checks_per_run=1_500, batch_size=100)
    start = NOW
    orders: dict[str, CheckCandidate] = {}
    for n in range(10_000):
        accepted = start - timedelta(seconds=rng.randrange(14 * 24 * 3600))
        interval = schedule.interval(start - accepted)
        # As if the schedule had been running: the last check lies somewhere within one interval.
        last = start - interval * rng.random()
        orders[f"o{n:05d}"] = CheckCandidate(
            order_id=f"o{n:05d}", accepted_at=accepted, next_check_at=max(last + interval, accepted)
        )
    due_since = {i: c.next_check_at for i, c in orders.items()}
    last_check: dict[str, datetime] = {}
    asked_per_run = []
    for run in range(2 * 24 * 4):
        now = start + run * spacing
        plan = plan_checks(orders.values(), now=now, schedule=schedule)
        asked_per_run.append(len(plan.order_ids))
        assert len(plan.order_ids) <= schedule.max_checks_per_run
        for order_id in plan.order_ids:
            candidate = orders[order_id]
            due = due_since[order_id]
            assert due is not None
            assert now - due <= spacing, f"{order_id} waited {now - due} past its due time"
            if order_id in last_check:
                interval = schedule.interval(last_check[order_id] - candidate.accepted_at)
                assert now - last_check[order_id] >= interval
            last_check[order_id] = now
            following = next_check_at(
                accepted_at=candidate.accepted_at, checked_at=now, schedule=schedule
            )
            orders[order_id] = attrs.evolve(candidate, next_check_at=following)
            due_since[order_id] = following
    assert len(last_check) == 10_000, "an order was never asked about"
    assert max(asked_per_run) <= 1_500
    # Backing off is what keeps the load far below "every open order on every run".
    assert sum(asked_per_run) / len(asked_per_run) < 1_000


def test_intervals_must_start_at_age_zero_and_increase() -> None:
    with pytest.raises(ConfigurationError, match="age 0"):
        CheckSchedule(intervals=(CheckInterval(min_age_hours=1, every_hours=1),))
    with pytest.raises(ConfigurationError, match="increase"):
        CheckSchedule(
            intervals=(
                CheckInterval(min_age_hours=0, every_hours=0),
                CheckInterval(min_age_hours=5, every_hours=1),
                CheckInterval(min_age_hours=5, every_hours=2),
            )
        )
    with pytest.raises(ConfigurationError, match="max_checks_per_run"):
        CheckSchedule(max_checks_per_run=0)
    with pytest.raises(ConfigurationError, match="negative"):
        CheckInterval(min_age_hours=0, every_hours=-1)
