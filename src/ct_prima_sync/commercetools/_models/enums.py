"""The commercetools enumerations the sync relies on, as ``enum.StrEnum``.

Unknown values: commercetools adds enum values as the API grows. A model field that holds one of
these enums is typed ``TheEnum | str``: a value this library knows becomes the enum member, any
other value stays the plain string the API sent, so parsing never fails on a new value.
``isinstance(order.order_state, OrderState)`` tells the two apart; comparisons with the wire
string (``order.order_state == "Open"``) work either way.
"""

from __future__ import annotations

import enum

from ct_prima_sync.money import RoundingMode

__all__ = [
    "CartOrigin",
    "ChannelRole",
    "CustomLineItemPriceMode",
    "InventoryMode",
    "LineItemMode",
    "LineItemPriceMode",
    "OrderState",
    "PaymentState",
    "ReturnPaymentState",
    "ReturnShipmentState",
    "RoundingMode",
    "ShipmentState",
    "ShippingMethodState",
    "ShippingMode",
    "TaxCalculationMode",
    "TaxMode",
    "TransactionState",
    "TransactionType",
]


class OrderState(enum.StrEnum):
    """``orderState``."""

    OPEN = "Open"
    CONFIRMED = "Confirmed"
    COMPLETE = "Complete"
    CANCELLED = "Cancelled"


class ShipmentState(enum.StrEnum):
    """``shipmentState`` (note commercetools spells ``Canceled`` here, ``Cancelled`` above)."""

    SHIPPED = "Shipped"
    DELIVERED = "Delivered"
    READY = "Ready"
    PENDING = "Pending"
    DELAYED = "Delayed"
    PARTIAL = "Partial"
    BACKORDER = "Backorder"
    CANCELED = "Canceled"


class ReturnShipmentState(enum.StrEnum):
    """``returnInfo.items[].shipmentState``."""

    ADVISED = "Advised"
    RETURNED = "Returned"
    BACK_IN_STOCK = "BackInStock"
    UNUSABLE = "Unusable"


class ReturnPaymentState(enum.StrEnum):
    """``returnInfo.items[].paymentState``."""

    NON_REFUNDABLE = "NonRefundable"
    INITIAL = "Initial"
    REFUNDED = "Refunded"
    NOT_REFUNDED = "NotRefunded"


class PaymentState(enum.StrEnum):
    """``paymentState``."""

    BALANCE_DUE = "BalanceDue"
    FAILED = "Failed"
    PENDING = "Pending"
    CREDIT_OWED = "CreditOwed"
    PAID = "Paid"


class TaxMode(enum.StrEnum):
    """``taxMode``: who computes the taxes."""

    PLATFORM = "Platform"
    EXTERNAL = "External"
    EXTERNAL_AMOUNT = "ExternalAmount"
    DISABLED = "Disabled"


class TaxCalculationMode(enum.StrEnum):
    """``taxCalculationMode``: where tax is rounded."""

    LINE_ITEM_LEVEL = "LineItemLevel"
    UNIT_PRICE_LEVEL = "UnitPriceLevel"


class InventoryMode(enum.StrEnum):
    """``inventoryMode`` of an order or line item: how it reserved stock."""

    NONE = "None"
    TRACK_ONLY = "TrackOnly"
    RESERVE_ON_ORDER = "ReserveOnOrder"
    RESERVE_ON_CART = "ReserveOnCart"


class ShippingMode(enum.StrEnum):
    """``shippingMode``: one ``shippingInfo`` or several ``shipping`` entries."""

    SINGLE = "Single"
    MULTIPLE = "Multiple"


class CartOrigin(enum.StrEnum):
    """``origin``: who created the cart the order came from."""

    CUSTOMER = "Customer"
    MERCHANT = "Merchant"
    QUOTE = "Quote"
    RECURRING_ORDER = "RecurringOrder"


class LineItemMode(enum.StrEnum):
    """``lineItemMode``."""

    STANDARD = "Standard"
    GIFT_LINE_ITEM = "GiftLineItem"


class LineItemPriceMode(enum.StrEnum):
    """``priceMode`` of a line item."""

    PLATFORM = "Platform"
    EXTERNAL_PRICE = "ExternalPrice"
    EXTERNAL_TOTAL = "ExternalTotal"


class CustomLineItemPriceMode(enum.StrEnum):
    """``priceMode`` of a custom line item."""

    STANDARD = "Standard"
    EXTERNAL = "External"


class ShippingMethodState(enum.StrEnum):
    """``shippingMethodState``."""

    DOES_NOT_MATCH_CART = "DoesNotMatchCart"
    MATCHES_CART = "MatchesCart"


class ChannelRole(enum.StrEnum):
    """A channel's ``roles``."""

    INVENTORY_SUPPLY = "InventorySupply"
    PRODUCT_DISTRIBUTION = "ProductDistribution"
    ORDER_EXPORT = "OrderExport"
    ORDER_IMPORT = "OrderImport"
    PRIMARY = "Primary"


class TransactionType(enum.StrEnum):
    """A payment transaction's ``type``."""

    AUTHORIZATION = "Authorization"
    CANCEL_AUTHORIZATION = "CancelAuthorization"
    CHARGE = "Charge"
    REFUND = "Refund"
    CHARGEBACK = "Chargeback"


class TransactionState(enum.StrEnum):
    """A payment transaction's ``state``."""

    INITIAL = "Initial"
    PENDING = "Pending"
    SUCCESS = "Success"
    FAILURE = "Failure"
