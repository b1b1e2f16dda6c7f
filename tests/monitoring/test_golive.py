"""Going live beside an old integration: a shadow run posts nothing (the emulator records no
submit, commercetools no write) and reports exactly the differences planted against the orders
the old integration already put in Prima; a dry run changes nothing at all; hold mode sends each
order once with HoldOrder=Yes; a bounded replay takes only the orders of its date range."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.engine import (
    Difference,
    FakeClock,
    HoldingPrima,
    compare_with_prima,
)
from ct_prima_sync.mapping import map_order
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, OrderStatus
from ct_prima_sync.state import OrderStatus as Ledger
from ct_prima_sync.state import ShadowVerdict, StateStore
from ct_prima_sync.testing import (
    FakeCommercetools,
    PrimaEmulator,
    PrimaRequestKind,
    make_sales_order,
)
from ct_prima_sync.testing.scenario import SyncScenario

from .conftest import EngineFactory

WRITES = {PrimaRequestKind.SUBMIT_ORDERS, PrimaRequestKind.CREATE_CUSTOMER}


@pytest.fixture
def omlink(scenario: SyncScenario) -> Iterator[OmlinkClient]:
    emulator = PrimaEmulator(scenario.world, sleep=lambda _s: None)
    config = OmlinkConfig(endpoint="http://prima.test/omlink", rate_limit=5000.0, burst=100)
    with OmlinkClient(config, transport=emulator.transport()) as client:
        yield client


def _old_integration(scenario: SyncScenario) -> dict[str, str]:
    """Put what an old integration sent into Prima: every good order but two, one of them
    cancelled since, and one bad order the library would stop. Returns the planted
    differences, with the two orders Prima itself refuses (unknown product): only Prima checks
    that, at submission, so a shadow run would send them and finds them missing in Prima."""
    ct = {o["orderNumber"]: o for o in scenario.commercetools.orders()}
    missing = scenario.good[:2]
    cancelled = scenario.good[2]
    sent_bad = next(n for n, kind in scenario.bad.items() if kind == "TOTALS_MISMATCH")
    for number in scenario.good[2:]:
        mapped = map_order(parse_order(ct[number]), scenario.mapping).sales_order
        assert mapped is not None
        (result,) = scenario.world.submit_orders([mapped])
        assert result.accepted
    scenario.world.cancel(cancelled)
    sku = scenario.world.skus()[0]
    scenario.world.submit_orders([make_sales_order(sent_bad, [(sku, 1, "WH1")])])
    refused = [n for n, kind in scenario.bad.items() if kind == "PRIMA_REJECTED"]
    return {
        **dict.fromkeys([*missing, *refused], str(Difference.MISSING_IN_PRIMA)),
        cancelled: str(Difference.CANCELLED_IN_PRIMA),
        sent_bad: str(Difference.ONLY_IN_PRIMA),
    }


def test_a_shadow_run_sends_nothing_and_reports_exactly_the_planted_differences(
    sqlite_store: StateStore,
    make_engine: EngineFactory,
    scenario: SyncScenario,
    omlink: OmlinkClient,
    clock: FakeClock,
) -> None:
    planted = _old_integration(scenario)
    prima_before = len(scenario.world.requests())
    scenario.commercetools.clear_requests()

    report = make_engine(sqlite_store, prima=omlink).rehearse(record=True)

    assert report.counts() == {
        "would_send": 50, "would_except": 10, "not_checked": 0, "new_customers":
        report.counts()["new_customers"],
    }  # fmt: skip
    during = scenario.world.requests()[prima_before:]
    # By default the order flow reads nothing from Prima before sending (depots come from the
    # mapping, customers are Prima's to match), so a shadow run asks it nothing at all.
    assert not [r for r in during if r.kind in WRITES]
    assert {r.method for r in scenario.commercetools.requests} <= {"GET", "POST"}
    assert not [r for r in scenario.commercetools.requests
                if r.method == "POST" and "/orders/" in r.path]  # fmt: skip
    assert sqlite_store.count_orders_by_status() == dict.fromkeys(Ledger, 0)
    assert sqlite_store.list_exceptions() == []
    recorded = sqlite_store.list_shadow_orders()
    assert len(recorded) == 60
    refused = {n for n, kind in scenario.bad.items() if kind == "PRIMA_REJECTED"}
    assert {r.order_number for r in recorded if r.verdict is ShadowVerdict.WOULD_SEND} == (
        set(scenario.good) | refused
    )
    assert all(r.payload for r in recorded if r.verdict is ShadowVerdict.WOULD_SEND)
    (shadow_run,) = [r for r in sqlite_store.list_flow_runs() if r.flow == "shadow"]
    assert shadow_run.totals["would_send"] == 50

    comparison = compare_with_prima(sqlite_store, omlink, now=clock.now())
    assert {
        row.record.order_number: str(row.difference) for row in comparison.differences
    } == planted
    assert comparison.counts() == {
        "agree": 54, "missing_in_prima": 4, "cancelled_in_prima": 1, "only_in_prima": 1,
        "not_checked": 0,
    }  # fmt: skip
    assert not [r for r in scenario.world.requests()[prima_before:] if r.kind in WRITES]


def test_a_dry_run_reports_what_it_would_send_and_changes_nothing(
    sqlite_store: StateStore,
    make_engine: EngineFactory,
    scenario: SyncScenario,
    omlink: OmlinkClient,
) -> None:
    engine = make_engine(sqlite_store, prima=omlink)
    report = engine.rehearse()
    assert report.mode == "dry_run"
    assert (report.counts()["would_send"], report.counts()["would_except"]) == (50, 10)
    assert report.kinds() == {
        "CURRENCY_NOT_ALLOWED": 2, "TOTALS_MISMATCH": 2, "UNKNOWN_DEPOT": 2, "UNMAPPED_SKU": 2,
        "UNMAPPED_TAX_RATE": 2,
    }  # fmt: skip
    assert scenario.world.orders() == []
    assert not [r for r in scenario.world.requests() if r.kind in WRITES]
    assert sqlite_store.list_shadow_orders() == []
    assert sqlite_store.get_cursor(engine.config.cursor_name) is None
    assert sqlite_store.list_flow_runs() == []
    assert engine.sync_orders().posted == 48  # the real run after it sends everything


def test_hold_mode_sends_each_order_once_held_and_lists_it(
    sqlite_store: StateStore,
    make_engine: EngineFactory,
    scenario: SyncScenario,
    omlink: OmlinkClient,
    clock: FakeClock,
) -> None:
    held = HoldingPrima(omlink, store=sqlite_store, clock=clock, narrative="go-live check")
    engine = make_engine(sqlite_store, prima=held)
    assert engine.sync_orders().posted == 48
    assert engine.sync_orders().posted == 0
    in_prima = scenario.world.orders()
    assert len(in_prima) == 48
    for order in in_prima:
        assert order.status is OrderStatus.ON_HOLD
        assert order.order.hold
        assert order.order.hold_narrative == "go-live check"
        assert order.submissions == 1
    recorded = sqlite_store.list_shadow_orders()
    assert {r.verdict for r in recorded} == {ShadowVerdict.SENT_HELD}
    assert len(recorded) == 48
    assert compare_with_prima(sqlite_store, omlink, now=clock.now()).differences == ()


def test_a_bounded_replay_takes_only_the_orders_created_in_its_range(
    scenario: SyncScenario, sqlite_store: StateStore, make_engine: EngineFactory
) -> None:
    first = datetime(2026, 11, 1, tzinfo=UTC)
    replayed = FakeCommercetools(seed=9)
    replayed.add_channel("prima-export", roles=("OrderExport",))
    for day, order in enumerate(scenario.commercetools.orders()[:10]):
        order["createdAt"] = (first + timedelta(days=day, hours=12)).isoformat()
        replayed.add_order(order)
    scenario_ct = scenario.commercetools
    object.__setattr__(scenario, "commercetools", replayed)
    try:
        engine = make_engine(sqlite_store)
        summary = engine.replay_orders(first + timedelta(days=3), first + timedelta(days=6))
        again = engine.replay_orders(first + timedelta(days=3), first + timedelta(days=6))
    finally:
        object.__setattr__(scenario, "commercetools", scenario_ct)
    assert (summary.ingested, summary.posted + summary.excepted) == (3, 3)
    assert (again.ingested, again.posted) == (0, 0)
    numbers = {o["orderNumber"] for o in replayed.orders()[3:6]}
    in_ledger = {r.order_number for r in sqlite_store.list_orders(list(Ledger))}
    assert in_ledger == numbers
    with pytest.raises(Exception, match="start before it ends"):
        engine.replay_orders(first, first)
