"""Client-side flow control: a token-bucket rate limit and a concurrency cap, shared by threads.

Rules the limiter keeps (the tests hold it to them):

1. Over any run, the requests let through never exceed ``burst + rate * elapsed``, counted when
   they leave; a busy run gets within a few tokens of it. Each caller *reserves* its slot under a
   lock and then sleeps outside it, so threads never wake together and overshoot. As it leaves,
   it takes its token again from a second bucket of the same rate and burst that counts
   departures: a caller held up after its slot came (a pause of the whole process, such as a
   garbage collection, or a thread woken late on a busy machine) waits there rather than leave
   together with the callers of the next slots.
2. Time comes from an injectable ``clock`` and waits go through an injectable ``sleep``:
   :class:`ManualClock` runs both instantly for tests and benchmarks.
3. A caller that would have to wait longer than ``max_wait`` gives its reservation back and gets
   ``False``: nothing was sent, so the request surely had no effect.
4. :meth:`RateLimiter.pause` pushes every later slot back (a gateway's ``Retry-After``).

Reusable beyond omlink: the engine uses the same classes for its own pools.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from ..errors import ConfigurationError

__all__ = ["ConcurrencyLimiter", "FlowControl", "ManualClock", "RateLimiter"]

Clock = Callable[[], float]
Sleep = Callable[[float], None]

#: Tokens short of one by no more than this count as one (rounding of ``elapsed * rate``).
_EPSILON = 1e-9


class ManualClock:
    """A clock that moves only when someone sleeps: instant, deterministic waits.

    Sleeps by several threads overlap as they would in real time: a thread's sleep of ``d`` moves
    the clock to at least the time that thread last read plus ``d``, never to the sum of
    everyone's sleeps.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._seen = threading.local()
        self.sleeps: int = 0

    def __call__(self) -> float:
        """The current time (seconds)."""
        with self._lock:
            self._seen.at = self._now
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance to (the time this thread last read) + ``seconds``, if that is later."""
        with self._lock:
            self.sleeps += 1
            start: float = getattr(self._seen, "at", self._now)
            self._now = max(self._now, start + max(seconds, 0.0))
            self._seen.at = self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` without sleeping."""
        with self._lock:
            self._now += seconds


class RateLimiter:
    """A token bucket: ``rate`` requests per second on average, up to ``burst`` at once."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ConfigurationError("rate_limit must be a positive number of requests per second")
        if burst < 1:
            raise ConfigurationError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()
        self._departures = float(burst)  # the bucket that counts requests as they leave
        self._departed = self._updated

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def reserve(self, max_wait: float | None = None) -> float | None:
        """Reserve the next slot; the seconds to wait for it, or None if that exceeds max_wait."""
        with self._lock:
            self._refill(self._clock())
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            if max_wait is not None and wait > max_wait:
                return None
            self._tokens -= 1
            return wait

    def acquire(self, max_wait: float | None = None) -> bool:
        """Wait for a slot; False (and nothing reserved) when it would take over ``max_wait``.
        True once the request may leave now (rule 1: also when its caller was held up)."""
        wait = self.reserve(max_wait)
        if wait is None:
            return False
        if wait > 0:
            self._sleep(wait)
        while (wait := self._depart()) > 0:
            self._sleep(wait)
        return True

    def _depart(self) -> float:
        """Take a departure token now (0.0), or the seconds until there is one."""
        with self._lock:
            now = self._clock()
            if now > self._departed:
                refilled = self._departures + (now - self._departed) * self.rate
                self._departures = min(float(self.burst), refilled)
                self._departed = now
            if self._departures >= 1 - _EPSILON:  # a float's rounding is no reason to wait
                self._departures -= 1
                return 0.0
            return (1 - self._departures) / self.rate

    def pause(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` from now (a ``Retry-After``)."""
        if seconds <= 0:
            return
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 1 - seconds * self.rate)


class ConcurrencyLimiter:
    """At most ``limit`` requests in flight at once, across threads."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)

    def acquire(self, max_wait: float | None = None) -> bool:
        """Take a slot; False when none frees up within ``max_wait`` seconds (real time)."""
        return self._semaphore.acquire(timeout=max_wait)

    def release(self) -> None:
        """Give a slot back."""
        self._semaphore.release()


class FlowControl:
    """A concurrency cap and an optional rate limit, taken together for each request."""

    def __init__(self, rate: RateLimiter | None, concurrency: ConcurrencyLimiter | None) -> None:
        self.rate = rate
        self.concurrency = concurrency

    @contextlib.contextmanager
    def slot(
        self, max_wait: float | None = None, request_type: str | None = None
    ) -> Iterator[bool]:
        """Hold a slot for one request; yields False when none came within ``max_wait``.
        ``request_type`` says what the request is; this limiter treats every request alike (a
        shared budget in the engine lets order submissions go first)."""
        if self.concurrency is not None and not self.concurrency.acquire(max_wait):
            yield False
            return
        try:
            yield self.rate is None or self.rate.acquire(max_wait)
        finally:
            if self.concurrency is not None:
                self.concurrency.release()

    def pause(self, seconds: float) -> None:
        """Hold every later request back for ``seconds``."""
        if self.rate is not None:
            self.rate.pause(seconds)

    def observe(self, request_type: str, *, seconds: float, struggled: bool) -> None:
        """Told after each request that went out: how long Prima took (``seconds``) and whether
        it struggled (``struggled``: a 429 or 503, another 5xx, a timeout, no connection). This
        limiter keeps its fixed rate; an adaptive one (the engine's shared budget) slows down."""
