"""The Celery example, deployed for real: uvicorn serving the webhook, Celery workers on the
Redis broker sharing one PostgreSQL state, Celery beat; commercetools and Prima are the fakes,
served by this process. What the proofs check is on Prima's side (the emulator's world): every
good order arrived exactly once, whatever the deployment did twice."""

from __future__ import annotations

import itertools
import random
import threading
import time
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
    submissions = world.submission_counts()
    for number in scenario.good:
        assert submissions[number] == 1, number
    assert sorted(o.order_number for o in world.orders()) == sorted(scenario.good)
    emails = [customer.email for customer in world.customers()]
    assert len(emails) == len(set(emails)), "a customer was created twice"
    for placed in scenario.commercetools.orders():
        if placed["orderNumber"] in scenario.good:
            assert len(placed.get("syncInfo", [])) == 1, "written back twice"


def test_two_workers_and_every_delivery_three_times_send_each_order_once(
    tmp_path: Path, redis_server_url: str, postgres_url: str
) -> None:
    scenario = build_scenario(orders=24, bad_every=8, seed=11)
    plan = PrimaFaultPlan()
    plan.random(
        3,
        {PrimaFault(kind=PrimaFaultKind.LATENCY, delay=0.02): 0.5},
        kinds=frozenset({PrimaRequestKind.SUBMIT_ORDERS}),
    )
    emulator = PrimaEmulator(scenario.world, faults=plan)
    payloads = subscription_payloads(scenario)
    assert len(payloads) == 24
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


def test_a_worker_killed_mid_task_leaves_the_delivery_to_another_and_the_order_arrives_once(
    tmp_path: Path, redis_server_url: str, postgres_url: str
) -> None:
    scenario = build_scenario(orders=1, seed=12)
    in_flight = threading.Event()

    def slow_submit(seconds: float) -> None:
        in_flight.set()
        time.sleep(seconds)

    plan = PrimaFaultPlan()
    # The first submission takes 1.5 s; the worker is killed during it. Prima still applies it:
    # the order arrived, and nobody heard the answer.
    plan.on_nth(
        PrimaRequestKind.SUBMIT_ORDERS, 1, PrimaFault(kind=PrimaFaultKind.LATENCY, delay=1.5)
    )
    emulator = PrimaEmulator(scenario.world, faults=plan, sleep=slow_submit)
    (payload,) = subscription_payloads(scenario)
    # Redis hands an unacknowledged task to another worker after 4 s (the trap, set short here).
    environment = {"CT_PRIMA_SYNC_VISIBILITY_TIMEOUT": "4", "CT_PRIMA_SYNC_RESTORE_EVERY": "1"}
    with (
        scenario.commercetools.serve() as ct_url,
        emulator.serve() as prima_url,
        deployed(
            tmp_path, redis_url=redis_server_url, state_url=postgres_url, environment=environment
        ) as deployment,
    ):
        deployment.write_settings(scenario, ct_url=ct_url, prima_url=prima_url)
        deployment.start_webhook()
        deployment.start_worker("doomed")
        assert deployment.deliver(payload) == 202
        assert in_flight.wait(timeout=60), deployment.text("doomed")
        deployment.kill("doomed")
        deployment.start_worker("survivor")

        def redelivered() -> bool:
            return bool(deployment.flow_runs("survivor"))

        deployment.wait_for(redelivered, "the task to be delivered again", "survivor")
        # The survivor found the submission unresolved (it may have arrived: it had). It asks
        # Prima before anything is sent again; the scheduled order runs finish the order.
        for _ in range(20):
            if deployment.order_counts().get(OrderStatus.DONE) == 1:
                break
            deployment.send_task("sync_service.sync_orders")
            time.sleep(1.0)
        counts = deployment.order_counts()
        deployment.stop_all()

    assert not deployment.flow_runs("doomed"), "the killed worker finished its task"
    assert counts.get(OrderStatus.DONE) == 1, counts
    assert_exactly_once(scenario)
    assert "Traceback" not in deployment.text("survivor")


def test_beat_starts_each_flow_once_per_period_and_the_lock_keeps_runs_apart(
    tmp_path: Path, redis_server_url: str, postgres_url: str
) -> None:
    scenario = build_scenario(orders=30, seed=13)
    plan = PrimaFaultPlan()
    # Each submission takes 0.2 s and orders go one at a time: an order run lasts longer than
    # its 2 s period, so beat's next ticks reach the other worker while it runs.
    plan.random(
        1,
        {PrimaFault(kind=PrimaFaultKind.LATENCY, delay=0.2): 1.0},
        kinds=frozenset({PrimaRequestKind.SUBMIT_ORDERS}),
    )
    emulator = PrimaEmulator(scenario.world, faults=plan)
    every = {"orders": 2.0, "stock": 3.0, "dispatch": 3.0}
    environment = {
        "CT_PRIMA_SYNC_ORDERS_EVERY": str(every["orders"]),
        "CT_PRIMA_SYNC_STOCK_EVERY": str(every["stock"]),
        "CT_PRIMA_SYNC_DISPATCH_EVERY": str(every["dispatch"]),
        "CT_PRIMA_SYNC_ORDERS_LOCK_SECONDS": "60",
    }
    with (
        scenario.commercetools.serve() as ct_url,
        emulator.serve() as prima_url,
        deployed(
            tmp_path, redis_url=redis_server_url, state_url=postgres_url, environment=environment
        ) as deployment,
    ):
        deployment.write_settings(
            scenario, ct_url=ct_url, prima_url=prima_url, engine={"concurrency": 1}
        )
        deployment.start_worker("w1")
        deployment.start_worker("w2")
        deployment.start_beat()
        deployment.wait_for(
            lambda: "beat: Starting" in deployment.text("beat"), "beat to start", "beat"
        )
        began = time.monotonic()
        time.sleep(13)
        deployment.stop("beat")
        beat_seconds = time.monotonic() - began

        def settled() -> bool:
            return deployment.order_counts().get(OrderStatus.DONE) == len(scenario.good)

        deployment.wait_for(settled, "the orders to be done", "w1", "w2", seconds=90)
        time.sleep(2)  # the ticks still queued run (or expire)
        deployment.stop_all()

    sent = deployment.text("beat")
    runs = deployment.flow_runs("w1", "w2")
    for flow, period in every.items():
        ticks = sent.count(f"Sending due task sync-{flow} ")
        expected = beat_seconds / period
        assert expected - 2 <= ticks <= expected + 1, (flow, ticks, expected)
        mine = [run for run in runs if run["flow"] == flow]
        assert len(mine) <= ticks, (flow, mine)
        assert any(run["outcome"] == "ran" for run in mine), flow
    orders = sorted(
        (run for run in runs if run["flow"] == "orders" and run["outcome"] == "ran"),
        key=lambda run: run["locked"],
    )
    for earlier, later in itertools.pairwise(orders):
        assert later["locked"] >= earlier["unlocking"], (earlier, later)
    assert any(r["flow"] == "orders" and r["outcome"] == "skipped" for r in runs), runs
    assert_exactly_once(scenario)
