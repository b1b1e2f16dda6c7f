"""Flow control that adapts: order submissions slow down when Prima struggles, then recover.

A fixed rate limit is a guess about what Prima can take; on a busy day it is wrong in one
direction or the other. With ``EngineConfig.submission_flow`` set, the engine paces its order
submissions at a rate it adjusts as it goes (AIMD, as TCP does):

- **multiplicative decrease**: a 429 or 503 (``PrimaRateLimitedError``), any other sign Prima is
  unavailable (a 5xx, a timeout), or a reply much slower than usual (``latency_factor`` times the
  running average) multiplies the rate by ``decrease``, at most once per ``hold_seconds`` (the
  requests already in flight when Prima started struggling report it too: one cut, not five);
- **additive increase**: while submissions go through at normal speed the rate grows by
  ``increase`` requests per second every second, back up to ``max_rate``.

The rate never falls below ``min_rate``. The controller (:class:`AimdRate`) is pure: it is given
the time and the outcome of each request and says how long to wait before the next; the engine's
clock drives it, so tests run it on a fake clock. ``RunSummary.submission_rate`` reports the rate
at the end of a run, ``RunSummary.submissions_per_second`` the rate the run actually achieved.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from attrs import field, frozen

from ..errors import ConfigurationError, PrimaUnavailableError
from ..prima import PrimaGateway
from ..prima._config import DEFAULT_RATE_LIMIT
from ._clock import Clock

__all__ = ["AimdRate", "SubmissionFlow", "paced"]


def _positive(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if not value > 0:
            raise ConfigurationError(f"submission_flow: {name} must be positive")

    return check


@frozen(kw_only=True)
class SubmissionFlow:
    """How adaptive flow control paces order submissions (``[engine.submission_flow]``).

    ``max_rate``: the ceiling and the starting rate, in submissions per second (set it to what
    Prima's budget allows for orders; default: the omlink client's default rate limit, 5);
    ``min_rate``: the floor; ``decrease``: the factor a sign of trouble multiplies the rate by
    (between 0 and 1); ``increase``: submissions per second added back per second of normal
    answers; ``latency_factor``: a reply this many times slower than the running average counts
    as trouble; ``hold_seconds``: the least time between two cuts.
    """

    max_rate: float = field(default=DEFAULT_RATE_LIMIT, validator=_positive("max_rate"))
    min_rate: float = field(default=0.1, validator=_positive("min_rate"))
    decrease: float = field(default=0.5, validator=_positive("decrease"))
    increase: float = field(default=0.5, validator=_positive("increase"))
    latency_factor: float = field(default=3.0, validator=_positive("latency_factor"))
    hold_seconds: float = field(default=1.0, validator=_positive("hold_seconds"))

    def __attrs_post_init__(self) -> None:
        if self.decrease >= 1:
            raise ConfigurationError("submission_flow: decrease must be below 1")
        if self.min_rate > self.max_rate:
            raise ConfigurationError("submission_flow: min_rate must not exceed max_rate")
        if self.latency_factor <= 1:
            raise ConfigurationError("submission_flow: latency_factor must be above 1")


#: Replies seen before a slow one may count as trouble (the average needs something to stand on).
_WARM_UP = 5
#: Weight of the newest reply in the running average of latency.
_SMOOTHING = 0.2


class AimdRate:
    """The AIMD state machine over times in seconds (any monotonic origin). Thread-safe."""

    def __init__(self, config: SubmissionFlow) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._rate = config.max_rate
        self._next_at: float | None = None
        self._grown_at: float | None = None
        self._cut_at: float | None = None
        self._latency: float | None = None
        self._replies = 0
        self.sent = 0
        self.cuts = 0

    @property
    def rate(self) -> float:
        """The submission rate allowed now (per second)."""
        with self._lock:
            return self._rate

    def reserve(self, now: float) -> float:
        """Take the next submission slot; the seconds to wait before sending."""
        with self._lock:
            self._grow(now)
            start = now if self._next_at is None or self._next_at < now else self._next_at
            self._next_at = start + 1.0 / self._rate
            self.sent += 1
            return start - now

    def _grow(self, now: float) -> None:
        if self._grown_at is not None and now > self._grown_at:
            grown = self._rate + self.config.increase * (now - self._grown_at)
            self._rate = min(self.config.max_rate, grown)
        self._grown_at = now

    def succeeded(self, now: float, latency: float) -> None:
        """A submission came back after ``latency`` seconds."""
        with self._lock:
            slow = (
                self._latency is not None
                and self._replies >= _WARM_UP
                and latency > self.config.latency_factor * self._latency
            )
            self._replies += 1
            if self._latency is None:
                self._latency = latency
            elif not slow:
                self._latency += _SMOOTHING * (latency - self._latency)
            if slow:
                self._cut(now)

    def struggled(self, now: float) -> None:
        """Prima refused a submission for now, or did not answer it."""
        with self._lock:
            self._cut(now)

    def _cut(self, now: float) -> None:
        if self._cut_at is not None and now - self._cut_at < self.config.hold_seconds:
            return
        self._grow(now)
        self._rate = max(self.config.min_rate, self._rate * self.config.decrease)
        self._cut_at = now
        self.cuts += 1
        if self._next_at is not None:
            # the slot already handed out stays, the ones after it follow the new rate
            self._next_at = max(self._next_at, now + 1.0 / self._rate)


class _Paced:
    def __init__(self, inner: PrimaGateway, rate: AimdRate, clock: Clock) -> None:
        self._inner = inner
        self._rate = rate
        self._clock = clock
        self._origin = clock.now()

    def _seconds(self) -> float:
        return (self._clock.now() - self._origin).total_seconds()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def submit_orders(self, orders: Any) -> Any:
        wait = self._rate.reserve(self._seconds())
        if wait > 0:
            self._clock.sleep(wait)
        started = self._seconds()
        try:
            results = self._inner.submit_orders(orders)
        except PrimaUnavailableError:
            self._rate.struggled(self._seconds())
            raise
        now = self._seconds()
        self._rate.succeeded(now, now - started)
        return results


def paced(prima: PrimaGateway, rate: AimdRate, clock: Clock) -> PrimaGateway:
    """``prima`` with its order submissions paced by ``rate`` on ``clock`` (every other call goes
    straight through)."""
    return cast("PrimaGateway", _Paced(prima, rate, clock))
