"""The emulator records what it saw: requests per second (the busiest sliding second), the 429s
it sent, per request type; with a gateway's rate limit in front it refuses what goes beyond."""

from __future__ import annotations

import pytest

from ct_prima_sync.errors import PrimaRateLimitedError
from ct_prima_sync.prima import ManualClock, OmlinkClient, OmlinkConfig, SkuCode
from ct_prima_sync.testing import PrimaEmulator, PrimaWorld, RequestRateLog, make_sales_order

TEE = SkuCode(product="TEE1", matrix=("BLK", "M"))


def _emulator(clock: ManualClock) -> PrimaEmulator:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_product(TEE)
    world.set_stock(TEE, "WH1", 100)
    emulator = PrimaEmulator(world, sleep=lambda _s: None)
    emulator.arrivals = RequestRateLog(clock)
    return emulator


def _client(emulator: PrimaEmulator) -> OmlinkClient:
    config = OmlinkConfig(endpoint="http://prima.test/omlink", rate_limit=1000.0, burst=1000)
    return OmlinkClient(config, transport=emulator.transport(), sleep=lambda _s: None)


def test_a_gateway_rate_limit_answers_429_beyond_it_and_applies_nothing() -> None:
    clock = ManualClock()
    emulator = _emulator(clock)
    emulator.limit_rate(2.0, burst=2)
    client = _client(emulator)
    for n in range(2):
        client.submit_orders([make_sales_order(f"G-{n}", [(TEE, 1, "WH1")])])
    for n in range(2, 4):
        with pytest.raises(PrimaRateLimitedError) as refused:
            client.submit_orders([make_sales_order(f"G-{n}", [(TEE, 1, "WH1")])])
        assert not refused.value.may_have_been_applied
        assert refused.value.retry_after == 1.0
    assert [o.order_number for o in emulator.world.orders()] == ["G-0", "G-1"]
    clock.advance(0.5)  # one token back
    client.submit_orders([make_sales_order("G-9", [(TEE, 1, "WH1")])])
    log = emulator.arrivals
    assert (log.total, log.rate_limited, log.rate_limited_of("MultiNewOrder")) == (5, 2, 2)
    emulator.limit_rate(None)
    for n in range(5):
        client.submit_orders([make_sales_order(f"H-{n}", [(TEE, 1, "WH1")])])
    assert log.rate_limited == 2


def test_the_log_reports_the_busiest_second_and_the_429s_per_request_type() -> None:
    clock = ManualClock()
    log = RequestRateLog(clock)
    for step in range(10):  # 10 submissions 0.1 s apart, a stock read every 0.5 s
        log.record("MultiNewOrder")
        if step % 5 == 0:
            log.record("MultiAvailableToSell")
            log.record_rate_limited("MultiAvailableToSell")
        clock.advance(0.1)
    clock.advance(2.0)
    log.record("OrderStatus")
    assert log.busiest(1.0) == 12
    assert log.busiest(1.0, "MultiNewOrder") == 10
    assert log.busiest(0.25, "MultiNewOrder") == 3
    assert log.per_second("OrderStatus") == [0, 0, 0, 1]
    assert log.between(0.0, 0.5, "MultiNewOrder") == 5
    assert log.by_type() == {"MultiAvailableToSell": 2, "MultiNewOrder": 10, "OrderStatus": 1}
    report = log.report()
    assert report["requests"] == 13
    assert report["rate_limited"] == 2
    assert report["by_type"] == {
        "MultiAvailableToSell": {"requests": 2, "busiest_second": 2, "rate_limited": 2},
        "MultiNewOrder": {"requests": 10, "busiest_second": 10, "rate_limited": 0},
        "OrderStatus": {"requests": 1, "busiest_second": 1, "rate_limited": 0},
    }
    log.clear()
    assert (log.total, log.rate_limited, log.per_second()) == (0, 0, [])


def test_a_server_rate_limit_must_let_something_through() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        PrimaEmulator(rate_limit=0.0)
