"""The ``StateStore`` protocol: what the engine needs from durable state, and nothing more."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from ._dispatch_records import DispatchRecord, DispatchState
from ._held_records import HeldOrder, HeldRecord
from ._ops_records import FlowRunRecord, ShadowRecord
from ._records import (
    OPEN_EXCEPTIONS,
    BatchMember,
    CursorValue,
    CustomerMapping,
    ExceptionFilter,
    ExceptionRecord,
    NewOrder,
    OrderLine,
    OrderRecord,
    OrderStatus,
    Owner,
    PostingBatch,
    StockSnapshot,
    StockUpdate,
)
from ._write_backs import WriteBackItem

__all__ = ["StateStore"]


@runtime_checkable
class StateStore(Protocol):
    """Durable sync state. Memory, SQLite and PostgreSQL implement it with the same semantics.

    Every time is passed in by the caller (``now``): stores never read a clock, so tests control
    time and several workers agree on it. Unknown ids raise
    :class:`~ct_prima_sync.errors.StateError` in write operations and return ``None`` from
    ``get_*``. A closed store refuses all work. Stores are thread-safe: one store may be shared
    by a thread pool.
    """

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Release connections. Idempotent."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    # -- order ledger ----------------------------------------------------------------------------
    def ingest(self, order: NewOrder, *, now: datetime) -> bool:
        """Add ``order`` as ``new``, with its lines; True if it was not known. Seeing it again
        only records a newer commercetools version (and, until Prima has the order, that
        version's lines). A held order (:meth:`hold_orders`) stops being held in the same
        transaction: its lines are the ledger's now. An order number used by another order raises
        :class:`~ct_prima_sync.errors.DuplicateRecordError`; a negative line quantity raises
        :class:`~ct_prima_sync.errors.StateError`."""
        ...

    def ingest_many(self, orders: Sequence[NewOrder], *, now: datetime) -> int:
        """:meth:`ingest` each order in one transaction (a polled page); returns how many were
        new. A duplicate order number rolls the whole page back."""
        ...

    def get_order(self, order_id: str) -> OrderRecord | None:
        """The ledger row of ``order_id``, or None."""
        ...

    def get_order_by_number(self, order_number: str) -> OrderRecord | None:
        """The ledger row of the order with commercetools order number ``order_number``, or
        None."""
        ...

    def claim(
        self, worker_id: str, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[OrderRecord]:
        """Atomically lease up to ``limit`` claimable orders to ``worker_id``, oldest first.

        Claimable: ``new``; ``failed`` with its retry due; work in progress whose lease expired.
        Each claim sets ``claimed`` and counts an attempt. Concurrent callers never get the same
        order."""
        ...

    def claim_order(
        self, order_id: str, worker_id: str, *, lease_seconds: float, now: datetime
    ) -> OrderRecord | None:
        """Lease the one order ``order_id`` to ``worker_id`` if it is claimable (as
        :meth:`claim` judges), counting an attempt; None when it is unknown or not claimable
        (finished, waiting for its retry, leased to a worker whose lease still runs)."""
        ...

    def renew_lease(
        self, order_id: str, *, worker_id: str, lease_seconds: float, now: datetime
    ) -> OrderRecord:
        """Extend the caller's lease to ``now + lease_seconds``."""
        ...

    def release_lease(self, order_id: str, *, worker_id: str, now: datetime) -> OrderRecord:
        """Give the lease back; the order becomes claimable at once."""
        ...

    def transition(
        self,
        order_id: str,
        *,
        worker_id: str,
        to: OrderStatus,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> OrderRecord:
        """Change status under the caller's lease (see ``_ledger.TRANSITIONS``). ``failed`` needs
        ``retry_at``; ``error`` must already be redacted."""
        ...

    def begin_submission(
        self,
        order_id: str,
        *,
        worker_id: str,
        now: datetime,
        lease_seconds: float | None = None,
    ) -> OrderRecord:
        """Record that the order is about to be sent to Prima (``submitting``); with
        ``lease_seconds``, extend the caller's lease to at least ``now + lease_seconds`` in the
        same transaction."""
        ...

    def record_prima_reference(
        self,
        order_id: str,
        *,
        worker_id: str,
        reference: str,
        now: datetime,
        customer: tuple[str, str] | None = None,
        unlock: tuple[str, str] | None = None,
    ) -> OrderRecord:
        """Store Prima's reference (unique across orders), move to ``submitted``, resolve the
        order's open exceptions and take its lines out of the pending stock figure (Prima counts
        them now), all in one transaction.

        ``customer``: a customer key and the Prima account it maps to, put in the customer map
        (as :meth:`put_customer`) in the same transaction: the account Prima answered with the
        reference. ``unlock``: a lock name and owner, the lock given back (as :meth:`unlock`)
        in the same transaction: the customer's lock, released as its account is put. A
        recording that is refused puts nothing and releases nothing."""
        ...

    def begin_submissions(
        self,
        order_ids: Sequence[str],
        *,
        worker_id: str,
        now: datetime,
        lease_seconds: float | None = None,
        again: bool = False,
    ) -> list[OrderRecord]:
        """:meth:`begin_submission` for every order of one batched request, in one transaction.

        The lease is checked per order: an order whose lease the caller no longer holds is left
        out (its new worker has it) and the others begin. Returns the orders that began, in the
        order given. Any other refusal (an unknown order, a status no submission starts from)
        refuses the whole call and changes nothing. ``again``: an order already ``submitting``
        (the request that carried it was refused as a whole and Prima's status check does not
        know it) begins a new submission, its start moved to ``now``."""
        ...

    def record_prima_references(
        self, references: Sequence[tuple[str, str]], *, worker_id: str, now: datetime
    ) -> list[OrderRecord]:
        """:meth:`record_prima_reference` for every ``(order id, Prima reference)`` of one
        batched request, in one transaction. An order whose lease the caller no longer holds is
        left out; returns the orders recorded, in the order given. A reference already recorded
        for another order (or given twice) raises
        :class:`~ct_prima_sync.errors.DuplicateRecordError`, and any other refusal refuses the
        whole call: nothing is recorded."""
        ...

    def requeue_order(self, order_id: str, *, now: datetime) -> OrderRecord:
        """Send an ``excepted`` or ``failed`` order back to ``new``."""
        ...

    # -- the write-back queue (``_write_backs``) --------------------------------------------------
    def finish_write_backs(
        self, order_ids: Sequence[str], *, worker_id: str, now: datetime
    ) -> list[str]:
        """In one transaction: mark the orders whose write-back is done ``done`` (orders in
        progress with their reference whose lease ``worker_id`` holds or held, and queued
        retries), clear their queued retry and resolve their open ``CT_WRITE_BACK_FAILED``
        exceptions. Returns the ids finished, in the order given; orders another worker took over
        (or without a reference) are skipped."""
        ...

    def defer_write_back(
        self, order_id: str, *, worker_id: str, retry_at: datetime, now: datetime
    ) -> int | None:
        """A write-back failed: the order is ``done`` (it is in Prima; lease released) with its
        write-back queued from ``retry_at``. Returns the failed attempts so far; None when the
        order is not this worker's (see :meth:`finish_write_backs`)."""
        ...

    def claim_write_backs(
        self, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[WriteBackItem]:
        """Up to ``limit`` queued write-backs that are due, earliest first; each one's due time
        moves on by ``lease_seconds`` so no other worker takes it meanwhile."""
        ...

    def get_write_back(self, order_id: str) -> WriteBackItem | None:
        """The order's queued write-back retry, or None (none queued, or unknown order)."""
        ...

    def count_write_backs_queued(self) -> int:
        """How many ``done`` orders have a write-back queued for a retry."""
        ...

    def make_write_backs_due(self, order_ids: Sequence[str], *, now: datetime) -> list[str]:
        """Bring the queued write-back retries of these orders forward to ``now`` (an operator's
        retry after a fix); returns the ids that moved, in the order given (orders with no
        write-back queued, or one due already, are left alone). The attempts so far stay."""
        ...

    def count_orders_by_status(self) -> dict[OrderStatus, int]:
        """How many orders are in each status (every status present, zero included)."""
        ...

    def order_lines(self, order_id: str) -> list[OrderLine]:
        """The lines kept for an order Prima has not accepted yet, by SKU then depot (empty once
        Prima has it, and for unknown orders)."""
        ...

    def pending_stock(self, skus: Iterable[str] | None = None) -> dict[tuple[str, str], int]:
        """Units per (commercetools SKU, depot) in the lines of every order Prima has not
        accepted yet, held orders included: sold in commercetools, unknown to Prima's
        available-to-sell. With ``skus``, only those SKUs. Keys with nothing pending are
        absent."""
        ...

    # -- held orders -----------------------------------------------------------------------------
    def hold_orders(
        self, orders: Sequence[HeldOrder], *, now: datetime, checked: bool = False
    ) -> int:
        """Keep orders the order flow holds back (not yet due, waiting for payment) with their
        lines, pending until the order enters the ledger or is released; one transaction.

        An order the ledger already has is left out (its lines are the ledger's). An order held
        already takes a newer version's reason and lines (seeing the same version again, as
        every poll does while the order is not yet due, changes nothing). With
        ``checked`` (the orders were just read again from commercetools) their ``checked_at``
        moves to ``now``. Returns how many were not held before. A negative line quantity
        raises :class:`~ct_prima_sync.errors.StateError` for the whole call."""
        ...

    def release_held(self, order_ids: Collection[str]) -> int:
        """Stop holding these orders (cancelled, deleted, out of scope): their lines leave the
        pending figure. Unknown ids are ignored; returns how many were held."""
        ...

    def held_orders(
        self, *, checked_before: datetime | None = None, limit: int | None = None
    ) -> list[HeldRecord]:
        """Held orders, the longest unchecked first (by ``checked_at``, then id); with
        ``checked_before``, only those not read again from commercetools since."""
        ...

    def list_orders(
        self, statuses: Collection[OrderStatus], *, limit: int | None = None
    ) -> list[OrderRecord]:
        """Orders in any of ``statuses``, oldest first (by ledger ``created_at``, then id)."""
        ...

    # -- exception queue -------------------------------------------------------------------------
    def record_exception(
        self,
        *,
        kind: str,
        owner: Owner,
        detail: dict[str, Any],
        now: datetime,
        order_id: str | None = None,
        transient: bool = False,
        next_retry_at: datetime | None = None,
        subject: str | None = None,
    ) -> ExceptionRecord:
        """Open an exception, or, if one of the same ``kind`` for the same ``order_id`` and
        ``subject`` is open, count another occurrence (``last_seen``, ``detail``, ``transient``
        and ``next_retry_at`` take the new values). ``detail`` must be redacted and JSON-able."""
        ...

    def get_exception(self, exception_id: int) -> ExceptionRecord | None:
        """One exception by id, or None."""
        ...

    def list_exceptions(
        self, where: ExceptionFilter = OPEN_EXCEPTIONS, *, limit: int | None = None
    ) -> list[ExceptionRecord]:
        """Exceptions matching ``where``, oldest id first."""
        ...

    def due_exceptions(self, *, now: datetime, limit: int | None = None) -> list[ExceptionRecord]:
        """Open exceptions whose ``next_retry_at`` is due, oldest id first."""
        ...

    def resolve_exception(
        self, exception_id: int, *, note: str, now: datetime, by: str | None = None
    ) -> ExceptionRecord:
        """Close an open exception with a note and, if given, who resolved it."""
        ...

    def mark_for_replay(self, where: ExceptionFilter, *, now: datetime) -> list[int]:
        """Make the open exceptions matching ``where`` due at ``now``; returns their ids."""
        ...

    # -- customer map, cursors -------------------------------------------------------------------
    def put_customer(self, key: str, account_code: str, *, now: datetime) -> None:
        """Map a customer key (``customer_key_for_id``/``_for_email``) to a Prima account."""
        ...

    def get_customer(self, key: str) -> CustomerMapping | None:
        """The mapping for ``key``, or None."""
        ...

    def get_customers(self, keys: Iterable[str]) -> dict[str, CustomerMapping]:
        """The mappings of those of ``keys`` that have one, by key, read together (a few
        statements for any number of keys): what :meth:`get_customer` answers for each."""
        ...

    def rename_customer_keys(
        self, prefix: str, rename: Callable[[str], str], *, now: datetime
    ) -> int:
        """Give every customer key that starts with ``prefix`` the key ``rename(key)``, in one
        transaction; where the new key is mapped already, that mapping stays and the old row
        goes. Returns how many keys were renamed (or dropped)."""
        ...

    def set_cursor(self, name: str, value: str, *, now: datetime) -> None:
        """Set a named cursor."""
        ...

    def get_cursor(self, name: str) -> CursorValue | None:
        """A named cursor, or None."""
        ...

    # -- stock snapshot --------------------------------------------------------------------------
    def get_stock(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StockSnapshot]:
        """Snapshots for the given (sku, depot) keys; unknown keys are absent from the result."""
        ...

    def upsert_stock(self, updates: Sequence[StockUpdate], *, now: datetime) -> None:
        """Write many snapshots at once; ``None`` figures keep the stored value."""
        ...

    # -- posting batches -------------------------------------------------------------------------
    def create_batch(
        self,
        batch_id: str,
        *,
        kind: str,
        now: datetime,
        period: str = "",
        currency: str = "",
        sequence: int = 0,
    ) -> PostingBatch:
        """Open a new batch (of ``period``, ``currency`` and ``sequence`` when given); a taken id
        raises DuplicateRecordError."""
        ...

    def add_to_batch(self, batch_id: str, members: Sequence[BatchMember]) -> None:
        """Add members to an open batch, all or none; an entry of an order already in a batch of
        the same kind raises DuplicateRecordError."""
        ...

    def close_batch(
        self, batch_id: str, *, now: datetime, journal: str | None = None
    ) -> PostingBatch:
        """open -> closed: no more members; ``journal`` (JSON) is kept as what the batch posts."""
        ...

    def mark_batch_posted(self, batch_id: str, *, reference: str, now: datetime) -> PostingBatch:
        """closed -> posted, with Prima's reference."""
        ...

    def get_batch(self, batch_id: str) -> PostingBatch | None:
        """One batch, or None."""
        ...

    def list_batches(
        self, *, kind: str | None = None, period: str | None = None
    ) -> list[PostingBatch]:
        """Batches (of ``kind``, of ``period`` when given), by batch id."""
        ...

    def batch_members(self, batch_id: str) -> list[BatchMember]:
        """A batch's members ordered by order id, then entry."""
        ...

    def batch_of(self, order_id: str, *, kind: str, entry: str = "") -> str | None:
        """The id of the batch of ``kind`` holding ``entry`` of ``order_id``, or None."""
        ...

    def entries_of(self, order_ids: Iterable[str], *, kind: str) -> list[tuple[str, BatchMember]]:
        """Every batched entry of these orders in batches of ``kind``, as (batch id, member), by
        order id, then entry."""
        ...

    # -- despatch progress -----------------------------------------------------------------------
    def untracked_orders(self, *, limit: int) -> list[OrderRecord]:
        """Ledger orders with a Prima reference and no despatch record yet, oldest first."""
        ...

    def follow_for_dispatch(self, records: Sequence[DispatchRecord], *, now: datetime) -> int:
        """Store new despatch records in one transaction (``revision`` 0, no deliveries); an
        order already followed keeps its record. Returns how many were new. A record for an
        order the ledger does not know raises :class:`~ct_prima_sync.errors.StateError`."""
        ...

    def get_dispatch(self, order_id: str) -> DispatchRecord | None:
        """The despatch record of ``order_id``, or None."""
        ...

    def get_dispatches(self, order_ids: Iterable[str]) -> dict[str, DispatchRecord]:
        """The despatch records of the given orders; orders not followed are absent."""
        ...

    def due_dispatch(
        self,
        *,
        now: datetime,
        limit: int,
        after: tuple[datetime, datetime, str] | None = None,
    ) -> list[DispatchRecord]:
        """Up to ``limit`` open records whose ``next_check_at`` is due at ``now``: most overdue
        first, then the oldest order, then by order id. ``after`` pages through them: only the
        records whose (``next_check_at``, ``accepted_at``, ``order_id``) come after it (the last
        record of the previous page), through the same index."""
        ...

    def count_due_dispatch(self, *, now: datetime) -> int:
        """How many open records are due at ``now``."""
        ...

    def save_dispatch(self, record: DispatchRecord, *, now: datetime) -> DispatchRecord:
        """Replace a record read at its current ``revision`` (StateError otherwise); deliveries
        are only ever added. Returns the stored record (``revision + 1``)."""
        ...

    def list_dispatch(
        self, state: DispatchState | None = None, *, limit: int | None = None
    ) -> list[DispatchRecord]:
        """Despatch records (of one state when given), by order id."""
        ...

    def count_dispatch_by_state(self) -> dict[DispatchState, int]:
        """How many orders are in each despatch state (every state present, zero included)."""
        ...

    def make_dispatch_due(self, order_ids: Sequence[str], *, now: datetime) -> int:
        """Bring the next Prima check of these open records forward to ``now`` (a replay after a
        fix); returns how many moved. The revision is unchanged."""
        ...

    # -- singleton-flow locks --------------------------------------------------------------------
    def try_lock(self, name: str, *, owner: str, ttl_seconds: float, now: datetime) -> bool:
        """Take (or renew, if ``owner`` holds it) the named lock until ``now + ttl_seconds``.
        False if another owner holds an unexpired lock."""
        ...

    def unlock(self, name: str, *, owner: str) -> bool:
        """Release the lock if ``owner`` holds it; True if it did."""
        ...

    # -- shared request budgets ------------------------------------------------------------------
    def reserve_request(
        self,
        name: str,
        *,
        rate: float,
        burst: int,
        now: datetime,
        headroom: float = 0,
        max_wait: float | None = None,
    ) -> float | None:
        """Reserve one request of the budget ``name`` (``rate`` per second, ``burst`` at once),
        shared by every worker on this store; the seconds the caller must wait before sending it,
        or None (nothing reserved) when that exceeds ``max_wait``. ``headroom`` tokens are kept
        back for requests that ask with less (see ``_budget``)."""
        ...

    def pause_requests(
        self, name: str, *, seconds: float, rate: float, burst: int, now: datetime
    ) -> None:
        """Let no request of the budget ``name`` go for ``seconds`` from ``now`` (Retry-After)."""
        ...

    # -- flow runs (health and metrics) -----------------------------------------------------------
    def start_flow_run(self, flow: str, *, now: datetime) -> None:
        """Record that a run of ``flow`` started at ``now``."""
        ...

    def finish_flow_run(
        self,
        flow: str,
        *,
        started_at: datetime,
        now: datetime,
        failure: str | None,
        counts: Mapping[str, int],
    ) -> FlowRunRecord:
        """Record that the run of ``flow`` started at ``started_at`` ended at ``now``: a success
        when ``failure`` is None, else a failure for that (redacted) reason. ``counts`` become
        the flow's last counts and are added to its totals."""
        ...

    def list_flow_runs(self) -> list[FlowRunRecord]:
        """Every flow that ever ran, by name."""
        ...

    # -- shadow runs (going live) -----------------------------------------------------------------
    def put_shadow_orders(self, records: Sequence[ShadowRecord]) -> None:
        """Record what shadow or hold-mode runs did with orders; a newer record of the same order
        replaces the older one."""
        ...

    def list_shadow_orders(
        self, *, since: datetime | None = None, limit: int | None = None
    ) -> list[ShadowRecord]:
        """Shadow records (recorded at or after ``since``), by order number, then order id."""
        ...

    # -- personal data (retention and erasure) ----------------------------------------------------
    def purge_shadow_payloads(
        self,
        *,
        now: datetime,
        recorded_before: datetime | None = None,
        order_ids: Collection[str] = (),
        customer_keys: Collection[str] = (),
    ) -> int:
        """Remove the payload copy and customer key of shadow records recorded before
        ``recorded_before``, of ``order_ids`` or of ``customer_keys`` (verdicts, numbers and
        amounts stay); returns how many were purged."""
        ...

    def scrub_exceptions(
        self,
        *,
        now: datetime,
        scrub: Callable[[dict[str, Any]], dict[str, Any]],
        note: str,
        resolved_before: datetime | None = None,
        order_ids: Collection[str] = (),
        containing: Collection[str] = (),
    ) -> int:
        """Replace the detail of exceptions resolved before ``resolved_before``, of ``order_ids``
        or whose detail or resolution note contains one of ``containing`` (any case) with
        ``scrub(detail)``, and their resolution note with ``note``. Each is scrubbed once (until it
        is seen again); returns how many were scrubbed."""
        ...

    def forget_customer_keys(self, keys: Collection[str]) -> int:
        """Delete these customer map entries; returns how many there were."""
        ...

    def compact(self) -> None:
        """Make removed data unrecoverable from the store's own files where the store can (SQLite:
        removed content is zeroed and the write-ahead log emptied)."""
        ...
