"""Who the order belongs to: Prima customer details, addresses and the keys for account matching.

Address lines (Prima has AddrLine1..6, a post code and a country), built in this order, with empty
lines left out so the rest move up:

1. ``company`` (and ``department``, after a comma);
2. the street: ``streetName streetNumber``, or ``streetNumber streetName`` for countries that write
   the number first (``number_first_countries``, default AU CA FR GB IE NZ US); ``pOBox`` when
   there is no street;
3. ``building`` and ``apartment``, comma separated;
4. ``additionalStreetInfo`` (and ``additionalAddressInfo``, after a comma);
5. ``city``;
6. ``region`` and ``state``, comma separated (each only once when they are equal).

The post code goes to Prima's post code field, the country (ISO 3166-1 alpha-2, upper case) to its
country field. Names, e-mail and phone numbers are personal data: they never appear in reprs,
messages or logs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from attrs import field, frozen

from ..commercetools._models import Address, Customer, Order
from ..errors import ConfigurationError
from ..prima import CustomerDetails, PostalAddress
from ._cfgread import reject_unknown, str_list, str_or_none, sub_path, table

__all__ = [
    "AccountMatch",
    "AccountSource",
    "CustomerConfig",
    "MappedCustomer",
    "map_customer",
    "normalise_email",
    "split_address",
]

_NUMBER_FIRST: Final = frozenset({"AU", "CA", "FR", "GB", "IE", "NZ", "US"})


class AccountSource(enum.StrEnum):
    """Where the Prima account code of a customer can come from (tried in the configured order)."""

    ORDER_CUSTOM_FIELD = "order_custom_field"
    """The order's custom field named ``account_field``."""
    CUSTOMER_CUSTOM_FIELD = "customer_custom_field"
    """The customer's custom field named ``account_field``."""
    CUSTOMER_NUMBER = "customer_number"
    """The customer's ``customerNumber``."""
    CUSTOMER_EXTERNAL_ID = "customer_external_id"
    """The customer's ``externalId``."""


@frozen(kw_only=True)
class CustomerConfig:
    """How customers are read: account code sources (in order), the custom field holding the
    account code, and the countries whose street number precedes the street name."""

    account_sources: tuple[AccountSource, ...] = ()
    account_field: str | None = None
    number_first_countries: frozenset[str] = _NUMBER_FIRST

    def __attrs_post_init__(self) -> None:
        custom = {AccountSource.ORDER_CUSTOM_FIELD, AccountSource.CUSTOMER_CUSTOM_FIELD}
        if custom.intersection(self.account_sources) and not self.account_field:
            raise ConfigurationError(
                "customers.account_field: required when a custom field is an account source"
            )

    @classmethod
    def from_dict(cls, data: object, path: str = "customers") -> CustomerConfig:
        """Read the ``[customers]`` table of mapping.toml::

            [customers]
            account_sources = ["customer_custom_field", "customer_number"]
            account_field = "primaAccount"
            number_first_countries = ["GB", "US"]

        Raises ConfigurationError naming the setting path.
        """
        raw = table(data, path)
        reject_unknown(raw, ("account_field", "account_sources", "number_first_countries"), path)
        sources: list[AccountSource] = []
        here = sub_path(path, "account_sources")
        for index, name in enumerate(str_list(raw, "account_sources", path)):
            if name not in set(AccountSource):
                raise ConfigurationError(
                    f"{sub_path(here, index)}: expected one of "
                    f"{', '.join(s.value for s in AccountSource)}"
                )
            sources.append(AccountSource(name))
        countries = (
            frozenset(c.upper() for c in str_list(raw, "number_first_countries", path))
            if "number_first_countries" in raw
            else _NUMBER_FIRST
        )
        try:
            return cls(
                account_sources=tuple(sources),
                account_field=str_or_none(raw, "account_field", path),
                number_first_countries=countries,
            )
        except ConfigurationError as exc:
            raise ConfigurationError(path + str(exc).removeprefix("customers")) from None


@frozen(kw_only=True)
class AccountMatch:
    """What the customer step matches a Prima account on: the commercetools customer id (empty for
    guests), the normalised e-mail address and an account code when one is configured and set."""

    customer_id: str = ""
    email: str = field(default="", repr=False)
    account_code: str = ""


@frozen(kw_only=True)
class MappedCustomer:
    """The customer side of a sales order."""

    details: CustomerDetails
    delivery_address: PostalAddress | None = None
    invoice_address: PostalAddress | None = None
    invoice_name: str = field(default="", repr=False)
    match: AccountMatch = AccountMatch()


def normalise_email(email: str | None) -> str:
    """An e-mail address as accounts are matched on: trimmed, lower case (``""`` for none).

    Lower-casing the local part is not strictly RFC 5321, but no shop treats ``Ann@x`` and
    ``ann@x`` as two people, and matching must not create a second account for them.
    """
    return (email or "").strip().lower()


def _join(*parts: str | None, sep: str = ", ") -> str:
    seen: list[str] = []
    for part in parts:
        text = (part or "").strip()
        if text and text not in seen:
            seen.append(text)
    return sep.join(seen)


def split_address(
    address: Address, *, number_first_countries: frozenset[str] = _NUMBER_FIRST
) -> PostalAddress:
    """A commercetools address as Prima's (up to six lines, post code, country): see the module
    docstring for the rules."""
    country = (address.country or "").strip().upper()
    if country in number_first_countries:
        street = _join(address.street_number, address.street_name, sep=" ")
    else:
        street = _join(address.street_name, address.street_number, sep=" ")
    lines = (
        _join(address.company, address.department),
        street or _join(address.po_box),
        _join(address.building, address.apartment),
        _join(address.additional_street_info, address.additional_address_info),
        _join(address.city),
        _join(address.region, address.state),
    )
    return PostalAddress(
        lines=tuple(line for line in lines if line),
        post_code=(address.postal_code or "").strip(),
        country=country,
    )


def _custom_text(fields: Mapping[str, Any] | None, name: str | None) -> str:
    if fields is None or name is None:
        return ""
    value = fields.get(name)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _account_code(order: Order, customer: Customer | None, config: CustomerConfig) -> str:
    for source in config.account_sources:
        if source is AccountSource.ORDER_CUSTOM_FIELD:
            code = _custom_text(order.custom.fields if order.custom else None, config.account_field)
        elif customer is None:
            continue
        elif source is AccountSource.CUSTOMER_CUSTOM_FIELD:
            fields = customer.custom.fields if customer.custom else None
            code = _custom_text(fields, config.account_field)
        elif source is AccountSource.CUSTOMER_NUMBER:
            code = (customer.customer_number or "").strip()
        else:
            code = (customer.external_id or "").strip()
        if code:
            return code
    return ""


def map_customer(
    order: Order, customer: Customer | None = None, config: CustomerConfig | None = None
) -> MappedCustomer:
    """The Prima customer details, delivery and invoice addresses and account-matching keys of an
    order (and its commercetools customer, when the caller fetched it).

    Names and phone numbers come from the billing address, else the shipping address, else the
    customer; the e-mail from the order, else the billing address, else the customer. The invoice
    address is the billing address, else the shipping address.
    """
    config = config or CustomerConfig()
    countries = config.number_first_countries
    billing = order.billing_address
    shipping = order.shipping_address
    person = billing or shipping
    delivery = split_address(shipping, number_first_countries=countries) if shipping else None
    invoice_source = billing or shipping
    invoice = (
        split_address(invoice_source, number_first_countries=countries) if invoice_source else None
    )

    def pick(address_value: str | None, customer_value: str | None) -> str:
        return (address_value or customer_value or "").strip()

    email = (
        order.customer_email
        or (billing.email if billing else None)
        or (customer.email if customer else None)
        or ""
    ).strip()
    account_code = _account_code(order, customer, config)
    forename = pick(
        person.first_name if person else None, customer.first_name if customer else None
    )
    surname = pick(person.last_name if person else None, customer.last_name if customer else None)
    company = pick(person.company if person else None, customer.company_name if customer else None)
    details = CustomerDetails(
        account_code=account_code,
        title=pick(
            (person.title or person.salutation) if person else None,
            (customer.title or customer.salutation) if customer else None,
        ),
        forename=forename,
        surname=surname,
        company=company,
        email=email,
        phone=pick(person.phone if person else None, None),
        mobile=pick(person.mobile if person else None, None),
        address=invoice or PostalAddress(),
        external_id=order.customer_id or "",
    )
    name_source = billing or shipping
    invoice_name = (
        _join(name_source.first_name, name_source.last_name, sep=" ") if name_source else ""
    ) or company
    return MappedCustomer(
        details=details,
        delivery_address=delivery,
        invoice_address=invoice,
        invoice_name=invoice_name,
        match=AccountMatch(
            customer_id=order.customer_id or "",
            email=normalise_email(email),
            account_code=account_code,
        ),
    )
