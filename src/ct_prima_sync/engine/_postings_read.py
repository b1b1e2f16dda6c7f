"""Read many orders and their payments from commercetools in a few queries (ids in chunks), as
the postings and reconciliation read them: not one request per order and per payment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..commercetools import CommercetoolsClient, Order
from ..commercetools._models.payment import Payment

__all__ = ["changed_since", "payments_of", "read_orders"]

_CHUNK = 50


def read_orders(ct: CommercetoolsClient, order_ids: Sequence[str]) -> dict[str, Order]:
    """The orders with these ids that commercetools still has, by id."""
    ids = list(dict.fromkeys(order_ids))
    found: dict[str, Order] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for order in ct.orders.query("id in :ids", variables={"ids": chunk}):
            found[order.id] = order
    return found


def payments_of(ct: CommercetoolsClient, orders: Sequence[Order]) -> dict[str, tuple[Payment, ...]]:
    """Each order's payments (``paymentInfo.payments``, in the order's order; a deleted payment
    is left out), by order id."""
    wanted = {
        order.id: [r.id for r in order.payment_info.payments if r.id is not None]
        for order in orders
        if order.payment_info is not None
    }
    fetched = {
        p.id: p for p in ct.payments.get_many([pid for ids in wanted.values() for pid in ids])
    }
    return {
        order.id: tuple(fetched[pid] for pid in wanted.get(order.id, ()) if pid in fetched)
        for order in orders
    }


def changed_since(ct: CommercetoolsClient, since: datetime) -> set[str]:
    """Ids of the orders modified at or after ``since``, or holding a payment that was (a refund
    added to a payment changes the payment, not always the order)."""
    when = {"ctpsSince": since}
    changed = {o.id for o in ct.orders.query("lastModifiedAt >= :ctpsSince", variables=when)}
    paid = [p.id for p in ct.payments.query("lastModifiedAt >= :ctpsSince", variables=when)]
    for start in range(0, len(paid), _CHUNK):
        chunk = paid[start : start + _CHUNK]
        changed |= {
            o.id
            for o in ct.orders.query("paymentInfo(payments(id in :ids))", variables={"ids": chunk})
        }
    return changed
