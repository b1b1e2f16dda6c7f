"""Writes under contention: 409 storms, reservations that move between the read and the write,
entries deleted or created by someone else meanwhile. The figure sent is always decided on what
the entry holds when the write lands."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ct_prima_sync.state import ExceptionFilter, StateStore, open_store

from .stock_world import StockWorld, code, stock_world


@pytest.fixture
def store() -> Iterator[StateStore]:
    with open_store("memory://") as opened:
        yield opened


@pytest.fixture
def world() -> Iterator[StockWorld]:
    with stock_world(skus=("TEE1-S",)) as opened:
        opened.seed_entries(on_stock=0)
        yield opened


def once_at(step: str, action: Callable[[], None]) -> Callable[[str, str], None]:
    done = {"yet": False}

    def checkpoint(at: str, _subject: str) -> None:
        if at == step and not done["yet"]:
            done["yet"] = True
            action()

    return checkpoint


def update_bodies(world: StockWorld) -> list[dict[str, object]]:
    return [
        r.json()
        for r in world.ct.requests
        if r.method == "POST" and "/inventory/" in r.path and r.body
    ]


def test_a_409_storm_is_ridden_out_with_a_fresh_read_before_every_send(
    world: StockWorld, store: StateStore
) -> None:
    world.ct.faults.conflict(path="/inventory/", times=3)
    world.ct.clear_requests()
    summary = world.engine(store).sync_stock(catalogue=False)
    assert (summary.updated, summary.failed) == (2, 0)
    reads_by_id = [
        r for r in world.ct.requests if r.method == "GET" and r.path.count("/inventory/") == 1
    ]
    assert len(reads_by_id) == 3, "each conflict re-reads the entry"
    assert world.available("TEE1-S", "wh-main") == 18
    assert world.available("TEE1-S", "wh-north") == 18


def test_a_write_that_keeps_conflicting_fails_alone_and_is_reported(
    world: StockWorld, store: StateStore
) -> None:
    main_id = world.ct.inventory_entry("TEE1-S", supply_channel="wh-main")["id"]
    world.ct.faults.conflict(path=f"/inventory/{main_id}", times=None)
    summary = world.engine(store, max_write_attempts=4).sync_stock(catalogue=False)
    assert (summary.updated, summary.failed) == (1, 1)
    (failed,) = store.list_exceptions(ExceptionFilter(kind="STOCK_WRITE_FAILED"))
    assert failed.subject == "TEE1-S@WH1"
    assert failed.transient
    assert failed.detail["attempts"] == 4
    assert failed.detail["codes"] == ["ConcurrentModification"]
    world.ct.faults.clear()
    again = world.engine(store).sync_stock(catalogue=False)
    assert (again.updated, again.failed) == (1, 0)
    assert store.list_exceptions(ExceptionFilter(kind="STOCK_WRITE_FAILED")) == []


def test_a_reservation_released_between_the_read_and_the_write_is_not_added_back(
    world: StockWorld, store: StateStore
) -> None:
    """The entry holds 3 reserved units when it is read; they are released before the write
    lands. The planned figure (target + 3) would show 3 too many: the write meets a 409 (the
    release made a new version), reads the entry again and sends the target plus what is
    reserved now."""
    engine = world.engine(store)
    world.place(("TEE1-S", "wh-main", 3))
    engine.sync_stock(catalogue=False)
    assert engine.sync_orders().posted == 1  # Prima has it: out of pending, into Prima's ATS
    world.world.set_stock(code("TEE1-S"), "WH1", 30)
    world.ct.clear_requests()

    def release() -> None:
        world.ct.release_reservation("TEE1-S", 3, supply_channel="wh-main")

    racing = world.engine(store, checkpoint=once_at("stock.planned", release))
    summary = racing.sync_stock(catalogue=False)
    assert (summary.updated, summary.failed) == (1, 0)
    sent = [body["actions"] for body in update_bodies(world)]
    assert sent == [
        [{"action": "changeQuantity", "quantity": 25 + 3}],  # planned with 3 reserved: refused
        [{"action": "changeQuantity", "quantity": 25}],  # decided again on the fresh read
    ]
    # Prima: 30 on hand, 3 allocated to the order; less the buffer of 2.
    assert world.available("TEE1-S", "wh-main") == world.expected("TEE1-S", "wh-main") == 25


def test_an_entry_deleted_between_the_read_and_the_write_is_created_again(
    world: StockWorld, store: StateStore
) -> None:
    def delete() -> None:
        world.ct.delete_inventory_entry("TEE1-S", supply_channel="wh-north")

    summary = world.engine(store, checkpoint=once_at("stock.planned", delete)).sync_stock(
        catalogue=False
    )
    assert (summary.updated, summary.created, summary.failed) == (1, 1, 0)
    assert world.available("TEE1-S", "wh-north") == 18


def test_without_create_missing_a_deleted_entry_is_reported_not_recreated(
    store: StateStore,
) -> None:
    with stock_world(skus=("TEE1-S",), mapping_extra="create_missing = false") as world:
        world.seed_entries(0)

        def delete() -> None:
            world.ct.delete_inventory_entry("TEE1-S", supply_channel="wh-north")

        engine = world.engine(store, checkpoint=once_at("stock.planned", delete))
        summary = engine.sync_stock(catalogue=False)
        assert (summary.updated, summary.failed) == (1, 1)
        (missing,) = store.list_exceptions()
        assert (missing.kind, missing.subject) == ("STOCK_NOT_IN_COMMERCETOOLS", "TEE1-S@WH2")
        assert "deleted" in missing.detail["message"]
        assert len(world.ct.inventory_entries()) == 1


def test_a_create_that_finds_the_entry_made_meanwhile_updates_it(
    store: StateStore,
) -> None:
    with stock_world(skus=("TEE1-S",)) as world:
        world.ct.add_inventory("TEE1-S", 0, supply_channel="wh-main")

        def someone_creates_it() -> None:
            world.ct.add_inventory("TEE1-S", 40, supply_channel="wh-north")

        engine = world.engine(store, checkpoint=once_at("stock.planned", someone_creates_it))
        summary = engine.sync_stock(skus=["TEE1-S"])
        assert (summary.updated, summary.created, summary.failed) == (2, 0, 0)
        assert world.available("TEE1-S", "wh-north") == 18
        assert len(world.ct.inventory_entries()) == 2


def test_writes_run_in_parallel_over_one_client_and_all_land(store: StateStore) -> None:
    skus = [f"TEE{n}-S" for n in range(1, 41)]
    with stock_world(skus=skus) as world:
        world.seed_entries(0)
        world.ct.faults.conflict(path="/inventory/", times=10)
        # However the 10 conflicts fall on the writers, no write can meet more than 10 of them.
        engine = world.engine(store, concurrency=6, chunk_size=25, max_write_attempts=11)
        summary = engine.sync_stock(catalogue=False)
        assert (summary.read, summary.updated, summary.failed) == (80, 80, 0)
        assert all(world.available(s, k) == 18 for s in skus for k in ("wh-main", "wh-north"))
