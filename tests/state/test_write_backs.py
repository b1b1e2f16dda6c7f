"""The write-back queue (schema v10) behaves the same in every store: an order in Prima is
finished many at a time, a failed write-back makes it done with a retry queued, a due retry is
claimed by one worker at a time, and a version 9 database gains the queue with its rows intact."""

# ruff: noqa: S608  (the fill is built from constants only)

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ct_prima_sync.state import OrderStatus, Owner, SqliteStore, StateStore, open_store

from .conftest import at, order
from .test_open import _create_at_version


def _in_prima(store: StateStore, n: int, *, worker: str = "w1", now: float = 0) -> str:
    """Ingest, claim, submit and record order ``n``: it is ``submitted`` with its reference."""
    store.ingest(order(n), now=at(now))
    (claimed,) = store.claim(worker, lease_seconds=60, limit=1, now=at(now))
    store.begin_submission(claimed.order_id, worker_id=worker, now=at(now))
    store.record_prima_reference(claimed.order_id, worker_id=worker, reference=f"P{n}", now=at(now))
    return claimed.order_id


def _fail_write_back(store: StateStore, order_id: str, *, retry_at: float, now: float) -> None:
    store.record_exception(
        kind="CT_WRITE_BACK_FAILED",
        owner=Owner.ECOMMERCE,
        detail={"stage": "write_back"},
        now=at(now),
        order_id=order_id,
        transient=True,
        next_retry_at=at(retry_at),
        subject="write_back",
    )


def test_many_orders_are_finished_in_one_call_and_only_the_workers_own(
    store: StateStore,
) -> None:
    mine = [_in_prima(store, n) for n in (1, 2, 3)]
    theirs = _in_prima(store, 4, worker="w2")

    finished = store.finish_write_backs([*mine, theirs], worker_id="w1", now=at(1))

    assert finished == mine
    for order_id in mine:
        record = store.get_order(order_id)
        assert record is not None
        assert (record.status, record.lease_owner) == (OrderStatus.DONE, None)
    other = store.get_order(theirs)
    assert other is not None
    assert other.status is OrderStatus.SUBMITTED
    assert store.count_write_backs_queued() == 0


def test_an_order_whose_lease_ran_out_unclaimed_is_finished_all_the_same(
    store: StateStore,
) -> None:
    order_id = _in_prima(store, 1)

    assert store.finish_write_backs([order_id], worker_id="w1", now=at(600)) == [order_id]


def test_an_order_another_worker_took_over_is_left_to_it(store: StateStore) -> None:
    order_id = _in_prima(store, 1)
    (taken,) = store.claim("w2", lease_seconds=60, limit=1, now=at(120))  # lease ran out
    assert taken.order_id == order_id

    assert store.finish_write_backs([order_id], worker_id="w1", now=at(121)) == []
    assert store.defer_write_back(order_id, worker_id="w1", retry_at=at(200), now=at(121)) is None
    record = store.get_order(order_id)
    assert record is not None
    assert record.lease_owner == "w2"


def test_a_failed_write_back_makes_the_order_done_with_a_retry_queued(
    store: StateStore,
) -> None:
    order_id = _in_prima(store, 1)

    assert store.defer_write_back(order_id, worker_id="w1", retry_at=at(30), now=at(1)) == 1

    record = store.get_order(order_id)
    assert record is not None
    assert (record.status, record.prima_reference, record.lease_owner) == (
        OrderStatus.DONE,
        "P1",
        None,
    )
    queued = store.get_write_back(order_id)
    assert queued is not None
    assert (queued.prima_reference, queued.due_at, queued.attempts) == ("P1", at(30), 1)
    assert store.count_write_backs_queued() == 1
    assert store.claim("w1", lease_seconds=60, limit=10, now=at(1000)) == [], (
        "an order in Prima is never claimed for Prima again"
    )


def test_a_due_retry_is_claimed_once_until_its_lease_runs_out(store: StateStore) -> None:
    early, late = _in_prima(store, 1), _in_prima(store, 2)
    store.defer_write_back(late, worker_id="w1", retry_at=at(50), now=at(1))
    store.defer_write_back(early, worker_id="w1", retry_at=at(20), now=at(1))

    assert store.claim_write_backs(lease_seconds=60, limit=10, now=at(10)) == []
    (first,) = store.claim_write_backs(lease_seconds=60, limit=1, now=at(30))
    assert first.order_id == early
    (second,) = store.claim_write_backs(lease_seconds=60, limit=10, now=at(60))
    assert (second.order_id, second.due_at) == (late, at(120))
    assert store.claim_write_backs(lease_seconds=60, limit=10, now=at(89)) == []
    again = store.claim_write_backs(lease_seconds=60, limit=10, now=at(90))
    assert [item.order_id for item in again] == [early], "a dead worker's claim comes back"


def test_an_operators_retry_brings_queued_write_backs_forward_and_nothing_else(
    store: StateStore,
) -> None:
    queued, due_already, in_progress = (_in_prima(store, n) for n in (1, 2, 3))
    store.defer_write_back(queued, worker_id="w1", retry_at=at(3600), now=at(1))
    store.defer_write_back(due_already, worker_id="w1", retry_at=at(5), now=at(1))

    moved = store.make_write_backs_due(
        [in_progress, queued, due_already, "order-99999"], now=at(10)
    )

    assert moved == [queued]
    item = store.get_write_back(queued)
    assert item is not None
    assert (item.due_at, item.attempts) == (at(10), 1)
    claimed = store.claim_write_backs(lease_seconds=60, limit=5, now=at(10))
    assert sorted(i.order_id for i in claimed) == [queued, due_already]
    assert store.get_write_back(in_progress) is None, "no write-back queued: left alone"


def test_a_retry_that_succeeds_clears_the_queue_and_closes_its_exception(
    store: StateStore,
) -> None:
    order_id = _in_prima(store, 1)
    store.defer_write_back(order_id, worker_id="w1", retry_at=at(20), now=at(1))
    _fail_write_back(store, order_id, retry_at=20, now=1)
    store.record_exception(  # the dispatch flow's own, about a delivery: not closed here
        kind="CT_WRITE_BACK_FAILED",
        owner=Owner.ECOMMERCE,
        detail={"flow": "dispatch"},
        now=at(2),
        order_id=order_id,
    )
    store.claim_write_backs(lease_seconds=60, limit=10, now=at(20))
    assert store.defer_write_back(order_id, worker_id="w9", retry_at=at(90), now=at(21)) == 2

    assert store.finish_write_backs([order_id], worker_id="w9", now=at(95)) == [order_id]

    assert store.get_write_back(order_id) is None
    assert store.count_write_backs_queued() == 0
    still_open = [e.detail for e in store.list_exceptions() if e.is_open]
    assert still_open == [{"flow": "dispatch"}], "only the write-back's exception is closed"
    record = store.get_order(order_id)
    assert record is not None
    assert record.status is OrderStatus.DONE


def _v9_rows(url: str) -> None:
    with open_store(url) as store:
        record = store.get_order("order-00001")
        assert record is not None
        assert record.status is OrderStatus.DONE
        assert store.get_write_back("order-00001") is None
        assert store.count_write_backs_queued() == 0
        submitted = store.get_order("order-00002")
        assert submitted is not None
        assert submitted.prima_reference == "P2"
        # A v9 order left submitted by a crash is finished by its worker's write-back.
        assert store.finish_write_backs(["order-00002"], worker_id="w1", now=at(5)) == [
            "order-00002"
        ]


_V9_ORDERS = (
    "INSERT INTO orders (order_id, order_number, status, attempts, lease_owner, "
    "lease_expires_at, prima_reference, currency, fraction_digits, net_minor, tax_minor, "
    "gross_minor, ct_version, created_at, updated_at) VALUES "
    "('order-00001', 'N00001', 'done', 1, NULL, NULL, 'P1', 'EUR', 2, 1001, 190, 1191, 1, "
    "{t}, {t}), "
    "('order-00002', 'N00002', 'submitted', 1, 'w1', {t}, 'P2', 'EUR', 2, 1002, 190, 1192, 1, "
    "{t}, {t})"
)


def test_a_version_9_sqlite_file_opens_at_version_10_with_its_orders(tmp_path: Path) -> None:
    path = tmp_path / "v9.db"
    conn = sqlite3.connect(path)
    _create_at_version(conn.execute, "sqlite", 9)
    conn.execute(_V9_ORDERS.format(t="'2026-03-01T12:00:00.000000+00:00'"))
    conn.commit()
    conn.close()

    _v9_rows(f"sqlite:///{path}")

    conn = sqlite3.connect(path)
    versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    conn.close()
    assert versions[-1] == (10,)


@pytest.mark.postgres
def test_a_version_9_postgres_schema_opens_at_version_10_with_its_orders(
    postgres_url: str,
) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        _create_at_version(conn.execute, "postgresql", 9)
        conn.execute(_V9_ORDERS.format(t="'2026-03-01T12:00:00Z'"))
    _v9_rows(postgres_url)


#: Orders the plans are taken over, one in 20 with a write-back queued (half of those due):
#: enough that a planner with statistics would rather sort than read an index that did not
#: serve the query.
_ORDERS = 20_000
_FILL = """
INSERT INTO orders (order_id, order_number, status, attempts, currency, fraction_digits,
    net_minor, tax_minor, gross_minor, ct_version, created_at, updated_at, prima_reference,
    write_back_due_at)
SELECT 'o-' || n, 'N' || n, 'done', 1, 'EUR', 2, 100, 19, 119, 1, {created}, {created},
    'SO-' || n, CASE WHEN n % 20 = 0 THEN {due} WHEN n % 20 = 1 THEN {later} END
FROM {series}
"""


def test_the_due_retries_are_read_from_their_index(tmp_path: Path) -> None:
    """A claim of due write-backs reads ``orders_write_back_idx`` in order with its LIMIT, so
    it costs the same at any backlog (the store's statement also names the index, and SQLite
    refuses it rather than scan should that ever stop being possible)."""
    with SqliteStore(str(tmp_path / "sync.db")) as store, store._write() as tx:
        tx.run(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
            + _FILL.format(
                created="'2026-01-01T00:00:00.000000+00:00'",
                due="'2026-03-01T11:00:00.000000+00:00'",
                later="'2026-03-02T11:00:00.000000+00:00'",
                series="s",
            ),
            (_ORDERS,),
        )
        tx.run("ANALYZE")
        params = (store.ts_in(at(600)), store.ts_in(at(0)), 25)
        plan = tx.all("EXPLAIN QUERY PLAN " + store.write_back_claim_statement(), params)
    details = " | ".join(str(row[-1]) for row in plan)
    assert "orders_write_back_idx" in details, details
    assert "TEMP B-TREE" not in details, details
    assert not any(str(row[-1]).startswith("SCAN orders") for row in plan), details


def test_the_due_retries_are_read_from_their_index_on_postgresql(postgres_url: str) -> None:
    """The same on PostgreSQL, whose planner has no hint: over 20,000 analysed orders the claim
    reads the partial index in order with its LIMIT, skips locked rows, and neither sorts nor
    scans ``orders``."""
    from ct_prima_sync.state._postgres import PostgresStore

    with open_store(postgres_url) as store:
        assert isinstance(store, PostgresStore)
        with store._write() as tx:
            tx.run(
                _FILL.format(
                    created="TIMESTAMPTZ '2026-01-01 00:00:00+00'",
                    due="TIMESTAMPTZ '2026-03-01 11:00:00+00'",
                    later="TIMESTAMPTZ '2026-03-02 11:00:00+00'",
                    series=f"generate_series(1, {_ORDERS}) AS s(n)",
                ).replace("%", "%%")  # psycopg placeholders
            )
            tx.run("ANALYZE orders")
        statement = store.write_back_claim_statement()
        assert "FOR UPDATE SKIP LOCKED" in statement
        params = (store.ts_in(at(600)), store.ts_in(at(0)), 25)
        with store._write() as tx:
            plan = [row[0] for row in tx.all("EXPLAIN " + statement, params)]
    text = "\n".join(plan)
    assert "using orders_write_back_idx on orders" in text.lower(), text
    assert "Seq Scan on orders" not in text, text
    assert not any(step.strip(" ->").startswith("Sort") for step in plan), text
    assert "Limit" in text, text
