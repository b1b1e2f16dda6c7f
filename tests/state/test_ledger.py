"""The order ledger behaves the same in every store: claims, leases, transitions, duplicates."""

from __future__ import annotations

from datetime import datetime

import pytest

from ct_prima_sync.errors import (
    DuplicateRecordError,
    InvalidTransitionError,
    LeaseLostError,
    StateError,
)
from ct_prima_sync.state import ExceptionFilter, OrderStatus, Owner, StateStore

from .conftest import at, order

S = OrderStatus


def drive_to_submitting(store: StateStore, order_id: str, worker: str, now: datetime) -> None:
    store.transition(order_id, worker_id=worker, to=S.MAPPED, now=now)
    store.transition(order_id, worker_id=worker, to=S.CUSTOMER_RESOLVED, now=now)
    store.begin_submission(order_id, worker_id=worker, now=now)


def test_ingesting_an_order_twice_keeps_one_row_and_the_newest_version(store: StateStore) -> None:
    assert store.ingest(order(1, version=3), now=at(0)) is True
    assert store.ingest(order(1, version=2), now=at(1)) is False
    assert store.ingest(order(1, version=5), now=at(2)) is False
    record = store.get_order("order-00001")
    assert record is not None
    assert record.status is S.NEW
    assert record.ct_version == 5
    assert record.created_at == at(0)
    assert record.totals.gross == 1191
    assert store.count_orders_by_status()[S.NEW] == 1


def test_an_order_number_belongs_to_one_order_only(store: StateStore) -> None:
    store.ingest(order(1, number="N-1"), now=at(0))
    with pytest.raises(DuplicateRecordError, match="order number N-1 already belongs"):
        store.ingest(order(2, number="N-1"), now=at(0))
    assert store.get_order("order-00002") is None


def test_a_page_of_orders_is_ingested_together_or_not_at_all(store: StateStore) -> None:
    assert store.ingest_many([order(n) for n in range(50)] + [order(3)], now=at(0)) == 50
    with pytest.raises(DuplicateRecordError):
        store.ingest_many([order(50), order(51, number="N00001")], now=at(1))
    assert store.get_order("order-00050") is None
    assert store.count_orders_by_status()[S.NEW] == 50


def test_orders_without_an_order_number_do_not_collide(store: StateStore) -> None:
    assert store.ingest(order(1, number=None), now=at(0))
    assert store.ingest(order(2, number=None), now=at(0))


def test_claim_leases_the_oldest_orders_and_counts_an_attempt(store: StateStore) -> None:
    for n in (3, 1, 2):
        store.ingest(order(n), now=at(n))
    claimed = store.claim("w1", lease_seconds=60, limit=2, now=at(10))
    assert [r.order_id for r in claimed] == ["order-00001", "order-00002"]
    assert all(r.status is S.CLAIMED and r.attempts == 1 for r in claimed)
    assert all(r.lease_owner == "w1" and r.lease_expires_at == at(70) for r in claimed)
    assert [r.order_id for r in store.claim("w2", lease_seconds=60, limit=5, now=at(11))] == [
        "order-00003"
    ]
    assert store.claim("w3", lease_seconds=60, limit=5, now=at(12)) == []


def test_claiming_one_order_leases_it_only_while_it_is_claimable(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.ingest(order(2), now=at(0))
    claimed = store.claim_order("order-00002", "w1", lease_seconds=60, now=at(1))
    assert claimed is not None
    assert (claimed.status, claimed.attempts, claimed.lease_owner) == (S.CLAIMED, 1, "w1")
    assert store.get_order("order-00002") == claimed
    assert store.claim_order("order-00002", "w2", lease_seconds=60, now=at(2)) is None
    assert store.claim_order("order-09999", "w2", lease_seconds=60, now=at(2)) is None
    assert store.get_order("order-00001").status is S.NEW  # type: ignore[union-attr]
    again = store.claim_order("order-00002", "w2", lease_seconds=60, now=at(61))
    assert again is not None
    assert (again.lease_owner, again.attempts) == ("w2", 2)


def test_an_order_goes_from_new_to_done_through_every_step(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    (claimed,) = store.claim("w1", lease_seconds=60, limit=1, now=at(1))
    drive_to_submitting(store, claimed.order_id, "w1", at(2))
    submitting = store.get_order(claimed.order_id)
    assert submitting is not None
    assert submitting.status is S.SUBMITTING
    assert submitting.ambiguous
    submitted = store.record_prima_reference(
        claimed.order_id, worker_id="w1", reference="SO-1", now=at(3)
    )
    assert submitted.status is S.SUBMITTED
    assert not submitted.ambiguous
    done = store.transition(claimed.order_id, worker_id="w1", to=S.DONE, now=at(4))
    assert done.status is S.DONE
    assert done.lease_owner is None
    assert store.get_order(claimed.order_id) == done
    assert store.count_orders_by_status()[S.DONE] == 1
    assert store.claim("w2", lease_seconds=60, limit=1, now=at(1000)) == []


def test_an_expired_lease_is_claimed_by_another_worker_and_the_old_worker_is_refused(
    store: StateStore,
) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=30, limit=1, now=at(0))
    store.transition("order-00001", worker_id="w1", to=S.MAPPED, now=at(10))
    assert store.claim("w2", lease_seconds=30, limit=1, now=at(29)) == []
    (taken,) = store.claim("w2", lease_seconds=30, limit=1, now=at(30))
    assert taken.lease_owner == "w2"
    assert taken.status is S.CLAIMED
    assert taken.attempts == 2
    with pytest.raises(LeaseLostError):
        store.transition("order-00001", worker_id="w1", to=S.CUSTOMER_RESOLVED, now=at(31))
    with pytest.raises(LeaseLostError):
        store.record_prima_reference("order-00001", worker_id="w1", reference="X", now=at(31))
    with pytest.raises(LeaseLostError):
        store.renew_lease("order-00001", worker_id="w1", lease_seconds=30, now=at(31))
    record = store.get_order("order-00001")
    assert record is not None
    assert record.lease_owner == "w2"
    assert record.prima_reference is None


def test_a_worker_cannot_write_after_its_own_lease_expired(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=30, limit=1, now=at(0))
    with pytest.raises(LeaseLostError):
        store.transition("order-00001", worker_id="w1", to=S.MAPPED, now=at(30))


def test_a_crash_after_submission_start_comes_back_as_ambiguous(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=30, limit=1, now=at(0))
    drive_to_submitting(store, "order-00001", "w1", at(1))
    # w1 crashes here; its lease runs out.
    (again,) = store.claim("w2", lease_seconds=30, limit=1, now=at(31))
    assert again.ambiguous
    assert again.submission_started_at == at(1)
    # w2 asked Prima and found the order there: record it without sending again.
    found = store.record_prima_reference(
        "order-00001", worker_id="w2", reference="SO-9", now=at(32)
    )
    assert found.status is S.SUBMITTED
    assert found.prima_reference == "SO-9"


def test_illegal_transitions_are_refused(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=60, limit=1, now=at(0))
    with pytest.raises(InvalidTransitionError):
        store.transition("order-00001", worker_id="w1", to=S.SUBMITTED, now=at(1))
    with pytest.raises(InvalidTransitionError):
        store.transition("order-00001", worker_id="w1", to=S.CUSTOMER_RESOLVED, now=at(1))
    with pytest.raises(InvalidTransitionError, match="Prima reference"):
        store.transition("order-00001", worker_id="w1", to=S.DONE, now=at(1))
    with pytest.raises(InvalidTransitionError):
        store.requeue_order("order-00001", now=at(1))
    record = store.get_order("order-00001")
    assert record is not None
    assert record.status is S.CLAIMED


def test_a_submission_may_start_straight_from_claimed_but_never_twice(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=60, limit=1, now=at(0))
    started = store.begin_submission("order-00001", worker_id="w1", now=at(1))
    assert started.status is S.SUBMITTING
    assert started.submission_started_at == at(1)
    with pytest.raises(InvalidTransitionError):
        store.begin_submission("order-00001", worker_id="w1", now=at(2))


def test_a_submission_begins_with_its_lease_extended_never_shortened(store: StateStore) -> None:
    store.ingest_many([order(1), order(2)], now=at(0))
    store.claim("w1", lease_seconds=30, limit=2, now=at(0))
    started = store.begin_submission("order-00001", worker_id="w1", now=at(20), lease_seconds=200)
    assert started.lease_expires_at == at(220)
    # The worker that just began the submission keeps the order while it may be in flight.
    assert store.claim("w2", lease_seconds=30, limit=5, now=at(100)) == [
        store.get_order("order-00002")
    ]
    kept = store.begin_submission("order-00002", worker_id="w2", now=at(101), lease_seconds=5)
    assert kept.lease_expires_at == at(130)
    with pytest.raises(LeaseLostError):  # an expired lease is not revived
        store.begin_submission("order-00001", worker_id="w1", now=at(221), lease_seconds=200)


def test_recording_the_prima_reference_resolves_the_orders_open_exceptions_at_once(
    store: StateStore,
) -> None:
    store.ingest_many([order(1), order(2)], now=at(0))
    store.claim("w1", lease_seconds=60, limit=2, now=at(0))
    for order_id in ("order-00001", "order-00002"):
        store.record_exception(
            kind="PRIMA_AMBIGUOUS",
            owner=Owner.OPERATIONS,
            detail={},
            now=at(1),
            order_id=order_id,
            transient=True,
        )
    store.begin_submission("order-00001", worker_id="w1", now=at(2))
    store.record_prima_reference("order-00001", worker_id="w1", reference="SO-1", now=at(3))

    (still_open,) = store.list_exceptions()
    assert still_open.order_id == "order-00002"
    (closed,) = store.list_exceptions(ExceptionFilter(open_only=False, order_id="order-00001"))
    assert closed.resolved_at == at(3)
    assert closed.resolution_note is not None
    assert "in Prima (SO-1)" in closed.resolution_note


def test_a_failed_order_waits_for_its_retry_time(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=60, limit=1, now=at(0))
    with pytest.raises(InvalidTransitionError, match="retry_at"):
        store.transition("order-00001", worker_id="w1", to=S.FAILED, now=at(1))
    failed = store.transition(
        "order-00001", worker_id="w1", to=S.FAILED, now=at(1), error="Prima 503", retry_at=at(100)
    )
    assert failed.lease_owner is None
    assert failed.last_error == "Prima 503"
    assert store.claim("w2", lease_seconds=60, limit=1, now=at(99)) == []
    (retried,) = store.claim("w2", lease_seconds=60, limit=1, now=at(100))
    assert retried.attempts == 2
    assert retried.next_attempt_at is None


def test_an_excepted_order_waits_until_it_is_requeued(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=60, limit=1, now=at(0))
    store.transition("order-00001", worker_id="w1", to=S.EXCEPTED, now=at(1), error="x" * 5000)
    record = store.get_order("order-00001")
    assert record is not None
    assert record.last_error is not None
    assert len(record.last_error) == 1000
    assert store.claim("w1", lease_seconds=60, limit=1, now=at(10_000)) == []
    assert store.requeue_order("order-00001", now=at(2)).status is S.NEW
    assert len(store.claim("w1", lease_seconds=60, limit=1, now=at(3))) == 1


def test_a_released_lease_makes_the_order_claimable_at_once(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=60, limit=1, now=at(0))
    store.transition("order-00001", worker_id="w1", to=S.MAPPED, now=at(1))
    released = store.release_lease("order-00001", worker_id="w1", now=at(2))
    assert released.lease_owner is None
    assert released.status is S.MAPPED
    (again,) = store.claim("w2", lease_seconds=60, limit=1, now=at(3))
    assert again.lease_owner == "w2"


def test_renewing_a_lease_keeps_other_workers_away(store: StateStore) -> None:
    store.ingest(order(1), now=at(0))
    store.claim("w1", lease_seconds=30, limit=1, now=at(0))
    renewed = store.renew_lease("order-00001", worker_id="w1", lease_seconds=30, now=at(20))
    assert renewed.lease_expires_at == at(50)
    assert store.claim("w2", lease_seconds=30, limit=1, now=at(40)) == []


def test_a_prima_reference_is_recorded_for_one_order_only(store: StateStore) -> None:
    for n in (1, 2):
        store.ingest(order(n), now=at(0))
    store.claim("w1", lease_seconds=60, limit=2, now=at(0))
    store.record_prima_reference("order-00001", worker_id="w1", reference="SO-1", now=at(1))
    with pytest.raises(DuplicateRecordError):
        store.record_prima_reference("order-00002", worker_id="w1", reference="SO-1", now=at(1))
    record = store.get_order("order-00002")
    assert record is not None
    assert record.status is S.CLAIMED


def test_unknown_orders_are_reported(store: StateStore) -> None:
    assert store.get_order("nope") is None
    with pytest.raises(StateError, match="unknown order"):
        store.transition("nope", worker_id="w1", to=S.MAPPED, now=at(0))


def test_naive_times_are_refused(store: StateStore) -> None:
    with pytest.raises(StateError, match="timezone-aware"):
        store.ingest(order(1), now=datetime(2026, 1, 1))  # noqa: DTZ001


def test_bad_limits_and_durations_are_refused(store: StateStore) -> None:
    with pytest.raises(StateError):
        store.claim("w1", lease_seconds=60, limit=0, now=at(0))
    with pytest.raises(StateError):
        store.claim("w1", lease_seconds=0, limit=1, now=at(0))


def test_counts_cover_every_status(store: StateStore) -> None:
    assert store.count_orders_by_status() == dict.fromkeys(OrderStatus, 0)


def test_a_closed_store_refuses_work_and_closes_twice_quietly(store: StateStore) -> None:
    store.close()
    store.close()
    with pytest.raises(StateError, match="closed"):
        store.get_order("order-00001")
