"""When requests reached the emulator: the rate a client (or many) really sent, seen from
Prima's side, to check a shared budget against."""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from collections.abc import Callable

__all__ = ["RequestRateLog"]


class RequestRateLog:
    """Arrival times of the requests an emulator answered, on ``clock`` (seconds). Thread-safe:
    a served emulator answers on several threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._times: list[float] = []
        self._types: list[str] = []

    def record(self, request_type: str = "") -> None:
        """Note one request arriving now."""
        with self._lock:
            self._times.append(self._clock())
            self._types.append(request_type)

    def clear(self) -> None:
        """Forget every request seen so far."""
        with self._lock:
            self._times.clear()
            self._types.clear()

    @property
    def total(self) -> int:
        """How many requests arrived."""
        with self._lock:
            return len(self._times)

    def per_second(self) -> list[int]:
        """Requests per whole second from the first one on (a second with none counts 0)."""
        with self._lock:
            times = list(self._times)
        if not times:
            return []
        first = min(times)
        counts = Counter(int(t - first) for t in times)
        return [counts.get(s, 0) for s in range(max(counts) + 1)]

    def busiest(self, seconds: float = 1.0) -> int:
        """The most requests that arrived within any window of ``seconds`` (a sliding window:
        stricter than :meth:`per_second`, which a burst across a second's edge can pass)."""
        with self._lock:
            times = sorted(self._times)
        return max(
            (bisect.bisect_right(times, t + seconds) - i for i, t in enumerate(times)),
            default=0,
        )

    def of_type(self, request_type: str) -> int:
        """How many requests of ``request_type`` arrived."""
        with self._lock:
            return self._types.count(request_type)
