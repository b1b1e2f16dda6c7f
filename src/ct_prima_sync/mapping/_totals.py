"""The sales order's totals, and their check against commercetools' own totals.

The invariant (DESIGN.md, invariant 1): lines plus charges equal commercetools' ``taxedPrice``
(net, gross, tax per rate) and ``totalPrice`` to the minor unit. Any difference is reported as
TOTALS_MISMATCH with the difference (mapped minus commercetools); nothing is ever adjusted to make
it fit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from ..commercetools._models.order import Order
from ..prima import SalesOrderCharge, SalesOrderLine, SalesOrderTotals, TaxTotal
from ._context import OrderContext
from ._issues import IssueCode

__all__ = ["check_totals", "sales_order_totals"]


def sales_order_totals(
    ctx: OrderContext, lines: Sequence[SalesOrderLine], charges: Sequence[SalesOrderCharge]
) -> SalesOrderTotals:
    """Net, tax and gross of lines and charges, with the tax per (code, rate)."""
    net = tax = 0
    by_rate: dict[tuple[str, Decimal], list[int]] = defaultdict(lambda: [0, 0])
    entries: list[SalesOrderLine | SalesOrderCharge] = [*lines, *charges]
    for entry in entries:
        net += entry.net.minor_units
        tax += entry.tax.minor_units
        bucket = by_rate[(entry.tax_code, entry.tax_rate)]
        bucket[0] += entry.net.minor_units
        bucket[1] += entry.tax.minor_units
    return SalesOrderTotals(
        net=ctx.money(net),
        tax=ctx.money(tax),
        gross=ctx.money(net + tax),
        by_rate=tuple(
            TaxTotal(tax_code=code, rate=rate, net=ctx.money(n), tax=ctx.money(t))
            for (code, rate), (n, t) in sorted(by_rate.items())
        ),
    )


def check_totals(ctx: OrderContext, order: Order, totals: SalesOrderTotals) -> None:
    """Report every way the mapped totals differ from the order's."""
    taxed = order.taxed_price
    if taxed is None:
        return
    mapped_net, mapped_tax = totals.net.minor_units, totals.tax.minor_units
    mapped_gross = totals.gross.minor_units
    ct_net = ctx.units(taxed.total_net, "taxedPrice.totalNet")
    ct_gross = ctx.units(taxed.total_gross, "taxedPrice.totalGross")
    for label, path, mine, theirs in (
        ("net", "taxedPrice.totalNet", mapped_net, ct_net),
        ("gross", "taxedPrice.totalGross", mapped_gross, ct_gross),
    ):
        if theirs is not None and mine != theirs:
            ctx.report(
                IssueCode.TOTALS_MISMATCH,
                f"lines and charges come to a {label} total that differs from the order's",
                path,
                difference=mine - theirs,
            )
    if taxed.total_tax is not None:
        ct_tax = ctx.units(taxed.total_tax, "taxedPrice.totalTax")
        if ct_tax is not None and ct_tax != mapped_tax:
            ctx.report(
                IssueCode.TOTALS_MISMATCH,
                "lines and charges come to a tax total that differs from the order's totalTax",
                "taxedPrice.totalTax",
                difference=mapped_tax - ct_tax,
            )
    _check_rates(ctx, order, totals)
    basis = mapped_gross if ctx.ct_gross else mapped_net
    total_price = ctx.units(order.total_price, "totalPrice")
    if total_price is not None and basis != total_price:
        ctx.report(
            IssueCode.TOTALS_MISMATCH,
            f"lines and charges come to a {'gross' if ctx.ct_gross else 'net'} total that "
            "differs from the order's totalPrice",
            "totalPrice",
            difference=basis - total_price,
        )


def _check_rates(ctx: OrderContext, order: Order, totals: SalesOrderTotals) -> None:
    assert order.taxed_price is not None
    theirs: dict[Decimal, int] = defaultdict(int)
    for index, portion in enumerate(order.taxed_price.tax_portions):
        units = ctx.units(portion.amount, f"taxedPrice.taxPortions[{index}].amount")
        if units is None:
            return
        theirs[portion.rate] += units
    mine: dict[Decimal, int] = defaultdict(int)
    for rate_total in totals.by_rate:
        mine[rate_total.rate] += rate_total.tax.minor_units
    for rate in sorted(set(theirs) | set(mine)):
        if mine.get(rate, 0) != theirs.get(rate, 0):
            ctx.report(
                IssueCode.TOTALS_MISMATCH,
                f"the tax at rate {rate} differs from the order's tax portion for that rate",
                "taxedPrice.taxPortions",
                difference=mine.get(rate, 0) - theirs.get(rate, 0),
            )
