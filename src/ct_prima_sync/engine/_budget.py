"""One Prima request budget for every worker and every flow, kept in the state store.

The omlink client's own limiter (:class:`~ct_prima_sync.prima.FlowControl`) counts the requests
of one process: four workers with a budget of 5 per second send 20. :class:`SharedBudget` plugs
in behind the same interface and keeps the rate limit and the concurrency cap in the store
(PostgreSQL for workers on many machines, SQLite for processes on one), so the budget holds
however many workers run:

- the rate limit is one row per budget (``StateStore.reserve_request``): each request reserves
  its moment under the row's lock, then waits outside it until that moment; a request held up
  past it by more than half an interval and more than 20 ms (its worker paused by a busy
  machine) gives the moment up and reserves again instead of leaving together with the requests
  of the next moments (the client's own limiter counts departures for the same reason);
- the concurrency cap is ``max_concurrency`` lease rows (``StateStore.try_lock``), each held for
  the length of one request and expiring on their own if a worker dies holding one; a request
  that may not go first holds none while it waits for the rate, and with a cap of two or more
  one row is kept for those that go first;
- order submission goes first, by *flow* (:class:`~ct_prima_sync.prima.RequestFlow`, which
  the engine's flows attach to their calls: :func:`~ct_prima_sync.prima.for_flow`): a request
  of a flow in ``priority_flows`` (the order flow: its ``MultiNewOrder``, its customer searches
  and creations, its ``OrderStatus`` checks) reserves the next moment and waits its turn; any
  other (dispatch polling with its own ``OrderStatus`` and ``DespatchDetails``, stock reads,
  journal postings) only goes when the bucket holds ``headroom`` tokens more than it needs, and
  never reserves more than one interval ahead, so it can never make a submission queue behind
  it. A request no flow claims is judged by its type (``priority_requests``);
- with ``adaptive`` (``[engine.submission_flow]``), the rate is not fixed: it is an AIMD rate
  kept in the store (:class:`~ct_prima_sync.engine.SharedRate`) that a 429, a 503, a timeout
  or a reply much slower than usual, seen by any worker, cuts for every worker, and that grows
  back while Prima answers normally.

What leaves for Prima with N workers: at most ``burst + rate * t`` requests in any ``t`` seconds,
for any N (the rate being the adaptive one when it is lower), and at most ``max_concurrency``
at once. Prima sees them after the network's delays (and those of a machine that holds a worker
between leaving and sending): where its gateway allows no more than the same figures, set
``burst`` a request or two under what it allows.

:func:`request_budget` picks the limiter for a store: the shared one for SQL stores, the client's
in-process limiter for the memory store (one process; nothing to share).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

from ..errors import ConfigurationError
from ..prima import (
    ConcurrencyLimiter,
    FlowControl,
    OmlinkClient,
    OmlinkConfig,
    PrimaGateway,
    RateLimiter,
    RequestFlow,
    current_request_flow,
)
from ..state import MemoryStore, StateStore
from ._adaptive import SharedRate, SubmissionFlow
from ._clock import Clock, SystemClock

__all__ = ["SharedBudget", "request_budget", "shared_budget_of"]

_log = logging.getLogger("ct_prima_sync.engine")

#: How long a request may hold a concurrency slot before it counts as abandoned (a worker that
#: died mid-request), unless the client's timeouts say otherwise (:meth:`SharedBudget.for_omlink`).
DEFAULT_SLOT_SECONDS = 300.0
#: Added to a client's longest request when that sets how long a slot is held.
_SLOT_MARGIN = 5.0
#: A request this much past its reserved moment was held up (a paused worker), not slowed by its
#: round trips to the store; it reserves again (see ``SharedBudget._take_turn``).
_HELD_UP_SECONDS = 0.02
#: How often a request waiting for a concurrency slot, or a low-priority one, looks again.
DEFAULT_POLL_SECONDS = 0.05


class SharedBudget(FlowControl):
    """Prima's rate limit and concurrency cap, shared through ``store`` by every worker.

    ``rate`` requests per second, up to ``burst`` at once, at most ``max_concurrency`` in flight
    (``submit_request`` names the order submission's request type, for run summaries);
    requests of the flows in ``priority_flows`` go first, and of a request no flow claims, those
    whose type is in ``priority_requests`` (see the module docstring). ``adaptive``: the rate
    adapts to how Prima answers, for every worker at once (at most ``rate``). ``name`` keys the
    budget in the store: workers talking to one Prima installation must use the same name and
    the same figures. Time comes from ``clock`` (its ``sleep`` does the waiting).
    """

    def __init__(
        self,
        store: StateStore,
        *,
        rate: float,
        burst: int = 1,
        max_concurrency: int | None = None,
        priority_requests: frozenset[str] = frozenset(),
        priority_flows: frozenset[RequestFlow] = frozenset({RequestFlow.ORDERS}),
        headroom: float = 1.0,
        adaptive: SubmissionFlow | None = None,
        submit_request: str | None = None,
        name: str = "prima",
        clock: Clock | None = None,
        slot_seconds: float = DEFAULT_SLOT_SECONDS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        owner: str | None = None,
    ) -> None:
        super().__init__(None, None)
        if not rate > 0:
            raise ConfigurationError("rate_limit must be a positive number of requests per second")
        if burst < 1:
            raise ConfigurationError("burst must be at least 1")
        if max_concurrency is not None and max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        if headroom < 0:
            raise ConfigurationError("headroom must not be negative")
        self.store = store
        self.rate_limit = float(rate)
        self.burst = burst
        self.max_concurrency = max_concurrency
        self.priority_requests = priority_requests
        self.priority_flows = frozenset(RequestFlow(flow) for flow in priority_flows)
        self.headroom = headroom
        self.name = name
        self._clock = clock or SystemClock()
        self.slot_seconds = slot_seconds
        self._poll = poll_seconds
        self._owner = owner or uuid.uuid4().hex[:12]
        self.adaptive = adaptive
        self.shared_rate = (
            None
            if adaptive is None
            else SharedRate(store, name, adaptive, ceiling=self.rate_limit, clock=self._clock)
        )
        self._counted = threading.Lock()
        self.granted: Counter[str] = Counter()
        """Requests this process let through, by request type (for run summaries)."""
        self.held_up = 0
        """Requests of this process held up past their moment that gave it up and reserved
        again (a busy machine)."""
        self.submit_request = submit_request
        """The request type that submits orders (counted as submissions in run summaries)."""

    def __repr__(self) -> str:
        return (
            f"SharedBudget(name={self.name!r}, rate={self.rate_limit}, burst={self.burst}, "
            f"max_concurrency={self.max_concurrency})"
        )

    @property
    def current_rate(self) -> float:
        """The rate every worker's requests share now: ``rate_limit``, or the adaptive rate
        when that is lower."""
        return self.rate_limit if self.shared_rate is None else self.shared_rate.rate()

    @classmethod
    def for_omlink(
        cls,
        store: StateStore,
        config: OmlinkConfig,
        *,
        adaptive: SubmissionFlow | None = None,
        clock: Clock | None = None,
    ) -> SharedBudget:
        """The budget of ``config`` (``rate_limit``, ``burst``, ``max_concurrency``), with the
        order flow first; a request no flow claims goes first when it is an order submission
        or a customer search or creation an order's submission waits for (``OrderStatus`` is
        not among them: dispatch polling sends it by the thousand). ``adaptive``: see the
        class. A concurrency slot left by a worker that died mid-request frees itself once the
        longest request the client allows (``max_wait + connect_timeout + read_timeout``) has
        passed."""
        names = config.schema.request_types
        longest = config.max_wait + config.connect_timeout + config.read_timeout
        return cls(
            store,
            rate=config.rate_limit,
            burst=config.burst,
            max_concurrency=config.max_concurrency,
            priority_requests=frozenset(
                {names.submit_orders, names.customer_find, names.customer_create}
            ),
            adaptive=adaptive,
            submit_request=names.submit_orders,
            clock=clock,
            slot_seconds=longest + _SLOT_MARGIN,
        )

    def submissions(self) -> int:
        """Order submissions this process let through so far."""
        with self._counted:
            return self.granted[self.submit_request or ""] if self.submit_request else 0

    def first(self, request_type: str | None) -> bool:
        """Whether a request of ``request_type`` made now goes first: by the flow it belongs
        to (:func:`~ct_prima_sync.prima.current_request_flow`), else by its type."""
        flow = current_request_flow()
        if flow is not None:
            return flow in self.priority_flows
        return request_type in self.priority_requests

    @contextlib.contextmanager
    def slot(
        self, max_wait: float | None = None, request_type: str | None = None
    ) -> Iterator[bool]:
        """Hold a slot of the shared budget for one request of ``request_type``; yields False
        when none came within ``max_wait`` seconds (nothing is held then)."""
        deadline = None if max_wait is None else self._clock.now() + timedelta(seconds=max_wait)
        owner = f"{self._owner}-{os.urandom(4).hex()}"  # as random as uuid4().hex[:8]
        lock = self._acquire(deadline, owner, self.first(request_type))
        if lock is None:
            yield False
            return
        try:
            with self._counted:
                self.granted[request_type or ""] += 1
            yield True
        finally:
            if isinstance(lock, str):
                self.store.unlock(lock, owner=owner)

    def _left(self, deadline: datetime | None) -> float | None:
        if deadline is None:
            return None
        return max((deadline - self._clock.now()).total_seconds(), 0.0)

    def _acquire(self, deadline: datetime | None, owner: str, priority: bool) -> str | bool | None:
        """A concurrency slot (its lock name; True if there is no cap) held once the rate lets
        the request go; None when that did not happen in time. A request that may not go first
        gives its concurrency slot back while it waits for the rate, so it never holds one a
        submission could use."""
        while True:
            lock = self._take_concurrency(deadline, owner, priority)
            if lock is False:
                return None
            rate = self.current_rate
            interval = 1.0 / rate
            if self._take_turn(deadline, rate, priority):
                return lock
            if isinstance(lock, str):
                self.store.unlock(lock, owner=owner)
            left = self._left(deadline)
            if priority or (left is not None and left <= interval):
                return None
            self._clock.sleep(interval if left is None else min(interval, left))

    def _take_turn(self, deadline: datetime | None, rate: float, priority: bool) -> bool:
        """Reserve the request's moment and sleep until it (not for the wait from when the store
        answered: the reservation's own round trip is not added to the wait); False when no
        moment came within what it may wait (a request that goes first: until ``deadline``;
        any other: one interval, keeping ``headroom`` back).

        A request held up past its moment by more than half an interval and more than
        ``_HELD_UP_SECONDS`` (its worker paused by a busy machine or a garbage collection, on
        the way to the store, in it or after it) gives the moment up and reserves again, as it
        did the first time, so it does not leave together with the requests of the next
        moments. The moment given up stays spent: the budget lets one fewer through, never one
        more."""
        interval = 1.0 / rate
        while True:
            left = self._left(deadline)
            horizon = left if priority else min(interval, left if left is not None else interval)
            asked = self._clock.now()
            wait = self.store.reserve_request(
                self.name,
                rate=rate,
                burst=self.burst,
                now=asked,
                headroom=0.0 if priority else self.headroom,
                max_wait=horizon,
            )
            if wait is None:
                return False
            moment = asked + timedelta(seconds=wait)
            answered = self._clock.now()
            if moment > answered:
                self._clock.sleep((moment - answered).total_seconds())
            held_up = (self._clock.now() - moment).total_seconds()
            if held_up <= max(0.5 * interval, _HELD_UP_SECONDS):
                return True
            with self._counted:
                self.held_up += 1
            _log.debug(
                "a Prima request held up %.0f ms past its moment reserves again", held_up * 1000
            )

    def _take_concurrency(
        self, deadline: datetime | None, owner: str, priority: bool
    ) -> str | bool:
        """The lock name of the concurrency slot taken, True if there is no cap, False if none
        freed up in time. With a cap of two or more, one slot is kept for the requests that go
        first."""
        if self.max_concurrency is None:
            return True
        slots = (
            self.max_concurrency
            if priority or self.max_concurrency == 1
            else (self.max_concurrency - 1)
        )
        first = random.randrange(slots)  # noqa: S311  (spreads contention only)
        while True:
            for i in range(slots):
                lock = f"{self.name}:in-flight:{(first + i) % slots}"
                if self.store.try_lock(
                    lock, owner=owner, ttl_seconds=self.slot_seconds, now=self._clock.now()
                ):
                    return lock
            left = self._left(deadline)
            if left is not None and left <= 0:
                return False
            self._clock.sleep(self._poll if left is None else min(self._poll, left))

    def pause(self, seconds: float) -> None:
        """Hold every worker's later requests back for ``seconds`` (Prima's Retry-After)."""
        self.store.pause_requests(
            self.name,
            seconds=seconds,
            rate=self.current_rate,
            burst=self.burst,
            now=self._clock.now(),
        )

    def observe(self, request_type: str, *, seconds: float, struggled: bool) -> None:
        """With ``adaptive``: a 429, 503, timeout or unusually slow reply cuts the shared rate
        for every worker. A store that fails here is logged, never raised: the request's own
        outcome (perhaps an ambiguous submission) is what the caller must see."""
        if self.shared_rate is None:
            return
        try:
            self.shared_rate.observe(request_type, seconds=seconds, struggled=struggled)
        except Exception:
            _log.exception("could not record how Prima answered in the shared budget")


def request_budget(
    store: StateStore,
    config: OmlinkConfig,
    *,
    adaptive: SubmissionFlow | None = None,
    clock: Clock | None = None,
) -> FlowControl:
    """The limiter an :class:`~ct_prima_sync.prima.OmlinkClient` on ``store`` should use
    (``OmlinkClient(config, flow=request_budget(store, config))``): shared through the store for
    SQLite and PostgreSQL, the client's own in-process limiter for the memory store.
    ``adaptive`` (``EngineConfig.submission_flow``) makes a shared budget's rate adapt for every
    worker; on the memory store the engine adapts its own submissions instead."""
    if isinstance(store, MemoryStore):
        return FlowControl(
            RateLimiter(config.rate_limit, config.burst),
            ConcurrencyLimiter(config.max_concurrency),
        )
    return SharedBudget.for_omlink(store, config, adaptive=adaptive, clock=clock)


def client_rate_limit(prima: PrimaGateway) -> float | None:
    """The rate limit the requests of ``prima`` are held to: its shared budget's, else its omlink
    client's own ``rate_limit`` (looking through wrapping gateways); None for other gateways."""
    budget = shared_budget_of(prima)
    if budget is not None:
        return budget.rate_limit
    while isinstance(getattr(prima, "wrapped", None), PrimaGateway):
        prima = prima.wrapped  # type: ignore[attr-defined]
    return prima.config.rate_limit if isinstance(prima, OmlinkClient) else None


def shared_budget_of(prima: PrimaGateway) -> SharedBudget | None:
    """The shared budget the requests of ``prima`` go through (looking through gateways that
    wrap another, as the go-live and flow views do), or None."""
    while isinstance(getattr(prima, "wrapped", None), PrimaGateway):
        prima = prima.wrapped  # type: ignore[attr-defined]
    if isinstance(prima, OmlinkClient) and isinstance(prima.flow, SharedBudget):
        return prima.flow
    return None
