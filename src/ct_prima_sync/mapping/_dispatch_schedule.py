"""Which orders to ask Prima about next (pure): backoff by age, a budget per run, batches.

Rules (docs/dispatch.md, "How often Prima is asked"):

1. After a check at ``t`` of an order Prima accepted at ``a``, the next is due at
   ``t + interval(t - a)`` (``CheckSchedule.interval``): a fresh order on every run, an old one
   rarely. A new order is due at once.
2. A run asks about at most ``max_checks_per_run`` due orders: the most overdue first, then the
   oldest, then by order id (so a run that cannot do everything does the most urgent, and ties
   never depend on the store). What is left is deferred to the next run, still due.
3. The chosen orders are worked in batches of ``batch_size``.

With a budget at least as large as the orders coming due between two runs, every order is asked
about within its interval plus one run's spacing; the tests simulate 10,000 orders to hold the
flow to that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from attrs import frozen

from ._dispatch_config import CheckSchedule

__all__ = ["CheckCandidate", "CheckPlan", "next_check_at", "plan_checks"]


class _Schedulable(Protocol):
    @property
    def order_id(self) -> str: ...

    @property
    def accepted_at(self) -> datetime: ...

    @property
    def next_check_at(self) -> datetime | None: ...


@frozen(kw_only=True)
class CheckCandidate:
    """An order that may be due for a status check (a despatch record has the same fields)."""

    order_id: str
    accepted_at: datetime
    next_check_at: datetime | None


@frozen(kw_only=True)
class CheckPlan:
    """The orders to ask about in this run, in order and in batches, and how many due orders the
    budget left for the next run."""

    order_ids: tuple[str, ...]
    batches: tuple[tuple[str, ...], ...]
    deferred: int


def next_check_at(
    *, accepted_at: datetime, checked_at: datetime, schedule: CheckSchedule
) -> datetime:
    """When an order checked at ``checked_at`` is next due (rule 1)."""
    return checked_at + schedule.interval(checked_at - accepted_at)


def plan_checks(
    candidates: Iterable[_Schedulable], *, now: datetime, schedule: CheckSchedule
) -> CheckPlan:
    """The due candidates to ask about now, within the run's budget (rules 2 and 3).

    Candidates without a ``next_check_at`` (finished orders) are never due.
    """
    due = sorted(
        (c for c in candidates if c.next_check_at is not None and c.next_check_at <= now),
        key=lambda c: (c.next_check_at, c.accepted_at, c.order_id),
    )
    chosen = tuple(c.order_id for c in due[: schedule.max_checks_per_run])
    size = schedule.batch_size
    return CheckPlan(
        order_ids=chosen,
        batches=tuple(chosen[i : i + size] for i in range(0, len(chosen), size)),
        deferred=len(due) - len(chosen),
    )
