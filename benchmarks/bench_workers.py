"""Four PostgreSQL worker processes against one, the Prima emulator over HTTP with latency.

The commercetools fake and the Prima emulator are served each from a process of its own on
loopback HTTP (``benchmarks.fakes_apart``: in a deployment they are two other systems, and
neither shares an interpreter lock with the other or with this process); the emulator sleeps
``BENCH_WORKERS_LATENCY_MS`` on every request. This process polls the backlog (``build_scenario``)
from the served commercetools into a fresh PostgreSQL schema, with the engine
``ct-prima-sync run`` opens. Then ``W`` worker processes (``python -c``) work the backlog with
``SyncEngine.process_backlog``, each with its own settings file (worker id, concurrency 1,
``BENCH_WORKERS_CLAIM_BATCH`` orders per claim) from which it builds its engine, store and
clients as ``ct-prima-sync run`` does (``SyncEngine.from_settings``). Their omlink clients
share one request budget through the store (``request_budget``): ``BENCH_WORKERS_RATE``
requests per second, burst ``BENCH_WORKERS_BURST``, at most ``BENCH_WORKERS_CONCURRENCY`` in
flight. The budget is set above what one worker at concurrency 1 can send through the latency,
so one worker cannot fill it and more workers can add throughput until it is reached.

Timed: from the moment every worker has started (imports done, store and clients open) until the
last one has finished its backlog. Baseline: one worker on the same setup (a fresh backlog,
schema and servers), same run. Printed per run: orders/s, requests/s and, from the emulator's
side, the highest number of requests in any one-second window (sliding) against the budget
(a token bucket lets ``rate + burst`` through in one second at most) and the most times one order
was submitted (1 means exactly once). The run stops with an error if an order did not reach
Prima exactly once. Also printed, per order: the workers' wall time, the part of it spent in the
shared budget's store round trips (``reserve_request``, ``try_lock``, ``unlock``; not the waits
the budget asks for), CPU-seconds per order spent in the workers, in the PostgreSQL backends
serving their connections (read from ``/proc``: the server must run on this machine) and in
the two server processes, and how many of the machine's CPUs were busy during the run
(PostgreSQL and anything else running included): together they bound what more workers can add.

What it measures is whether workers add throughput while Prima is what they wait for, so the
machine must not be the limit first. On two CPUs that run the workers, both servers and
PostgreSQL, a worker spends about 7 to 14 ms of CPU per order in all (its own, its PostgreSQL
backend's, the servers'), against about 11 ms of Prima latency per order at 20 ms a request:
four workers then keep 1.5 to 1.7 of the 2 CPUs busy, and the ratio measures how fast the
virtual machine happens to be (2.8x to 3.0x from one hour to the next). At 50 ms a request
(the default; still quick for an ERP's SOAP service) the latency is what a worker waits on, and
four workers use about 1.1 CPUs.

Environment: ``BENCH_WORKERS_N`` (orders per run, default 600), ``BENCH_WORKERS_COUNT`` (default
4), ``BENCH_WORKERS_LATENCY_MS`` (default 50), ``BENCH_WORKERS_RATE`` (default 200),
``BENCH_WORKERS_BURST`` (default 5), ``BENCH_WORKERS_CONCURRENCY`` (default 8),
``BENCH_WORKERS_CLAIM_BATCH`` (the workers' ``claim_batch``, default 2: a claim, a batch read
and a write-back request for every two orders, the most round trips per order; the engine's
default of 50 sends most orders 25 to a request, so one worker needs far fewer requests),
``CT_PRIMA_SYNC_TEST_POSTGRES_URL`` (as in ``bench_engine``; skipped if unreachable).
``BENCH_WORKERS_PROFILE_WORKERS=<path>`` runs each worker's backlog under cProfile (CPU time)
and writes its statistics to ``<path>.<workers>.<worker id>``.
"""

from __future__ import annotations

import cProfile
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_engine import _load, _postgres
from benchmarks.fakes_apart import served_apart
from ct_prima_sync._toml_write import merge_tables
from ct_prima_sync.testing.scenario import SCENARIO_MAPPING_TOML, build_scenario

_SEED = 4
_SECRET = "benchmark-installation-secret"  # noqa: S105 (the workers' own, as bench_engine's)
_WORKER = (
    "import json, sys\n"
    "from benchmarks.bench_workers import work_backlog\n"
    "print(json.dumps(work_backlog(json.loads(sys.argv[1]))), flush=True)\n"
)


def _busy_seconds() -> float:
    """CPU-seconds the whole machine has spent busy (not idle or waiting), from ``/proc/stat``."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(f) for f in fields]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _backends_cpu(store: Any) -> dict[int, float]:
    """CPU-seconds each PostgreSQL backend of ``store``'s idle connections has spent (from
    ``/proc``, the server being on this machine; empty where it cannot be read)."""
    spent: dict[int, float] = {}
    for conn in list(getattr(store, "_idle", ())):
        pid = conn.info.backend_pid
        try:
            fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1]
        except OSError:
            continue
        utime, stime = fields.split()[11:13]
        spent[pid] = (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")
    return spent


def _timed(obj: Any, names: tuple[str, ...], spent: list[float]) -> None:
    """Wrap the methods ``names`` of ``obj`` so the seconds spent in them add up in ``spent``."""
    for name in names:
        method = getattr(obj, name)

        def wrapper(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(obj, name, wrapper)


def work_backlog(job: dict[str, Any]) -> dict[str, Any]:
    """One worker process: build the engine from its settings file as ``ct-prima-sync run``
    does (``SyncEngine.from_settings``: the store, both clients and the shared request budget),
    say ``ready``, wait for a line on stdin, work the backlog; the run's figures."""
    from ct_prima_sync.engine import SyncEngine
    from ct_prima_sync.state import CUSTOMER_KEY_SECRET_ENV

    environ = {**os.environ, CUSTOMER_KEY_SECRET_ENV: _SECRET}
    with SyncEngine.from_settings(job["settings"], environ=environ) as engine:
        store = engine._store  # the figures below time its calls
        budget_spent = [0.0]  # the shared budget's own store round trips (not its waits)
        _timed(store, ("reserve_request", "try_lock", "unlock"), budget_spent)
        print("ready", flush=True)
        sys.stdin.readline()
        backends = _backends_cpu(store)
        profile = cProfile.Profile(time.process_time) if job.get("profile") else None
        started, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        summary = engine.process_backlog()
        if profile is not None:
            profile.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        pg_cpu = sum(v - backends.get(pid, 0.0) for pid, v in _backends_cpu(store).items())
        if profile is not None:
            profile.dump_stats(f"{job['profile']}.{job['workers']}.{job['worker_id']}")
    return {
        "posted": summary.posted,
        "seconds": seconds,
        "cpu": cpu,
        "pg_cpu": pg_cpu,
        "budget": budget_spent[0],
    }


def _settings(folder: Path, worker_id: str, job: dict[str, Any], first: datetime) -> Path:
    """A worker's settings file in ``folder`` (its mapping and secret beside it): the store at
    ``store_url``, the two servers, the budget, concurrency 1 and ``claim_batch`` orders per
    claim."""
    (folder / "mapping.toml").write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
    (folder / "ct.secret").write_text(job["ct_secret"], encoding="utf-8")
    tables: dict[str, dict[str, Any]] = {
        "state": {"url": job["store_url"]},
        "commercetools": {
            "project_key": job["ct_project"],
            "api_url": job["ct_url"],
            "auth_url": job["ct_url"],
            "client_id": job["ct_client"],
            "client_secret_file": "ct.secret",
        },
        "prima": {
            "endpoint": job["prima_endpoint"],
            "rate_limit": job["rate"],
            "burst": job["burst"],
            "max_concurrency": job["concurrency"],
        },
        "mapping": {"file": "mapping.toml"},
        "engine": {
            "worker_id": worker_id,
            "concurrency": 1,
            "claim_batch": job["claim_batch"],
            "initial_cursor": (first - timedelta(days=1)).isoformat(),
        },
    }
    path = folder / f"{worker_id}.toml"
    path.write_text(merge_tables("", tables), encoding="utf-8")
    return path


def _poll(settings: Path) -> int:
    """Poll the served backlog into the ledger with the engine ``ct-prima-sync run`` opens (from
    the first worker's settings file, under another worker id); the orders polled."""
    from ct_prima_sync.engine import SyncEngine
    from ct_prima_sync.state import CUSTOMER_KEY_SECRET_ENV

    environ = {**os.environ, CUSTOMER_KEY_SECRET_ENV: _SECRET}
    with SyncEngine.from_settings(settings, environ=environ) as engine:
        return engine.poll_orders()


def _start_worker(spec: dict[str, Any], here: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", _WORKER, json.dumps(spec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=here,
    )


def run(n: int, workers: int, job: dict[str, Any], latency: float) -> dict[str, Any]:
    """``workers`` processes on a fresh backlog of ``n`` orders; the run's figures."""
    first = build_scenario(orders=0, seed=_SEED).first_order_at  # the servers' dates
    here = Path(__file__).parents[1]
    with _postgres() as url:
        if url is None:
            return {}
        with (
            tempfile.TemporaryDirectory() as folder,
            served_apart(orders=n, seed=_SEED, rate=None, burst=1, latency=latency) as apart,
        ):
            ct, prima = apart.commercetools, apart.prima
            base = {
                **job,
                "store_url": url,
                "ct_url": ct.url,
                "ct_project": ct.hello["project_key"],
                "ct_client": ct.hello["client_id"],
                "ct_secret": ct.hello["client_secret"],
                "prima_endpoint": prima.omlink_endpoint,
                "workers": workers,
            }
            polled = _poll(_settings(Path(folder), "poll", base, first))
            if polled != n:
                raise SystemExit(f"the poll found {polled} of {n} orders")
            procs = []
            for i in range(workers):
                worker_id = f"worker-{i}"
                settings = _settings(Path(folder), worker_id, base, first)
                spec = {**base, "settings": str(settings), "worker_id": worker_id}
                procs.append(_start_worker(spec, here))
            for proc in procs:
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise SystemExit("a worker failed to start")
            ct.ask("mark")
            prima.ask("mark")
            began, busy = time.perf_counter(), _busy_seconds()
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            results = []
            for proc in procs:
                out, _ = proc.communicate(timeout=600)
                if proc.returncode != 0:
                    raise SystemExit(f"a worker failed (exit {proc.returncode})")
                results.append(json.loads(out.strip().splitlines()[-1]))
            seconds, busy = time.perf_counter() - began, _busy_seconds() - busy
            seen, ct_seen = prima.ask("report"), ct.ask("report")
    posted = sum(r["posted"] for r in results)
    if seen["lost_count"] or posted != seen["good"]:
        raise SystemExit(
            f"not exactly once: posted {posted} of {seen['good']}, {seen['lost_count']} orders "
            f"not submitted exactly once: {seen['lost']}"
        )
    return {
        "orders_per_s": n / seconds,
        "requests": seen["accepted"],
        "requests_per_s": seen["accepted"] / seconds,
        "busiest": seen["busiest"],
        "busiest_whole_second": seen["busiest_whole_second"],
        "most_submissions": seen["most_submissions"],
        "seconds": seconds,
        "worker_posted": [r["posted"] for r in results],
        "wall_ms": sum(r["seconds"] for r in results) / n * 1000,
        "budget_ms": sum(r["budget"] for r in results) / n * 1000,
        "worker_cpu_ms": sum(r["cpu"] for r in results) / n * 1000,
        "pg_cpu_ms": sum(r["pg_cpu"] for r in results) / n * 1000,
        "server_cpu_ms": (seen["cpu"] + ct_seen["cpu"]) / n * 1000,
        "machine_busy": busy / seconds,
    }


def _line(label: str, r: dict[str, Any], job: dict[str, Any]) -> str:
    verdict = "within" if r["busiest"] <= job["rate"] + job["burst"] else "OVER THE BUDGET"
    return (
        f"  {label:<22} {r['orders_per_s']:6.1f} orders/s, {r['requests']} requests "
        f"({r['requests_per_s']:.0f}/s) in {r['seconds']:.1f} s; emulator: busiest 1-s window "
        f"{r['busiest']} (whole second {r['busiest_whole_second']}) vs budget {job['rate']:.0f}/s "
        f"+ burst {job['burst']} ({verdict}); "
        f"most submissions of one order {r['most_submissions']}; "
        f"posted per worker {r['worker_posted']}\n"
        f"  {'':<22} per order, summed over workers: {r['wall_ms']:.1f} ms wall, of which "
        f"{r['budget_ms']:.1f} ms in the shared budget's store calls; CPU "
        f"{r['worker_cpu_ms']:.1f} ms in the workers, {r['pg_cpu_ms']:.1f} ms in their "
        "PostgreSQL backends, "
        f"{r['server_cpu_ms']:.1f} ms in the two server processes; machine busy "
        f"{r['machine_busy']:.2f} of {os.cpu_count()} CPUs (PostgreSQL and anything else running)"
    )


def main() -> None:
    """Print one worker's and ``BENCH_WORKERS_COUNT`` workers' rates and their ratio."""
    n = int(os.environ.get("BENCH_WORKERS_N", "600"))
    workers = int(os.environ.get("BENCH_WORKERS_COUNT", "4"))
    latency = float(os.environ.get("BENCH_WORKERS_LATENCY_MS", "50")) / 1000
    job = {
        "rate": float(os.environ.get("BENCH_WORKERS_RATE", "200")),
        "burst": int(os.environ.get("BENCH_WORKERS_BURST", "5")),
        "concurrency": int(os.environ.get("BENCH_WORKERS_CONCURRENCY", "8")),
        "profile": os.environ.get("BENCH_WORKERS_PROFILE_WORKERS", ""),
        "claim_batch": int(os.environ.get("BENCH_WORKERS_CLAIM_BATCH", "2")),
    }
    print(
        f"PostgreSQL worker processes vs one, {n} orders per run, emulator over HTTP sleeping "
        f"{latency * 1000:.0f} ms per request, shared budget {job['rate']:.0f} requests/s burst "
        f"{job['burst']} max {job['concurrency']} in flight, concurrency 1 per worker, "
        f"{job['claim_batch']} orders per claim ({_load()})",
        flush=True,
    )
    one = run(n, 1, job, latency)
    if not one:
        return
    print(_line("baseline: 1 worker", one, job), flush=True)
    many = run(n, workers, job, latency)
    print(_line(f"{workers} workers", many, job), flush=True)
    print(
        f"  ratio {many['orders_per_s'] / one['orders_per_s']:.2f}x one worker's orders/s "
        f"({_load()})",
        flush=True,
    )


if __name__ == "__main__":
    main()
