"""Which commercetools orders enter the ledger, and what the ledger records about them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..commercetools import Order
from ..state import NewOrder, OrderTotals, StateStore
from ._config import EligibilityRules

__all__ = ["cursor_start", "is_eligible", "new_order", "order_id_from_message"]


def cursor_start(
    store: StateStore, name: str, *, initial: datetime | None, now: datetime
) -> datetime:
    """Where a poll by ``lastModifiedAt`` (or message time) starts: the stored cursor, else
    ``initial``, else a day before ``now``."""
    stored = store.get_cursor(name)
    if stored is not None:
        return datetime.fromisoformat(stored.value)
    return initial or now - timedelta(days=1)


def is_eligible(order: Order, rules: EligibilityRules, now: datetime) -> bool:
    """Whether the order should go to Prima now (pure)."""
    if str(order.order_state) not in rules.order_states:
        return False
    if rules.payment_states is not None and str(order.payment_state) not in rules.payment_states:
        return False
    if rules.store_keys is not None and (
        order.store is None or order.store.key not in rules.store_keys
    ):
        return False
    return now - order.created_at >= timedelta(seconds=rules.min_age_seconds)


def new_order(order: Order) -> NewOrder:
    """The ledger's first record of an order: ids, version and commercetools' totals."""
    gross = order.total_price
    if order.taxed_price is not None:
        net = order.taxed_price.total_net.minor_units
        gross_units = order.taxed_price.total_gross.minor_units
    else:
        net = gross_units = gross.minor_units
    return NewOrder(
        order_id=order.id,
        order_number=order.order_number,
        ct_version=order.version,
        totals=OrderTotals(
            currency=gross.currency,
            fraction_digits=gross.fraction_digits,
            net=net,
            tax=gross_units - net,
            gross=gross_units,
        ),
    )


def order_id_from_message(payload: Mapping[str, Any]) -> str | None:
    """The order id a subscription payload is about, or None when it is not about an order.

    Accepts message payloads (``notificationType: Message``, e.g. ``OrderCreated``) and change
    notifications (``ResourceCreated`` / ``ResourceUpdated``).
    """
    resource = payload.get("resource")
    if not isinstance(resource, Mapping) or resource.get("typeId") != "order":
        return None
    order_id = resource.get("id")
    return order_id if isinstance(order_id, str) and order_id else None
