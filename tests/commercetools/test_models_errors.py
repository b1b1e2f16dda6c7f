"""Malformed payloads: one PayloadError that names every bad field by its JSON path."""

from __future__ import annotations

from typing import Any

import pytest

from ct_prima_sync.commercetools import parse_inventory_entry, parse_order, parse_paged
from ct_prima_sync.errors import PayloadError


def money(cents: Any) -> dict[str, Any]:
    return {
        "type": "centPrecision",
        "currencyCode": "EUR",
        "centAmount": cents,
        "fractionDigits": 2,
    }


def item(index: int) -> dict[str, Any]:
    return {
        "id": f"li-{index}",
        "productId": "p",
        "variant": {"id": 1, "sku": f"SKU-{index}"},
        "price": {"id": "pr", "value": money(1000)},
        "quantity": 1,
        "totalPrice": money(1000),
    }


def order() -> dict[str, Any]:
    return {
        "id": "order-1",
        "version": 1,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "lastModifiedAt": "2026-01-01T00:00:00.000Z",
        "totalPrice": money(4000),
        "customerEmail": "erika@example.com",
        "lineItems": [item(i) for i in range(4)],
    }


def test_a_bad_amount_deep_in_a_line_item_is_named_by_its_path() -> None:
    data = order()
    data["lineItems"][3]["price"]["value"]["centAmount"] = "1000"

    with pytest.raises(PayloadError) as caught:
        parse_order(data)

    assert caught.value.path == "lineItems[3].price.value.centAmount"
    assert "expected an integer" in str(caught.value)


def test_an_amount_sent_as_a_float_is_refused() -> None:
    data = order()
    data["totalPrice"]["centAmount"] = 40.0

    with pytest.raises(PayloadError) as caught:
        parse_order(data)

    assert caught.value.path == "totalPrice.centAmount"


def test_every_bad_field_is_listed_in_one_error() -> None:
    data = order()
    del data["totalPrice"]
    data["version"] = "one"
    data["lineItems"][1]["quantity"] = None

    with pytest.raises(PayloadError) as caught:
        parse_order(data)

    message = str(caught.value)
    assert "version: expected an integer" in message
    assert "totalPrice: required field is missing" in message
    assert "lineItems[1].quantity: expected an integer" in message


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.update(createdAt="yesterday"), "createdAt"),
        (lambda d: d.update(createdAt="2026-01-01T00:00:00"), "createdAt"),
        (lambda d: d.update(lineItems={"0": item(0)}), "lineItems"),
        (lambda d: d["lineItems"][0].update(variant="SKU-1"), "lineItems[0].variant"),
        (lambda d: d["lineItems"][2]["price"].pop("value"), "lineItems[2].price.value"),
        (lambda d: d.update(orderState=7), "orderState"),
        (lambda d: d.update(taxedPrice={"totalNet": money(1)}), "taxedPrice.totalGross"),
        (lambda d: d["totalPrice"].update(currencyCode="euro"), "totalPrice.currencyCode"),
        (
            lambda d: d["lineItems"][0].update(taxRate={"name": "x", "amount": "0.19"}),
            "lineItems[0].taxRate.amount",
        ),
    ],
)
def test_each_kind_of_malformed_field_names_its_path(mutate: Any, path: str) -> None:
    data = order()
    mutate(data)

    with pytest.raises(PayloadError) as caught:
        parse_order(data)

    assert caught.value.path == path


def test_a_bad_currency_code_is_named_but_not_echoed() -> None:
    data = order()
    data["totalPrice"]["currencyCode"] = "erika@example.com"

    with pytest.raises(PayloadError) as caught:
        parse_order(data)

    assert caught.value.path == "totalPrice.currencyCode"
    assert "ISO 4217" in str(caught.value)
    assert "erika" not in str(caught.value)


def test_a_payload_that_is_not_an_object_is_refused_clearly() -> None:
    with pytest.raises(PayloadError, match="expected an object"):
        parse_order(["not", "an", "order"])


def test_error_messages_never_echo_personal_data() -> None:
    data = order()
    data["customerEmail"] = {"address": "erika@example.com"}
    data["billingAddress"] = {"country": "DE", "firstName": ["Erika"]}

    with pytest.raises(PayloadError) as caught:
        parse_order(data)

    assert "erika" not in str(caught.value).lower()
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_bad_result_in_a_page_is_named_with_its_index() -> None:
    second = order()
    second["lineItems"][0]["quantity"] = "2"
    page = {"limit": 20, "offset": 0, "count": 2, "results": [order(), second]}

    with pytest.raises(PayloadError) as caught:
        parse_paged(page, parse_order)

    assert caught.value.path == "results[1].lineItems[0].quantity"


def test_a_page_without_results_is_refused() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_paged({"limit": 20, "offset": 0, "count": 0}, parse_inventory_entry)

    assert caught.value.path == "results"
