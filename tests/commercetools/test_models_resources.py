"""Customers, channels, inventory entries, messages, error bodies and pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ct_prima_sync.commercetools import (
    ChannelRole,
    OrderState,
    parse_channel,
    parse_customer,
    parse_error_response,
    parse_inventory_entry,
    parse_message,
    parse_order,
    parse_paged,
    unparse,
)
from ct_prima_sync.money import Money

TS = "2026-02-01T08:00:00.000Z"
META = {"id": "id-1", "version": 2, "createdAt": TS, "lastModifiedAt": TS}


def test_an_inventory_entry_reads_both_quantities_and_the_newer_fields() -> None:
    data = {
        **META,
        "sku": "SKU-1",
        "supplyChannel": {"typeId": "channel", "id": "depot-1"},
        "quantityOnStock": 10,
        "availableQuantity": 7,
        "restockableInDays": 3,
        "expectedDelivery": "2026-02-10T00:00:00.000Z",
        "minCartQuantity": 1,
        "maxCartQuantity": 5,
        "reservationExpirationInMinutes": 30,
        "stockLevels": {"safetyStock": 2, "reorderPoint": 4},
        "key": "SKU-1@depot-1",
    }

    entry = parse_inventory_entry(data)

    assert (entry.quantity_on_stock, entry.available_quantity) == (10, 7)
    assert entry.supply_channel is not None
    assert entry.supply_channel.id == "depot-1"
    assert entry.expected_delivery == datetime(2026, 2, 10, tzinfo=UTC)
    assert entry.reservation_expiration_in_minutes == 30
    assert entry.stock_levels == {"safetyStock": 2, "reorderPoint": 4}
    assert unparse(entry) == data


def test_a_customer_reads_without_personal_data_in_its_repr() -> None:
    data = {
        **META,
        "email": "erika@example.com",
        "firstName": "Erika",
        "lastName": "Mustermann",
        "dateOfBirth": "1980-05-17",
        "vatId": "DE123456789",
        "password": "****aGg=",
        "addresses": [{"id": "a1", "country": "DE", "streetName": "Heidestrasse"}],
        "shippingAddressIds": ["a1"],
        "billingAddressIds": [],
        "isEmailVerified": True,
        "stores": [{"typeId": "store", "key": "de"}],
        "customerGroupAssignments": [],
        "authenticationMode": "Password",
        "customerNumber": "C-42",
    }

    customer = parse_customer(data)

    assert customer.email == "erika@example.com"
    assert customer.date_of_birth == date(1980, 5, 17)
    assert customer.addresses[0].street_name == "Heidestrasse"
    assert customer.stores[0].key == "de"
    text = repr(customer)
    for secret in ("erika", "Erika", "Mustermann", "1980", "DE123456789", "aGg", "Heidestrasse"):
        assert secret not in text
    assert "C-42" in text
    assert unparse(customer) == data


def test_a_channel_reads_roles_and_location_and_keeps_an_unknown_role() -> None:
    data = {
        **META,
        "key": "depot-berlin",
        "roles": ["InventorySupply", "PickupPoint"],
        "name": {"en": "Berlin"},
        "address": {"country": "DE", "city": "Berlin"},
        "geoLocation": {"type": "Point", "coordinates": [13.4, 52.52]},
    }

    channel = parse_channel(data)

    assert channel.roles == (ChannelRole.INVENTORY_SUPPLY, "PickupPoint")
    assert channel.geo_location is not None
    assert channel.geo_location.coordinates == (Decimal("13.4"), Decimal("52.52"))
    assert "Berlin" not in repr(channel.address)
    assert unparse(channel) == data


def test_an_order_created_message_carries_the_parsed_order() -> None:
    order = {
        **META,
        "totalPrice": {
            "type": "centPrecision",
            "currencyCode": "EUR",
            "centAmount": 100,
            "fractionDigits": 2,
        },
        "lineItems": [],
        "orderState": "Open",
    }
    data = {
        **META,
        "sequenceNumber": 1,
        "resource": {"typeId": "order", "id": "id-1"},
        "resourceVersion": 1,
        "type": "OrderCreated",
        "order": order,
    }

    message = parse_message(data)

    assert message.type == "OrderCreated"
    assert message.order is not None
    assert message.order.total_price == Money(100, "EUR", 2)
    assert message.order.order_state is OrderState.OPEN
    assert message.order == parse_order(order)


def test_any_other_message_type_keeps_its_own_fields_in_extra() -> None:
    data = {
        **META,
        "sequenceNumber": 5,
        "resource": {"typeId": "order", "id": "o-1"},
        "resourceVersion": 6,
        "type": "OrderShipmentStateChanged",
        "shipmentState": "Shipped",
        "oldShipmentState": "Pending",
        "notificationType": "Message",
    }

    message = parse_message(data)

    assert message.order is None
    assert message.extra["shipmentState"] == "Shipped"
    assert unparse(message) == data


def test_error_bodies_give_their_codes_and_the_auth_error() -> None:
    body = {
        "statusCode": 409,
        "message": "Version mismatch.",
        "errors": [{"code": "ConcurrentModification", "message": "mismatch", "currentVersion": 7}],
    }
    auth = {
        "statusCode": 401,
        "message": "invalid_token",
        "errors": [{"code": "invalid_token", "message": "invalid_token"}],
        "error": "invalid_token",
        "error_description": "The token expired",
    }

    conflict = parse_error_response(body)
    refused = parse_error_response(auth)

    assert conflict.codes == ("ConcurrentModification",)
    assert conflict.errors[0].extra["currentVersion"] == 7
    assert refused.error == "invalid_token"
    assert refused.error_description == "The token expired"
    assert unparse(refused) == auth


def test_a_page_parses_each_result_with_the_given_parser() -> None:
    entry: dict[str, Any] = {**META, "sku": "S", "quantityOnStock": 1, "availableQuantity": 1}
    page = {"limit": 2, "offset": 0, "count": 2, "total": 9, "results": [entry, entry]}

    parsed = parse_paged(page, parse_inventory_entry)

    assert (parsed.limit, parsed.count, parsed.total) == (2, 2, 9)
    assert [result.sku for result in parsed.results] == ["S", "S"]
    assert unparse(parsed) == page
