"""Line items and custom line items, with the variant and item-state shapes they use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import frozen

from ct_prima_sync.money import HighPrecisionMoney, Money

from .base import extra_field
from .common import CustomFields, LocalizedString, Reference
from .enums import CustomLineItemPriceMode, InventoryMode, LineItemMode, LineItemPriceMode
from .pricing import (
    DiscountedLineItemPriceForQuantity,
    MethodTaxedPrice,
    MethodTaxRate,
    Price,
    TaxedItemPrice,
    TaxRate,
)

__all__ = [
    "Attribute",
    "CustomLineItem",
    "ItemShippingDetails",
    "ItemShippingTarget",
    "ItemState",
    "LineItem",
    "ProductVariant",
]


@frozen(kw_only=True)
class Attribute:
    """A product attribute; ``value`` is kept as sent (its shape depends on the attribute type)."""

    name: str
    value: Any
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class ProductVariant:
    """The variant a line item sold; ``prices``, images and assets stay in ``extra``."""

    id: int
    sku: str | None = None
    key: str | None = None
    attributes: tuple[Attribute, ...] | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class ItemState:
    """``quantity`` units of an item are in workflow ``state``."""

    quantity: int
    state: Reference
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class ItemShippingTarget:
    """``quantity`` units of an item go to the address with key ``address_key``."""

    address_key: str
    quantity: int
    shipping_method_key: str | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class ItemShippingDetails:
    """How an item's quantity is split over shipping addresses."""

    targets: tuple[ItemShippingTarget, ...]
    valid: bool
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class LineItem:
    """A product line of an order.

    ``total_price`` is the line's total after all discounts (net or gross as the tax mode says);
    ``discounted_price_per_quantity`` splits the quantity by the unit price each part got.
    Lists the API always sends (``state``, ``taxedPricePortions``, ...) default to empty when an
    older payload lacks them.
    """

    id: str
    product_id: str
    variant: ProductVariant
    price: Price
    quantity: int
    total_price: Money
    name: LocalizedString | None = None
    key: str | None = None
    product_key: str | None = None
    product_type: Reference | None = None
    product_slug: LocalizedString | None = None
    discounted_price_per_quantity: tuple[DiscountedLineItemPriceForQuantity, ...] = ()
    tax_rate: TaxRate | None = None
    taxed_price: TaxedItemPrice | None = None
    taxed_price_portions: tuple[MethodTaxedPrice, ...] = ()
    per_method_tax_rate: tuple[MethodTaxRate, ...] = ()
    state: tuple[ItemState, ...] = ()
    supply_channel: Reference | None = None
    distribution_channel: Reference | None = None
    price_mode: LineItemPriceMode | str = LineItemPriceMode.PLATFORM
    line_item_mode: LineItemMode | str = LineItemMode.STANDARD
    inventory_mode: InventoryMode | str | None = None
    shipping_details: ItemShippingDetails | None = None
    custom: CustomFields | None = None
    added_at: datetime | None = None
    last_modified_at: datetime | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def sku(self) -> str | None:
        """The variant's SKU."""
        return self.variant.sku


@frozen(kw_only=True)
class CustomLineItem:
    """A line with an arbitrary amount (fees, services, ...): ``money`` per unit,
    ``total_price`` for the whole quantity after discounts."""

    id: str
    name: LocalizedString
    money: Money | HighPrecisionMoney
    total_price: Money
    slug: str
    quantity: int
    key: str | None = None
    tax_category: Reference | None = None
    tax_rate: TaxRate | None = None
    taxed_price: TaxedItemPrice | None = None
    taxed_price_portions: tuple[MethodTaxedPrice, ...] = ()
    per_method_tax_rate: tuple[MethodTaxRate, ...] = ()
    discounted_price_per_quantity: tuple[DiscountedLineItemPriceForQuantity, ...] = ()
    state: tuple[ItemState, ...] = ()
    price_mode: CustomLineItemPriceMode | str = CustomLineItemPriceMode.STANDARD
    shipping_details: ItemShippingDetails | None = None
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()
