"""Which flow a Prima request belongs to, so a shared budget can put order submission first.

The same request type serves several flows (``OrderStatus`` is both the order flow's check
before a re-send and the dispatch flow's poll), so the request type alone cannot say what may
wait. Each flow's calls carry their flow instead:

- :func:`for_flow` is a view of a :class:`~ct_prima_sync.prima.PrimaGateway` whose every call
  (and every item of an iterator it returns) runs as ``flow``; the engine gives each of its flows
  such a view, so the flow travels with the call into whichever thread makes it;
- :func:`request_flow` marks the calls made in a ``with`` block, for a host calling a client
  directly;
- :func:`current_request_flow` is what a limiter reads (None: no flow said what it is).

Nothing here changes what is sent: the flow is known to this process only.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
from collections.abc import Callable, Iterator
from typing import Any, cast

from ._gateway import PrimaGateway

__all__ = ["RequestFlow", "current_request_flow", "for_flow", "request_flow"]


class RequestFlow(enum.StrEnum):
    """The flows that send requests to Prima; :data:`ORDERS` goes first in a shared budget."""

    ORDERS = "orders"
    """Order submission and what it waits for: customer searches and creations, the status
    checks that resolve an ambiguous submission, the checks after a restore."""
    DISPATCH = "dispatch"
    """Dispatch polling (``OrderStatus``, ``DespatchDetails``) and the changes it passes on."""
    STOCK = "stock"
    """Stock reads (``ProductAvailableToSell``, ``MultiAvailableToSell``)."""
    POSTINGS = "postings"
    """Journal postings of the finance flow."""
    RECONCILE = "reconcile"
    """Reconciliation's and the go-live report's questions about orders."""


_CURRENT: contextvars.ContextVar[RequestFlow | None] = contextvars.ContextVar(
    "ct_prima_sync_request_flow", default=None
)


def current_request_flow() -> RequestFlow | None:
    """The flow the request being made now belongs to; None when none was said."""
    return _CURRENT.get()


@contextlib.contextmanager
def request_flow(flow: RequestFlow) -> Iterator[None]:
    """Requests made in this block (in this thread or task) belong to ``flow``."""
    token = _CURRENT.set(RequestFlow(flow))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _iterate_as(flow: RequestFlow, items: Iterator[Any]) -> Iterator[Any]:
    """``items``, each fetched as ``flow`` (a lazy iterator sends its requests as it goes)."""
    while True:
        with request_flow(flow):
            try:
                item = next(items)
            except StopIteration:
                return
        yield item


class _FlowView:
    def __init__(self, inner: PrimaGateway, flow: RequestFlow) -> None:
        self._inner = inner
        self._flow = flow

    @property
    def wrapped(self) -> PrimaGateway:
        """The gateway this view calls (its timeouts and budget are this view's)."""
        return self._inner

    def __repr__(self) -> str:
        return f"for_flow({self._inner!r}, {str(self._flow)!r})"

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            return value
        method = cast("Callable[..., Any]", value)

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            with request_flow(self._flow):
                result = method(*args, **kwargs)
            if isinstance(result, Iterator):
                return _iterate_as(self._flow, result)
            return result

        return call


def for_flow(prima: PrimaGateway, flow: RequestFlow) -> PrimaGateway:
    """``prima`` with every request it sends marked as ``flow`` (:func:`current_request_flow`),
    whichever thread calls it; everything else is ``prima``'s own."""
    return cast("PrimaGateway", _FlowView(prima, RequestFlow(flow)))
