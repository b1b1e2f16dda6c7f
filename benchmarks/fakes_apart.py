"""The commercetools fake and the Prima emulator served each from a process of its own.

In a deployment, commercetools and Prima run elsewhere: the engine's process does the engine's
work only, and Prima notes a request when it comes, whatever commercetools is busy with. A
benchmark that serves the fakes from threads of its own process makes the engine share one
interpreter lock with both servers; one server process for both makes the emulator share it
with the commercetools fake (a write-back for every order). A request then waits in a server's
socket until that process's busy threads let it run, and the emulator's rate limit sees it
together with the next one. :func:`served_apart` starts two interpreters (``python -c``, as
``bench_workers`` starts its workers), each building the same scenario (``build_scenario`` is
deterministic for a seed) and serving one system on loopback HTTP: the commercetools fake, and
the Prima emulator behind ``bench_engine.ServerRateLimit`` and a latency fault (either or both
left out when asked: ``rate`` None, ``latency`` 0; ``strict`` for a strict emulator). Each answers a
few commands, one JSON line each way:

- ``customers`` (Prima; ``secret``, ``now``): ``remember_customers`` on the emulator's world;
  the pairs (customer key, account code) for the engine's store;
- ``mark`` (both): the measured part starts here (arrivals, 429s and CPU counted from now);
- ``report`` (both): what the server saw since ``mark``: its CPU-seconds and longest garbage
  collection; Prima's also requests accepted, 429s sent, the busiest one-second window
  (sliding) and the busiest whole second, the exactly-once check (``lost``: good orders not
  submitted exactly once; ``good``: how many there are; ``most_submissions``: the most times one
  of them was submitted), what a strict emulator refused (``refused``, the first few), and when
  (``time.monotonic``, one clock for every process of the machine) each request was let in and
  each 429 sent.

The fakes' data is frozen out of each server's garbage collector once built (what commercetools
and Prima keep is not a Python heap to scan), and the emulator's process collects nothing while
it serves: a collection there (268 ms once, longer than a slot at 4 requests per second) holds
every request back, and the rate limit sees them come in together.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

from benchmarks.bench_engine import ServerRateLimit
from ct_prima_sync.commercetools import CommercetoolsConfig
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing import (
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
)
from ct_prima_sync.testing._prima._http import serve_wsgi
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario, remember_customers

__all__ = ["GcPauses", "ServedApart", "ServerProcess", "served_apart"]

_CHILD = "import sys\nfrom benchmarks.fakes_apart import serve\nserve(sys.argv[1])\n"


class ServerProcess:
    """One running server process: what it said when it started (``hello``) and :meth:`ask`."""

    def __init__(self, proc: subprocess.Popen[str], hello: dict[str, Any]) -> None:
        self._proc = proc
        self.hello = hello
        self.url: str = hello["url"]

    def ask(self, command: str, **args: Any) -> dict[str, Any]:
        """Send ``command`` with ``args``; the server's answer."""
        stdin, stdout = cast("IO[str]", self._proc.stdin), cast("IO[str]", self._proc.stdout)
        stdin.write(json.dumps({"command": command, **args}) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise SystemExit(f"a server process died (exit {self._proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def commercetools_config(self) -> CommercetoolsConfig:
        """The client settings for the commercetools fake this process serves."""
        return CommercetoolsConfig(
            project_key=self.hello["project_key"],
            client_id=self.hello["client_id"],
            client_secret=self.hello["client_secret"],
            api_url=self.url,
            auth_url=self.url,
        )

    @property
    def omlink_endpoint(self) -> str:
        """The SOAP address of the Prima emulator this process serves."""
        return f"{self.url}/omlink/omlink"


class ServedApart:
    """Both server processes: ``commercetools`` and ``prima``."""

    def __init__(self, commercetools: ServerProcess, prima: ServerProcess) -> None:
        self.commercetools = commercetools
        self.prima = prima


@contextmanager
def _started(spec: dict[str, Any]) -> Iterator[ServerProcess]:
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
            raise SystemExit(f"a server process failed to start (exit {proc.wait()})")
        yield ServerProcess(proc, json.loads(line))
    finally:
        cast("IO[str]", proc.stdin).close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def served_apart(
    *,
    orders: int,
    seed: int,
    rate: float | None,
    burst: int,
    latency: float,
    strict: bool = False,
) -> Iterator[ServedApart]:
    """Server processes for ``build_scenario(orders=orders, seed=seed)``: the commercetools
    fake, and the Prima emulator (``strict``: ``PrimaEmulator(strict=True)``) sleeping
    ``latency`` seconds per request (0: no latency fault) behind a bucket of ``rate`` per
    second, ``burst`` (None: no rate limit)."""
    spec = {
        "orders": orders,
        "seed": seed,
        "rate": rate,
        "burst": burst,
        "latency": latency,
        "strict": strict,
    }
    with ExitStack() as stack:
        ct = stack.enter_context(_started({**spec, "serve": "commercetools"}))
        prima = stack.enter_context(_started({**spec, "serve": "prima"}))
        yield ServedApart(ct, prima)


class GcPauses:
    """The longest garbage collection of this process since :meth:`clear` (seconds)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)

    def clear(self) -> None:
        """Start over."""
        self.longest = 0.0


class _Customers:
    """Stands in for a store in ``remember_customers``: keeps the pairs it is given."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def put_customer(self, key: str, account: str, *, now: datetime) -> None:
        self.pairs.append((key, account))


def serve(spec_json: str) -> None:
    """A server process: build, serve, answer commands on stdin until it closes."""
    spec = json.loads(spec_json)
    scenario = build_scenario(orders=spec["orders"], seed=spec["seed"])
    if spec["serve"] == "commercetools":
        _serve_commercetools(scenario)
    else:
        _serve_prima(scenario, spec)


def _ready(hello: dict[str, Any]) -> GcPauses:
    gc.collect()
    gc.freeze()
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    print(json.dumps(hello), flush=True)
    return pauses


def _serve_commercetools(scenario: SyncScenario) -> None:
    fake = scenario.commercetools
    with fake.serve() as url:
        pauses = _ready(
            {
                "url": url,
                "project_key": fake.project_key,
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
            }
        )
        cpu = time.process_time()
        for line in sys.stdin:
            if json.loads(line)["command"] == "mark":
                cpu = time.process_time()
                pauses.clear()
            answer = {"cpu": time.process_time() - cpu, "gc_pause": pauses.longest}
            print(json.dumps(answer), flush=True)


def _serve_prima(scenario: SyncScenario, spec: dict[str, Any]) -> None:
    faults = PrimaFaultPlan()
    if spec["latency"]:
        faults.random(0, {PrimaFault(kind=PrimaFaultKind.LATENCY, delay=spec["latency"]): 1.0})
    emulator = PrimaEmulator(scenario.world, faults=faults, strict=spec["strict"])
    limit = ServerRateLimit(emulator, rate=spec["rate"] or 1.0, burst=spec["burst"])
    app = emulator if spec["rate"] is None else limit
    accepted = rejected = refused = 0
    with serve_wsgi(app, "127.0.0.1", emulator.timeout_hold) as url:
        pauses = _ready({"url": url})
        # No collections at all here: one would hold every request back and the rate limit
        # would see them come together (its request log is the only thing that grows).
        gc.disable()
        cpu = time.process_time()
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
                emulator.refused.clear()
                accepted, rejected, cpu = limit.accepted, limit.rejected, time.process_time()
                refused = len(limit.refused_at)
                pauses.clear()
            elif ask["command"] == "report":
                submitted = scenario.world.submission_counts()
                lost = [n for n in scenario.good if submitted[n] != 1]
                arrivals = emulator.arrivals.times()
                answer = {
                    "accepted": (len(arrivals) if app is emulator else limit.accepted - accepted),
                    "rejected": limit.rejected - rejected,
                    "busiest": emulator.arrivals.busiest(1.0),
                    "busiest_whole_second": max(emulator.arrivals.per_second(), default=0),
                    "cpu": time.process_time() - cpu,
                    "gc_pause": pauses.longest,
                    "good": len(scenario.good),
                    "most_submissions": max((submitted[n] for n in scenario.good), default=0),
                    "lost": lost[:5],
                    "lost_count": len(lost),
                    "arrivals": arrivals,
                    "refused": emulator.refused[:5],  # by a strict emulator
                    "refused_at": limit.refused_at[refused:],
                }
            print(json.dumps(answer), flush=True)
