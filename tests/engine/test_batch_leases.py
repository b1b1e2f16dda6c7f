"""A claim batch shares one expiry; with a slow Prima its last orders start long after its
first. Their leases are kept alive, so none is lost before its turn comes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ct_prima_sync.engine import FakeClock, SyncEngine
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .test_submission_window import SlowSubmit

EngineFactory = Callable[..., SyncEngine]


@pytest.fixture
def scenario() -> SyncScenario:
    """Ten good orders."""
    return build_scenario(orders=10, seed=22)


def test_every_order_of_a_slow_batch_keeps_its_lease_until_its_turn(
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    clock: FakeClock,
) -> None:
    slow = SlowSubmit(scenario.world, clock, seconds=20, meanwhile=lambda: None)
    engine = make_engine(
        store,
        prima=slow,
        claim_batch=10,
        # One thread: with two, each one's fake submit would age the other's leases too.
        concurrency=1,
        lease_seconds=100,  # half the time the whole batch takes
        prima_request_timeout=30,
    )

    summary = engine.sync_orders()

    assert (summary.posted, summary.lost_lease) == (10, 0)
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)
