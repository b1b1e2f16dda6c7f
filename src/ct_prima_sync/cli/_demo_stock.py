"""The demo's stock passes: a shop with yesterday's figures, Prima's real ones, a delivery."""

from __future__ import annotations

import random
from typing import Final, TextIO

from ..engine import ChangeReason, StockRunSummary
from ..testing import FakeCommercetools, PrimaWorld

__all__ = ["receive_goods", "stock_report", "stock_the_shop"]

#: The warehouses whose stock the shop sells, as the scenario's supply channels name them.
STOCK_CHANNELS: Final = {"WH1": "wh-main", "WH2": "wh-north"}

_REASONS: Final = {
    ChangeReason.CREATED: "created: commercetools had no entry for Prima's stock",
    ChangeReason.NOT_IN_PRIMA: "set to 0: Prima does not know the SKU",
    ChangeReason.DRIFT: "put back: someone else had changed the entry",
    ChangeReason.FIRST_SYNC: "first sync of the SKU in that warehouse",
    ChangeReason.ATS_CHANGED: "Prima's available-to-sell moved",
    ChangeReason.SOLD: "sold or reserved since the last run",
}


def stock_the_shop(world: PrimaWorld, ct: FakeCommercetools, rng: random.Random) -> None:
    """Realistic stock in Prima, yesterday's figures in commercetools (a few entries missing),
    and one entry for a SKU the warehouse no longer knows."""
    for sku in world.skus():
        text = "-".join((sku.product, *sku.matrix))
        for depot, channel in STOCK_CHANNELS.items():
            world.set_stock(sku, depot, rng.randint(100, 400))
            if rng.random() < 0.95:  # the missing ones: the catalogue check adds them
                ct.add_inventory(text, rng.randint(0, 400), supply_channel=channel)
    ct.add_inventory("DISCONTINUED9-BLK-M", 12, supply_channel="wh-main")


def receive_goods(world: PrimaWorld, rng: random.Random) -> int:
    """A delivery arrives in Prima's first warehouse for some SKUs; returns how many."""
    received = rng.sample(world.skus(), 12)
    for sku in received:
        world.set_stock(sku, "WH1", world.on_hand(sku, "WH1") + rng.randint(10, 50))
    return len(received)


def stock_report(out: TextIO, title: str, summary: StockRunSummary) -> None:
    """What a stock pass changed, and why, for the demo's reader."""
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
