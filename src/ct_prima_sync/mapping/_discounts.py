"""Order-level discounts: ``discountOnTotalPrice`` (cart or direct discounts on the total) spread
over the items so that every rate's tax and the order's totals come out exact.

The rule (docs/mapping.md, "Order-level discounts"):

1. The discounted amount ``D`` is in commercetools' price basis (gross when prices include tax).
   It is split over the items in scope by largest remainder on their totals in that basis.
2. The tax it removed from each rate, ``t_r``, is read from commercetools' own figures: the items'
   tax at that rate minus the order's tax portion for the rate. It is split over the items of
   that rate by largest remainder on their share of ``D``.
3. Each item's cut is then exact in net, tax and gross, the cuts sum to ``D`` and to
   ``discountedNetAmount`` / ``discountedGrossAmount``, and each rate's tax equals its portion.

When the items' own taxed prices already add up to the order's ``taxedPrice`` (commercetools
spread the discount into them), nothing more is taken off.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from typing import Final

from attrs import frozen

from ..commercetools._models.order import Order
from ..money import allocate
from ._config import MappingConfig, OrderDiscountScope
from ._context import Item, OrderContext
from ._issues import IssueCode

__all__ = ["Cut", "order_discount_cuts"]

_KNOWN_TARGETS: Final = frozenset(
    {"lineItems", "customLineItems", "shipping", "totalPrice", "multiBuyLineItems",
     "multiBuyCustomLineItems"}
)  # fmt: skip


@frozen
class Cut:
    """What an order-level discount takes off one item, in minor units."""

    net: int = 0
    tax: int = 0

    @property
    def gross(self) -> int:
        """Net plus tax."""
        return self.net + self.tax


def check_direct_discounts(ctx: OrderContext, order: Order) -> None:
    """Report direct discounts whose target the mapping does not know."""
    for index, direct in enumerate(order.direct_discounts or ()):
        target = (direct.target or {}).get("type")
        if isinstance(target, str) and target in _KNOWN_TARGETS:
            continue
        if isinstance(target, str):
            named = repr(target[:40])
        else:
            named = "nothing" if target is None else f"a JSON {type(target).__name__}"
        ctx.report(
            IssueCode.UNSUPPORTED_DISCOUNT,
            f"direct discount targets {named}, which the mapping does not know",
            f"directDiscounts[{index}].target.type",
        )


def order_discount_cuts(
    ctx: OrderContext, order: Order, items: list[Item], config: MappingConfig
) -> list[Cut] | None:
    """One cut per item (all zero without an order-level discount), or ``None`` after reporting
    why the discount cannot be spread exactly."""
    none = [Cut() for _ in items]
    discount = order.discount_on_total_price
    if discount is None or order.taxed_price is None:
        return none
    amount = ctx.units(discount.discounted_amount, "discountOnTotalPrice.discountedAmount")
    if amount is None:
        return None
    net_total = ctx.units(order.taxed_price.total_net, "taxedPrice.totalNet")
    gross_total = ctx.units(order.taxed_price.total_gross, "taxedPrice.totalGross")
    if net_total is None or gross_total is None:
        return None
    portions: dict[Decimal, int] = defaultdict(int)
    for index, portion in enumerate(order.taxed_price.tax_portions):
        units = ctx.units(portion.amount, f"taxedPrice.taxPortions[{index}].amount")
        if units is None:
            return None
        portions[portion.rate] += units
    by_rate: dict[Decimal, list[int]] = defaultdict(list)
    for position, item in enumerate(items):
        by_rate[item.rate].append(position)
    item_taxes = {r: sum(items[p].tax for p in members) for r, members in by_rate.items()}
    if (sum(i.net for i in items), sum(i.gross for i in items)) == (net_total, gross_total) and {
        r: t for r, t in item_taxes.items() if t
    } == {r: t for r, t in portions.items() if t}:
        return none  # already spread into the items' taxed prices
    unknown = sorted(set(portions) - set(by_rate))
    if unknown:
        ctx.report(
            IssueCode.TOTALS_MISMATCH,
            f"tax portions for rates {', '.join(map(str, unknown))} that no item carries",
            "taxedPrice.taxPortions",
            difference=-sum(portions[r] for r in unknown),
        )
        return None
    tax_cut = {r: tax - portions.get(r, 0) for r, tax in item_taxes.items()}
    if not _declared_amounts_agree(ctx, discount_amounts(ctx, order), amount, tax_cut):
        return None

    in_scope = [
        config.order_discount_scope is OrderDiscountScope.LINES_AND_CHARGES or not item.is_charge
        for item in items
    ]
    weights = [
        max(item.basis(ctx.ct_gross), 0) if s else 0
        for item, s in zip(items, in_scope, strict=True)
    ]
    if not any(weights):
        # Nothing in scope has a positive total (only gifts): the charges take the discount.
        weights = [max(item.basis(ctx.ct_gross), 0) for item in items]
    if amount and not any(weights):
        ctx.report(
            IssueCode.UNSUPPORTED_DISCOUNT,
            "the order has a discount on its total but no item with a positive total",
            "discountOnTotalPrice",
        )
        return None
    shares = allocate(amount, weights) if any(weights) else [0] * len(items)
    taxes = [0] * len(items)
    for rate, members in by_rate.items():
        share_weights: list[int | Fraction] = [abs(shares[p]) for p in members]
        if not any(share_weights):
            share_weights = [abs(items[p].tax) for p in members]
        if not any(share_weights):
            share_weights = [1] * len(members)
        for position, part in zip(members, allocate(tax_cut[rate], share_weights), strict=True):
            taxes[position] = part
    if ctx.ct_gross:
        return [Cut(net=s - t, tax=t) for s, t in zip(shares, taxes, strict=True)]
    return [Cut(net=s, tax=t) for s, t in zip(shares, taxes, strict=True)]


def discount_amounts(ctx: OrderContext, order: Order) -> tuple[int | None, int | None]:
    """``discountedNetAmount`` and ``discountedGrossAmount`` in minor units, when present."""
    discount = order.discount_on_total_price
    if discount is None:
        return None, None
    net = gross = None
    if discount.discounted_net_amount is not None:
        net = ctx.units(discount.discounted_net_amount, "discountOnTotalPrice.discountedNetAmount")
    if discount.discounted_gross_amount is not None:
        gross = ctx.units(
            discount.discounted_gross_amount, "discountOnTotalPrice.discountedGrossAmount"
        )
    return net, gross


def _declared_amounts_agree(
    ctx: OrderContext,
    declared: tuple[int | None, int | None],
    amount: int,
    tax_cut: dict[Decimal, int],
) -> bool:
    net, gross = declared
    total_tax_cut = sum(tax_cut.values())
    ok = True
    basis = gross if ctx.ct_gross else net
    if basis is not None and basis != amount:
        ctx.report(
            IssueCode.TOTALS_MISMATCH,
            "discountedAmount differs from the discounted amount in the price basis",
            "discountOnTotalPrice.discountedAmount",
            difference=amount - basis,
        )
        ok = False
    if net is not None and gross is not None and gross - net != total_tax_cut:
        ctx.report(
            IssueCode.TOTALS_MISMATCH,
            "the tax the discount removed (gross minus net) differs from what the order's tax "
            "portions show",
            "discountOnTotalPrice",
            difference=total_tax_cut - (gross - net),
        )
        ok = False
    return ok
