"""What of a commercetools order can ship, what already shipped, and delivery keys (pure).

- A line item ships; a custom line item ships when the mapping makes it a product
  (``[custom_lines]`` with ``product``), never when it is a charge.
- Each shippable line carries the Prima SKU it maps to (how despatch lines are matched to it) and
  its shipping targets: in ``shippingMode: Multiple`` the quantities per ``shippingKey`` from the
  line's ``shippingDetails`` (any quantity the targets leave out goes to the first shipping);
  in single shipping one target without a key.
- What shipped is what commercetools' own deliveries hold (``shippingInfo.deliveries``, or each
  ``shipping[].shippingInfo.deliveries``), per shipping and line.
- A delivery key is ``<order number>-<despatch reference>[-<shipping key>]`` in the characters
  commercetools keys allow (``A-Z a-z 0-9 _ -``); when the parts needed other characters, or the
  key would exceed 256 characters, a hash of the exact parts keeps it unique and stable.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Final

from attrs import frozen

from ..commercetools._models.order import Order
from ..commercetools._models.shipping import Delivery
from ..prima._models import SkuCode
from ._config import MappingConfig

__all__ = [
    "ShippableLine",
    "delivered_quantities",
    "deliveries_by_key",
    "delivery_key",
    "shippable_lines",
]

_KEY_CHARS: Final = re.compile(r"[^A-Za-z0-9_-]")
_MAX_KEY: Final = 256


@frozen(kw_only=True)
class ShippableLine:
    """A (custom) line item that can ship: ``targets`` are ``(shipping key, quantity)`` pairs
    (the key is None for single shipping) adding up to ``ordered``."""

    line_id: str
    sku: str
    ordered: int
    custom: bool
    targets: tuple[tuple[str | None, int], ...]
    prima_sku: SkuCode | None = None


def _targets(
    order: Order, quantity: int, details: object | None
) -> tuple[tuple[str | None, int], ...]:
    keys = [s.shipping_key for s in order.shipping]
    if str(order.shipping_mode) != "Multiple" or not keys:
        return ((None, quantity),)
    found: Counter[str] = Counter()
    for target in getattr(details, "targets", ()) or ():
        key = target.shipping_method_key or keys[0]
        found[key] += max(target.quantity, 0)
    rest = quantity - sum(found.values())
    if rest > 0:
        found[keys[0]] += rest
    ordered = sorted(found, key=lambda k: (keys.index(k) if k in keys else len(keys), k))
    return tuple((key, found[key]) for key in ordered if found[key] > 0)


def shippable_lines(order: Order, mapping: MappingConfig) -> tuple[ShippableLine, ...]:
    """The order's lines that can ship, in the order's own order (line items, then custom)."""
    lines = []
    for line in order.line_items:
        attributes = {a.name: a.value for a in line.variant.attributes or ()}
        sku = mapping.sku.to_prima(line.sku, attributes)
        lines.append(
            ShippableLine(
                line_id=line.id,
                sku=str(sku) if sku is not None else "",
                ordered=line.quantity,
                custom=False,
                targets=_targets(order, line.quantity, line.shipping_details),
                prima_sku=sku,
            )
        )
    for custom in order.custom_line_items:
        target = mapping.custom_lines.get(custom.slug)
        if target is None and custom.key is not None:
            target = mapping.custom_lines.get(custom.key)
        if target is None or target.product is None:
            continue
        lines.append(
            ShippableLine(
                line_id=custom.id,
                sku=str(target.product),
                ordered=custom.quantity,
                custom=True,
                targets=_targets(order, custom.quantity, custom.shipping_details),
                prima_sku=target.product,
            )
        )
    return tuple(lines)


def _deliveries(order: Order) -> list[tuple[str | None, Delivery]]:
    found: list[tuple[str | None, Delivery]] = []
    if order.shipping_info is not None:
        found += [(None, d) for d in order.shipping_info.deliveries or ()]
    for shipping in order.shipping:
        found += [(shipping.shipping_key, d) for d in shipping.shipping_info.deliveries or ()]
    return found


def delivered_quantities(order: Order) -> Counter[tuple[str | None, str]]:
    """Quantities in commercetools' deliveries, by (shipping key, line id)."""
    counts: Counter[tuple[str | None, str]] = Counter()
    for key, delivery in _deliveries(order):
        for item in delivery.items:
            counts[(key, item.id)] += item.quantity
    return counts


def deliveries_by_key(order: Order) -> dict[str, tuple[str | None, Delivery]]:
    """The order's deliveries that have a key, with the shipping key they belong to."""
    return {d.key: (key, d) for key, d in _deliveries(order) if d.key}


def delivery_key(order_number: str, reference: str, shipping_key: str | None = None) -> str:
    """The deterministic ``deliveryKey`` for one Prima despatch (and one shipping of it)."""
    parts = [order_number, reference] + ([shipping_key] if shipping_key is not None else [])
    clean = [_KEY_CHARS.sub("_", part) for part in parts]
    key = "-".join(clean)
    if clean == parts and 2 <= len(key) <= _MAX_KEY:
        return key
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]
    return f"{key[: _MAX_KEY - 13]}-{digest}"
