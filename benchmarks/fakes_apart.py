"""The commercetools fake and the Prima emulator served from a process of their own.

In a deployment, commercetools and Prima run elsewhere: the engine's process does the engine's
work only. A benchmark that serves the fakes from threads of its own process makes the engine
share one interpreter lock with both servers, and a pause there (a garbage collection over the
fakes' data, a busy server thread) holds back a request whose rate-limit slot has come, so it
reaches Prima together with the next one. :func:`served_apart` starts a second interpreter
(``python -c``, as ``bench_workers`` starts its workers) that builds the scenario, serves both
fakes on loopback HTTP (the emulator behind ``bench_engine.ServerRateLimit`` and a latency
fault) and answers a few commands, one JSON line each way:

- ``customers`` (``secret``, ``now``): ``remember_customers`` on the server's world; the pairs
  (customer key, account code) for the engine's store;
- ``mark``: the measured part starts here (arrivals, 429s and CPU counted from now);
- ``report`` (``posted``): what the server saw since ``mark``: requests accepted, 429s sent,
  the busiest one-second window (sliding), its CPU-seconds, the exactly-once check (every good
  order submitted once, as many posted as there are good orders), and when (``time.monotonic``,
  one clock for every process of the machine) each request was let in and each 429 sent.

The fakes' data is frozen out of the server's garbage collector once built (what commercetools
and Prima keep is not a Python heap to scan), so the server stamps each request when it comes.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

from benchmarks.bench_engine import ServerRateLimit
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing import (
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
)
from ct_prima_sync.testing._prima._http import serve_wsgi
from ct_prima_sync.testing.scenario import build_scenario, remember_customers

__all__ = ["ServedApart", "served_apart"]

_CHILD = "import sys\nfrom benchmarks.fakes_apart import serve\nserve(sys.argv[1])\n"


class ServedApart:
    """The running server process: its URLs and credentials (``hello``) and :meth:`ask`."""

    def __init__(self, proc: subprocess.Popen[str], hello: dict[str, Any]) -> None:
        self._proc = proc
        self.hello = hello
        self.ct_url: str = hello["ct_url"]
        self.prima_url: str = hello["prima_url"]

    def ask(self, command: str, **args: Any) -> dict[str, Any]:
        """Send ``command`` with ``args``; the server's answer."""
        stdin, stdout = cast("IO[str]", self._proc.stdin), cast("IO[str]", self._proc.stdout)
        stdin.write(json.dumps({"command": command, **args}) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise SystemExit(f"the server process died (exit {self._proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer


@contextmanager
def served_apart(
    *, orders: int, seed: int, rate: float, burst: int, latency: float
) -> Iterator[ServedApart]:
    """A server process for ``build_scenario(orders=orders, seed=seed)``: the emulator sleeps
    ``latency`` seconds per request behind a bucket of ``rate`` per second, ``burst``."""
    spec = {"orders": orders, "seed": seed, "rate": rate, "burst": burst, "latency": latency}
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", _CHILD, json.dumps(spec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    try:
        line = cast("IO[str]", proc.stdout).readline()
        if not line:
            raise SystemExit(f"the server process failed to start (exit {proc.wait()})")
        yield ServedApart(proc, json.loads(line))
    finally:
        cast("IO[str]", proc.stdin).close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _Customers:
    """Stands in for a store in ``remember_customers``: keeps the pairs it is given."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def put_customer(self, key: str, account: str, *, now: datetime) -> None:
        self.pairs.append((key, account))


def serve(spec_json: str) -> None:
    """The server process: build, serve, answer commands on stdin until it closes."""
    spec = json.loads(spec_json)
    scenario = build_scenario(orders=spec["orders"], seed=spec["seed"])
    faults = PrimaFaultPlan()
    faults.random(0, {PrimaFault(kind=PrimaFaultKind.LATENCY, delay=spec["latency"]): 1.0})
    emulator = PrimaEmulator(scenario.world, faults=faults)
    limit = ServerRateLimit(emulator, rate=spec["rate"], burst=spec["burst"])
    fake = scenario.commercetools
    accepted = rejected = refused = 0
    cpu = time.process_time()
    with fake.serve() as ct_url, serve_wsgi(limit, "127.0.0.1", emulator.timeout_hold) as url:
        gc.collect()
        gc.freeze()
        hello = {
            "ct_url": ct_url,
            "prima_url": url,
            "project_key": fake.project_key,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
        }
        print(json.dumps(hello), flush=True)
        for line in sys.stdin:
            ask = json.loads(line)
            answer: dict[str, Any] = {}
            if ask["command"] == "customers":
                customers = _Customers()
                now = datetime.fromisoformat(ask["now"])
                store = cast("StateStore", customers)
                remember_customers(scenario, store, secret=ask["secret"], now=now)
                answer = {"customers": customers.pairs}
            elif ask["command"] == "mark":
                emulator.arrivals.clear()
                accepted, rejected, cpu = limit.accepted, limit.rejected, time.process_time()
                refused = len(limit.refused_at)
            elif ask["command"] == "report":
                submitted = Counter(
                    number
                    for record in scenario.world.requests(PrimaRequestKind.SUBMIT_ORDERS)
                    if record.applied
                    for number in record.keys
                )  # one pass: submission_count per order would read the whole log each time
                lost = [n for n in scenario.good if submitted[n] != 1]
                answer = {
                    "accepted": limit.accepted - accepted,
                    "rejected": limit.rejected - rejected,
                    "busiest": emulator.arrivals.busiest(1.0),
                    "cpu": time.process_time() - cpu,
                    "good": len(scenario.good),
                    "lost": lost[:5],
                    "lost_count": len(lost),
                    "arrivals": emulator.arrivals.times(),
                    "refused_at": limit.refused_at[refused:],
                }
            print(json.dumps(answer), flush=True)
