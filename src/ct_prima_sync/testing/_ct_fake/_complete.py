"""What every Order has and a raw, imported or cart-made one may leave out."""

from __future__ import annotations

from typing import Any

from ct_prima_sync.money import default_fraction_digits

from ._store import Store

__all__ = ["complete_order", "typed_money"]

Resource = dict[str, Any]


def typed_money(money: Any) -> Any:
    """A money value with its ``type`` and ``fractionDigits`` filled in."""
    if isinstance(money, dict) and "centAmount" in money and "type" not in money:
        digits = default_fraction_digits(str(money.get("currencyCode", "")))
        return {"type": "centPrecision", "fractionDigits": digits, **money}
    return money


def complete_order(store: Store, order: dict[str, Any]) -> Resource:
    """Fill in what every Order has and a raw or imported one may leave out (a copy).

    Line items without an id get one; ``totalPrice`` without a ``type`` becomes centPrecision
    with the currency's fraction digits; state, origin and shipping mode default as the API's.
    """
    order = dict(order)
    if "totalPrice" in order:
        order["totalPrice"] = typed_money(order["totalPrice"])
    for kind in ("lineItems", "customLineItems"):
        order[kind] = [{"id": store.new_id(), **line} for line in order.get(kind) or []]
    order.setdefault("orderState", "Open")
    order.setdefault("origin", "Customer")
    order.setdefault("shippingMode", "Single")
    order.setdefault("syncInfo", [])
    order.setdefault("lastMessageSequenceNumber", 0)
    return order
