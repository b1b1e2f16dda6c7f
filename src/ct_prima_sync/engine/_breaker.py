"""The circuit breaker of an order run: a dead Prima or commercetools stops the run in seconds.

Rules, in the order a run meets them:

1. Every order's outcome is observed. An order that ends "unavailable" (``PRIMA_UNAVAILABLE`` or
   ``PRIMA_AMBIGUOUS`` for Prima, ``CT_UNAVAILABLE`` for commercetools) counts one failure of its
   system; an order that reached Prima (posted, already there) resets both counts. Orders that
   never spoke to either system (mapping issues) change nothing, nor does an order put off only
   because its last submission may still be on its way, after Prima answered its status check
   (``OrderFlow.took_answer``): Prima is answering.
   The orders of one batched request count once, as that one request: a single failed
   ``MultiNewOrder`` of 25 orders is one failure of Prima, not 25 (``observe_request``).
2. After ``threshold`` consecutive failures of one system the breaker trips: the run claims no
   more orders and the orders claimed but not started are released at once (no lease to wait for).
3. The outage becomes ONE open exception of the system's kind with no order attached, counting
   the orders waiting; a later run during the same outage adds an occurrence to it. The per-order
   exceptions of the failures that tripped the breaker are resolved into it, and those orders go
   straight back to the backlog: an order whose submission may have reached Prima keeps its
   "submission started" mark, so the next run asks Prima before sending it again.
4. A run in which Prima (or commercetools) answered again resolves the open outage exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final, cast

from ..errors import PrimaUnavailableError
from ..prima import PrimaGateway
from ..state import ExceptionFilter, ExceptionRecord, Owner, StateStore
from ._order_flow import Outcome
from ._problems import ProblemKind

__all__ = ["CircuitBreaker", "guarded", "record_outage", "resolve_outages"]

_FAILURE_KINDS: Final = {
    ProblemKind.PRIMA_UNAVAILABLE.value: ProblemKind.PRIMA_UNAVAILABLE,
    ProblemKind.PRIMA_AMBIGUOUS.value: ProblemKind.PRIMA_UNAVAILABLE,
    ProblemKind.CT_UNAVAILABLE.value: ProblemKind.CT_UNAVAILABLE,
}
_SYSTEM: Final = {
    ProblemKind.PRIMA_UNAVAILABLE: "Prima",
    ProblemKind.CT_UNAVAILABLE: "commercetools",
}
_OWNER: Final = {
    ProblemKind.PRIMA_UNAVAILABLE: Owner.OPERATIONS,
    ProblemKind.CT_UNAVAILABLE: Owner.ECOMMERCE,
}


class CircuitBreaker:
    """Counts consecutive "unavailable" order outcomes per system; thread-safe."""

    def __init__(self, threshold: int) -> None:
        self._threshold = threshold
        self._lock = threading.Lock()
        self._streaks: dict[ProblemKind, list[str]] = {k: [] for k in _SYSTEM}
        self._failures: dict[ProblemKind, int] = dict.fromkeys(_SYSTEM, 0)
        self._answered: set[ProblemKind] = set()
        self.tripped: ProblemKind | None = None

    def observe(self, order_id: str, outcome: Outcome, error_kind: str | None) -> None:
        """Take one order's outcome (``error_kind``: the ledger's error for a retried order)."""
        self.observe_request([(order_id, outcome, error_kind)])

    def observe_request(self, outcomes: Iterable[tuple[str, Outcome, str | None]]) -> None:
        """Take the outcomes of the orders of one request, as :meth:`observe` takes one's: any
        order that reached Prima resets the counts; the failures count once per system."""
        outcomes = list(outcomes)
        with self._lock:
            if any(o in (Outcome.POSTED, Outcome.ALREADY_IN_PRIMA) for _, o, _e in outcomes):
                for kind, streak in self._streaks.items():
                    streak.clear()
                    self._failures[kind] = 0
                    self._answered.add(kind)
                return
            failed: set[ProblemKind] = set()
            for order_id, outcome, error_kind in outcomes:
                system = (
                    _FAILURE_KINDS.get(error_kind or "") if outcome is Outcome.RETRYING else None
                )
                if system is not None:
                    self._streaks[system].append(order_id)
                    failed.add(system)
            for system in failed:
                self._failures[system] += 1
                if self.tripped is None and self._failures[system] >= self._threshold:
                    self.tripped = system

    def streak(self, kind: ProblemKind) -> list[str]:
        """The orders of the current run of failures of ``kind``'s system."""
        with self._lock:
            return list(self._streaks[kind])

    def answered(self, kind: ProblemKind) -> bool:
        """True when ``kind``'s system took an order in this run."""
        with self._lock:
            return kind in self._answered


class _Guard:
    def __init__(self, inner: PrimaGateway, is_open: Callable[[], bool]) -> None:
        self._inner = inner
        self._is_open = is_open

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._is_open():
                raise PrimaUnavailableError(
                    "not sent: Prima stopped answering and the run is stopping",
                    may_have_been_applied=False,
                )
            return method(*args, **kwargs)

        return call


def guarded(prima: PrimaGateway, is_open: Callable[[], bool]) -> PrimaGateway:
    """``prima``, refusing every call (without sending it) while ``is_open()``: orders in hand
    when the breaker trips fail at once instead of each waiting for its own timeouts."""
    return cast("PrimaGateway", _Guard(prima, is_open))


def record_outage(
    store: StateStore,
    kind: ProblemKind,
    *,
    failed_orders: Iterable[str],
    orders_waiting: Callable[[], int],
    now: datetime,
) -> ExceptionRecord:
    """Record (or count again) the one open exception for an outage of ``kind``'s system; fold the
    per-order exceptions of ``failed_orders`` into it and put those orders back in the backlog."""
    failed = sorted(set(failed_orders))
    system = _SYSTEM[kind]
    folded: list[int] = []
    ambiguous = 0
    for order_id in failed:
        folded += [
            problem.exception_id
            for problem in store.list_exceptions(ExceptionFilter(order_id=order_id))
            if problem.transient and _FAILURE_KINDS.get(problem.kind) is kind
        ]
        record = store.get_order(order_id)
        if record is not None and record.status.value == "failed":
            store.requeue_order(order_id, now=now)
            ambiguous += record.ambiguous
    waiting = orders_waiting()
    message = (
        f"{system} did not answer {len(failed)} orders in a row; the run stopped. {waiting} "
        f"orders wait and go out on the first run after {system} is back"
    )
    if ambiguous:
        message += f" ({ambiguous} may have reached {system}: it is asked before any re-send)"
    outage = store.record_exception(
        kind=kind.value,
        owner=_OWNER[kind],
        detail={
            "message": message,
            "system": system,
            "consecutive_failures": len(failed),
            "orders_waiting": waiting,
            "possibly_applied": ambiguous,
        },
        now=now,
        transient=True,
    )
    for exception_id in folded:
        store.resolve_exception(
            exception_id,
            note=f"part of the {system} outage, exception #{outage.exception_id}",
            now=now,
        )
    return outage


def resolve_outages(store: StateStore, kind: ProblemKind, *, now: datetime) -> list[int]:
    """Close the open outage exception of ``kind``'s system (it answered again)."""
    closed = []
    for record in store.list_exceptions(ExceptionFilter(kind=kind.value)):
        if record.order_id is None:
            store.resolve_exception(
                record.exception_id, note=f"{_SYSTEM[kind]} answered again", now=now
            )
            closed.append(record.exception_id)
    return closed
