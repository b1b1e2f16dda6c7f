"""``ct-prima-sync demo``: the order and stock flows on the embedded default, nothing to set up.

SQLite state in a local file, the bundled commercetools fake and the Prima emulator (spoken to
over its omlink SOAP protocol by the real client), a realistic catalogue and a few hundred orders
including bad ones; then a stock pass, one full order sync, a second stock pass after goods
arrived in Prima, and a report of what happened and why.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final, TextIO

from .engine import ChangeReason, EngineConfig, StockRunSummary, SyncEngine
from .money import Money
from .prima import OmlinkClient, OmlinkConfig
from .state import open_store
from .testing import FakeCommercetools, PrimaEmulator, PrimaOrder, PrimaWorld
from .testing.scenario import SyncScenario, build_scenario, connect_commercetools

__all__ = ["run_demo"]

_EMULATOR_ENDPOINT = "http://prima-emulator.invalid/omlink/omlink"

#: The warehouses whose stock the shop sells, as the scenario's supply channels name them.
_STOCK_CHANNELS: Final = {"WH1": "wh-main", "WH2": "wh-north"}

_REASONS: Final = {
    ChangeReason.CREATED: "created: commercetools had no entry for Prima's stock",
    ChangeReason.NOT_IN_PRIMA: "set to 0: Prima does not know the SKU",
    ChangeReason.DRIFT: "put back: someone else had changed the entry",
    ChangeReason.FIRST_SYNC: "first sync of the SKU in that warehouse",
    ChangeReason.ATS_CHANGED: "Prima's available-to-sell moved",
    ChangeReason.SOLD: "sold or reserved since the last run",
}


def _stock_the_shop(scenario: SyncScenario, rng: random.Random) -> None:
    """Realistic stock in Prima, yesterday's figures in commercetools, and one entry for a SKU
    the warehouse no longer knows."""
    world: PrimaWorld = scenario.world
    ct: FakeCommercetools = scenario.commercetools
    for sku in world.skus():
        text = "-".join((sku.product, *sku.matrix))
        for depot, channel in _STOCK_CHANNELS.items():
            world.set_stock(sku, depot, rng.randint(100, 400))
            if rng.random() < 0.95:  # a few entries are missing: the catalogue check adds them
                ct.add_inventory(text, rng.randint(0, 400), supply_channel=channel)
    ct.add_inventory("DISCONTINUED9-BLK-M", 12, supply_channel="wh-main")


def _receive_goods(world: PrimaWorld, rng: random.Random) -> int:
    """A delivery arrives in Prima for some SKUs; returns how many."""
    received = rng.sample(world.skus(), 12)
    for sku in received:
        world.set_stock(sku, "WH1", world.on_hand(sku, "WH1") + rng.randint(10, 50))
    return len(received)


def _stock_report(out: TextIO, title: str, summary: StockRunSummary) -> None:
    changed = summary.created + summary.updated
    out.write(
        f"{title}: read {summary.read} inventory entries, changed {changed}, "
        f"{summary.unchanged} already right, {summary.failed} failed "
        f"({summary.seconds:.2f} s).\n"
    )
    for reason, count in sorted(summary.reasons.items(), key=lambda item: -item[1]):
        out.write(f"  {count:5d}  {_REASONS.get(ChangeReason(reason), reason)}\n")
    for kind, count in sorted(summary.problems.items()):
        out.write(f"  {count:5d}  exception {kind} (operations)\n")


def run_demo(
    *,
    database: Path,
    orders: int = 300,
    bad_every: int = 25,
    seed: int = 0,
    out: TextIO,
) -> int:
    """Run the demo; returns the process exit code (0 when every good order reached Prima once)."""
    for leftover in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    scenario = build_scenario(orders=orders, bad_every=bad_every, seed=seed)
    rng = random.Random(seed)  # noqa: S311 (demo data, not security)
    _stock_the_shop(scenario, rng)
    emulator = PrimaEmulator(scenario.world)
    prima_config = OmlinkConfig(
        endpoint=_EMULATOR_ENDPOINT, rate_limit=2000.0, burst=50, ats_per_depot=True
    )
    out.write(
        f"Seeded a commercetools fake with {orders} orders ({len(scenario.bad)} of them bad) and a "
        f"Prima emulator with {len(scenario.world.skus())} SKUs in "
        f"{len(scenario.world.list_depots())} depots ({time.perf_counter() - started:.1f} s).\n"
        f"State: {database}\n\n"
    )
    with (
        open_store(f"sqlite:///{database}") as store,
        connect_commercetools(scenario.commercetools) as commercetools,
        OmlinkClient(prima_config, transport=emulator.transport()) as prima,
    ):
        engine = SyncEngine(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(
                worker_id="demo",
                initial_cursor=scenario.first_order_at - timedelta(days=1),
                concurrency=4,
            ),
        )
        opening = engine.sync_stock()
        _stock_report(out, "Stock pass before the orders", opening)
        pending = sum(store.pending_stock().values())
        out.write(f"  ({pending} units of orders not yet in Prima were held back as pending.)\n\n")
        clock = time.perf_counter()
        summary = engine.sync_orders()
        seconds = time.perf_counter() - clock
        again = engine.sync_orders()
        ct_gross = sum(
            o["taxedPrice"]["totalGross"]["centAmount"]
            for o in scenario.commercetools.orders()
            if o["orderNumber"] in set(scenario.good)
        )
        _report(
            out,
            prima_orders=scenario.world.orders(),
            engine=engine,
            posted=summary.posted,
            seconds=seconds,
            ct_gross=ct_gross,
        )
        out.write(
            f"\nA second run right after posted {again.posted} and queued {again.excepted}: "
            "each order reaches Prima exactly once.\n\n"
        )
        received = _receive_goods(scenario.world, rng)
        after = engine.sync_stock()
        _stock_report(out, f"Stock pass after the orders and a delivery of {received} SKUs", after)
        out.write(
            "  Orders Prima accepted left pending and entered Prima's available-to-sell: the "
            "shop's figures did not move for them.\n"
        )
        lost = [n for n in scenario.good if scenario.world.submission_count(n) != 1]
        stock_ok = opening.ok and after.ok
        return 1 if lost or summary.posted != len(scenario.good) or not stock_ok else 0


def _report(
    out: TextIO,
    *,
    prima_orders: Sequence[PrimaOrder],
    engine: SyncEngine,
    posted: int,
    seconds: float,
    ct_gross: int,
) -> None:
    gross: dict[str, Money] = {}
    for prima_order in prima_orders:
        totals = prima_order.order.totals
        gross[totals.gross.currency] = gross.get(
            totals.gross.currency, Money.zero(totals.gross.currency)
        ) + (totals.gross)
    rate = posted / seconds if seconds else 0.0
    out.write(f"Posted {posted} sales orders to Prima in {seconds:.2f} s ({rate:.0f} orders/s).\n")
    for amount in gross.values():
        verdict = (
            "equals commercetools' total to the cent"
            if amount.minor_units == ct_gross
            else f"DIFFERS from commercetools' {amount.with_units(ct_gross)}"
        )
        out.write(f"  gross value in Prima {amount}: {verdict}\n")
    queue = sorted(engine.exceptions(), key=lambda r: str(r.detail.get("order_number")))
    out.write(f"\nException queue: {len(queue)} open\n")
    by_owner: dict[str, list[str]] = defaultdict(list)
    for record in queue:
        number = record.detail.get("order_number") or record.order_id or record.subject
        reason = record.detail.get("message") or record.detail.get("request_error") or ""
        by_owner[str(record.owner)].append(f"    {number}  {record.kind}: {reason}")
    counts = Counter(str(r.owner) for r in queue)
    for owner in sorted(by_owner):
        out.write(f"  {owner} ({counts[owner]}):\n")
        out.write("\n".join(by_owner[owner]) + "\n")
    health = engine.health()
    out.write(f"\nLedger: {health.orders_by_status}\n")
