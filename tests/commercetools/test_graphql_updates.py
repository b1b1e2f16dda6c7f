"""``Orders.apply_many``: several orders' updates in one GraphQL request, each one's outcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest

from ct_prima_sync.commercetools import (
    AddDelivery,
    ChangeOrderState,
    CommercetoolsClient,
    OrderState,
    OrderUpdateConflict,
    OrderUpdated,
    OrderUpdateFailed,
    ResourceIdentifier,
    SetCustomField,
    TransitionState,
    UpdateSyncInfo,
)
from ct_prima_sync.commercetools._graphql import graphql_request, read_outcomes
from ct_prima_sync.commercetools._protocol import Api
from ct_prima_sync.errors import (
    CommercetoolsTransportError,
    ConfigurationError,
    PayloadError,
    ServiceUnavailableError,
)
from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing.scenario import connect_commercetools

PROJECT = "shop"
CONFIRM = [ChangeOrderState(order_state=OrderState.CONFIRMED)]


@pytest.fixture
def fake() -> FakeCommercetools:
    return FakeCommercetools(project_key=PROJECT, seed=11)


@pytest.fixture
def client(fake: FakeCommercetools) -> Iterator[CommercetoolsClient]:
    with connect_commercetools(fake, sleep=lambda _: None, random=lambda: 0.0) as ct:
        yield ct


def _order(fake: FakeCommercetools, order_id: str) -> None:
    fake.add_order(
        {
            "id": order_id,
            "orderNumber": f"N-{order_id}",
            "customerEmail": "jane@example.com",
            "totalPrice": {"currencyCode": "EUR", "centAmount": 100},
            "custom": {"type": {"typeId": "type", "key": "order-extra"}, "fields": {}},
        }
    )


def test_the_document_carries_no_values_only_variables() -> None:
    actions = [
        UpdateSyncInfo(channel=ResourceIdentifier.channel(id="ch-1"), external_id='P"1'),
        SetCustomField(name="primaReference", value='P"1'),
        ChangeOrderState(order_state=OrderState.CONFIRMED),
        TransitionState(state=ResourceIdentifier.state(key="sent"), force=False),
    ]

    body = graphql_request([("order-1", 4, actions), ("order-2", 9, CONFIRM)])

    assert "order-1" not in body["query"]
    assert "P" not in body["query"].replace("UpdateOrders", ""), "no value in the text"
    assert body["query"].count("updateOrder(") == 2
    assert body["operationName"] == "UpdateOrders"
    assert body["variables"]["id0"] == "order-1"
    assert body["variables"]["version1"] == 9
    assert body["variables"]["actions0"] == [
        {
            "updateSyncInfo": {
                "channel": {"typeId": "channel", "id": "ch-1"},
                "externalId": 'P"1',
            }
        },
        {"setCustomField": {"name": "primaReference", "value": '"P\\"1"'}},
        {"changeOrderState": {"orderState": "Confirmed"}},
        {"transitionState": {"state": {"typeId": "state", "key": "sent"}, "force": False}},
    ]


def test_actions_without_a_known_graphql_input_are_refused_before_sending() -> None:
    delivery = AddDelivery()
    with pytest.raises(ConfigurationError, match="addDelivery"):
        graphql_request([("o", 1, [delivery])])


def test_outcomes_are_read_per_alias() -> None:
    updates: list[tuple[str, int, Any]] = [("a", 1, CONFIRM), ("b", 1, CONFIRM), ("c", 1, CONFIRM)]
    reply = {
        "data": {"u0": {"id": "a", "version": 2}, "u1": None, "u2": None},
        "errors": [
            {
                "message": "Object version mismatch for jane@example.com",
                "path": ["u1"],
                "extensions": {"code": "ConcurrentModification", "currentVersion": 5},
            },
            {
                "message": "Some value jane@example.com is invalid",
                "path": ["u2"],
                "extensions": {"code": "InvalidOperation"},
            },
        ],
    }

    outcomes = read_outcomes(updates, reply)

    assert outcomes[:2] == [OrderUpdated("a", 2), OrderUpdateConflict("b", 5)]
    failed = outcomes[2]
    assert isinstance(failed, OrderUpdateFailed)
    assert (failed.order_id, failed.code, failed.error) == ("c", "InvalidOperation", None)
    assert "jane" not in failed.message, "the API's message text is never quoted"


def test_an_error_without_a_path_fails_every_update_without_a_result() -> None:
    updates: list[tuple[str, int, Any]] = [("a", 1, CONFIRM), ("b", 1, CONFIRM)]
    reply = {"data": None, "errors": [{"message": "x", "extensions": {"code": "General"}}]}

    outcomes = read_outcomes(updates, reply)

    assert [type(o) for o in outcomes] == [OrderUpdateFailed, OrderUpdateFailed]
    assert {o.code for o in outcomes if isinstance(o, OrderUpdateFailed)} == {"General"}
    assert [type(o) for o in read_outcomes(updates, "not json")] == [OrderUpdateFailed] * 2


def test_apply_many_sends_one_request_and_reports_a_partial_conflict(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    for order_id in ("a", "b", "c"):
        _order(fake, order_id)
    fake.update_order("b", [{"action": "changeOrderState", "orderState": "Complete"}])
    fake.clear_requests()
    reference = [SetCustomField(name="primaReference", value="P-1")]

    outcomes = client.orders.apply_many(
        [("a", 1, reference), ("b", 1, reference), ("c", 1, []), ("missing", 1, CONFIRM)]
    )

    assert outcomes[:3] == [
        OrderUpdated("a", 2),
        OrderUpdateConflict("b", 2),
        OrderUpdated("c", 1),  # nothing to send
    ]
    missing = outcomes[3]
    assert isinstance(missing, OrderUpdateFailed)
    assert missing.code == "ResourceNotFound"
    (request,) = [r for r in fake.requests if r.path == f"/{PROJECT}/graphql"]
    assert request.method == "POST"
    assert len(request.json()["variables"]) == 9, "three updates sent, the empty one not"
    assert fake.order("a")["custom"]["fields"] == {"primaReference": "P-1"}
    assert fake.order("b")["custom"]["fields"] == {}


def test_a_failed_request_is_reported_for_every_update(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    _order(fake, "a")
    _order(fake, "b")
    fake.faults.fail(500, path="/graphql$", times=None)

    outcomes = client.orders.apply_many([("a", 1, CONFIRM), ("b", 1, CONFIRM)])

    assert [o.order_id for o in outcomes] == ["a", "b"]
    for outcome in outcomes:
        assert isinstance(outcome, OrderUpdateFailed)
        assert isinstance(outcome.error, ServiceUnavailableError)
    posts = [r for r in fake.requests if r.path.endswith("/graphql")]
    assert len(posts) == 1, "a POST that may have applied is not sent again"


def test_a_request_without_an_answer_is_reported_with_its_error(
    fake: FakeCommercetools, client: CommercetoolsClient
) -> None:
    _order(fake, "a")
    fake.faults.read_timeout(path="/graphql$")

    (outcome,) = client.orders.apply_many([("a", 1, CONFIRM)])

    assert isinstance(outcome, OrderUpdateFailed)
    assert isinstance(outcome.error, CommercetoolsTransportError)
    assert fake.order("a")["orderState"] == "Confirmed", "applied, but the answer was lost"


class _NotJson:
    """An API whose every answer is a body that is not JSON."""

    def request(self, method: str, path: str, **_: object) -> object:
        raise PayloadError("response body is not JSON (JSONDecodeError)")


def test_a_reply_that_is_not_json_is_reported_for_every_update() -> None:
    from ct_prima_sync.commercetools._orders import Orders

    orders = Orders(cast("Api", _NotJson()))

    outcomes = orders.apply_many([("a", 1, CONFIRM), ("b", 2, CONFIRM)])

    assert [type(o.error) for o in outcomes if isinstance(o, OrderUpdateFailed)] == [
        PayloadError,
        PayloadError,
    ]
