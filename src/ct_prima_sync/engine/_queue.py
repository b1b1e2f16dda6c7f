"""The exception queue over a state store alone (no network).

The engine's methods and the ``exceptions`` / ``retry`` / ``resolve`` commands both use these,
so that people can work the queue without credentials for either system (the health report is
in ``_health``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

from ..errors import ExceptionNotFoundError, StateError, UnknownKindError
from ..mapping import DispatchIssueKind, IssueCode
from ..state import ExceptionFilter, ExceptionRecord, OrderStatus, Owner, StateStore
from ._problems import ProblemKind
from ._stock_problems import StockProblemKind

__all__ = [
    "KNOWN_KINDS",
    "check_kind",
    "list_exceptions",
    "replay_exception",
    "replay_exceptions",
    "resolve_finished_exceptions",
]

#: Every kind the library's flows raise: pipeline kinds, mapping issue codes, the dispatch and
#: stock flows' kinds.
KNOWN_KINDS: Final[frozenset[str]] = frozenset(
    {str(k) for k in ProblemKind}
    | {str(c) for c in IssueCode}
    | {"UNKNOWN_DEPOT"}
    | {str(k) for k in DispatchIssueKind}
    | {str(k) for k in StockProblemKind}
)


def check_kind(store: StateStore, kind: str | enum.Enum | None) -> str | None:
    """``kind`` as the queue stores it (an enum member or its string), or
    :class:`~ct_prima_sync.errors.UnknownKindError` when no flow raises it and the store holds
    none of it (a typo would otherwise list nothing and look like an empty queue)."""
    if kind is None:
        return None
    text = str(kind.value) if isinstance(kind, enum.Enum) else kind
    if not isinstance(text, str):
        raise UnknownKindError(f"an exception kind is a string or a kind enum, not {kind!r}")
    if text in KNOWN_KINDS:
        return text
    seen = {r.kind for r in store.list_exceptions(ExceptionFilter(open_only=False, kind=text))}
    if text in seen:
        return text
    raise UnknownKindError(
        f"unknown exception kind {text[:60]!r}; the kinds are: {', '.join(sorted(KNOWN_KINDS))}"
    )


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
    A queued write-back retry of an order in Prima is made due now too (the next run's
    write-back pass takes it). Returns how many orders moved. Safe to repeat: an order Prima
    already has is recognised, never sent twice, and a delivery already in commercetools is
    never written again."""
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
    return requeued + (_follow_up(store, followed, now) if followed else 0)


def _follow_up(store: StateStore, order_ids: list[str], now: datetime) -> int:
    """Orders already in Prima: a queued write-back retry is due now, and so is the next
    dispatch check; how many orders moved (each counted once)."""
    written = store.make_write_backs_due(order_ids, now=now)
    if written:
        store.make_dispatch_due(written, now=now)
    others = [o for o in order_ids if o not in set(written)]
    return len(written) + (store.make_dispatch_due(others, now=now) if others else 0)


def replay_exception(store: StateStore, exception_id: int, *, now: datetime) -> int:
    """Replay the one open exception ``exception_id``: it is made due now and its order (if it
    has one) goes back to the backlog, or, once in Prima, is asked about on the next dispatch
    run and has its queued write-back retry (if any) made due now. Returns how many orders
    moved (0 for an exception about no order, or whose order is not waiting for a person).
    Raises :class:`~ct_prima_sync.errors.ExceptionNotFoundError` when
    no open exception has that id."""
    record = store.get_exception(exception_id)
    if record is None:
        raise ExceptionNotFoundError(f"there is no exception #{exception_id}")
    if not record.is_open:
        raise ExceptionNotFoundError(
            f"exception #{exception_id} is resolved already; nothing to retry"
        )
    where = ExceptionFilter(kind=record.kind, order_id=record.order_id, subject=record.subject)
    # A filter field left None matches everything: mark only when it names this one exception.
    if [r.exception_id for r in store.list_exceptions(where)] == [exception_id]:
        store.mark_for_replay(where, now=now)
    if not record.order_id:
        return 0
    order = store.get_order(record.order_id)
    if order is None:
        return 0
    if order.status in (OrderStatus.EXCEPTED, OrderStatus.FAILED):
        store.requeue_order(order.order_id, now=now)
        return 1
    if order.prima_reference is not None:
        return _follow_up(store, [order.order_id], now)
    return 0


#: The note on exceptions closed because their order finished in Prima.
FINISHED_NOTE = "resolved automatically: the order is in Prima and written back"


def resolve_finished_exceptions(store: StateStore, *, now: datetime) -> int:
    """Resolve open exceptions of orders that are done (in Prima and written back, no write-back
    queued for a retry); returns how
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
            # A write-back queued for a retry is not finished: its exception stays open until
            # the write-back succeeds (``finish_write_backs`` closes it).
            if finished[order_id] and store.get_write_back(order_id) is not None:
                finished[order_id] = False
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
