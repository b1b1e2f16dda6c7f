"""The Customer (for matching orders to ERP customers)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from attrs import field, frozen

from .base import extra_field
from .common import Address, CustomFields, Reference

__all__ = ["Customer"]


@frozen(kw_only=True)
class Customer:
    """A commercetools customer. Names, e-mail, birth date, company, VAT id, password hash and
    addresses are personal data and stay out of ``repr``."""

    id: str
    version: int
    created_at: datetime
    last_modified_at: datetime
    email: str = field(repr=False)
    addresses: tuple[Address, ...] = field(default=(), repr=False)
    shipping_address_ids: tuple[str, ...] = ()
    billing_address_ids: tuple[str, ...] = ()
    is_email_verified: bool = False
    key: str | None = None
    customer_number: str | None = None
    external_id: str | None = None
    password: str | None = field(default=None, repr=False)
    first_name: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)
    middle_name: str | None = field(default=None, repr=False)
    title: str | None = field(default=None, repr=False)
    salutation: str | None = field(default=None, repr=False)
    date_of_birth: date | None = field(default=None, repr=False)
    company_name: str | None = field(default=None, repr=False)
    vat_id: str | None = field(default=None, repr=False)
    default_shipping_address_id: str | None = None
    default_billing_address_id: str | None = None
    customer_group: Reference | None = None
    stores: tuple[Reference, ...] = ()
    locale: str | None = None
    authentication_mode: str | None = None
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()
