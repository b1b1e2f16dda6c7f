"""Which commercetools orders enter the ledger, and what the ledger records about them."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from ..commercetools import Order
from ..mapping import DepotMap
from ..state import HeldOrder, HoldReason, NewOrder, OrderLine, OrderTotals, StateStore
from ._config import EligibilityRules

__all__ = [
    "HOLDS",
    "Readiness",
    "cursor_start",
    "held_order",
    "hold_cursor",
    "ineligible_rule",
    "is_eligible",
    "is_future_dated",
    "new_order",
    "order_lines",
    "readiness",
]


class Readiness(enum.Enum):
    """Whether an order goes to Prima now, later, or not at all."""

    DUE = "due"
    NOT_YET_DUE = "not_yet_due"
    """Eligible but too young (``min_age_seconds``), or dated after the engine's clock (clock
    skew): the same order is due later without changing, so it must be looked at again."""
    AWAITING_PAYMENT = "awaiting_payment"
    """Eligible but for its payment state (``payment_states``): a payment changes the order,
    which makes it seen again."""
    INELIGIBLE = "ineligible"
    """Its state or store rules it out; a change to it makes it seen again."""


#: The orders the order flow holds back, and why: sold all the same, so the stock flow counts
#: them as pending (``StateStore.hold_orders``) until they are due or no longer held.
HOLDS: Mapping[Readiness, HoldReason] = {
    Readiness.NOT_YET_DUE: HoldReason.NOT_YET_DUE,
    Readiness.AWAITING_PAYMENT: HoldReason.AWAITING_PAYMENT,
}


def ineligible_rule(order: Order, rules: EligibilityRules) -> str | None:
    """The eligibility rule that keeps the order from Prima for good (``"order_states"`` or
    ``"store_keys"``, as named in the settings), or None (pure). An order waiting for payment
    (``payment_states``) is held instead: see :func:`readiness`."""
    if str(order.order_state) not in rules.order_states:
        return "order_states"
    if rules.store_keys is not None and (
        order.store is None or order.store.key not in rules.store_keys
    ):
        return "store_keys"
    return None


def is_future_dated(order: Order, now: datetime) -> bool:
    """Whether the order was created after ``now`` by the engine's clock: one of the two clocks
    is wrong, and the order waits until the engine's clock passes its creation time."""
    return order.created_at > now


def readiness(order: Order, rules: EligibilityRules, now: datetime) -> Readiness:
    """Whether the order should go to Prima now, later or not at all (pure)."""
    if ineligible_rule(order, rules) is not None:
        return Readiness.INELIGIBLE
    if rules.payment_states is not None and str(order.payment_state) not in rules.payment_states:
        return Readiness.AWAITING_PAYMENT
    if now - order.created_at < timedelta(seconds=max(rules.min_age_seconds, 0.0)):
        return Readiness.NOT_YET_DUE
    return Readiness.DUE


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
    return readiness(order, rules, now) is Readiness.DUE


def hold_cursor(cursor: datetime, waiting: Iterable[datetime]) -> datetime:
    """The poll cursor to store: ``cursor``, held back to the earliest of ``waiting`` (the
    modification times of orders not yet due), so the next polls read those orders again."""
    return min([cursor, *waiting])


def order_lines(order: Order, depots: DepotMap) -> tuple[OrderLine, ...]:
    """The order's product lines per commercetools SKU and Prima depot, as the order mapping
    would pick the depot (``""`` when it cannot: the order mapping reports UNKNOWN_DEPOT then).

    Lines without a SKU are left out (they hold no stock); custom lines hold no stock either.
    """
    store_key = order.store.key if order.store is not None else None
    lines = []
    for item in order.line_items:
        if not item.sku or item.quantity <= 0:
            continue
        depot = depots.depot_for(
            supply_channel=item.supply_channel,
            distribution_channel=item.distribution_channel,
            store_key=store_key,
        )
        lines.append(OrderLine(sku=item.sku, depot=depot or "", quantity=item.quantity))
    return tuple(lines)


def new_order(order: Order, depots: DepotMap | None = None, *, prefix: str = "") -> NewOrder:
    """The ledger's first record of an order: ids, version, commercetools' totals and, with the
    mapping's ``depots``, the lines the stock flow counts as pending until Prima has the order.
    The ledger keeps the order number Prima gets: ``prefix`` (the mapping's
    ``order_number_prefix``) and commercetools' number."""
    gross = order.total_price
    if order.taxed_price is not None:
        net = order.taxed_price.total_net.minor_units
        gross_units = order.taxed_price.total_gross.minor_units
    else:
        net = gross_units = gross.minor_units
    return NewOrder(
        order_id=order.id,
        order_number=f"{prefix}{order.order_number}" if order.order_number else None,
        ct_version=order.version,
        totals=OrderTotals(
            currency=gross.currency,
            fraction_digits=gross.fraction_digits,
            net=net,
            tax=gross_units - net,
            gross=gross_units,
        ),
        lines=order_lines(order, depots) if depots is not None else (),
    )


def held_order(order: Order, reason: HoldReason, depots: DepotMap) -> HeldOrder:
    """What the store keeps of an order held back: ids, version, why, and its lines as the
    ledger would count them (:func:`order_lines`)."""
    return HeldOrder(
        order_id=order.id,
        order_number=order.order_number,
        ct_version=order.version,
        reason=reason,
        lines=order_lines(order, depots),
    )
