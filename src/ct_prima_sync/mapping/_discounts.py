"""Order-level discounts: ``discountOnTotalPrice`` (cart or direct discounts on the total) spread
over the items so that the order's totals, and net, tax and gross per rate, come out exactly as
commercetools has them, with every item's tax consistent with its own rate.

The rule (docs/mapping.md, "Order-level discounts"):

1. The discounted amount ``D`` is in commercetools' price basis (gross when prices include tax);
   the tax it removed at each rate, ``t_r``, is read from commercetools' own figures (the items'
   tax at that rate minus the order's tax portion for the rate).
2. ``D`` is split over the rates first, ``D_r``, the way commercetools split it: by largest
   remainder on the items' totals (the same percentage off every item), over the items that are
   not shipping, or over all of them, whichever reproduces every tax portion exactly. When
   neither does, ``D_r`` follows the items' totals per rate.
3. Within a rate, ``D_r`` goes to the items in scope (``prices.order_discount_scope``), by largest
   remainder on their totals; when no item of that rate is in scope, to the rate's other items
   (a charge at a rate no line has keeps its own share: moving it would move VAT base between
   rates); when the rate's items in scope total less than its share, or cannot carry its tax
   cut with every item's tax fitting its rate, to all of the rate's items. Each item's tax cut
   is its tax minus the tax of its new total at its rate, rounded as the order rounds; what
   commercetools' portion differs by goes, a minor unit at a time, where it fits best.
4. Every cut item is checked against its rate (TAX_RATE_MISMATCH at ``discountOnTotalPrice``
   otherwise), and the cuts sum to ``D``, to ``discountedNetAmount`` / ``discountedGrossAmount``
   and, per rate, to ``t_r``.

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
from ..money import allocate, round_fraction
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


@frozen(kw_only=True)
class RateSplit:
    """An order-level discount per tax rate: ``amount[r]`` (in the price basis) and ``tax[r]``
    (the tax it removed); ``shares`` are per-item shares when commercetools' split of ``D`` over
    the items was reproduced exactly, else ``None``."""

    amount: dict[Decimal, int]
    tax: dict[Decimal, int]
    shares: list[int] | None = None


def _tax_after(ctx: OrderContext, item: Item, basis: int) -> int:
    """The tax of ``basis`` (a total in commercetools' price basis) at the item's rate."""
    rate = Fraction(item.rate)
    if ctx.ct_gross:
        return basis - round_fraction(basis / (1 + rate), ctx.tax_rounding)
    return round_fraction(basis * rate, ctx.tax_rounding)


def _reproduce(
    ctx: OrderContext, items: list[Item], amount: int, portions: dict[Decimal, int]
) -> list[int] | None:
    """commercetools' per-item shares of ``amount``, when one of its plausible splits gives every
    tax portion exactly: over the items but shipping, or over all of them."""
    for with_charges in (False, True):
        weights = [
            max(item.basis(ctx.ct_gross), 0) if with_charges or not item.is_shipping else 0
            for item in items
        ]
        if not any(weights):
            continue
        shares = allocate(amount, weights)
        after: dict[Decimal, int] = defaultdict(int)
        for item, share in zip(items, shares, strict=True):
            taxed = _tax_after(ctx, item, item.basis(ctx.ct_gross) - share) if share else item.tax
            after[item.rate] += taxed
        if all(after.get(r, 0) == portions.get(r, 0) for r in {*after, *portions}):
            return shares
    return None


def order_discount_split(ctx: OrderContext, order: Order, items: list[Item]) -> RateSplit | None:
    """The order-level discount per rate (empty without one, or when commercetools already spread
    it into the items), or ``None`` after reporting why it cannot be split exactly."""
    discount = order.discount_on_total_price
    if discount is None or order.taxed_price is None:
        return RateSplit(amount={}, tax={})
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
    item_taxes: dict[Decimal, int] = defaultdict(int)
    for item in items:
        item_taxes[item.rate] += item.tax
    if (sum(i.net for i in items), sum(i.gross for i in items)) == (net_total, gross_total) and {
        r: t for r, t in item_taxes.items() if t
    } == {r: t for r, t in portions.items() if t}:
        return RateSplit(amount={}, tax={})  # already spread into the items' taxed prices
    unknown = sorted(set(portions) - set(item_taxes))
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
    if amount and not any(item.basis(ctx.ct_gross) > 0 for item in items):
        ctx.report(
            IssueCode.UNSUPPORTED_DISCOUNT,
            "the order has a discount on its total but no item with a positive total",
            "discountOnTotalPrice",
        )
        return None
    shares = _reproduce(ctx, items, amount, portions)
    by_rate: dict[Decimal, int] = defaultdict(int)
    if shares is not None:
        for item, share in zip(items, shares, strict=True):
            by_rate[item.rate] += share
    else:
        rates = sorted(item_taxes)
        totals = [sum(max(i.basis(ctx.ct_gross), 0) for i in items if i.rate == r) for r in rates]
        by_rate.update(zip(rates, allocate(amount, totals), strict=True))
    return RateSplit(amount=dict(by_rate), tax=tax_cut, shares=shares)


def order_discount_cuts(
    ctx: OrderContext, order: Order, items: list[Item], config: MappingConfig
) -> list[Cut] | None:
    """One cut per item (all zero without an order-level discount), or ``None`` after reporting
    why the discount cannot be spread exactly."""
    split = order_discount_split(ctx, order, items)
    if split is None:
        return None
    cuts = [Cut() for _ in items]
    lines_only = config.order_discount_scope is OrderDiscountScope.LINES
    for rate, rate_amount in split.amount.items():
        members = [p for p, item in enumerate(items) if item.rate == rate]
        positive = [p for p in members if items[p].basis(ctx.ct_gross) > 0]
        rate_tax = split.tax.get(rate, 0)
        if not positive:
            if rate_amount or rate_tax:
                ctx.report(
                    IssueCode.UNSUPPORTED_DISCOUNT,
                    f"the discount on the total takes tax off rate {rate}, where no item has a "
                    "positive total",
                    "discountOnTotalPrice",
                )
                return None
            continue
        in_scope = [p for p in positive if not (lines_only and items[p].is_charge)]
        rate_cuts = None
        if in_scope and rate_amount <= sum(items[p].basis(ctx.ct_gross) for p in in_scope):
            rate_cuts = _cut_rate(ctx, items, split, rate, in_scope)
            if not all(_fits_rate(items[p], cut) for p, cut in rate_cuts):
                rate_cuts = None  # the scope's items cannot carry it exactly: the rate's all do
        for p, cut in rate_cuts or _cut_rate(ctx, items, split, rate, positive):
            cuts[p] = cut
    if not _cuts_keep_rates(ctx, items, cuts):
        return None
    return cuts


def _cut_rate(
    ctx: OrderContext, items: list[Item], split: RateSplit, rate: Decimal, absorbing: list[int]
) -> list[tuple[int, Cut]]:
    """The cuts of the items ``absorbing`` one rate's share of the discount."""
    rate_amount, rate_tax = split.amount[rate], split.tax.get(rate, 0)
    members = [p for p, item in enumerate(items) if item.rate == rate]
    if split.shares is not None and all(
        (split.shares[p] != 0) <= (p in absorbing) for p in members
    ):
        shares = [split.shares[p] for p in absorbing]  # commercetools' own split
    else:
        shares = allocate(rate_amount, [items[p].basis(ctx.ct_gross) for p in absorbing])
    taxes = [
        items[p].tax - _tax_after(ctx, items[p], items[p].basis(ctx.ct_gross) - share)
        if share
        else 0
        for p, share in zip(absorbing, shares, strict=True)
    ]
    rest = rate_tax - sum(taxes)
    if rest:
        after = [items[p].basis(ctx.ct_gross) - s for p, s in zip(absorbing, shares, strict=True)]
        taxes = _place_rest(ctx, rate, rest, after, [items[p].tax for p in absorbing], taxes)
    return [
        (p, Cut(net=share - tax, tax=tax) if ctx.ct_gross else Cut(net=share, tax=tax))
        for p, share, tax in zip(absorbing, shares, taxes, strict=True)
    ]


def _fits_rate(item: Item, cut: Cut) -> bool:
    """The item after its cut carries the tax its rate gives on its net, within a minor unit."""
    if cut == Cut():
        return True
    net, tax = item.net - cut.net, item.tax - cut.tax
    return abs(tax - Fraction(item.rate) * net) <= 1 + Fraction(item.rate)


def _place_rest(  # noqa: PLR0917 (internal helper, called once)
    ctx: OrderContext,
    rate: Decimal,
    rest: int,
    totals: list[int],
    before: list[int],
    cuts: list[int],
) -> list[int]:
    """Add ``rest`` minor units of tax cut to ``cuts``, one at a time where it leaves the item's
    tax nearest what its rate gives on its new total (each unit moves between net and tax)."""
    exact_rate = Fraction(rate)
    cuts = list(cuts)
    step = 1 if rest > 0 else -1
    if abs(rest) > 4 * len(cuts):  # far from a rounding residue: the rate check will report it
        weights: list[int | Fraction] = [abs(t) for t in totals] if any(totals) else [1] * len(cuts)
        return [c + r for c, r in zip(cuts, allocate(rest, weights), strict=True)]

    def deviation(index: int, cut: int) -> Fraction:
        tax = before[index] - cut
        net = totals[index] - tax if ctx.ct_gross else totals[index]
        return tax - exact_rate * net

    for _ in range(abs(rest)):
        best = min(range(len(cuts)), key=lambda i: (abs(deviation(i, cuts[i] + step)), i))
        cuts[best] += step
    return cuts


def _cuts_keep_rates(ctx: OrderContext, items: list[Item], cuts: list[Cut]) -> bool:
    """Every item an order-level discount cut still carries the tax its rate gives (within a
    minor unit): otherwise Prima would post a tax under a code that does not fit it."""
    ok = True
    for item, cut in zip(items, cuts, strict=True):
        if _fits_rate(item, cut):
            continue
        net, tax = item.net - cut.net, item.tax - cut.tax
        ctx.report(
            IssueCode.TAX_RATE_MISMATCH,
            f"after its share of the discount on the total, {item.path} would carry tax "
            f"{ctx.money(tax)} on {ctx.money(net)} net at rate {item.rate}: commercetools' "
            "tax portions do not follow a proportional split of the discount",
            "discountOnTotalPrice",
            difference=tax - round_fraction(Fraction(item.rate) * net, ctx.tax_rounding),
        )
        ok = False
    return ok


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
