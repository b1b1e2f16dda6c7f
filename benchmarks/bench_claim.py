"""Claim cost per order as the backlog grows: a 100k backlog against a 1k one, same run.

Each store is filled with a backlog of ``new`` orders written straight into its ``orders`` table
(the rows :meth:`StateStore.ingest` would write; filling 100,000 orders through the public API
would time the ingest, not the claim) plus a history of ``done`` orders, as a shop has after a
while. Ten orders of each backlog are due for retry and ten have an expired lease, so every branch
of the claim runs. Then one worker claims ``BENCH_CLAIM_ORDERS`` orders from each store,
``BENCH_CLAIM_BATCH`` at a time, the two stores taking turns; only the ``claim`` calls are timed
and the median per order is reported (each backlog holds that many orders more than its size, so
it never shrinks below it). The 1k backlog is the baseline; a claim that costs the same
whatever the backlog prints a ratio near 1.0x (a sort of the backlog grows it linearly).

Environment: ``BENCH_CLAIM_SMALL`` / ``BENCH_CLAIM_LARGE`` (backlog sizes, default 1000 and
100000); ``BENCH_CLAIM_ORDERS`` (orders claimed per run, default 500); ``BENCH_CLAIM_BATCH``
(default 25); ``CT_PRIMA_SYNC_TEST_POSTGRES_URL`` as in ``bench_state`` (skipped if
unreachable; runs in a schema of its own that is dropped afterwards).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from benchmarks.bench_state import _postgres_url
from ct_prima_sync.state import StateStore, open_store

T0 = datetime(2026, 11, 27, tzinfo=UTC)
_COLUMNS = (
    "order_id, order_number, status, attempts, lease_owner, lease_expires_at, next_attempt_at, "
    "currency, fraction_digits, net_minor, tax_minor, gross_minor, ct_version, created_at, "
    "updated_at, prima_reference"
)


def _rows(
    backlog: int, history: int, stamp: Callable[[datetime], Any]
) -> Iterator[tuple[Any, ...]]:
    """``history`` done orders, then the backlog: mostly new, a few failed-and-due and a few
    left by a crashed worker (lease expired)."""
    special = max(backlog // 10, 2)
    for i in range(history + backlog):
        created = T0 + timedelta(milliseconds=i)
        status, lease, retry, ref = "new", None, None, None
        if i < history:
            status, ref = "done", f"SO-{i}"
        elif (i - history) % special == 0:
            status, retry = "failed", T0 - timedelta(minutes=1)
        elif (i - history) % special == 1:
            status, lease = "submitting", T0 - timedelta(minutes=1)
        yield (
            f"o-{i:08d}", f"N{i:08d}", status, 1 if status != "new" else 0, None,
            stamp(lease) if lease else None, stamp(retry) if retry else None,
            "EUR", 2, 10000, 1900, 11900, 1, stamp(created), stamp(created), ref,
        )  # fmt: skip


def _fill(store: StateStore, backlog: int, history: int) -> None:
    """Write the rows with the store's own transaction and value adapters."""
    sql = f"INSERT INTO orders ({_COLUMNS}) VALUES ({', '.join('?' * 16)})"  # noqa: S608
    rows = list(_rows(backlog, history, store.ts_in))  # type: ignore[attr-defined]
    with store._write() as tx:  # type: ignore[attr-defined]
        for start in range(0, len(rows), 5000):
            tx.many(sql, rows[start : start + 5000])
        if store.__class__.__name__ == "PostgresStore":
            tx.run("ANALYZE orders")  # what autovacuum does after a bulk load


def claim_costs(stores: dict[str, StateStore], orders: int, batch: int) -> dict[str, float]:
    """Median seconds per claimed order for each store over ``orders`` orders claimed ``batch``
    at a time. The stores take turns, claim by claim, so a busy machine slows both alike."""
    samples: dict[str, list[float]] = {name: [] for name in stores}
    now = T0
    for _ in range(0, orders, batch):
        for name, store in stores.items():
            start = time.perf_counter()
            got = store.claim("bench", lease_seconds=600, limit=batch, now=now)
            spent = time.perf_counter() - start
            if len(got) != batch:
                raise RuntimeError("the backlog ran out before the measurement finished")
            samples[name].append(spent / batch)
        now += timedelta(milliseconds=1)
    return {name: statistics.median(values) for name, values in samples.items()}


def _stores(tmp: str) -> Iterator[tuple[str, Callable[[str], StateStore]]]:
    """Each SQL store under test, as (label, open a fresh store by name)."""
    yield "sqlite", lambda name: open_store(f"sqlite:///{tmp}/{name}.db")
    pg = _postgres_url()
    if pg is None:
        return
    base, schema, _ = pg
    import psycopg

    def make(name: str) -> StateStore:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}_{name}"')
        sep = "&" if "?" in base else "?"
        return open_store(f"{base}{sep}options={quote(f'-csearch_path={schema}_{name}')}")

    try:
        yield "postgresql", make
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            for name in ("small", "large"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}_{name}" CASCADE')
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    """Print the claim cost per order at both backlog sizes and their ratio, per SQL store."""
    small = int(os.environ.get("BENCH_CLAIM_SMALL", "1000"))
    large = int(os.environ.get("BENCH_CLAIM_LARGE", "100000"))
    orders = int(os.environ.get("BENCH_CLAIM_ORDERS", "500"))
    batch = int(os.environ.get("BENCH_CLAIM_BATCH", "25"))
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in _stores(tmp):
            with make("small") as small_store, make("large") as large_store:
                _fill(small_store, small + orders, history=small // 2)
                _fill(large_store, large + orders, history=large // 2)
                costs = claim_costs({"small": small_store, "large": large_store}, orders, batch)
            ratio = costs["large"] / costs["small"]
            print(
                f"{label:<11} claim per order: {costs['small'] * 1e6:8.1f} us at {small:>7,} "
                f"backlog, {costs['large'] * 1e6:8.1f} us at {large:>7,}  ratio {ratio:5.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
