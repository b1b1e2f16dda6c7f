"""Customers: Prima customer details, address lines and the keys accounts are matched on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.commercetools._models import Address, Customer, CustomFields, Reference
from ct_prima_sync.commercetools._models.parse import parse_order
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping._customers import (
    AccountSource,
    CustomerConfig,
    map_customer,
    normalise_email,
    split_address,
)
from ct_prima_sync.prima import PostalAddress
from ct_prima_sync.testing.factories import LineSpec, make_order

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def order_with(**fields: Any) -> Any:
    data = make_order(lines=[LineSpec(sku="SKU-1", quantity=1, unit_price=1000)])
    data.update(fields)
    return parse_order(data)


def customer(**fields: Any) -> Customer:
    return Customer(
        id="cust-1", version=1, created_at=NOW, last_modified_at=NOW, email="x@y.z", **fields
    )


def test_a_full_address_fills_six_lines_in_the_documented_order() -> None:
    address = Address(
        country="de",
        company="Acme GmbH",
        department="Purchasing",
        street_name="Hauptstraße",
        street_number="5a",
        building="Haus B",
        apartment="3. OG",
        additional_street_info="Hinterhof",
        city="Berlin",
        region="Berlin",
        state="BE",
        postal_code=" 10115 ",
    )
    assert split_address(address) == PostalAddress(
        lines=(
            "Acme GmbH, Purchasing",
            "Hauptstraße 5a",
            "Haus B, 3. OG",
            "Hinterhof",
            "Berlin",
            "Berlin, BE",
        ),
        post_code="10115",
        country="DE",
    )


def test_empty_parts_are_left_out_and_the_rest_move_up() -> None:
    address = Address(country="FR", street_name="Rue de Rivoli", street_number="12", city="Paris")
    assert split_address(address).lines == ("12 Rue de Rivoli", "Paris")


def test_a_po_box_stands_in_for_a_missing_street() -> None:
    address = Address(country="NL", po_box="Postbus 100", city="Utrecht")
    assert split_address(address).lines == ("Postbus 100", "Utrecht")


def test_the_region_is_written_once_when_state_repeats_it() -> None:
    address = Address(country="US", city="Austin", region="TX", state="TX")
    assert split_address(address).lines == ("Austin", "TX")


def test_details_come_from_the_billing_address_and_the_order_email() -> None:
    order = order_with(
        customerEmail=" Ann.Lee@Example.COM ",
        customerId="cust-1",
        billingAddress={
            "country": "GB",
            "firstName": "Ann",
            "lastName": "Lee",
            "streetName": "High St",
            "streetNumber": "1",
            "city": "Leeds",
            "postalCode": "LS1 1AA",
            "phone": "+44 113 000",
        },
        shippingAddress={"country": "GB", "streetName": "Mill Lane", "city": "York"},
    )
    mapped = map_customer(order)
    assert mapped.details.forename == "Ann"
    assert mapped.details.surname == "Lee"
    assert mapped.details.phone == "+44 113 000"
    assert mapped.details.external_id == "cust-1"
    assert mapped.details.address.lines == ("1 High St", "Leeds")
    assert mapped.invoice_address == mapped.details.address
    assert mapped.delivery_address == PostalAddress(lines=("Mill Lane", "York"), country="GB")
    assert mapped.invoice_name == "Ann Lee"
    assert mapped.match.email == "ann.lee@example.com"
    assert mapped.match.customer_id == "cust-1"


def test_a_guest_order_with_only_a_shipping_address_invoices_that_address() -> None:
    order = order_with(billingAddress=None, shippingAddress={"country": "DE", "city": "Köln"})
    mapped = map_customer(order)
    assert mapped.invoice_address == mapped.delivery_address
    assert mapped.match.customer_id == ""


def test_the_account_code_follows_the_configured_sources_in_order() -> None:
    config = CustomerConfig.from_dict(
        {"account_sources": ["customer_custom_field", "customer_number"], "account_field": "acc"}
    )
    order = order_with(customerId="cust-1")
    numbered = customer(customer_number="C-100")
    assert map_customer(order, numbered, config).match.account_code == "C-100"
    with_field = customer(
        customer_number="C-100",
        custom=CustomFields(type=Reference(type_id="type", id="t"), fields={"acc": "PRIMA7"}),
    )
    assert map_customer(order, with_field, config).details.account_code == "PRIMA7"
    assert map_customer(order, None, config).match.account_code == ""


def test_the_order_custom_field_can_carry_the_account_code() -> None:
    config = CustomerConfig(
        account_sources=(AccountSource.ORDER_CUSTOM_FIELD,), account_field="acc"
    )
    order = order_with(custom={"type": {"typeId": "type", "id": "t"}, "fields": {"acc": 42}})
    assert map_customer(order, None, config).match.account_code == "42"


def test_names_fall_back_to_the_customer_when_addresses_lack_them() -> None:
    order = order_with(billingAddress={"country": "DE"}, shippingAddress=None)
    mapped = map_customer(order, customer(first_name="Kim", last_name="Roe"))
    assert (mapped.details.forename, mapped.details.surname) == ("Kim", "Roe")


def test_personal_data_stays_out_of_reprs() -> None:
    order = order_with(customerEmail="secret.person@example.com")
    mapped = map_customer(order)
    assert "secret.person" not in repr(mapped)
    assert "example.com" not in repr(mapped.match)


def test_emails_are_trimmed_and_lower_cased_for_matching() -> None:
    assert normalise_email("  Ann@Example.com ") == "ann@example.com"
    assert normalise_email(None) == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"account_sources": ["phone"]}, r"customers\.account_sources\[0\]: expected one of"),
        ({"account_sources": ["customer_custom_field"]}, r"customers\.account_field: required"),
        ({"account_field": ""}, r"customers\.account_field: expected a non-empty string"),
        ({"sources": []}, r"customers\.sources: unknown setting"),
    ],
)
def test_bad_configuration_names_the_setting(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CustomerConfig.from_dict(data)


parts = st.one_of(st.none(), st.text(alphabet="abcXYZ 12-.", max_size=12))


ADDRESS_PARTS = (
    "company",
    "street_name",
    "street_number",
    "building",
    "apartment",
    "additional_street_info",
    "city",
    "region",
)


@settings(deadline=None)
@given(
    fields=st.fixed_dictionaries(dict.fromkeys(ADDRESS_PARTS, parts)),
    country=st.sampled_from(["de", "GB", "US", "FR", "nl"]),
)
def test_address_lines_never_exceed_six_and_lose_no_part(
    fields: dict[str, Any], country: str
) -> None:
    split = split_address(Address(country=country, **fields))
    assert len(split.lines) <= 6
    assert all(line.strip() == line and line for line in split.lines)
    assert split.country == country.upper()
    text = "\n".join(split.lines)
    for part in fields.values():
        if part and part.strip():
            assert part.strip() in text
