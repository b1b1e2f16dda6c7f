"""The API contract, spoken in raw HTTP, held against the fake and the independent peer.

Each test runs twice (``[fake]`` and ``[peer]``). Where the peer is known to be wrong, only its
case is an expected failure (strict: a fixed peer makes the test say so) with the bug named.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import CLIENT_ID, CLIENT_SECRET, PROJECT, Backend

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

P = f"/{PROJECT}"


def import_order(api: httpx.Client, number: str, **fields: Any) -> dict[str, Any]:
    draft = {
        "orderNumber": number,
        "totalPrice": {"currencyCode": "EUR", "centAmount": 4200},
        "lineItems": [],
        "customLineItems": [],
        **fields,
    }
    reply = api.post(f"{P}/orders/import", json=draft)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def update(api: httpx.Client, path: str, version: int, *actions: dict[str, Any]) -> httpx.Response:
    return api.post(f"{P}/{path}", json={"version": version, "actions": list(actions)})


def create_entry(api: httpx.Client, sku: str, quantity: int) -> dict[str, Any]:
    reply = api.post(f"{P}/inventory", json={"sku": sku, "quantityOnStock": quantity})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


# -- token ----------------------------------------------------------------------------------


def test_the_token_endpoint_issues_a_bearer_token(backend: Backend) -> None:
    with backend.http() as http:
        reply = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": f"manage_project:{PROJECT}"},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["access_token"], str)
    assert body["access_token"]
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0


def test_a_token_request_without_credentials_is_refused(backend: Backend) -> None:
    with backend.http() as http:
        reply = http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert reply.status_code == 401


def test_a_token_request_with_a_wrong_secret_is_refused(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer accepts any client id and secret")
    with backend.http() as http:
        reply = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, "wrong")
        )
    assert reply.status_code == 401


def test_an_unknown_bearer_token_is_refused(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer never checks bearer tokens on API calls")
    with backend.http() as http:
        reply = http.get(f"{P}/orders", headers={"Authorization": "Bearer not-a-token"})
    assert reply.status_code == 401


# -- paging and predicates ------------------------------------------------------------------


def test_paging_by_id_walks_every_entry_across_pages_of_the_default_size(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer ignores sort=id asc, so where id > last skips entries")
    created = {create_entry(api, f"SKU-{n:02d}", n)["id"] for n in range(45)}
    seen: list[str] = []
    pages = 0
    params: dict[str, str] = {"sort": "id asc"}
    while True:
        page = api.get(f"{P}/inventory", params=params).json()
        pages += 1
        ids = [entry["id"] for entry in page["results"]]
        seen += ids
        if len(ids) < 20:
            break
        params["where"] = f'id > "{ids[-1]}"'
    assert pages == 3
    assert seen == sorted(created)


def test_paging_with_a_small_explicit_page_size(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer doubles scalar query parameters (limit) and answers 500")
    for n in range(10):
        create_entry(api, f"SKU-{n}", n)
    first = api.get(f"{P}/inventory", params={"sort": "id asc", "limit": 4})
    assert first.status_code == 200
    assert first.json()["count"] == 4


def test_a_where_predicate_selects_only_matching_entries(api: httpx.Client) -> None:
    for n in range(5):
        create_entry(api, f"SKU-{n}", n)
    found = api.get(f"{P}/inventory", params={"where": 'sku in ("SKU-1", "SKU-3")'}).json()
    assert sorted(entry["sku"] for entry in found["results"]) == ["SKU-1", "SKU-3"]
    assert found["count"] == 2


def test_predicate_input_variables_replace_escaping(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer does not support predicate input variables (500)")
    create_entry(api, "SKU-1", 1)
    reply = api.get(f"{P}/inventory", params={"where": "sku = :sku", "var.sku": "SKU-1"})
    assert reply.status_code == 200
    assert [e["sku"] for e in reply.json()["results"]] == ["SKU-1"]


def test_with_total_false_leaves_out_the_total(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(
        request, "the peer doubles scalar query parameters (withTotal) and answers 500"
    )
    reply = api.get(f"{P}/inventory", params={"withTotal": "false"})
    assert reply.status_code == 200
    assert "total" not in reply.json()


# -- orders -------------------------------------------------------------------------------


def test_an_imported_order_is_read_back_by_id(api: httpx.Client) -> None:
    order = import_order(api, "C-1")
    assert order["version"] == 1
    assert order["orderState"] == "Open"
    assert order["totalPrice"]["centAmount"] == 4200
    assert order["totalPrice"]["fractionDigits"] == 2
    again = api.get(f"{P}/orders/{order['id']}").json()
    assert (again["id"], again["orderNumber"], again["version"]) == (order["id"], "C-1", 1)


def test_an_order_is_found_by_its_order_number(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer has no /orders/order-number={n} route (404)")
    order = import_order(api, "C-2")
    reply = api.get(f"{P}/orders/order-number=C-2")
    assert reply.status_code == 200
    assert reply.json()["id"] == order["id"]


def test_an_order_is_found_by_a_where_on_its_order_number(api: httpx.Client) -> None:
    order = import_order(api, "C-3")
    import_order(api, "C-4")
    found = api.get(f"{P}/orders", params={"where": 'orderNumber = "C-3"'}).json()["results"]
    assert [o["id"] for o in found] == [order["id"]]


def test_an_unknown_order_answers_404(api: httpx.Client) -> None:
    reply = api.get(f"{P}/orders/00000000-0000-4000-8000-000000000000")
    assert reply.status_code == 404


def test_a_404_carries_the_api_error_body(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer answers 404 with an empty body")
    reply = api.get(f"{P}/orders/00000000-0000-4000-8000-000000000000")
    body = reply.json()
    assert body["statusCode"] == 404
    assert body["errors"][0]["code"] == "ResourceNotFound"


def test_state_updates_apply_and_each_raises_the_version(api: httpx.Client) -> None:
    order = import_order(api, "C-5")
    reply = update(
        api,
        f"orders/{order['id']}",
        1,
        {"action": "changeOrderState", "orderState": "Confirmed"},
        {"action": "changeShipmentState", "shipmentState": "Ready"},
        {"action": "changePaymentState", "paymentState": "Paid"},
    )
    assert reply.status_code == 200, reply.text
    after = reply.json()
    assert after["version"] > 1
    assert (after["orderState"], after["shipmentState"], after["paymentState"]) == (
        "Confirmed",
        "Ready",
        "Paid",
    )
    second = update(
        api,
        f"orders/{order['id']}",
        after["version"],
        {"action": "changeShipmentState", "shipmentState": "Shipped"},
    ).json()
    assert second["version"] == after["version"] + 1


def test_a_stale_version_gets_409_with_the_current_version_and_an_absolute_retry_succeeds(
    api: httpx.Client,
) -> None:
    order = import_order(api, "C-6")
    update(
        api, f"orders/{order['id']}", 1, {"action": "changeOrderState", "orderState": "Confirmed"}
    )
    stale = update(
        api,
        f"orders/{order['id']}",
        1,
        {"action": "changeShipmentState", "shipmentState": "Shipped"},
    )
    assert stale.status_code == 409
    error = stale.json()["errors"][0]
    assert error["code"] == "ConcurrentModification"
    current = error["currentVersion"]
    assert current == 2
    retried = update(
        api,
        f"orders/{order['id']}",
        current,
        {"action": "changeShipmentState", "shipmentState": "Shipped"},
    )
    assert retried.status_code == 200
    assert retried.json()["shipmentState"] == "Shipped"
    assert retried.json()["orderState"] == "Confirmed"


def test_update_sync_info_records_the_erp_reference(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "updateSyncInfo is missing from the peer (a silent no-op)")
    channel = api.post(f"{P}/channels", json={"key": "prima", "roles": ["OrderExport"]}).json()
    order = import_order(api, "C-7")
    reply = update(
        api,
        f"orders/{order['id']}",
        1,
        {
            "action": "updateSyncInfo",
            "channel": {"typeId": "channel", "id": channel["id"]},
            "externalId": "SO-1",
        },
    ).json()
    assert reply["version"] == 2
    assert reply["syncInfo"][0]["externalId"] == "SO-1"
    assert reply["syncInfo"][0]["channel"]["id"] == channel["id"]


def test_transition_state_sets_the_state_reference(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "transitionState is a no-op on the peer")
    order = import_order(api, "C-8")
    state_id = "11111111-1111-4111-8111-111111111111"
    reply = update(
        api,
        f"orders/{order['id']}",
        1,
        {"action": "transitionState", "state": {"typeId": "state", "id": state_id}},
    ).json()
    assert reply["state"]["id"] == state_id
    assert reply["version"] == 2


def test_add_delivery_with_a_tracked_parcel(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(
        request,
        "the peer's order import needs products for line items and drops shippingInfo, "
        "and addDelivery then fails with 500",
    )
    order = import_order(
        api,
        "C-9",
        lineItems=[
            {
                "name": {"en": "Shirt"},
                "variant": {"sku": "SKU-1"},
                "price": {"value": {"currencyCode": "EUR", "centAmount": 4200}},
                "quantity": 1,
            }
        ],
        shippingInfo={"shippingMethodName": "Standard"},
    )
    line_id = order["lineItems"][0]["id"]
    reply = update(
        api,
        f"orders/{order['id']}",
        1,
        {
            "action": "addDelivery",
            "items": [{"id": line_id, "quantity": 1}],
            "parcels": [{"trackingData": {"trackingId": "T-1", "carrier": "DHL"}}],
        },
    )
    assert reply.status_code == 200, reply.text
    delivery = reply.json()["shippingInfo"]["deliveries"][0]
    assert delivery["items"] == [{"id": line_id, "quantity": 1}]
    assert delivery["parcels"][0]["trackingData"]["trackingId"] == "T-1"


# -- inventory ----------------------------------------------------------------------------


def test_inventory_quantities_change_absolutely_and_by_deltas(api: httpx.Client) -> None:
    entry = create_entry(api, "SKU-1", 10)
    assert (entry["quantityOnStock"], entry["availableQuantity"], entry["version"]) == (10, 10, 1)
    steps = [
        ({"action": "changeQuantity", "quantity": 25}, 25),
        ({"action": "addQuantity", "quantity": 5}, 30),
        ({"action": "removeQuantity", "quantity": 12}, 18),
    ]
    version = 1
    for action, expected in steps:
        reply = update(api, f"inventory/{entry['id']}", version, action)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert (body["quantityOnStock"], body["availableQuantity"]) == (expected, expected)
        assert body["version"] == version + 1
        version = body["version"]
    read = api.get(f"{P}/inventory/{entry['id']}").json()
    assert (read["quantityOnStock"], read["version"]) == (18, 4)


def test_a_stale_relative_inventory_update_is_reapplied_after_a_re_read(api: httpx.Client) -> None:
    entry = create_entry(api, "SKU-2", 10)
    update(api, f"inventory/{entry['id']}", 1, {"action": "removeQuantity", "quantity": 3})
    stale = update(api, f"inventory/{entry['id']}", 1, {"action": "addQuantity", "quantity": 5})
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["currentVersion"] == 2
    fresh = api.get(f"{P}/inventory/{entry['id']}").json()
    assert fresh["quantityOnStock"] == 7
    done = update(
        api, f"inventory/{entry['id']}", fresh["version"], {"action": "addQuantity", "quantity": 5}
    )
    assert done.json()["quantityOnStock"] == 12


def test_restock_days_and_expected_delivery_are_set(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(
        request,
        "the peer's setRestockableInDays and setExpectedDelivery read camelCase "
        "attributes off its snake_case models and answer 500",
    )
    entry = create_entry(api, "SKU-3", 1)
    reply = update(
        api,
        f"inventory/{entry['id']}",
        1,
        {"action": "setRestockableInDays", "restockableInDays": 3},
        {"action": "setExpectedDelivery", "expectedDelivery": "2026-12-01T00:00:00.000Z"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["restockableInDays"] == 3
    assert body["expectedDelivery"].startswith("2026-12-01T00:00:00")


def test_a_second_entry_for_the_same_sku_and_channel_is_refused(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer stores duplicate inventory entries per sku and channel")
    create_entry(api, "SKU-4", 1)
    again = api.post(f"{P}/inventory", json={"sku": "SKU-4", "quantityOnStock": 2})
    assert again.status_code == 400


# -- channels and customers -----------------------------------------------------------------


def test_a_channel_is_found_by_a_where_on_its_key(api: httpx.Client) -> None:
    created = api.post(f"{P}/channels", json={"key": "dc-1", "roles": ["InventorySupply"]})
    assert created.status_code == 201
    api.post(f"{P}/channels", json={"key": "dc-2", "roles": ["InventorySupply"]})
    found = api.get(f"{P}/channels", params={"where": 'key = "dc-1"'}).json()["results"]
    assert [c["id"] for c in found] == [created.json()["id"]]
    assert found[0]["roles"] == ["InventorySupply"]


def test_a_customer_is_found_by_email(api: httpx.Client) -> None:
    created = api.post(f"{P}/customers", json={"email": "ann@example.com", "password": "pw-1"})
    customer = created.json()["customer"]
    found = api.get(f"{P}/customers", params={"where": 'email = "ann@example.com"'}).json()
    assert [c["id"] for c in found["results"]] == [customer["id"]]


def test_creating_a_customer_answers_201_without_the_password(
    backend: Backend, api: httpx.Client, request: pytest.FixtureRequest
) -> None:
    backend.peer_bug(request, "the peer answers 200 and echoes the password in clear")
    created = api.post(f"{P}/customers", json={"email": "bo@example.com", "password": "pw-2"})
    assert created.status_code == 201
    assert "pw-2" not in created.text
