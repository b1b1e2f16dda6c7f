"""A batched request's submissions begin, and its Prima references are recorded, in one
transaction each: per order exactly as one at a time, an order whose lease was lost left out."""

from __future__ import annotations

import attrs
import pytest

from ct_prima_sync.errors import DuplicateRecordError, InvalidTransitionError, StateError
from ct_prima_sync.state import (
    ExceptionFilter,
    NewOrder,
    OrderLine,
    OrderStatus,
    Owner,
    StateStore,
)

from .conftest import at, order

S = OrderStatus
IDS = ["order-00001", "order-00002", "order-00003"]


def _with_line(new: NewOrder) -> NewOrder:
    return attrs.evolve(new, lines=(OrderLine(sku="A", depot="D1", quantity=1),))


def _claimed_by_two_workers(store: StateStore) -> None:
    """Orders 1 and 2 with w1 (whose lease on 2 then runs out and w2 takes it), 3 with w1."""
    store.ingest_many([_with_line(order(1)), _with_line(order(2)), order(3)], now=at(0))
    store.claim("w1", lease_seconds=30, limit=3, now=at(0))
    store.renew_lease("order-00001", worker_id="w1", lease_seconds=100, now=at(10))
    store.renew_lease("order-00003", worker_id="w1", lease_seconds=100, now=at(10))
    assert store.claim_order("order-00002", "w2", lease_seconds=60, now=at(31)) is not None


def test_every_member_begins_in_one_call_and_a_member_whose_lease_was_lost_is_left_out(
    store: StateStore,
) -> None:
    _claimed_by_two_workers(store)

    begun = store.begin_submissions(IDS, worker_id="w1", now=at(40), lease_seconds=200)

    assert [r.order_id for r in begun] == ["order-00001", "order-00003"]
    for record in begun:
        assert record.status is S.SUBMITTING
        assert record.submission_started_at == at(40)
        assert record.lease_expires_at == at(240)
    other = store.get_order("order-00002")
    assert other is not None
    assert (other.status, other.lease_owner, other.submission_started_at) == (S.CLAIMED, "w2", None)


def test_a_member_no_submission_may_start_from_refuses_the_whole_call(store: StateStore) -> None:
    store.ingest_many([order(1), order(2)], now=at(0))
    store.claim("w1", lease_seconds=60, limit=2, now=at(0))
    store.begin_submission("order-00002", worker_id="w1", now=at(1))

    with pytest.raises(InvalidTransitionError):
        store.begin_submissions(["order-00001", "order-00002"], worker_id="w1", now=at(2))

    first = store.get_order("order-00001")
    assert first is not None
    assert first.status is S.CLAIMED, "nothing of a refused call is kept"


def test_a_submission_begins_again_only_when_asked_and_moves_its_start(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=60, limit=1, now=at(0))
    store.begin_submissions(["order-00001"], worker_id="w1", now=at(1))

    (again,) = store.begin_submissions(
        ["order-00001"], worker_id="w1", now=at(5), lease_seconds=100, again=True
    )

    assert again.status is S.SUBMITTING
    assert again.submission_started_at == at(5)
    assert again.lease_expires_at == at(105)


def test_the_references_of_a_batch_are_recorded_together_closing_each_orders_exceptions(
    store: StateStore,
) -> None:
    _claimed_by_two_workers(store)
    store.begin_submissions(IDS, worker_id="w1", now=at(40))
    store.record_exception(
        kind="PRIMA_AMBIGUOUS",
        owner=Owner.OPERATIONS,
        detail={},
        now=at(40),
        order_id="order-00003",
        transient=True,
    )

    recorded = store.record_prima_references(
        [("order-00003", "SO-3"), ("order-00002", "SO-2"), ("order-00001", "SO-1")],
        worker_id="w1",
        now=at(41),
    )

    assert [(r.order_id, r.prima_reference) for r in recorded] == [
        ("order-00003", "SO-3"),
        ("order-00001", "SO-1"),
    ]
    assert all(r.status is S.SUBMITTED for r in recorded)
    assert store.list_exceptions(ExceptionFilter(order_id="order-00003")) == []
    assert store.order_lines("order-00001") == []
    assert store.order_lines("order-00002") != [], "w2's order is still pending"


@pytest.mark.parametrize(
    ("pairs", "error"),
    [
        ([("order-00001", "SO-1"), ("order-00002", "SO-1")], DuplicateRecordError),
        ([("order-00001", "SO-1"), ("order-00002", "SO-9")], DuplicateRecordError),
        ([("order-00001", "SO-1"), ("order-00001", "SO-2")], StateError),
        ([("order-00001", "SO-1"), ("order-00002", "")], InvalidTransitionError),
    ],
    ids=["twice-in-the-batch", "held-by-another-order", "order-twice", "empty-reference"],
)
def test_a_bad_member_refuses_the_whole_batch_of_references(
    store: StateStore, pairs: list[tuple[str, str]], error: type[Exception]
) -> None:
    store.ingest_many([order(1), order(2), order(9)], now=at(0))
    store.claim("w1", lease_seconds=60, limit=3, now=at(0))
    store.begin_submissions(
        ["order-00001", "order-00002", "order-00009"], worker_id="w1", now=at(1)
    )
    store.record_prima_reference("order-00009", worker_id="w1", reference="SO-9", now=at(1))

    with pytest.raises(error):
        store.record_prima_references(pairs, worker_id="w1", now=at(2))

    first = store.get_order("order-00001")
    assert first is not None
    assert (first.status, first.prima_reference) == (S.SUBMITTING, None)


def test_a_reference_another_order_holds_outranks_a_member_already_recorded(
    store: StateStore,
) -> None:
    """Every store gives the same answer when a batch has both faults: an order that may not
    be recorded again, and a reference that order already holds given to its batch-mate."""
    store.ingest_many([order(1), order(2)], now=at(0))
    store.claim("w1", lease_seconds=60, limit=2, now=at(0))
    store.begin_submissions(["order-00001", "order-00002"], worker_id="w1", now=at(1))
    store.record_prima_reference("order-00001", worker_id="w1", reference="SO-1", now=at(1))

    with pytest.raises(DuplicateRecordError, match="already recorded"):
        store.record_prima_references(
            [("order-00001", "SO-5"), ("order-00002", "SO-1")], worker_id="w1", now=at(2)
        )

    second = store.get_order("order-00002")
    assert second is not None
    assert (second.status, second.prima_reference) == (S.SUBMITTING, None)
