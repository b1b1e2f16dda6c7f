"""Design invariant 5 under crashes: a dispatch run killed at any step and run again writes each
delivery, each cancellation and each exception exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from ct_prima_sync.engine import FakeClock, SyncEngine
from ct_prima_sync.mapping import CancelPolicy, DispatchConfig
from ct_prima_sync.state import DispatchState, open_store
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

EngineFactory = Callable[..., SyncEngine]

STEPS = (
    "dispatch.taken_on",
    "dispatch.reviewed",
    "dispatch.due",
    "dispatch.asked",
    "dispatch.planned",
    "dispatch.applied",
    "dispatch.recorded",
)
CONFIG = DispatchConfig(despatch_details=True, on_prima_cancel=CancelPolicy.CANCEL_ORDER)
ON = date(2026, 11, 21)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in the engine catches it."""


@pytest.fixture
def scenario() -> SyncScenario:
    return build_scenario(orders=6, bad_every=0, seed=8)


def _crash_at(step: str, nth: int, fired: list[str]) -> Callable[[str, str], None]:
    seen = Counter[str]()

    def checkpoint(at: str, order_id: str) -> None:
        seen[at] += 1
        if at == step and seen[at] == nth and not fired:
            fired.append(order_id)
            raise Crash(step)

    return checkpoint


def _deliveries(scenario: SyncScenario, order_id: str) -> list[dict[str, Any]]:
    order = scenario.commercetools.order(order_id)
    infos = [order.get("shippingInfo")] + [s["shippingInfo"] for s in order["shipping"]]
    return [d for info in infos if info for d in info.get("deliveries", [])]


@pytest.mark.parametrize("nth", [1, 2])
@pytest.mark.parametrize("step", STEPS)
def test_a_dispatch_run_killed_at_any_step_then_run_again_acts_exactly_once(
    step: str,
    nth: int,
    *,
    scenario: SyncScenario,
    make_engine: EngineFactory,
    clock: FakeClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('dispatch-crash')}/sync.db"
    fired: list[str] = []
    store = open_store(url)
    engine = make_engine(
        store, checkpoint=_crash_at(step, nth, fired), dispatch=CONFIG, concurrency=1
    )
    engine.sync_orders()
    orders = scenario.world.orders()
    numbers = [o.order_number for o in orders]
    ids = {o.order_number: o.order.external_id for o in orders}
    part, full, cancelled, shop_cancelled, returned, waiting = numbers

    def prima_part() -> None:
        line = scenario.world.order(part).order.lines[0]
        scenario.world.despatch(part, {line.line_number: 1}, tracking_numbers=["P1"], on=ON)
        scenario.world.despatch(full, tracking_numbers=["F1", "F2"], on=ON)
        scenario.world.despatch(returned, on=ON)
        scenario.world.cancel(cancelled)
        scenario.commercetools.update_order(
            ids[shop_cancelled], [{"action": "changeOrderState", "orderState": "Cancelled"}]
        )

    def prima_rest() -> None:
        scenario.world.despatch(part, tracking_numbers=["P2"], on=ON)
        line = scenario.commercetools.order(ids[returned])["lineItems"][0]["id"]
        scenario.commercetools.update_order(
            ids[returned],
            [
                {
                    "action": "addReturnInfo",
                    "items": [{"quantity": 1, "lineItemId": line, "shipmentState": "Returned"}],
                }
            ],
        )

    for move in (None, prima_part, prima_rest, None):
        if move is not None:
            move()
        clock.advance(600)
        while True:
            try:
                engine.sync_dispatch()
                break
            except Crash:
                store.close()
                clock.advance(CONFIG.lock_seconds + 1)  # a dead run's lock runs out
                store = open_store(url)
                engine = make_engine(store, worker_id="worker-2", dispatch=CONFIG)
    assert fired, f"the crash at {step} never happened"

    for number in (part, full, returned):
        deliveries = _deliveries(scenario, ids[number])
        keys = [d["key"] for d in deliveries]
        prima = scenario.world.order(number)
        assert sorted(keys) == sorted(f"{number}-{d.despatch_id}" for d in prima.despatches)
        shipped: Counter[str] = Counter()
        for d in deliveries:
            for item in d["items"]:
                shipped[item["id"]] += item["quantity"]
        order = scenario.commercetools.order(ids[number])
        assert dict(shipped) == {li["id"]: li["quantity"] for li in order["lineItems"]}
        assert order["shipmentState"] == "Shipped"
        record = store.get_dispatch(ids[number])
        assert record is not None
        assert record.state is DispatchState.SHIPPED
        assert sorted(d.delivery_key for d in record.deliveries) == sorted(keys)
    assert scenario.commercetools.order(ids[cancelled])["orderState"] == "Cancelled"
    cancels = [
        m
        for m in scenario.commercetools.messages()
        if m["type"] == "OrderStateChanged" and m["resource"]["id"] == ids[cancelled]
    ]
    assert len(cancels) == 1
    assert _deliveries(scenario, ids[waiting]) == []
    open_kinds = Counter((r.kind, r.order_id) for r in engine.exceptions())
    assert open_kinds == {
        ("REFUND_DUE", ids[cancelled]): 1,
        ("CT_ORDER_CANCELLED", ids[shop_cancelled]): 1,
        ("CT_RETURN_RECORDED", ids[returned]): 1,
    }
    returned_record = store.get_dispatch(ids[returned])
    assert returned_record is not None
    assert len(returned_record.returns) == 1
    store.close()
