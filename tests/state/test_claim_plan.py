"""A claim costs the same at any backlog: each branch reads its index in order, never sorts or
scans the backlog, and the branches are taken most urgent first in every store."""

# ruff: noqa: S608  (the fill is built from constants only)

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ct_prima_sync.state import OrderStatus, SqliteStore, StateStore, open_store
from ct_prima_sync.state._claim import BRANCHES, ClaimBranch

from .conftest import at, order

if TYPE_CHECKING:
    from ct_prima_sync.state._postgres import PostgresStore

#: Orders in the backlog the plans are taken over: enough that a planner with statistics
#: would rather sort than read an index if the index did not serve the query.
BACKLOG = 20_000

#: One row in 40 of each kind the non-new branches read, the rest new, then a done history.
_FILL = """
INSERT INTO orders (order_id, order_number, status, attempts, lease_expires_at,
    next_attempt_at, currency, fraction_digits, net_minor, tax_minor, gross_minor, ct_version,
    created_at, updated_at, prima_reference)
SELECT 'o-' || n, 'N' || n,
    CASE WHEN n % 40 = 0 THEN 'failed' WHEN n % 40 = 1 THEN 'submitting'
         WHEN n % 40 = 2 THEN 'claimed' WHEN n > {backlog} THEN 'done' ELSE 'new' END,
    1, CASE WHEN n % 40 = 1 THEN {early} END, CASE WHEN n % 40 = 0 THEN {early} END,
    'EUR', 2, 100, 19, 119, 1, {created}, {created},
    CASE WHEN n > {backlog} AND n % 40 > 2 THEN 'SO-' || n END
FROM {series}
"""


def _branch_params(store: Any, branch: ClaimBranch) -> tuple[Any, ...]:
    now = store.ts_in(at(0))
    return tuple(store.claim_params(branch, "w", store.ts_in(at(600)), now, 25))


def test_every_sqlite_claim_branch_reads_its_index_in_order(tmp_path: Any) -> None:
    with SqliteStore(str(tmp_path / "plan.db")) as store, store._write() as tx:
        tx.run(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
            + _FILL.format(
                backlog=BACKLOG,
                early="'2026-03-01T11:00:00.000000+00:00'",
                created="strftime('%Y-%m-%dT%H:%M:%f', '2026-01-01', '+' || n || ' seconds')"
                " || '000+00:00'",
                series="s",
            ),
            (BACKLOG * 2,),
        )
        for branch in BRANCHES:
            plan = [
                row[3]
                for row in tx.all(
                    "EXPLAIN QUERY PLAN " + store.claim_statement(branch),
                    _branch_params(store, branch),
                )
            ]
            text = " | ".join(plan)
            assert any(f"INDEX {branch.index} " in step for step in plan), text
            assert not any("TEMP B-TREE" in step for step in plan), text
            assert not any(step.startswith("SCAN orders") for step in plan), text


def _fill_postgres_backlog(store: PostgresStore) -> None:
    """Every claim branch's rows, ``BACKLOG`` of each, and fresh planner statistics."""
    with store._write() as tx:
        tx.run(
            _FILL.format(
                backlog=BACKLOG,
                early="TIMESTAMPTZ '2026-03-01 11:00:00+00'",
                created="TIMESTAMPTZ '2026-01-01 00:00:00+00' + n * INTERVAL '1 second'",
                series=f"generate_series(1, {BACKLOG * 2}) AS s(n)",
            ).replace("%", "%%")  # psycopg placeholders
        )
        tx.run("ANALYZE orders")


def test_every_postgres_claim_branch_reads_its_index_in_order_and_skips_locked_rows(
    postgres_url: str,
) -> None:
    from ct_prima_sync.state._postgres import PostgresStore

    with open_store(postgres_url) as store:
        assert isinstance(store, PostgresStore)
        _fill_postgres_backlog(store)
        with store._write() as tx:
            for branch in BRANCHES:
                statement = store.claim_statement(branch)
                assert "FOR UPDATE SKIP LOCKED" in statement
                plan = [
                    row[0] for row in tx.all("EXPLAIN " + statement, _branch_params(store, branch))
                ]
                text = "\n".join(plan)
                assert f"using {branch.index} on orders" in text, text
                assert "Seq Scan on orders" not in text, text
                assert not any(step.strip(" ->").startswith("Sort") for step in plan), text
                assert "Limit" in text, text


def test_the_postgres_claim_reads_every_branch_in_one_statement_and_stops_at_its_limit(
    postgres_url: str,
) -> None:
    """The claim PostgreSQL runs (``claim_all_statement``): each branch its index in order, no
    sort, no scan; a branch after one that filled the limit is never read, so none of its rows
    are locked."""
    import psycopg

    from ct_prima_sync.state._postgres import PostgresStore

    with open_store(postgres_url) as store:
        assert isinstance(store, PostgresStore)
        _fill_postgres_backlog(store)
        statement = store.claim_all_statement()
        params = store.claim_all_params("w", store.ts_in(at(600)), store.ts_in(at(0)), 25)
        assert statement.count("FOR UPDATE SKIP LOCKED") == len(BRANCHES)
        with store._read() as tx:
            plan = "\n".join(row[0] for row in tx.all("EXPLAIN " + statement, params))
        for branch in BRANCHES:
            assert f"using {branch.index} on orders" in plan, plan
        assert "Seq Scan on orders" not in plan, plan
        assert not any(s.strip(" ->").startswith("Sort") for s in plan.splitlines()), plan
        # Released orders (1 in 40 of the backlog) fill the limit: nothing else is read.
        with psycopg.connect(postgres_url) as conn:  # a transaction, rolled back
            ran = [
                row[0]
                for row in conn.execute(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement, params
                ).fetchall()
            ]
            conn.rollback()
        scans = [s for s in ran if " Scan " in s and " on orders" in s and "Index" in s]
        assert "never executed" not in scans[0], "\n".join(ran)
        assert sum("never executed" in s for s in scans) >= len(BRANCHES) - 1, "\n".join(ran)


def _mixed_backlog(store: StateStore) -> None:
    """Orders 1-6 taken by worker "a" and left in every state a claim distinguishes, 7-8 new."""
    store.ingest_many([order(n) for n in range(1, 7)], now=at(0))
    assert len(store.claim("a", lease_seconds=10, limit=6, now=at(1))) == 6
    failed = OrderStatus.FAILED
    store.transition("order-00001", worker_id="a", to=failed, now=at(2), retry_at=at(5))
    store.transition("order-00002", worker_id="a", to=failed, now=at(2), retry_at=at(99))
    store.release_lease("order-00004", worker_id="a", now=at(2))
    store.renew_lease("order-00005", worker_id="a", lease_seconds=100, now=at(2))
    store.transition("order-00006", worker_id="a", to=failed, now=at(2), retry_at=at(3))
    store.ingest_many([order(7), order(8)], now=at(2))
    # order 3 keeps its lease, which runs out at 11


def test_a_claim_takes_released_then_expired_then_due_retries_then_new_orders(
    store: StateStore,
) -> None:
    _mixed_backlog(store)
    taken = [
        [r.order_id for r in store.claim(f"w{i}", lease_seconds=60, limit=1, now=at(20))]
        for i in range(7)
    ]
    assert taken == [
        ["order-00004"],  # released
        ["order-00003"],  # lease expired
        ["order-00006"],  # retry due at 3
        ["order-00001"],  # retry due at 5
        ["order-00007"],
        ["order-00008"],
        [],  # order 2's retry is not due, order 5's lease is live
    ]


def test_one_claim_returns_what_it_took_from_every_branch_oldest_first(
    store: StateStore,
) -> None:
    _mixed_backlog(store)
    got = store.claim("b", lease_seconds=60, limit=10, now=at(20))
    assert [r.order_id for r in got] == [f"order-0000{n}" for n in (1, 3, 4, 6, 7, 8)]
    assert {r.lease_owner for r in got} == {"b"}
    assert [r.attempts for r in got] == [2, 2, 2, 2, 1, 1]
