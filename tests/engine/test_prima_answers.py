"""The engine reads Prima's real answers: E:21 is "already there" only for an order it sent
before (confirmed by a status check), a collision otherwise; E:548 is finance's; the customer
code Prima returns is used for the customer's next order."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ct_prima_sync.cli._queue import reason
from ct_prima_sync.engine import FakeClock, RetryBackoff, SyncEngine
from ct_prima_sync.prima import OrderStatus, OrderStatusReport
from ct_prima_sync.state import OrderStatus as Ledger
from ct_prima_sync.state import Owner, StateStore
from ct_prima_sync.testing import (
    FakePrima,
    PrimaFault,
    PrimaFaultKind,
    PrimaRequestKind,
    PrimaWorld,
)
from ct_prima_sync.testing._prima._factory import make_sales_order
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

EngineFactory = Callable[..., SyncEngine]
REQUEST_TIMEOUT = 100.0


@pytest.fixture
def scenario() -> SyncScenario:
    """One good order."""
    return build_scenario(orders=1, seed=21)


class LaggingStatus(FakePrima):
    """A Prima whose order-status index lags: the first ``lag`` status checks do not find an
    order that is there."""

    def __init__(self, world: PrimaWorld, lag: int) -> None:
        super().__init__(world, sleep=lambda _s: None)
        self.lag = lag

    def order_status(self, order_number: str) -> OrderStatusReport:
        if self.lag > 0:
            self.lag -= 1
            return OrderStatusReport(order_number=order_number, status=OrderStatus.UNKNOWN_TO_PRIMA)
        return super().order_status(order_number)


def _order_id(scenario: SyncScenario, number: str) -> str:
    return str(next(o["id"] for o in scenario.commercetools.orders() if o["orderNumber"] == number))


def test_a_resend_after_a_lost_reply_answered_e21_is_already_in_prima(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    (number,) = scenario.good
    prima = LaggingStatus(scenario.world, lag=2)
    prima.faults.script(PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.REPLY_LOST))
    engine = make_engine(
        store, prima=prima, retry=RetryBackoff(base_seconds=1), prima_request_timeout=100.0
    )

    assert engine.sync_orders().retrying == 1  # applied, reply lost, status check lags
    clock.advance(REQUEST_TIMEOUT + 1)
    last = engine.process_backlog()  # re-sent: Prima answers E:21, the status check finds it

    assert last.already_in_prima == 1
    order_id = _order_id(scenario, number)
    assert store.get_order(order_id).status is Ledger.DONE  # type: ignore[union-attr]
    assert engine.exceptions(order_id=order_id) == []
    assert len(scenario.world.orders()) == 1
    assert scenario.world.order(number).submissions == 2


def test_a_first_send_answered_e21_is_an_order_number_collision(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    (number,) = scenario.good
    sku = scenario.world.skus()[0]
    depot = scenario.world.list_depots()[0].code
    [theirs] = scenario.world.submit_orders([make_sales_order(number, [(sku, 1, depot)])])
    assert theirs.accepted  # another shop's order with the same number
    engine = make_engine(store)

    summary = engine.sync_orders()

    assert summary.excepted == 1
    order_id = _order_id(scenario, number)
    assert store.get_order(order_id).status is Ledger.EXCEPTED  # type: ignore[union-attr]
    (problem,) = engine.exceptions(order_id=order_id)
    assert (problem.kind, problem.owner) == ("ORDER_NUMBER_COLLISION", Owner.OPERATIONS)
    assert [c["code"] for c in problem.detail["codes"]] == ["E:21"]
    assert "Stack Trace" not in problem.detail["message"]
    assert scenario.world.order(number).order.lines[0].quantity == 1  # theirs stands


def test_an_order_refused_with_e548_is_finance_s_with_every_code_shown(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    (number,) = scenario.good
    scenario.world.price_book_vat_inclusive = not scenario.mapping.vat_inclusive
    engine = make_engine(store)

    assert engine.sync_orders().excepted == 1

    (problem,) = engine.exceptions(order_id=_order_id(scenario, number))
    assert (problem.kind, problem.owner) == ("PRICE_BOOK_MISMATCH", Owner.FINANCE)
    assert [c["code"] for c in problem.detail["codes"]] == ["E:194", "E:548"]
    assert problem.detail["deciding_code"] == "E:548"
    assert "(E:548) Price obtained from the Price Book" in problem.detail["message"]
    assert "Stack Trace" not in problem.detail["message"]
    assert "Stack Trace" in problem.detail["raw_error"]
    assert scenario.world.orders() == []
    shown = reason(problem)  # the line `ct-prima-sync exceptions` shows
    assert "(E:194) There were no Valid Order Lines found" in shown
    assert "(E:548) Price obtained from the Price Book" in shown
    assert "DEV MODE" not in shown


def test_unknown_codes_are_prima_rejected_listing_every_code(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    (number,) = scenario.good
    prima = FakePrima(scenario.world, sleep=lambda _s: None)
    prima.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS,
        PrimaFault(
            kind=PrimaFaultKind.ERROR_REPLY,
            message="(E:194) follow-on DEV MODE Stack Trace: a\n"
            "(E:777) new one DEV MODE Stack Trace: b",
        ),
    )
    engine = make_engine(store, prima=prima)

    assert engine.sync_orders().excepted == 1

    (problem,) = engine.exceptions(order_id=_order_id(scenario, number))
    assert (problem.kind, problem.owner) == ("PRIMA_REJECTED", Owner.OPERATIONS)
    assert problem.detail["codes"] == [
        {"code": "E:194", "message": "follow-on"},
        {"code": "E:777", "message": "new one"},
    ]
    assert problem.detail["deciding_code"] == "E:777"
