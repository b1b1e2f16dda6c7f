"""Omlink client benchmarks (``python -m benchmarks bench_omlink``).

(a) Round trips per second through ``OmlinkClient`` against the in-process ``PrimaEmulator``
    (``httpx`` over its WSGI transport), for three request shapes, against a baseline in the same
    run: raw ``httpx`` posting the same prepared envelope to the same emulator and reading the
    body (no XML building or parsing on the client side). The ratio is the client's overhead:
    the emulator's own work is in both figures.
(b) The rate limiter's accuracy over 10,000 requests from 4 threads: achieved / allowed, where
    allowed is ``burst + rate * elapsed``. On a manual clock (exact arithmetic) and on the real
    clock at 2,000 requests/s (about five seconds). Goal: 0.95 to 1.0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from ct_prima_sync.prima import (
    ManualClock,
    OmlinkClient,
    OmlinkConfig,
    RateLimiter,
    SkuCode,
)
from ct_prima_sync.prima._xml import (
    AtsSkusRequest,
    OmlinkCodec,
    OrderStatusRequest,
    SoapEnvelope,
    SubmitOrdersRequest,
)
from ct_prima_sync.testing import PrimaEmulator, PrimaWorld, make_sales_order

ROUNDS = 400
LIMITER_REQUESTS = 10_000
THREADS = 4
REAL_RATE = 2_000.0

_Call = Callable[[OmlinkClient, int], object]


def _world(skus: list[SkuCode]) -> PrimaWorld:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    for sku in skus:
        world.add_product(sku)
        world.set_stock(sku, "WH1", 10**9)
    return world


def _rate(work: Callable[[int], None], count: int) -> float:
    start = time.perf_counter()
    for index in range(count):
        work(index)
    return count / (time.perf_counter() - start)


def bench_round_trips() -> None:
    """(a) client vs raw httpx against the same in-process emulator."""
    skus = [SkuCode(product=f"TEE{n:04}", matrix=("BLK", "M")) for n in range(50)]
    emulator = PrimaEmulator(_world(skus), sleep=lambda _: None)
    config = OmlinkConfig(endpoint="http://prima.test/live/live", rate_limit=10**9, burst=10**6)
    codec = OmlinkCodec()
    envelope = SoapEnvelope()
    headers = {"Content-Type": envelope.content_type, "SOAPAction": '""'}
    counter = iter(range(10**9))

    def status_body() -> bytes:
        return envelope.wrap_request(codec.encode_request(OrderStatusRequest(order_number="CT-0")))

    shapes: list[tuple[str, _Call, Callable[[int], bytes]]] = [
        (
            "order_status",
            lambda c, _: c.order_status("CT-0"),
            lambda _: status_body(),
        ),
        (
            "available_to_sell x50",
            lambda c, _: c.available_to_sell(skus),
            lambda _: envelope.wrap_request(codec.encode_request(AtsSkusRequest(skus=tuple(skus)))),
        ),
        (
            "submit_orders (10 lines)",
            lambda c, _: c.submit_orders(
                [make_sales_order(f"CT-C{next(counter)}", [(s, 1, "WH1") for s in skus[:10]])]
            ),
            lambda i: envelope.wrap_request(
                codec.encode_request(
                    SubmitOrdersRequest(
                        orders=(
                            make_sales_order(
                                f"CT-R{next(counter)}", [(s, 1, "WH1") for s in skus[:10]]
                            ),
                        ),
                        unique_ids=(str(i),),
                    )
                )
            ),
        ),
    ]
    with (
        OmlinkClient(config, transport=emulator.transport()) as client,
        httpx.Client(transport=emulator.transport()) as raw,
    ):
        client.list_depots()  # warm up
        for name, call, body in shapes:
            bodies = [body(i) for i in range(ROUNDS)]

            def through_client(index: int, call: _Call = call) -> None:
                call(client, index)

            def through_httpx(index: int, bodies: list[bytes] = bodies) -> None:
                raw.post(config.endpoint, content=bodies[index], headers=headers).read()

            ours = _rate(through_client, ROUNDS)
            base = _rate(through_httpx, ROUNDS)
            print(
                f"  {name:<26} client {ours:8.0f}/s   raw httpx {base:8.0f}/s   "
                f"client/raw {ours / base:.2f}"
            )


def _limiter_run(limiter: RateLimiter, clock: Callable[[], float]) -> float:
    start = clock()
    per_thread = LIMITER_REQUESTS // THREADS

    def work(_: int) -> None:
        for _ in range(per_thread):
            limiter.acquire()

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    elapsed = clock() - start
    allowed = limiter.burst + limiter.rate * elapsed
    return LIMITER_REQUESTS / allowed


def bench_rate_limiter() -> None:
    """(b) achieved / allowed rate over 10,000 requests from 4 threads."""
    manual = ManualClock()
    fake = RateLimiter(100.0, burst=10, clock=manual, sleep=manual.sleep)
    ratio = _limiter_run(fake, manual)
    print(f"  manual clock, 100/s burst 10:    achieved/allowed {ratio:.4f}")
    real = RateLimiter(REAL_RATE, burst=10)
    ratio = _limiter_run(real, time.monotonic)
    print(f"  real clock, {REAL_RATE:,.0f}/s burst 10:    achieved/allowed {ratio:.4f}")


def main() -> None:
    """Run both benchmarks and print their figures."""
    print("(a) round trips through the client vs raw httpx, in-process emulator")
    bench_round_trips()
    print(f"(b) rate limiter accuracy, {LIMITER_REQUESTS:,} requests from {THREADS} threads")
    bench_rate_limiter()


if __name__ == "__main__":
    main()
