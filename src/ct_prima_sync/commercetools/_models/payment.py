"""The Payment (``GET /payments/{id}``, scope ``view_payments``): what was authorised, charged and
refunded for an order, by which method and payment service provider."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from ct_prima_sync.money import HighPrecisionMoney, Money

from .base import extra_field
from .common import CustomFields, LocalizedString, Reference
from .enums import TransactionState, TransactionType

__all__ = ["Payment", "PaymentMethodInfo", "PaymentStatus", "Transaction"]


@frozen(kw_only=True)
class PaymentMethodInfo:
    """How the customer paid: ``method`` (``"card"``, ``"paypal"``, ...) through
    ``payment_interface`` (the payment service provider)."""

    payment_interface: str | None = None
    method: str | None = None
    name: LocalizedString | None = None
    interface_account: str | None = None
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class PaymentStatus:
    """The provider's status of the payment."""

    interface_code: str | None = None
    interface_text: str | None = None
    state: Reference | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Transaction:
    """One money movement: an authorisation, its cancellation, a charge, a refund or a
    chargeback. ``interaction_id`` is the provider's reference for it."""

    id: str
    type: TransactionType | str
    amount: Money
    state: TransactionState | str
    timestamp: datetime | None = None
    interaction_id: str | None = field(default=None, repr=False)
    interface_id: str | None = field(default=None, repr=False)
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Payment:
    """A commercetools Payment. Provider references stay out of ``repr``."""

    id: str
    version: int
    amount_planned: Money
    payment_method_info: PaymentMethodInfo
    transactions: tuple[Transaction, ...] = ()
    created_at: datetime | None = None
    last_modified_at: datetime | None = None
    key: str | None = None
    interface_id: str | None = field(default=None, repr=False)
    external_id: str | None = field(default=None, repr=False)
    customer: Reference | None = None
    anonymous_id: str | None = None
    amount_authorized: Money | HighPrecisionMoney | None = None
    amount_paid: Money | HighPrecisionMoney | None = None
    amount_refunded: Money | HighPrecisionMoney | None = None
    payment_status: PaymentStatus | None = None
    interface_interactions: tuple[CustomFields, ...] = ()
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()
