"""Order-ledger throughput per store, against a raw-SQLite baseline doing the same transactions.

One worker walks every order through the full ledger pipeline (ingest in pages of 100, claim 25
at a time, mapped, customer_resolved, begin_submission, record_prima_reference, done: six write
transactions per order). The baseline runs the same number of ``BEGIN IMMEDIATE`` / one
``UPDATE`` / ``COMMIT`` transactions on a bare sqlite3 connection: the floor any SQLite ledger
pays. Rates are per wall-clock second and per CPU-second of this process (PostgreSQL work is
mostly in the server, so its CPU rate is not comparable).

Environment: ``BENCH_STATE_N`` (orders, default 2000); ``CT_PRIMA_SYNC_TEST_POSTGRES_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``; skipped if unreachable; runs in a schema
of its own that is dropped afterwards).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from ct_prima_sync.state import NewOrder, OrderStatus, OrderTotals, StateStore, open_store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PAGE = 100
CLAIM = 25


def _orders(n: int) -> list[NewOrder]:
    totals = OrderTotals(currency="EUR", fraction_digits=2, net=10000, tax=1900, gross=11900)
    return [
        NewOrder(order_id=f"o-{i:07d}", order_number=f"N{i:07d}", ct_version=1, totals=totals)
        for i in range(n)
    ]


def pipeline(store: StateStore, n: int) -> None:
    """Ingest ``n`` orders and take each through every ledger step to ``done``."""
    orders = _orders(n)
    now = T0
    for start in range(0, n, PAGE):
        store.ingest_many(orders[start : start + PAGE], now=now)
    worker = "bench"
    while batch := store.claim(worker, lease_seconds=600, limit=CLAIM, now=now):
        now += timedelta(milliseconds=1)
        for r in batch:
            store.transition(r.order_id, worker_id=worker, to=OrderStatus.MAPPED, now=now)
            store.transition(
                r.order_id, worker_id=worker, to=OrderStatus.CUSTOMER_RESOLVED, now=now
            )
            store.begin_submission(r.order_id, worker_id=worker, now=now)
            store.record_prima_reference(
                r.order_id, worker_id=worker, reference="SO-" + r.order_id, now=now
            )
            store.transition(r.order_id, worker_id=worker, to=OrderStatus.DONE, now=now)
    assert store.count_orders_by_status()[OrderStatus.DONE] == n


def raw_sqlite(path: Path, n: int) -> None:
    """The baseline: six one-statement write transactions per order on bare sqlite3."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, status TEXT, ref TEXT)")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO t VALUES (?, 'new', NULL)", [(f"o-{i}",) for i in range(n)])
    conn.execute("COMMIT")
    for i in range(n):
        for status in ("claimed", "mapped", "resolved", "submitting", "submitted", "done"):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE t SET status = ? WHERE id = ?", (status, f"o-{i}"))
            conn.execute("COMMIT")
    conn.close()


def _timed(run: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def _report(label: str, n: int, wall: float, cpu: float, baseline_wall: float | None) -> None:
    ratio = f"  {wall / baseline_wall:5.1f}x baseline time" if baseline_wall else ""
    print(
        f"{label:<22} {n / wall:9.0f} orders/s wall  {n / max(cpu, 1e-9):9.0f} orders/CPU-s{ratio}",
        flush=True,
    )


def _postgres_url() -> tuple[str, str, str] | None:
    base = os.environ.get(
        "CT_PRIMA_SYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    try:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # any failure means: skip PostgreSQL
        print(f"postgresql: skipped ({type(exc).__name__})")
        return None
    sep = "&" if "?" in base else "?"
    return base, schema, f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def main() -> None:
    """Print the pipeline rate of each store and its ratio to the raw-SQLite baseline."""
    n = int(os.environ.get("BENCH_STATE_N", "2000"))
    with tempfile.TemporaryDirectory() as tmp:
        base_wall, base_cpu = _timed(lambda: raw_sqlite(Path(tmp) / "raw.db", n))
        _report("baseline raw sqlite3", n, base_wall, base_cpu, None)
        for label, url in (("memory", "memory://"), ("sqlite", f"sqlite:///{tmp}/sync.db")):
            with open_store(url) as store:
                wall, cpu = _timed(lambda store=store: pipeline(store, n))  # type: ignore[misc]
            _report(label, n, wall, cpu, base_wall)
    pg = _postgres_url()
    if pg is None:
        return
    base, schema, url = pg
    try:
        with open_store(url) as store:
            wall, cpu = _timed(lambda: pipeline(store, n))
        _report("postgresql", n, wall, cpu, base_wall)
    finally:
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
