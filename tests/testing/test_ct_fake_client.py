"""The library's real client against FakeCommercetools' scripted faults: what host tests do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ct_prima_sync.commercetools import (
    ChangeQuantity,
    ChangeShipmentState,
    CommercetoolsClient,
    ShipmentState,
)
from ct_prima_sync.errors import (
    CommercetoolsTransportError,
    ConcurrentModificationError,
    ServiceUnavailableError,
)
from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing.scenario import connect_commercetools

PROJECT = "shop"


@pytest.fixture
def fake() -> FakeCommercetools:
    return FakeCommercetools(project_key=PROJECT, seed=5)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeCommercetools, slept: list[float]) -> Iterator[CommercetoolsClient]:
    with connect_commercetools(fake, sleep=slept.append, random=lambda: 0.0) as ct:
        yield ct


def test_the_client_retries_through_a_brief_outage(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    entry = fake.add_inventory("S", 1)
    fake.faults.fail(503, method="GET", path="/inventory/", times=2)
    assert client.inventory.get(entry["id"]).sku == "S"
    gets = [r for r in fake.requests if r.method == "GET"]
    assert len(gets) == 3
    assert len({r.headers["x-correlation-id"] for r in gets}) == 1


def test_the_client_gives_up_on_a_lasting_outage(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    entry = fake.add_inventory("S", 1)
    fake.faults.fail(503, path="/inventory/", times=None)
    with pytest.raises(ServiceUnavailableError):
        client.inventory.get(entry["id"])


def test_the_client_waits_as_long_as_retry_after_says(
    fake: FakeCommercetools, client: CommercetoolsClient, slept: list[float]
) -> None:
    entry = fake.add_inventory("S", 1)
    fake.faults.rate_limit(retry_after=7, path="/inventory/")
    client.inventory.get(entry["id"])
    assert 7 in slept


def test_an_expired_token_is_refreshed_once(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    entry = fake.add_inventory("S", 1)
    client.inventory.get(entry["id"])
    fake.expire_tokens()
    client.inventory.get(entry["id"])
    assert [r.path for r in fake.requests].count("/oauth/token") == 2


def test_a_reset_connection_on_a_read_is_retried(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    entry = fake.add_inventory("S", 1)
    client.inventory.get(entry["id"])
    fake.faults.connect_error(method="GET", path="/inventory/")
    assert client.inventory.get(entry["id"]).sku == "S"


def test_a_lost_answer_to_an_update_is_reported_and_the_change_was_made(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    entry = fake.add_inventory("S", 1)
    fake.faults.read_timeout(method="POST", path="/inventory/")
    with pytest.raises(CommercetoolsTransportError):
        client.inventory.update(entry["id"], 1, [ChangeQuantity(quantity=9)])
    assert fake.inventory_entry("S")["quantityOnStock"] == 9


def test_a_409_storm_is_survived_within_the_attempt_budget(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    order = fake.add_order(
        {"orderNumber": "A", "totalPrice": {"currencyCode": "EUR", "centAmount": 1}}
    )
    fake.faults.conflict(path="/orders/", times=2)
    result = client.orders.update_resolving_conflicts(
        order["id"], 1, [ChangeShipmentState(shipment_state=ShipmentState.SHIPPED)], max_attempts=3
    )
    assert result is not None
    assert result.shipment_state == "Shipped"


def test_a_409_storm_longer_than_the_budget_surfaces(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    order = fake.add_order(
        {"orderNumber": "A", "totalPrice": {"currencyCode": "EUR", "centAmount": 1}}
    )
    fake.faults.conflict(path="/orders/", times=None)
    with pytest.raises(ConcurrentModificationError):
        client.orders.update_resolving_conflicts(
            order["id"],
            1,
            [ChangeShipmentState(shipment_state=ShipmentState.SHIPPED)],
            max_attempts=3,
        )
    assert fake.order(order["id"])["version"] == 1


def test_messages_follow_the_changes(fake: FakeCommercetools, client: CommercetoolsClient) -> None:
    order = fake.add_order(
        {"orderNumber": "A", "totalPrice": {"currencyCode": "EUR", "centAmount": 1}}
    )
    client.orders.update(
        order["id"], 1, [ChangeShipmentState(shipment_state=ShipmentState.SHIPPED)]
    )
    types = [
        m.type for m in client.messages.query(types=["OrderCreated", "OrderShipmentStateChanged"])
    ]
    assert sorted(types) == ["OrderCreated", "OrderShipmentStateChanged"]
    later = list(client.messages.query(resource_id=order["id"], after_sequence_number=1))
    assert [m.type for m in later] == ["OrderShipmentStateChanged"]


def test_the_client_reads_everything_through_seeded_random_faults(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    for number in range(40):
        fake.add_inventory(f"SKU-{number:02d}", number)
    fake.faults.randomly(
        seed=2026, probability=0.3, kinds=("status", "rate_limit", "connect_error")
    )
    entries = list(client.inventory.query(page_size=7))
    assert [e.sku for e in sorted(entries, key=lambda e: e.sku)] == [
        f"SKU-{n:02d}" for n in range(40)
    ]
    pages = 6  # 40 entries in pages of 7
    queries = [r for r in fake.requests if r.path == f"/{PROJECT}/inventory"]
    assert len(queries) > pages  # faults fired and the client retried through them
