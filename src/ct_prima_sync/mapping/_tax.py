"""An item's tax: its commercetools taxed figures, checked, and the Prima tax code of its rate.

The mapping never recomputes a tax commercetools already computed: it takes each item's
``taxedPrice`` as the truth, checks it adds up (``gross - net`` equals the tax portions and the
total, and the price-basis figure equals the item's ``totalPrice``) and maps the rate to a code.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from attrs import frozen

from ..commercetools._models.pricing import MethodTaxedPrice, MethodTaxRate, TaxedItemPrice, TaxRate
from ..money import round_fraction
from ._config import MappingConfig
from ._context import OrderContext
from ._issues import IssueCode

__all__ = ["ItemTax", "item_tax"]


@frozen(kw_only=True)
class ItemTax:
    """An item's checked tax figures (minor units) and its Prima tax code."""

    net: int
    tax: int
    gross: int
    rate: Decimal
    code: str
    spread: int = 0
    """How much of an order-level discount commercetools already took off this item's taxed
    price (its ``totalPrice`` minus its taxed figure in the price basis)."""


def _single_rate(
    tax_rate: TaxRate | None, per_method: Sequence[MethodTaxRate]
) -> TaxRate | str | None:
    if tax_rate is not None:
        return tax_rate
    rates = [m.tax_rate for m in per_method if m.tax_rate is not None]
    if not rates:
        return None
    if len({(r.amount, r.name, r.included_in_price) for r in rates}) > 1:
        return "differs"
    return rates[0]


def _sum_portions(
    ctx: OrderContext, portions: Sequence[MethodTaxedPrice], path: str
) -> tuple[int, int] | None:
    net = gross = 0
    for index, portion in enumerate(portions):
        here = f"{path}.taxedPricePortions[{index}].taxedPrice"
        if portion.taxed_price is None:
            ctx.report(IssueCode.INVALID_ORDER, "taxes were not calculated", here)
            return None
        n = ctx.units(portion.taxed_price.total_net, f"{here}.totalNet")
        g = ctx.units(portion.taxed_price.total_gross, f"{here}.totalGross")
        if n is None or g is None:
            return None
        net, gross = net + n, gross + g
    return net, gross


def item_tax(
    ctx: OrderContext,
    config: MappingConfig,
    *,
    path: str,
    total_price: int | None,
    tax_rate: TaxRate | None,
    taxed_price: TaxedItemPrice | None,
    per_method_tax_rate: Sequence[MethodTaxRate] = (),
    taxed_price_portions: Sequence[MethodTaxedPrice] = (),
    spread_allowed: bool = False,
    quantity: int = 1,
) -> ItemTax | None:
    """The checked tax of one item, or ``None`` after reporting why there is none.

    With ``spread_allowed`` (the order has a discount on its total price) a taxed figure below
    the item's ``totalPrice`` is read as the item's share of that discount, already taken off
    by commercetools; the order's totals check still decides whether the order adds up.
    """
    rate = _single_rate(tax_rate, per_method_tax_rate)
    if rate == "differs":
        ctx.report(
            IssueCode.UNSUPPORTED_TAX_SETUP,
            "the item ships with several methods taxed at different rates; split it into one "
            "line item per shipping method",
            f"{path}.perMethodTaxRate",
        )
        return None
    if not isinstance(rate, TaxRate):
        if ctx.taxes_required:
            ctx.report(IssueCode.INVALID_ORDER, "the item has no tax rate", f"{path}.taxRate")
        return None
    if rate.sub_rates:
        ctx.report(
            IssueCode.UNSUPPORTED_TAX_SETUP,
            f"tax rate {rate.name!r} is made of sub-rates, which the mapping does not split yet",
            f"{path}.taxRate.subRates",
        )
        return None

    figures: tuple[int, int] | None
    if taxed_price is not None:
        net = ctx.units(taxed_price.total_net, f"{path}.taxedPrice.totalNet")
        gross = ctx.units(taxed_price.total_gross, f"{path}.taxedPrice.totalGross")
        figures = None if net is None or gross is None else (net, gross)
        if figures is not None and not _portions_add_up(ctx, taxed_price, figures, path):
            figures = None
    elif taxed_price_portions:
        figures = _sum_portions(ctx, taxed_price_portions, path)
    else:
        if ctx.taxes_required:
            ctx.report(IssueCode.INVALID_ORDER, "taxes were not calculated", f"{path}.taxedPrice")
        return None
    if figures is None:
        return None
    net, gross = figures
    spread = 0
    if total_price is not None:
        basis = gross if rate.included_in_price else net
        if spread_allowed and 0 < total_price - basis <= abs(total_price):
            spread = total_price - basis
        elif basis != total_price:
            ctx.report(
                IssueCode.TOTALS_MISMATCH,
                f"the taxed {'gross' if rate.included_in_price else 'net'} amount differs from "
                "the item's totalPrice",
                f"{path}.taxedPrice",
                difference=basis - total_price,
            )
            return None
    units = max(quantity if ctx.unit_level or ctx.tax_given else 1, len(taxed_price_portions))
    check_rate(ctx, path, rate, (net, gross), units)
    code = config.tax_code_for(rate.amount, rate.name, rate.country, rate.included_in_price)
    if code is None:
        included = "included in" if rate.included_in_price else "added to"
        ctx.report(
            IssueCode.UNMAPPED_TAX_RATE,
            f"tax rate {rate.name!r} ({rate.amount} in {rate.country}, {included} prices) has no "
            "Prima tax code: add a [[taxes.codes]] entry for it",
            f"{path}.taxRate",
        )
        return None
    return ItemTax(
        net=net, tax=gross - net, gross=gross, rate=rate.amount, code=code, spread=spread
    )


def _allowed_taxes(ctx: OrderContext, rate: Fraction, included: bool, base: int) -> set[int]:
    """The taxes one rounding of ``base`` at ``rate`` can give: commercetools rounds the net of a
    gross price (or, with ``taxRoundingTarget: Tax``, the tax itself) or the tax of a net one."""
    if included:
        return {
            base - round_fraction(base / (1 + rate), ctx.tax_rounding),
            round_fraction(base * rate / (1 + rate), ctx.tax_rounding),
        }
    return {round_fraction(base * rate, ctx.tax_rounding)}


def check_rate(
    ctx: OrderContext, path: str, rate: TaxRate, figures: tuple[int, int], units: int = 1
) -> bool:
    """Report TAX_RATE_MISMATCH when an item's tax is not what its rate gives on its price.

    At line level (``LineItemLevel``) the tax must be exactly one rounding, in the order's
    ``taxRoundingMode``, of the rate applied to the price; when ``units`` were rounded apart
    (``UnitPriceLevel``, taxes given from outside, several shipping methods) each may add half a
    minor unit. ``difference`` is the item's tax minus the nearest tax the rate allows.
    """
    net, gross = figures
    tax = gross - net
    exact_rate = Fraction(rate.amount)
    base = gross if rate.included_in_price else net
    exact = base * exact_rate / (1 + exact_rate) if rate.included_in_price else base * exact_rate
    if units <= 1:
        allowed = _allowed_taxes(ctx, exact_rate, rate.included_in_price, base)
        if tax in allowed:
            return True
        nearest = min(allowed, key=lambda t: (abs(tax - t), t))
    else:
        if abs(tax - exact) <= Fraction(units, 2):
            return True
        nearest = round_fraction(exact, ctx.tax_rounding)
    ctx.report(
        IssueCode.TAX_RATE_MISMATCH,
        f"the tax {ctx.money(tax)} is not what rate {rate.amount} ({rate.name!r}) gives on "
        f"{ctx.money(base)}: expected {ctx.money(nearest)}",
        f"{path}.taxedPrice",
        difference=tax - nearest,
    )
    return False


def _portions_add_up(
    ctx: OrderContext, taxed: TaxedItemPrice, figures: tuple[int, int], path: str
) -> bool:
    net, gross = figures
    tax = gross - net
    if taxed.total_tax is not None:
        stated = ctx.units(taxed.total_tax, f"{path}.taxedPrice.totalTax")
        if stated is None:
            return False
        if stated != tax:
            ctx.report(
                IssueCode.TOTALS_MISMATCH,
                "totalTax differs from totalGross minus totalNet",
                f"{path}.taxedPrice.totalTax",
                difference=tax - stated,
            )
            return False
    if taxed.tax_portions:
        portions = 0
        for index, portion in enumerate(taxed.tax_portions):
            units = ctx.units(portion.amount, f"{path}.taxedPrice.taxPortions[{index}].amount")
            if units is None:
                return False
            portions += units
        if portions != tax:
            ctx.report(
                IssueCode.TOTALS_MISMATCH,
                "the tax portions differ from totalGross minus totalNet",
                f"{path}.taxedPrice.taxPortions",
                difference=tax - portions,
            )
            return False
    return True
