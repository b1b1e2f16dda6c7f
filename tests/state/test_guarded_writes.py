"""The order path's writes agree on every store at their edges: a lease that runs out at the
moment of the write is lost, a submission's lease is extended but never shortened, a refused
write leaves nothing behind, and a page of orders is ingested as one order at a time would be
(the SQL stores write them as a guarded ``UPDATE ... RETURNING`` per batch and a multi-row
``INSERT`` per page)."""

from __future__ import annotations

import attrs
import pytest

from ct_prima_sync.errors import DuplicateRecordError, LeaseLostError, StateError
from ct_prima_sync.state import OrderLine, OrderStatus, StateStore

from .conftest import at, order

S = OrderStatus


def _claimed(store: StateStore, count: int, *, lease_seconds: float = 30) -> list[str]:
    store.ingest_many([order(n) for n in range(1, count + 1)], now=at(0))
    return [r.order_id for r in store.claim("w1", lease_seconds=lease_seconds, limit=9, now=at(0))]


def test_a_lease_that_runs_out_at_the_moment_of_the_write_is_lost(store: StateStore) -> None:
    first, second = _claimed(store, 2)

    assert store.begin_submissions([first, second], worker_id="w1", now=at(30)) == []
    with pytest.raises(LeaseLostError):
        store.begin_submission(first, worker_id="w1", now=at(30))
    with pytest.raises(LeaseLostError):
        store.record_prima_reference(first, worker_id="w1", reference="P1", now=at(30))
    assert store.record_prima_references([(second, "P2")], worker_id="w1", now=at(30)) == []
    assert {store.get_order(i).status for i in (first, second)} == {S.CLAIMED}  # type: ignore[union-attr]


def test_a_submission_extends_the_lease_but_never_shortens_it(store: StateStore) -> None:
    short, long_ = _claimed(store, 2, lease_seconds=100)

    (shortened,) = store.begin_submissions([short], worker_id="w1", now=at(1), lease_seconds=10)
    (extended,) = store.begin_submissions([long_], worker_id="w1", now=at(1), lease_seconds=500)

    assert shortened.lease_expires_at == at(100)
    assert extended.lease_expires_at == at(501)
    assert extended.submission_started_at == at(1)
    assert store.get_order(long_) == extended
    assert store.get_order(short) == shortened


def test_an_unknown_order_refuses_the_whole_batch(store: StateStore) -> None:
    (known,) = _claimed(store, 1)

    with pytest.raises(StateError):
        store.begin_submissions([known, "order-99999"], worker_id="w1", now=at(1))
    assert store.get_order(known).status is S.CLAIMED  # type: ignore[union-attr]


def test_a_reference_another_order_holds_refuses_the_write_and_changes_nothing(
    store: StateStore,
) -> None:
    first, second, third = _claimed(store, 3)
    store.begin_submissions([first, second, third], worker_id="w1", now=at(1))
    store.record_prima_reference(first, worker_id="w1", reference="P1", now=at(2))

    with pytest.raises(DuplicateRecordError, match="P1"):
        store.record_prima_reference(second, worker_id="w1", reference="P1", now=at(3))
    with pytest.raises(DuplicateRecordError):
        store.record_prima_references([(third, "P3"), (second, "P1")], worker_id="w1", now=at(3))
    assert store.get_order(second).status is S.SUBMITTING  # type: ignore[union-attr]
    assert store.get_order(third).status is S.SUBMITTING  # type: ignore[union-attr]
    assert store.get_order(third).prima_reference is None  # type: ignore[union-attr]


def test_a_page_is_ingested_as_its_orders_one_at_a_time_would_be(store: StateStore) -> None:
    line = (OrderLine(sku="A", depot="D1", quantity=2),)
    store.ingest(order(1), now=at(0))
    page = [
        attrs.evolve(order(1, version=2), lines=line),  # in the ledger: a newer version
        order(2),
        attrs.evolve(order(2, version=3), lines=line),  # named again on the page, newer
        order(3, number=None),
    ]

    assert store.ingest_many(page, now=at(5)) == 2

    assert store.get_order("order-00001").ct_version == 2  # type: ignore[union-attr]
    assert store.get_order("order-00002").ct_version == 3  # type: ignore[union-attr]
    assert store.get_order("order-00003").order_number is None  # type: ignore[union-attr]
    assert store.order_lines("order-00001") == list(line)
    assert store.order_lines("order-00002") == list(line)
    assert store.pending_stock() == {("A", "D1"): 4}


def test_an_order_number_another_order_holds_refuses_the_whole_page(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))

    with pytest.raises(DuplicateRecordError, match="N00001"):
        store.ingest_many([order(2), order(3, number="N00001")], now=at(1))
    assert store.get_order("order-00002") is None
    assert store.get_order("order-00003") is None


def test_finishing_write_backs_leaves_an_unknown_order_out(store: StateStore) -> None:
    (known,) = _claimed(store, 1)
    store.begin_submissions([known], worker_id="w1", now=at(1))
    store.record_prima_reference(known, worker_id="w1", reference="P1", now=at(2))

    finished = store.finish_write_backs(["order-99999", known], worker_id="w1", now=at(3))

    assert finished == [known]
    assert store.get_order(known).status is S.DONE  # type: ignore[union-attr]


def test_a_reference_is_recorded_with_the_customers_account_in_one_transaction(
    store: StateStore,
) -> None:
    first, second = _claimed(store, 2)
    store.begin_submissions([first, second], worker_id="w1", now=at(1))

    recorded = store.record_prima_reference(
        first, worker_id="w1", reference="P1", now=at(2), customer=("key-1", "ACC-1")
    )

    assert recorded.status is S.SUBMITTED
    mapping = store.get_customer("key-1")
    assert mapping is not None
    assert (mapping.account_code, mapping.updated_at) == ("ACC-1", at(2))
    with pytest.raises(LeaseLostError):  # refused: neither the reference nor the account
        store.record_prima_reference(
            second, worker_id="w2", reference="P2", now=at(3), customer=("key-2", "ACC-2")
        )
    with pytest.raises(DuplicateRecordError):
        store.record_prima_reference(
            second, worker_id="w1", reference="P1", now=at(3), customer=("key-2", "ACC-2")
        )
    assert store.get_customer("key-2") is None
    assert store.get_order(second).status is S.SUBMITTING  # type: ignore[union-attr]


def test_a_reference_is_recorded_with_the_customers_lock_given_back_in_one_transaction(
    store: StateStore,
) -> None:
    first, second = _claimed(store, 2)
    store.begin_submissions([first, second], worker_id="w1", now=at(1))
    for name, owner in (("customer:a", "attempt-1"), ("customer:b", "attempt-2")):
        assert store.try_lock(name, owner=owner, ttl_seconds=60, now=at(1))

    store.record_prima_reference(
        first,
        worker_id="w1",
        reference="P1",
        now=at(2),
        customer=("key-1", "ACC-1"),
        unlock=("customer:a", "attempt-1"),
    )

    assert store.try_lock("customer:a", owner="someone-else", ttl_seconds=60, now=at(2))
    with pytest.raises(DuplicateRecordError):  # refused: the lock stays with its holder
        store.record_prima_reference(
            second, worker_id="w1", reference="P1", now=at(3), unlock=("customer:b", "attempt-2")
        )
    with pytest.raises(LeaseLostError):
        store.record_prima_reference(
            second, worker_id="w2", reference="P2", now=at(3), unlock=("customer:b", "attempt-2")
        )
    assert not store.try_lock("customer:b", owner="someone-else", ttl_seconds=60, now=at(3))
    store.record_prima_reference(  # another owner's lock is not given back
        second, worker_id="w1", reference="P2", now=at(4), unlock=("customer:b", "not-the-owner")
    )
    assert not store.try_lock("customer:b", owner="someone-else", ttl_seconds=60, now=at(4))
