"""Design invariant 4 under a busy day: the shop never sells what Prima cannot ship.

A seeded day of events on one fake clock: customers order what the shop shows as available,
stock runs come (some crash half way through their writes, some see orders arrive while they
run), the order flow sends orders to Prima (which allocates them), the warehouse ships and
receives goods. commercetools is eventually consistent: reservations land late and queries lag.
The truth is computed from the two worlds alone (``StockWorld.true_ats`` / ``true_pending``).

Claims, for every SKU and warehouse:

* at every moment the shop shows no more than Prima's ATS minus what is sold and not yet in
  Prima: the lags' excess over the figure the run aims for never exceeds the buffer;
* Prima never refuses an order for want of stock;
* at quiescence (lags elapsed, orders in Prima, one more stock run) the shop shows exactly ATS
  minus pending minus the buffer.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from ct_prima_sync.engine import StockRunStatus, SyncEngine
from ct_prima_sync.prima import OrderStatus
from ct_prima_sync.state import open_store

from .stock_world import DEPOTS, StockWorld, code, stock_world

BUFFER = 2
_SHIPPABLE = frozenset(
    {OrderStatus.OUTSTANDING, OrderStatus.ALLOCATED, OrderStatus.PART_DESPATCHED}
)


class Crash(BaseException):
    """The process dies: not an Exception, so nothing in the engine catches it."""


def _check(world: StockWorld, moment: str) -> None:
    for (sku, key), excess in world.excess().items():
        pending = world.true_pending(sku, key)
        assert world.true_ats(sku, key) - pending >= 0, f"{moment}: {sku}@{key} oversold"
        assert excess <= 0, f"{moment}: {sku}@{key} shows {excess} more than there is"


class Day:
    """One seeded day of events in a shop."""

    def __init__(self, world: StockWorld, engine_for: Callable[..., SyncEngine], seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.engine_for = engine_for
        self.engine = engine_for()
        # Per SKU and warehouse, orders a completed stock run has not yet been able to count
        # (placed less than the longest lag before it started): (placed at, quantity). While
        # unsettled they may lift the shop's figure by their quantity; the buffer is sized for
        # what sells in that window (docs/stock.md, "How big a buffer"), so customers here
        # never buy more than the buffer in it.
        self.unsettled: dict[tuple[str, str], list[tuple[float, int]]] = {}
        self.settle_after = max(world.ct_lags)
        self.elapsed = 0.0
        self.crashes = 0
        self.orders_during_runs = 0

    def tick(self, seconds: float = 1.0) -> None:
        self.world.clock.advance(seconds)
        self.elapsed += seconds

    def maybe_order(self) -> None:
        sku = self.rng.choice(self.world.skus)
        key = self.rng.choice(list(DEPOTS))
        quantity = self.rng.randint(1, BUFFER)
        waiting = self.unsettled.setdefault((sku, key), [])
        if sum(q for _, q in waiting) + quantity > BUFFER:
            return
        if self.world.available(sku, key) < quantity:
            return  # the shop shows it sold out: the customer cannot buy it
        self.world.place((sku, key, quantity))
        waiting.append((self.elapsed, quantity))

    def stock_run(self) -> None:
        crash_at = self.rng.choice([None, None, 1, 2])
        pushed = {"n": 0}

        def checkpoint(step: str, _subject: str) -> None:
            if step == "stock.pending_read" and self.rng.random() < 0.3:
                self.maybe_order()  # an order arrives while the run is under way
                self.orders_during_runs += 1
            if step == "stock.pushed":
                pushed["n"] += 1
                if pushed["n"] == crash_at:
                    raise Crash

        engine = self.engine_for(checkpoint=checkpoint)
        started = self.elapsed
        try:
            summary = engine.sync_stock(catalogue=False)
        except Crash:
            self.crashes += 1
            return
        assert summary.status is StockRunStatus.COMPLETED, summary
        assert summary.failed == 0
        for waiting in self.unsettled.values():
            waiting[:] = [(at, q) for at, q in waiting if at + self.settle_after > started]

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.45:
            self.maybe_order()
        elif roll < 0.7:
            self.stock_run()
        elif roll < 0.85:
            summary = self.engine.sync_orders()
            assert summary.excepted == 0, "Prima refused an order: it was oversold"
        elif roll < 0.95:
            open_orders = [o for o in self.world.world.orders() if o.status in _SHIPPABLE]
            if open_orders:  # the warehouse ships: on hand and allocated fall, ATS does not
                self.world.world.despatch(self.rng.choice(open_orders).order_number)
        else:  # goods received: ATS rises
            sku, depot = self.rng.choice(self.world.skus), self.rng.choice(list(DEPOTS.values()))
            on_hand = self.world.world.on_hand(code(sku), depot)
            self.world.world.set_stock(code(sku), depot, on_hand + self.rng.randint(1, 5))
        self.tick()
        _check(self.world, f"t={self.elapsed:.0f}")

    def quiesce(self) -> None:
        # Every order visible to queries, every reservation landed and visible too.
        settle = sum(self.world.ct_lags) + 1
        self.tick(settle)
        assert self.engine.sync_orders().excepted == 0
        self.tick(settle)
        assert self.engine.sync_stock(catalogue=False).status is StockRunStatus.COMPLETED
        self.tick(settle)
        assert self.world.ct.unsettled_reservations == 0
        for sku in self.world.skus:
            for key in DEPOTS:
                assert self.world.available(sku, key) == self.world.expected(sku, key), (sku, key)
        _check(self.world, "quiescence")


def _day(seed: int, steps: int, query_lag: float, reservation_lag: float) -> Day:
    with (
        stock_world(
            skus=("TEE1-S", "TEE1-M", "CAP2-ONE"),
            stock=8,
            buffer=BUFFER,
            query_lag=query_lag,
            reservation_lag=reservation_lag,
        ) as world,
        open_store("memory://") as store,
    ):
        world.seed_entries(on_stock=0)

        def engine_for(**options: object) -> SyncEngine:
            return world.engine(store, chunk_size=2, **options)  # type: ignore[arg-type]

        day = Day(world, engine_for, seed)
        day.stock_run()
        for _ in range(steps):
            day.step()
        day.quiesce()
        return day


LAGS = [
    pytest.param(3.0, 5.0, id="reservations-lag-more-than-queries"),
    pytest.param(6.0, 2.0, id="queries-lag-more-than-reservations"),
]


@pytest.mark.parametrize(("query_lag", "reservation_lag"), LAGS)
def test_a_busy_day_never_oversells(query_lag: float, reservation_lag: float) -> None:
    day = _day(seed=7, steps=70, query_lag=query_lag, reservation_lag=reservation_lag)
    assert day.crashes >= 1, "the seed must include a stock run that crashes half way"
    assert day.orders_during_runs >= 1, "and orders placed while a run is under way"
    assert len(day.world.world.orders()) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 5))
@pytest.mark.parametrize(("query_lag", "reservation_lag"), LAGS)
def test_many_busy_days_never_oversell(seed: int, query_lag: float, reservation_lag: float) -> None:
    _day(seed=seed, steps=120, query_lag=query_lag, reservation_lag=reservation_lag)


# -- the watermarks, one race at a time ----------------------------------------------------------


def _at(step: str, action: Callable[[], object]) -> Callable[[str, str], None]:
    done: list[bool] = []

    def checkpoint(at: str, _subject: str) -> None:
        if at == step and not done:
            done.append(True)
            action()

    return checkpoint


@pytest.mark.parametrize(
    ("step", "shown_until_next_run"),
    [
        # Placed after the entries were read: ingested, so pending; its reservation, which the
        # write's fresh read (after the 409 it causes) sees, is not added back: it is
        # subtracted twice until the next run (the shop undersells by it).
        ("stock.entries_read", 20 - 3 - 2 - 3),
        # Placed after pending was read: not pending; commercetools' own reservation subtracts
        # it once.
        ("stock.pending_read", 20 - 3 - 2),
    ],
)
def test_an_order_placed_while_the_run_reads_is_never_missed(
    step: str, shown_until_next_run: int
) -> None:
    with stock_world(skus=("TEE1-S",)) as world, open_store("memory://") as store:
        world.seed_entries(0)
        order = world.engine(
            store, checkpoint=_at(step, lambda: world.place(("TEE1-S", "wh-main", 3)))
        )
        order.sync_stock(catalogue=False)
        assert world.available("TEE1-S", "wh-main") == shown_until_next_run
        _check(world, "after the run")
        world.engine(store).sync_stock(catalogue=False)
        assert world.available("TEE1-S", "wh-main") == world.expected("TEE1-S", "wh-main") == 15


def test_an_order_prima_accepts_between_the_ats_read_and_the_push_stays_pending_for_this_run() -> (
    None
):
    """Pending is read before Prima's ATS: Prima taking the order after its ATS was read must
    not make the run forget it (the shop would show its units twice)."""
    with stock_world(skus=("TEE1-S",)) as world, open_store("memory://") as store:
        world.seed_entries(0)
        engine = world.engine(store)
        world.place(("TEE1-S", "wh-main", 3))
        engine.sync_stock(catalogue=False)
        world.world.set_stock(code("TEE1-S"), "WH1", 30)  # goods in: the run has work to do
        racing = world.engine(store, checkpoint=_at("stock.ats_read", engine.sync_orders))
        racing.sync_stock(catalogue=False)
        assert [o.order_number for o in world.world.orders()] == ["WEB-0001"]
        assert world.true_ats("TEE1-S", "wh-main") == 27
        assert world.available("TEE1-S", "wh-main") == world.expected("TEE1-S", "wh-main") == 25
        _check(world, "after the run")


def test_an_order_prima_accepts_between_the_pending_and_the_ats_read_is_counted_twice_once() -> (
    None
):
    with stock_world(skus=("TEE1-S",)) as world, open_store("memory://") as store:
        world.seed_entries(0)
        engine = world.engine(store)
        world.place(("TEE1-S", "wh-main", 3))
        engine.sync_stock(catalogue=False)
        world.world.set_stock(code("TEE1-S"), "WH1", 30)
        racing = world.engine(store, checkpoint=_at("stock.pending_read", engine.sync_orders))
        racing.sync_stock(catalogue=False)
        assert world.available("TEE1-S", "wh-main") == 27 - 3 - 2, "undersells for one run"
        engine.sync_stock(catalogue=False)
        assert world.available("TEE1-S", "wh-main") == world.expected("TEE1-S", "wh-main") == 25


def test_a_push_killed_half_way_is_completed_by_the_next_run_without_applying_twice() -> None:
    skus = [f"TEE{n}-S" for n in range(1, 6)]
    with stock_world(skus=skus) as world, open_store("memory://") as store:
        world.seed_entries(0)
        world.place(("TEE1-S", "wh-main", 2))
        pushed: list[str] = []

        def die_after_four(step: str, subject: str) -> None:
            if step == "stock.pushed":
                pushed.append(subject)
                if len(pushed) == 4:
                    raise Crash

        with pytest.raises(Crash):
            world.engine(store, checkpoint=die_after_four).sync_stock(catalogue=False)
        after_crash = {e["id"]: e for e in world.ct.inventory_entries()}
        written = {i for i, e in after_crash.items() if e["quantityOnStock"] != 0}
        assert len(written) == 4, "four entries written, six not"
        summary = world.engine(store).sync_stock(catalogue=False)
        assert (summary.updated, summary.unchanged, summary.failed) == (6, 4, 0)
        assert summary.problems == {}, "no drift: the crashed run recorded what it pushed"
        for entry in world.ct.inventory_entries():
            before = after_crash[entry["id"]]["version"]
            assert entry["version"] == before + (entry["id"] not in written), "written once"
        for sku in skus:
            for key in DEPOTS:
                assert world.available(sku, key) == world.expected(sku, key)
