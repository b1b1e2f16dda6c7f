"""The dispatch flow end to end: commercetools hears "shipped" only after Prima confirms, with
every parcel, exactly once; cancellations, edits, returns and Prima's silences all surface."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import attrs
import pytest

from ct_prima_sync.engine import FakeClock, LeaseLock, SyncEngine
from ct_prima_sync.mapping import CancelPolicy, CarrierConfig, DispatchConfig
from ct_prima_sync.prima import OrderStatus
from ct_prima_sync.state import DispatchState, Owner, StateStore, open_store
from ct_prima_sync.state._write_backs import WRITE_BACK_SUBJECT
from ct_prima_sync.testing import (
    FakePrima,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
)
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

EngineFactory = Callable[..., SyncEngine]
DETAILS = DispatchConfig(
    despatch_details=True,
    carriers={
        "DPD": CarrierConfig(name="DPD UK", tracking_url="https://dpd.example/{tracking_id}")
    },
    parcel_type_key="parcel-tracking",
)
ON = date(2026, 11, 21)


@pytest.fixture
def scenario() -> SyncScenario:
    return build_scenario(orders=6, bad_every=0, seed=5)


@pytest.fixture
def store() -> Iterator[StateStore]:
    with open_store("memory://") as opened:
        yield opened


def _in_prima(make_engine: EngineFactory, store: StateStore, **config: Any) -> SyncEngine:
    engine = make_engine(store, **config)
    summary = engine.sync_orders()
    assert summary.posted == 6
    return engine


def _deliveries(scenario: SyncScenario, order_id: str) -> list[dict[str, Any]]:
    order = scenario.commercetools.order(order_id)
    infos = [order.get("shippingInfo")] + [s["shippingInfo"] for s in order["shipping"]]
    return [d for info in infos if info for d in info.get("deliveries", [])]


def _shipment_writes(scenario: SyncScenario, order_id: str) -> list[list[str]]:
    """The dispatch actions sent for an order, one list per update request."""
    writes = []
    for record in scenario.commercetools.requests:
        if record.method == "POST" and record.path.endswith(f"/orders/{order_id}"):
            names = [a["action"] for a in json.loads(record.body)["actions"]]
            if {"addDelivery", "changeShipmentState"} & set(names):
                writes.append(names)
    return writes


def _first(scenario: SyncScenario) -> tuple[str, str]:
    prima_order = scenario.world.orders()[0]
    return prima_order.order_number, prima_order.order.external_id


def test_a_part_then_a_full_despatch_reach_commercetools_only_after_prima_confirms(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=DETAILS)
    number, order_id = _first(scenario)
    prima_order = scenario.world.order(number)
    for _ in range(3):  # Prima says nothing new: commercetools hears nothing
        summary = engine.sync_dispatch()
        clock.advance(600)
    assert (summary.checked, summary.deliveries, summary.open) == (6, 0, 6)
    assert _shipment_writes(scenario, order_id) == []

    first_line = prima_order.order.lines[0]
    scenario.world.despatch(
        number, {first_line.line_number: 1}, carrier="DPD", tracking_numbers=["1Z1"], on=ON
    )
    summary = engine.sync_dispatch()
    assert (summary.deliveries, summary.partial, summary.shipped) == (1, 1, 0)
    order = scenario.commercetools.order(order_id)
    assert order["shipmentState"] == "Partial"

    clock.advance(600)
    scenario.world.despatch(number, carrier="DPD", tracking_numbers=["1Z2", "1Z3"], on=ON)
    summary = engine.sync_dispatch()
    assert (summary.deliveries, summary.shipped, summary.open) == (1, 1, 5)
    order = scenario.commercetools.order(order_id)
    assert order["shipmentState"] == "Shipped"
    deliveries = _deliveries(scenario, order_id)
    assert [d["key"] for d in deliveries] == [f"{number}-D000001", f"{number}-D000002"]
    shipped: Counter[str] = Counter()
    for d in deliveries:
        for item in d["items"]:
            shipped[item["id"]] += item["quantity"]
    assert dict(shipped) == {li["id"]: li["quantity"] for li in order["lineItems"]}
    parcels = [p for d in deliveries for p in d["parcels"]]
    assert [p["trackingData"]["trackingId"] for p in parcels] == ["1Z1", "1Z2", "1Z3"]
    assert {p["trackingData"]["carrier"] for p in parcels} == {"DPD UK"}
    assert parcels[1]["custom"]["fields"]["trackingUrl"] == "https://dpd.example/1Z2"
    assert _shipment_writes(scenario, order_id) == [
        ["addDelivery", "changeShipmentState"],
        ["addDelivery", "changeShipmentState"],
    ]
    record = store.get_dispatch(order_id)
    assert record is not None
    assert record.state is DispatchState.SHIPPED
    assert (record.first_despatched_on, record.last_despatched_on) == (ON, ON)
    assert [line.despatched for line in record.lines] == [line.ordered for line in record.lines]
    clock.advance(600)
    again = engine.sync_dispatch()
    assert (again.checked, again.open) == (5, 5)  # a shipped order is no longer asked about


def test_without_despatch_details_the_fallback_sets_partial_then_ships_the_rest(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store)
    number, order_id = _first(scenario)
    engine.sync_dispatch()
    line = scenario.world.order(number).order.lines[0]
    scenario.world.despatch(number, {line.line_number: 1}, on=ON)
    clock.advance(600)
    assert engine.sync_dispatch().partial == 1
    assert scenario.commercetools.order(order_id)["shipmentState"] == "Partial"
    assert _deliveries(scenario, order_id) == []
    scenario.world.despatch(number, on=ON)
    clock.advance(600)
    summary = engine.sync_dispatch()
    assert (summary.shipped, summary.deliveries) == (1, 1)
    (delivery,) = _deliveries(scenario, order_id)
    assert delivery["key"] == f"{number}-all"
    assert delivery["parcels"] == []
    assert scenario.commercetools.order(order_id)["shipmentState"] == "Shipped"
    assert {r.kind for r in scenario.world.requests()} == {
        PrimaRequestKind.SUBMIT_ORDERS,
        PrimaRequestKind.ORDER_STATUS,
    }


@pytest.mark.parametrize("policy", list(CancelPolicy))
def test_an_order_cancelled_in_prima_is_handled_by_the_chosen_policy(
    policy: CancelPolicy,
    scenario: SyncScenario,
    make_engine: EngineFactory,
    store: StateStore,
    clock: FakeClock,
) -> None:
    config = attrs.evolve(DETAILS, on_prima_cancel=policy)
    engine = _in_prima(make_engine, store, dispatch=config)
    number, order_id = _first(scenario)
    engine.sync_dispatch()
    scenario.world.cancel(number)
    clock.advance(600)
    summary = engine.sync_dispatch()
    assert summary.cancelled == 1
    (exception,) = engine.exceptions(order_id=order_id)
    order = scenario.commercetools.order(order_id)
    if policy is CancelPolicy.CANCEL_ORDER:
        assert order["orderState"] == "Cancelled"
        assert (exception.kind, str(exception.owner)) == ("REFUND_DUE", "finance")
    else:
        assert order["orderState"] == "Open"
        assert (exception.kind, str(exception.owner)) == ("ORDER_CANCELLED_IN_PRIMA", "ecommerce")
    assert "shipmentState" not in order or order["shipmentState"] != "Shipped"
    record = store.get_dispatch(order_id)
    assert record is not None
    assert record.state is DispatchState.CANCELLED
    clock.advance(600)
    engine.sync_dispatch()
    assert engine.exceptions(order_id=order_id)[0].occurrences == 1  # raised once


def test_a_despatch_for_an_order_commercetools_deleted_is_raised_and_no_longer_followed(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=DETAILS)
    number, order_id = _first(scenario)
    engine.sync_dispatch()
    scenario.commercetools.delete_order(order_id)
    scenario.world.despatch(number, carrier="DPD", tracking_numbers=["1Z9"], on=ON)
    clock.advance(600)
    summary = engine.sync_dispatch()
    assert summary.problems == {"CT_ORDER_DELETED": 1}
    (exception,) = engine.exceptions(order_id=order_id)
    assert (exception.kind, str(exception.owner)) == ("CT_ORDER_DELETED", "operations")
    assert "Despatched" in exception.detail["message"]
    assert exception.detail["flow"] == "dispatch"  # the order is done in the ledger: ours
    record = store.get_dispatch(order_id)
    assert record is not None
    assert record.state is DispatchState.CLOSED


def _two_shipping_order(scenario: SyncScenario) -> tuple[str, str]:
    skus = ["-".join((s.product, *s.matrix)) for s in scenario.world.skus()[:2]]
    order = make_order(
        lines=[
            LineSpec(sku=skus[0], quantity=3, unit_price=1999, supply_channel="wh-main"),
            LineSpec(sku=skus[1], quantity=2, unit_price=999, supply_channel="wh-main"),
        ],
        shipping=[
            ShippingSpec(key="home", name="Standard", price=495),
            ShippingSpec(key="office", name="Express", price=995),
        ],
        order_number="WEB-MULTI-1",
        seed=99,
    )
    first, second = order["lineItems"]
    first["shippingDetails"]["targets"] = [
        {"addressKey": "home", "quantity": 2, "shippingMethodKey": "home"},
        {"addressKey": "office", "quantity": 1, "shippingMethodKey": "office"},
    ]
    second["shippingDetails"]["targets"] = [
        {"addressKey": "office", "quantity": 2, "shippingMethodKey": "office"}
    ]
    return "WEB-MULTI-1", scenario.commercetools.add_order(order)["id"]


def test_an_order_with_two_shippings_despatched_in_two_parts(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    number, order_id = _two_shipping_order(scenario)
    engine = make_engine(store, dispatch=DETAILS)
    assert engine.sync_orders().posted == 7
    engine.sync_dispatch()
    lines = scenario.world.order(number).order.lines
    scenario.world.despatch(number, {lines[0].line_number: 2}, carrier="DPD", on=ON)
    clock.advance(600)
    assert engine.sync_dispatch().partial == 1
    scenario.world.despatch(number, carrier="DPD", tracking_numbers=["1ZB"], on=ON)
    clock.advance(600)
    assert engine.sync_dispatch().shipped == 1
    order = scenario.commercetools.order(order_id)
    assert order["shipmentState"] == "Shipped"
    by_shipping = {
        s["shippingKey"]: [
            (d["key"], sorted((i["id"], i["quantity"]) for i in d["items"]))
            for d in s["shippingInfo"].get("deliveries", [])
        ]
        for s in order["shipping"]
    }
    first, second = (li["id"] for li in order["lineItems"])
    assert by_shipping == {
        "home": [(f"{number}-D000001-home", [(first, 2)])],
        "office": [(f"{number}-D000002-office", sorted([(first, 1), (second, 2)]))],
    }


def test_an_order_cancelled_in_commercetools_is_raised_within_one_run_even_if_not_due(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=DETAILS)
    number, order_id = _first(scenario)
    engine.sync_dispatch()
    clock.advance(8 * 24 * 3600)  # a week on, each order is asked about once a day
    engine.sync_dispatch()
    scenario.commercetools.update_order(
        order_id, [{"action": "changeOrderState", "orderState": "Cancelled"}]
    )
    clock.advance(300)
    summary = engine.sync_dispatch()
    assert summary.checked == 0, "no order was due at Prima"
    assert (summary.reviewed, summary.problems.get("CT_ORDER_CANCELLED")) == (1, 1)
    (exception,) = engine.exceptions(order_id=order_id, kind="CT_ORDER_CANCELLED")
    assert str(exception.owner) == "operations"
    assert exception.detail["order_number"] == number
    clock.advance(300)
    engine.sync_dispatch()
    assert engine.exceptions(order_id=order_id)[0].occurrences == 1

    scenario.world.cancel(number)  # the warehouse stopped it: the two systems agree again
    clock.advance(25 * 3600)
    engine.sync_dispatch()
    assert engine.exceptions(order_id=order_id) == []
    record = store.get_dispatch(order_id)
    assert record is not None
    assert record.state is DispatchState.CANCELLED


def test_a_cancellation_is_sent_to_prima_where_the_installation_takes_it(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=attrs.evolve(DETAILS, cancel_in_prima=True))
    number, order_id = _first(scenario)
    engine.sync_dispatch()
    scenario.commercetools.update_order(
        order_id, [{"action": "changeOrderState", "orderState": "Cancelled"}]
    )
    clock.advance(300)
    summary = engine.sync_dispatch()
    assert scenario.world.order(number).status is OrderStatus.CANCELLED
    assert summary.cancelled == 1  # asked about in the same run: Prima confirms
    assert engine.exceptions(order_id=order_id) == []


def test_edits_and_returns_made_in_commercetools_are_passed_on(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=DETAILS)
    number, order_id = _first(scenario)
    engine.sync_dispatch()

    def fewer(draft: dict[str, Any]) -> None:
        draft["lineItems"][0]["quantity"] += 1

    scenario.commercetools.edit_order(order_id, fewer)
    clock.advance(300)
    engine.sync_dispatch()
    (changed,) = engine.exceptions(order_id=order_id)
    assert changed.kind == "CT_ORDER_CHANGED"
    assert changed.detail["changes"][0]["after"] == changed.detail["changes"][0]["before"] + 1

    scenario.world.despatch(number, carrier="DPD", on=ON)
    clock.advance(300)
    engine.sync_dispatch()
    line = scenario.commercetools.order(order_id)["lineItems"][1]["id"]
    scenario.commercetools.update_order(
        order_id,
        [
            {
                "action": "addReturnInfo",
                "items": [{"quantity": 1, "lineItemId": line, "shipmentState": "Returned"}],
            }
        ],
    )
    clock.advance(300)
    engine.sync_dispatch()
    (returned,) = engine.exceptions(order_id=order_id, kind="CT_RETURN_RECORDED")
    assert returned.detail["returns"][0]["quantity"] == 1
    record = store.get_dispatch(order_id)
    assert record is not None
    assert [(r.line_id, r.quantity, r.passed_on) for r in record.returns] == [
        (line, 1, "exception")
    ]
    clock.advance(300)
    engine.sync_dispatch()
    assert (
        returned.occurrences
        == engine.exceptions(order_id=order_id, kind=returned.kind)[0].occurrences
    )


def test_an_order_stuck_in_the_warehouse_is_raised_and_resolved_once_it_ships(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=attrs.evolve(DETAILS, stalled_after_hours=48))
    number, order_id = _first(scenario)
    engine.sync_dispatch()
    clock.advance(49 * 3600)
    summary = engine.sync_dispatch()
    assert summary.problems == {"ORDER_STALLED": 6}
    (stalled,) = engine.exceptions(order_id=order_id)
    assert (stalled.kind, str(stalled.owner)) == ("ORDER_STALLED", "operations")
    scenario.world.despatch(number, on=ON)
    clock.advance(3600)
    engine.sync_dispatch()
    assert engine.exceptions(order_id=order_id) == []
    assert len(engine.exceptions(kind="ORDER_STALLED")) == 5


def test_prima_not_knowing_an_order_or_naming_a_status_nobody_knows_is_raised(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store)
    orders = scenario.world.orders()
    scenario.world.forget(orders[0].order_number)
    scenario.world.report_status_as(orders[1].order_number, "Picking")
    scenario.world.report_status_as(orders[2].order_number, "PART  DESPATCHED")
    summary = engine.sync_dispatch()
    assert summary.problems == {"PRIMA_ORDER_UNKNOWN": 1, "DISPATCH_STATUS_UNKNOWN": 1}
    odd = engine.exceptions(kind="DISPATCH_STATUS_UNKNOWN")[0]
    assert odd.detail["prima_status"] == "Picking"
    assert scenario.commercetools.order(orders[1].order.external_id).get("shipmentState") is None
    assert scenario.commercetools.order(orders[2].order.external_id)["shipmentState"] == "Partial"


def test_prima_being_down_stops_the_run_and_the_next_run_carries_on(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    plan = PrimaFaultPlan()
    prima = FakePrima(scenario.world, faults=plan, sleep=lambda _s: None)
    engine = _in_prima(make_engine, store, prima=prima)
    plan.on_nth(PrimaRequestKind.ORDER_STATUS, 3, PrimaFault(kind=PrimaFaultKind.TIMEOUT))
    summary = engine.sync_dispatch()
    assert (summary.stopped, summary.checked) == ("PRIMA_UNAVAILABLE", 2)
    assert len(engine.exceptions(kind="PRIMA_UNAVAILABLE")) == 1
    clock.advance(60)
    summary = engine.sync_dispatch()
    assert (summary.stopped, summary.checked) == (None, 6)
    assert engine.exceptions() == []


def test_a_run_asks_prima_no_more_than_its_budget(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    config = attrs.evolve(DETAILS, schedule=attrs.evolve(DETAILS.schedule, max_checks_per_run=4))
    engine = _in_prima(make_engine, store, dispatch=config)
    before = len(scenario.world.requests(PrimaRequestKind.DESPATCH_DETAILS))
    summary = engine.sync_dispatch()
    asked = len(scenario.world.requests(PrimaRequestKind.DESPATCH_DETAILS)) - before
    assert (summary.checked, asked, summary.deferred) == (4, 4, 2)
    clock.advance(60)
    summary = engine.sync_dispatch()
    assert (summary.checked, summary.deferred) == (4, 2)  # the two left over come first


def test_a_second_worker_skips_while_one_runs(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=DETAILS)
    with LeaseLock(store, "dispatch", holder="other", ttl_seconds=600, clock=clock):
        summary = engine.sync_dispatch()
    assert (summary.skipped, summary.checked) == (True, 0)
    assert engine.sync_dispatch().checked == 6


def test_a_conflicting_update_is_read_again_and_written_once(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store, dispatch=DETAILS)
    number, order_id = _first(scenario)
    engine.sync_dispatch()
    scenario.world.despatch(number, carrier="DPD", tracking_numbers=["1Z"], on=ON)
    scenario.commercetools.faults.conflict(path=f"/orders/{order_id}$")
    scenario.commercetools.clear_requests()
    clock.advance(600)
    summary = engine.sync_dispatch()
    assert summary.shipped == 1
    assert len(_deliveries(scenario, order_id)) == 1
    posts = [
        r for r in scenario.commercetools.requests if r.method == "POST" and order_id in r.path
    ]
    reads = [r for r in scenario.commercetools.requests if r.method == "GET" and order_id in r.path]
    assert (len(posts), len(reads)) == (2, 2)  # refused, read again, written once


def test_a_replay_after_a_fix_asks_prima_again_on_the_next_run(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engine = _in_prima(make_engine, store)
    number, _ = _first(scenario)
    scenario.world.report_status_as(number, "Picking")
    engine.sync_dispatch()
    clock.advance(30 * 3600)  # the order is now asked about hourly
    engine.sync_dispatch()
    scenario.world.despatch(number, on=ON)
    clock.advance(60)
    assert engine.sync_dispatch().checked == 0
    assert engine.retry_exceptions(kind="DISPATCH_STATUS_UNKNOWN") == 1
    summary = engine.sync_dispatch()
    assert (summary.checked, summary.shipped) == (1, 1)
    assert engine.exceptions() == []


def test_one_orders_own_problems_never_stop_the_others(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    plan = PrimaFaultPlan()
    prima = FakePrima(scenario.world, faults=plan, sleep=lambda _s: None)
    engine = _in_prima(make_engine, store, prima=prima, dispatch=DETAILS)
    _, order_id = _first(scenario)
    engine.sync_dispatch()
    for order in scenario.world.orders():
        scenario.world.despatch(order.order_number, carrier="DPD", on=ON)
    scenario.commercetools.faults.fail(400, method="POST", path=f"/orders/{order_id}$")
    later = plan.count(PrimaRequestKind.DESPATCH_DETAILS) + 2
    plan.on_nth(
        PrimaRequestKind.DESPATCH_DETAILS, later, PrimaFault(kind=PrimaFaultKind.WRONG_ROOT)
    )
    clock.advance(600)
    summary = engine.sync_dispatch()
    assert summary.stopped is None
    assert summary.shipped == 4
    assert summary.problems == {"CT_WRITE_BACK_FAILED": 1, "PRIMA_PROTOCOL": 1}
    (refused,) = engine.exceptions(order_id=order_id)
    assert (refused.kind, str(refused.owner)) == ("CT_WRITE_BACK_FAILED", "ecommerce")
    clock.advance(600)
    summary = engine.sync_dispatch()  # the faults are gone: both orders go through
    assert (summary.checked, summary.shipped) == (2, 2)
    assert engine.exceptions() == []
    assert store.count_dispatch_by_state()[DispatchState.SHIPPED] == 6


def test_a_stop_request_finishes_the_order_in_hand_and_returns(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    engines: list[SyncEngine] = []

    def stop_once(step: str, _order_id: str) -> None:
        if step == "dispatch.recorded" and len(engines) == 1:
            engines[0].request_stop()
            engines.append(engines[0])

    engine = make_engine(store, checkpoint=stop_once)
    engines.append(engine)
    engine.sync_orders()
    summary = engine.sync_dispatch()
    assert (summary.stopped, summary.checked, summary.taken_on) == ("requested", 1, 6)
    clock.advance(60)
    again = engine.sync_dispatch()  # the next run starts afresh
    assert (again.stopped, again.checked) == (None, 6)


class _PlainPrima:
    """A host's own gateway that cannot send the shop's cancellations (no PrimaOrderChanges)."""

    def __init__(self, inner: FakePrima) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in ("cancel_order", "record_return"):
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_sending_cancellations_needs_a_gateway_that_can_and_says_so_before_taking_the_lock(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    from ct_prima_sync.errors import ConfigurationError

    prima = _PlainPrima(FakePrima(scenario.world, sleep=lambda _s: None))
    engine = make_engine(store, prima=prima, dispatch=attrs.evolve(DETAILS, cancel_in_prima=True))
    with pytest.raises(ConfigurationError, match="cancel_in_prima"):
        engine.sync_dispatch()
    assert LeaseLock(store, "dispatch", holder="next", ttl_seconds=60, clock=clock).acquire()


class _NoDetails(_PlainPrima):
    """A Prima client not set up for the despatch-details request the settings ask for."""

    def despatch_details(self, order_number: str) -> Any:
        from ct_prima_sync.errors import ConfigurationError

        raise ConfigurationError("despatch_details: the request is not enabled")


def test_a_request_the_prima_client_is_not_set_up_for_stops_the_run_with_its_setting(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    from ct_prima_sync.errors import ConfigurationError

    prima = _NoDetails(FakePrima(scenario.world, sleep=lambda _s: None))
    engine = _in_prima(make_engine, store, prima=prima, dispatch=DETAILS)
    with pytest.raises(ConfigurationError, match="despatch_details"):
        engine.sync_dispatch()
    assert engine.exceptions() == []  # a setting to fix, not 6 orders in the queue
    assert LeaseLock(store, "dispatch", holder="next", ttl_seconds=60, clock=clock).acquire()


def test_a_successful_dispatch_write_leaves_the_order_write_back_problem_open(
    scenario: SyncScenario, make_engine: EngineFactory, store: StateStore, clock: FakeClock
) -> None:
    """The order's own write-back (Prima's reference) is the write-back pass's to close: a
    delivery written for the order proves nothing about it."""
    engine = _in_prima(make_engine, store, dispatch=DETAILS)
    number, order_id = _first(scenario)
    queued = store.record_exception(
        kind="CT_WRITE_BACK_FAILED",
        owner=Owner.ECOMMERCE,
        detail={"message": "commercetools refused the reference"},
        now=clock.now(),
        order_id=order_id,
        subject=WRITE_BACK_SUBJECT,
        transient=True,
        next_retry_at=clock.now(),
    )
    scenario.world.despatch(number, carrier="DPD", on=ON)
    clock.advance(600)
    assert engine.sync_dispatch().shipped == 1
    still = store.get_exception(queued.exception_id)
    assert still is not None
    assert still.resolved_at is None
