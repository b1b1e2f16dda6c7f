"""The exception queue over a state store alone (no network).

The engine's methods and the ``exceptions`` / ``retry`` / ``resolve`` commands both use these,
so that people can work the queue without credentials for either system (the health report is
in ``_health``).
"""

from __future__ import annotations

from datetime import datetime

from ..errors import StateError
from ..state import ExceptionFilter, ExceptionRecord, OrderStatus, Owner, StateStore

__all__ = ["list_exceptions", "replay_exceptions", "resolve_finished_exceptions"]


def list_exceptions(
    store: StateStore,
    *,
    owner: Owner | None = None,
    kind: str | None = None,
    order_id: str | None = None,
    include_resolved: bool = False,
) -> list[ExceptionRecord]:
    """The exception queue, filtered (open ones only unless ``include_resolved``)."""
    return store.list_exceptions(
        ExceptionFilter(open_only=not include_resolved, owner=owner, kind=kind, order_id=order_id)
    )


def replay_exceptions(
    store: StateStore,
    *,
    now: datetime,
    order_id: str | None = None,
    kind: str | None = None,
    owner: Owner | None = None,
) -> int:
    """Send the orders behind matching open exceptions back to the backlog (after a fix); the next
    run processes them. Orders already in Prima are asked about on the next dispatch run instead.
    Returns how many orders moved. Safe to repeat: an order Prima already has is recognised,
    never sent twice, and a delivery already in commercetools is never written again."""
    where = ExceptionFilter(order_id=order_id, kind=kind, owner=owner)
    store.mark_for_replay(where, now=now)
    requeued = 0
    followed: list[str] = []
    for order in sorted({r.order_id for r in store.list_exceptions(where) if r.order_id}):
        record = store.get_order(order)
        if record is not None and record.status in (OrderStatus.EXCEPTED, OrderStatus.FAILED):
            store.requeue_order(order, now=now)
            requeued += 1
        elif record is not None and record.prima_reference is not None:
            followed.append(order)
    return requeued + (store.make_dispatch_due(followed, now=now) if followed else 0)


#: The note on exceptions closed because their order finished in Prima.
FINISHED_NOTE = "resolved automatically: the order is in Prima and written back"


def resolve_finished_exceptions(store: StateStore, *, now: datetime) -> int:
    """Resolve open exceptions of orders that are done (in Prima and written back); returns how
    many. Every run does this first: a worker that died between finishing an order and closing
    its exceptions left them open, and nobody must be alerted about an order that is fine."""
    resolved = 0
    finished: dict[str, bool] = {}
    for record in store.list_exceptions(ExceptionFilter()):
        order_id = record.order_id
        if order_id is None or not _belongs_to_order_flow(record):
            continue
        if order_id not in finished:
            order = store.get_order(order_id)
            finished[order_id] = order is not None and order.status is OrderStatus.DONE
        if finished[order_id] and _resolve_if_open(store, record.exception_id, now):
            resolved += 1
    return resolved


def _belongs_to_order_flow(record: ExceptionRecord) -> bool:
    """Whether the order flow raised this exception. Other flows (dispatch, postings) raise theirs
    on orders that are done in the order ledger and mark them with ``detail["flow"]``: an order
    being in Prima settles nothing for them."""
    flow = record.detail.get("flow") if isinstance(record.detail, dict) else None
    return flow in (None, "orders")


def _resolve_if_open(store: StateStore, exception_id: int, now: datetime) -> bool:
    """Resolve an exception another worker may be resolving at the same moment."""
    try:
        store.resolve_exception(exception_id, note=FINISHED_NOTE, now=now)
    except StateError:
        current = store.get_exception(exception_id)
        if current is None or current.is_open:
            raise
        return False
    return True
