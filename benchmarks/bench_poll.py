"""Peak memory of one order poll: ``SyncEngine.poll_orders`` reading N orders into a SQLite ledger.

For each size, the commercetools fake is filled with N orders by ``build_scenario`` and served
over HTTP by a process of its own (its copy of the orders, and its work answering each query, is
commercetools' memory, not the engine's). A fresh engine process then polls every order into a
SQLite ledger. Printed per size: the engine process's peak resident set, and the poll's own
share (that peak less the resident set just before the poll, the peak being reset there through
``/proc/self/clear_refs``). Baseline: the smallest size. A poll whose memory stays flat has a
ratio near 1 however many orders it reads; one that holds every order grows with N.

Every run checks that each order reached the ledger. Environment: ``BENCH_POLL_SIZES``
(comma-separated order counts, default ``1000,20000``).
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

_SERVER = (
    "import json, sys\n"
    "from ct_prima_sync.testing.scenario import build_scenario\n"
    "scenario = build_scenario(orders=int(sys.argv[1]), seed=1)\n"
    "with scenario.commercetools.serve() as url:\n"
    "    first = scenario.first_order_at.isoformat()\n"
    "    print(json.dumps({'url': url, 'first': first}), flush=True)\n"
    "    sys.stdin.read()\n"
)
_ENGINE = (
    "import json, sys\n"
    "from benchmarks.bench_poll import poll_in_this_process\n"
    "print(json.dumps(poll_in_this_process(int(sys.argv[1]), sys.argv[2], sys.argv[3])))\n"
)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    """Start ``VmHWM`` afresh from the current resident set (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def poll_in_this_process(n: int, url: str, first_order_at: str) -> dict[str, Any]:
    """Poll the ``n`` orders of the fake served at ``url`` into a SQLite ledger; the memory
    figures of this process."""
    import gc

    from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig
    from ct_prima_sync.engine import EngineConfig, SyncEngine
    from ct_prima_sync.state import open_store
    from ct_prima_sync.testing import FakeCommercetools, FakePrima
    from ct_prima_sync.testing.scenario import build_scenario

    local = build_scenario(orders=0, seed=1)  # the same mapping and catalogue, no orders
    fake = FakeCommercetools()  # for its default project key and credentials
    config = CommercetoolsConfig(
        project_key=fake.project_key,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        api_url=url,
        auth_url=url,
    )
    del fake
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{tmp}/sync.db") as store,
        CommercetoolsClient(config) as commercetools,
    ):
        engine = SyncEngine(
            commercetools=commercetools,
            prima=FakePrima(local.world),
            store=store,
            mapping=local.mapping,
            config=EngineConfig(
                worker_id="bench",
                initial_cursor=datetime.fromisoformat(first_order_at) - timedelta(days=1),
                customer_key_secret="benchmark-installation-secret",  # noqa: S106
            ),
        )
        gc.collect()
        before = _status_kb("VmRSS")
        reset = _reset_peak()
        started = time.perf_counter()
        added = engine.poll_orders()
        wall = time.perf_counter() - started
        peak = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        in_ledger = sum(store.count_orders_by_status().values())
    if added != n or in_ledger != n:
        raise SystemExit(f"poll was wrong: {added} new, {in_ledger} in the ledger, {n} orders")
    return {"n": n, "before_kb": before, "peak_kb": peak, "seconds": wall, "reset": reset}


def _measure(n: int) -> dict[str, Any]:
    """Serve ``n`` orders from one process and poll them from another."""
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
        try:
            done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
                [sys.executable, "-c", _ENGINE, str(n), served["url"], served["first"]],
                capture_output=True,
                text=True,
                check=True,
                cwd=here,
            )
        finally:
            server.stdin.close()
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Poll each size of ``BENCH_POLL_SIZES`` in its own process; print peaks and ratios."""
    sizes = [int(s) for s in os.environ.get("BENCH_POLL_SIZES", "1000,20000").split(",")]
    one, five, _ = os.getloadavg()
    print(f"peak RSS of one poll_orders over HTTP into SQLite (load {one:.1f}/{five:.1f})")
    base: dict[str, Any] | None = None
    for n in sizes:
        r = _measure(n)
        share = r["peak_kb"] - r["before_kb"]
        line = (
            f"  {n:>7,} orders: engine peak {r['peak_kb'] / 1024:7.1f} MiB, "
            f"poll's share {share / 1024:7.1f} MiB, {n / r['seconds']:6.0f} orders/s"
        )
        if not r["reset"]:
            line += " (peak not reset: includes setup)"
        if base is None:
            base = r
            print(line + "  (baseline)", flush=True)
            continue
        base_share = base["peak_kb"] - base["before_kb"]
        print(
            f"{line}  ratio {share / base_share:.2f}x share, "
            f"{r['peak_kb'] / base['peak_kb']:.2f}x engine process "
            f"({n / base['n']:.0f}x the orders)",
            flush=True,
        )
