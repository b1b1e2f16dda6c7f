"""Order submission with dispatch polling and stock reads running, against order submission alone,
all worker processes sharing one Prima budget on PostgreSQL.

The Prima emulator is served over loopback HTTP behind a gateway rate limit of the budget's rate
(``PrimaEmulator.limit_rate``, burst + 2 for network jitter): a request beyond it would be
answered 429. Worker processes (``python -c``, each its own store connection, omlink client and
``request_budget``) send as fast as the shared budget lets them for ``BENCH_FLOWS_SECONDS``,
starting together: order workers ``MultiNewOrder`` (one order each), dispatch workers
``OrderStatus``/``DespatchDetails`` polls, a stock worker ``MultiAvailableToSell`` reads, each
inside its flow (``request_flow``).

Baseline: the order workers alone, same run, same budget. Printed per run, from the emulator's
side, over the run less its first and last second: ``MultiNewOrder`` per second, the other
flows' requests per second, the busiest one-second window (sliding) against the budget
(``rate + burst``), and the 429s the gateway sent; then the ratio of submissions per second with
the other flows running to the baseline (1.0: the other flows took nothing from submission).

Environment: ``BENCH_FLOWS_RATE`` (default 20), ``BENCH_FLOWS_BURST`` (2),
``BENCH_FLOWS_SECONDS`` (8), ``BENCH_FLOWS_ORDER_WORKERS`` (3), ``CT_PRIMA_SYNC_TEST_POSTGRES_URL``
(as in ``bench_engine``; skipped if unreachable).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks.bench_engine import _load, _postgres
from ct_prima_sync.engine import request_budget
from ct_prima_sync.errors import CtPrimaSyncError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, RequestFlow, SkuCode, request_flow
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import PrimaEmulator, PrimaWorld, make_sales_order

TEE = SkuCode(product="TEE1", matrix=("BLK", "M"))
_WORKER = (
    "import json, sys\n"
    "from benchmarks.bench_budget_flows import send_as_flow\n"
    "send_as_flow(json.loads(sys.argv[1]))\n"
)


def send_as_flow(job: dict[str, Any]) -> None:
    """One worker process: say ``ready``, read the start time from stdin, then send the
    requests of ``job["role"]`` until ``job["seconds"]`` have passed."""
    config = OmlinkConfig(
        endpoint=job["endpoint"],
        rate_limit=job["rate"],
        burst=job["burst"],
        max_concurrency=4,
        max_wait=5.0,
    )
    role, errors, n = job["role"], 0, 0
    with (
        open_store(job["state_url"]) as store,
        OmlinkClient(config, flow=request_budget(store, config)) as client,
    ):
        print("ready", flush=True)
        start = float(sys.stdin.readline())
        time.sleep(max(0.0, start - time.time()))
        with request_flow(RequestFlow(role)):
            while time.time() < start + job["seconds"]:
                n += 1
                try:
                    if role == "orders":
                        order = make_sales_order(f"{job['name']}-{n}", [(TEE, 1, "WH1")])
                        client.submit_orders([order])
                    elif role == "dispatch" and n % 2:
                        client.order_status("SEED-1")
                    elif role == "dispatch":
                        client.despatch_details("SEED-1")
                    else:
                        client.available_to_sell([TEE])
                except CtPrimaSyncError:
                    errors += 1
    print(json.dumps({"role": role, "errors": errors}), flush=True)


def _emulator(rate: float, burst: int) -> PrimaEmulator:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_product(TEE)
    world.set_stock(TEE, "WH1", 1_000_000)
    emulator = PrimaEmulator(world)
    config = OmlinkConfig(endpoint="http://prima.test/omlink")
    with OmlinkClient(config, transport=emulator.transport()) as seed:
        seed.submit_orders([make_sales_order("SEED-1", [(TEE, 1, "WH1")])])
    emulator.arrivals.clear()
    emulator.limit_rate(rate, burst=burst + 2)
    return emulator


def run(roles: list[str], state_url: str, job: dict[str, Any]) -> dict[str, Any]:
    """The emulator's figures for one run of worker processes with ``roles``."""
    emulator = _emulator(job["rate"], job["burst"])
    with emulator.serve() as url:
        procs = []
        for i, role in enumerate(roles):
            worker = {
                **job,
                "endpoint": f"{url}/omlink/omlink",
                "state_url": state_url,
                "role": role,
                "name": f"{role}{i}",
            }
            procs.append(
                subprocess.Popen(  # noqa: S603  (this interpreter, a constant script)
                    [sys.executable, "-c", _WORKER, json.dumps(worker)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker did not start")
        start_mono = emulator.arrivals.clock() + 0.5
        start = time.time() + 0.5
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{start}\n")
            proc.stdin.flush()
        errors = 0
        for proc in procs:
            out, _ = proc.communicate(timeout=job["seconds"] + 120)
            if proc.returncode != 0:
                raise RuntimeError(f"a worker failed (exit {proc.returncode})")
            errors += json.loads(out.strip().splitlines()[-1])["errors"]
    seen = emulator.arrivals
    lo, hi = start_mono + 1.0, start_mono + job["seconds"] - 1.0
    submissions = seen.between(lo, hi, "MultiNewOrder")
    return {
        "submissions_per_s": submissions / (hi - lo),
        "others_per_s": (seen.between(lo, hi) - submissions) / (hi - lo),
        "busiest": seen.busiest(1.0),
        "rate_limited": seen.rate_limited,
        "errors": errors,
        "by_type": seen.by_type(),
    }


def _line(label: str, r: dict[str, Any], job: dict[str, Any]) -> str:
    budget = job["rate"] + job["burst"]
    verdict = "within" if r["busiest"] <= budget else "OVER THE BUDGET"
    return (
        f"  {label:<34} {r['submissions_per_s']:5.1f} submissions/s, "
        f"{r['others_per_s']:5.1f} other requests/s; busiest 1-s window {r['busiest']} vs "
        f"{budget:.0f} ({verdict}); 429s sent {r['rate_limited']}; worker errors "
        f"{r['errors']} ({_load()})"
    )


def main() -> None:
    """Run the baseline and the mixed run and print the comparison."""
    job = {
        "rate": float(os.environ.get("BENCH_FLOWS_RATE", "20")),
        "burst": int(os.environ.get("BENCH_FLOWS_BURST", "2")),
        "seconds": float(os.environ.get("BENCH_FLOWS_SECONDS", "8")),
    }
    order_workers = int(os.environ.get("BENCH_FLOWS_ORDER_WORKERS", "3"))
    alone = ["orders"] * order_workers
    mixed = [*alone, "dispatch", "dispatch", "stock"]
    with _postgres() as pg_url:
        if pg_url is None:
            return
        base = run(alone, pg_url, job)
        print(_line(f"{order_workers} order workers alone", base, job), flush=True)
        both = run(mixed, pg_url, job)
        print(_line("+ 2 dispatch, 1 stock worker", both, job), flush=True)
        print(f"    by request type: {both['by_type']}", flush=True)
    ratio = both["submissions_per_s"] / base["submissions_per_s"]
    print(
        f"  submissions/s with the other flows running: {ratio:.2f} of the baseline "
        f"(budget {job['rate']:.0f}/s, burst {job['burst']})",
        flush=True,
    )


if __name__ == "__main__":
    main()
