"""The order engine end to end: throughput per store, a rate-limited backlog drain, many workers.

1. **Orders/second** through ``SyncEngine.sync_orders`` (poll + process) with one worker at
   concurrency 1, the commercetools fake mounted in-process and ``FakePrima``, for the memory,
   SQLite and PostgreSQL stores. Baseline: the pure core on the same orders (JSON text decoded,
   ``parse_order``, ``map_order``), the work no engine can avoid; the ratio says how much of the
   pure-core rate survives the ledger, the write-back and both fakes' HTTP. Rates per wall-clock
   second and per CPU-second of this process (PostgreSQL's own work is in the server). The fakes'
   data is frozen out of the garbage collector while the engine runs (see ``_setup_frozen``).
2. **Backlog drain** against the Prima emulator spoken to by ``OmlinkClient`` with a client rate
   limit R. A token bucket with the same R in front of the emulator answers 429 to any request
   beyond it, so "no rate-limit rejections" is checked by a server, not assumed (its burst is the
   client's plus a little room for timing jitter). Warm-up (the first orders, while customers are
   looked up and created) is measured apart. Baseline: R.
3. **Four PostgreSQL workers** (threads, each its own engine, store connection and worker id)
   against a ``FakePrima`` that really sleeps on every request, versus one worker on the same
   backlog. Baseline: the one worker. Also printed: how many Prima customer accounts were created
   per distinct e-mail address (racing workers can create one twice).

Every run checks that each good order reached Prima exactly once and stops with an error if not.
Environment: ``BENCH_ENGINE_PARTS`` (which of 1, 2, 3 to run, default all), ``BENCH_ENGINE_N``
(orders for 1, default 1000), ``BENCH_ENGINE_RATE`` (R for 2, default 100),
``BENCH_ENGINE_LATENCY_MS`` (for 3, default 20), ``CT_PRIMA_SYNC_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``; PostgreSQL parts are skipped if it is unreachable;
each run gets a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.engine import EngineConfig, RunSummary, SyncEngine
from ct_prima_sync.mapping import map_order
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, PrimaGateway
from ct_prima_sync.state import StateStore, open_store
from ct_prima_sync.testing import (
    FakePrima,
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
)
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario, connect_commercetools

_DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
_ENDPOINT = "http://prima-emulator.invalid/omlink/omlink"

StartResponse = Callable[..., Any]


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


@contextmanager
def _engine(
    scenario: SyncScenario,
    store: StateStore,
    prima: PrimaGateway,
    *,
    worker_id: str = "bench",
    concurrency: int = 1,
    claim_batch: int = 50,
) -> Iterator[SyncEngine]:
    with connect_commercetools(scenario.commercetools) as commercetools:
        yield SyncEngine(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(
                worker_id=worker_id,
                concurrency=concurrency,
                claim_batch=claim_batch,
                initial_cursor=scenario.first_order_at - timedelta(days=1),
                customer_key_secret="benchmark-installation-secret",  # noqa: S106
            ),
        )


@contextmanager
def _setup_frozen() -> Iterator[None]:
    """Keep the fakes' data (hundreds of thousands of JSON containers that a deployment keeps in
    commercetools and Prima, not in its own process) out of the garbage collector's scans while
    the engine runs, then hand it back."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _check_exactly_once(scenario: SyncScenario, posted: int) -> None:
    submissions = scenario.world.submission_counts()
    lost = [n for n in scenario.good if submissions[n] != 1]
    if lost or posted != len(scenario.good):
        raise SystemExit(f"engine run was wrong: posted {posted}, not exactly once: {lost[:5]}")


@contextmanager
def _postgres() -> Iterator[str | None]:
    """A URL on a fresh schema (dropped afterwards), or None when PostgreSQL is unreachable."""
    base = os.environ.get("CT_PRIMA_SYNC_TEST_POSTGRES_URL", _DEFAULT_PG)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        import psycopg

        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # any failure means: skip PostgreSQL
        print(f"  postgresql: skipped ({type(exc).__name__})", flush=True)
        yield None
        return
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# -- 1. orders/second per store ------------------------------------------------------------------
def _pure_core_rate(scenario: SyncScenario) -> tuple[float, float]:
    texts = [json.dumps(order) for order in scenario.commercetools.orders()]
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        result = map_order(parse_order(json.loads(text)), scenario.mapping)
        assert result.sales_order is not None
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(texts) / wall, len(texts) / cpu


def _engine_rate(n: int, url: str) -> tuple[float, float]:
    scenario = build_scenario(orders=n, seed=1)
    with (
        open_store(url) as store,
        _engine(scenario, store, FakePrima(scenario.world)) as engine,
        _setup_frozen(),
    ):
        wall, cpu = time.perf_counter(), time.process_time()
        summary = engine.sync_orders()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _check_exactly_once(scenario, summary.posted)
    return n / wall, n / cpu


def throughput_per_store(n: int) -> None:
    """Part 1: print each store's rate beside the pure-core baseline."""
    print(f"1. orders/s through sync_orders, {n} orders, one worker, concurrency 1 ({_load()})")
    base_wall, base_cpu = _pure_core_rate(build_scenario(orders=n, seed=1))
    print(
        f"  {'baseline: parse+map':<22} {base_wall:7.0f}/s wall {base_cpu:7.0f}/CPU-s",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp, _postgres() as pg_url:
        stores = [("memory", "memory://"), ("sqlite", f"sqlite:///{tmp}/sync.db")]
        if pg_url is not None:
            stores.append(("postgresql", pg_url))
        for label, url in stores:
            wall, cpu = _engine_rate(n, url)
            print(
                f"  {'engine, ' + label:<22} {wall:7.0f}/s wall {cpu:7.0f}/CPU-s   "
                f"ratio to baseline {wall / base_wall:.2f} wall, {cpu / base_cpu:.2f} CPU "
                f"({_load()})",
                flush=True,
            )


# -- 2. backlog drain at a rate limit ------------------------------------------------------------
class ServerRateLimit:
    """WSGI middleware: a token bucket (``rate`` per second, ``burst``) in front of an app that
    answers 429 with ``Retry-After`` to every request beyond it, as a rate-limited Prima would."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, rate: float, burst: int) -> None:
        self._app = app
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()
        self.accepted = 0
        self.rejected = 0
        self.refused_at: list[float] = []
        """When (``time.monotonic``) each 429 was sent."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            allowed = self._tokens >= 1.0
            if allowed:
                self._tokens -= 1.0
                self.accepted += 1
            else:
                self.rejected += 1
                self.refused_at.append(now)
        if not allowed:
            start_response("429 Too Many Requests", [("Retry-After", "1"), ("Content-Length", "0")])
            return [b""]
        return self._app(environ, start_response)


def backlog_drain(rate: float, *, burst: int = 5, jitter: int = 5, warm_up: int = 500) -> None:
    """Part 2: drain a backlog through the omlink client at ``rate``; print the achieved rate.

    The server's bucket holds ``burst + jitter`` tokens: requests leave the client at its pace
    but reach the server a little early or late (threads, the GIL, a network), and a server with
    no room for that would refuse a client that never exceeded R.
    """
    measured = int(rate * 4)
    print(
        f"2. backlog drain via OmlinkClient + emulator, R = {rate:.0f} requests/s, burst {burst}"
        f" (server: R, burst {burst + jitter}), {warm_up} warm-up + {measured} measured orders,"
        f" SQLite, concurrency 4 ({_load()})",
        flush=True,
    )
    scenario = build_scenario(orders=warm_up + measured, seed=2)
    server = ServerRateLimit(PrimaEmulator(scenario.world), rate=rate, burst=burst + jitter)
    config = OmlinkConfig(endpoint=_ENDPOINT, rate_limit=rate, burst=burst)
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{tmp}/sync.db") as store,
        OmlinkClient(config, transport=httpx.WSGITransport(app=server)) as prima,
        _engine(scenario, store, prima, concurrency=4, claim_batch=20) as engine,
    ):
        engine.poll_orders()
        started = time.perf_counter()
        first = engine.process_backlog(max_orders=warm_up)
        warm_seconds = time.perf_counter() - started
        warm_requests, warm_rejected = server.accepted, server.rejected
        started = time.perf_counter()
        second = engine.process_backlog()
        seconds = time.perf_counter() - started
    achieved = second.posted / seconds
    requests = server.accepted - warm_requests
    print(
        f"  warm-up: {first.posted} orders, {warm_requests} requests in {warm_seconds:.2f} s, "
        f"{warm_rejected} rejected (429)",
        flush=True,
    )
    print(
        f"  measured: {achieved:7.1f} orders/s ({requests / seconds:.1f} requests/s) vs "
        f"baseline R = {rate:.0f}/s: ratio {achieved / rate:.3f}; "
        f"{server.rejected - warm_rejected} rejected (429) ({_load()})",
        flush=True,
    )
    _check_exactly_once(scenario, first.posted + second.posted)


# -- 3. four PostgreSQL workers against a slow Prima ---------------------------------------------
def _latency_bound_run(n: int, workers: int, latency: float) -> float:
    """Orders/s of ``workers`` engines sharing one backlog on PostgreSQL; Prima sleeps
    ``latency`` seconds on every request."""
    scenario = build_scenario(orders=n, seed=3)
    faults = PrimaFaultPlan()
    faults.random(0, {PrimaFault(kind=PrimaFaultKind.LATENCY, delay=latency): 1.0})
    with _postgres() as url:
        if url is None:
            return 0.0
        with open_store(url) as store, _engine(scenario, store, FakePrima(scenario.world)) as e:
            e.poll_orders()
        summaries: list[RunSummary] = []
        errors: list[BaseException] = []
        start = threading.Barrier(workers + 1)

        def work(index: int) -> None:
            try:
                with (
                    open_store(url) as own,
                    _engine(
                        scenario,
                        own,
                        FakePrima(scenario.world, faults=faults),
                        worker_id=f"worker-{index}",
                        claim_batch=2,
                    ) as engine,
                ):
                    start.wait()
                    summaries.append(engine.process_backlog())
            except BaseException as exc:  # reported below
                errors.append(exc)
                start.abort()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    if errors:
        raise SystemExit(f"a worker failed: {errors[0]!r}")
    _check_exactly_once(scenario, sum(s.posted for s in summaries))
    emails = [c.email.casefold() for c in scenario.world.customers() if c.email]
    print(
        f"  {workers} worker(s): {len(emails)} Prima customers created for "
        f"{len(set(emails))} e-mail addresses",
        flush=True,
    )
    return n / seconds


def many_workers(n: int, latency: float) -> None:
    """Part 3: four PostgreSQL workers versus one, on the same backlog and latency."""
    print(
        f"3. PostgreSQL workers vs one, {n} orders, FakePrima sleeping {latency * 1000:.0f} ms "
        f"per request, concurrency 1 each ({_load()})",
        flush=True,
    )
    one = _latency_bound_run(n, 1, latency)
    if not one:
        return
    print(f"  baseline: 1 worker  {one:6.1f} orders/s", flush=True)
    four = _latency_bound_run(n, 4, latency)
    print(f"  4 workers           {four:6.1f} orders/s   ratio {four / one:.2f} ({_load()})")


def main() -> None:
    """Run the three engine benchmarks (about a minute on a quiet machine)."""
    parts = os.environ.get("BENCH_ENGINE_PARTS", "123")
    if "1" in parts:
        throughput_per_store(int(os.environ.get("BENCH_ENGINE_N", "1000")))
    if "2" in parts:
        backlog_drain(float(os.environ.get("BENCH_ENGINE_RATE", "100")))
    if "3" in parts:
        many_workers(240, float(os.environ.get("BENCH_ENGINE_LATENCY_MS", "20")) / 1000)


if __name__ == "__main__":
    main()
