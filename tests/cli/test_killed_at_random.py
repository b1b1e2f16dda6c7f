"""Real ``ct-prima-sync run`` processes on one SQLite state, killed with SIGKILL at random moments
(sometimes two overlapping), then run again until the backlog is done: on the emulator's side
every good order reached Prima exactly once, no customer was created twice, and no exception is
left open on an order that is in Prima."""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from ct_prima_sync.state import OrderStatus, open_store
from ct_prima_sync.testing import (
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
    PrimaWorld,
)
from ct_prima_sync.testing.scenario import build_scenario

from .conftest import COMMAND, assert_no_traceback, run_cli, write_settings

KILLS = 8
#: connect 1 s + read 2 s + rate-limit wait 1 s: what the engine takes the request timeout for.
PRIMA = {"connect_timeout": 1.0, "read_timeout": 2.0, "max_wait": 1.0}
#: Short leases and retries, so that the dead runs' orders come back within seconds.
ENGINE = {
    "lease_seconds": 3.0,
    "claim_batch": 10,
    "concurrency": 4,
    "breaker_threshold": 1000,
    "retry": {"base_seconds": 0.5, "cap_seconds": 1.0},
}


def _requests(world: PrimaWorld) -> int:
    return len(world.requests())


def _start(folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (the command under test)
        [COMMAND, "run", "orders", "--format", "json"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


@pytest.mark.slow
def test_real_runs_killed_at_random_moments_send_every_good_order_exactly_once(
    tmp_path: Path,
) -> None:
    rng = random.Random(2026)
    scenario = build_scenario(orders=150, bad_every=15, seed=17)
    plan = PrimaFaultPlan()
    plan.random(
        9,
        {
            # Slow enough that a kill lands in the middle of requests, not between them.
            PrimaFault(kind=PrimaFaultKind.LATENCY, delay=0.02): 0.6,
            PrimaFault(kind=PrimaFaultKind.REPLY_LOST): 0.03,
        },
        kinds=frozenset({PrimaRequestKind.SUBMIT_ORDERS, PrimaRequestKind.CREATE_CUSTOMER,
                         PrimaRequestKind.FIND_CUSTOMER}),
    )  # fmt: skip
    emulator = PrimaEmulator(scenario.world, faults=plan)
    world = scenario.world
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        write_settings(
            tmp_path, scenario, ct_url=ct_url, prima_url=prima_url, prima=PRIMA, engine=ENGINE
        )
        killed = 0
        deadline = time.monotonic() + 45
        while killed < KILLS and time.monotonic() < deadline:
            seen = _requests(world)
            runs = [_start(tmp_path) for _ in range(rng.choice((1, 1, 2)))]
            # Kill once the runs are at work: after Prima has heard from them, at a random moment.
            started = time.monotonic()
            while _requests(world) == seen and time.monotonic() - started < 15:
                if all(run.poll() is not None for run in runs):
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.6))
            for run in runs:
                if run.poll() is None:
                    run.kill()
                    killed += 1
                _, err = run.communicate(timeout=30)
                assert_no_traceback(err)
        assert killed >= KILLS // 2, "the runs finished before they could be killed"

        # Then run until the backlog is done: the dead runs' leases and locks run out in seconds.
        for _ in range(30):
            done = run_cli("run", "orders", "--format", "json", cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert_no_traceback(done.stderr)
            summary = json.loads(done.stdout)
            with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:
                counts = store.count_orders_by_status()
            # The backlog counts a refused order whose reply was lost, which waits (failed) until
            # its submission can no longer arrive before it is asked about again.
            if summary["backlog"] == 0 and counts[OrderStatus.DONE] == len(scenario.good):
                break
            time.sleep(0.5)

    submissions = world.submission_counts()
    for number in scenario.good:
        assert submissions[number] == 1, number
    assert sorted(o.order_number for o in world.orders()) == sorted(scenario.good)
    emails = [customer.email for customer in world.customers()]
    assert len(emails) == len(set(emails)), "a customer was created twice"
    with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:
        counts = store.count_orders_by_status()
        assert counts[OrderStatus.DONE] == len(scenario.good)
        assert counts[OrderStatus.EXCEPTED] == len(scenario.bad)
        for record in store.list_exceptions():
            order = store.get_order(record.order_id or "")
            assert order is None or order.prima_reference is None, (record.kind, order)
    for placed in scenario.commercetools.orders():
        if placed["orderNumber"] in scenario.good:
            assert len(placed.get("syncInfo", [])) == 1, "written back twice"
