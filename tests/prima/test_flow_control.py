"""The token bucket and the concurrency cap hold across threads (on a manual clock)."""

from __future__ import annotations

import contextlib
import random
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


def refused_by_a_bucket(slots: list[float], rate: float, burst: int) -> list[float]:
    """The slots a server's token bucket of ``rate`` and ``burst`` would answer 429."""
    tokens, last, refused = float(burst), None, []
    for t in sorted(slots):
        if last is not None:
            tokens = min(float(burst), tokens + (t - last) * rate)
        last = t
        if tokens >= 1 - 1e-9:
            tokens -= 1
        else:
            refused.append(t)
    return refused


@pytest.mark.parametrize("threads", [1, 4, 16])
@pytest.mark.parametrize(("rate", "burst"), [(4.0, 1), (3.0, 2), (50.0, 10)])
def test_a_server_bucket_with_the_clients_limits_refuses_nothing_it_let_through(
    threads: int, rate: float, burst: int
) -> None:
    """Every moment the limiter hands out (the clock it read plus the wait it asked for)
    conforms to a bucket of the same rate and burst: through refusals at ``max_wait`` and
    pauses (a ``Retry-After``) among threads racing for slots."""
    clock = ManualClock()
    seen = threading.local()

    def read() -> float:
        now = clock()
        seen.at = now
        return now

    limiter = RateLimiter(rate, burst=burst, clock=read, sleep=clock.sleep)
    slots: list[float] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for n in range(400 // threads):
            if worker == 0 and n % 50 == 49:
                limiter.pause(1.0)
            wait = limiter.reserve(max_wait=0.0 if n % 7 == 3 else None)
            if wait is None:
                continue
            with lock:
                slots.append(seen.at + wait)
            clock.sleep(wait)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    assert len(slots) > 300
    assert refused_by_a_bucket(slots, rate, burst) == []


def test_a_caller_held_up_after_its_slot_does_not_leave_with_the_next_one() -> None:
    """Its slot came at 0.25 s, but it ran again only at 0.85 s (the process stood still): the
    bucket refilled meanwhile as if it had left on time, yet the next caller leaves one
    interval after it, not with it."""
    clock = ManualClock()
    overrun = [0.6]  # the first wait overruns by 0.6 s, the others end on time

    def sleep(seconds: float) -> None:
        clock.sleep(seconds + (overrun.pop() if overrun else 0.0))

    limiter = RateLimiter(4, burst=1, clock=clock, sleep=sleep)
    left = []
    for _ in range(4):
        assert limiter.acquire()
        left.append(clock())
    assert left == pytest.approx([0.0, 0.85, 1.1, 1.35])
    assert refused_by_a_bucket(left, 4, 1) == []


@pytest.mark.parametrize("threads", [4, 16])
def test_requests_leave_within_the_limit_when_threads_are_woken_late(threads: int) -> None:
    """Threads racing for slots, some woken up to three intervals late: every moment a request
    leaves (the last time its caller read the clock in ``acquire``) conforms to a bucket of
    the limiter's rate and burst."""
    clock = ManualClock()
    seen = threading.local()
    rate, burst = 4.0, 1

    def read() -> float:
        now = clock()
        seen.at = now
        return now

    rng = random.Random(3)
    rng_lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with rng_lock:
            late = rng.choice((0.0,) * 7 + (0.1, 0.4, 0.75))
        clock.sleep(seconds + late)

    limiter = RateLimiter(rate, burst=burst, clock=read, sleep=sleep)
    left: list[float] = []
    lock = threading.Lock()

    def work(_: int) -> None:
        for _n in range(400 // threads):
            limiter.acquire()
            with lock:
                left.append(seen.at)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    assert len(left) == 400 // threads * threads
    assert refused_by_a_bucket(left, rate, burst) == []


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
