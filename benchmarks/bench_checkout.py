"""Checkout guard benchmarks (``python -m benchmarks bench_checkout``).

(a) ``validate_checkout`` of a 50-line cart: CPU time per call (``time.thread_time``), p50 and
    p99 over many calls, against ``map_order_json`` of the same order (the order run's own
    mapping, the baseline) in the same run. Goal: p99 < 5 ms.
(b) the ASGI app under 50 concurrent calls (httpx over ``ASGITransport``, one process): wall time
    per call, p99, against half of ``timeoutInMs`` (2,000 ms by default); the baseline is the same
    app with a validator that answers at once, so the ratio is what the checks themselves cost.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import statistics
import time
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ct_prima_sync.checkout import CheckoutSettings, app
from ct_prima_sync.mapping import (
    CheckoutConfig,
    CheckoutVerdict,
    MappingConfig,
    map_order_json,
    validate_checkout,
)
from ct_prima_sync.testing.factories import random_order

EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "mapping.toml"
LINES = 50
CALLS = 400
CONCURRENT = 50
ROUNDS = 6


def _config() -> MappingConfig:
    with EXAMPLE.open("rb") as handle:
        return MappingConfig.from_dict(tomllib.load(handle, parse_float=Decimal))


def _cart(order: dict[str, Any]) -> dict[str, Any]:
    cart = copy.deepcopy(order)
    cart.pop("orderNumber", None)
    cart.pop("orderState", None)
    cart["cartState"] = "Active"
    return cart


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _cpu_ms(work: Callable[[], object], calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        start = time.thread_time_ns()
        work()
        times.append((time.thread_time_ns() - start) / 1e6)
    return times


def bench_validation() -> None:
    """(a) p99 CPU of validating a 50-line cart, and its ratio to mapping the same order."""
    config = _config()
    order = random_order(7, line_count=LINES, currency="EUR")
    cart = _cart(order)
    mapped = map_order_json(order, config)
    verdict = validate_checkout(cart, config)
    assert verdict.ok == mapped.ok, (verdict.issues, mapped.issues)
    settings = CheckoutConfig(mapping=config)
    checkout = _cpu_ms(lambda: validate_checkout(cart, settings), CALLS)
    mapping = _cpu_ms(lambda: map_order_json(order, config), CALLS)
    gc.collect()
    gc.freeze()  # as `checkout serve` does once loaded: the long-lived objects leave the GC's scans
    frozen = _cpu_ms(lambda: validate_checkout(cart, settings), CALLS)
    frozen_base = _cpu_ms(lambda: map_order_json(order, config), CALLS)
    gc.unfreeze()
    p99, base = _percentile(checkout, 0.99), _percentile(mapping, 0.99)
    p99_frozen, base_frozen = _percentile(frozen, 0.99), _percentile(frozen_base, 0.99)
    print(
        f"validation: a {LINES}-line cart ({'valid' if verdict.ok else 'refused'}), {CALLS} calls"
    )
    print(f"  validate_checkout  p50 {statistics.median(checkout):6.2f}  p99 {p99:6.2f} CPU ms")
    print(f"  map_order_json     p50 {statistics.median(mapping):6.2f}  p99 {base:6.2f} CPU ms")
    print(f"  ratio (checkout / mapping, p99) {p99 / base:5.2f}x")
    print("  after gc.freeze():")
    print(
        f"  validate_checkout  p50 {statistics.median(frozen):6.2f}  p99 {p99_frozen:6.2f} CPU ms"
    )
    print(
        f"  map_order_json     p50 {statistics.median(frozen_base):6.2f}  "
        f"p99 {base_frozen:6.2f} CPU ms"
    )
    print(
        f"  ratio (checkout / mapping, p99) {p99_frozen / base_frozen:5.2f}x   (goal: p99 < 5 ms)"
    )


def _instant(obj: Any, config: CheckoutConfig, **_: Any) -> CheckoutVerdict:
    return CheckoutVerdict(resource="cart", config_hash="")


async def _latencies(application: Any, body: dict[str, Any]) -> list[float]:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://checkout") as client:

        async def one() -> float:
            start = time.perf_counter()
            answer = await client.post("/", json=body, headers={"Authorization": "Bearer b"})
            assert answer.status_code in (200, 400), answer.text
            return (time.perf_counter() - start) * 1000

        found: list[float] = []
        for _ in range(ROUNDS):
            found += await asyncio.gather(*(one() for _ in range(CONCURRENT)))
        return found


def bench_app() -> None:
    """(b) p99 wall time of the app under 50 concurrent calls, against half of timeoutInMs."""
    config = CheckoutConfig(mapping=_config())
    settings = CheckoutSettings()
    cart = _cart(random_order(7, line_count=LINES, currency="EUR"))
    body = {"action": "Update", "resource": {"typeId": "cart", "id": cart["id"], "obj": cart}}
    real = app(config, authorization="Bearer b", settings=settings)
    empty = app(config, authorization="Bearer b", settings=settings, validator=_instant)
    gc.collect()
    gc.freeze()  # as `checkout serve` does
    checked = asyncio.run(_latencies(real, body))
    baseline = asyncio.run(_latencies(empty, body))
    gc.unfreeze()
    p99, base = _percentile(checked, 0.99), _percentile(baseline, 0.99)
    half = settings.timeout_in_ms / 2
    late = real.state.checkout.late
    print(f"app: {CONCURRENT} concurrent calls x {ROUNDS} rounds, {LINES}-line cart")
    print(f"  checked      p50 {statistics.median(checked):7.1f}  p99 {p99:7.1f} ms")
    print(f"  no checks    p50 {statistics.median(baseline):7.1f}  p99 {base:7.1f} ms")
    print(f"  ratio (checked / no checks, p99) {p99 / base:5.1f}x")
    print(f"  p99 / (timeoutInMs / 2) = {p99:.0f} / {half:.0f} = {p99 / half:.2f}   (goal <= 1)")
    print(f"  answered by the deadline policy: {late}")


def main() -> None:
    """Run both benchmarks and print their figures."""
    bench_validation()
    bench_app()


if __name__ == "__main__":
    main()
