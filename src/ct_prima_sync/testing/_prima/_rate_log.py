"""When requests reached the emulator: the rate a client (or many) really sent, seen from
Prima's side, to check a shared budget against; and the 429s the emulator answered.

Every figure can be asked for one request type (``MultiNewOrder``, ``OrderStatus``, ...): the
wire does not say which flow a request came from, so the flows are told apart by the types only
they send (``MultiNewOrder`` is the order flow's, ``DespatchDetails`` the dispatch flow's, the
``...AvailableToSell`` requests the stock flow's).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from collections.abc import Callable

__all__ = ["RequestRateLog", "ServerRateLimit"]


def _busiest(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(
        (bisect.bisect_right(times, t + seconds) - i for i, t in enumerate(times)),
        default=0,
    )


class RequestRateLog:
    """Arrival times of the requests an emulator answered, on ``clock`` (seconds), with their
    request types, and the 429s it sent. Thread-safe: a served emulator answers on several
    threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        """The clock arrivals are timed on (a test may read it to mark a moment)."""
        self._lock = threading.Lock()
        self._times: list[float] = []
        self._types: list[str] = []
        self._limited: list[tuple[float, str]] = []

    def record(self, request_type: str = "") -> None:
        """Note one request arriving now."""
        with self._lock:
            self._times.append(self.clock())
            self._types.append(request_type)

    def record_rate_limited(self, request_type: str = "") -> None:
        """Note that a request (already recorded) was answered 429 Too Many Requests."""
        with self._lock:
            self._limited.append((self.clock(), request_type))

    def clear(self) -> None:
        """Forget every request seen so far."""
        with self._lock:
            self._times.clear()
            self._types.clear()
            self._limited.clear()

    def times(self, request_type: str | None = None) -> list[float]:
        """When each request (of ``request_type``; None: of any type) arrived, in order."""
        with self._lock:
            if request_type is None:
                return sorted(self._times)
            return sorted(
                t for t, k in zip(self._times, self._types, strict=True) if k == request_type
            )

    @property
    def total(self) -> int:
        """How many requests arrived."""
        with self._lock:
            return len(self._times)

    @property
    def rate_limited(self) -> int:
        """How many requests were answered 429 (by the emulator's rate limit or a fault)."""
        with self._lock:
            return len(self._limited)

    def rate_limited_times(self, request_type: str | None = None) -> list[float]:
        """When each 429 (to a request of ``request_type``; None: of any type) was answered, in
        order (times on :attr:`clock`): the moments a test can tell a burst of them by."""
        with self._lock:
            return sorted(t for t, k in self._limited if request_type is None or k == request_type)

    def rate_limited_of(self, request_type: str) -> int:
        """How many requests of ``request_type`` were answered 429."""
        with self._lock:
            return sum(1 for _, k in self._limited if k == request_type)

    def per_second(self, request_type: str | None = None) -> list[int]:
        """Requests (of ``request_type``) per whole second from the first request of any type
        on (a second with none counts 0)."""
        with self._lock:
            first = min(self._times, default=None)
        if first is None:
            return []
        counts = Counter(int(t - first) for t in self.times(request_type))
        if not counts:
            return []
        return [counts.get(s, 0) for s in range(max(counts) + 1)]

    def busiest(self, seconds: float = 1.0, request_type: str | None = None) -> int:
        """The most requests (of ``request_type``) that arrived within any window of
        ``seconds`` (a sliding window: stricter than :meth:`per_second`, which a burst across a
        second's edge can pass)."""
        return _busiest(self.times(request_type), seconds)

    def between(self, start: float, end: float, request_type: str | None = None) -> int:
        """How many requests (of ``request_type``) arrived at or after ``start`` and before
        ``end`` (times on :attr:`clock`)."""
        times = self.times(request_type)
        return bisect.bisect_left(times, end) - bisect.bisect_left(times, start)

    def of_type(self, request_type: str) -> int:
        """How many requests of ``request_type`` arrived."""
        with self._lock:
            return self._types.count(request_type)

    def by_type(self) -> dict[str, int]:
        """How many requests of each type arrived (a request no type could be read from counts
        under ``""``)."""
        with self._lock:
            return dict(sorted(Counter(self._types).items()))

    def report(self) -> dict[str, object]:
        """A JSON-able account for benchmarks and test failures: the requests, the busiest
        second (sliding), the 429s sent, overall and per request type."""
        rows: dict[str, object] = {}
        for kind, count in self.by_type().items():
            rows[kind] = {
                "requests": count,
                "busiest_second": self.busiest(1.0, kind),
                "rate_limited": self.rate_limited_of(kind),
            }
        return {
            "requests": self.total,
            "busiest_second": self.busiest(1.0),
            "rate_limited": self.rate_limited,
            "by_type": rows,
        }


class ServerRateLimit:
    """A token bucket on the server's side, as a gateway in front of Prima keeps: ``rate``
    requests per second, ``burst`` at once; a request beyond it is refused, costing nothing.
    Thread-safe."""

    def __init__(
        self, rate: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not rate > 0 or burst < 1:
            raise ValueError("a server rate limit needs a positive rate and a burst of 1 or more")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def admit(self) -> float:
        """0 when a request may go now (its token is taken); else the seconds until one may."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate
