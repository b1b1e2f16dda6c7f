"""Prices, taxes and discounts: every shape that carries an amount.

Cent-precision fields are :class:`~ct_prima_sync.money.Money`; where the API allows
``TypedMoney`` (prices, discounted values, discount portions) the field is
``Money | HighPrecisionMoney`` and a high-precision amount keeps its ``preciseAmount``.
Tax rates are ``Decimal`` read from the JSON number as written (``0.19`` is ``Decimal("0.19")``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import frozen

from ct_prima_sync.money import HighPrecisionMoney, Money

from .base import extra_field
from .common import CustomFields, Reference

__all__ = [
    "DirectDiscount",
    "DiscountOnTotalPrice",
    "DiscountedLineItemPortion",
    "DiscountedLineItemPrice",
    "DiscountedLineItemPriceForQuantity",
    "DiscountedPrice",
    "DiscountedTotalPricePortion",
    "MethodTaxRate",
    "MethodTaxedPrice",
    "Price",
    "SubRate",
    "TaxPortion",
    "TaxRate",
    "TaxedItemPrice",
    "TaxedPrice",
]


@frozen(kw_only=True)
class DiscountedPrice:
    """A product discount on a price: the discounted ``value`` and the discount applied."""

    value: Money | HighPrecisionMoney
    discount: Reference
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Price:
    """The price a line item was sold at (before cart discounts)."""

    id: str
    value: Money | HighPrecisionMoney
    key: str | None = None
    country: str | None = None
    customer_group: Reference | None = None
    channel: Reference | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    discounted: DiscountedPrice | None = None
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class SubRate:
    """One component of a combined tax rate (``amount`` 0.05 is 5 %)."""

    name: str
    amount: Decimal
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class TaxRate:
    """The tax rate applied to an item (``amount`` 0.19 is 19 %)."""

    name: str
    amount: Decimal
    included_in_price: bool
    country: str
    id: str | None = None
    key: str | None = None
    state: str | None = None
    sub_rates: tuple[SubRate, ...] | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class TaxPortion:
    """The tax of one rate within a total."""

    rate: Decimal
    amount: Money
    name: str | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class TaxedPrice:
    """An order's (or its shipping's) net, gross and tax per rate."""

    total_net: Money
    total_gross: Money
    tax_portions: tuple[TaxPortion, ...]
    total_tax: Money | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class TaxedItemPrice:
    """An item's (line item, custom line item, shipping) net, gross and tax per rate, for its
    whole quantity."""

    total_net: Money
    total_gross: Money
    tax_portions: tuple[TaxPortion, ...]
    total_tax: Money | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class MethodTaxRate:
    """The tax rate of an item for one shipping method (multiple shipping)."""

    shipping_method_key: str
    tax_rate: TaxRate | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class MethodTaxedPrice:
    """The taxed price of the part of an item shipped with one method (multiple shipping)."""

    shipping_method_key: str
    taxed_price: TaxedItemPrice | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DiscountedLineItemPortion:
    """How much one cart discount took off a unit."""

    discount: Reference
    discounted_amount: Money | HighPrecisionMoney
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DiscountedLineItemPrice:
    """A unit price after cart discounts, with the discounts that made it."""

    value: Money | HighPrecisionMoney
    included_discounts: tuple[DiscountedLineItemPortion, ...] = ()
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DiscountedLineItemPriceForQuantity:
    """``quantity`` units sold at ``discounted_price``."""

    quantity: int
    discounted_price: DiscountedLineItemPrice
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DiscountedTotalPricePortion:
    """How much one discount took off the order total."""

    discount: Reference
    discounted_amount: Money | HighPrecisionMoney
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DiscountOnTotalPrice:
    """``discountOnTotalPrice``: a discount on the whole order, already spread by commercetools
    over the items' taxed prices; the net and gross amounts appear when taxes were computed."""

    discounted_amount: Money | HighPrecisionMoney
    included_discounts: tuple[DiscountedTotalPricePortion, ...] = ()
    discounted_net_amount: Money | HighPrecisionMoney | None = None
    discounted_gross_amount: Money | HighPrecisionMoney | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DirectDiscount:
    """A discount set directly on the cart. ``value`` and ``target`` are kept as sent (their
    shapes are open unions); their effect on amounts is already in the items' discounted prices
    and in ``discountOnTotalPrice``."""

    id: str
    value: Mapping[str, Any]
    target: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = extra_field()
