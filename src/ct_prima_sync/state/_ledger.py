"""The order ledger's state machine, as pure functions over :class:`OrderRecord`.

Every store applies these same functions, so memory, SQLite and PostgreSQL agree by construction;
the SQL stores only add the locking that makes read-decide-write atomic. On the order path
(submissions begun, references recorded) they write a whole batch with one guarded ``UPDATE``
whose condition is these functions' own checks, and put only the rows it refuses through them
to raise their errors.

Rules:

1. ``new`` and ``failed`` orders leave their status only through :func:`claim_record`, which leases
   the order to one worker and counts an attempt. A ``failed`` order is claimable once its
   ``next_attempt_at`` is due.
2. Work in progress (``claimed`` ... ``submitted``) is claimable again only when its lease has
   expired or was released: that is how a crashed worker's orders come back.
3. Every other change needs the caller to hold an unexpired lease (:class:`LeaseLostError`
   otherwise) and to follow :data:`TRANSITIONS` (:class:`InvalidTransitionError` otherwise).
4. ``submitting`` is entered only through :func:`begin_submission`, ``submitted`` only through
   :func:`record_reference`; ``submission_started_at`` and ``prima_reference`` are never erased,
   so an interrupted submission stays visible as ambiguous whatever happens after. Recording the
   reference resolves the order's open exceptions in the same write: an order in Prima never
   keeps a problem open about getting there.
5. ``done``, ``failed`` and ``excepted`` release the lease. ``excepted`` waits for a person;
   :func:`requeue` sends it (or a ``failed`` order) back to ``new``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from ..errors import InvalidTransitionError, LeaseLostError
from ._common import check_seconds
from ._records import MAX_ERROR_LENGTH, NewOrder, OrderRecord, OrderStatus, utc

S = OrderStatus

#: Statuses a worker is actively moving an order through; they need a lease.
IN_PROGRESS = frozenset({S.CLAIMED, S.MAPPED, S.CUSTOMER_RESOLVED, S.SUBMITTING, S.SUBMITTED})

#: Allowed ``transition()`` targets per status (claim, begin_submission, record_reference and
#: requeue have their own rules, see the module docstring).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.CLAIMED: frozenset({S.MAPPED, S.DONE, S.FAILED, S.EXCEPTED}),
    S.MAPPED: frozenset({S.CUSTOMER_RESOLVED, S.FAILED, S.EXCEPTED}),
    S.CUSTOMER_RESOLVED: frozenset({S.FAILED, S.EXCEPTED}),
    S.SUBMITTING: frozenset({S.FAILED, S.EXCEPTED}),
    S.SUBMITTED: frozenset({S.DONE, S.FAILED, S.EXCEPTED}),
}

_RELEASING = frozenset({S.DONE, S.FAILED, S.EXCEPTED})


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:MAX_ERROR_LENGTH]


def new_record(order: NewOrder, now: datetime) -> OrderRecord:
    """The ledger row for an order seen for the first time."""
    now = utc(now, "now")
    return OrderRecord(
        order_id=order.order_id,
        order_number=order.order_number,
        status=S.NEW,
        attempts=0,
        lease_owner=None,
        lease_expires_at=None,
        next_attempt_at=None,
        prima_reference=None,
        submission_started_at=None,
        last_error=None,
        totals=order.totals,
        ct_version=order.ct_version,
        created_at=now,
        updated_at=now,
    )


def is_claimable(record: OrderRecord, now: datetime) -> bool:
    """Whether a worker may claim ``record`` at ``now`` (mirrored by the SQL stores' predicate)."""
    if record.status is S.NEW:
        return True
    if record.status is S.FAILED:
        return record.next_attempt_at is not None and record.next_attempt_at <= now
    if record.status in IN_PROGRESS:
        return record.lease_expires_at is None or record.lease_expires_at <= now
    return False


def lease_until(now: datetime, lease_seconds: float) -> datetime:
    """When a lease taken at ``now`` for ``lease_seconds`` ends; a duration that is not positive
    is a :class:`~ct_prima_sync.errors.StateError`."""
    check_seconds(lease_seconds, "lease_seconds")
    return utc(now, "now") + timedelta(seconds=lease_seconds)


def claim_record(
    record: OrderRecord, worker_id: str, until: datetime, now: datetime
) -> OrderRecord:
    """Lease ``record`` to ``worker_id`` until ``until`` (the caller checked it is claimable)."""
    return attrs.evolve(
        record,
        status=S.CLAIMED,
        attempts=record.attempts + 1,
        lease_owner=worker_id,
        lease_expires_at=until,
        next_attempt_at=None,
        updated_at=now,
    )


def check_lease(record: OrderRecord, worker_id: str, now: datetime) -> None:
    """Refuse the write unless ``worker_id`` holds an unexpired lease on ``record``."""
    if (
        record.lease_owner != worker_id
        or record.lease_expires_at is None
        or record.lease_expires_at <= now
    ):
        raise LeaseLostError(
            f"order {record.order_id}: worker {worker_id!r} does not hold its lease "
            "(it expired or another worker took the order over); stop working on it"
        )


def transition(
    record: OrderRecord,
    *,
    worker_id: str,
    to: OrderStatus,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> OrderRecord:
    """Move ``record`` to ``to`` following :data:`TRANSITIONS`."""
    now = utc(now, "now")
    check_lease(record, worker_id, now)
    to = OrderStatus(to)
    if to not in TRANSITIONS.get(record.status, frozenset()):
        hint = ""
        if to is S.SUBMITTING:
            hint = " (use begin_submission)"
        elif to is S.SUBMITTED:
            hint = " (use record_prima_reference)"
        raise InvalidTransitionError(
            f"order {record.order_id}: cannot go from {record.status} to {to}{hint}"
        )
    if to is S.DONE and record.prima_reference is None:
        raise InvalidTransitionError(
            f"order {record.order_id}: cannot be done without a Prima reference"
        )
    if to is S.FAILED and retry_at is None:
        raise InvalidTransitionError(f"order {record.order_id}: failed needs retry_at")
    releasing = to in _RELEASING
    return attrs.evolve(
        record,
        status=to,
        lease_owner=None if releasing else record.lease_owner,
        lease_expires_at=None if releasing else record.lease_expires_at,
        next_attempt_at=utc(retry_at, "retry_at") if to is S.FAILED and retry_at else None,
        last_error=_clip(error) if error is not None else record.last_error,
        updated_at=now,
    )


#: Where a submission may start. ``mapped`` and ``customer_resolved`` are optional progress marks:
#: an order re-claimed after a crash starts again at ``claimed`` whatever it had reached, so a
#: worker need not spend a commit on each of them before submitting.
SUBMISSION_FROM = frozenset({S.CLAIMED, S.MAPPED, S.CUSTOMER_RESOLVED})


def begin_submission(
    record: OrderRecord,
    *,
    worker_id: str,
    now: datetime,
    until: datetime | None = None,
    again: bool = False,
) -> OrderRecord:
    """Mark the moment before the order goes to Prima: -> ``submitting``. With ``until`` the
    lease is extended to it (never shortened) in the same write, so that a submission starts
    with enough lease left to finish.

    ``again``: the order may already be ``submitting``, its last request answered by Prima
    refusing it as a whole (nothing of it applied) and a status check finding the order unknown;
    the new submission's start replaces the old one, so the wait before "unknown" counts as
    final is measured from the request that may still be on its way."""
    now = utc(now, "now")
    check_lease(record, worker_id, now)
    allowed = SUBMISSION_FROM | {S.SUBMITTING} if again else SUBMISSION_FROM
    if record.status not in allowed:
        raise InvalidTransitionError(
            f"order {record.order_id}: cannot start a submission from {record.status}"
        )
    return attrs.evolve(
        record,
        status=S.SUBMITTING,
        submission_started_at=now,
        lease_expires_at=(
            record.lease_expires_at
            if until is None
            else max(until, record.lease_expires_at or until)
        ),
        updated_at=now,
    )


REFERENCE_FROM = frozenset({S.CLAIMED, S.MAPPED, S.CUSTOMER_RESOLVED, S.SUBMITTING})


def record_reference(
    record: OrderRecord, *, worker_id: str, reference: str, now: datetime
) -> OrderRecord:
    """Store Prima's reference and move to ``submitted``.

    Also allowed from ``claimed``/``mapped``/``customer_resolved``: an ambiguous order that Prima
    turned out to have already is recorded without being sent again.
    """
    now = utc(now, "now")
    check_lease(record, worker_id, now)
    if record.status not in REFERENCE_FROM:
        raise InvalidTransitionError(
            f"order {record.order_id}: cannot record a Prima reference in status {record.status}"
        )
    if not reference:
        raise InvalidTransitionError(f"order {record.order_id}: empty Prima reference")
    return attrs.evolve(record, status=S.SUBMITTED, prima_reference=reference, updated_at=now)


def in_prima_note(reference: str) -> str:
    """The resolution note of the exceptions an order's Prima reference closes."""
    return f"resolved automatically: the order is in Prima ({reference})"


def renew(record: OrderRecord, *, worker_id: str, until: datetime, now: datetime) -> OrderRecord:
    """Extend the caller's lease to ``until``."""
    check_lease(record, worker_id, utc(now, "now"))
    return attrs.evolve(record, lease_expires_at=until, updated_at=now)


def release(record: OrderRecord, *, worker_id: str, now: datetime) -> OrderRecord:
    """Give the lease back: the order is claimable again at once, in the status it has."""
    now = utc(now, "now")
    check_lease(record, worker_id, now)
    return attrs.evolve(record, lease_owner=None, lease_expires_at=None, updated_at=now)


def requeue(record: OrderRecord, *, now: datetime) -> OrderRecord:
    """Send an ``excepted`` or ``failed`` order back to ``new`` (after someone fixed the cause)."""
    now = utc(now, "now")
    if record.status not in (S.EXCEPTED, S.FAILED):
        raise InvalidTransitionError(
            f"order {record.order_id}: only excepted or failed orders can be requeued, "
            f"not {record.status}"
        )
    return attrs.evolve(
        record,
        status=S.NEW,
        lease_owner=None,
        lease_expires_at=None,
        next_attempt_at=None,
        updated_at=now,
    )


def ingest_update(existing: OrderRecord, order: NewOrder, now: datetime) -> OrderRecord | None:
    """The row after seeing ``order`` again: only a newer commercetools version is recorded."""
    if order.ct_version <= existing.ct_version:
        return None
    return attrs.evolve(existing, ct_version=order.ct_version, updated_at=utc(now, "now"))
