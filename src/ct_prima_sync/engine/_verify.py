"""Before sending again what a restored state backup forgot: ask Prima first.

A backup is older than the latest orders. Orders that reached Prima after it was taken look
unsent in the restored ledger (``new``, ``failed``, ``excepted``, work in progress), or are not in
it at all and come back through the restored poll cursor. :func:`verify_against_prima` asks
Prima about each of them that is older than a given age and records the reference of those
Prima has, so that the next run only writes the reference back; the rest it leaves for the next
run to send. Run it with the sync stopped (``ct-prima-sync migrate --verify-against-prima``):
it holds the orders it checks under a lease until it is done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import frozen

from ..errors import LeaseLostError
from ..prima import PrimaGateway
from ..state import OrderRecord, OrderStatus, StateStore
from ._order_flow import reference_in_prima

__all__ = ["VerifyReport", "verify_unsent_orders"]

S = OrderStatus

#: Statuses ``claim`` takes orders from (``failed`` once due).
_CLAIMABLE = (S.NEW, S.CLAIMED, S.MAPPED, S.CUSTOMER_RESOLVED, S.SUBMITTING, S.SUBMITTED, S.FAILED)


@frozen(kw_only=True)
class VerifyReport:
    """What a verification found.

    ``checked``: orders Prima was asked about; ``in_prima``: found there and recorded (the next
    run writes their reference back to commercetools and sends nothing); ``not_in_prima``: the
    next run sends them; ``waiting_for_a_person``: excepted orders Prima does not have, left in the
    exception queue; ``too_recent``: younger than the age asked for, left to the next run.
    """

    checked: int = 0
    in_prima: int = 0
    not_in_prima: int = 0
    waiting_for_a_person: int = 0
    too_recent: int = 0

    def as_dict(self) -> dict[str, int]:
        """A JSON-able form."""
        return {
            "checked": self.checked,
            "in_prima": self.in_prima,
            "not_in_prima": self.not_in_prima,
            "waiting_for_a_person": self.waiting_for_a_person,
            "too_recent": self.too_recent,
        }


def verify_unsent_orders(
    *,
    store: StateStore,
    prima: PrimaGateway,
    worker_id: str,
    lease_seconds: float,
    older_than: timedelta,
    now: Callable[[], datetime],
    created_at: Callable[[OrderRecord], datetime],
) -> VerifyReport:
    """Ask Prima about every order without a Prima reference that is at least ``older_than``
    old (``created_at`` says when an order was placed); record the reference of those Prima has.

    Failed orders are checked at once instead of at their retry time; excepted ones that Prima
    has come out of the exception queue (recording the reference resolves their exceptions).
    """
    counts = {"checked": 0, "in_prima": 0, "not_in_prima": 0, "waiting_for_a_person": 0}
    cutoff = now() - older_than
    found: dict[str, str] = {}

    def old_enough(record: OrderRecord) -> bool:
        return created_at(record) <= cutoff

    def ask(record: OrderRecord) -> str | None:
        counts["checked"] += 1
        return reference_in_prima(prima, record.order_number or record.order_id)

    # Orders behind open exceptions: failed ones wait for their retry time and excepted ones for
    # a person, so neither would be claimed below. Bring back those that need checking.
    for order_id in sorted({e.order_id for e in store.list_exceptions() if e.order_id}):
        record = store.get_order(order_id)
        if record is None or record.prima_reference is not None or not old_enough(record):
            continue
        if record.status is S.FAILED:
            store.requeue_order(order_id, now=now())
        elif record.status is S.EXCEPTED:
            reference = ask(record)
            if reference is None:
                counts["waiting_for_a_person"] += 1
            else:
                found[order_id] = reference
                store.requeue_order(order_id, now=now())

    # Everything claimable, at once, so that no order is met twice; held until the end.
    status_counts = store.count_orders_by_status()
    limit = sum(status_counts.get(status, 0) for status in _CLAIMABLE)
    held = (
        store.claim(worker_id, lease_seconds=lease_seconds, limit=limit, now=now()) if limit else []
    )
    too_recent = 0
    try:
        for record in held:
            if record.prima_reference is not None:
                continue  # already known to be in Prima: the next run finishes it
            if not old_enough(record):
                too_recent += 1
                continue
            store.renew_lease(
                record.order_id, worker_id=worker_id, lease_seconds=lease_seconds, now=now()
            )
            reference = found.get(record.order_id) or ask(record)
            if reference is None:
                counts["not_in_prima"] += 1
                continue
            store.record_prima_reference(
                record.order_id, worker_id=worker_id, reference=reference, now=now()
            )
            counts["in_prima"] += 1
    finally:
        for record in held:
            # An order whose lease ran out during a long pass is claimable anyway.
            with contextlib.suppress(LeaseLostError):
                store.release_lease(record.order_id, worker_id=worker_id, now=now())
    return VerifyReport(too_recent=too_recent, **counts)
