"""A commercetools order (with its payments, despatch day and mapping) as a posting source.

The decisions stay in ``mapping/_postings.py``; this only reads the figures off the models and
puts every moment on the business's calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from attrs import frozen

from ..commercetools import Order
from ..commercetools._models.enums import OrderState, TransactionState, TransactionType
from ..commercetools._models.payment import Payment
from ..mapping import (
    AccountRole,
    MappingConfig,
    MissingAccount,
    PaymentMovement,
    PostingEntry,
    PostingMode,
    PostingSource,
    RevenueItem,
    build_entries,
    map_order,
)
from ..money import Money
from ..prima import SalesOrder
from ._postings_config import PostingBasis, PostingsConfig

__all__ = ["OrderEntries", "business_day", "order_entries", "posting_source", "reversal_due"]

_TAKEN = {TransactionType.CHARGE: 1, TransactionType.REFUND: -1, TransactionType.CHARGEBACK: -1}


def business_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day ``moment`` falls on in the business's timezone."""
    return moment.astimezone(zone).date()


def _movements(
    order: Order, payments: Sequence[Payment] | None, zone: ZoneInfo, basis: PostingBasis
) -> tuple[PaymentMovement, ...]:
    placed = business_day(order.created_at, zone)
    if not payments:
        if order.total_price.is_zero:
            return ()
        # No Payment resources: the order's gross was taken when it was placed, by whatever the
        # shop takes without a payment provider (the "" clearing account).
        return (
            PaymentMovement(
                transaction_id=f"order-{order.id}", provider="", amount=order.total_price, on=placed
            ),
        )
    movements = []
    for payment in payments:
        provider = payment.payment_method_info.payment_interface or ""
        for transaction in payment.transactions:
            sign = _TAKEN.get(transaction.type)  # type: ignore[call-overload]
            if sign is None or transaction.state != TransactionState.SUCCESS:
                continue
            when = transaction.timestamp or payment.created_at or order.created_at
            on = placed if basis is PostingBasis.CREATED else business_day(when, zone)
            movements.append(
                PaymentMovement(
                    transaction_id=transaction.id,
                    provider=provider,
                    amount=transaction.amount * sign,
                    on=on,
                )
            )
    return tuple(movements)


def _revenue(sales_order: SalesOrder) -> tuple[RevenueItem, ...]:
    zero = Money.zero(sales_order.currency, sales_order.totals.gross.fraction_digits)
    revenue: dict[str, Money] = {}
    tax: dict[str, Money] = {}
    discounts: dict[str, Money] = {}
    shipping: dict[str, Money] = {}
    for line in sales_order.lines:
        revenue[line.tax_code] = revenue.get(line.tax_code, zero) + line.net + line.discount
        discounts[line.promotion] = discounts.get(line.promotion, zero) + line.discount
        tax[line.tax_code] = tax.get(line.tax_code, zero) + line.tax
    for charge in sales_order.charges:
        shipping[charge.charge_code] = shipping.get(charge.charge_code, zero) + charge.net
        tax[charge.tax_code] = tax.get(charge.tax_code, zero) + charge.tax
    items = [
        RevenueItem(role=AccountRole.REVENUE, key=k, net=v) for k, v in sorted(revenue.items())
    ]
    items += [
        RevenueItem(role=AccountRole.SHIPPING, key=k, net=v) for k, v in sorted(shipping.items())
    ]
    items += [
        RevenueItem(role=AccountRole.DISCOUNT, key=k, net=v) for k, v in sorted(discounts.items())
    ]
    items += [RevenueItem(role=AccountRole.TAX, key=k, net=v) for k, v in sorted(tax.items())]
    return tuple(item for item in items if not item.net.is_zero)


def posting_source(
    order: Order,
    *,
    payments: Sequence[Payment] | None,
    zone: ZoneInfo,
    basis: PostingBasis,
    sales_order: SalesOrder | None = None,
    despatched_on: date | None = None,
) -> PostingSource:
    """The posting source of ``order``. ``sales_order`` (the mapped order) and ``despatched_on``
    (the first despatch day, from the dispatch flow) feed the revenue mode."""
    movements = _movements(order, payments, zone, basis)
    sale_on: date | None
    if basis is PostingBasis.DESPATCH:
        sale_on = despatched_on
    elif basis is PostingBasis.CREATED:
        sale_on = business_day(order.created_at, zone)
    else:
        taken = [m.on for m in movements if m.amount.minor_units > 0]
        sale_on = min(taken) if taken else None
    cancelled = order.order_state == OrderState.CANCELLED
    return PostingSource(
        order_id=order.id,
        order_number=order.order_number or order.id,
        currency=order.total_price.currency,
        fraction_digits=order.total_price.fraction_digits,
        gross=order.total_price,
        movements=movements,
        revenue=_revenue(sales_order) if sales_order is not None else (),
        sale_on=sale_on,
        cancelled_on=business_day(order.last_modified_at, zone) if cancelled else None,
    )


@frozen(kw_only=True)
class OrderEntries:
    """The entries an order makes now, the amounts without an account, and (revenue mode) the
    mapping issue codes that stop it from making any."""

    entries: tuple[PostingEntry, ...] = ()
    missing: tuple[MissingAccount, ...] = ()
    unmapped: tuple[str, ...] = ()


def order_entries(
    order: Order,
    *,
    payments: Sequence[Payment] | None,
    config: PostingsConfig,
    mapping: MappingConfig,
    despatched_on: date | None = None,
) -> OrderEntries:
    """Every posting entry of ``order`` as it stands, in ``config``'s mode."""
    sales_order = None
    if config.mode is PostingMode.REVENUE:
        mapped = map_order(order, mapping, payments=payments)
        if mapped.sales_order is None:
            return OrderEntries(unmapped=tuple(sorted({str(i.code) for i in mapped.issues})))
        sales_order = mapped.sales_order
    source = posting_source(
        order,
        payments=payments,
        zone=config.zone,
        basis=config.effective_basis,
        sales_order=sales_order,
        despatched_on=despatched_on,
    )
    entries, missing = build_entries(source, mode=config.mode, accounts=config.accounts)
    return OrderEntries(entries=tuple(entries), missing=tuple(missing))


def reversal_due(order: Order) -> bool:
    """Whether commercetools says the order was cancelled or (partly) refunded: cancelled, or a
    return whose payment state is ``Refunded``."""
    if order.order_state == OrderState.CANCELLED:
        return True
    return any(
        str(item.payment_state) == "Refunded"
        for info in order.return_info or ()
        for item in info.items
    )
