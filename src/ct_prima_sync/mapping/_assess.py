"""Every check of an order, and its Prima figures: the one code path of mapping and checkout.

:func:`assess_order` runs the steps, each in its own module: check the order's bounds
(``_bounds``), read the items (``_items``, with their taxes checked against their rates in
``_tax``), spread order-level discounts per rate (``_discounts``), name the promotions and, if
configured, separate order-level discounts into their own lines (``_promotions``), build Prima
lines and charges (``_lines``), total them and check the totals against commercetools'
(``_totals``), then payments (``_payments``). :func:`~ct_prima_sync.mapping.map_order` builds the
sales order from the result; the checkout validator reads its issues, so the two can never
disagree about an order.

With ``partial`` (a cart still in checkout) what the cart does not have yet is not an issue:
without ``taxedPrice`` no item needs a tax rate or taxed price and the totals are not checked,
and payments are not checked. ``checks`` names what ran.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from attrs import frozen

from ..commercetools._models.enums import (
    LineItemPriceMode,
    ShippingMode,
    TaxCalculationMode,
    TaxMode,
)
from ..commercetools._models.order import Order
from ..money import RoundingMode
from ..prima import SalesOrderCharge, SalesOrderLine, SalesOrderPayment, SalesOrderTotals
from ._bounds import check_bounds
from ._config import ExternalTaxPolicy, MappingConfig, OrderDiscountLines
from ._context import Item, OrderContext
from ._discounts import check_direct_discounts, order_discount_cuts
from ._fields import check_unknown_fields
from ._issues import IssueCode, MappingIssue
from ._items import read_custom_lines, read_line_items, read_shipping
from ._lines import build_lines
from ._payments import map_payments
from ._promotions import (
    discount_code_names,
    numbered,
    order_promotion,
    separate_discounts,
    with_promotion,
)
from ._totals import check_totals, sales_order_totals

if TYPE_CHECKING:
    from ..commercetools._models.payment import Payment

__all__ = ["Check", "OrderAssessment", "assess_order"]


class Check(enum.StrEnum):
    """The checks of an order, by the name a checkout verdict lists them under."""

    BOUNDS = "bounds"
    """Amounts in the order's currency and within int64, unique line ids, rates from 0 to 1."""
    CURRENCY = "currency"
    MODES = "modes"
    """Tax, shipping, price and rounding modes the mapping knows."""
    FIELDS = "fields"
    """No unknown field that may change money or fulfilment."""
    DISCOUNTS = "discounts"
    SKU = "sku"
    DEPOT = "depot"
    CUSTOM_LINES = "custom_lines"
    SHIPPING = "shipping"
    TAX = "tax"
    """Every item's tax rate mapped to a Prima tax code and its tax what the rate gives."""
    TOTALS = "totals"
    """Lines and charges add up to commercetools' totals, per rate, to the minor unit."""
    PAYMENTS = "payments"


@frozen(kw_only=True)
class OrderAssessment:
    """What :func:`assess_order` found: the issues, the checks that ran, and the Prima figures
    (``totals`` is ``None`` when they could not be computed, or were not, for a partial cart)."""

    issues: tuple[MappingIssue, ...]
    checks: tuple[Check, ...]
    lines: tuple[SalesOrderLine, ...] = ()
    charges: tuple[SalesOrderCharge, ...] = ()
    totals: SalesOrderTotals | None = None
    payments: tuple[SalesOrderPayment, ...] = ()
    order_paid: bool = False
    carrier: tuple[str, str] = ("", "")


def _rounding(ctx: OrderContext, order: Order) -> None:
    mode = order.tax_rounding_mode
    if mode is None:
        return
    try:
        ctx.tax_rounding = RoundingMode(mode)
    except ValueError:
        ctx.report(
            IssueCode.UNRECOGNISED_FIELD,
            f"taxRoundingMode {mode!r} is unknown to this library",
            "taxRoundingMode",
        )


_KNOWN: Final = {
    "taxCalculationMode": frozenset(TaxCalculationMode),
    "shippingMode": frozenset(ShippingMode),
    "priceRoundingMode": frozenset(RoundingMode),
}
_PRICE_MODES: Final = frozenset(LineItemPriceMode)


def _check_modes(ctx: OrderContext, order: Order, config: MappingConfig) -> None:
    for value, path in (
        (order.tax_calculation_mode, "taxCalculationMode"),
        (order.shipping_mode, "shippingMode"),
        (order.price_rounding_mode, "priceRoundingMode"),
    ):
        if value is not None and value not in _KNOWN[path]:
            ctx.report(
                IssueCode.UNRECOGNISED_FIELD,
                f"{path} {value!r} is unknown to this library",
                path,
            )
    for index, line in enumerate(order.line_items):
        if line.price_mode not in _PRICE_MODES:
            ctx.report(
                IssueCode.UNRECOGNISED_FIELD,
                f"priceMode {line.price_mode!r} is unknown to this library",
                f"lineItems[{index}].priceMode",
            )
    mode = order.tax_mode or TaxMode.PLATFORM
    if mode == TaxMode.DISABLED:
        ctx.report(
            IssueCode.UNSUPPORTED_TAX_SETUP,
            "taxes are disabled on this order; Prima needs taxed figures",
            "taxMode",
        )
    elif mode in (TaxMode.EXTERNAL, TaxMode.EXTERNAL_AMOUNT):
        if config.external_tax is ExternalTaxPolicy.REJECT:
            ctx.report(
                IssueCode.UNSUPPORTED_TAX_SETUP,
                f"taxes were set outside commercetools (taxMode {mode}); set taxes.external = "
                "'accept' to map them as the order carries them",
                "taxMode",
            )
    elif mode != TaxMode.PLATFORM:
        ctx.report(
            IssueCode.UNRECOGNISED_FIELD, f"taxMode {mode!r} is unknown to this library", "taxMode"
        )
    if mode != TaxMode.DISABLED and order.taxed_price is None and ctx.taxes_required:
        ctx.report(IssueCode.INVALID_ORDER, "taxes were not calculated", "taxedPrice")


def _ct_gross(ctx: OrderContext, order: Order) -> None:
    rates = [li.tax_rate for li in order.line_items if li.tax_rate is not None]
    rates += [c.tax_rate for c in order.custom_line_items if c.tax_rate is not None]
    infos = [order.shipping_info, *(s.shipping_info for s in order.shipping)]
    rates += [i.tax_rate for i in infos if i is not None and i.tax_rate is not None]
    included = {rate.included_in_price for rate in rates}
    if len(included) > 1:
        ctx.report(
            IssueCode.UNSUPPORTED_TAX_SETUP,
            "some tax rates include tax in the price and others do not",
            "lineItems",
        )
    elif included:
        ctx.ct_gross = included.pop()


def _carrier(ctx: OrderContext, items: list[Item]) -> tuple[str, str]:
    """The order's one Prima carrier and service (Prima's order header holds one)."""
    found = {item.carrier for item in items if item.is_shipping and item.carrier is not None}
    if len(found) > 1:
        named = ", ".join("/".join(filter(None, pair)) for pair in sorted(found))
        ctx.report(
            IssueCode.UNMAPPED_CARRIER,
            f"the order's shipping methods map to different carriers ({named}), and a Prima "
            "order has one: map them to one carrier or split the order",
            "shipping",
        )
        return "", ""
    return found.pop() if found else ("", "")


def assess_order(
    order: Order,
    config: MappingConfig,
    *,
    payments: Sequence[Payment] | None = None,
    partial: bool = False,
) -> OrderAssessment:
    """Run every check of ``order`` that its contents allow and compute its Prima figures.

    ``partial`` is for a cart in checkout: taxes are required only once the cart has a
    ``taxedPrice``, and payments are not checked. For an order (``partial`` false) every check
    runs and an order without taxes is an issue.
    """
    currency = order.total_price.currency
    ctx = OrderContext(
        currency=currency,
        digits=order.total_price.fraction_digits,
        ct_gross=True,
        tax_rounding=RoundingMode.HALF_EVEN,
        unit_level=order.tax_calculation_mode == TaxCalculationMode.UNIT_PRICE_LEVEL,
        tax_given=order.tax_mode == TaxMode.EXTERNAL_AMOUNT,
        taxes_required=not partial or order.taxed_price is not None,
    )
    checks = [Check.BOUNDS]
    if not check_bounds(ctx, order):
        # Figures out of bounds (another currency, beyond int64, ...) are not used at all.
        return OrderAssessment(issues=tuple(ctx.issues), checks=tuple(checks))
    if config.currencies and currency not in config.currencies:
        ctx.report(
            IssueCode.CURRENCY_NOT_ALLOWED,
            f"orders in {currency} are not accepted "
            f"(allowed: {', '.join(sorted(config.currencies))})",
            "totalPrice.currencyCode",
        )
    if not order.line_items and not order.custom_line_items and not partial:
        ctx.report(IssueCode.INVALID_ORDER, "the order has no lines", "lineItems")
    _rounding(ctx, order)
    _check_modes(ctx, order, config)
    _ct_gross(ctx, order)
    check_unknown_fields(ctx, order, config)
    check_direct_discounts(ctx, order)
    checks += [Check.CURRENCY, Check.MODES, Check.FIELDS, Check.DISCOUNTS]

    items = [
        *read_line_items(ctx, order, config),
        *read_custom_lines(ctx, order, config),
        *read_shipping(ctx, order, config),
    ]
    checks += [Check.SKU, Check.DEPOT, Check.CUSTOM_LINES, Check.SHIPPING]
    if ctx.taxes_required:
        checks.append(Check.TAX)
    expected = len(order.line_items) + len(order.custom_line_items) + len(order.shipping)
    expected += order.shipping_info is not None
    totals = None
    lines: list[SalesOrderLine] = []
    charges: list[SalesOrderCharge] = []
    if order.taxed_price is not None:
        checks.append(Check.TOTALS)
    if len(items) == expected and order.taxed_price is not None:
        # Only a complete set of items can be checked against the order's totals.
        cuts = order_discount_cuts(ctx, order, items, config)
        if cuts is not None:
            codes = discount_code_names(order)
            order_text = order_promotion(order, codes)
            shown = with_promotion(items, cuts, order_text, codes)
            discount_lines: list[SalesOrderLine] = []
            if config.order_discounts is OrderDiscountLines.DISCOUNT_LINES:
                shown, cuts, discount_lines = separate_discounts(
                    ctx, config, shown, cuts, order_text
                )
            lines, charges = build_lines(ctx, config, shown, cuts)
            lines += numbered(discount_lines, len(lines) + 1)
            totals = sales_order_totals(ctx, lines, charges)
            check_totals(ctx, order, totals)
    carrier = _carrier(ctx, items)
    sales_payments: tuple[SalesOrderPayment, ...] = ()
    order_paid = False
    if not partial:
        checks.append(Check.PAYMENTS)
        sales_payments, order_paid = map_payments(ctx, order, config.payments, payments, totals)
        if totals is None and not ctx.issues:  # pragma: no cover - every path above reports
            ctx.report(IssueCode.INVALID_ORDER, "the order's figures could not be read", "")
    return OrderAssessment(
        issues=tuple(ctx.issues),
        checks=tuple(checks),
        lines=tuple(lines),
        charges=tuple(charges),
        totals=totals,
        payments=sales_payments,
        order_paid=order_paid,
        carrier=carrier,
    )
