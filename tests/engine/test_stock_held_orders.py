"""Orders the order flow holds back are sold all the same: too young to be due yet
(``min_age_seconds``) or waiting for payment (``payment_states``), their units are pending for
the stock run from the moment an ingest sees them until they reach Prima or stop being held
(cancelled), and never counted twice on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ct_prima_sync.engine import EligibilityRules
from ct_prima_sync.state import StateStore, open_store

from .stock_world import StockWorld, stock_world

YOUNG = EligibilityRules(min_age_seconds=600)
PAID_ONLY = EligibilityRules(payment_states=frozenset({"Paid"}))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """The engine behaviour holds on every kind of store."""
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sync.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    with open_store(url) as opened:
        yield opened


@pytest.fixture
def world() -> Iterator[StockWorld]:
    with stock_world() as opened:
        opened.seed_entries()
        yield opened


def test_an_order_too_young_to_be_due_is_not_offered_again(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=YOUNG)
    world.place(("TEE1-S", "wh-main", 3))

    summary = engine.sync_stock()

    assert summary.ingested == 0, "the order is held back: not in the ledger yet"
    assert world.available("TEE1-S", "wh-main") == 20 - 3 - 2
    assert store.pending_stock() == {("TEE1-S", "WH1"): 3}


def test_an_order_waiting_for_payment_is_not_offered_again(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=PAID_ONLY)
    world.place(("TEE1-S", "wh-main", 3), ("CAP2-ONE", "wh-north", 1), payment_state="Pending")

    engine.sync_stock()

    assert world.available("TEE1-S", "wh-main") == 20 - 3 - 2
    assert world.available("CAP2-ONE", "wh-north") == 20 - 1 - 2
    assert engine.sync_orders().posted == 0, "the order flow still holds it back"
    assert store.get_order(world.ct.orders()[0]["id"]) is None


def test_a_held_order_that_becomes_due_is_counted_once_then_prima_counts_it(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=YOUNG)
    order = world.place(("TEE1-S", "wh-main", 3))
    engine.sync_stock()
    world.clock.advance(700)

    engine.sync_stock()  # its poll ingests the order, now due: held -> ledger in one write

    assert store.get_order(order["id"]) is not None
    assert store.pending_stock() == {("TEE1-S", "WH1"): 3}, "in the ledger, no longer held"
    assert world.available("TEE1-S", "wh-main") == 20 - 3 - 2
    assert engine.sync_orders().posted == 1
    assert store.pending_stock() == {}
    engine.sync_stock()
    assert world.available("TEE1-S", "wh-main") == world.expected("TEE1-S", "wh-main") == 15


def test_a_paid_order_goes_to_prima_and_its_units_are_counted_once_throughout(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=PAID_ONLY)
    order = world.place(("TEE1-S", "wh-main", 3), payment_state="Pending")
    engine.sync_stock()
    world.clock.advance(60)
    world.ct.update_order(order["id"], [{"action": "changePaymentState", "paymentState": "Paid"}])

    assert engine.sync_orders().posted == 1

    assert store.pending_stock() == {}, "Prima has it: its ATS counts it now"
    engine.sync_stock()
    assert world.true_ats("TEE1-S", "wh-main") == 17
    assert world.available("TEE1-S", "wh-main") == 17 - 2


def test_a_held_order_cancelled_before_it_was_due_gives_its_units_back(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=PAID_ONLY)
    order = world.place(("TEE1-S", "wh-main", 3), payment_state="Pending")
    engine.sync_stock()
    assert world.available("TEE1-S", "wh-main") == 15
    world.clock.advance(60)
    world.ct.update_order(order["id"], [{"action": "changeOrderState", "orderState": "Cancelled"}])

    engine.sync_stock()

    assert store.pending_stock() == {}
    assert world.available("TEE1-S", "wh-main") == 20 - 2


def test_a_held_order_deleted_in_commercetools_stops_counting_once_read_again(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=YOUNG, held_recheck_seconds=900)
    order = world.place(("TEE1-S", "wh-main", 3))
    engine.sync_stock()
    world.ct.delete_order(order["id"])
    world.clock.advance(600)
    engine.sync_stock()
    assert store.pending_stock() == {("TEE1-S", "WH1"): 3}, "not unseen for long enough yet"

    world.clock.advance(301)
    engine.sync_stock()

    assert store.pending_stock() == {}
    assert world.available("TEE1-S", "wh-main") == 20 - 2


def test_an_order_the_rules_no_longer_hold_back_enters_the_ledger_when_read_again(
    world: StockWorld, store: StateStore
) -> None:
    order = world.place(("TEE1-S", "wh-main", 3), payment_state="Pending")
    world.engine(store, eligibility=PAID_ONLY).sync_stock()
    world.clock.advance(3601)
    engine = world.engine(store)  # the settings no longer wait for payment

    summary = engine.sync_stock()

    assert summary.ingested == 1
    assert store.held_orders() == []
    assert store.get_order(order["id"]) is not None
    assert store.pending_stock() == {("TEE1-S", "WH1"): 3}
    assert world.available("TEE1-S", "wh-main") == 20 - 3 - 2
    assert engine.sync_orders().posted == 1


def test_held_orders_are_read_again_from_a_messages_ingest_too(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=PAID_ONLY, ingest="messages")
    order = world.place(("TEE1-S", "wh-main", 3), payment_state="Pending")
    engine.sync_stock()
    assert world.available("TEE1-S", "wh-main") == 20 - 3 - 2
    world.clock.advance(60)
    world.ct.update_order(order["id"], [{"action": "changeOrderState", "orderState": "Cancelled"}])
    engine.sync_stock()
    assert store.pending_stock() == {("TEE1-S", "WH1"): 3}, "messages show new orders only"

    world.clock.advance(3600)
    engine.sync_stock()

    assert store.pending_stock() == {}
    assert world.available("TEE1-S", "wh-main") == 20 - 2


def test_a_subscription_message_for_an_order_waiting_for_payment_holds_its_units(
    world: StockWorld, store: StateStore
) -> None:
    engine = world.engine(store, eligibility=PAID_ONLY)
    order = world.place(("CAP2-ONE", "wh-north", 2), payment_state="Pending")

    summary = engine.handle_message({"resource": {"typeId": "order", "id": order["id"]}})

    assert summary.ingested == 0
    assert store.pending_stock() == {("CAP2-ONE", "WH2"): 2}
