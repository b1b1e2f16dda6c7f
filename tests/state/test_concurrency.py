"""Workers sharing one backlog never get the same order twice, and together finish it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ct_prima_sync.errors import DuplicateRecordError
from ct_prima_sync.state import OrderRecord, OrderStatus, StateStore, open_store

from .conftest import at, order

BACKLOG = 1000


def drain(store: StateStore, worker_id: str) -> list[str]:
    """Claim orders and record a Prima reference for each (under the lease, so a second claim of
    the same order would fail loudly) until none is left; returns the ids this worker submitted."""
    finished: list[str] = []
    while batch := store.claim(worker_id, lease_seconds=600, limit=25, now=at(1)):
        for record in batch:
            store.record_prima_reference(
                record.order_id, worker_id=worker_id, reference=f"SO-{record.order_id}", now=at(2)
            )
            finished.append(record.order_id)
    return finished


def fill(url: str) -> None:
    with open_store(url) as store:
        store.ingest_many([order(n) for n in range(BACKLOG)], now=at(0))


def assert_finished_once(results: list[list[str]], url: str) -> None:
    counts = Counter(order_id for finished in results for order_id in finished)
    assert len(counts) == BACKLOG
    assert max(counts.values()) == 1
    with open_store(url) as store:
        assert store.count_orders_by_status()[OrderStatus.SUBMITTED] == BACKLOG


def test_four_threads_sharing_one_store_finish_the_backlog_once(store: StateStore) -> None:
    store.ingest_many([order(n) for n in range(BACKLOG)], now=at(0))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda w: drain(store, w), ["w1", "w2", "w3", "w4"]))
    counts = Counter(order_id for finished in results for order_id in finished)
    assert len(counts) == BACKLOG
    assert max(counts.values()) == 1
    assert store.count_orders_by_status()[OrderStatus.SUBMITTED] == BACKLOG


#: A worker process: drain the backlog of the store at argv[1] as argv[2], print the order ids.
_WORKER = """
import json, sys
from datetime import UTC, datetime
from ct_prima_sync.state import open_store

url, worker_id = sys.argv[1], sys.argv[2]
claimed_at = datetime.fromisoformat(sys.argv[3])
recorded_at = datetime.fromisoformat(sys.argv[4])
finished = []
with open_store(url) as store:
    while batch := store.claim(worker_id, lease_seconds=600, limit=25, now=claimed_at):
        for record in batch:
            store.record_prima_reference(
                record.order_id, worker_id=worker_id, reference="SO-" + record.order_id,
                now=recorded_at,
            )
            finished.append(record.order_id)
print(json.dumps(finished))
"""


def _processes(url: str, workers: int) -> list[list[str]]:
    # Fresh interpreters rather than fork: a fork copies whatever locks other threads of the test
    # process hold at that moment (served fakes from earlier tests), and a child could hang on one.
    children = [
        subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-c", _WORKER, url, f"p{i}", at(1).isoformat(), at(2).isoformat()],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        results.append(json.loads(out))
    return results


@pytest.mark.postgres
def test_four_processes_on_one_postgres_database_finish_the_backlog_once(
    postgres_url: str,
) -> None:
    fill(postgres_url)
    assert_finished_once(_processes(postgres_url, 4), postgres_url)


def test_two_processes_on_one_sqlite_file_finish_the_backlog_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    fill(url)
    assert_finished_once(_processes(url, 2), url)


def test_a_crashed_workers_orders_are_taken_over_when_its_lease_expires(
    store: StateStore,
) -> None:
    store.ingest_many([order(n) for n in range(10)], now=at(0))
    crashed = store.claim("crashed", lease_seconds=30, limit=10, now=at(0))
    assert len(crashed) == 10
    assert store.claim("survivor", lease_seconds=30, limit=10, now=at(29)) == []
    taken = store.claim("survivor", lease_seconds=30, limit=10, now=at(30))
    assert [r.order_id for r in taken] == [r.order_id for r in crashed]
    for record in crashed:
        with pytest.raises(Exception, match="does not hold its lease"):
            store.transition(
                record.order_id, worker_id="crashed", to=OrderStatus.MAPPED, now=at(31)
            )


def test_racing_workers_cannot_record_one_prima_reference_twice(store: StateStore) -> None:
    store.ingest_many([order(1), order(2)], now=at(0))
    (first,) = store.claim("w1", lease_seconds=60, limit=1, now=at(0))
    (second,) = store.claim("w2", lease_seconds=60, limit=1, now=at(0))
    barrier = threading.Barrier(2)

    def record(claimed: OrderRecord) -> str:
        barrier.wait()
        try:
            store.record_prima_reference(
                claimed.order_id, worker_id=claimed.lease_owner or "", reference="SO-1", now=at(1)
            )
        except DuplicateRecordError:
            return "duplicate"
        return "recorded"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(record, [first, second]))
    assert outcomes == ["duplicate", "recorded"]


@pytest.mark.postgres
def test_a_postgres_store_shared_by_passing_thread_pools_keeps_few_connections(
    postgres_url: str,
) -> None:
    import psycopg

    app = f"ct-prima-sync-test-{uuid.uuid4().hex[:8]}"
    with open_store(f"{postgres_url}&application_name={app}") as store:
        for _ in range(5):
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda n: store.get_order(f"order-{n}"), range(40)))
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s", (app,)
            ).fetchone()
        assert row is not None
        assert 1 <= row[0] <= 4
