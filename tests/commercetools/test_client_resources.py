"""The resource methods of CommercetoolsClient, against httpx.MockTransport handlers."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from ct_prima_sync.commercetools import (
    AddQuantity,
    ChangeQuantity,
    ChangeShipmentState,
    ChannelRole,
    CommercetoolsClient,
    CommercetoolsConfig,
    InventoryEntryDraft,
    InventoryLevel,
    ResourceIdentifier,
    RetryPolicy,
    ShipmentState,
)
from ct_prima_sync.errors import (
    ConcurrentModificationError,
    ConfigurationError,
    NotFoundError,
    PayloadError,
)

EXAMPLES = Path(__file__).parents[1] / "data" / "commercetools_examples"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


ORDER = example("order.example.json")
INVENTORY = example("inventory.example.json")
CUSTOMER = example("customer.example.json")
CHANNEL = example("Channel_Channel.json")
MESSAGE = example("message.example.json")

Handler = Callable[[httpx.Request], httpx.Response]


def order(order_id: str, modified: str = "2026-03-01T10:00:00.000Z", version: int = 1) -> Any:
    return {**ORDER, "id": order_id, "lastModifiedAt": modified, "version": version}


class Recorder:
    """Token endpoint plus a handler for the API; keeps every API request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(
                200, json={"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}
            )
        self.requests.append(request)
        return self.handler(request)

    def queries(self) -> list[dict[str, list[str]]]:
        return [parse_qs(r.url.query.decode()) for r in self.requests]


def make_client(handler: Handler) -> tuple[CommercetoolsClient, Recorder]:
    recorder = Recorder(handler)
    config = CommercetoolsConfig(
        project_key="proj",
        client_id="id",
        client_secret="secret",
        api_url="https://api.test",
        auth_url="https://auth.test",
        retry=RetryPolicy(max_attempts=2),
    )
    client = CommercetoolsClient(
        config,
        transport=httpx.MockTransport(recorder),
        sleep=lambda s: None,
        random=lambda: 0.0,
    )
    return client, recorder


def paged_store(items: list[dict[str, Any]]) -> Handler:
    """A query endpoint that honours limit and the ``id > :ctpsLastId`` paging variable."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        assert query["sort"] == ["id asc"]
        assert query["withTotal"] == ["false"]
        limit = int(query["limit"][0])
        last = query.get("var.ctpsLastId", [""])[0]
        chosen = sorted((i for i in items if i["id"] > last), key=lambda i: i["id"])[:limit]
        return httpx.Response(
            200, json={"limit": limit, "offset": 0, "count": len(chosen), "results": chosen}
        )

    return handler


def test_an_order_is_read_by_id_into_the_typed_model() -> None:
    client, recorder = make_client(lambda r: httpx.Response(200, json=order("o-1")))
    got = client.orders.get("o-1")
    assert got.id == "o-1"
    assert recorder.requests[0].url.path == "/proj/orders/o-1"


def test_an_order_is_read_by_its_order_number_with_the_number_encoded() -> None:
    client, recorder = make_client(lambda r: httpx.Response(200, json=order("o-1")))
    client.orders.get_by_order_number("2026/0001 A")
    assert recorder.requests[0].url.raw_path.decode() == (
        "/proj/orders/order-number=2026%2F0001%20A"
    )


def test_a_missing_order_is_a_not_found_error() -> None:
    client, _ = make_client(lambda r: httpx.Response(404, json={"statusCode": 404, "errors": []}))
    with pytest.raises(NotFoundError):
        client.orders.get("nope")


def test_querying_orders_walks_every_page_in_id_order() -> None:
    store = [order(f"o-{n:03d}") for n in range(23)]
    client, recorder = make_client(paged_store(store))
    ids = [o.id for o in client.orders.query('orderState = "Open"', page_size=5)]
    assert ids == sorted(o["id"] for o in store)
    queries = recorder.queries()
    assert len(queries) == 5
    assert queries[0]["where"] == ['orderState = "Open"']
    assert "var.ctpsLastId" not in queries[0]
    assert queries[1]["where"] == ['(orderState = "Open") and (id > :ctpsLastId)']
    assert queries[1]["var.ctpsLastId"] == ["o-004"]


def test_an_exactly_full_last_page_costs_one_more_empty_request() -> None:
    client, recorder = make_client(paged_store([order(f"o-{n}") for n in range(4)]))
    assert len(list(client.orders.query(page_size=2))) == 4
    assert len(recorder.requests) == 3


def test_a_query_is_lazy_and_fetches_the_next_page_only_when_needed() -> None:
    client, recorder = make_client(paged_store([order(f"o-{n:03d}") for n in range(10)]))
    results = client.orders.query(page_size=3)
    assert recorder.requests == []
    next(results)
    assert len(recorder.requests) == 1


def test_iterating_many_pages_keeps_memory_flat() -> None:
    pages, per_page = 150, 100
    padding = "x" * 400

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        number = int(query.get("var.ctpsLastId", ["p0000-"])[0][1:5]) + 1
        if number > pages:
            return httpx.Response(200, json={"results": []})
        results = [{"id": f"p{number:04d}-{n:03d}", "pad": padding} for n in range(per_page)]
        return httpx.Response(200, json={"results": results})

    client, _ = make_client(handler)
    items = client.iter_query("orders", page_size=per_page)
    for _ in range(2 * per_page):  # warm up: first pages, caches
        next(items)
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    count = sum(1 for _ in items)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    assert count == (pages - 2) * per_page
    # One page is ~50 kB of JSON; holding all 148 pages of results would take ~10 MB.
    assert peak < 3_000_000


def test_query_variables_travel_as_separate_encoded_parameters() -> None:
    client, recorder = make_client(paged_store([]))
    list(
        client.orders.query(
            "customerEmail = :email and orderState in :states",
            variables={"email": 'a+b"@x.com', "states": ["Open", "Confirmed"]},
        )
    )
    raw = recorder.requests[0].url.query.decode()
    assert "var.email=a%2Bb%22%40x.com" in raw
    query = recorder.queries()[0]
    assert query["var.email"] == ['a+b"@x.com']
    assert query["var.states"] == ["Open", "Confirmed"]
    assert query["where"] == ["customerEmail = :email and orderState in :states"]


def test_polling_orders_reaches_back_by_the_overlap_and_advances_the_cursor() -> None:
    store = [
        order("o-1", "2026-03-01T10:00:00.000Z"),
        order("o-2", "2026-03-01T10:05:30.250Z"),
    ]
    client, recorder = make_client(paged_store(store))
    cursor = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    result = client.orders.poll_modified(cursor, overlap=timedelta(minutes=10))
    assert [o.id for o in result.items] == ["o-1", "o-2"]
    assert result.cursor == datetime(2026, 3, 1, 10, 5, 30, 250000, tzinfo=UTC)
    query = recorder.queries()[0]
    assert query["where"] == ["lastModifiedAt >= :modifiedSince"]
    assert query["var.modifiedSince"] == ["2026-03-01T09:55:00.000Z"]


def test_polling_with_no_changes_keeps_the_cursor() -> None:
    client, _ = make_client(paged_store([]))
    cursor = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    assert client.orders.poll_modified(cursor).cursor == cursor


def test_an_order_update_sends_the_version_and_the_typed_actions() -> None:
    client, recorder = make_client(lambda r: httpx.Response(200, json=order("o-1", version=4)))
    updated = client.orders.update(
        "o-1", 3, [ChangeShipmentState(shipment_state=ShipmentState.SHIPPED)]
    )
    assert updated.version == 4
    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/proj/orders/o-1"
    assert json.loads(request.content) == {
        "version": 3,
        "actions": [{"action": "changeShipmentState", "shipmentState": "Shipped"}],
    }


def test_a_conflicting_absolute_order_update_is_resent_with_the_reported_version() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["version"] == 3:
            return httpx.Response(
                409,
                json={"errors": [{"code": "ConcurrentModification", "currentVersion": 7}]},
            )
        return httpx.Response(200, json=order("o-1", version=8))

    client, recorder = make_client(handler)
    updated = client.orders.update_resolving_conflicts(
        "o-1", 3, [ChangeShipmentState(shipment_state=ShipmentState.SHIPPED)]
    )
    assert updated is not None
    assert updated.version == 8
    assert [json.loads(r.content)["version"] for r in recorder.requests] == [3, 7]


def inventory_entry(entry_id: str, version: int = 1, quantity: int = 4) -> dict[str, Any]:
    return {**INVENTORY, "id": entry_id, "version": version, "quantityOnStock": quantity}


def test_inventory_is_queried_by_skus_in_chunks_for_one_supply_channel() -> None:
    client, recorder = make_client(paged_store([]))
    skus = [f"SKU-{n}" for n in range(250)] + ["SKU-0"]
    assert list(client.inventory.query_by_skus(skus, supply_channel_id="ch-1")) == []
    queries = recorder.queries()
    assert [len(q["var.skus"]) for q in queries] == [100, 100, 50]
    assert queries[0]["where"] == ["(sku in :skus) and (supplyChannel(id = :channelId))"]
    assert queries[0]["var.channelId"] == ["ch-1"]
    assert queries[2]["var.skus"][-1] == "SKU-249"


def test_inventory_levels_are_read_without_whole_entries_in_chunks_with_a_predicate() -> None:
    entry = {
        **inventory_entry("e-1", version=3, quantity=9),
        "availableQuantity": 7,
        "supplyChannel": {"typeId": "channel", "id": "ch-1"},
        "expectedDelivery": "2026-12-01T00:00:00.000Z",
        "restockableInDays": 2,
    }
    client, recorder = make_client(paged_store([entry]))
    levels = list(
        client.inventory.levels_by_skus(
            [f"SKU-{n}" for n in range(150)],
            where="supplyChannel(id in :channels)",
            variables={"channels": ["ch-1", "ch-2"]},
        )
    )
    assert levels[0] == InventoryLevel(
        "e-1", 3, entry["sku"], "ch-1", 9, 7, datetime(2026, 12, 1, tzinfo=UTC), 2
    )
    queries = recorder.queries()
    assert [len(q["var.skus"]) for q in queries] == [100, 50]
    assert queries[0]["where"] == ["(sku in :skus) and (supplyChannel(id in :channels))"]
    assert queries[0]["var.channels"] == ["ch-1", "ch-2"]
    client, _ = make_client(paged_store([inventory_entry("e-9")]))
    (plain,) = client.inventory.levels("supplyChannel is not defined")
    assert (plain.supply_channel_id, plain.expected_delivery) == (None, None)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"quantityOnStock": "9"}, "quantityOnStock"),
        ({"supplyChannel": {"typeId": "channel"}}, "supplyChannel"),
        ({"expectedDelivery": "soon"}, "expectedDelivery"),
        ({"restockableInDays": True}, "restockableInDays"),
    ],
)
def test_a_malformed_inventory_level_names_its_field(change: dict[str, Any], path: str) -> None:
    client, _ = make_client(paged_store([{**inventory_entry("e-1"), **change}]))
    with pytest.raises(PayloadError, match=f"^{path}: "):
        list(client.inventory.levels())


def test_inventory_entries_come_back_typed() -> None:
    client, _ = make_client(paged_store([inventory_entry("e-1"), inventory_entry("e-2")]))
    entries = list(client.inventory.query_by_skus(["sku_GIRLS_CREW_variant1_1421832124541"]))
    assert [e.id for e in entries] == ["e-1", "e-2"]
    assert entries[0].quantity_on_stock == 4


def test_an_inventory_entry_is_created_from_a_draft() -> None:
    client, recorder = make_client(lambda r: httpx.Response(201, json=inventory_entry("e-9")))
    created = client.inventory.create(
        InventoryEntryDraft(
            sku="A-1",
            quantity_on_stock=12,
            supply_channel=ResourceIdentifier.channel(key="wh-1"),
            restockable_in_days=3,
        )
    )
    assert created.id == "e-9"
    assert json.loads(recorder.requests[0].content) == {
        "sku": "A-1",
        "quantityOnStock": 12,
        "supplyChannel": {"typeId": "channel", "key": "wh-1"},
        "restockableInDays": 3,
    }


def test_a_conflicting_delta_is_re_decided_on_a_fresh_read_before_it_is_sent_again() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=inventory_entry("e-1", version=5, quantity=9))
        seen.append(json.loads(request.content))
        if len(seen) == 1:
            return httpx.Response(
                409, json={"errors": [{"code": "ConcurrentModification", "currentVersion": 5}]}
            )
        return httpx.Response(200, json=inventory_entry("e-1", version=6, quantity=10))

    client, _ = make_client(handler)
    updated = client.inventory.update_resolving_conflicts(
        "e-1",
        4,
        [AddQuantity(quantity=2)],
        reread=lambda fresh: [AddQuantity(quantity=1)] if fresh.quantity_on_stock == 9 else [],
    )
    assert updated is not None
    assert updated.version == 6
    assert seen == [
        {"version": 4, "actions": [{"action": "addQuantity", "quantity": 2}]},
        {"version": 5, "actions": [{"action": "addQuantity", "quantity": 1}]},
    ]


def test_a_conflicting_delta_without_a_reread_is_raised_not_replayed() -> None:
    conflict = httpx.Response(
        409, json={"errors": [{"code": "ConcurrentModification", "currentVersion": 5}]}
    )
    client, recorder = make_client(lambda r: conflict)
    with pytest.raises(ConcurrentModificationError):
        client.inventory.update_resolving_conflicts("e-1", 4, [AddQuantity(quantity=2)])
    assert len(recorder.requests) == 1


def test_an_absolute_inventory_update_sends_change_quantity() -> None:
    client, recorder = make_client(lambda r: httpx.Response(200, json=inventory_entry("e-1", 2)))
    client.inventory.update("e-1", 1, [ChangeQuantity(quantity=0)])
    assert json.loads(recorder.requests[0].content)["actions"] == [
        {"action": "changeQuantity", "quantity": 0}
    ]


def test_customers_are_found_by_email_in_any_case_through_a_predicate_variable() -> None:
    client, recorder = make_client(paged_store([{**CUSTOMER, "id": "c-1"}]))
    found = client.customers.find_by_email("Jane@Example.com")
    assert [c.id for c in found] == ["c-1"]
    query = recorder.queries()[0]
    assert query["where"] == ["lowercaseEmail = :email"]
    assert query["var.email"] == ["jane@example.com"]
    assert "Jane" not in repr(found)


def test_a_customer_is_read_by_id() -> None:
    client, recorder = make_client(lambda r: httpx.Response(200, json={**CUSTOMER, "id": "c-7"}))
    assert client.customers.get("c-7").id == "c-7"
    assert recorder.requests[0].url.path == "/proj/customers/c-7"


def test_channels_are_read_by_key_and_listed_by_role() -> None:
    client, recorder = make_client(lambda r: httpx.Response(200, json=CHANNEL))
    assert client.channels.get_by_key("wh 1").key == "distribution-channel-us"
    assert recorder.requests[0].url.raw_path == b"/proj/channels/key=wh%201"

    client, recorder = make_client(paged_store([CHANNEL]))
    found = list(client.channels.with_role(ChannelRole.INVENTORY_SUPPLY))
    assert len(found) == 1
    query = recorder.queries()[0]
    assert query["where"] == ["roles contains :role"]
    assert query["var.role"] == ["InventorySupply"]


def test_messages_are_queried_by_type_and_date() -> None:
    client, recorder = make_client(paged_store([MESSAGE]))
    since = datetime(2026, 3, 1, tzinfo=UTC)
    found = list(client.messages.query(types=["OrderCreated", "OrderStateChanged"], since=since))
    assert [m.id for m in found] == [MESSAGE["id"]]
    query = recorder.queries()[0]
    assert query["where"] == ["(type in :types) and (createdAt >= :since)"]
    assert query["var.types"] == ["OrderCreated", "OrderStateChanged"]
    assert query["var.since"] == ["2026-03-01T00:00:00.000Z"]


def test_messages_of_one_resource_after_a_sequence_number() -> None:
    client, recorder = make_client(paged_store([]))
    list(client.messages.query(resource_id="o-1", after_sequence_number=4))
    query = recorder.queries()[0]
    assert query["where"] == ["(resource(id = :resourceId)) and (sequenceNumber > :sequenceNumber)"]
    assert query["var.sequenceNumber"] == ["4"]


def test_a_sequence_number_without_a_resource_is_refused() -> None:
    client, _ = make_client(paged_store([]))
    with pytest.raises(ConfigurationError, match="resource_id"):
        client.messages.query(after_sequence_number=4)


@pytest.mark.parametrize("page_size", [0, 501])
def test_bad_page_sizes_are_refused_when_the_query_is_made(page_size: int) -> None:
    client, recorder = make_client(paged_store([]))
    with pytest.raises(ConfigurationError, match="page_size"):
        client.orders.query(page_size=page_size)
    with pytest.raises(ConfigurationError, match="chunk_size"):
        client.inventory.query_by_skus(["A"], chunk_size=0)
    assert recorder.requests == []


def test_a_generic_query_yields_raw_results_of_any_resource() -> None:
    client, recorder = make_client(paged_store([{"id": "a"}, {"id": "b"}]))
    results: Iterator[dict[str, Any]] = client.iter_query("shipping-methods", page_size=1)
    assert [r["id"] for r in results] == ["a", "b"]
    assert recorder.requests[0].url.path == "/proj/shipping-methods"


def test_apply_returns_the_new_version_and_rereads_after_a_conflict_without_parsing() -> None:
    from ct_prima_sync.commercetools import (
        ChangeOrderState,
        OrderState,
        ResourceIdentifier,
        UpdateSyncInfo,
    )
    from ct_prima_sync.testing import FakeCommercetools
    from ct_prima_sync.testing.factories import LineSpec, make_order
    from ct_prima_sync.testing.scenario import connect_commercetools

    fake = FakeCommercetools(seed=1)
    channel = fake.add_channel("prima-export", roles=("OrderExport",))
    order = fake.add_order(make_order(lines=[LineSpec(sku="A-1", quantity=1, unit_price=100)]))
    sync = UpdateSyncInfo(
        channel=ResourceIdentifier(type_id="channel", id=channel["id"]), external_id="P-1"
    )
    with connect_commercetools(fake) as client:
        # someone else changes the order first: version 1 is stale
        assert (
            client.orders.apply(
                order["id"], 1, [ChangeOrderState(order_state=OrderState.CONFIRMED)]
            )
            == 2
        )
        seen: list[int] = []

        def decide(fresh: object) -> list[UpdateSyncInfo]:
            seen.append(fresh.version)  # type: ignore[attr-defined]
            return [sync]

        assert client.orders.apply(order["id"], 1, [sync], reread=decide) == 3
    assert seen == [2]
    assert [s["externalId"] for s in fake.order(order["id"])["syncInfo"]] == ["P-1"]
