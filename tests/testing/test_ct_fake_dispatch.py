"""FakeCommercetools for the dispatch flow: delivery keys, parcels with custom fields, returns,
order edits and deletions, and the typed client reading them back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ct_prima_sync.commercetools import (
    AddDelivery,
    CommercetoolsClient,
    CustomFieldsDraft,
    DeliveryItemDraft,
    ParcelDraft,
    ResourceIdentifier,
    ReturnShipmentState,
    TrackingDataDraft,
)
from ct_prima_sync.errors import NotFoundError, ValidationError
from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order
from ct_prima_sync.testing.scenario import connect_commercetools


@pytest.fixture
def fake() -> FakeCommercetools:
    return FakeCommercetools(seed=3)


@pytest.fixture
def client(fake: FakeCommercetools) -> Iterator[CommercetoolsClient]:
    with connect_commercetools(fake, sleep=lambda _s: None) as ct:
        yield ct


def _order(fake: FakeCommercetools, shipping: Any = None, seed: int = 0) -> dict[str, Any]:
    return fake.add_order(
        make_order(
            order_number=f"N-{seed}",
            seed=seed,
            lines=[
                LineSpec(sku="TEE-BLK-M", quantity=2, unit_price=1999),
                LineSpec(sku="CAP-RED-L", quantity=1, unit_price=999),
            ],
            shipping=shipping or ShippingSpec(key="standard", name="Standard", price=495),
        )
    )


def _delivery(line_id: str, key: str, **fields: Any) -> AddDelivery:
    return AddDelivery(
        items=(DeliveryItemDraft(id=line_id, quantity=1),),
        parcels=(
            ParcelDraft(
                key=f"{key}-p1",
                tracking_data=TrackingDataDraft(tracking_id="T-1", carrier="DPD"),
                custom=CustomFieldsDraft(
                    type=ResourceIdentifier(type_id="type", key="parcel-tracking"),
                    fields={"trackingUrl": "https://track.example/T-1"},
                ),
            ),
        ),
        delivery_key=key,
        **fields,
    )


def test_a_delivery_keeps_its_key_and_parcels_with_custom_fields(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    order = _order(fake)
    line = order["lineItems"][0]["id"]
    updated = client.orders.update(order["id"], 1, [_delivery(line, "N-1-D1")])
    assert updated.shipping_info is not None
    (delivery,) = updated.shipping_info.deliveries or ()
    assert delivery.key == "N-1-D1"
    (parcel,) = delivery.parcels
    assert parcel.key == "N-1-D1-p1"
    assert parcel.tracking_data is not None
    assert (parcel.tracking_data.tracking_id, parcel.tracking_data.carrier) == ("T-1", "DPD")
    assert parcel.custom is not None
    assert parcel.custom.fields == {"trackingUrl": "https://track.example/T-1"}


def test_a_second_delivery_with_the_same_key_is_refused(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    order = _order(fake)
    line = order["lineItems"][0]["id"]
    client.orders.update(order["id"], 1, [_delivery(line, "N-1-D1")])
    with pytest.raises(ValidationError) as refused:
        client.orders.update(order["id"], 2, [_delivery(line, "N-1-D1")])
    assert refused.value.codes == ("DuplicateField",)
    deliveries = fake.order(order["id"])["shippingInfo"]["deliveries"]
    assert [d["key"] for d in deliveries] == ["N-1-D1"]


def test_a_delivery_of_a_multiple_shipping_order_needs_a_known_shipping_key(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    order = _order(
        fake,
        shipping=[
            ShippingSpec(key="home", name="Standard", price=495),
            ShippingSpec(key="office", name="Express", price=995),
        ],
    )
    line = order["lineItems"][0]["id"]
    with pytest.raises(ValidationError):
        client.orders.update(order["id"], 1, [_delivery(line, "K", shipping_key="elsewhere")])
    updated = client.orders.update(order["id"], 1, [_delivery(line, "K", shipping_key="office")])
    office = next(s for s in updated.shipping if s.shipping_key == "office")
    assert [d.key for d in office.shipping_info.deliveries or ()] == ["K"]


def test_returns_added_by_a_merchant_are_read_as_return_info(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    order = _order(fake)
    line = order["lineItems"][0]["id"]
    fake.update_order(
        order["id"],
        [
            {
                "action": "addReturnInfo",
                "items": [{"quantity": 1, "lineItemId": line, "shipmentState": "Returned"}],
                "returnTrackingId": "RT-1",
                "returnDate": "2026-11-25T10:00:00.000Z",
            }
        ],
    )
    read = client.orders.get(order["id"])
    assert read.version == 2
    (info,) = read.return_info or ()
    (item,) = info.items
    assert (item.item_id, item.quantity) == (line, 1)
    assert item.shipment_state is ReturnShipmentState.RETURNED
    assert item.payment_state == "Initial"
    assert info.return_tracking_id == "RT-1"
    assert [m["type"] for m in fake.messages()][-1] == "ReturnInfoAdded"
    with pytest.raises(ValidationError):
        fake.update_order(
            order["id"],
            [
                {
                    "action": "addReturnInfo",
                    "items": [{"quantity": 1, "lineItemId": "nope", "shipmentState": "Returned"}],
                }
            ],
        )


def test_an_order_edit_changes_lines_and_moves_the_version(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    order = _order(fake)

    def remove_the_cap(draft: dict[str, Any]) -> None:
        draft["lineItems"] = [
            li for li in draft["lineItems"] if li["variant"]["sku"] != "CAP-RED-L"
        ]

    fake.edit_order(order["id"], remove_the_cap)
    read = client.orders.get(order["id"])
    assert (read.version, [li.sku for li in read.line_items]) == (2, ["TEE-BLK-M"])
    assert fake.messages()[-1]["type"] == "OrderEditApplied"


def test_a_deleted_order_answers_404(fake: FakeCommercetools, client: CommercetoolsClient) -> None:
    order = _order(fake)
    fake.delete_order(order["id"])
    with pytest.raises(NotFoundError):
        client.orders.get(order["id"])
    assert fake.messages()[-1]["type"] == "OrderDeleted"


def test_orders_are_read_by_a_list_of_ids(fake: FakeCommercetools) -> None:
    ids = [_order(fake, seed=n)["id"] for n in range(3)]
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(fake.client_id, fake.client_secret),
        ).json()["access_token"]
        reply = http.get(
            f"/{fake.project_key}/orders",
            params=[("where", "id in :ids"), ("var.ids", ids[0]), ("var.ids", ids[2])],
            headers={"Authorization": f"Bearer {token}"},
        )
    assert sorted(o["id"] for o in reply.json()["results"]) == sorted([ids[0], ids[2]])
