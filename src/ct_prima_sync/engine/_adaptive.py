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

**Shared by every worker.** With the shared request budget (``request_budget(store, config,
adaptive=...)``, as ``SyncEngine.from_settings`` and the command set it up) the rate is not one
process's: it is the rate of the whole budget, kept in the store (:class:`SharedRate`, the cursor
``<budget>:adaptive-rate``), so a 429 one worker sees slows every worker and every flow at once,
and they recover together. Growth needs no write (the rate is a function of the time since the
last cut); a cut is one cursor write, and two workers cutting at once write the same figure, so
the last writer winning costs nothing. Order submission keeps going first within the lowered
rate (the budget's priority by flow).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any, cast

from attrs import field, frozen

from ..errors import ConfigurationError, PrimaUnavailableError
from ..prima import PrimaGateway
from ..prima._config import DEFAULT_RATE_LIMIT
from ..state import StateStore
from ._clock import Clock

__all__ = ["AimdRate", "RateState", "SharedRate", "SubmissionFlow", "paced"]

_log = logging.getLogger("ct_prima_sync.engine")


def _positive(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if not value > 0:
            raise ConfigurationError(f"submission_flow: {name} must be positive")

    return check


def _positive_or_none(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: float | None) -> None:
        if value is not None and not value > 0:
            raise ConfigurationError(f"submission_flow: {name} must be positive")

    return check


def _not_negative(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if value < 0:
            raise ConfigurationError(f"submission_flow: {name} must not be negative")

    return check


@frozen(kw_only=True)
class SubmissionFlow:
    """How adaptive flow control paces order submissions (``[engine.submission_flow]``).

    ``max_rate``: the ceiling and the starting rate, in requests per second; unset (the default),
    the ceiling is the Prima client's ``rate_limit`` (the shared budget's, with a SQL store), so
    raising ``rate_limit`` raises it too; set, the ceiling is the lower of the two;
    ``min_rate``: the floor; ``decrease``: the factor a sign of trouble multiplies the rate by
    (between 0 and 1); ``increase``: submissions per second added back per second of normal
    answers; ``latency_factor``: a reply this many times slower than the running average counts
    as trouble, if it also took ``slow_seconds`` or more (the jitter of replies that come back
    in milliseconds is not trouble); ``hold_seconds``: the least time between two cuts.
    """

    max_rate: float | None = field(default=None, validator=_positive_or_none("max_rate"))
    min_rate: float = field(default=0.1, validator=_positive("min_rate"))
    decrease: float = field(default=0.5, validator=_positive("decrease"))
    increase: float = field(default=0.5, validator=_positive("increase"))
    latency_factor: float = field(default=3.0, validator=_positive("latency_factor"))
    hold_seconds: float = field(default=1.0, validator=_positive("hold_seconds"))
    slow_seconds: float = field(default=0.5, validator=_not_negative("slow_seconds"))

    def ceiling_under(self, rate_limit: float | None) -> float:
        """The highest rate under a client or budget ``rate_limit`` (None: not known, so
        ``max_rate``, or the omlink client's default rate limit)."""
        if rate_limit is None:
            return DEFAULT_RATE_LIMIT if self.max_rate is None else self.max_rate
        return rate_limit if self.max_rate is None else min(rate_limit, self.max_rate)

    def __attrs_post_init__(self) -> None:
        if self.decrease >= 1:
            raise ConfigurationError("submission_flow: decrease must be below 1")
        if self.max_rate is not None and self.min_rate > self.max_rate:
            raise ConfigurationError("submission_flow: min_rate must not exceed max_rate")
        if self.latency_factor <= 1:
            raise ConfigurationError("submission_flow: latency_factor must be above 1")


#: Replies seen before a slow one may count as trouble (the average needs something to stand on).
_WARM_UP = 5
#: Weight of the newest reply in the running average of latency.
_SMOOTHING = 0.2


class AimdRate:
    """The AIMD state machine over times in seconds (any monotonic origin). Thread-safe."""

    def __init__(self, config: SubmissionFlow, *, rate_limit: float | None = None) -> None:
        self.config = config
        self.ceiling = config.ceiling_under(rate_limit)
        """The highest rate: ``max_rate``, or the client's ``rate_limit`` if lower or unset."""
        self._lock = threading.Lock()
        self._rate = self.ceiling
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
            self._rate = min(self.ceiling, grown)
        self._grown_at = now

    def succeeded(self, now: float, latency: float) -> None:
        """A submission came back after ``latency`` seconds."""
        with self._lock:
            slow = (
                self._latency is not None
                and self._replies >= _WARM_UP
                and latency >= self.config.slow_seconds
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


# -- shared through the store --------------------------------------------------------------------


@frozen(kw_only=True)
class RateState:
    """The shared rate as the store keeps it: ``rate`` requests per second at ``since`` (the last
    cut), growing by ``increase`` per second from then on up to the ceiling; ``cut_at`` when it
    was last cut (None: never). Pure: :meth:`rate_at` and :meth:`cut` do the AIMD arithmetic."""

    rate: float
    since: datetime
    cut_at: datetime | None = None

    def rate_at(self, now: datetime, config: SubmissionFlow, ceiling: float) -> float:
        """The rate allowed at ``now``: what it was cut to, plus the growth since."""
        elapsed = max((now - self.since).total_seconds(), 0.0)
        return max(config.min_rate, min(ceiling, self.rate + config.increase * elapsed))

    @staticmethod
    def cut(
        state: RateState | None, now: datetime, config: SubmissionFlow, ceiling: float
    ) -> RateState | None:
        """The state after a sign of trouble at ``now``; None when the last cut is less than
        ``hold_seconds`` old (one cut per episode, however many workers report it)."""
        held = timedelta(seconds=config.hold_seconds)
        if state is not None and state.cut_at is not None and now - state.cut_at < held:
            return None
        current = ceiling if state is None else state.rate_at(now, config, ceiling)
        return RateState(
            rate=max(config.min_rate, current * config.decrease), since=now, cut_at=now
        )

    def dumps(self) -> str:
        """The cursor value."""
        return json.dumps(
            {
                "rate": self.rate,
                "since": self.since.isoformat(),
                "cut_at": None if self.cut_at is None else self.cut_at.isoformat(),
            }
        )

    @staticmethod
    def loads(value: str) -> RateState | None:
        """The state of a cursor value; None for one this version cannot read (it starts over
        at the ceiling, the state a budget starts in)."""
        try:
            raw = json.loads(value)
            cut_at = raw.get("cut_at")
            return RateState(
                rate=float(raw["rate"]),
                since=datetime.fromisoformat(raw["since"]),
                cut_at=None if cut_at is None else datetime.fromisoformat(cut_at),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


#: How long a worker uses the shared rate it read before reading it again (seconds).
DEFAULT_REFRESH_SECONDS = 0.25


class SharedRate:
    """The AIMD rate of the budget ``name``, shared by every worker through ``store``.

    ``ceiling``: the highest rate (the budget's ``rate_limit``, or ``config.max_rate`` if set and
    lower),
    which is also where an unused budget starts. Replies that came back ``latency_factor`` times
    slower than this process's running average for their request type count as trouble, like a
    429 or a 503 (:meth:`observe`). The rate read from the store is reused for
    ``refresh_seconds`` (a cut made here is seen here at once). Thread-safe.
    """

    def __init__(
        self,
        store: StateStore,
        name: str,
        config: SubmissionFlow,
        *,
        ceiling: float,
        clock: Clock,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
    ) -> None:
        self.store = store
        self.cursor = f"{name}:adaptive-rate"
        self.config = config
        self.ceiling = config.ceiling_under(ceiling)
        self._clock = clock
        self._refresh = timedelta(seconds=refresh_seconds)
        self._lock = threading.Lock()
        self._state: RateState | None = None
        self._read_at: datetime | None = None
        self._latency: dict[str, tuple[float, int]] = {}
        self.cuts = 0
        """Cuts this process made (the others' are in the store)."""

    def _current(self, now: datetime) -> RateState | None:
        if self._read_at is None or now - self._read_at >= self._refresh or now < self._read_at:
            cursor = self.store.get_cursor(self.cursor)
            self._state = None if cursor is None else RateState.loads(cursor.value)
            self._read_at = now
        return self._state

    def rate(self) -> float:
        """The rate every worker's requests share now (per second)."""
        now = self._clock.now()
        with self._lock:
            state = self._current(now)
        return self.ceiling if state is None else state.rate_at(now, self.config, self.ceiling)

    def observe(self, request_type: str, *, seconds: float, struggled: bool) -> None:
        """One request came back after ``seconds``; ``struggled``: Prima refused it for now or
        did not answer. A cut is written to the store for every worker."""
        with self._lock:
            average, replies = self._latency.get(request_type, (seconds, 0))
            slow = (
                replies >= _WARM_UP
                and seconds >= self.config.slow_seconds
                and seconds > self.config.latency_factor * average
            )
            if not slow and not struggled:
                average = seconds if replies == 0 else average + _SMOOTHING * (seconds - average)
            self._latency[request_type] = (average, replies + 1)
        if slow or struggled:
            self._cut()

    def _cut(self) -> None:
        now = self._clock.now()
        with self._lock:
            cursor = self.store.get_cursor(self.cursor)  # the freshest, whatever the cache says
            state = None if cursor is None else RateState.loads(cursor.value)
            cut = RateState.cut(state, now, self.config, self.ceiling)
            if cut is None:
                self._state, self._read_at = state, now
                return
            self.store.set_cursor(self.cursor, cut.dumps(), now=now)
            self._state, self._read_at = cut, now
            self.cuts += 1
        _log.warning(
            "Prima is struggling: the shared request rate is cut to %.2f per second",
            cut.rate,
            extra={"prima_rate": round(cut.rate, 3)},
        )
