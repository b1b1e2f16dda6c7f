"""The Celery example, deployed for real: uvicorn serving the webhook, Celery workers on the
Redis broker sharing one PostgreSQL state, Celery beat; commercetools and Prima are the fakes,
served by this process. What the proofs check is on Prima's side (the emulator's world): every
good order arrived exactly once, whatever the deployment did twice."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ct_prima_sync.state import OrderStatus
from ct_prima_sync.testing import (
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
    PrimaWorld,
)
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .deployment import deployed, subscription_payloads

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def assert_exactly_once(scenario: SyncScenario) -> None:
    """Prima holds each good order once and no other; each was written back to the shop once."""
    world: PrimaWorld = scenario.world
    for number in scenario.good:
        assert world.submission_count(number) == 1, number
    assert sorted(o.order_number for o in world.orders()) == sorted(scenario.good)
    emails = [customer.email for customer in world.customers()]
    assert len(emails) == len(set(emails)), "a customer was created twice"
    for placed in scenario.commercetools.orders():
        if placed["orderNumber"] in scenario.good:
            assert len(placed.get("syncInfo", [])) == 1, "written back twice"


def test_two_workers_and_every_delivery_three_times_send_each_order_once(
    tmp_path: Path, redis_server_url: str, postgres_url: str
) -> None:
    scenario = build_scenario(orders=40, bad_every=10, seed=11)
    plan = PrimaFaultPlan()
    plan.random(
        3,
        {PrimaFault(kind=PrimaFaultKind.LATENCY, delay=0.02): 0.5},
        kinds=frozenset({PrimaRequestKind.SUBMIT_ORDERS}),
    )
    emulator = PrimaEmulator(scenario.world, faults=plan)
    payloads = subscription_payloads(scenario)
    assert len(payloads) == 40
    # At-least-once delivery: every message three times, out of order.
    deliveries = payloads * 3
    random.Random(5).shuffle(deliveries)
    with (
        scenario.commercetools.serve() as ct_url,
        emulator.serve() as prima_url,
        deployed(tmp_path, redis_url=redis_server_url, state_url=postgres_url) as deployment,
    ):
        deployment.write_settings(scenario, ct_url=ct_url, prima_url=prima_url)
        deployment.start_webhook()
        deployment.start_worker("w1")
        deployment.start_worker("w2")
        assert deployment.deliver(payloads[0], secret="not-the-secret") == 401
        not_an_order = {**payloads[0], "resource": {"typeId": "product", "id": "p-1"}}
        assert deployment.deliver(not_an_order) == 202
        for payload in deliveries:
            assert deployment.deliver(payload) == 202

        def all_handled() -> bool:
            return len(deployment.flow_runs("w1", "w2")) == len(deliveries) + 1

        deployment.wait_for(all_handled, "every delivery to be handled", "w1", "w2", seconds=120)
        counts = deployment.order_counts()
        deployment.stop_all()

    assert counts.get(OrderStatus.DONE) == len(scenario.good)
    assert counts.get(OrderStatus.EXCEPTED) == len(scenario.bad)
    assert_exactly_once(scenario)
    runs = deployment.flow_runs("w1", "w2")
    assert {run["worker"] for run in runs} == {"w1", "w2"}, "one worker did all the work"
    assert "Traceback" not in deployment.text("w1") + deployment.text("w2")
