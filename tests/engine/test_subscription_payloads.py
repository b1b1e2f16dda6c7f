"""Every shape a commercetools Subscription delivers, through ``handle_message``: what reaches
Prima, what is ignored (and why), what lands in the exception queue. Nothing is dropped without
a trace, and one message works only its own order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ct_prima_sync.cli._runs import summary_lines
from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.engine import EligibilityRules, FakeClock, SyncEngine
from ct_prima_sync.errors import PayloadError
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing.scenario import SyncScenario

EngineFactory = Callable[..., SyncEngine]


def _message(order: dict[str, Any], *, embed: bool = True) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "notificationType": "Message",
        "projectKey": "shop",
        "id": "msg-1",
        "version": 1,
        "sequenceNumber": 1,
        "resource": {"typeId": "order", "id": order["id"]},
        "resourceVersion": 1,
        "type": "OrderCreated",
        "createdAt": order["createdAt"],
        "lastModifiedAt": order["createdAt"],
    }
    if embed:
        payload["order"] = order
    return payload


def _change(order: dict[str, Any], notification: str) -> dict[str, Any]:
    return {
        "notificationType": notification,
        "projectKey": "shop",
        "resource": {"typeId": "order", "id": order["id"]},
        "resourceUserProvidedIdentifiers": {"orderNumber": order["orderNumber"]},
        "version": 1,
        "modifiedAt": order["createdAt"],
    }


def _cloud_event(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "ce-1",
        "type": f"com.commercetools.order.{kind}",
        "source": "/shop/orders",
        "subject": data["resource"]["id"],
        "time": "2026-11-20T09:00:00Z",
        "sequence": "1",
        "sequencetype": "Integer",
        "dataref": "/shop/orders/x",
        "data": data,
    }


def _good(scenario: SyncScenario) -> list[dict[str, Any]]:
    return [o for o in scenario.commercetools.orders() if o["orderNumber"] in scenario.good]


def test_a_platform_message_posts_its_order_and_only_its_order(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    first, second = _good(scenario)[:2]
    engine = make_engine(store)
    engine.ingest_order(parse_order(second))  # already waiting in the backlog

    summary = engine.handle_message(_message(first))

    assert (summary.ingested, summary.posted, summary.backlog) == (1, 1, 1)
    assert scenario.world.submission_count(first["orderNumber"]) == 1
    assert scenario.world.submission_count(second["orderNumber"]) == 0


def test_a_message_without_the_order_reads_it_from_commercetools(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    order = _good(scenario)[0]

    summary = make_engine(store).handle_message(_message(order, embed=False))

    assert summary.posted == 1
    assert scenario.world.submission_count(order["orderNumber"]) == 1


@pytest.mark.parametrize("kind", ["message", "change"])
def test_a_cloudevents_payload_posts_the_order_in_its_data(
    kind: str, scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    order = _good(scenario)[0]
    data = _message(order) if kind == "message" else _change(order, "ResourceCreated")

    summary = make_engine(store).handle_message(_cloud_event(data, f"{kind}.x"))

    assert (summary.ingested, summary.posted, summary.ignored) == (1, 1, 0)
    assert scenario.world.submission_count(order["orderNumber"]) == 1


@pytest.mark.parametrize("notification", ["ResourceCreated", "ResourceUpdated"])
def test_a_change_notification_posts_the_order_it_names(
    notification: str, scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    order = _good(scenario)[0]

    summary = make_engine(store).handle_message(_change(order, notification))

    assert summary.posted == 1
    assert scenario.world.submission_count(order["orderNumber"]) == 1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"foo": 1}, "not a commercetools message: it has no 'resource'"),
        (
            {"notificationType": "Message", "resource": {"typeId": "customer", "id": "c-1"}},
            "about a 'customer', not an order",
        ),
        (
            {"notificationType": "ResourceDeleted", "resource": {"typeId": "order", "id": "o"}},
            "the order was deleted (ResourceDeleted)",
        ),
        (
            {"specversion": "1.0", "id": "e", "type": "t", "source": "s", "data": "x"},
            "CloudEvents payload without a message in 'data'",
        ),
    ],
    ids=["unknown", "other-resource", "deleted-notification", "cloudevents-no-data"],
)
def test_a_payload_about_anything_else_is_ignored_with_its_reason_logged(
    payload: dict[str, Any],
    reason: str,
    store: StateStore,
    make_engine: EngineFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="ct_prima_sync.engine"):
        summary = make_engine(store).handle_message(payload)

    assert (summary.ignored, summary.ignored_reason) == (1, reason)
    assert summary.as_dict()["ignored"] == 1
    assert summary.processed == summary.ingested == 0
    assert any(reason in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


@pytest.mark.parametrize("payload", [[{"resource": {}}], "OrderCreated", b"{}", None])
def test_a_payload_that_is_not_a_json_object_is_refused(
    payload: object, store: StateStore, make_engine: EngineFactory
) -> None:
    with pytest.raises(PayloadError, match="must be a JSON object"):
        make_engine(store).handle_message(payload)  # type: ignore[arg-type]


def test_a_message_about_a_deleted_order_is_queued_and_returns_normally(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    order = _good(scenario)[0]
    scenario.commercetools.delete_order(order["id"])
    engine = make_engine(store)

    payload = _message(order, embed=False)
    payload["resourceUserProvidedIdentifiers"] = {"orderNumber": order["orderNumber"]}

    summary = engine.handle_message(payload)

    (queued,) = engine.exceptions(order_id=order["id"])
    assert queued.kind == "CT_ORDER_NOT_FOUND"
    assert queued.detail["order_number"] == order["orderNumber"]
    assert str(queued.owner) == "ecommerce"
    assert summary.problems == {"CT_ORDER_NOT_FOUND": 1}
    assert summary.posted == 0
    assert scenario.world.submission_count(order["orderNumber"]) == 0


def test_an_ineligible_order_is_counted_with_the_rule_that_skipped_it(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    order = _good(scenario)[0]
    engine = make_engine(store, eligibility=EligibilityRules(payment_states=frozenset({"Paid"})))

    summary = engine.handle_message(_message(order))

    assert (summary.skipped_ineligible, summary.skipped_rules) == (1, {"payment_states": 1})
    assert summary.posted == 0
    assert "  1 left alone by the eligibility rules (payment_states 1)" in summary_lines(summary)


def test_a_run_counts_the_orders_its_rules_skipped(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    rules = EligibilityRules(order_states=frozenset({"Confirmed"}))

    summary = make_engine(store, eligibility=rules).sync_orders()

    assert summary.skipped_ineligible == len(scenario.order_numbers)
    assert summary.skipped_rules == {"order_states": len(scenario.order_numbers)}


def test_an_order_dated_after_the_engine_clock_leaves_a_warning_and_a_count(
    scenario: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    order = dict(_good(scenario)[0])
    ahead = clock.now() + timedelta(minutes=5)
    order["createdAt"] = ahead.isoformat().replace("+00:00", "Z")

    with caplog.at_level(logging.WARNING, logger="ct_prima_sync.engine"):
        summary = make_engine(store).handle_message(_message(order))

    assert (summary.future_dated, summary.not_yet_due, summary.posted) == (1, 1, 0)
    assert any("after this engine's clock" in r.getMessage() for r in caplog.records)
