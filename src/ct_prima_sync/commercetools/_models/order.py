"""The Order, with the small shapes only orders use (sync info, payment info, discount codes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from ct_prima_sync.money import Money

from .base import extra_field
from .common import Address, CustomFields, Reference
from .enums import (
    CartOrigin,
    InventoryMode,
    OrderState,
    PaymentState,
    RoundingMode,
    ShipmentState,
    ShippingMode,
    TaxCalculationMode,
    TaxMode,
)
from .line_items import CustomLineItem, LineItem
from .pricing import DirectDiscount, DiscountOnTotalPrice, TaxedPrice
from .returns import ReturnInfo
from .shipping import Shipping, ShippingInfo

__all__ = ["DiscountCodeInfo", "Order", "PaymentInfo", "SyncInfo"]


@frozen(kw_only=True)
class SyncInfo:
    """A record that the order was synced to ``channel`` (the ERP reference is ``external_id``)."""

    channel: Reference
    synced_at: datetime
    external_id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class PaymentInfo:
    """The payments attached to the order."""

    payments: tuple[Reference, ...]
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class DiscountCodeInfo:
    """A discount code the customer entered and whether it applied (``state``)."""

    discount_code: Reference
    state: str | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Order:
    """A commercetools order: every money- and fulfilment-relevant field, typed.

    Amounts are exact :class:`~ct_prima_sync.money.Money`. ``customer_email`` and the addresses
    are personal data and stay out of ``repr``. Keys this model does not name are in ``extra``.
    Lists the API always sends default to empty when an older payload lacks them; optional lists
    are ``None`` when absent.
    """

    id: str
    version: int
    created_at: datetime
    last_modified_at: datetime
    total_price: Money
    line_items: tuple[LineItem, ...]
    custom_line_items: tuple[CustomLineItem, ...] = ()
    order_state: OrderState | str = OrderState.OPEN
    origin: CartOrigin | str = CartOrigin.CUSTOMER
    shipping_mode: ShippingMode | str = ShippingMode.SINGLE
    shipping: tuple[Shipping, ...] = ()
    sync_info: tuple[SyncInfo, ...] = ()
    order_number: str | None = None
    purchase_order_number: str | None = None
    customer_id: str | None = None
    customer_email: str | None = field(default=None, repr=False)
    customer_group: Reference | None = None
    anonymous_id: str | None = None
    business_unit: Reference | None = None
    store: Reference | None = None
    taxed_price: TaxedPrice | None = None
    taxed_shipping_price: TaxedPrice | None = None
    discount_on_total_price: DiscountOnTotalPrice | None = None
    direct_discounts: tuple[DirectDiscount, ...] | None = None
    discount_codes: tuple[DiscountCodeInfo, ...] | None = None
    price_rounding_mode: RoundingMode | str | None = None
    tax_mode: TaxMode | str | None = None
    tax_rounding_mode: RoundingMode | str | None = None
    tax_calculation_mode: TaxCalculationMode | str | None = None
    inventory_mode: InventoryMode | str | None = None
    billing_address: Address | None = field(default=None, repr=False)
    shipping_address: Address | None = field(default=None, repr=False)
    item_shipping_addresses: tuple[Address, ...] | None = field(default=None, repr=False)
    shipping_key: str | None = None
    shipping_info: ShippingInfo | None = None
    shipping_rate_input: Mapping[str, Any] | None = None
    shipping_custom_fields: CustomFields | None = None
    payment_info: PaymentInfo | None = None
    return_info: tuple[ReturnInfo, ...] | None = None
    country: str | None = None
    locale: str | None = None
    cart: Reference | None = None
    shipment_state: ShipmentState | str | None = None
    payment_state: PaymentState | str | None = None
    state: Reference | None = None
    custom: CustomFields | None = None
    completed_at: datetime | None = None
    last_message_sequence_number: int | None = None
    extra: Mapping[str, Any] = extra_field()
