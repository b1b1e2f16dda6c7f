"""The sweep of finished orders closes what the order flow left open, and nothing of other flows."""

from __future__ import annotations

from datetime import UTC, datetime

from ct_prima_sync.engine._queue import resolve_finished_exceptions
from ct_prima_sync.state import NewOrder, OrderStatus, OrderTotals, Owner, StateStore

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _done_order(store: StateStore) -> str:
    totals = OrderTotals(currency="EUR", fraction_digits=2, net=1000, tax=190, gross=1190)
    store.ingest(
        NewOrder(order_id="o-1", order_number="WEB-1", ct_version=1, totals=totals), now=T0
    )
    (claimed,) = store.claim("w", lease_seconds=60, limit=1, now=T0)
    store.begin_submission(claimed.order_id, worker_id="w", now=T0, lease_seconds=60)
    store.record_prima_reference(claimed.order_id, worker_id="w", reference="WEB-1", now=T0)
    store.transition(claimed.order_id, worker_id="w", to=OrderStatus.DONE, now=T0)
    return claimed.order_id


def test_an_order_flow_exception_on_a_done_order_is_closed_and_a_dispatch_one_stays_open(
    store: StateStore,
) -> None:
    order_id = _done_order(store)
    left_open = store.record_exception(
        kind="PRIMA_AMBIGUOUS",
        owner=Owner.OPERATIONS,
        detail={"order_number": "WEB-1"},
        now=T0,
        order_id=order_id,
    )
    refund = store.record_exception(
        kind="REFUND_DUE",
        owner=Owner.FINANCE,
        detail={"order_number": "WEB-1", "flow": "dispatch"},
        now=T0,
        order_id=order_id,
    )

    assert resolve_finished_exceptions(store, now=T0) == 1

    closed = store.get_exception(left_open.exception_id)
    still_open = store.get_exception(refund.exception_id)
    assert closed is not None
    assert not closed.is_open
    assert still_open is not None
    assert still_open.is_open
