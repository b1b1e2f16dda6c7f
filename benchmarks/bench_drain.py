"""Backlog drain with batched submits against a rate-limited Prima over real HTTP.

The Prima emulator and the commercetools fake are served on loopback HTTP each from a process
of its own (``benchmarks.fakes_apart``), so this process does the engine's work only and the
emulator notes each request when it comes, as in a deployment. The emulator sleeps
``BENCH_DRAIN_LATENCY_MS`` per request, behind a token bucket (``bench_engine.ServerRateLimit``:
R requests per second, burst 2: one token of room for timing jitter) that answers 429 to any
request beyond it, so "no 429" is checked by a server, not assumed. The engine (SQLite store,
concurrency 4, ``claim_batch`` = B x concurrency) speaks to it through ``OmlinkClient`` with the
client rate limit R (burst 1), every customer's account known (``remember_customers``: their
orders go batched; a customer's first order would go alone).

Timed: ``SyncEngine.process_backlog`` over a backlog already polled into the ledger. Printed per
run: orders/s against the goal 0.9 x R x B, requests/s, and from the server's side the 429s it
sent (goal 0) and the busiest one-second window it saw; CPU per order in this process (the
engine) and in the servers'. Where a 429 comes from: the burst a bucket of R would need to let
every request through, as the client sent them (the moments its limiter let them go) and as
the server let them in, and the longest garbage collection in each process. Baseline in the
same run: ``submit_batch_size`` 1 (at most R orders/s), on a backlog of its own (R x 12
orders: about 12 s). Every run checks, from the server's side, that each order reached Prima
exactly once.

Environment: ``BENCH_DRAIN_N`` (orders of the batched run, default 2000), ``BENCH_DRAIN_RATE``
(R, default 4), ``BENCH_DRAIN_BATCH`` (B, default 25), ``BENCH_DRAIN_LATENCY_MS`` (default 20),
``BENCH_DRAIN_PROFILE`` (a file: the batched drain's profile of this process, every thread,
``pstats`` format). The issue's proof is ``BENCH_DRAIN_N=20000``.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from benchmarks.bench_engine import _load
from benchmarks.fakes_apart import GcPauses, served_apart
from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.engine import EngineConfig, SyncEngine
from ct_prima_sync.prima import (
    ConcurrencyLimiter,
    FlowControl,
    OmlinkClient,
    OmlinkConfig,
    RateLimiter,
)
from ct_prima_sync.state import open_store
from ct_prima_sync.testing.scenario import build_scenario

_SECRET = "benchmark-installation-secret"  # noqa: S105
_CONCURRENCY = 4
_SEED = 12
#: The server's bucket: the client's burst (1) and one token of room for timing jitter.
_SERVER_BURST = 2


class _Departures(FlowControl):
    """The omlink client's own limiter (``rate_limit``, ``burst``, ``max_concurrency``), noting
    when (``time.monotonic``) each request it lets through leaves: the moment its slot is
    granted, just before the request is written."""

    def __init__(self, config: OmlinkConfig) -> None:
        super().__init__(
            RateLimiter(config.rate_limit, config.burst),
            ConcurrencyLimiter(config.max_concurrency),
        )
        self.times: list[float] = []

    @contextmanager
    def slot(
        self, max_wait: float | None = None, request_type: str | None = None
    ) -> Iterator[bool]:
        """The client's slot, its moment noted."""
        with super().slot(max_wait, request_type) as granted:
            if granted:
                self.times.append(time.monotonic())
            yield granted


def _burst_needed(times: list[float], rate: float) -> float:
    """The least burst a token bucket of ``rate`` needs to let every one of ``times`` through:
    the most requests in any window beyond what ``rate`` refills in it."""
    needed, least = 0.0, float("inf")
    for index, t in enumerate(sorted(times)):
        least = min(least, index - rate * t)
        needed = max(needed, index + 1 - rate * t - least)
    return needed


def drain(n: int, *, rate: float, batch: int, latency: float) -> dict[str, Any]:
    """Poll ``n`` orders into a fresh SQLite ledger, then time the drain; the run's figures."""
    local = build_scenario(orders=0, seed=_SEED)  # the same mapping, no orders
    with (
        served_apart(
            orders=n, seed=_SEED, rate=rate, burst=_SERVER_BURST, latency=latency
        ) as servers,
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{tmp}/sync.db") as store,
    ):
        ct, prima_server = servers.commercetools, servers.prima
        ct_config = ct.commercetools_config()
        prima_config = OmlinkConfig(endpoint=prima_server.omlink_endpoint, rate_limit=rate, burst=1)
        departures = _Departures(prima_config)
        with (
            CommercetoolsClient(ct_config) as commercetools,
            OmlinkClient(prima_config, flow=departures) as prima,
        ):
            engine = SyncEngine(
                commercetools=commercetools,
                prima=prima,
                store=store,
                mapping=local.mapping,
                config=EngineConfig(
                    worker_id="bench",
                    concurrency=_CONCURRENCY,
                    claim_batch=max(50, batch * _CONCURRENCY),
                    submit_batch_size=batch,
                    initial_cursor=local.first_order_at - timedelta(days=1),
                    customer_key_secret=_SECRET,
                ),
            )
            polled = engine.poll_orders()
            if polled != n:
                raise SystemExit(f"the poll found {polled} of {n} orders")
            now = local.first_order_at
            known = prima_server.ask("customers", secret=_SECRET, now=now.isoformat())
            for key, account in known["customers"]:
                store.put_customer(key, account, now=now)
            ct.ask("mark")
            prima_server.ask("mark")
            departures.times.clear()
            pauses = GcPauses()
            gc.callbacks.append(pauses)
            profile = os.environ.get("BENCH_DRAIN_PROFILE") if batch > 1 else None
            started, cpu = time.perf_counter(), time.process_time()
            with _profiled(profile):
                summary = engine.process_backlog()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            gc.callbacks.remove(pauses)
            seen = prima_server.ask("report")
            ct_seen = ct.ask("report")
    if seen["lost_count"] or summary.posted != seen["good"]:
        raise SystemExit(
            f"engine run was wrong: posted {summary.posted} of {seen['good']}, "
            f"{seen['lost_count']} not exactly once: {seen['lost']}"
        )
    return {
        "orders": summary.posted,
        "orders_per_s": summary.posted / seconds,
        "requests_per_s": seen["accepted"] / seconds,
        "rejected": seen["rejected"],
        "busiest": seen["busiest"],
        "seconds": seconds,
        "cpu_ms": cpu / n * 1000,
        "server_cpu_ms": (seen["cpu"] + ct_seen["cpu"]) / n * 1000,
        "prima_gc_pause": seen["gc_pause"],
        "ct_gc_pause": ct_seen["gc_pause"],
        "departures_burst": _burst_needed(departures.times, rate),
        "arrivals_burst": _burst_needed(seen["arrivals"] + seen["refused_at"], rate),
        "gc_pause": pauses.longest,
    }


@contextmanager
def _profiled(path: str | None) -> Iterator[None]:
    """Profile every thread of this process into ``path`` (None: do nothing)."""
    if path is None:
        yield
        return
    import cProfile
    import threading

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(*_: object) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        sys.setprofile(None)  # this hook's work is done: the thread's own profile takes over
        profile.enable()

    main = cProfile.Profile()
    profiles.append(main)
    threading.setprofile(start)  # each new thread starts its own profile on its first call
    main.enable()
    try:
        yield
    finally:
        main.disable()
        threading.setprofile(None)
        import pstats

        stats = pstats.Stats(main)
        for profile in profiles[1:]:
            profile.disable()
            stats.add(profile)
        stats.dump_stats(path)


def _line(label: str, r: dict[str, Any], goal: float) -> str:
    return (
        f"  {label:<26} {r['orders_per_s']:7.1f} orders/s (goal {goal:.1f}: "
        f"{r['orders_per_s'] / goal:.2f} of it), {r['requests_per_s']:.2f} requests/s, "
        f"{r['rejected']} x 429, busiest 1-s window {r['busiest']} requests; "
        f"{r['orders']} orders in {r['seconds']:.1f} s; CPU per order {r['cpu_ms']:.1f} ms "
        f"in the engine's process, {r['server_cpu_ms']:.1f} ms in the servers'\n"
        f"  {'':<26} burst a bucket of R needs for every request to pass: "
        f"{r['departures_burst']:.2f} as the client sent them, {r['arrivals_burst']:.2f} as the "
        f"server let them in (429s included; its bucket has {_SERVER_BURST}); longest GC pause "
        f"in the engine's process {r['gc_pause'] * 1000:.0f} ms, in Prima's "
        f"{r['prima_gc_pause'] * 1000:.0f} ms, in commercetools' {r['ct_gc_pause'] * 1000:.0f} ms"
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


if __name__ == "__main__":
    main()
