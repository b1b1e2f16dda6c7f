"""Peak memory of a whole order run: ``SyncEngine.sync_orders`` polling AND draining N orders.

For each size, a server process builds the backlog with ``build_scenario`` and serves the
commercetools fake and the Prima emulator over loopback HTTP (their copies of the orders are
commercetools' and Prima's memory, not the engine's). A fresh engine process then runs one
``sync_orders`` against them with a SQLite ledger: the poll reads every order into the ledger,
the drain submits each to Prima and writes the reference back to commercetools. Printed per size:
the engine process's peak resident set over the run (the peak is reset just before it through
``/proc/self/clear_refs``), the run's own share (that peak less the resident set before the run),
and orders per second. Baseline: the smallest size, in the same invocation. The goal: the largest
size within 1.5x of the baseline and under 300 MB.

Every run checks, on the emulator's side, that each order reached Prima exactly once. The
omlink client's request budget is set high (``BENCH_DRAIN_MEMORY_RATE``, default 100000/s) so
the run measures memory, not the rate limit.

Environment: ``BENCH_DRAIN_MEMORY_SIZES`` (comma-separated order counts, default
``1000,20000``; the issue's proof is ``1000,100000``, which takes a while on a small machine).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_poll import _reset_peak, _status_kb

_SERVER = (
    "import json, sys\nfrom benchmarks.bench_drain_memory import serve\nserve(int(sys.argv[1]))\n"
)
_ENGINE = (
    "import json, sys\n"
    "from benchmarks.bench_drain_memory import run_in_this_process\n"
    "print(json.dumps(run_in_this_process(json.loads(sys.argv[1]))))\n"
)


def serve(n: int) -> None:
    """Build ``n`` orders, serve both systems, print their addresses, and on a line on stdin
    print how many submissions the emulator counted per order, then stop."""
    import gc

    from ct_prima_sync.testing import PrimaEmulator
    from ct_prima_sync.testing.scenario import build_scenario

    scenario = build_scenario(orders=n, seed=1)
    emulator = PrimaEmulator(scenario.world)
    gc.collect()
    gc.freeze()  # hundreds of thousands of JSON containers: keep them out of the GC's scans
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        first = scenario.first_order_at.isoformat()
        print(json.dumps({"ct": ct_url, "prima": prima_url, "first": first}), flush=True)
        sys.stdin.readline()
        submitted = scenario.world.submission_counts()
        counts = [submitted[number] for number in scenario.good]
        print(json.dumps({"good": len(counts), "once": sum(c == 1 for c in counts)}), flush=True)


class _Sampler:
    """``BENCH_DRAIN_MEMORY_TRACE=1``: the resident set and Python's traced memory every second
    (tracemalloc, which slows the run and adds its own memory), printed to stderr."""

    def __init__(self) -> None:
        import threading
        import tracemalloc

        tracemalloc.start(1)
        self._samples: list[tuple[float, int, int]] = []
        self._done = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        import tracemalloc

        t0 = time.perf_counter()
        while not self._done.wait(1.0):
            traced = tracemalloc.get_traced_memory()[0] // 1024
            self._samples.append((time.perf_counter() - t0, _status_kb("VmRSS"), traced))

    def report(self) -> None:
        import tracemalloc

        self._done.set()
        print(f"Python peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB", file=sys.stderr)
        for at, rss, traced in self._samples[:: max(len(self._samples) // 15, 1)]:
            print(
                f"{at:6.1f} s: RSS {rss / 1024:6.1f} MiB, Python {traced / 1024:6.1f} MiB",
                file=sys.stderr,
            )


def run_in_this_process(job: dict[str, Any]) -> dict[str, Any]:
    """One ``sync_orders`` against the servers of ``job``; this process's memory figures."""
    import gc

    from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig
    from ct_prima_sync.engine import EngineConfig, SyncEngine
    from ct_prima_sync.prima import OmlinkClient, OmlinkConfig
    from ct_prima_sync.state import open_store
    from ct_prima_sync.testing import FakeCommercetools
    from ct_prima_sync.testing.scenario import build_scenario

    local = build_scenario(orders=0, seed=1)  # the same mapping and catalogue, no orders
    fake = FakeCommercetools()  # for its default project key and credentials
    ct_config = CommercetoolsConfig(
        project_key=fake.project_key,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        api_url=job["ct"],
        auth_url=job["ct"],
    )
    del fake
    prima_config = OmlinkConfig(
        endpoint=f"{job['prima']}/omlink/omlink", rate_limit=job["rate"], burst=100
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{tmp}/sync.db") as store,
        CommercetoolsClient(ct_config) as commercetools,
        OmlinkClient(prima_config) as prima,
    ):
        engine = SyncEngine(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=local.mapping,
            config=EngineConfig(
                worker_id="bench",
                initial_cursor=datetime.fromisoformat(job["first"]) - timedelta(days=1),
                customer_key_secret="benchmark-installation-secret",  # noqa: S106
            ),
        )
        del local
        gc.collect()
        sampler = _Sampler() if os.environ.get("BENCH_DRAIN_MEMORY_TRACE") == "1" else None
        before = _status_kb("VmRSS")
        reset = _reset_peak()
        started = time.perf_counter()
        summary = engine.sync_orders()
        wall = time.perf_counter() - started
        if sampler is not None:
            sampler.report()
        peak = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        after = _status_kb("VmRSS")
        counts = store.count_orders_by_status()
    return {
        "n": job["n"],
        "before_kb": before,
        "peak_kb": peak,
        "after_kb": after,
        "seconds": wall,
        "reset": reset,
        "posted": summary.posted,
        "ingested": summary.ingested,
        "statuses": {str(k): v for k, v in counts.items() if v},
    }


def _measure(n: int, rate: float) -> dict[str, Any]:
    """Serve ``n`` orders from one process and run the engine over them in another."""
    here = Path(__file__).parents[1]
    with subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", _SERVER, str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=here,
    ) as server:
        assert server.stdout is not None
        assert server.stdin is not None
        served = json.loads(server.stdout.readline())
        job = {**served, "n": n, "rate": rate}
        try:
            done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
                [sys.executable, "-c", _ENGINE, json.dumps(job)],
                capture_output=True,
                text=True,
                check=False,
                cwd=here,
            )
            server.stdin.write("counts\n")
            server.stdin.flush()
            prima = json.loads(server.stdout.readline())
        finally:
            server.stdin.close()
    if os.environ.get("BENCH_DRAIN_MEMORY_TRACE") == "1":
        print(done.stderr, file=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"the engine failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["posted"] != n or prima["once"] != prima["good"] or prima["good"] != n:
        raise SystemExit(f"not every order reached Prima exactly once: {result} {prima}")
    return result


def main() -> None:
    """Run each size of ``BENCH_DRAIN_MEMORY_SIZES`` in its own process; print peaks and ratios."""
    sizes = [int(s) for s in os.environ.get("BENCH_DRAIN_MEMORY_SIZES", "1000,20000").split(",")]
    rate = float(os.environ.get("BENCH_DRAIN_MEMORY_RATE", "100000"))
    one, five, _ = os.getloadavg()
    print(
        f"peak RSS of one sync_orders (poll + drain) over HTTP into SQLite "
        f"(load {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs)",
        flush=True,
    )
    base: dict[str, Any] | None = None
    for n in sizes:
        r = _measure(n, rate)
        share = r["peak_kb"] - r["before_kb"]
        one, five, _ = os.getloadavg()
        line = (
            f"  {n:>7,} orders: engine peak {r['peak_kb'] / 1024:6.1f} MiB "
            f"({r['peak_kb'] * 1024 / 1e6:6.1f} MB), run's share {share / 1024:6.1f} MiB, "
            f"after {r['after_kb'] / 1024:6.1f} MiB, {n / r['seconds']:5.0f} orders/s "
            f"in {r['seconds']:.0f} s (load {one:.1f})"
        )
        if not r["reset"]:
            line += " (peak not reset: includes setup)"
        if base is None:
            base = r
            print(line + "  (baseline)", flush=True)
            continue
        print(
            f"{line}  ratio {r['peak_kb'] / base['peak_kb']:.2f}x engine peak, "
            f"{share / max(base['peak_kb'] - base['before_kb'], 1):.2f}x share "
            f"({n / base['n']:.0f}x the orders)",
            flush=True,
        )


if __name__ == "__main__":
    main()
