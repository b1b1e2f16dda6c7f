"""The token bucket and the concurrency cap hold across threads (on a manual clock)."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.prima import (
    ConcurrencyLimiter,
    FlowControl,
    ManualClock,
    OmlinkClient,
    OmlinkConfig,
    RateLimiter,
)
from ct_prima_sync.prima._xml import OmlinkCodec, SoapEnvelope


def test_a_burst_goes_through_at_once_then_the_rate_holds() -> None:
    clock = ManualClock()
    limiter = RateLimiter(10, burst=5, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        assert limiter.acquire()
    assert clock() == 0
    for _ in range(10):
        limiter.acquire()
    assert clock() == pytest.approx(1.0)


@pytest.mark.parametrize("threads", [1, 4, 16])
def test_the_rate_holds_across_threads(threads: int) -> None:
    clock = ManualClock()
    rate, burst, total = 50.0, 10, 4000
    limiter = RateLimiter(rate, burst=burst, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []
    lock = threading.Lock()

    def work(count: int) -> None:
        for _ in range(count):
            limiter.acquire()
            with lock:
                stamps.append(clock())

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, [total // threads] * threads))
    elapsed = clock()
    allowed = burst + rate * elapsed
    assert 0.95 <= total / allowed <= 1.0
    # No window of one second ever lets more than burst + rate through.
    stamps.sort()
    for i, start in enumerate(stamps):
        in_window = sum(1 for s in stamps[i : i + 200] if s < start + 1.0)
        assert in_window <= burst + rate


def test_a_wait_longer_than_max_wait_is_refused_without_using_a_slot() -> None:
    clock = ManualClock()
    limiter = RateLimiter(1, burst=1, clock=clock, sleep=clock.sleep)
    assert limiter.acquire()
    assert not limiter.acquire(max_wait=0.5)
    assert clock() == 0
    clock.advance(1.0)
    assert limiter.acquire(max_wait=0)


def test_pause_holds_every_later_request_back() -> None:
    clock = ManualClock()
    limiter = RateLimiter(100, burst=10, clock=clock, sleep=clock.sleep)
    limiter.pause(5)
    limiter.acquire()
    assert clock() == pytest.approx(5.0, abs=0.02)


def test_the_concurrency_cap_never_lets_more_through() -> None:
    cap = ConcurrencyLimiter(3)
    flow = FlowControl(None, cap)
    inside = 0
    peak = 0
    lock = threading.Lock()
    barrier = threading.Barrier(3, timeout=5)

    def work(_: int) -> None:
        nonlocal inside, peak
        with flow.slot(max_wait=5) as granted:
            assert granted
            with lock:
                inside += 1
                peak = max(peak, inside)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
            with lock:
                inside -= 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(9)))
    assert peak == 3


def test_no_concurrency_slot_within_max_wait_is_refused() -> None:
    flow = FlowControl(None, ConcurrencyLimiter(1))
    with flow.slot(0) as first:
        assert first
        with flow.slot(0) as second:
            assert not second


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_limits_are_configuration_errors(rate: float, burst: int) -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(rate, burst)


def test_one_client_shared_by_threads_keeps_its_rate_and_concurrency_cap() -> None:
    clock = ManualClock()
    lock = threading.Lock()
    in_flight = 0
    peak = 0
    sent = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak, sent
        with lock:
            in_flight += 1
            sent += 1
            peak = max(peak, in_flight)
        time.sleep(0.001)  # real time, so that requests overlap
        with lock:
            in_flight -= 1
        reply = OmlinkCodec().encode_depot_list_reply([])
        return httpx.Response(200, content=SoapEnvelope().wrap_reply(reply))

    config = OmlinkConfig(
        endpoint="http://prima.test/x/x", rate_limit=20, burst=4, max_concurrency=3
    )
    client = OmlinkClient(
        config, transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep
    )
    with client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.list_depots(), range(200)))
    assert sent == 200
    assert peak <= 3
    assert 0.95 <= 200 / (4 + 20 * clock()) <= 1.0
