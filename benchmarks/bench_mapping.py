"""Mapping benchmarks (``python -m benchmarks bench_mapping``).

(a) parse + map realistic orders (10 lines with discounts, mixed taxes, shipping; built by
    ``ct_prima_sync.testing.factories``) per second, against the ``commercetools`` package's
    ``Order.deserialize`` alone on the same payloads, in the same run. Goal: at least 10x.
(b) the stock diff: 100,000 SKUs over 3 depots through ``plan_stock_updates``, in CPU seconds
    (``time.process_time``), against a plain dict comprehension over the same rows. Goal: < 1 s.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ct_prima_sync.commercetools._models.parse import parse_order
from ct_prima_sync.mapping import (
    CurrentStock,
    DepotMap,
    MappingConfig,
    SkuCodec,
    StockConfig,
    map_order,
    plan_stock_updates,
)
from ct_prima_sync.prima import SkuCode, StockLevel
from ct_prima_sync.testing.factories import random_order

EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "mapping.toml"
ORDERS = 150
SKUS = 100_000
DEPOTS = (("WH1", "ch-1"), ("WH2", "ch-2"), ("WH3", "ch-3"))


def _best_rate(work: Callable[[], None], count: int, rounds: int = 3) -> float:
    """Items per CPU second, best of ``rounds`` (the least disturbed run)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return count / best


def bench_orders() -> None:
    """(a) parse + map vs the commercetools SDK's deserialize alone."""
    from commercetools.platform.models import Order as SdkOrder

    with EXAMPLE.open("rb") as handle:
        config = MappingConfig.from_dict(tomllib.load(handle, parse_float=Decimal))
    orders: list[dict[str, Any]] = [
        random_order(seed, line_count=10, currency="EUR") for seed in range(ORDERS)
    ]
    mapped = [map_order(parse_order(order), config) for order in orders]
    failed = sum(not m.ok for m in mapped)

    def ours() -> None:
        for order in orders:
            map_order(parse_order(order), config)

    def sdk() -> None:
        for order in orders:
            SdkOrder.deserialize(order)

    ours_rate = _best_rate(ours, len(orders))
    sdk_rate = _best_rate(sdk, len(orders))
    print(f"orders: {len(orders)} x 10 lines ({failed} with issues)")
    print(f"  parse_order + map_order        {ours_rate:10,.0f} orders/s")
    print(f"  commercetools Order.deserialize {sdk_rate:9,.0f} orders/s")
    print(f"  ratio (ours / deserialize)      {ours_rate / sdk_rate:9.1f}x   (goal >= 10x)")


def stock_rows() -> tuple[list[StockLevel], dict[tuple[str, str], int], list[CurrentStock]]:
    """100,000 SKUs x 3 depots: ATS, some pending sales, and entries of which ~1/4 are stale."""
    rows: list[StockLevel] = []
    pending: dict[tuple[str, str], int] = {}
    entries: list[CurrentStock] = []
    for n in range(SKUS):
        product, size = f"P{n // 8:05d}", f"S{n % 8}"
        code = SkuCode(product=product, matrix=(size,))
        sku = f"{product}-{size}"
        for depot, channel in DEPOTS:
            available = (n * 7 + len(depot)) % 60
            rows.append(StockLevel(sku=code, available=available, depot=depot))
            if n % 11 == 0:
                pending[sku, depot] = 1
            reserved = n % 3
            stale = 1 if n % 4 == 0 else 0
            target = max(0, available - pending.get((sku, depot), 0) - 2)
            entries.append(CurrentStock(sku, channel, target + reserved + stale, target + stale))
    return rows, pending, entries


def bench_stock() -> None:
    """(b) the stock diff in CPU seconds, and its ratio to a dict comprehension."""
    config = StockConfig(
        skus=SkuCodec.from_dict(
            {
                "rules": [
                    {
                        "pattern": r"(?P<product>P\d{5})-(?P<size>S\d)",
                        "matrix": ["size"],
                        "template": "{product}-{size}",
                    }
                ]
            }
        ),
        depots=DepotMap(supply_channels={channel: depot for depot, channel in DEPOTS}),
        buffer=2,
    )
    rows, pending, entries = stock_rows()
    best_plan = best_dict = float("inf")
    plan = None
    for _ in range(3):
        start = time.process_time()
        plan = plan_stock_updates(rows, pending, entries, config)
        best_plan = min(best_plan, time.process_time() - start)
        start = time.process_time()
        index = {(r.sku.product, r.sku.matrix, r.depot): r.available for r in rows}
        best_dict = min(best_dict, time.process_time() - start)
        del index
    assert plan is not None
    print(f"stock: {SKUS:,} SKUs x {len(DEPOTS)} depots = {len(rows):,} rows")
    print(f"  plan_stock_updates   {best_plan:6.3f} CPU s   (goal < 1 s)")
    print(f"  dict comprehension   {best_dict:6.3f} CPU s")
    print(f"  ratio                {best_plan / best_dict:6.1f}x")
    print(f"  changes {len(plan.changes):,}, unchanged {plan.unchanged:,}")


def main() -> None:
    """Run both benchmarks and print their figures."""
    bench_orders()
    bench_stock()


if __name__ == "__main__":
    main()
