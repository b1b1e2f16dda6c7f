"""Build small, self-consistent Prima sales orders for tests of the Prima side alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from ...money import Money, sum_money
from ...prima import (
    CustomerDetails,
    SalesOrder,
    SalesOrderLine,
    SalesOrderTotals,
    SkuCode,
    TaxTotal,
)

__all__ = ["make_sales_order"]

_ORDER_DATE = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def make_sales_order(
    order_number: str,
    lines: Sequence[tuple[SkuCode, int, str]],
    *,
    customer: CustomerDetails | None = None,
    unit_price: int = 1000,
    currency: str = "EUR",
    hold: bool = False,
) -> SalesOrder:
    """A net-priced sales order with one line per ``(sku, quantity, depot)``.

    Every unit costs ``unit_price`` minor units net with 20 % tax, so the lines add up to the
    totals exactly. The customer defaults to a guest with a made-up e-mail address.
    """
    rate = Decimal("0.2")
    built: list[SalesOrderLine] = []
    for number, (sku, quantity, depot) in enumerate(lines, start=1):
        net = Money.of(unit_price * quantity, currency)
        tax = Money.of(unit_price * quantity // 5, currency)
        built.append(
            SalesOrderLine(
                line_number=number,
                sku=sku,
                quantity=quantity,
                price=Money.of(unit_price, currency),
                net=net,
                tax=tax,
                gross=net + tax,
                warehouse=depot,
                tax_code="S",
                tax_rate=rate,
                discount=Money.zero(currency),
                line_reference=f"line-{number}",
            )
        )
    zero = Money.zero(currency)
    net = sum_money((line.net for line in built), start=zero)
    tax = sum_money((line.tax for line in built), start=zero)
    return SalesOrder(
        order_number=order_number,
        external_id=f"ct-{order_number}",
        order_date=_ORDER_DATE,
        currency=currency,
        vat_inclusive=False,
        order_channel="WEB",
        customer=customer or CustomerDetails(email=f"{order_number.lower()}@example.test"),
        lines=tuple(built),
        totals=SalesOrderTotals(
            net=net,
            tax=tax,
            gross=net + tax,
            by_rate=(TaxTotal(tax_code="S", rate=rate, net=net, tax=tax),),
        ),
        hold=hold,
    )
