"""The exception queue and the health report, over a state store alone (no network).

The engine's methods and the ``exceptions`` / ``retry`` / ``resolve`` / ``health`` commands both
use these, so that people can work the queue without credentials for either system.
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from ..state import ExceptionFilter, ExceptionRecord, OrderStatus, Owner, StateStore

__all__ = ["HealthReport", "health_report", "list_exceptions", "replay_exceptions"]


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


@frozen(kw_only=True)
class HealthReport:
    """The state of the order flow at a glance, for monitoring and the ``health`` command.

    ``ok`` is False when an exception has been open longer than the escalation age.
    """

    orders_by_status: dict[str, int]
    open_exceptions_by_owner: dict[str, int]
    oldest_open_exception_seconds: float | None
    overdue_exceptions: int
    cursor: str | None

    @property
    def ok(self) -> bool:
        """True when nothing needs a person's attention urgently."""
        return self.overdue_exceptions == 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-able form."""
        return {
            "ok": self.ok,
            "orders_by_status": self.orders_by_status,
            "open_exceptions_by_owner": self.open_exceptions_by_owner,
            "oldest_open_exception_seconds": self.oldest_open_exception_seconds,
            "overdue_exceptions": self.overdue_exceptions,
            "cursor": self.cursor,
        }


def health_report(
    store: StateStore, *, now: datetime, escalate_after_seconds: float, cursor_name: str
) -> HealthReport:
    """Counts by ledger status, open exceptions by owner, how old the oldest is."""
    open_records = store.list_exceptions(ExceptionFilter())
    by_owner: dict[str, int] = {str(o): 0 for o in Owner}
    for record in open_records:
        by_owner[str(record.owner)] += 1
    ages = [(now - r.first_seen).total_seconds() for r in open_records]
    cursor = store.get_cursor(cursor_name)
    return HealthReport(
        orders_by_status={str(k): v for k, v in store.count_orders_by_status().items()},
        open_exceptions_by_owner=by_owner,
        oldest_open_exception_seconds=max(ages) if ages else None,
        overdue_exceptions=sum(age >= escalate_after_seconds for age in ages),
        cursor=cursor.value if cursor else None,
    )
