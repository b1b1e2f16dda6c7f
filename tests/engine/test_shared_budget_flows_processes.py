"""Worker processes of every flow (order submission, the order flow's status checks, dispatch
polling, stock reads) share one Prima budget on PostgreSQL, against the emulator over HTTP
behind a gateway rate limit: seen from the emulator's side no second carries more than the
budget allows (with the slack of a busy machine, ``arrivals.py``) and no request is refused
with a 429; the order flow gets the budget while the others
wait, by flow and not by request type (the order flow's OrderStatus goes first, dispatch's
waits); and with adaptive flow control a 429 burst slows every worker at once, and they recover
together."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ct_prima_sync.engine import SharedRate, SubmissionFlow, SystemClock
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, SkuCode
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import PrimaEmulator, PrimaWorld, RequestRateLog, make_sales_order
from tests.engine.arrivals import gateway_burst, most_in_one_second

pytestmark = pytest.mark.slow

TEE = SkuCode(product="TEE1", matrix=("BLK", "M"))
RATE, BURST = 8.0, 2

_WORKER = """
import json, sys, threading, time
from collections import Counter
from ct_prima_sync.engine import SubmissionFlow, request_budget
from ct_prima_sync.errors import CtPrimaSyncError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, RequestFlow, SkuCode, request_flow
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import make_sales_order

endpoint, state_url, role, name, rate, burst, seconds, adaptive = sys.argv[1:9]
tee = SkuCode(product="TEE1", matrix=("BLK", "M"))
config = OmlinkConfig(endpoint=endpoint, rate_limit=float(rate), burst=int(burst),
                      max_concurrency=4, max_wait=5.0)
# Only Prima's refusals cut the rate here: a reply slowed by a busy machine is not trouble.
flow = (SubmissionFlow(max_rate=float(rate), decrease=0.25, increase=0.5, hold_seconds=1.0,
                       slow_seconds=3600.0)
        if adaptive == "adaptive" else None)
done, kinds, errors, samples = [], Counter(), Counter(), []
with open_store(state_url) as store:
    budget = request_budget(store, config, adaptive=flow)
    with OmlinkClient(config, flow=budget) as client:
        print("ready", flush=True)
        start = float(sys.stdin.readline())
        stop = threading.Event()  # a line on stdin, or ``seconds`` after the start

        def stopper():
            if sys.stdin.readline().strip() == "stop":  # not the end of stdin
                stop.set()

        threading.Thread(target=stopper, daemon=True).start()
        time.sleep(max(0.0, start - time.time()))

        def going():
            return not stop.is_set() and time.time() < start + float(seconds)

        def sample():  # the rate this worker would send at, ten times a second
            while going():
                samples.append((time.time(), budget.current_rate))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample)
        sampler.start()
        n = 0
        with request_flow(RequestFlow("dispatch" if role == "dispatch" else
                                      "stock" if role == "stock" else "orders")):
            while going():
                n += 1
                try:
                    if role == "orders":
                        kind = "MultiNewOrder"
                        client.submit_orders([make_sales_order(f"{name}-{n}", [(tee, 1, "WH1")])])
                    elif role in ("orders-status", "dispatch"):
                        status = n % 2 or role == "orders-status"
                        kind = "OrderStatus" if status else "DespatchDetails"
                        if kind == "OrderStatus":
                            client.order_status("SEED-1")
                        else:
                            client.despatch_details("SEED-1")
                    else:
                        kind = "MultiAvailableToSell"
                        client.available_to_sell([tee])
                    done.append(time.time())
                    kinds[kind] += 1
                except CtPrimaSyncError as error:
                    errors[type(error).__name__] += 1
        sampler.join()
print(json.dumps({"role": role, "done": done, "kinds": kinds, "errors": errors,
                  "samples": samples, "held_up": budget.held_up}))
"""


def _emulator() -> PrimaEmulator:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_product(TEE)
    world.set_stock(TEE, "WH1", 100_000)
    emulator = PrimaEmulator(world)
    # Arrivals on the wall clock, the clock the worker processes report on.
    emulator.arrivals = RequestRateLog(time.time)
    with OmlinkClient(
        OmlinkConfig(endpoint="http://prima.test/omlink"), transport=emulator.transport()
    ) as seed:
        seed.submit_orders([make_sales_order("SEED-1", [(TEE, 1, "WH1")])])
    emulator.arrivals.clear()
    return emulator


@contextmanager
def _workers(
    url: str,
    state_url: str,
    roles: list[str],
    seconds: float,
    adaptive: bool,
    *,
    until_stopped: bool = False,
) -> Iterator[tuple[float, list[dict[str, Any]]]]:
    """Start one process per role, all ready before any sends; yields (the moment they start
    sending, wall clock; a list filled with their reports when they are done). They stop
    ``seconds`` after the start; with ``until_stopped``, when the body is done if that comes
    first."""
    procs = [
        subprocess.Popen(  # noqa: S603  (this interpreter, a constant script)
            [
                sys.executable,
                "-c",
                _WORKER,
                f"{url}/omlink/omlink",
                state_url,
                role,
                f"{role}{i}",
                str(RATE),
                str(BURST),
                str(seconds),
                "adaptive" if adaptive else "fixed",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, role in enumerate(roles)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    start = time.time() + 0.5
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start}\n")
        proc.stdin.flush()
    reports: list[dict[str, Any]] = []
    yield start, reports
    if until_stopped:
        for proc in procs:  # every one at once: one stopped after another would drift apart
            assert proc.stdin is not None
            proc.stdin.write("stop\n")
            proc.stdin.flush()
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        reports.append(json.loads(out.strip().splitlines()[-1]))


def _in(times: list[float], lo: float, hi: float) -> int:
    return sum(1 for t in times if lo <= t < hi)


def test_every_flow_shares_the_budget_and_order_submission_goes_first(postgres_url: str) -> None:
    emulator = _emulator()
    # Prima's gateway allows the budget (with the slack a busy machine needs: tests/engine/
    # arrivals.py) and refuses beyond.
    emulator.limit_rate(RATE, burst=gateway_burst(RATE, BURST))
    seconds = 8.0
    roles = ["orders"] * 3 + ["orders-status", "dispatch", "dispatch", "stock"]
    with (
        emulator.serve() as url,
        _workers(url, postgres_url, roles, seconds, False) as (
            start,
            reports,
        ),
    ):
        pass
    seen = emulator.arrivals
    held_up = sum(report["held_up"] for report in reports)  # moments given up (busy machine)
    assert seen.busiest(1.0) <= most_in_one_second(RATE, BURST), (seen.report(), held_up)
    assert seen.rate_limited == 0, (seen.report(), held_up)
    lo, hi = start + 1.0, start + seconds - 1.0
    window = hi - lo
    by_role: dict[str, int] = {}
    for report in reports:
        by_role[report["role"]] = by_role.get(report["role"], 0) + _in(report["done"], lo, hi)
        assert not report["errors"], report["errors"]
    order_flow = by_role["orders"] + by_role["orders-status"]
    assert order_flow >= 0.8 * RATE * window, by_role
    # By flow, not by type: the order flow's OrderStatus checks went, dispatch's waited.
    assert by_role["orders-status"] >= 2 * max(1, by_role["dispatch"]), by_role
    assert by_role["dispatch"] + by_role["stock"] <= 0.2 * RATE * window, by_role
    numbers = [o.order_number for o in emulator.world.orders()]
    assert len(numbers) == len(set(numbers))


def _wait_for(done: Callable[[], bool], seconds: float, what: str) -> float:
    """Wait (real time: real processes) until ``done()``; the wall-clock moment it was."""
    deadline = time.time() + seconds
    while not done():
        assert time.time() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.05)
    return time.time()


def test_a_429_burst_slows_every_worker_and_they_recover_together(postgres_url: str) -> None:
    """The phases follow what happened, not a schedule: Prima refuses beyond 0.5 requests per
    second until it has answered three 429s, and the workers run until the shared rate has grown
    back. Every moment asserted on is one the emulator recorded (its first and last 429) or one
    the test saw happen, on the wall clock the workers sample their rates on; a busy machine
    makes the phases longer, not the assertions false."""
    emulator = _emulator()
    cut = 0.25 * RATE  # the workers' SubmissionFlow: decrease 0.25, increase 0.5 per second
    recovered_rate = cut + 3.0
    flow = SubmissionFlow(max_rate=RATE, decrease=0.25, increase=0.5, hold_seconds=1.0)
    roles = ["orders", "orders", "dispatch", "stock"]
    with (
        open_store(postgres_url) as store,
        emulator.serve() as url,
        _workers(url, postgres_url, roles, 120.0, True, until_stopped=True) as (start, reports),
    ):
        shared = SharedRate(store, "prima", flow, ceiling=RATE, clock=SystemClock())
        time.sleep(max(0.0, start + 3.0 - time.time()))  # three seconds at the full budget
        emulator.limit_rate(0.5, burst=1)  # Prima is overloaded: 429s
        _wait_for(lambda: emulator.arrivals.rate_limited >= 3, 60.0, "three 429s")
        emulator.limit_rate(None)
        lifted = time.time()
        recovered = _wait_for(
            lambda: shared.rate() >= recovered_rate, 60.0, "recovery of the shared rate"
        )
        time.sleep(1.0)  # every worker samples the recovered rate
    seen = emulator.arrivals
    refused = seen.rate_limited_times()
    first_429, last_429 = refused[0], refused[-1]
    assert seen.busiest(1.0) <= most_in_one_second(RATE, BURST), seen.report()
    # Seen from Prima: the full budget before, about a quarter of it after the burst.
    assert seen.between(first_429 - 2.0, first_429) >= 0.8 * RATE * 2, seen.report()
    assert seen.between(last_429 + 1.0, last_429 + 3.0) <= 0.5 * RATE * 2 + BURST
    for report in reports:
        samples = report["samples"]
        before = [r for t, r in samples if start + 1.0 <= t < first_429]
        backed_off = [r for t, r in samples if first_429 <= t < lifted + 2.0]
        last = [r for t, r in samples if t >= recovered + 0.3]
        assert before, report["role"]
        assert backed_off, report["role"]
        assert last, report["role"]
        assert min(before) == pytest.approx(RATE), "full rate before the burst"
        # Whether or not this worker met a 429 itself, its rate was cut with everyone's...
        assert min(backed_off) <= 0.5 * RATE, (report["role"], report["errors"])
        # ...and grew back with everyone's (0.5 per second).
        assert min(last) >= min(backed_off) + 2.0, report["role"]
    finals = [report["samples"][-1][1] for report in reports]
    assert max(finals) - min(finals) <= 1.0, "every worker at the same shared rate"
