"""A recording's follow-ups (the order's open exceptions closed, any held copy dropped, a
finished write-back's exceptions closed) happen exactly when there is something to close or
drop, in every store; on SQLite, whose write transactions run one at a time, the statements
that would change nothing are not sent at all, and a budget's compare and set tries the value
the store last wrote before it reads the row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ct_prima_sync.state import ExceptionFilter, Owner, SqliteStore, StateStore, open_store

from .conftest import at, order


def _claimed(store: StateStore, count: int) -> list[str]:
    store.ingest_many([order(n) for n in range(1, count + 1)], now=at(0))
    claimed = store.claim("w1", lease_seconds=60, limit=count, now=at(0))
    ids = [r.order_id for r in claimed]
    store.begin_submissions(ids, worker_id="w1", now=at(1))
    return sorted(ids)


def _problem(store: StateStore, order_id: str, kind: str = "PRIMA_AMBIGUOUS") -> None:
    store.record_exception(
        kind=kind, owner=Owner.OPERATIONS, detail={}, now=at(1), order_id=order_id
    )


def _open_for(store: StateStore, order_id: str) -> list[str]:
    return [e.kind for e in store.list_exceptions(ExceptionFilter(order_id=order_id))]


@contextmanager
def _traced(store: SqliteStore) -> Iterator[list[str]]:
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        store._conn.set_trace_callback(None)


def test_a_batch_closes_the_exceptions_of_exactly_the_orders_that_have_them(
    store: StateStore,
) -> None:
    first, second, third = _claimed(store, 3)
    _problem(store, second)

    recorded = store.record_prima_references(
        [(first, "SO-1"), (second, "SO-2"), (third, "SO-3")], worker_id="w1", now=at(2)
    )

    assert [r.prima_reference for r in recorded] == ["SO-1", "SO-2", "SO-3"]
    assert [_open_for(store, i) for i in (first, second, third)] == [[], [], []]
    (closed,) = store.list_exceptions(ExceptionFilter(open_only=False, order_id=second))
    assert closed.resolved_at == at(2)
    assert "in Prima (SO-2)" in (closed.resolution_note or "")
    assert store.pending_stock() == {}


def test_one_order_alone_closes_its_exceptions_and_keeps_anothers(store: StateStore) -> None:
    first, second = _claimed(store, 2)
    _problem(store, first)
    _problem(store, second)

    store.record_prima_reference(first, worker_id="w1", reference="SO-1", now=at(2))
    store.record_prima_reference(second, worker_id="w1", reference="SO-2", now=at(2))

    notes = [
        e.resolution_note
        for i in (first, second)
        for e in store.list_exceptions(ExceptionFilter(open_only=False, order_id=i))
    ]
    assert len(notes) == 2
    assert "in Prima (SO-1)" in (notes[0] or "")
    assert "in Prima (SO-2)" in (notes[1] or "")


def test_sqlite_sends_no_follow_up_that_would_change_nothing(tmp_path: Path) -> None:
    with SqliteStore(str(tmp_path / "sync.db")) as store:
        first, second, third = _claimed(store, 3)
        with _traced(store) as statements:
            store.record_prima_reference(first, worker_id="w1", reference="SO-1", now=at(2))
            store.record_prima_references(
                [(second, "SO-2"), (third, "SO-3")], worker_id="w1", now=at(2)
            )
            store.finish_write_backs([first, second, third], worker_id="w1", now=at(3))

    assert not [s for s in statements if s.startswith(("UPDATE exceptions", "DELETE FROM held_"))]
    assert len([s for s in statements if s.startswith("DELETE FROM order_lines")]) == 2
    # (the trace shows each statement with its values in place)
    assert f"WHERE order_id = '{first}'" in statements[1]  # one order's UPDATE: no IN, no CASE
    assert "CASE" not in statements[1]


def test_sqlite_closes_and_drops_only_where_there_is_something(tmp_path: Path) -> None:
    """A held copy beside the ledger's order (what a hold racing an ingest could leave on a
    database whose writers run at once) is dropped all the same."""
    with SqliteStore(str(tmp_path / "sync.db")) as store:
        first, second, third = _claimed(store, 3)
        _problem(store, second)
        store._conn.execute(
            "INSERT INTO held_orders (order_id, order_number, ct_version, reason, held_since, "
            "checked_at) VALUES (?, NULL, 1, 'not_yet_due', ?, ?)",
            (third, store.ts_in(at(0)), store.ts_in(at(0))),
        )
        store._conn.execute(
            "INSERT INTO held_lines (order_id, sku, depot, quantity) VALUES (?, 'A', 'WH1', 2)",
            (third,),
        )
        assert store.pending_stock() == {("A", "WH1"): 2}
        with _traced(store) as statements:
            store.record_prima_references(
                [(first, "SO-1"), (second, "SO-2"), (third, "SO-3")], worker_id="w1", now=at(2)
            )

        (closing,) = [s for s in statements if s.startswith("UPDATE exceptions")]
        assert f"order_id = '{second}'" in closing  # the one order that had one
        assert len([s for s in statements if s.startswith("DELETE FROM held_")]) == 2
        assert _open_for(store, second) == []
        assert store.held_orders() == []
        assert store.pending_stock() == {}


def test_finished_write_backs_close_the_open_write_back_exceptions_only(
    store: StateStore,
) -> None:
    first, second = _claimed(store, 2)
    store.record_prima_references([(first, "SO-1"), (second, "SO-2")], worker_id="w1", now=at(2))
    store.record_exception(  # as a failed write-back of this order leaves it
        kind="CT_WRITE_BACK_FAILED",
        owner=Owner.ECOMMERCE,
        detail={},
        now=at(3),
        order_id=first,
        subject="write_back",
    )
    _problem(store, second, kind="CT_WRITE_BACK_FAILED")  # about the order, not its write-back

    assert store.finish_write_backs([first, second], worker_id="w1", now=at(4)) == [first, second]

    assert _open_for(store, first) == []
    assert _open_for(store, second) == ["CT_WRITE_BACK_FAILED"]


def test_sqlite_reserves_with_one_statement_against_the_value_it_wrote(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    with open_store(url) as mine, open_store(url) as theirs:
        assert isinstance(mine, SqliteStore)
        waits = [mine.reserve_request("prima", rate=1, burst=1, now=at(0)) for _ in range(2)]
        with _traced(mine) as statements:
            waits.append(mine.reserve_request("prima", rate=1, burst=1, now=at(0)))
        assert statements == [statements[0]]  # the compare and set alone, no read
        assert statements[0].startswith("UPDATE request_budgets")
        assert "AND tat = '" in statements[0]

        # Another process moved the row on: the remembered value misses, the row is read.
        waits.append(theirs.reserve_request("prima", rate=1, burst=1, now=at(0)))
        with _traced(mine) as statements:
            waits.append(mine.reserve_request("prima", rate=1, burst=1, now=at(0)))
        assert len(statements) == 3
        # A refusal is never decided on a remembered value.
        assert mine.reserve_request("prima", rate=1, burst=1, now=at(0), max_wait=4.5) is None
        waits.append(theirs.reserve_request("prima", rate=1, burst=1, now=at(0)))
    assert waits == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


@pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
def test_a_budget_shared_by_two_stores_gives_every_request_its_own_moment(
    store_url: str,
) -> None:
    with open_store(store_url) as mine, open_store(store_url) as theirs:
        waits = [
            (mine if n % 3 else theirs).reserve_request("prima", rate=2, burst=1, now=at(0))
            for n in range(9)
        ]
    assert waits == pytest.approx([n / 2 for n in range(9)])
