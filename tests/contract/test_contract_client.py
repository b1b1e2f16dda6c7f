"""The library's real CommercetoolsClient, unchanged, against the fake and the independent peer.

Data is seeded over raw HTTP (the same requests for both backends); the client then reads,
pages, updates and resolves conflicts. The client always sends ``limit``, ``withTotal=false`` and
predicate input variables when it queries, which the peer cannot serve: those cases are expected
failures on the peer only, with the peer's bug named.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ct_prima_sync.commercetools import (
    AddQuantity,
    ChangeOrderState,
    ChangePaymentState,
    ChangeQuantity,
    ChangeShipmentState,
    CommercetoolsClient,
    InventoryEntry,
    InventoryEntryDraft,
    OrderState,
    PaymentState,
    RemoveQuantity,
    ShipmentState,
)
from ct_prima_sync.errors import ConcurrentModificationError, NotFoundError

from .conftest import PROJECT, Backend

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QUERY_BUG = (
    "the peer doubles scalar query parameters (limit, withTotal) and has no predicate "
    "input variables, so every paged query answers 500"
)


@pytest.fixture
def client(backend: Backend) -> Iterator[CommercetoolsClient]:
    with backend.client() as ct:
        yield ct


def import_order(api: httpx.Client, number: str) -> dict[str, Any]:
    draft = {
        "orderNumber": number,
        "totalPrice": {"currencyCode": "EUR", "centAmount": 1999},
        "lineItems": [],
        "customLineItems": [],
    }
    reply = api.post(f"/{PROJECT}/orders/import", json=draft)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_the_client_authenticates_and_reads_an_order_by_id(
    api: httpx.Client, client: CommercetoolsClient
) -> None:
    created = import_order(api, "K-1")
    order = client.orders.get(created["id"])
    assert (order.id, order.order_number, order.version) == (created["id"], "K-1", 1)
    assert order.order_state == "Open"


def test_the_client_finds_an_order_by_number(
    backend: Backend, api: httpx.Client, client: CommercetoolsClient, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer has no /orders/order-number={n} route (404)")
    created = import_order(api, "K-2")
    assert client.orders.get_by_order_number("K-2").id == created["id"]


def test_an_unknown_order_raises_not_found(client: CommercetoolsClient) -> None:
    with pytest.raises(NotFoundError):
        client.orders.get("00000000-0000-4000-8000-000000000000")


def test_the_client_changes_order_states_and_sees_each_new_version(
    api: httpx.Client, client: CommercetoolsClient
) -> None:
    created = import_order(api, "K-3")
    updated = client.orders.update(
        created["id"],
        1,
        [
            ChangeOrderState(order_state=OrderState.CONFIRMED),
            ChangePaymentState(payment_state=PaymentState.PAID),
        ],
    )
    assert updated.version > 1
    assert (updated.order_state, updated.payment_state) == ("Confirmed", "Paid")


def test_a_stale_update_raises_409_with_the_current_version(
    api: httpx.Client, client: CommercetoolsClient
) -> None:
    created = import_order(api, "K-4")
    client.orders.update(created["id"], 1, [ChangeOrderState(order_state=OrderState.CONFIRMED)])
    with pytest.raises(ConcurrentModificationError) as caught:
        client.orders.update(created["id"], 1, [ChangeOrderState(order_state=OrderState.COMPLETE)])
    assert caught.value.current_version == 2


def test_an_absolute_update_survives_a_concurrent_writer(
    api: httpx.Client, client: CommercetoolsClient
) -> None:
    created = import_order(api, "K-5")
    other_writer = api.post(
        f"/{PROJECT}/orders/{created['id']}",
        json={"version": 1, "actions": [{"action": "changeOrderState", "orderState": "Confirmed"}]},
    )
    assert other_writer.status_code == 200
    result = client.orders.update_resolving_conflicts(
        created["id"], 1, [ChangeShipmentState(shipment_state=ShipmentState.SHIPPED)]
    )
    assert result is not None
    assert (result.version, result.shipment_state, result.order_state) == (
        3,
        "Shipped",
        "Confirmed",
    )


def create_entry(api: httpx.Client, sku: str, quantity: int) -> dict[str, Any]:
    reply = api.post(f"/{PROJECT}/inventory", json={"sku": sku, "quantityOnStock": quantity})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_the_client_creates_and_changes_inventory(client: CommercetoolsClient) -> None:
    entry = client.inventory.create(InventoryEntryDraft(sku="INV-1", quantity_on_stock=10))
    assert (entry.quantity_on_stock, entry.available_quantity, entry.version) == (10, 10, 1)
    entry = client.inventory.update(entry.id, entry.version, [ChangeQuantity(quantity=30)])
    entry = client.inventory.update(entry.id, entry.version, [AddQuantity(quantity=4)])
    entry = client.inventory.update(entry.id, entry.version, [RemoveQuantity(quantity=9)])
    assert (entry.quantity_on_stock, entry.available_quantity, entry.version) == (25, 25, 4)
    assert client.inventory.get(entry.id).quantity_on_stock == 25


def test_a_delta_after_a_conflict_is_replanned_from_a_fresh_read(
    api: httpx.Client, client: CommercetoolsClient
) -> None:
    raw = create_entry(api, "INV-2", 10)
    api.post(
        f"/{PROJECT}/inventory/{raw['id']}",
        json={"version": 1, "actions": [{"action": "removeQuantity", "quantity": 3}]},
    )
    seen: list[int] = []

    def reread(fresh: InventoryEntry) -> list[AddQuantity]:
        seen.append(fresh.quantity_on_stock)
        return [AddQuantity(quantity=5)]

    result = client.inventory.update_resolving_conflicts(
        raw["id"], 1, [AddQuantity(quantity=5)], reread=reread
    )
    assert seen == [7]
    assert result is not None
    assert result.quantity_on_stock == 12


def test_the_client_pages_through_more_than_one_page(
    backend: Backend, api: httpx.Client, client: CommercetoolsClient, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, QUERY_BUG)
    created = sorted(create_entry(api, f"PAGE-{n:02d}", n)["id"] for n in range(13))
    entries = list(client.inventory.query(page_size=5))
    assert [e.id for e in entries] == created


def test_the_client_reads_inventory_by_skus_in_chunks(
    backend: Backend, api: httpx.Client, client: CommercetoolsClient, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, QUERY_BUG)
    for n in range(6):
        create_entry(api, f"SKU-{n}", n)
    found = client.inventory.query_by_skus(["SKU-1", "SKU-4", "SKU-5", "SKU-9"], chunk_size=2)
    assert sorted(e.sku for e in found) == ["SKU-1", "SKU-4", "SKU-5"]


def test_the_client_finds_customers_by_email(
    backend: Backend, api: httpx.Client, client: CommercetoolsClient, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, QUERY_BUG)
    created = api.post(f"/{PROJECT}/customers", json={"email": "cy@example.com", "password": "pw"})
    found = client.customers.find_by_email("cy@example.com")
    assert [c.id for c in found] == [created.json()["customer"]["id"]]


def test_the_client_finds_channels_by_role(
    backend: Backend, api: httpx.Client, client: CommercetoolsClient, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, QUERY_BUG)
    api.post(f"/{PROJECT}/channels", json={"key": "dc-1", "roles": ["InventorySupply"]})
    api.post(f"/{PROJECT}/channels", json={"key": "erp", "roles": ["OrderExport"]})
    assert [c.key for c in client.channels.with_role("OrderExport")] == ["erp"]


def test_the_client_reads_a_channel_by_key(
    backend: Backend, api: httpx.Client, client: CommercetoolsClient, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer has no /channels/key={key} route (404)")
    api.post(f"/{PROJECT}/channels", json={"key": "dc-9", "roles": ["InventorySupply"]})
    assert client.channels.get_by_key("dc-9").key == "dc-9"
