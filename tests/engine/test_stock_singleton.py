"""One stock run at a time: a second scheduler returns "already running" at once, the lock is
renewed while a run lasts, and a crashed run's lock frees itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ct_prima_sync.engine import LeaseLock, StockRunStatus, StockRunSummary
from ct_prima_sync.state import StateStore, open_store

from .stock_world import StockWorld, stock_world


@pytest.fixture
def world() -> Iterator[StockWorld]:
    with stock_world(skus=("TEE1-S", "TEE1-M", "CAP2-ONE", "CAP2-TWO")) as opened:
        opened.seed_entries(on_stock=0)
        yield opened


def test_a_second_scheduler_returns_already_running_at_once(
    world: StockWorld, tmp_path: Path
) -> None:
    """Two processes sharing one SQLite file start the stock run together."""
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    with open_store(url) as store_a, open_store(url) as store_b:
        second: list[StockRunSummary] = []
        requests_during: list[int] = []
        other = world.engine(store_b, worker_id="worker-1")  # the same worker id, even

        def start_the_other(step: str, _subject: str) -> None:
            if step == "stock.entries_read" and not second:
                before = len(world.ct.requests)
                second.append(other.sync_stock())
                requests_during.append(len(world.ct.requests) - before)

        first = world.engine(store_a, checkpoint=start_the_other).sync_stock(catalogue=False)
        assert first.status is StockRunStatus.COMPLETED
        assert first.updated == 8
        (summary,) = second
        assert summary.status is StockRunStatus.ALREADY_RUNNING
        assert (summary.read, summary.planned, summary.seconds) == (0, 0, 0)
        assert requests_during == [0], "the other run touched neither system"
        assert other.sync_stock(catalogue=False).status is StockRunStatus.COMPLETED


def test_runs_in_threads_never_overlap(world: StockWorld) -> None:
    with open_store("memory://") as store:
        inside = threading.Event()
        leave = threading.Event()

        def hold(step: str, _subject: str) -> None:
            if step == "stock.pending_read" and not inside.is_set():
                inside.set()
                assert leave.wait(10)

        results: list[StockRunSummary] = []
        first = threading.Thread(
            target=lambda: results.append(
                world.engine(store, checkpoint=hold).sync_stock(catalogue=False)
            )
        )
        first.start()
        assert inside.wait(10)
        try:
            assert world.engine(store).sync_stock().status is StockRunStatus.ALREADY_RUNNING
        finally:
            leave.set()
            first.join(10)
        assert [r.status for r in results] == [StockRunStatus.COMPLETED]


def test_the_lock_is_renewed_while_a_long_run_lasts(store_url: str) -> None:
    with (
        stock_world(skus=[f"TEE{n}-S" for n in range(1, 9)]) as world,
        open_store(store_url) as store,
    ):
        world.seed_entries(0)
        seen: list[StockRunStatus] = []

        def slow_chunks(step: str, _subject: str) -> None:
            if step == "stock.entries_read":
                world.clock.advance(20)  # each chunk takes 20 s; the lock lasts 30
                seen.append(world.engine(store).sync_stock().status)

        run = world.engine(store, checkpoint=slow_chunks, lock_seconds=30, chunk_size=2)
        summary = run.sync_stock(catalogue=False)
        assert summary.status is StockRunStatus.COMPLETED
        assert summary.seconds == 80
        assert seen == [StockRunStatus.ALREADY_RUNNING] * 4


def test_a_crashed_runs_lock_expires(world: StockWorld, store: StateStore) -> None:
    dead = LeaseLock(store, "stock", holder="worker-9", ttl_seconds=300, clock=world.clock)
    assert dead.acquire()  # a run that died without letting go
    engine = world.engine(store)
    assert engine.sync_stock().status is StockRunStatus.ALREADY_RUNNING
    world.clock.advance(299)
    assert engine.sync_stock().status is StockRunStatus.ALREADY_RUNNING
    world.clock.advance(1)
    assert engine.sync_stock(catalogue=False).status is StockRunStatus.COMPLETED
    assert world.available("TEE1-S", "wh-main") == 18


def test_a_run_that_lost_its_lock_stops_without_writing_more(
    world: StockWorld, store: StateStore
) -> None:
    def stall(step: str, _subject: str) -> None:
        if step == "stock.planned":
            world.clock.advance(400)  # longer than the lease, and no renewal in between
            LeaseLock(
                store, "stock", holder="worker-2", ttl_seconds=300, clock=world.clock
            ).acquire()

    summary = world.engine(store, checkpoint=stall, chunk_size=2).sync_stock(catalogue=False)
    assert summary.status is StockRunStatus.LOCK_LOST
    assert summary.updated == 0
    assert all(e["quantityOnStock"] == 0 for e in world.ct.inventory_entries())


def test_a_stop_request_ends_the_run_after_the_chunk_in_hand(world: StockWorld) -> None:
    with open_store("memory://") as store:
        engines: list[object] = []

        def stop_during_the_first_chunk(step: str, _subject: str) -> None:
            if step == "stock.pending_read" and len(engines) == 1:
                engines.append("stopped")
                engine.request_stop()

        engine = world.engine(store, checkpoint=stop_during_the_first_chunk, chunk_size=2)
        engines.append(engine)
        summary = engine.sync_stock(catalogue=False)
        assert summary.status is StockRunStatus.STOPPED
        assert (summary.read, summary.updated) == (4, 4), "the chunk in hand was finished"
        probe = LeaseLock(store, "stock", holder="x", ttl_seconds=1, clock=world.clock)
        assert probe.acquire(), "the stopped run gave its lock back"
        probe.release()
        assert engine.sync_stock(catalogue=False).status is StockRunStatus.COMPLETED
