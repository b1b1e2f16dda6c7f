"""Backlog drain with batched submits against a rate-limited Prima over real HTTP.

The Prima emulator and the commercetools fake are served on loopback HTTP (threads of this
process); the emulator sleeps ``BENCH_DRAIN_LATENCY_MS`` per request, behind a token bucket
(``bench_engine.ServerRateLimit``: R requests per second, a little burst for timing jitter) that
answers 429 to any request beyond it, so "no 429" is checked by a server, not assumed. The
engine (SQLite store, concurrency 4, ``claim_batch`` = B x concurrency) speaks to it through
``OmlinkClient`` with the client rate limit R (burst 1), every customer's account known
(``remember_customers``: their orders go batched; a customer's first order would go alone).

Timed: ``SyncEngine.process_backlog`` over a backlog already polled into the ledger. Printed per
run: orders/s against the goal 0.9 x R x B, requests/s, the 429s the server sent (goal 0), the
busiest one-second window the emulator saw. Baseline in the same run: ``submit_batch_size`` 1
(at most R orders/s), on a backlog of its own (R x 12 orders: about 12 s). Every run checks that
each order reached Prima exactly once.

Environment: ``BENCH_DRAIN_N`` (orders of the batched run, default 2000), ``BENCH_DRAIN_RATE``
(R, default 4), ``BENCH_DRAIN_BATCH`` (B, default 25), ``BENCH_DRAIN_LATENCY_MS`` (default 20).
The issue's proof is ``BENCH_DRAIN_N=20000``.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from typing import Any

from benchmarks.bench_engine import ServerRateLimit, _check_exactly_once, _load
from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig
from ct_prima_sync.engine import EngineConfig, SyncEngine
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import PrimaEmulator, PrimaFault, PrimaFaultKind, PrimaFaultPlan
from ct_prima_sync.testing._prima._http import serve_wsgi
from ct_prima_sync.testing.scenario import build_scenario, remember_customers

_SECRET = "benchmark-installation-secret"  # noqa: S105
_CONCURRENCY = 4


def drain(n: int, *, rate: float, batch: int, latency: float) -> dict[str, Any]:
    """Poll ``n`` orders into a fresh SQLite ledger, then time the drain; the run's figures."""
    scenario = build_scenario(orders=n, seed=12)
    faults = PrimaFaultPlan()
    faults.random(0, {PrimaFault(kind=PrimaFaultKind.LATENCY, delay=latency): 1.0})
    emulator = PrimaEmulator(scenario.world, faults=faults)
    server = ServerRateLimit(emulator, rate=rate, burst=2)
    fake = scenario.commercetools
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{tmp}/sync.db") as store,
        fake.serve() as ct_url,
        serve_wsgi(server, "127.0.0.1", emulator.timeout_hold) as prima_url,
    ):
        ct_config = CommercetoolsConfig(
            project_key=fake.project_key,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            api_url=ct_url,
            auth_url=ct_url,
        )
        prima_config = OmlinkConfig(endpoint=f"{prima_url}/omlink/omlink", rate_limit=rate, burst=1)
        with (
            CommercetoolsClient(ct_config) as commercetools,
            OmlinkClient(prima_config) as prima,
        ):
            engine = SyncEngine(
                commercetools=commercetools,
                prima=prima,
                store=store,
                mapping=scenario.mapping,
                config=EngineConfig(
                    worker_id="bench",
                    concurrency=_CONCURRENCY,
                    claim_batch=max(50, batch * _CONCURRENCY),
                    submit_batch_size=batch,
                    initial_cursor=scenario.first_order_at - timedelta(days=1),
                    customer_key_secret=_SECRET,
                ),
            )
            polled = engine.poll_orders()
            if polled != n:
                raise SystemExit(f"the poll found {polled} of {n} orders")
            remember_customers(scenario, store, secret=_SECRET, now=scenario.first_order_at)
            emulator.arrivals.clear()
            accepted, rejected = server.accepted, server.rejected
            started, cpu = time.perf_counter(), time.process_time()
            summary = engine.process_backlog()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    _check_exactly_once(scenario, summary.posted)
    return {
        "orders": summary.posted,
        "orders_per_s": summary.posted / seconds,
        "requests_per_s": (server.accepted - accepted) / seconds,
        "rejected": server.rejected - rejected,
        "busiest": emulator.arrivals.busiest(1.0),
        "seconds": seconds,
        "cpu_ms": cpu / n * 1000,
    }


def _line(label: str, r: dict[str, Any], goal: float) -> str:
    return (
        f"  {label:<26} {r['orders_per_s']:7.1f} orders/s (goal {goal:.1f}: "
        f"{r['orders_per_s'] / goal:.2f} of it), {r['requests_per_s']:.2f} requests/s, "
        f"{r['rejected']} x 429, busiest 1-s window {r['busiest']} requests; "
        f"{r['orders']} orders in {r['seconds']:.1f} s, {r['cpu_ms']:.1f} ms CPU per order "
        f"(this process: engine and both servers)"
    )


def main() -> None:
    """Print the baseline's and the batched drain's rates and their ratio."""
    n = int(os.environ.get("BENCH_DRAIN_N", "2000"))
    rate = float(os.environ.get("BENCH_DRAIN_RATE", "4"))
    batch = int(os.environ.get("BENCH_DRAIN_BATCH", "25"))
    latency = float(os.environ.get("BENCH_DRAIN_LATENCY_MS", "20")) / 1000
    print(
        f"backlog drain over HTTP, server rate limit R = {rate:.0f} requests/s, "
        f"{latency * 1000:.0f} ms latency, SQLite, concurrency {_CONCURRENCY} ({_load()})",
        flush=True,
    )
    base = drain(int(rate * 12), rate=rate, batch=1, latency=latency)
    print(_line("baseline: 1 per request", base, 0.9 * rate), flush=True)
    batched = drain(n, rate=rate, batch=batch, latency=latency)
    print(_line(f"{batch} per request", batched, 0.9 * rate * batch), flush=True)
    print(
        f"  ratio batched / baseline: {batched['orders_per_s'] / base['orders_per_s']:.1f}x "
        f"({_load()})",
        flush=True,
    )
