"""Order lines in the ledger: pending stock per SKU and depot until Prima has the order, and
exceptions about a SKU rather than an order. Every store behaves the same."""

from __future__ import annotations

import attrs
import pytest

from ct_prima_sync.errors import StateError
from ct_prima_sync.state import (
    ExceptionFilter,
    NewOrder,
    OrderLine,
    OrderStatus,
    Owner,
    StateStore,
)

from .conftest import at, order


def with_lines(n: int, *lines: tuple[str, str, int], version: int = 1) -> NewOrder:
    return attrs.evolve(
        order(n, version=version),
        lines=tuple(OrderLine(sku=s, depot=d, quantity=q) for s, d, q in lines),
    )


def accept(store: StateStore, order_id: str, reference: str) -> None:
    (claimed,) = [
        r for r in store.claim("w", lease_seconds=60, limit=10, now=at(1)) if r.order_id == order_id
    ]
    store.begin_submission(claimed.order_id, worker_id="w", now=at(2))
    store.record_prima_reference(claimed.order_id, worker_id="w", reference=reference, now=at(3))


def test_pending_adds_up_the_lines_of_orders_prima_has_not_accepted(store: StateStore) -> None:
    store.ingest_many(
        [
            with_lines(1, ("TEE-M", "WH1", 2), ("TEE-M", "WH1", 1), ("CAP", "WH2", 1)),
            with_lines(2, ("TEE-M", "WH1", 4), ("TEE-M", "WH2", 3)),
        ],
        now=at(0),
    )
    assert store.pending_stock() == {("TEE-M", "WH1"): 7, ("TEE-M", "WH2"): 3, ("CAP", "WH2"): 1}
    assert store.pending_stock(["CAP", "UNKNOWN"]) == {("CAP", "WH2"): 1}
    assert store.order_lines("order-00001") == [
        OrderLine(sku="CAP", depot="WH2", quantity=1),
        OrderLine(sku="TEE-M", depot="WH1", quantity=3),
    ]


def test_lines_leave_pending_in_the_transaction_that_records_primas_reference(
    store: StateStore,
) -> None:
    store.ingest_many(
        [with_lines(1, ("TEE-M", "WH1", 2)), with_lines(2, ("TEE-M", "WH1", 5))],
        now=at(0),
    )
    accept(store, "order-00001", "SO-1")
    assert store.pending_stock() == {("TEE-M", "WH1"): 5}
    assert store.order_lines("order-00001") == []
    record = store.get_order("order-00001")
    assert record is not None
    assert record.status is OrderStatus.SUBMITTED


def test_orders_that_failed_or_wait_for_a_person_stay_pending(store: StateStore) -> None:
    store.ingest(with_lines(1, ("TEE-M", "WH1", 2)), now=at(0))
    store.claim("w", lease_seconds=60, limit=1, now=at(1))
    store.transition("order-00001", worker_id="w", to=OrderStatus.EXCEPTED, now=at(2))
    assert store.pending_stock() == {("TEE-M", "WH1"): 2}


def test_a_newer_version_replaces_the_lines_until_prima_has_the_order(store: StateStore) -> None:
    store.ingest(with_lines(1, ("TEE-M", "WH1", 2)), now=at(0))
    store.ingest(with_lines(1, ("TEE-M", "WH1", 9), version=1), now=at(1))
    assert store.pending_stock() == {("TEE-M", "WH1"): 2}, "the same version changes nothing"
    store.ingest(with_lines(1, ("TEE-L", "WH1", 1), version=2), now=at(2))
    assert store.pending_stock() == {("TEE-L", "WH1"): 1}
    accept(store, "order-00001", "SO-1")
    store.ingest(with_lines(1, ("TEE-L", "WH1", 4), version=3), now=at(4))
    assert store.pending_stock() == {}, "once Prima has the order, its lines are Prima's"


def test_a_negative_quantity_refuses_the_whole_page(store: StateStore) -> None:
    with pytest.raises(StateError, match="quantity"):
        store.ingest_many(
            [with_lines(1, ("A", "WH1", 1)), with_lines(2, ("B", "WH1", -1))],
            now=at(0),
        )
    assert store.get_order("order-00001") is None
    assert store.pending_stock() == {}


def test_zero_quantities_are_not_pending(store: StateStore) -> None:
    store.ingest(with_lines(1, ("A", "WH1", 0), ("B", "", 2)), now=at(0))
    assert store.pending_stock() == {("B", ""): 2}


def test_pending_for_many_skus_is_read_in_chunks(store: StateStore) -> None:
    skus = [f"SKU-{n:04d}" for n in range(1200)]
    store.ingest(with_lines(1, *[(s, "WH1", 1) for s in skus]), now=at(0))
    assert len(store.pending_stock(skus[:1100])) == 1100


def test_exceptions_about_different_subjects_are_open_side_by_side(store: StateStore) -> None:
    def record(subject: str | None, at_second: int) -> int:
        return store.record_exception(
            kind="STOCK_DRIFT",
            owner=Owner.OPERATIONS,
            detail={"sku": subject},
            now=at(at_second),
            subject=subject,
        ).exception_id

    a = record("TEE-M@WH1", 0)
    b = record("TEE-M@WH2", 1)
    assert a != b
    assert record("TEE-M@WH1", 2) == a
    none = record(None, 3)
    assert none not in (a, b)
    found = store.list_exceptions(ExceptionFilter(subject="TEE-M@WH1"))
    assert [(r.exception_id, r.subject, r.occurrences) for r in found] == [(a, "TEE-M@WH1", 2)]
    assert store.get_exception(none).subject is None  # type: ignore[union-attr]
    assert store.mark_for_replay(ExceptionFilter(subject="TEE-M@WH2"), now=at(4)) == [b]
