"""FakeCommercetools over raw HTTP: auth, resources, versions, queries and inventory rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.testing import FakeCommercetools

PROJECT = "test-project"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeCommercetools:
    return FakeCommercetools(project_key=PROJECT, clock=clock, seed=7, other_projects=["other"])


def token(http: httpx.Client, fake: FakeCommercetools, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    reply = http.post("/oauth/token", data=data, auth=(fake.client_id, fake.client_secret))
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


@pytest.fixture
def api(fake: FakeCommercetools) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        http.headers["Authorization"] = f"Bearer {token(http, fake)}"
        yield http


def import_order(api: httpx.Client, number: str, **fields: Any) -> dict[str, Any]:
    draft = {
        "orderNumber": number,
        "totalPrice": {"currencyCode": "EUR", "centAmount": 1000},
        "lineItems": [],
        **fields,
    }
    reply = api.post(f"/{PROJECT}/orders/import", json=draft)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def update(api: httpx.Client, path: str, version: int, *actions: dict[str, Any]) -> httpx.Response:
    return api.post(f"/{PROJECT}/{path}", json={"version": version, "actions": list(actions)})


# -- auth ---------------------------------------------------------------------------------


def test_the_token_endpoint_issues_bearer_tokens_scoped_to_the_project(
    fake: FakeCommercetools,
) -> None:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        reply = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": f"manage_orders:{PROJECT}"},
            auth=(fake.client_id, fake.client_secret),
        )
        body = reply.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 48 * 3600
        assert body["scope"] == f"manage_orders:{PROJECT}"
        http.headers["Authorization"] = f"Bearer {body['access_token']}"
        assert http.get(f"/{PROJECT}/orders").status_code == 200
        refused = http.get("/other/orders")
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == "insufficient_scope"


def test_wrong_client_credentials_are_refused_with_invalid_client(fake: FakeCommercetools) -> None:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        reply = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(fake.client_id, "no")
        )
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_client"
    assert "no" not in reply.text.replace("not", "")


def test_a_missing_or_unknown_token_answers_401_invalid_token(fake: FakeCommercetools) -> None:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        missing = http.get(f"/{PROJECT}/orders")
        unknown = http.get(f"/{PROJECT}/orders", headers={"Authorization": "Bearer nope"})
    for reply in (missing, unknown):
        assert reply.status_code == 401
        assert reply.json() == {
            "statusCode": 401,
            "message": "invalid_token",
            "errors": [{"code": "invalid_token", "message": "invalid_token"}],
            "error": "invalid_token",
        }


def test_tokens_expire_after_their_lifetime_on_the_injected_clock(
    fake: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    assert api.get(f"/{PROJECT}/orders").status_code == 200
    clock.now += timedelta(hours=48)
    assert api.get(f"/{PROJECT}/orders").status_code == 401


def test_expire_tokens_forces_a_refresh(fake: FakeCommercetools, api: httpx.Client) -> None:
    fake.expire_tokens()
    assert api.get(f"/{PROJECT}/orders").status_code == 401


# -- orders -------------------------------------------------------------------------------


def test_an_imported_order_is_found_by_id_and_by_order_number(api: httpx.Client) -> None:
    order = import_order(api, "A-1")
    assert order["version"] == 1
    assert order["orderState"] == "Open"
    assert order["totalPrice"] == {
        "type": "centPrecision",
        "fractionDigits": 2,
        "currencyCode": "EUR",
        "centAmount": 1000,
    }
    assert api.get(f"/{PROJECT}/orders/{order['id']}").json() == order
    assert api.get(f"/{PROJECT}/orders/order-number=A-1").json() == order


def test_a_duplicate_order_number_is_refused(api: httpx.Client) -> None:
    import_order(api, "A-1")
    reply = api.post(
        f"/{PROJECT}/orders/import",
        json={"orderNumber": "A-1", "totalPrice": {"currencyCode": "EUR", "centAmount": 1}},
    )
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "DuplicateField"


def test_unknown_resources_answer_404_in_the_api_error_shape(api: httpx.Client) -> None:
    reply = api.get(f"/{PROJECT}/orders/order-number=missing")
    assert reply.status_code == 404
    body = reply.json()
    assert body["statusCode"] == 404
    assert body["errors"][0]["code"] == "ResourceNotFound"
    assert body["message"] == body["errors"][0]["message"]
    assert api.get("/no-such-project/orders").status_code == 404


def test_every_update_increases_the_version_and_a_stale_one_gets_409(api: httpx.Client) -> None:
    order = import_order(api, "A-1")
    first = update(
        api, f"orders/{order['id']}", 1, {"action": "changeOrderState", "orderState": "Confirmed"}
    )
    assert first.json()["version"] == 2
    stale = update(
        api, f"orders/{order['id']}", 1, {"action": "changeOrderState", "orderState": "Complete"}
    )
    assert stale.status_code == 409
    error = stale.json()["errors"][0]
    assert error["code"] == "ConcurrentModification"
    assert error["currentVersion"] == 2
    assert api.get(f"/{PROJECT}/orders/{order['id']}").json()["orderState"] == "Confirmed"


def test_the_actions_of_one_update_apply_all_or_nothing(api: httpx.Client) -> None:
    order = import_order(api, "A-1")
    reply = update(
        api,
        f"orders/{order['id']}",
        1,
        {"action": "changeOrderState", "orderState": "Confirmed"},
        {"action": "changeShipmentState", "shipmentState": "Teleported"},
    )
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "InvalidInput"
    after = api.get(f"/{PROJECT}/orders/{order['id']}").json()
    assert (after["version"], after["orderState"]) == (1, "Open")


def test_dispatch_actions_record_delivery_parcels_tracking_and_sync_info(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    channel = fake.add_channel("prima", roles=["OrderExport"])
    order = import_order(
        api,
        "A-1",
        lineItems=[
            {
                "name": {"en": "Shirt"},
                "variant": {"sku": "SKU-1"},
                "price": {"value": {"currencyCode": "EUR", "centAmount": 1000}},
                "quantity": 2,
            }
        ],
        shippingInfo={"shippingMethodName": "Standard", "deliveries": []},
        custom={"type": {"typeId": "type", "key": "order-extra"}, "fields": {}},
    )
    line_id = order["lineItems"][0]["id"]
    reply = update(
        api,
        f"orders/{order['id']}",
        1,
        {"action": "changeShipmentState", "shipmentState": "Shipped"},
        {
            "action": "addDelivery",
            "items": [{"id": line_id, "quantity": 2}],
            "parcels": [{"trackingData": {"trackingId": "T-1", "carrier": "DHL"}}],
        },
        {
            "action": "updateSyncInfo",
            "channel": {"typeId": "channel", "key": "prima"},
            "externalId": "SO-9",
        },
        {"action": "setCustomField", "name": "primaRef", "value": "SO-9"},
        {"action": "transitionState", "state": {"typeId": "state", "key": "dispatched"}},
    )
    assert reply.status_code == 200, reply.text
    shipped = reply.json()
    delivery = shipped["shippingInfo"]["deliveries"][0]
    parcel_id = delivery["parcels"][0]["id"]
    assert delivery["items"] == [{"id": line_id, "quantity": 2}]
    assert shipped["syncInfo"][0]["channel"] == {"typeId": "channel", "id": channel["id"]}
    assert shipped["syncInfo"][0]["externalId"] == "SO-9"
    assert shipped["custom"]["fields"] == {"primaRef": "SO-9"}
    assert shipped["state"] == {"typeId": "state", "key": "dispatched"}
    tracked = update(
        api,
        f"orders/{order['id']}",
        2,
        {
            "action": "setParcelTrackingData",
            "parcelId": parcel_id,
            "trackingData": {"trackingId": "T-2"},
        },
    ).json()
    assert tracked["shippingInfo"]["deliveries"][0]["parcels"][0]["trackingData"] == {
        "trackingId": "T-2"
    }
    types = [m["type"] for m in fake.messages()]
    assert types == [
        "OrderImported",
        "OrderShipmentStateChanged",
        "DeliveryAdded",
        "OrderStateTransition",
        "ParcelTrackingDataUpdated",
    ]


def test_a_delivery_for_an_unknown_line_item_is_refused(api: httpx.Client) -> None:
    order = import_order(api, "A-1", shippingInfo={"deliveries": []})
    reply = update(
        api,
        f"orders/{order['id']}",
        1,
        {"action": "addDelivery", "items": [{"id": "x", "quantity": 1}]},
    )
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "InvalidOperation"


# -- queries ------------------------------------------------------------------------------


def test_queries_page_by_id_with_limit_offset_and_total(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    for number in range(7):
        fake.add_inventory(f"SKU-{number}", number)
    ids = sorted(e["id"] for e in fake.inventory_entries())
    page = api.get(
        f"/{PROJECT}/inventory", params={"sort": "id asc", "limit": 3, "offset": 3}
    ).json()
    assert [r["id"] for r in page["results"]] == ids[3:6]
    assert (page["limit"], page["offset"], page["count"], page["total"]) == (3, 3, 3, 7)
    after = api.get(
        f"/{PROJECT}/inventory",
        params={"sort": "id asc", "where": f'id > "{ids[5]}"', "withTotal": "false"},
    ).json()
    assert [r["id"] for r in after["results"]] == ids[6:]
    assert "total" not in after


def test_sort_desc_and_by_last_modified(
    fake: FakeCommercetools, api: httpx.Client, clock: Clock
) -> None:
    for number in range(3):
        fake.add_inventory(f"SKU-{number}", 1)
        clock.now += timedelta(seconds=1)
    desc = api.get(f"/{PROJECT}/inventory", params={"sort": "lastModifiedAt desc"}).json()
    assert [r["sku"] for r in desc["results"]] == ["SKU-2", "SKU-1", "SKU-0"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "501"},
        {"offset": "10001"},
        {"limit": "x"},
        {"sort": "id sideways"},
        {"where": "id >"},
    ],
)
def test_out_of_range_query_parameters_are_invalid_input(
    api: httpx.Client, params: dict[str, str]
) -> None:
    reply = api.get(f"/{PROJECT}/orders", params=params)
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "InvalidInput"


def test_customers_are_found_by_email_through_an_input_variable(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    created = api.post(f"/{PROJECT}/customers", json={"email": "ann@example.com", "password": "pw"})
    assert created.status_code == 201
    customer = created.json()["customer"]
    assert "password" not in customer
    found = api.get(
        f"/{PROJECT}/customers", params={"where": "email = :e", "var.e": "ann@example.com"}
    ).json()
    assert [c["id"] for c in found["results"]] == [customer["id"]]
    assert api.get(f"/{PROJECT}/customers/{customer['id']}").json() == customer


def test_channels_are_found_by_key_and_by_role(fake: FakeCommercetools, api: httpx.Client) -> None:
    fake.add_channel("dc-1", roles=["InventorySupply"])
    fake.add_channel("erp", roles=["OrderExport"])
    assert api.get(f"/{PROJECT}/channels/key=erp").json()["roles"] == ["OrderExport"]
    by_role = api.get(
        f"/{PROJECT}/channels", params={"where": 'roles contains any ("InventorySupply")'}
    )
    assert [c["key"] for c in by_role.json()["results"]] == ["dc-1"]


def test_messages_are_queried_by_type_and_sequence(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    order = import_order(api, "A-1")
    update(
        api, f"orders/{order['id']}", 1, {"action": "changeOrderState", "orderState": "Confirmed"}
    )
    found = api.get(
        f"/{PROJECT}/messages",
        params={
            "where": 'type = "OrderStateChanged" and sequenceNumber > 1',
            "sort": "createdAt asc",
        },
    ).json()["results"]
    assert len(found) == 1
    message = found[0]
    assert message["resource"] == {"typeId": "order", "id": order["id"]}
    assert (message["sequenceNumber"], message["resourceVersion"]) == (2, 2)
    assert (message["orderState"], message["oldOrderState"]) == ("Confirmed", "Open")
    assert api.get(f"/{PROJECT}/orders/{order['id']}").json()["lastMessageSequenceNumber"] == 2


def test_add_order_keeps_raw_json_and_records_order_created(fake: FakeCommercetools) -> None:
    raw = {
        "id": "o-1",
        "orderNumber": "R-1",
        "totalPrice": {"currencyCode": "JPY", "centAmount": 5},
        "version": 9,
    }
    stored = fake.add_order(raw)
    assert stored["id"] == "o-1"
    assert stored["version"] == 1
    assert fake.messages()[0]["type"] == "OrderCreated"
    assert fake.messages()[0]["order"]["orderNumber"] == "R-1"


# -- inventory ----------------------------------------------------------------------------


def tracked_line(
    sku: str, quantity: int, mode: str, channel_id: str | None = None
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "variant": {"sku": sku},
        "quantity": quantity,
        "price": {"value": {"currencyCode": "EUR", "centAmount": 100}},
        "inventoryMode": mode,
    }
    if channel_id is not None:
        line["supplyChannel"] = {"typeId": "channel", "id": channel_id}
    return line


def test_change_quantity_sets_stock_and_keeps_reservations(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    channel = fake.add_channel("dc-1")
    entry = fake.add_inventory("SKU-1", 10, supply_channel="dc-1")
    fake.add_order(
        {"orderNumber": "A", "lineItems": [tracked_line("SKU-1", 3, "TrackOnly", channel["id"])]}
    )
    reserved = fake.inventory_entry("SKU-1", supply_channel="dc-1")
    assert (reserved["quantityOnStock"], reserved["availableQuantity"]) == (10, 7)
    changed = update(
        api,
        f"inventory/{entry['id']}",
        reserved["version"],
        {"action": "changeQuantity", "quantity": 20},
    )
    assert (changed.json()["quantityOnStock"], changed.json()["availableQuantity"]) == (20, 17)
    added = update(
        api,
        f"inventory/{entry['id']}",
        changed.json()["version"],
        {"action": "addQuantity", "quantity": 5},
    )
    assert (added.json()["quantityOnStock"], added.json()["availableQuantity"]) == (25, 22)
    removed = update(
        api,
        f"inventory/{entry['id']}",
        added.json()["version"],
        {"action": "removeQuantity", "quantity": 25},
    )
    assert (removed.json()["quantityOnStock"], removed.json()["availableQuantity"]) == (0, -3)


def test_track_only_orders_reserve_even_beyond_zero(fake: FakeCommercetools) -> None:
    fake.add_inventory("SKU-1", 1)
    fake.add_order({"orderNumber": "A", "lineItems": [tracked_line("SKU-1", 2, "TrackOnly")]})
    entry = fake.inventory_entry("SKU-1")
    assert (entry["quantityOnStock"], entry["availableQuantity"]) == (1, -1)


def test_reserve_on_order_refuses_an_order_it_cannot_cover(
    api: httpx.Client, fake: FakeCommercetools
) -> None:
    fake.add_inventory("SKU-1", 1)
    reply = api.post(
        f"/{PROJECT}/orders/import",
        json={
            "orderNumber": "A",
            "totalPrice": {"currencyCode": "EUR", "centAmount": 200},
            "lineItems": [tracked_line("SKU-1", 2, "ReserveOnOrder")],
        },
    )
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == "OutOfStock"
    assert fake.orders() == []
    assert fake.inventory_entry("SKU-1")["availableQuantity"] == 1


def test_reserve_on_order_accepts_a_shortfall_when_restockable(fake: FakeCommercetools) -> None:
    fake.add_inventory("SKU-1", 1, restockableInDays=0)
    fake.add_order({"orderNumber": "A", "lineItems": [tracked_line("SKU-1", 2, "ReserveOnOrder")]})
    assert fake.inventory_entry("SKU-1")["availableQuantity"] == -1


def test_untracked_orders_and_missing_entries(fake: FakeCommercetools, api: httpx.Client) -> None:
    fake.add_order({"orderNumber": "A", "lineItems": [tracked_line("SKU-9", 2, "None")]})
    reply = api.post(
        f"/{PROJECT}/orders/import",
        json={
            "orderNumber": "B",
            "totalPrice": {"currencyCode": "EUR", "centAmount": 1},
            "lineItems": [tracked_line("SKU-9", 1, "TrackOnly")],
        },
    )
    assert reply.json()["errors"][0]["code"] == "OutOfStock"


def test_committing_and_releasing_reservations(fake: FakeCommercetools) -> None:
    fake.add_inventory("SKU-1", 10)
    fake.add_order(
        {
            "orderNumber": "A",
            "inventoryMode": "TrackOnly",
            "lineItems": [tracked_line("SKU-1", 4, "")],
        }
    )
    committed = fake.commit_reservation("SKU-1", 3)
    assert (committed["quantityOnStock"], committed["availableQuantity"]) == (7, 6)
    released = fake.release_reservation("SKU-1", 1)
    assert (released["quantityOnStock"], released["availableQuantity"]) == (7, 7)


def test_one_entry_per_sku_and_supply_channel(api: httpx.Client, fake: FakeCommercetools) -> None:
    fake.add_channel("dc-1")
    assert (
        api.post(f"/{PROJECT}/inventory", json={"sku": "S", "quantityOnStock": 1}).status_code
        == 201
    )
    in_channel = {
        "sku": "S",
        "quantityOnStock": 1,
        "supplyChannel": {"typeId": "channel", "key": "dc-1"},
    }
    assert api.post(f"/{PROJECT}/inventory", json=in_channel).status_code == 201
    again = api.post(f"/{PROJECT}/inventory", json=in_channel)
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "DuplicateField"


def test_restock_days_and_expected_delivery_can_be_set_and_unset(
    api: httpx.Client, fake: FakeCommercetools
) -> None:
    entry = fake.add_inventory("S", 1)
    reply = update(
        api,
        f"inventory/{entry['id']}",
        1,
        {"action": "setRestockableInDays", "restockableInDays": 3},
        {"action": "setExpectedDelivery", "expectedDelivery": "2026-12-01T00:00:00.000Z"},
    ).json()
    assert (reply["restockableInDays"], reply["expectedDelivery"]) == (
        3,
        "2026-12-01T00:00:00.000Z",
    )
    cleared = update(api, f"inventory/{entry['id']}", 2, {"action": "setRestockableInDays"}).json()
    assert "restockableInDays" not in cleared


def test_seeded_fakes_give_repeatable_ids(clock: Clock) -> None:
    first = FakeCommercetools(seed=1, clock=clock).add_inventory("S", 1)["id"]
    second = FakeCommercetools(seed=1, clock=clock).add_inventory("S", 1)["id"]
    assert first == second


@settings(max_examples=25, deadline=None)
@given(count=st.integers(0, 30), page_size=st.integers(1, 8))
def test_paging_by_id_returns_every_entry_exactly_once(count: int, page_size: int) -> None:
    fake = FakeCommercetools(seed=count)
    for number in range(count):
        fake.add_inventory(f"SKU-{number}", number)
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        http.headers["Authorization"] = f"Bearer {token(http, fake)}"
        seen: list[str] = []
        params: dict[str, str | int] = {"sort": "id asc", "limit": page_size, "withTotal": "false"}
        while True:
            ids = [
                e["id"]
                for e in http.get("/test-project/inventory", params=params).json()["results"]
            ]
            seen += ids
            if len(ids) < page_size:
                break
            params["where"] = "id > :last"
            params["var.last"] = ids[-1]
    assert seen == sorted(e["id"] for e in fake.inventory_entries())


def test_recorded_requests_keep_queries_and_bodies_out_of_their_repr(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    api.get(f"/{PROJECT}/customers", params={"where": "email = :e", "var.e": "ann@example.com"})
    assert "ann@example.com" not in repr(fake.requests)
    assert fake.requests[-1].query["var.e"] == ("ann@example.com",)


def test_the_testing_package_exports_a_sorted_public_surface() -> None:
    from ct_prima_sync import testing

    assert testing.__all__ == sorted(testing.__all__)
    for name in ("FakeCommercetools", "CommercetoolsFaultScript", "CommercetoolsRequestRecord"):
        assert name in testing.__all__
        assert getattr(testing, name).__module__.startswith("ct_prima_sync.testing")


def test_customers_match_lowercase_email_in_any_letter_case(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    customer = fake.add_customer({"email": "Ann@Example.com"})
    found = api.get(
        f"/{PROJECT}/customers",
        params={"where": "lowercaseEmail = :e", "var.e": "ann@example.com"},
    ).json()["results"]
    assert [c["id"] for c in found] == [customer["id"]]
    assert "lowercaseEmail" not in found[0]
