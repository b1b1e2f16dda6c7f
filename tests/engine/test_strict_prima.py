"""In its default configuration the library sends Prima only what public sources confirm: the
order flow and the stock flow run against an emulator in strict mode (which refuses every other
request type and attribute, as a real installation would) over HTTP, with the omlink client as
configured out of the box."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ct_prima_sync.engine import CustomerPolicy, StockRunStatus, SyncEngine
from ct_prima_sync.errors import PrimaRejectedError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, OmlinkSchema
from ct_prima_sync.state import ExceptionFilter, StateStore
from ct_prima_sync.testing import FakePrima, PrimaEmulator, PrimaRequestKind
from ct_prima_sync.testing.scenario import SyncScenario

EngineFactory = Callable[..., SyncEngine]


def _client(emulator: PrimaEmulator, schema: OmlinkSchema | None = None) -> OmlinkClient:
    config = OmlinkConfig(
        endpoint="http://prima.test/live/live",
        rate_limit=10_000.0,
        burst=1_000,
        **({"schema": schema} if schema is not None else {}),  # type: ignore[arg-type]
    )
    return OmlinkClient(config, transport=emulator.transport())


def test_the_order_flow_passes_a_strict_prima_in_the_default_configuration(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    emulator = PrimaEmulator(scenario.world, strict=True)
    with _client(emulator) as prima:
        engine = make_engine(store, prima=prima)
        summary = engine.sync_orders()
        stock = engine.sync_stock()

    assert emulator.refused == []
    assert (stock.status, stock.error, stock.ats_rows > 0) == (StockRunStatus.COMPLETED, None, True)
    assert summary.posted == len(scenario.good)
    assert {o.order_number for o in scenario.world.orders()} == set(scenario.good)
    kinds = {e.detail.get("order_number"): e.kind for e in store.list_exceptions(ExceptionFilter())}
    assert kinds == scenario.bad
    sent = {r.kind for r in scenario.world.requests()}
    assert sent <= {
        PrimaRequestKind.SUBMIT_ORDERS,
        PrimaRequestKind.ORDER_STATUS,
        PrimaRequestKind.AVAILABLE_TO_SELL,
        PrimaRequestKind.CATALOGUE_AVAILABLE_TO_SELL,
    }


def test_a_strict_prima_refuses_what_is_not_confirmed(scenario: SyncScenario) -> None:
    emulator = PrimaEmulator(scenario.world, strict=True)
    with (
        _client(emulator) as prima,
        pytest.raises(PrimaRejectedError, match="RequestType DepotList"),
    ):
        prima.list_depots()
    assert emulator.refused == ["RequestType DepotList"]


def test_extended_orders_are_refused_by_a_strict_prima(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    emulator = PrimaEmulator(scenario.world, strict=True)
    with _client(emulator, OmlinkSchema(extended_orders=True)) as prima:
        summary = make_engine(store, prima=prima).sync_orders()
    assert summary.posted == 0
    assert "OrderLineData@NetValue" in emulator.refused
    assert "OrderTaxData" in emulator.refused


def test_a_strict_fake_prima_takes_the_default_configuration(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    strict = FakePrima(scenario.world, sleep=lambda _s: None, strict=True)
    assert make_engine(store, prima=strict).sync_orders().posted == len(scenario.good)
    assert strict.refused == []


def test_customer_and_depot_requests_are_opt_in(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    opted_in = FakePrima(scenario.world, sleep=lambda _s: None, strict=True)
    engine = make_engine(
        store,
        prima=opted_in,
        depots_from_prima=True,
        customers=CustomerPolicy(lookup_by_email=True),
    )
    engine.sync_orders()
    assert "DepotList" in opted_in.refused
