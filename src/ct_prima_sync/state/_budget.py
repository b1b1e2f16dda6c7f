"""A request budget many workers share through the store: pure arithmetic over one row.

The budget is a token bucket (``rate`` requests per second, up to ``burst`` at once) kept as a
single time, the *theoretical arrival time* ``tat`` of the generic cell rate algorithm: each
request moves ``tat`` on by ``1 / rate``, and a request may go once ``tat`` is no more than
``(burst - 1) / rate`` ahead of now. Over any window of ``t`` seconds at most
``burst + rate * t`` requests get through, however many workers share the row.

Rules (every store applies these same functions, so they agree by construction):

1. A request *reserves* its moment under the row's lock and then waits outside it (the caller
   sleeps), so workers never wake together and overshoot.
2. ``headroom`` tokens (at most ``burst - 1``) are kept back from the request: a low-priority
   request (dispatch polling, stock reads) waits until the bucket holds ``headroom`` tokens more
   than it needs, so order submissions, which ask with none, go first whenever the budget is
   contended.
3. A request that would wait longer than ``max_wait`` reserves nothing and gets ``None``.
4. A pause (Prima's ``Retry-After``) pushes ``tat`` so that nothing goes before it ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..errors import ConfigurationError

__all__ = ["check_budget", "pause", "reserve"]

#: Times are kept to the microsecond: a wait this much over ``max_wait`` is rounding, not a wait.
_ROUNDING = 2e-6


def check_budget(rate: float, burst: int, headroom: float = 0) -> None:
    """Refuse a budget that cannot let anything through."""
    if not rate > 0:
        raise ConfigurationError("rate must be a positive number of requests per second")
    if burst < 1:
        raise ConfigurationError("burst must be at least 1")
    if headroom < 0:
        raise ConfigurationError("headroom must not be negative")


def reserve(
    tat: datetime | None,
    now: datetime,
    *,
    rate: float,
    burst: int,
    headroom: float = 0,
    max_wait: float | None = None,
) -> tuple[float | None, datetime | None]:
    """(seconds to wait before sending, the new ``tat``) for one request at ``now``; (None, the
    old ``tat``) when the wait would exceed ``max_wait``. ``tat`` None: the budget is unused."""
    interval = 1.0 / rate
    start = now if tat is None or tat < now else tat
    kept = min(headroom, burst - 1)  # a bucket of one token has none to keep back
    earliest = start - timedelta(seconds=(burst - 1 - kept) * interval)
    wait = max((earliest - now).total_seconds(), 0.0)
    if max_wait is not None and wait > max_wait + _ROUNDING:
        return None, tat
    return wait, start + timedelta(seconds=interval)


def pause(
    tat: datetime | None, now: datetime, *, seconds: float, rate: float, burst: int
) -> datetime | None:
    """The ``tat`` after a pause of ``seconds`` from ``now``: the next request goes no sooner."""
    if seconds <= 0:
        return tat
    held = now + timedelta(seconds=seconds + (burst - 1) / rate)
    return held if tat is None or tat < held else tat
