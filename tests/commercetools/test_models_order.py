"""parse_order: amounts, shipping, enums, unknown fields and personal data, as a user sees them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ct_prima_sync.commercetools import (
    InventoryMode,
    Order,
    OrderState,
    ShipmentState,
    ShippingMode,
    TaxMode,
    parse_order,
    unparse,
)
from ct_prima_sync.commercetools._converter import detailed_converter
from ct_prima_sync.money import HighPrecisionMoney, Money
from ct_prima_sync.testing.factories import random_order


def money(cents: int, currency: str = "EUR", digits: int = 2) -> dict[str, Any]:
    return {
        "type": "centPrecision",
        "currencyCode": currency,
        "centAmount": cents,
        "fractionDigits": digits,
    }


def ref(type_id: str, id_: str = "ref-1") -> dict[str, Any]:
    return {"typeId": type_id, "id": id_}


ADDRESS = {
    "country": "DE",
    "key": "home",
    "firstName": "Erika",
    "lastName": "Mustermann",
    "streetName": "Heidestrasse",
    "postalCode": "51147",
    "city": "Koeln",
    "email": "erika@example.com",
    "phone": "+49 221 1234567",
}


def taxed(net: int, gross: int, currency: str = "EUR", digits: int = 2) -> dict[str, Any]:
    return {
        "totalNet": money(net, currency, digits),
        "totalGross": money(gross, currency, digits),
        "totalTax": money(gross - net, currency, digits),
        "taxPortions": [
            {"name": "std", "rate": 0.19, "amount": money(gross - net, currency, digits)}
        ],
    }


def line_item(cents: int = 1000, currency: str = "EUR", digits: int = 2) -> dict[str, Any]:
    return {
        "id": "li-1",
        "productId": "p-1",
        "name": {"en": "Shirt"},
        "productType": ref("product-type"),
        "variant": {"id": 1, "sku": "SKU-1", "attributes": [{"name": "size", "value": "M"}]},
        "price": {"id": "price-1", "value": money(cents, currency, digits)},
        "quantity": 2,
        "discountedPricePerQuantity": [
            {
                "quantity": 2,
                "discountedPrice": {
                    "value": money(cents - 100, currency, digits),
                    "includedDiscounts": [
                        {
                            "discount": ref("cart-discount"),
                            "discountedAmount": money(100, currency, digits),
                        }
                    ],
                },
            }
        ],
        "taxRate": {
            "name": "std",
            "amount": 0.19,
            "includedInPrice": True,
            "country": "DE",
            "subRates": [{"name": "a", "amount": 0.15}, {"name": "b", "amount": 0.04}],
        },
        "taxedPrice": taxed(1513, 1800, currency, digits),
        "taxedPricePortions": [],
        "perMethodTaxRate": [],
        "state": [{"quantity": 2, "state": ref("state")}],
        "priceMode": "Platform",
        "lineItemMode": "Standard",
        "inventoryMode": "ReserveOnOrder",
        "supplyChannel": ref("channel", "depot-1"),
        "totalPrice": money((cents - 100) * 2, currency, digits),
    }


def order(currency: str = "EUR", digits: int = 2, cents: int = 1000) -> dict[str, Any]:
    return {
        "id": "order-1",
        "version": 3,
        "createdAt": "2026-03-14T09:26:53.589Z",
        "lastModifiedAt": "2026-03-14T09:26:53.589Z",
        "orderNumber": "WEB-1",
        "customerEmail": "erika@example.com",
        "totalPrice": money((cents - 100) * 2, currency, digits),
        "taxedPrice": taxed(1513, 1800, currency, digits),
        "orderState": "Confirmed",
        "shipmentState": "Pending",
        "taxMode": "Platform",
        "inventoryMode": "ReserveOnOrder",
        "origin": "Customer",
        "shippingMode": "Single",
        "shipping": [],
        "syncInfo": [],
        "lineItems": [line_item(cents, currency, digits)],
        "customLineItems": [],
        "billingAddress": ADDRESS,
        "shippingAddress": ADDRESS,
        "shippingInfo": {
            "shippingMethodName": "DHL",
            "price": money(500, currency, digits),
            "shippingRate": {"price": money(500, currency, digits), "tiers": []},
            "shippingMethodState": "MatchesCart",
            "deliveries": [
                {
                    "id": "d-1",
                    "createdAt": "2026-03-15T10:00:00.000Z",
                    "items": [{"id": "li-1", "quantity": 2}],
                    "parcels": [
                        {
                            "id": "parcel-1",
                            "createdAt": "2026-03-15T10:00:00.000Z",
                            "trackingData": {"trackingId": "T-1", "carrier": "DHL"},
                        }
                    ],
                    "address": ADDRESS,
                }
            ],
        },
    }


def test_an_order_reads_with_exact_money_and_typed_states() -> None:
    parsed = parse_order(order())

    assert parsed.total_price == Money(1800, "EUR", 2)
    assert parsed.order_state is OrderState.CONFIRMED
    assert parsed.shipment_state is ShipmentState.PENDING
    assert parsed.tax_mode is TaxMode.PLATFORM
    assert parsed.inventory_mode is InventoryMode.RESERVE_ON_ORDER
    assert parsed.created_at == datetime(2026, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
    item = parsed.line_items[0]
    assert item.sku == "SKU-1"
    assert item.price.value == Money(1000, "EUR", 2)
    discounted = item.discounted_price_per_quantity[0]
    assert discounted.quantity == 2
    assert discounted.discounted_price.value == Money(900, "EUR", 2)
    assert discounted.discounted_price.included_discounts[0].discounted_amount == Money(
        100, "EUR", 2
    )
    assert item.tax_rate is not None
    assert item.tax_rate.amount == Decimal("0.19")
    assert [sub.amount for sub in item.tax_rate.sub_rates or ()] == [
        Decimal("0.15"),
        Decimal("0.04"),
    ]
    assert item.taxed_price is not None
    assert item.taxed_price.total_tax == Money(287, "EUR", 2)
    assert item.supply_channel is not None
    assert item.supply_channel.id == "depot-1"
    assert parsed.shipping_info is not None
    parcel = parsed.shipping_info.deliveries[0].parcels[0]  # type: ignore[index]
    assert parcel.tracking_data is not None
    assert parcel.tracking_data.tracking_id == "T-1"


@pytest.mark.parametrize(
    ("currency", "digits", "cents"),
    [("JPY", 0, 1500), ("EUR", 2, 1999), ("KWD", 3, 12345)],
)
def test_amounts_keep_the_currency_and_fraction_digits_sent(
    currency: str, digits: int, cents: int
) -> None:
    parsed = parse_order(order(currency, digits, cents))

    assert parsed.line_items[0].price.value == Money(cents, currency, digits)
    assert parsed.total_price == Money((cents - 100) * 2, currency, digits)
    assert parsed.taxed_price is not None
    assert parsed.taxed_price.tax_portions[0].amount.fraction_digits == digits


def test_a_high_precision_price_keeps_its_precise_amount() -> None:
    data = order()
    data["lineItems"][0]["price"]["value"] = {
        "type": "highPrecision",
        "currencyCode": "EUR",
        "centAmount": 1,
        "preciseAmount": 123456,
        "fractionDigits": 7,
    }

    value = parse_order(data).line_items[0].price.value

    assert isinstance(value, HighPrecisionMoney)
    assert value.precise_amount == 123456
    assert value.fraction_digits == 7
    assert value.to_money() == Money(1, "EUR", 2)
    assert unparse(parse_order(data)) == data


def test_unknown_fields_are_kept_at_every_level_and_written_back() -> None:
    data = order()
    data["brandNewField"] = {"nested": [1, 2]}
    data["lineItems"][0]["recurrenceInfo"] = {"policy": "monthly"}
    data["lineItems"][0]["taxRate"]["futureFlag"] = True

    parsed = parse_order(data)

    assert parsed.extra == {"brandNewField": {"nested": [1, 2]}}
    assert parsed.line_items[0].extra == {"recurrenceInfo": {"policy": "monthly"}}
    assert parsed.line_items[0].tax_rate is not None
    assert parsed.line_items[0].tax_rate.extra == {"futureFlag": True}
    assert unparse(parsed) == data


def test_an_unknown_enum_value_is_kept_as_the_string_sent() -> None:
    data = order()
    data["orderState"] = "OnHold"
    data["lineItems"][0]["inventoryMode"] = "ReserveSomewhereElse"

    parsed = parse_order(data)

    assert parsed.order_state == "OnHold"
    assert not isinstance(parsed.order_state, OrderState)
    assert parsed.line_items[0].inventory_mode == "ReserveSomewhereElse"
    assert unparse(parsed)["orderState"] == "OnHold"


def test_multiple_shipping_entries_parse_with_their_addresses_and_prices() -> None:
    data = order()
    info = data.pop("shippingInfo")
    data["shippingMode"] = "Multiple"
    data["shipping"] = [
        {
            "shippingKey": "home",
            "shippingInfo": info,
            "shippingAddress": ADDRESS,
            "shippingRateInput": {"type": "Classification", "key": "big"},
        },
        {"shippingKey": "work", "shippingInfo": info, "shippingAddress": ADDRESS},
    ]

    parsed = parse_order(data)

    assert parsed.shipping_mode is ShippingMode.MULTIPLE
    assert parsed.shipping_info is None
    assert [s.shipping_key for s in parsed.shipping] == ["home", "work"]
    assert parsed.shipping[0].shipping_info.price == Money(500, "EUR", 2)
    assert parsed.shipping[0].shipping_rate_input == {"type": "Classification", "key": "big"}
    assert unparse(parsed) == data


def test_order_level_and_direct_discounts_parse() -> None:
    data = order()
    data["discountOnTotalPrice"] = {
        "discountedAmount": money(300),
        "includedDiscounts": [{"discount": ref("cart-discount"), "discountedAmount": money(300)}],
        "discountedNetAmount": money(252),
        "discountedGrossAmount": money(300),
    }
    data["directDiscounts"] = [
        {"id": "dd-1", "value": {"type": "relative", "permyriad": 1000}, "target": None}
    ]

    parsed = parse_order(data)

    assert parsed.discount_on_total_price is not None
    assert parsed.discount_on_total_price.discounted_net_amount == Money(252, "EUR", 2)
    assert parsed.direct_discounts is not None
    assert parsed.direct_discounts[0].value == {"type": "relative", "permyriad": 1000}


def test_personal_data_never_appears_in_the_repr() -> None:
    parsed = parse_order(order())
    text = repr(parsed)

    for secret in ("erika", "Erika", "Mustermann", "Heidestrasse", "51147", "221 1234567"):
        assert secret not in text
    assert "order-1" in text  # the repr is still useful


def test_lists_the_api_always_sends_default_to_empty_for_older_payloads() -> None:
    data = order()
    for key in ("shipping", "syncInfo", "customLineItems", "shippingMode"):
        del data[key]

    parsed = parse_order(data)

    assert parsed.shipping == ()
    assert parsed.custom_line_items == ()
    assert parsed.shipping_mode is ShippingMode.SINGLE


def test_parsed_orders_are_frozen() -> None:
    parsed = parse_order(order())

    with pytest.raises(AttributeError):
        parsed.version = 4  # type: ignore[misc]


def test_parse_does_not_change_the_input() -> None:
    data = order()
    data["unknown"] = 1
    before = copy.deepcopy(data)

    parse_order(data)

    assert data == before


currencies = st.sampled_from([("JPY", 0), ("EUR", 2), ("KWD", 3), ("CLF", 4)])


@given(
    currency=currencies,
    cents=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    rate=st.decimals(min_value=0, max_value=1, places=4),
)
@example(currency=("JPY", 0), cents=0, rate=Decimal("0.1"))
def test_any_amount_and_rate_reads_exactly_and_writes_back_unchanged(
    currency: tuple[str, int], cents: int, rate: Decimal
) -> None:
    code, digits = currency
    data = order(code, digits)
    data["lineItems"][0]["price"]["value"] = money(cents, code, digits)
    data["lineItems"][0]["taxRate"]["amount"] = float(rate)

    parsed = parse_order(data)

    assert parsed.line_items[0].price.value == Money(cents, code, digits)
    assert parsed.line_items[0].tax_rate is not None
    assert parsed.line_items[0].tax_rate.amount == rate
    assert unparse(parsed) == data


@given(seed=st.integers(min_value=0, max_value=100_000))
def test_the_fast_parser_agrees_with_the_validating_one_on_realistic_orders(seed: int) -> None:
    # parse_order's hot path is generated by hand; the detailed cattrs converter is the reference.
    data = random_order(seed)

    parsed = parse_order(data)

    assert parsed == detailed_converter().structure(data, Order)
    assert unparse(parsed) == data
