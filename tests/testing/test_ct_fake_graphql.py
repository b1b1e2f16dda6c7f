"""FakeCommercetools' ``POST /{projectKey}/graphql``: aliased ``updateOrder`` mutations, each
against its own version, with commercetools' partial errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ct_prima_sync.testing import FakeCommercetools

from ._ct_fake_http import Clock, signed_in

PROJECT = "shop"
URL = f"/{PROJECT}/graphql"

TWO = """
mutation Two($a: String!, $va: Long!, $b: String!, $vb: Long!, $actions: [OrderUpdateAction!]!) {
  first: updateOrder(id: $a, version: $va, actions: $actions) { id version }
  second: updateOrder(id: $b, version: $vb, actions: $actions) { id version }
}
"""


@pytest.fixture
def fake() -> FakeCommercetools:
    return FakeCommercetools(project_key=PROJECT, clock=Clock(), seed=3)


@pytest.fixture
def api(fake: FakeCommercetools) -> Iterator[httpx.Client]:
    http = signed_in(fake)
    yield http
    http.close()


def _order(fake: FakeCommercetools, order_id: str, **fields: Any) -> dict[str, Any]:
    return fake.add_order(
        {"id": order_id, "totalPrice": {"currencyCode": "EUR", "centAmount": 100}, **fields}
    )


def _sync_info(channel_id: str, reference: str) -> dict[str, Any]:
    return {
        "updateSyncInfo": {
            "channel": {"typeId": "channel", "id": channel_id},
            "externalId": reference,
            "syncedAt": "2026-11-01T12:00:00.000Z",
        }
    }


def test_each_mutation_is_checked_against_its_own_version(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    channel = fake.add_channel("prima", roles=["OrderExport"])
    _order(fake, "a")
    _order(fake, "b")
    fake.update_order("b", [{"action": "changeOrderState", "orderState": "Complete"}])  # version 2
    actions = [_sync_info(channel["id"], "P-1"), {"changeOrderState": {"orderState": "Confirmed"}}]
    variables = {"a": "a", "va": 1, "b": "b", "vb": 1, "actions": actions}

    reply = api.post(URL, json={"query": TWO, "variables": variables})

    assert reply.status_code == 200
    body = reply.json()
    assert body["data"] == {"first": {"id": "a", "version": 2}, "second": None}
    (error,) = body["errors"]
    assert error["path"] == ["second"]
    assert error["extensions"] == {"code": "ConcurrentModification", "currentVersion": 2}
    assert error["locations"] == [{"line": 4, "column": 3}]
    applied = fake.order("a")
    assert applied["orderState"] == "Confirmed"
    assert [s["externalId"] for s in applied["syncInfo"]] == ["P-1"]
    assert fake.order("b").get("syncInfo", []) == [], "the conflicting mutation changed nothing"


def test_an_unknown_order_and_an_invalid_action_fail_alone(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    _order(fake, "a")
    _order(fake, "b")
    query = """
    mutation {
      u0: updateOrder(id: "missing", version: 1, actions: [{changeOrderState: {orderState: Confirmed}}]) { id }
      u1: updateOrder(id: "a", version: 1, actions: [{changeOrderState: {orderState: Shipped}}]) { id }
      u2: updateOrder(orderNumber: "none", version: 1, actions: []) { id }
      u3: updateOrder(id: "b", version: 1, actions: [{changeOrderState: {orderState: Complete}}]) { version orderState __typename }
    }
    """  # noqa: E501

    body = api.post(URL, json={"query": query}).json()

    assert body["data"] == {
        "u0": None,
        "u1": None,
        "u2": None,
        "u3": {"version": 2, "orderState": "Complete", "__typename": "Order"},
    }
    codes = {e["path"][0]: e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"u0": "ResourceNotFound", "u1": "InvalidInput", "u2": "ResourceNotFound"}
    assert fake.order("a")["version"] == 1


def test_a_custom_field_value_is_json_text(fake: FakeCommercetools, api: httpx.Client) -> None:
    _order(fake, "a", custom={"type": {"typeId": "type", "key": "order-extra"}, "fields": {}})
    query = 'mutation($actions: [OrderUpdateAction!]!) { updateOrder(id: "a", version: 1, actions: $actions) { version } }'  # noqa: E501
    actions = [{"setCustomField": {"name": "primaReference", "value": json.dumps("P-7")}}]

    body = api.post(URL, json={"query": query, "variables": {"actions": actions}}).json()

    assert body == {"data": {"updateOrder": {"version": 2}}}
    assert fake.order("a")["custom"]["fields"] == {"primaReference": "P-7"}


@pytest.mark.parametrize(
    "query",
    [
        '{ order(id: "a") { id } }',
        'mutation { updateCart(id: "a", version: 1, actions: []) { id } }',
        'mutation { updateOrder(id: "a", version: 1, actions: []) { lineItems { id } } }',
        "mutation { updateOrder(id: ",
        'mutation($v: Long!) { updateOrder(id: "a", version: $v, actions: []) { id } }',
        'fragment F on Order { id } mutation { updateOrder(id: "a", version: 1, actions: []) { ...F } }',  # noqa: E501
    ],
    ids=["query", "other-mutation", "nested-selection", "syntax", "missing-variable", "fragment"],
)
def test_documents_the_fake_does_not_answer_are_a_400(
    fake: FakeCommercetools, api: httpx.Client, query: str
) -> None:
    _order(fake, "a")

    reply = api.post(URL, json={"query": query})

    assert reply.status_code == 400
    (error,) = reply.json()["errors"]
    assert error["message"]
    assert fake.order("a")["version"] == 1


def test_graphql_requests_take_the_scripted_faults(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    _order(fake, "a")
    _order(fake, "b")
    actions = [{"changeOrderState": {"orderState": "Confirmed"}}]
    variables = {"a": "a", "va": 1, "b": "b", "vb": 1, "actions": actions}
    fake.faults.fail(500, method="POST", path="/graphql$")

    failed = api.post(URL, json={"query": TWO, "variables": variables})

    assert failed.status_code == 500
    assert (fake.order("a")["version"], fake.order("b")["version"]) == (1, 1)

    fake.faults.conflict(path="/graphql$", skip=1)  # the second mutation
    body = api.post(URL, json={"query": TWO, "variables": variables}).json()

    assert body["data"] == {"first": {"id": "a", "version": 2}, "second": None}
    assert body["errors"][0]["extensions"]["code"] == "ConcurrentModification"
    assert fake.order("b")["version"] == 1
