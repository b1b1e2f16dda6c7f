"""Carts and API Extensions in FakeCommercetools, through the library's own client: a cart is
priced from the catalogue, taxed once it has a shipping address, becomes an order; registered
extensions are created and updated by key, and called on cart and order creates and updates the
way commercetools calls them, their refusals passed on to the caller."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.errors import (
    CommercetoolsApiError,
    ConcurrentModificationError,
    ValidationError,
)
from ct_prima_sync.mapping import MappingConfig, map_order_json
from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing.scenario import connect_commercetools

PROJECT = "shop"
HOOK = "http://extension.test/"


def _hook(answers: list[tuple[int, Any]], seen: list[httpx.Request]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body = answers.pop(0) if answers else (200, {"actions": []})
        return httpx.Response(status, json=body)

    return httpx.Client(transport=httpx.MockTransport(handle))


@pytest.fixture
def answers() -> list[tuple[int, Any]]:
    return []


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def fake(answers: list[tuple[int, Any]], seen: list[httpx.Request]) -> FakeCommercetools:
    fake = FakeCommercetools(project_key=PROJECT, seed=3, extension_client=_hook(answers, seen))
    fake.add_product("SKU-1", price=1190)
    fake.add_product("SKU-2", price=2500, tax_rate="0.07")
    return fake


@pytest.fixture
def client(fake: FakeCommercetools) -> Iterator[CommercetoolsClient]:
    with connect_commercetools(fake, sleep=lambda _: None) as ct:
        yield ct


def _checkout(client: CommercetoolsClient) -> dict[str, Any]:
    """A cart with two lines, taxed, with shipping: ready to order."""
    cart = client.request(
        "POST", "/carts", json={"currency": "EUR", "lineItems": [{"sku": "SKU-1", "quantity": 2}]}
    )
    assert "taxedPrice" not in cart
    cart = client.request(
        "POST",
        f"/carts/{cart['id']}",
        json={
            "version": cart["version"],
            "actions": [
                {"action": "addLineItem", "sku": "SKU-2", "quantity": 1},
                {"action": "setShippingAddress", "address": {"country": "DE"}},
                {
                    "action": "setCustomShippingMethod",
                    "shippingMethodName": "Standard",
                    "shippingRate": {"price": {"currencyCode": "EUR", "centAmount": 495}},
                },
            ],
        },
    )
    assert isinstance(cart, dict)
    return cart


MAPPING = MappingConfig.from_dict(
    {
        "sku": {"table": {"SKU-1": "P1", "SKU-2": "P2"}},
        "depots": {"default": "WH1"},
        "taxes": {"codes": [{"code": "S", "rate": "0.19"}, {"code": "R", "rate": "0.07"}]},
        "shipping": {"default": "CARRIAGE"},
    }
)


def test_a_cart_is_priced_taxed_and_becomes_an_order_that_maps_to_the_cent(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    cart = _checkout(client)

    assert cart["totalPrice"]["centAmount"] == 2 * 1190 + 2500 + 495
    assert cart["taxedPrice"]["totalGross"]["centAmount"] == 2 * 1190 + 2500 + 495
    order = client.request(
        "POST", "/orders", json={"cart": {"id": cart["id"]}, "version": cart["version"]}
    )

    assert order["cart"] == {"typeId": "cart", "id": cart["id"]}
    assert fake.carts()[0]["cartState"] == "Ordered"
    result = map_order_json(order, MAPPING)
    assert result.ok, result.issues
    assert result.totals is not None
    assert result.totals.gross.minor_units == 5375


def test_an_untaxed_cart_cannot_become_an_order(client: CommercetoolsClient) -> None:
    cart = client.request(
        "POST", "/carts", json={"currency": "EUR", "lineItems": [{"sku": "SKU-1"}]}
    )

    with pytest.raises(ValidationError) as refused:
        client.request("POST", "/orders", json={"id": cart["id"], "version": cart["version"]})

    assert refused.value.codes == ("InvalidOperation",)


def test_a_stale_cart_version_conflicts(client: CommercetoolsClient) -> None:
    cart = _checkout(client)

    with pytest.raises(ConcurrentModificationError):
        client.request("POST", "/orders", json={"id": cart["id"], "version": 1})


def test_an_unknown_sku_cannot_go_in_a_cart(client: CommercetoolsClient) -> None:
    with pytest.raises(ValidationError) as refused:
        client.request("POST", "/carts", json={"currency": "EUR", "lineItems": [{"sku": "NOPE"}]})

    assert refused.value.codes == ("InvalidInput",)


def _draft(**changes: Any) -> dict[str, Any]:
    return {
        "key": "guard",
        "destination": {
            "type": "HTTP",
            "url": HOOK,
            "authentication": {"type": "AuthorizationHeader", "headerValue": "Bearer s3cret"},
        },
        "triggers": [{"resourceTypeId": "cart", "actions": ["Create", "Update"]}],
        "timeoutInMs": 2000,
        **changes,
    }


def test_extensions_are_created_then_updated_by_key(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    created, was_new = client.extensions.put(_draft())
    updated, again = client.extensions.put(
        _draft(triggers=[{"resourceTypeId": "order", "actions": ["Create"]}], timeoutInMs=1500)
    )

    assert (was_new, again) == (True, False)
    assert created.id == updated.id
    assert updated.version == created.version + 1
    assert updated.timeout_in_ms == 1500
    assert updated.triggers == ({"resourceTypeId": "order", "actions": ["Create"]},)
    assert updated.has_authentication
    assert "s3cret" not in repr(updated)
    assert len(fake.extensions()) == 1
    assert client.extensions.get_by_key("other") is None


@pytest.mark.parametrize(
    "draft",
    [
        _draft(destination={"type": "AWSLambda", "arn": "x"}),
        _draft(triggers=[]),
        _draft(triggers=[{"resourceTypeId": "cart", "actions": ["Delete"]}]),
        _draft(timeoutInMs=10_001),
    ],
)
def test_a_bad_extension_draft_is_refused(
    client: CommercetoolsClient, draft: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        client.extensions.create(draft)


def test_extensions_see_every_cart_change_with_their_header_and_their_refusal_is_passed_on(
    client: CommercetoolsClient,
    fake: FakeCommercetools,
    answers: list[tuple[int, Any]],
    seen: list[httpx.Request],
) -> None:
    client.extensions.create(_draft())
    _checkout(client)
    answers.append(
        (400, {"errors": [{"code": "InvalidInput", "message": "This item cannot be ordered."}]})
    )

    with pytest.raises(ValidationError) as refused:
        client.request("POST", "/carts", json={"currency": "EUR", "lineItems": [{"sku": "SKU-1"}]})

    assert refused.value.codes == ("InvalidInput",)
    assert [r.headers["authorization"] for r in seen] == ["Bearer s3cret"] * 3
    inputs = [json.loads(r.content) for r in seen]
    assert [(i["action"], i["resource"]["typeId"]) for i in inputs] == [
        ("Create", "cart"),
        ("Update", "cart"),
        ("Create", "cart"),
    ]
    assert len(fake.carts()) == 1  # the refused cart was never kept


def test_a_condition_limits_which_changes_call_the_extension(
    client: CommercetoolsClient, seen: list[httpx.Request]
) -> None:
    trigger = {"resourceTypeId": "cart", "actions": ["Create"], "condition": 'country = "FR"'}
    client.extensions.create(_draft(triggers=[trigger]))

    client.request("POST", "/carts", json={"currency": "EUR", "country": "DE"})
    client.request("POST", "/carts", json={"currency": "EUR", "country": "FR"})

    assert len(seen) == 1


@pytest.mark.parametrize(
    "answer",
    [(500, {}), (200, {"actions": [{"action": "setKey", "key": "x"}]}), (200, "not json")],
)
def test_an_extension_that_answers_badly_fails_the_call(
    client: CommercetoolsClient, answers: list[tuple[int, Any]], answer: tuple[int, Any]
) -> None:
    client.extensions.create(_draft())
    answers.append(answer)

    with pytest.raises(CommercetoolsApiError) as failed:
        client.request("POST", "/carts", json={"currency": "EUR"})

    assert failed.value.codes == ("ExtensionBadResponse",)
    assert failed.value.status_code == 502
