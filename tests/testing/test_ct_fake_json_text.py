"""The commercetools fake keeps each stored resource's JSON text: a read after any change sees
the new version (an update through the API, a merchant's update or order edit, a delete, the
message sequence the store sets), never the text kept for the old one, and every answer is the
text encoding the answer afresh would give."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from ct_prima_sync.testing import FakeCommercetools

from ._ct_fake_http import Clock, signed_in

PROJECT = "test-project"
ORDERS = f"/{PROJECT}/orders"
BY_MODIFIED = {"sort": ["lastModifiedAt asc", "id asc"], "limit": "500"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeCommercetools:
    return FakeCommercetools(project_key=PROJECT, clock=clock, seed=3)


@pytest.fixture
def api(fake: FakeCommercetools) -> Iterator[httpx.Client]:
    with closing(signed_in(fake)) as http:
        yield http


def _order(number: str) -> dict[str, Any]:
    return {
        "orderNumber": number,
        "totalPrice": {"currencyCode": "EUR", "centAmount": 1000},
        "lineItems": [],
        "shippingAddress": {"country": "DE", "city": "Köln"},
    }


def _fresh(reply: httpx.Response) -> Any:
    """The reply's JSON, after checking its bytes are what encoding it afresh gives."""
    assert reply.content == json.dumps(reply.json(), separators=(",", ":")).encode()
    return reply.json()


def _read(api: httpx.Client, order_id: str) -> dict[str, Any]:
    reply = api.get(f"{ORDERS}/{order_id}")
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = _fresh(reply)
    return found


def _page(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    reply = api.get(ORDERS, params={**BY_MODIFIED, **params})
    assert reply.status_code == 200, reply.text
    results: list[dict[str, Any]] = _fresh(reply)["results"]
    return results


def test_an_update_through_the_api_is_seen_by_reads_and_queries(
    fake: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    order = fake.add_order(_order("A-1"))
    fake.add_order(_order("A-2"))
    assert _read(api, order["id"])["version"] == 1
    assert [o["version"] for o in _page(api)] == [1, 1]
    clock.advance(1)
    update = {"version": 1, "actions": [{"action": "changeOrderState", "orderState": "Confirmed"}]}
    answered = _fresh(api.post(f"{ORDERS}/{order['id']}", json=update))
    read = _read(api, order["id"])
    assert read == answered
    assert (read["version"], read["orderState"]) == (2, "Confirmed")
    # The message recorded with the update moved the sequence on, after the answer was encoded.
    assert read["lastMessageSequenceNumber"] == 2
    assert read == fake.order(order["id"])
    page = _page(api)
    assert [(o["orderNumber"], o["version"]) for o in page] == [("A-2", 1), ("A-1", 2)]
    assert page[1] == read


def test_a_merchants_update_and_order_edit_are_seen(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    order = fake.add_order(_order("B-1"))
    assert _read(api, order["id"])["orderState"] == "Open"
    _page(api)
    fake.update_order(order["id"], [{"action": "changeOrderState", "orderState": "Cancelled"}])
    assert _read(api, order["id"])["orderState"] == "Cancelled"
    assert _page(api)[0]["orderState"] == "Cancelled"

    def edit(draft: dict[str, Any]) -> None:
        draft["shippingAddress"]["city"] = "Bonn"

    fake.edit_order(order["id"], edit)
    read = _read(api, order["id"])
    assert (read["version"], read["shippingAddress"]["city"]) == (3, "Bonn")
    assert _page(api)[0] == read == fake.order(order["id"])


def test_a_deleted_order_is_not_read_or_queried(fake: FakeCommercetools, api: httpx.Client) -> None:
    kept, gone = fake.add_order(_order("C-1")), fake.add_order(_order("C-2"))
    _read(api, gone["id"])
    _page(api)
    fake.delete_order(gone["id"])
    assert api.get(f"{ORDERS}/{gone['id']}").status_code == 404
    assert [o["id"] for o in _page(api)] == [kept["id"]]


def test_a_deleted_inventory_entry_is_not_read(fake: FakeCommercetools, api: httpx.Client) -> None:
    entry = fake.add_inventory("SKU-1", 5)
    path = f"/{PROJECT}/inventory/{entry['id']}"
    assert _fresh(api.get(path))["quantityOnStock"] == 5
    assert api.delete(path, params={"version": str(entry["version"])}).status_code == 200
    assert api.get(path).status_code == 404
    assert _fresh(api.get(f"/{PROJECT}/inventory"))["results"] == []


def test_with_a_query_lag_a_query_shows_the_old_text_and_a_read_the_new(clock: Clock) -> None:
    fake = FakeCommercetools(project_key=PROJECT, clock=clock, seed=3, query_lag=2.0)
    order = fake.add_order(_order("D-1"))
    clock.advance(3)
    with closing(signed_in(fake)) as api:
        assert _page(api)[0]["version"] == 1
        fake.update_order(order["id"], [{"action": "changeOrderState", "orderState": "Complete"}])
        assert _read(api, order["id"])["version"] == 2
        assert _page(api)[0]["version"] == 1  # the change is not visible to queries yet
        clock.advance(3)
        assert _page(api)[0]["version"] == 2
        assert _read(api, order["id"])["orderState"] == "Complete"


def test_pages_with_totals_and_offsets_are_the_texts_encoded_afresh(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    for number in range(5):
        fake.add_order(_order(f"E-{number}"))
    reply = api.get(ORDERS, params={"sort": "orderNumber asc", "limit": "2", "offset": "1"})
    body = _fresh(reply)
    assert (body["count"], body["total"], body["offset"]) == (2, 5, 1)
    assert list(body) == ["limit", "offset", "count", "total", "results"]
    assert [o["orderNumber"] for o in body["results"]] == ["E-1", "E-2"]


def test_an_inventory_update_through_the_api_is_seen(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    entry = fake.add_inventory("SKU-2", 5)
    path = f"/{PROJECT}/inventory/{entry['id']}"
    assert _fresh(api.get(path))["quantityOnStock"] == 5
    assert _fresh(api.get(f"/{PROJECT}/inventory"))["results"][0]["quantityOnStock"] == 5
    update = {"version": 1, "actions": [{"action": "changeQuantity", "quantity": 8}]}
    assert _fresh(api.post(path, json=update))["quantityOnStock"] == 8
    read = _fresh(api.get(path))
    assert (read["version"], read["quantityOnStock"]) == (2, 8)
    assert _fresh(api.get(f"/{PROJECT}/inventory"))["results"] == [read]
