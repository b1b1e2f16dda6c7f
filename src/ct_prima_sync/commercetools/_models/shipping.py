"""Shipping: the shipping info of single-shipping orders, the ``shipping`` entries of
multiple-shipping orders, and the deliveries and parcels recorded against them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from ct_prima_sync.money import Money

from .base import extra_field
from .common import Address, CustomFields, Reference
from .enums import ShippingMethodState
from .pricing import DiscountedLineItemPrice, TaxedItemPrice, TaxRate

__all__ = [
    "Delivery",
    "DeliveryItem",
    "Parcel",
    "ParcelMeasurements",
    "Shipping",
    "ShippingInfo",
    "ShippingRate",
    "TrackingData",
]


@frozen(kw_only=True)
class ShippingRate:
    """The rate the shipping price came from; ``tiers`` are kept as sent."""

    price: Money
    free_above: Money | None = None
    is_matching: bool | None = None
    tiers: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DeliveryItem:
    """``quantity`` units of the (custom) line item ``id``."""

    id: str
    quantity: int
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class ParcelMeasurements:
    """A parcel's size and weight."""

    height_in_millimeter: int | None = None
    length_in_millimeter: int | None = None
    width_in_millimeter: int | None = None
    weight_in_gram: int | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class TrackingData:
    """Carrier tracking of a parcel."""

    tracking_id: str | None = None
    carrier: str | None = None
    provider: str | None = None
    provider_transaction: str | None = None
    is_return: bool | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Parcel:
    """One parcel of a delivery."""

    id: str
    created_at: datetime
    key: str | None = None
    measurements: ParcelMeasurements | None = None
    tracking_data: TrackingData | None = None
    items: tuple[DeliveryItem, ...] | None = None
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Delivery:
    """A dispatch: which items left, in which parcels, to which address."""

    id: str
    created_at: datetime
    items: tuple[DeliveryItem, ...]
    parcels: tuple[Parcel, ...] = ()
    key: str | None = None
    address: Address | None = field(default=None, repr=False)
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class ShippingInfo:
    """How an order (or one of its shipping entries) ships and what that costs.

    ``price`` is before shipping discounts; ``discounted_price`` is present when a discount applied;
    ``taxed_price`` is for the discounted price.
    """

    shipping_method_name: str
    price: Money
    shipping_rate: ShippingRate
    shipping_method_state: ShippingMethodState | str = ShippingMethodState.MATCHES_CART
    taxed_price: TaxedItemPrice | None = None
    tax_rate: TaxRate | None = None
    tax_category: Reference | None = None
    shipping_method: Reference | None = None
    deliveries: tuple[Delivery, ...] | None = None
    discounted_price: DiscountedLineItemPrice | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Shipping:
    """One entry of ``shipping`` on a multiple-shipping order. ``shipping_rate_input`` is kept as
    sent (classification or score)."""

    shipping_key: str
    shipping_info: ShippingInfo
    shipping_address: Address = field(repr=False)
    shipping_rate_input: Mapping[str, Any] | None = None
    shipping_custom_fields: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()
