"""A request budget many workers share through the store: pure arithmetic over two rows.

The budget is a token bucket (``rate`` requests per second, up to ``burst`` at once) kept as a
single time, the *theoretical arrival time* ``tat`` of the generic cell rate algorithm: each
request moves ``tat`` on by ``1 / rate``, and a request may go once ``tat`` is no more than
``(burst - 1) / rate`` ahead of now. Over any window of ``t`` seconds at most
``burst + rate * t`` requests get through, however many workers share the row.

Rules (every store applies these same functions, so they agree by construction):

1. A request *reserves* its moment in one atomic step and then waits outside it (the caller
   sleeps), so workers never wake together and overshoot.
2. ``headroom`` tokens (at most ``burst - 1``) are kept back from the request: a low-priority
   request (dispatch polling, stock reads) waits until the bucket holds ``headroom`` tokens more
   than it needs, so order submissions, which ask with none, go first whenever the budget is
   contended.
3. A request that would wait longer than ``max_wait`` reserves nothing and gets ``None``.
4. A pause (Prima's ``Retry-After``) pushes both cells' ``tat`` so that nothing goes, nor leaves
   after an earlier reservation, before it ends.
5. A request is counted again as it *leaves* (``depart``), in a second cell of the same rate and
   burst: a caller held up after its moment came (a garbage collection, a process descheduled
   on a busy machine) waits there for a token rather than leave together with the requests of
   the next moments, so the bound above holds for the moments requests actually leave.

Each step is one statement for the SQL stores: the new ``tat`` is ``max(tat, now) + 1 / rate``,
and a step is refused when the old ``tat`` is past a limit (``reserve_limit``,
``departure_limit``); the caller's wait follows from the new ``tat`` alone (``reserved_wait``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..errors import ConfigurationError

__all__ = [
    "check_budget",
    "depart",
    "departure_limit",
    "departure_wait",
    "next_tat",
    "pause",
    "reserve",
    "reserve_limit",
    "reserved_wait",
]

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


def _ahead(rate: float, burst: int, headroom: float) -> float:
    """How far ahead of now ``tat`` may be for a request that keeps ``headroom`` back to go now."""
    kept = min(headroom, burst - 1)  # a bucket of one token has none to keep back
    return (burst - 1 - kept) / rate


def reserve_limit(
    now: datetime, *, rate: float, burst: int, headroom: float = 0, max_wait: float | None = None
) -> datetime | None:
    """The latest ``tat`` at which a request at ``now`` still reserves its moment (it waits no
    longer than ``max_wait``); None: any ``tat`` (no ``max_wait``)."""
    if max_wait is None:
        return None
    return now + timedelta(seconds=_ahead(rate, burst, headroom) + max_wait + _ROUNDING)


def reserved_wait(
    new_tat: datetime, now: datetime, *, rate: float, burst: int, headroom: float = 0
) -> float:
    """The seconds a request at ``now`` waits for the moment it reserved, from the ``tat`` its
    reservation left (``max(tat, now) + 1 / rate``)."""
    start = new_tat - timedelta(seconds=1.0 / rate)
    earliest = start - timedelta(seconds=_ahead(rate, burst, headroom))
    return max((earliest - now).total_seconds(), 0.0)


def next_tat(tat: datetime | None, now: datetime, *, rate: float) -> datetime:
    """The ``tat`` after one more request at ``now``."""
    start = now if tat is None or tat < now else tat
    return start + timedelta(seconds=1.0 / rate)


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
    limit = reserve_limit(now, rate=rate, burst=burst, headroom=headroom, max_wait=max_wait)
    if tat is not None and limit is not None and tat > limit:
        return None, tat
    new_tat = next_tat(tat, now, rate=rate)
    return reserved_wait(new_tat, now, rate=rate, burst=burst, headroom=headroom), new_tat


def departure_limit(now: datetime, *, rate: float, burst: int) -> datetime:
    """The latest departure ``tat`` at which a request may leave at ``now``."""
    return now + timedelta(seconds=(burst - 1) / rate + _ROUNDING)


def departure_wait(tat: datetime, now: datetime, *, rate: float, burst: int) -> float:
    """The seconds until a request refused at ``now`` (departure ``tat``) may leave."""
    ahead = (tat - now).total_seconds() - (burst - 1) / rate
    return max(ahead, _ROUNDING)


def depart(
    tat: datetime | None, now: datetime, *, rate: float, burst: int
) -> tuple[float, datetime | None]:
    """(0.0, the new departure ``tat``) when a request may leave at ``now``; (the seconds until
    it may, the old ``tat``) when the requests that left before it used the bucket up."""
    if tat is not None and tat > departure_limit(now, rate=rate, burst=burst):
        return departure_wait(tat, now, rate=rate, burst=burst), tat
    return 0.0, next_tat(tat, now, rate=rate)


def pause(
    tat: datetime | None, now: datetime, *, seconds: float, rate: float, burst: int
) -> datetime | None:
    """The ``tat`` after a pause of ``seconds`` from ``now``: the next request goes no sooner."""
    if seconds <= 0:
        return tat
    held = now + timedelta(seconds=seconds + (burst - 1) / rate)
    return held if tat is None or tat < held else tat
