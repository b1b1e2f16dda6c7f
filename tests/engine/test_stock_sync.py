"""The stock run end to end: the shop shows Prima's ATS minus pending minus the buffer, only what
changed is sent, and every mismatch lands in the exception queue with operations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ct_prima_sync.commercetools import ChangeQuantity
from ct_prima_sync.engine import Alert, AlertLevel, StockRunStatus
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.prima import SkuCode
from ct_prima_sync.state import ExceptionFilter, OrderLine, Owner, StateStore
from ct_prima_sync.testing import FakePrima, PrimaFault, PrimaFaultKind, PrimaFaultPlan
from ct_prima_sync.testing import PrimaRequestKind as Kind
from ct_prima_sync.testing.scenario import connect_commercetools

from .stock_world import DEPOTS, StockWorld, code, stock_world


@pytest.fixture
def world() -> Iterator[StockWorld]:
    with stock_world() as opened:
        yield opened


def inventory_writes(world: StockWorld) -> list[str]:
    return [
        r.path.rsplit("/", 1)[-1]
        for r in world.ct.requests
        if r.method == "POST" and "/inventory" in r.path
    ]


def open_kinds(store: StateStore) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in store.list_exceptions():
        found.setdefault(record.kind, []).append(record.subject or "")
        assert record.owner is Owner.OPERATIONS
    return {kind: sorted(subjects) for kind, subjects in found.items()}


def test_the_shop_shows_ats_minus_pending_minus_the_buffer(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(on_stock=5)
    world.place(("TEE1-S", "wh-main", 3), ("CAP2-ONE", "wh-north", 1))
    world.world.set_stock(code("TEE1-M"), "WH2", 7)
    summary = world.engine(store).sync_stock()

    assert summary.status is StockRunStatus.COMPLETED
    assert (summary.read, summary.ingested, summary.updated, summary.unchanged) == (6, 1, 5, 1)
    for sku in world.skus:
        for key in DEPOTS:
            assert world.available(sku, key) == world.expected(sku, key), (sku, key)
    assert world.available("TEE1-S", "wh-main") == 20 - 3 - 2
    assert world.available("TEE1-M", "wh-north") == 7 - 2
    assert store.pending_stock() == {("TEE1-S", "WH1"): 3, ("CAP2-ONE", "WH2"): 1}


def test_only_what_changed_is_sent_and_a_second_run_sends_nothing(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(on_stock=18)  # already right: 20 - 2
    engine = world.engine(store)
    world.world.set_stock(code("CAP2-ONE"), "WH1", 9)
    world.ct.clear_requests()
    first = engine.sync_stock()
    assert (first.planned, first.updated, first.unchanged) == (1, 1, 5)
    assert first.reasons == {"first_sync": 1}
    assert len(inventory_writes(world)) == 1
    world.ct.clear_requests()
    again = engine.sync_stock()
    assert (again.planned, again.unchanged) == (0, 6)
    assert inventory_writes(world) == []
    world.world.set_stock(code("CAP2-ONE"), "WH1", 12)
    assert engine.sync_stock().reasons == {"ats_changed": 1}


def test_an_order_becomes_pending_at_ingest_and_stops_being_pending_once_prima_has_it(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries()
    engine = world.engine(store)
    order = world.place(
        ("TEE1-S", "wh-main", 2), ("TEE1-S", "wh-north", 1), ("TEE1-S", "wh-main", 1)
    )
    engine.sync_stock()
    assert store.order_lines(order["id"]) == [
        OrderLine(sku="TEE1-S", depot="WH1", quantity=3),
        OrderLine(sku="TEE1-S", depot="WH2", quantity=1),
    ]
    assert world.available("TEE1-S", "wh-main") == 20 - 3 - 2
    assert engine.sync_orders().posted == 1
    assert store.pending_stock() == {}
    assert world.true_ats("TEE1-S", "wh-main") == 17, "Prima allocated the order"
    summary = engine.sync_stock()
    assert summary.planned == 0, "the order moved from pending into Prima's ATS: nothing to send"
    assert world.available("TEE1-S", "wh-main") == 17 - 2


def test_a_dry_run_plans_without_writing_anything(world: StockWorld, store: StateStore) -> None:
    world.seed_entries(on_stock=0)
    world.ct.add_inventory("GONE9-X", 4, supply_channel="wh-main")
    world.ct.clear_requests()
    summary = world.engine(store).sync_stock(dry_run=True)
    assert summary.dry_run
    assert (summary.planned, summary.updated) == (7, 0)
    assert summary.problems == {"STOCK_NOT_IN_PRIMA": 1}
    assert inventory_writes(world) == []
    assert store.list_exceptions() == []
    assert store.get_stock([("TEE1-S", "WH1")]) == {}
    assert store.get_cursor("stock.catalogueCheckedAt") is None
    assert world.available("TEE1-S", "wh-main") == 0


def test_a_run_for_some_skus_creates_their_missing_entries(
    world: StockWorld, store: StateStore
) -> None:
    world.ct.add_inventory("TEE1-S", 1, supply_channel="wh-main")
    summary = world.engine(store).sync_stock(skus=["TEE1-S", "NOPE1-X"])
    assert (summary.read, summary.created, summary.updated) == (1, 1, 1)
    assert summary.reasons == {"created": 1, "first_sync": 1}
    assert world.available("TEE1-S", "wh-north") == 18
    entries = {
        (e["sku"], e.get("supplyChannel", {}).get("id")) for e in world.ct.inventory_entries()
    }
    assert entries == {
        ("TEE1-S", world.channel_ids["wh-main"]),
        ("TEE1-S", world.channel_ids["wh-north"]),
    }
    with pytest.raises(ConfigurationError, match="not one string"):
        world.engine(store).sync_stock(skus="TEE1-S")


def test_the_catalogue_check_creates_entries_for_stock_commercetools_has_no_entry_for(
    world: StockWorld, store: StateStore
) -> None:
    world.ct.add_inventory("TEE1-S", 18, supply_channel="wh-main")
    world.world.add_product(SkuCode(product="legacy item"))
    world.world.set_stock(SkuCode(product="legacy item"), "WH1", 3)
    engine = world.engine(store)
    first = engine.sync_stock()
    assert first.catalogue_rows == 7
    assert first.created == 5
    assert len(world.ct.inventory_entries()) == 6
    assert open_kinds(store) == {"STOCK_NOT_IN_COMMERCETOOLS": ["legacy item"]}
    # The check has its own, slower schedule: the next run does not read the catalogue.
    world.clock.advance(60)
    assert engine.sync_stock().catalogue_rows is None
    world.clock.advance(86400)
    assert engine.sync_stock().catalogue_rows == 7


def test_the_catalogue_check_reports_what_it_may_not_create(store: StateStore) -> None:
    with stock_world(mapping_extra="create_missing = false") as world:
        world.seed_entries(18)
        world.ct.delete_inventory_entry("CAP2-ONE", supply_channel="wh-north")
        summary = world.engine(store).sync_stock()
        assert summary.created == 0
        assert open_kinds(store) == {"STOCK_NOT_IN_COMMERCETOOLS": ["CAP2-ONE@WH2"]}


def test_what_prima_does_not_know_is_set_to_zero_and_reported_until_fixed(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(18)
    world.ct.add_inventory("GONE9-X", 4, supply_channel="wh-main")
    world.ct.add_inventory("no-code", 4, supply_channel="wh-north")
    engine = world.engine(store)
    summary = engine.sync_stock()
    assert summary.reasons == {"not_in_prima": 2}
    assert world.available("GONE9-X", "wh-main") == 0
    assert world.available("no-code", "wh-north") == 0
    assert open_kinds(store) == {"STOCK_NOT_IN_PRIMA": ["GONE9-X@WH1", "no-code@WH2"]}
    (coded,) = store.list_exceptions(ExceptionFilter(subject="no-code@WH2"))
    assert "no Prima code" in coded.detail["message"]
    engine.sync_stock()
    (again,) = store.list_exceptions(ExceptionFilter(subject="GONE9-X@WH1"))
    assert again.occurrences == 2, "deduplicated across runs"
    world.world.add_product(code("GONE9-X"))
    world.world.set_stock(code("GONE9-X"), "WH1", 6)
    engine.sync_stock()
    assert open_kinds(store) == {"STOCK_NOT_IN_PRIMA": ["no-code@WH2"]}
    assert world.available("GONE9-X", "wh-main") == 4
    resolved = store.list_exceptions(ExceptionFilter(open_only=False, subject="GONE9-X@WH1"))
    assert resolved[0].resolution_note == "resolved automatically: the stock run found it fixed"


def test_zero_missing_off_leaves_unknown_entries_alone_but_still_reports_them(
    store: StateStore,
) -> None:
    with stock_world(mapping_extra="zero_missing = false") as world:
        world.seed_entries(18)
        world.ct.add_inventory("GONE9-X", 4, supply_channel="wh-main")
        summary = world.engine(store).sync_stock()
        assert summary.planned == 0
        assert world.available("GONE9-X", "wh-main") == 4
        (record,) = store.list_exceptions()
        assert "left as it is" in record.detail["message"]


def test_a_depot_no_channel_receives_is_reported_once_per_depot(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(18)
    world.world.add_depot("WH9")
    for sku in world.skus:
        world.world.set_stock(code(sku), "WH9", 5)
    engine = world.engine(store)
    assert engine.sync_stock().problems == {"STOCK_DEPOT_UNPUBLISHED": 1}
    assert open_kinds(store) == {"STOCK_DEPOT_UNPUBLISHED": ["WH9"]}


def test_drift_is_reported_corrected_and_resolved_when_it_stops(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(0)
    engine = world.engine(store)
    engine.sync_stock()
    entry = world.ct.inventory_entry("TEE1-M", supply_channel="wh-main")
    with connect_commercetools(world.ct) as other:  # someone else writes stock
        other.inventory.update(entry["id"], entry["version"], [ChangeQuantity(quantity=50)])
    summary = engine.sync_stock()
    assert summary.reasons == {"drift": 1}
    assert world.available("TEE1-M", "wh-main") == 18, "Prima's figure is put back"
    (drift,) = store.list_exceptions(ExceptionFilter(kind="STOCK_DRIFT"))
    assert (drift.subject, drift.detail["last_pushed"], drift.detail["found"]) == (
        "TEE1-M@WH1",
        18,
        50,
    )
    engine.sync_stock()
    assert store.list_exceptions(ExceptionFilter(kind="STOCK_DRIFT")) == []


def test_drift_within_the_tolerance_is_not_reported(world: StockWorld, store: StateStore) -> None:
    world.seed_entries(0)
    engine = world.engine(store, drift_tolerance=2)
    engine.sync_stock()
    world.ct.commit_reservation("TEE1-M", 2, supply_channel="wh-main")
    assert engine.sync_stock().problems == {}


def test_prima_unavailable_stops_the_run_as_one_outage_and_the_next_run_resolves_it(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(0)
    faults = PrimaFaultPlan()
    faults.script(Kind.AVAILABLE_TO_SELL, *[PrimaFault(kind=PrimaFaultKind.SERVER_ERROR)] * 2)
    down = world.engine(store, prima=FakePrima(world.world, faults=faults, sleep=lambda _s: None))
    summary = down.sync_stock()
    assert (summary.status, summary.outage) == (StockRunStatus.INCOMPLETE, "PRIMA_UNAVAILABLE")
    assert summary.updated == 0
    assert "PrimaUnavailableError" in (summary.error or "")
    assert down.sync_stock().outage == "PRIMA_UNAVAILABLE"
    (outage,) = store.list_exceptions()
    assert (outage.kind, outage.order_id, outage.subject) == ("PRIMA_UNAVAILABLE", None, None)
    assert (outage.owner, outage.occurrences) == (Owner.OPERATIONS, 2), "one outage, seen twice"
    assert "stock run" in outage.detail["message"]
    assert world.available("TEE1-S", "wh-main") == 0, "nothing is zeroed or guessed"
    assert world.engine(store).sync_stock().status is StockRunStatus.COMPLETED
    assert store.list_exceptions() == [], "Prima answered again: the outage is over"


def test_a_read_prima_refuses_stops_the_run_with_a_stock_exception(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(0)
    faults = PrimaFaultPlan()
    faults.script(Kind.AVAILABLE_TO_SELL, PrimaFault(kind=PrimaFaultKind.ERROR_REPLY))
    refused = world.engine(
        store, prima=FakePrima(world.world, faults=faults, sleep=lambda _s: None)
    )
    summary = refused.sync_stock()
    assert (summary.status, summary.outage) == (StockRunStatus.INCOMPLETE, None)
    assert open_kinds(store) == {"STOCK_RUN_FAILED": ["stock-run"]}
    assert world.engine(store).sync_stock().status is StockRunStatus.COMPLETED
    assert open_kinds(store) == {}


def test_expected_delivery_and_restock_days_are_written_only_when_configured(
    store: StateStore,
) -> None:
    with stock_world(mapping_extra="expected_delivery = true\nrestockable_in_days = 0") as world:
        world.seed_entries(18)
        world.ct.delete_inventory_entry("CAP2-ONE", supply_channel="wh-main")
        world.world.add_product(code("NEW1-S"))
        summary = world.engine(store).sync_stock()
        assert summary.failed == 0
        entry = world.ct.inventory_entry("TEE1-S", supply_channel="wh-main")
        assert entry["restockableInDays"] == 0
        assert "expectedDelivery" not in entry, "Prima gave no date: none is set"
        created = world.ct.inventory_entry("CAP2-ONE", supply_channel="wh-main")
        assert created["restockableInDays"] == 0
    with stock_world() as plain:
        plain.seed_entries(0)
        plain.engine(store).sync_stock()
        assert "restockableInDays" not in plain.ct.inventory_entry(
            "TEE1-S", supply_channel="wh-main"
        )


def test_a_channel_that_does_not_exist_is_a_configuration_error(store: StateStore) -> None:
    with stock_world() as world:
        from ct_prima_sync.mapping import MappingConfig

        from .stock_world import MAPPING_TOML

        world.mapping = MappingConfig.from_toml(
            MAPPING_TOML.format(supply='"x" = "WH1"', buffer=0, extra="").replace(
                '"WH2" = "wh-north"', '"WH2" = "wh-south"'
            )
        )
        with pytest.raises(ConfigurationError, match="wh-south"):
            world.engine(store).sync_stock()


def test_dates_from_prima_become_expected_delivery(store: StateStore) -> None:
    with stock_world(mapping_extra="expected_delivery = true") as world:
        world.seed_entries(18)
        prima = FakePrima(world.world, sleep=lambda _s: None)
        real = prima.available_to_sell

        def dated(skus: object) -> list:  # type: ignore[type-arg]
            from attrs import evolve

            return [evolve(level, available_date=date(2026, 12, 24)) for level in real(skus)]  # type: ignore[arg-type]

        prima.available_to_sell = dated  # type: ignore[method-assign]
        world.engine(store, prima=prima).sync_stock(catalogue=False)
        entry = world.ct.inventory_entry("TEE1-S", supply_channel="wh-north")
        assert entry["expectedDelivery"] == "2026-12-24T00:00:00.000Z"


def test_every_stock_run_is_recorded_for_health_and_a_dry_run_is_not(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(0)
    world.engine(store).sync_stock(dry_run=True)
    assert [r.flow for r in store.list_flow_runs()] == [], "a dry run writes nothing anywhere"

    assert world.engine(store).sync_stock().ok
    (record,) = store.list_flow_runs()
    assert (record.flow, record.runs, record.failures, record.last_failure) == ("stock", 1, 0, None)
    assert (record.last_counts["read"], record.last_counts["updated"]) == (6, 6)
    assert world.engine(store).health().flow("stock").status.value == "ok"

    faults = PrimaFaultPlan()
    faults.script(Kind.AVAILABLE_TO_SELL, PrimaFault(kind=PrimaFaultKind.SERVER_ERROR))
    down = world.engine(store, prima=FakePrima(world.world, faults=faults, sleep=lambda _s: None))
    assert down.sync_stock().outage == "PRIMA_UNAVAILABLE"
    (record,) = store.list_flow_runs()
    assert (record.runs, record.failures, record.consecutive_failures) == (2, 1, 1)
    assert record.last_failure == "PRIMA_UNAVAILABLE: the stock run stopped early"
    assert record.totals["updated"] == 6


def test_the_stock_exceptions_a_run_raises_alert_operations_once(
    world: StockWorld, store: StateStore
) -> None:
    world.seed_entries(on_stock=0)
    world.ct.add_inventory("GONE9-X", 4, supply_channel="wh-main")
    alerts: list[Alert] = []

    class Collect:
        def notify(self, alert: Alert) -> None:
            alerts.append(alert)

    world.engine(store, notifier=Collect()).sync_stock(dry_run=True)
    assert alerts == [], "a dry run records nothing, so it alerts nobody"
    world.engine(store, notifier=Collect()).sync_stock()
    (alert,) = alerts
    assert (alert.owner, alert.level, alert.kind) == (Owner.OPERATIONS, AlertLevel.NEW,
                                                      "STOCK_NOT_IN_PRIMA")  # fmt: skip
    assert alert.message.startswith("GONE9-X@WH1: STOCK_NOT_IN_PRIMA")
    world.engine(store, notifier=Collect()).sync_stock()
    assert len(alerts) == 1, "seen again: no new alert"
