"""An order skipped only because it is too young, or dated in the future of the engine's clock,
is sent once it is due: polling comes back for it, however far other orders move the cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from ct_prima_sync.engine import EligibilityRules, FakeClock, SyncEngine
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .conftest import one_line_order

EngineFactory = Callable[..., SyncEngine]


class Shop:
    """Places orders in the scenario's commercetools at the moment its clock says."""

    def __init__(self, scenario: SyncScenario, now: Callable[[], datetime]) -> None:
        self._scenario = scenario
        self._now = now
        self._placed = 0

    def place(self, number: str) -> None:
        self._placed += 1
        order = one_line_order(
            self._scenario, number, email=f"{number.lower()}@example.com", seed=self._placed
        )
        order["createdAt"] = self._now().isoformat().replace("+00:00", "Z")
        self._scenario.commercetools.add_order(order)


@pytest.fixture
def skew() -> list[float]:
    """Seconds commercetools' clock runs ahead of the engine's (the tests set it)."""
    return [0.0]


@pytest.fixture
def scenario(clock: FakeClock, skew: list[float]) -> SyncScenario:
    """No orders yet; commercetools stamps with the engine's clock plus the skew."""
    return build_scenario(orders=0, seed=4, clock=lambda: clock.now() + timedelta(seconds=skew[0]))


def _numbers(scenario: SyncScenario) -> list[str]:
    return sorted(o.order_number for o in scenario.world.orders())


@pytest.mark.parametrize("from_messages", [False, True], ids=["polling", "messages"])
def test_a_too_young_order_is_sent_once_it_is_old_enough(
    from_messages: bool,
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    clock: FakeClock,
) -> None:
    shop = Shop(scenario, clock.now)
    engine = make_engine(store, eligibility=EligibilityRules(min_age_seconds=600))

    shop.place("A")
    first = engine.sync_orders(from_messages=from_messages)
    clock.advance(300)
    shop.place("B")  # moves commercetools' latest modification on
    second = engine.sync_orders(from_messages=from_messages)
    clock.advance(400)  # A is 700 s old, far behind the overlap window of B's cursor
    third = engine.sync_orders(from_messages=from_messages)
    clock.advance(400)
    fourth = engine.sync_orders(from_messages=from_messages)

    assert [(s.not_yet_due, s.posted) for s in (first, second, third, fourth)] == [
        (1, 0),
        (2, 0),
        (1, 1),
        (0, 1),
    ]
    assert _numbers(scenario) == ["A", "B"]
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in ("A", "B"))


def test_an_order_dated_after_the_engines_clock_is_sent_once_the_clock_gets_there(
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    clock: FakeClock,
    skew: list[float],
) -> None:
    skew[0] = 300.0  # commercetools runs five minutes ahead
    shop = Shop(scenario, lambda: clock.now() + timedelta(seconds=skew[0]))
    engine = make_engine(store)

    shop.place("F")
    clock.advance(200)
    shop.place("G")
    early = engine.sync_orders()
    clock.advance(400)  # F and G are due now; F is behind G's overlap window
    due = engine.sync_orders()

    assert (early.not_yet_due, early.posted) == (2, 0)
    assert (due.not_yet_due, due.posted) == (0, 2)
    assert _numbers(scenario) == ["F", "G"]


def test_a_subscription_message_for_a_young_order_is_counted_not_dropped_silently(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    Shop(scenario, clock.now).place("M")
    (order,) = scenario.commercetools.orders()
    engine = make_engine(store, eligibility=EligibilityRules(min_age_seconds=600))

    summary = engine.handle_message(
        {"resource": {"typeId": "order", "id": order["id"]}, "order": order}
    )

    assert (summary.ingested, summary.not_yet_due) == (0, 1)
    clock.advance(601)
    assert engine.sync_orders().posted == 1  # and the next poll sends it
