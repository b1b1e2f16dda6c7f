"""FakeCommercetools' eventual consistency: reservations that land late, queries that lag behind,
and entries deleted while someone holds an old read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ct_prima_sync.testing import FakeCommercetools

from ._ct_fake_http import Clock, signed_in

PROJECT = "test-project"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lagging(clock: Clock) -> FakeCommercetools:
    return FakeCommercetools(project_key=PROJECT, clock=clock, query_lag=3, reservation_lag=5)


@pytest.fixture
def api(lagging: FakeCommercetools) -> Iterator[httpx.Client]:
    http = signed_in(lagging)
    yield http
    http.close()


def tracked(number: str, sku: str, quantity: int, mode: str = "TrackOnly") -> dict[str, Any]:
    return {
        "orderNumber": number,
        "lineItems": [
            {
                "variant": {"sku": sku},
                "quantity": quantity,
                "price": {"value": {"currencyCode": "EUR", "centAmount": 100}},
                "inventoryMode": mode,
            }
        ],
    }


def query(api: httpx.Client, resource: str, where: str | None = None) -> list[dict[str, Any]]:
    params = {"where": where} if where else {}
    reply = api.get(f"/{PROJECT}/{resource}", params=params)
    assert reply.status_code == 200, reply.text
    results: list[dict[str, Any]] = reply.json()["results"]
    return results


def test_an_orders_reservation_lands_on_the_entry_after_the_reservation_lag(
    lagging: FakeCommercetools, clock: Clock
) -> None:
    lagging.add_inventory("SKU-1", 10)
    lagging.add_order(tracked("A", "SKU-1", 3))
    assert lagging.inventory_entry("SKU-1")["availableQuantity"] == 10
    assert lagging.unsettled_reservations == 1
    clock.advance(4.9)
    assert lagging.inventory_entry("SKU-1")["availableQuantity"] == 10
    clock.advance(0.1)
    entry = lagging.inventory_entry("SKU-1")
    assert (entry["quantityOnStock"], entry["availableQuantity"], entry["version"]) == (10, 7, 2)
    assert lagging.unsettled_reservations == 0


def test_a_reservation_lands_on_the_version_the_entry_has_by_then(
    lagging: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    entry = lagging.add_inventory("SKU-1", 10)
    lagging.add_order(tracked("A", "SKU-1", 3))
    reply = api.post(
        f"/{PROJECT}/inventory/{entry['id']}",
        json={"version": 1, "actions": [{"action": "changeQuantity", "quantity": 20}]},
    )
    assert reply.status_code == 200
    clock.advance(5)
    landed = lagging.inventory_entry("SKU-1")
    assert (landed["quantityOnStock"], landed["availableQuantity"], landed["version"]) == (
        20,
        17,
        3,
    )


def test_reserve_on_order_checks_availability_when_the_order_is_placed(
    lagging: FakeCommercetools, api: httpx.Client
) -> None:
    lagging.add_inventory("SKU-1", 2)
    lagging.add_order(tracked("A", "SKU-1", 2, "ReserveOnOrder"))
    # The first order's reservation has not landed: the second one passes the check as well.
    reply = api.post(
        f"/{PROJECT}/orders/import",
        json={
            **tracked("B", "SKU-1", 2, "ReserveOnOrder"),
            "totalPrice": {"currencyCode": "EUR", "centAmount": 200},
        },
    )
    assert reply.status_code == 201
    reply = api.post(
        f"/{PROJECT}/orders/import",
        json={
            **tracked("C", "SKU-1", 3, "ReserveOnOrder"),
            "totalPrice": {"currencyCode": "EUR", "centAmount": 300},
        },
    )
    assert reply.json()["errors"][0]["code"] == "OutOfStock"


def test_a_new_order_shows_in_queries_only_after_the_query_lag_but_reads_by_id_at_once(
    lagging: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    order = lagging.add_order(tracked("A", "SKU-9", 1, "None"))
    assert query(api, "orders") == []
    assert api.get(f"/{PROJECT}/orders/{order['id']}").status_code == 200
    clock.advance(3)
    assert [o["orderNumber"] for o in query(api, "orders")] == ["A"]


def test_a_query_shows_the_version_before_a_change_until_the_change_is_visible(
    lagging: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    entry = lagging.add_inventory("SKU-1", 10)
    assert [e["version"] for e in query(api, "inventory")] == [1], "seeded data is visible"
    for version, quantity in ((1, 20), (2, 30)):
        api.post(
            f"/{PROJECT}/inventory/{entry['id']}",
            json={
                "version": version,
                "actions": [{"action": "changeQuantity", "quantity": quantity}],
            },
        )
        clock.advance(2)
    # t=4: the first change (t=0) is visible, the second (t=2) not yet.
    (seen,) = query(api, "inventory", "quantityOnStock = 20")
    assert seen["version"] == 2
    assert query(api, "inventory", "quantityOnStock = 30") == []
    assert api.get(f"/{PROJECT}/inventory/{entry['id']}").json()["version"] == 3
    clock.advance(1)
    assert [e["quantityOnStock"] for e in query(api, "inventory")] == [30]


def test_messages_follow_the_query_lag_too(
    lagging: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    lagging.add_order(tracked("A", "SKU-9", 1, "None"))
    assert query(api, "messages") == []
    clock.advance(3)
    assert [m["type"] for m in query(api, "messages")] == ["OrderCreated"]


def test_an_entry_is_deleted_with_its_version_and_a_late_reservation_finds_nothing(
    lagging: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    entry = lagging.add_inventory("SKU-1", 10)
    lagging.add_order(tracked("A", "SKU-1", 1))
    stale = api.delete(f"/{PROJECT}/inventory/{entry['id']}", params={"version": 7})
    assert stale.status_code == 409
    assert (
        api.delete(f"/{PROJECT}/inventory/{entry['id']}", params={"version": 1}).json()["sku"]
        == "SKU-1"
    )
    clock.advance(5)
    assert lagging.inventory_entries() == []
    assert api.get(f"/{PROJECT}/inventory/{entry['id']}").status_code == 404
    lagging.add_inventory("SKU-2", 1)
    assert lagging.delete_inventory_entry("SKU-2")["sku"] == "SKU-2"
    assert query(api, "inventory") == []


def test_without_lags_everything_is_at_once(clock: Clock) -> None:
    fake = FakeCommercetools(project_key=PROJECT, clock=clock)
    fake.add_inventory("SKU-1", 10)
    fake.add_order(tracked("A", "SKU-1", 3))
    assert fake.inventory_entry("SKU-1")["availableQuantity"] == 7
    http = signed_in(fake)
    assert len(query(http, "orders")) == 1
    http.close()
    with pytest.raises(ValueError, match="negative"):
        FakeCommercetools(query_lag=-1)
