"""``map_order``: a commercetools order to a Prima sales order, or every reason it cannot be one.

Pure: no I/O, no clock, no globals. Every check and figure comes from :func:`assess_order`
(``_assess``), the one code path the checkout validator shares; this module builds the sales
order from what it found. docs/mapping.md writes down every rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from attrs import frozen

from ..commercetools._models import Customer
from ..commercetools._models.order import Order
from ..prima import SalesOrder, SalesOrderTotals
from ._assess import assess_order
from ._config import MappingConfig
from ._customers import map_customer
from ._issues import MappingIssue

if TYPE_CHECKING:
    from ..commercetools._models.payment import Payment

__all__ = ["MappedOrder", "map_order"]


@frozen(kw_only=True)
class MappedOrder:
    """The result of mapping one order.

    ``sales_order`` is set only when there are no issues. ``totals`` are the mapped totals when the
    figures could be computed (also with issues, to help whoever fixes the order).
    """

    sales_order: SalesOrder | None
    issues: tuple[MappingIssue, ...] = ()
    totals: SalesOrderTotals | None = None

    @property
    def ok(self) -> bool:
        """True when the order mapped without issues."""
        return self.sales_order is not None and not self.issues


def map_order(
    order: Order,
    config: MappingConfig,
    *,
    customer: Customer | None = None,
    payments: Sequence[Payment] | None = None,
) -> MappedOrder:
    """Map a commercetools order to a Prima sales order, reporting every issue at once.

    ``customer`` is the order's commercetools customer when the caller fetched it (names and the
    account code may come from it). ``payments`` are the order's commercetools Payments, read by
    the caller when ``config.payments.read_payments`` is set (``None``: not read). The sales
    order's lines and charges add up exactly to the order's ``taxedPrice`` and ``totalPrice``;
    when they cannot, the result carries TOTALS_MISMATCH with the difference and no sales order.
    """
    found = assess_order(order, config, payments=payments)
    totals = found.totals
    if found.issues or totals is None:
        return MappedOrder(sales_order=None, issues=found.issues, totals=totals)

    mapped = map_customer(order, customer, config.customers)
    sales_order = SalesOrder(
        order_number=config.prima_order_number(order.order_number or order.id),
        external_id=order.id,
        order_date=order.created_at,
        currency=order.total_price.currency,
        vat_inclusive=config.vat_inclusive,
        order_channel=config.order_channel,
        customer=mapped.details,
        lines=found.lines,
        totals=totals,
        charges=found.charges,
        payments=found.payments,
        order_paid=found.order_paid,
        delivery_address=mapped.delivery_address,
        invoice_address=mapped.invoice_address,
        invoice_name=mapped.invoice_name,
        order_type=config.order_type,
        customer_reference=order.purchase_order_number or "",
        carrier=found.carrier[0],
        carrier_service=found.carrier[1],
    )
    return MappedOrder(sales_order=sales_order, totals=totals)
