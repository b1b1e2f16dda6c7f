"""Engine CPU per order on SQLite with fakes, against a minimal loop.

The engine: ``SyncEngine.sync_orders`` (poll + process) with one worker at concurrency 1 into a
SQLite ledger, on ``build_scenario(orders=N, seed=1)``; its rate is orders per CPU-second of the
engine's process (``time.process_time``: every thread of it, the write-back pool's included).
It runs in two ways, taking turns:

1. **Fakes apart** (the proof line): the commercetools fake and the Prima emulator
   (``PrimaEmulator(strict=True)``: the library's default configuration passes it, and the run
   stops if it refused anything) are served each from a process of its own on loopback HTTP
   with keep-alive (``benchmarks.fakes_apart``, no rate limit, no latency), and the engine is
   the one ``ct-prima-sync run`` opens (``cli._runs.open_engine``, from ``Settings`` naming
   the two servers and the ledger): its ``CommercetoolsClient``, its ``OmlinkClient`` whose flow
   is the request budget shared through the ledger (its rate, 10,000 per second, high enough
   that no request waits for it), its clock and notifier. Only the engine's process is counted,
   as in a deployment, where commercetools and Prima do their work elsewhere. Exactly-once is
   checked on the emulator's side. Printed for information: the servers' CPU per order (both
   processes, from their ``report``) and the Prima requests sent, with orders per request, and
   the engine's CPU per order split between the thread that runs ``sync_orders`` and the
   others (the write-back pool's threads).
2. **Fakes in-process**: the commercetools fake mounted in-process (``httpx.WSGITransport``, no
   sockets) and ``FakePrima`` (no XML), so the fakes' own work counts as the engine's. The
   fakes' data is frozen out of the garbage collector while the engine runs, as in
   ``bench_engine``.

Each way runs two cases, each against the same baseline runs:

- **new customers** (the proof line as the issue states it): the scenario as built, where no
  customer has a Prima account yet, so each customer's first order goes alone, for Prima to
  match or create its customer (most of the Prima requests carry one order);
- **returning customers**: every customer of the orders has an account in Prima and in the
  ledger's customer map before the run (``testing.scenario.remember_customers``, as
  ``bench_drain``), as for a backlog of customers the engine has seen before; their orders go
  in batched ``MultiNewOrder`` requests (``engine.submit_batch_size``, default 25).

Baseline, the least a ledger-keeping integration can do per order: decode the order's JSON text,
``parse_order``, ``map_order``, and one SQLite commit (an INSERT of the order's id, number and
gross into a WAL database with the ledger's own pragmas). Same orders, same run. Each ratio is
an engine's rate over the baseline's; 1.0 would be an engine that costs no more than that loop.

``BENCH_ENGINE_CPU_PROFILE=1`` also prints the in-process engine run's cProfile top 10 (by own
time) and its own time per area (engine, state, the fakes, httpx, ...), to show where the CPU
goes; the rates printed then are the unprofiled ones. Each side runs ``BENCH_ENGINE_CPU_REPEAT``
times (default 2), taking turns; the best rate of each is compared, and beside it the median
rate of each, and the ratio of each turn (an engine run over the baseline run of the same turn,
minutes apart at most: this machine's speed drifts more between turns than within one) with
their median. Environment:
``BENCH_ENGINE_CPU_N`` (orders, default 1000), ``BENCH_ENGINE_CPU_WRITE_BACK_BATCH`` (the
engine's ``[engine.write_back] batch_size``; default the setting's default, 25).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

from attrs import frozen

from benchmarks.bench_engine import _check_exactly_once, _engine, _load, _setup_frozen
from benchmarks.fakes_apart import served_apart
from ct_prima_sync.cli._runs import RunContext, open_engine
from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.engine import EngineConfig, SyncEngine, WriteBack
from ct_prima_sync.mapping import map_order
from ct_prima_sync.prima import OmlinkConfig
from ct_prima_sync.settings import Settings, StateSettings
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.scenario import build_scenario, remember_customers


def minimal_loop_rate(n: int, db_path: str) -> float:
    """Orders per CPU-second of decode + parse + map + one SQLite commit per order."""
    scenario = build_scenario(orders=n, seed=1)
    texts = [json.dumps(order) for order in scenario.commercetools.orders()]
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, number TEXT, gross INTEGER)")
    with _setup_frozen():
        cpu = time.process_time()
        for text in texts:
            order = parse_order(json.loads(text))
            result = map_order(order, scenario.mapping)
            assert result.sales_order is not None
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO orders VALUES (?, ?, ?)",
                (order.id, order.order_number, order.total_price.minor_units),
            )
            conn.execute("COMMIT")
        cpu = time.process_time() - cpu
    conn.close()
    return n / cpu


def engine_rate(
    n: int, url: str, profile: cProfile.Profile | None = None, *, known: bool = False
) -> float:
    """Orders per CPU-second of ``sync_orders`` on ``url`` with both fakes in-process
    (``known``: every customer's Prima account in Prima and in the ledger beforehand)."""
    scenario = build_scenario(orders=n, seed=1)
    with (
        open_store(url) as store,
        _engine(scenario, store, FakePrima(scenario.world)) as engine,
    ):
        if known:
            remember_customers(scenario, store, secret=_SECRET, now=scenario.first_order_at)
        with _setup_frozen():
            cpu, posted = _timed_sync(engine, profile)
    _check_exactly_once(scenario, posted)
    return n / cpu


def _timed_sync(engine: SyncEngine, profile: cProfile.Profile | None) -> tuple[float, int]:
    """The CPU-seconds of ``engine.sync_orders()`` (profiled into ``profile`` if given) and
    the orders it posted."""
    if profile is not None:
        profile.enable()
    cpu = time.process_time()
    summary = engine.sync_orders()
    cpu = time.process_time() - cpu
    if profile is not None:
        profile.disable()
    return cpu, summary.posted


_SECRET = "benchmark-installation-secret"  # noqa: S105 (as bench_engine's engine)
#: The client's budget: high enough that no request waits for it (the in-process run has none).
_RATE_LIMIT = 10_000.0
#: The emulator refuses what no public source confirms; the library's default configuration
#: passes it (``PrimaEmulator`` docstring), and the run checks that nothing was refused.
_STRICT = True


@frozen
class ApartRun:
    """One fakes-apart engine run: orders per CPU-second of the engine's process; the CPU
    milliseconds per order of the thread that ran ``sync_orders`` and of all the others (the
    write-back pool's); the servers' CPU-seconds per order; the Prima requests sent."""

    rate: float
    run_thread_ms: float
    other_threads_ms: float
    server_cpu: float
    requests: int


def engine_apart_rate(n: int, url: str, *, known: bool = False) -> ApartRun:
    """Orders per CPU-second of this process for ``sync_orders`` on ``url``, the commercetools
    fake and the Prima emulator served from processes of their own, with where the CPU went
    (:class:`ApartRun`). ``known``: every customer of the orders has an account
    in Prima and in the ledger's customer map before the run (``remember_customers``), as for a
    backlog of returning customers."""
    local = build_scenario(orders=0, seed=1)  # the same mapping and dates, no orders
    with served_apart(orders=n, seed=1, rate=None, burst=1, latency=0.0, strict=_STRICT) as apart:
        ct, prima_server = apart.commercetools, apart.prima
        if known:
            now = local.first_order_at
            answer = prima_server.ask("customers", secret=_SECRET, now=now.isoformat())
            with open_store(url) as store:
                for key, account in answer["customers"]:
                    store.put_customer(key, account, now=now)
        settings = Settings(
            path=None,
            state=StateSettings(url=url),
            engine=EngineConfig(
                worker_id="bench",
                concurrency=1,
                claim_batch=50,
                initial_cursor=local.first_order_at - timedelta(days=1),
                customer_key_secret=_SECRET,
                write_back=_write_back(),
            ),
            commercetools=ct.commercetools_config(),
            prima=OmlinkConfig(endpoint=prima_server.omlink_endpoint, rate_limit=_RATE_LIMIT),
            mapping=local.mapping,
        )
        context = RunContext(sys.stderr, show_progress=False)
        with open_engine(settings, "order", context) as engine:  # as ``ct-prima-sync run``
            ct.ask("mark")
            prima_server.ask("mark")
            with _setup_frozen():
                cpu, run_thread = time.process_time(), time.thread_time()
                summary = engine.sync_orders()
                cpu, run_thread = time.process_time() - cpu, time.thread_time() - run_thread
            seen, ct_seen = prima_server.ask("report"), ct.ask("report")
    if seen["lost_count"] or summary.posted != seen["good"] or seen["refused"]:
        raise SystemExit(
            f"engine run was wrong: posted {summary.posted} of {seen['good']}, "
            f"{seen['lost_count']} not exactly once: {seen['lost']}; refused {seen['refused']}"
        )
    return ApartRun(
        rate=n / cpu,
        run_thread_ms=run_thread / n * 1e3,
        other_threads_ms=(cpu - run_thread) / n * 1e3,
        server_cpu=(seen["cpu"] + ct_seen["cpu"]) / n,
        requests=seen["accepted"],
    )


_AREAS = (
    ("ct_prima_sync/testing/", "fakes (testing/)"),
    ("ct_prima_sync/engine/", "engine/"),
    ("ct_prima_sync/state/", "state/"),
    ("ct_prima_sync/commercetools/", "commercetools/ client"),
    ("ct_prima_sync/prima/", "prima/ client"),
    ("ct_prima_sync/mapping/", "mapping/"),
    ("ct_prima_sync/", "other ct_prima_sync"),
    ("/httpx/", "httpx"),
    ("/httpcore/", "httpcore"),
    ("/json/", "json"),
    ("/attr", "attrs/cattrs"),
    ("/cattrs/", "attrs/cattrs"),
)


def _area(filename: str, function: str) -> str:
    for needle, label in _AREAS:
        if needle in filename:
            return label
    if filename == "~":
        return "sqlite3" if "sqlite3" in function else "builtins"
    return "other Python"


_PHASES = (
    ("engine/_order_ingest.py", "poll_orders", "poll (commercetools reads + ledger ingest)"),
    ("mapping/_order.py", "map_order", "map_order"),
    ("engine/_write_back.py", "write", "commercetools write-back, one order"),
    ("engine/_write_back.py", "write_many", "commercetools write-back, a group"),
    ("commercetools/_client.py", "request", "commercetools client requests, all"),
    ("engine/_order_flow.py", "_submit", "submit to FakePrima, record, finish (incl. write-back)"),
    ("~", "<method 'execute' of 'sqlite3.Connection' objects>", "sqlite3 execute, all"),
    ("~", "<method 'commit' of 'sqlite3.Connection' objects>", "sqlite3 commit, all"),
)


def print_profile(profile: cProfile.Profile, n: int) -> None:
    """Time per order in the main phases, the top 10 functions by own time, and own time per
    area."""
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    print(f"  profile of the engine run: {total / n * 1e3:.2f} ms own time per order (profiled)")
    print("  phases (cumulative, profiled; they overlap):")
    for suffix, name, label in _PHASES:
        for (filename, _, function), (_, calls, _, cum, _) in raw.items():
            if function == name and filename.endswith(suffix):
                print(f"    {cum / n * 1e3:6.2f} ms/order  {calls:6d} calls  {label}")
    print("  top 10 by own time:")
    top = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:10]
    for (filename, line, function), (_, calls, own, _, _) in top:
        where = filename.split("site-packages/")[-1].split("src/")[-1]
        print(
            f"    {own / n * 1e6:7.1f} us/order  {calls / n:6.1f} calls/order  "
            f"{function} ({where}:{line})"
        )
    areas: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, own, _, _) in raw.items():
        areas[_area(filename, function)] += own
    print("  own time per area:")
    for label, own in sorted(areas.items(), key=lambda kv: kv[1], reverse=True):
        print(f"    {own / total:5.1%}  {own / n * 1e6:7.1f} us/order  {label}")


#: The two cases, each with its label: today's scenario (every customer new, so each one's
#: first order goes alone) and a backlog of returning customers (accounts known beforehand).
_CASES = (("new customers", False), ("returning customers", True))


def _write_back() -> WriteBack:
    size = os.environ.get("BENCH_ENGINE_CPU_WRITE_BACK_BATCH")
    return WriteBack() if size is None else WriteBack(batch_size=int(size))


def main() -> None:
    """Print the minimal loop's and the engine's orders per CPU-second, and their ratio, for
    new customers and for returning ones."""
    n = int(os.environ.get("BENCH_ENGINE_CPU_N", "1000"))
    print(
        f"orders per CPU-second, {n} orders, SQLite, write-back groups of "
        f"{_write_back().batch_size} ({_load()})",
        flush=True,
    )
    repeat = int(os.environ.get("BENCH_ENGINE_CPU_REPEAT", "2"))
    with tempfile.TemporaryDirectory() as tmp:
        bases: list[float] = []
        aparts: dict[bool, list[float]] = {known: [] for _, known in _CASES}
        best_runs: dict[bool, ApartRun] = {}
        servers: dict[bool, list[float]] = {known: [] for _, known in _CASES}
        requests: dict[bool, int] = {}
        rates: dict[bool, list[float]] = {known: [] for _, known in _CASES}
        for i in range(repeat):  # taking turns, so a busy spell slows each alike
            bases.append(minimal_loop_rate(n, f"{tmp}/minimal-{i}.db"))
            for _, known in _CASES:
                db = f"sqlite:///{tmp}/apart-{i}-{known}.db"
                run = engine_apart_rate(n, db, known=known)
                aparts[known].append(run.rate)
                servers[known].append(run.server_cpu)
                requests[known] = run.requests
                if known not in best_runs or run.rate > best_runs[known].rate:
                    best_runs[known] = run
                rates[known].append(
                    engine_rate(n, f"sqlite:///{tmp}/sync-{i}-{known}.db", known=known)
                )
        base, base_median = max(bases), statistics.median(bases)

        def runs(rates: list[float]) -> str:
            return f"best of {', '.join(f'{r:.0f}' for r in rates)}"

        def ratio(rates: list[float]) -> str:
            median = statistics.median(rates) / base_median
            turns = [rate / turn_base for rate, turn_base in zip(rates, bases, strict=True)]
            return (
                f"ratio {max(rates) / base:.2f} (of the medians {median:.2f}; per turn "
                f"{', '.join(f'{t:.2f}' for t in turns)}, median {statistics.median(turns):.2f})"
            )

        print(f"  baseline: decode+parse+map+1 commit {base:7.0f}/CPU-s ({runs(bases)})")
        for label, known in _CASES:
            apart, rate, sent = max(aparts[known]), max(rates[known]), requests[known]
            print(f"  {label}:")
            print(
                f"    engine, fakes apart (HTTP)       {apart:7.0f}/CPU-s "
                f"({runs(aparts[known])})   "
                f"{ratio(aparts[known])}; the servers' CPU {min(servers[known]) * 1e3:.2f} "
                f"ms/order, {sent} Prima requests, {n / sent:.1f} orders/request"
            )
            best = best_runs[known]
            print(
                f"      its CPU per order: {best.run_thread_ms:.2f} ms in the thread that runs "
                f"sync_orders, {best.other_threads_ms:.2f} ms in the others (the write-back pool)"
            )
            print(
                f"    engine, fakes in-process         {rate:7.0f}/CPU-s ({runs(rates[known])})   "
                f"{ratio(rates[known])}",
                flush=True,
            )
        print(f"  ({_load()})", flush=True)
        if os.environ.get("BENCH_ENGINE_CPU_PROFILE"):
            profile = cProfile.Profile()
            engine_rate(n, f"sqlite:///{tmp}/profiled.db", profile)
            print_profile(profile, n)


if __name__ == "__main__":
    main()
