"""Worker processes on one PostgreSQL store share one Prima budget: seen from the emulator's side,
no second carries more requests than the budget allows (with the slack of a busy machine,
``arrivals.py``), and every order arrives once; the same workers with limiters of their own send
more than that."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ct_prima_sync.prima import SkuCode
from ct_prima_sync.testing import PrimaEmulator, PrimaWorld
from tests.engine.arrivals import most_in_one_second

pytestmark = pytest.mark.slow

TEE = SkuCode(product="TEE1", matrix=("BLK", "M"))
RATE, BURST, WORKERS, REQUESTS = 12.0, 2, 4, 12

_WORKER = """
import sys
from ct_prima_sync.engine import request_budget
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, SkuCode
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import make_sales_order

endpoint, state_url, worker, requests, shared = sys.argv[1:6]
tee = SkuCode(product="TEE1", matrix=("BLK", "M"))
config = OmlinkConfig(endpoint=endpoint, rate_limit=float(sys.argv[6]), burst=int(sys.argv[7]),
                      max_concurrency=2, max_wait=120.0)
with open_store(state_url) as store:
    flow = request_budget(store, config) if shared == "shared" else None
    with OmlinkClient(config, flow=flow) as client:
        print("ready", flush=True)
        sys.stdin.readline()  # every worker starts at once
        for i in range(int(requests)):
            if i % 2:
                client.available_to_sell([tee])
            else:
                order = make_sales_order(f"W{worker}-{i}", [(tee, 1, "WH1")])
                [result] = client.submit_orders([order])
                assert result.accepted, result
"""


def _run_workers(url: str, state_url: str, mode: str) -> None:
    workers = [
        subprocess.Popen(  # noqa: S603  (this interpreter, a constant script)
            [
                sys.executable,
                "-c",
                _WORKER,
                f"{url}/omlink/omlink",
                state_url,
                str(w),
                str(REQUESTS),
                mode,
                str(RATE),
                str(BURST),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        worker.communicate(timeout=120)
        assert worker.returncode == 0


def _emulator() -> PrimaEmulator:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_product(TEE)
    world.set_stock(TEE, "WH1", 10_000)
    return PrimaEmulator(world)


def test_four_worker_processes_never_exceed_the_shared_budget(postgres_url: str) -> None:
    emulator = _emulator()
    with emulator.serve() as url:
        _run_workers(url, postgres_url, "shared")
    seen = emulator.arrivals
    assert seen.total == WORKERS * REQUESTS
    # A token bucket lets at most burst + rate * t through in any t seconds.
    assert seen.busiest(1.0) <= most_in_one_second(RATE, BURST), seen.per_second()
    numbers = [o.order_number for o in emulator.world.orders()]
    assert len(numbers) == len(set(numbers)) == WORKERS * REQUESTS // 2


def test_workers_with_their_own_limiters_send_several_times_the_budget(
    postgres_url: str,
) -> None:
    # The control: the same workers, each with the client's in-process limiter.
    emulator = _emulator()
    with emulator.serve() as url:
        _run_workers(url, postgres_url, "own")
    assert emulator.arrivals.busiest(1.0) > most_in_one_second(RATE, BURST)
