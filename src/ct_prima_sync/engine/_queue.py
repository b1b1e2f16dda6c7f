"""The exception queue over a state store alone (no network).

The engine's methods and the ``exceptions`` / ``retry`` / ``resolve`` commands both use these,
so that people can work the queue without credentials for either system (the health report is
in ``_health``).
"""

from __future__ import annotations

from datetime import datetime

from ..state import ExceptionFilter, ExceptionRecord, OrderStatus, Owner, StateStore

__all__ = ["list_exceptions", "replay_exceptions"]


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
