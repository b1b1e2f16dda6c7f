"""Discounts Prima can report on: the promotion on every line a discount touched, and (with
``prices.order_discounts = "discount_lines"``) order-level and shipping discounts as their own
negative lines, one per tax code and rate.

Rules (docs/mapping.md, "Discounts in Prima"):

1. A line's ``Promotion`` lists, comma-separated and in order, the key (else the id) of every
   discount that touched it: its own ``discountedPricePerQuantity`` discounts, and the discount on
   the total price when the line took a share of it. A discount code the order carries, expanded
   (``expand=discountCodes[*].discountCode``) and matching the cart, is added after the cart
   discounts it triggers.
2. ``discount_lines`` for order-level discounts: the items keep their figures before the discount
   on the total, and each (tax code, rate) gets one line of ``discount_sku``, quantity 1, whose
   net, tax and gross are minus what the discount took off that rate's items (the same exact
   per-rate split the spread uses). A shipping discount likewise: the shipping charge is posted
   at its price before the discount (its tax rounded once at its rate, as the order rounds), and
   the difference is a negative line per (tax code, rate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from ..commercetools._models.order import Order
from ..money import round_fraction
from ..prima import SalesOrderLine
from ._config import MappingConfig
from ._context import Item, OrderContext
from ._discounts import Cut

__all__ = [
    "discount_code_names",
    "numbered",
    "order_promotion",
    "separate_discounts",
    "with_promotion",
]


def discount_code_names(order: Order) -> dict[str, str]:
    """Cart discount id to the text of the (expanded, applied) discount code that triggers it."""
    found: dict[str, str] = {}
    for info in order.discount_codes or ():
        if info.state not in (None, "MatchesCart"):
            continue
        obj: Any = info.discount_code.extra.get("obj")
        if not isinstance(obj, Mapping) or not isinstance(obj.get("code"), str):
            continue
        for reference in obj.get("cartDiscounts") or ():
            if isinstance(reference, Mapping) and isinstance(reference.get("id"), str):
                found.setdefault(reference["id"], obj["code"])
    return found


def _join(*parts: str) -> str:
    seen: list[str] = []
    for part in parts:
        for name in part.split(","):
            if name and name not in seen:
                seen.append(name)
    return ",".join(seen)


def order_promotion(order: Order, codes: Mapping[str, str]) -> str:
    """The promotion text of the discount on the total price (empty without one)."""
    discount = order.discount_on_total_price
    if discount is None:
        return ""
    names = []
    for portion in discount.included_discounts:
        ref = portion.discount
        names.append(ref.key or ref.id or "")
        if ref.id is not None and ref.id in codes:
            names.append(codes[ref.id])
    return _join(*names)


def with_promotion(
    items: Sequence[Item], cuts: Sequence[Cut], order_text: str, codes: Mapping[str, str]
) -> list[Item]:
    """The items with the order discount and the codes added to the promotion of every item the
    discount touched (the line-level ids are already there)."""
    result = []
    for item, cut in zip(items, cuts, strict=True):
        named = [name for name in item.promotion.split(",") if name]
        extra = [codes[name] for name in named if name in codes]
        text = _join(item.promotion, *extra, order_text if cut != Cut() else "")
        result.append(attrs.evolve(item, promotion=text) if text != item.promotion else item)
    return result


def _list_tax(ctx: OrderContext, rate: Decimal, basis: int) -> int:
    exact = Fraction(rate)
    if ctx.ct_gross:
        return basis - round_fraction(basis / (1 + exact), ctx.tax_rounding)
    return round_fraction(basis * exact, ctx.tax_rounding)


def _shipping_before_discount(ctx: OrderContext, item: Item) -> tuple[Item, Cut]:
    """A discounted shipping item at its price before the discount, and the discount as a cut."""
    if not item.is_shipping or not item.discounted or item.list_unit is None:
        return item, Cut()
    basis = item.list_unit
    tax = _list_tax(ctx, item.rate, basis)
    net, gross = (basis - tax, basis) if ctx.ct_gross else (basis, basis + tax)
    if (net, gross) == (item.net, item.gross):
        return item, Cut()
    before = attrs.evolve(item, net=net, tax=tax, gross=gross, discounted=False, promotion="")
    return before, Cut(net=net - item.net, tax=tax - item.tax)


def separate_discounts(
    ctx: OrderContext,
    config: MappingConfig,
    items: Sequence[Item],
    cuts: Sequence[Cut],
    order_text: str,
) -> tuple[list[Item], list[Cut], list[SalesOrderLine]]:
    """``discount_lines`` for order-level and shipping discounts: the items with no order-level
    cut (shipping at its price before discount), and the negative lines per (code, rate)."""
    assert config.discount_sku is not None  # the configuration requires it for this mode
    groups: dict[tuple[str, Decimal, str], list[int]] = {}
    warehouses: dict[tuple[str, Decimal], str] = {}
    kept: list[Item] = []
    for item, cut in zip(items, cuts, strict=True):
        before, shipping_cut = _shipping_before_discount(ctx, item)
        kept.append(before)
        if not item.is_charge:
            warehouses.setdefault((item.tax_code, item.rate), item.warehouse)
        for kind, taken in (("order", cut), ("shipping", shipping_cut)):
            if taken == Cut():
                continue
            text = order_text if kind == "order" else item.promotion
            bucket = groups.setdefault((item.tax_code, item.rate, text), [0, 0])
            bucket[0] += taken.net
            bucket[1] += taken.tax
    lines = []
    fallback = config.depots.default or ""
    for (code, rate, text), (net, tax) in groups.items():
        gross = net + tax
        lines.append(
            SalesOrderLine(
                line_number=0,  # numbered after the item lines
                sku=config.discount_sku,
                quantity=1,
                price=ctx.money(-(gross if config.vat_inclusive else net)),
                net=ctx.money(-net),
                tax=ctx.money(-tax),
                gross=ctx.money(-gross),
                warehouse=warehouses.get((code, rate), fallback),
                tax_code=code,
                tax_rate=rate,
                discount=ctx.money(0),
                promotion=text,
            )
        )
    return kept, [Cut() for _ in kept], lines


def numbered(lines: Sequence[SalesOrderLine], start: int) -> list[SalesOrderLine]:
    """``lines`` numbered from ``start``."""
    return [attrs.evolve(line, line_number=start + i) for i, line in enumerate(lines)]
