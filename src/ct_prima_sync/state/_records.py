"""The plain-data records every state store reads and writes.

All records are frozen attrs classes. Times are timezone-aware ``datetime`` values, normalised to
UTC by the stores; money is integer minor units with a currency and its fraction digits.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

from ..errors import StateError

__all__ = [
    "OPEN_EXCEPTIONS",
    "BatchMember",
    "BatchStatus",
    "CursorValue",
    "CustomerMapping",
    "ExceptionFilter",
    "ExceptionRecord",
    "NewOrder",
    "OrderLine",
    "OrderRecord",
    "OrderStatus",
    "OrderTotals",
    "Owner",
    "PostingBatch",
    "StockSnapshot",
    "StockUpdate",
]

#: Longest ``last_error`` text a store keeps; longer texts are cut (the full story belongs in the
#: exception queue's detail, not in the ledger).
MAX_ERROR_LENGTH = 1000


def utc(value: datetime, what: str = "time") -> datetime:
    """Return ``value`` in UTC, refusing naive datetimes (their meaning depends on the host)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StateError(f"{what} must be a timezone-aware datetime, got a naive one")
    return value.astimezone(UTC)


class OrderStatus(enum.StrEnum):
    """Where an order is in the pipeline. See ``_ledger.py`` for the allowed transitions."""

    NEW = "new"
    CLAIMED = "claimed"
    MAPPED = "mapped"
    CUSTOMER_RESOLVED = "customer_resolved"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DONE = "done"
    FAILED = "failed"
    EXCEPTED = "excepted"


class Owner(enum.StrEnum):
    """The team that has to act on an exception."""

    FINANCE = "finance"
    OPERATIONS = "operations"
    ECOMMERCE = "ecommerce"


class BatchStatus(enum.StrEnum):
    """Lifecycle of a posting batch: open (collecting) -> closed (frozen) -> posted (in Prima)."""

    OPEN = "open"
    CLOSED = "closed"
    POSTED = "posted"


@frozen(kw_only=True)
class OrderTotals:
    """An order's totals in integer minor units of ``currency`` with ``fraction_digits``."""

    currency: str
    fraction_digits: int
    net: int
    tax: int
    gross: int


@frozen(kw_only=True)
class OrderLine:
    """``quantity`` units of the commercetools ``sku`` an order takes from Prima depot ``depot``
    (``""`` when no depot could be worked out for the line).

    The ledger keeps an order's lines until Prima has accepted the order: their sum per SKU and
    depot is the stock flow's *pending* figure (sold in commercetools, not yet seen by Prima).
    """

    sku: str
    depot: str
    quantity: int


@frozen(kw_only=True)
class NewOrder:
    """What ingest knows about a commercetools order before any work is done on it.

    ``lines`` are its product lines per SKU and depot (see :class:`OrderLine`); lines of the same
    SKU and depot are added up.
    """

    order_id: str
    order_number: str | None
    ct_version: int
    totals: OrderTotals
    lines: tuple[OrderLine, ...] = ()


@frozen(kw_only=True)
class OrderRecord:
    """One row of the order ledger.

    ``submission_started_at`` is set when a worker is about to send the order to Prima; if it is
    set and ``prima_reference`` is not, the order is *ambiguous*: Prima may have it, so ask Prima
    (order status) before sending it again.
    """

    order_id: str
    order_number: str | None
    status: OrderStatus
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    next_attempt_at: datetime | None
    prima_reference: str | None
    submission_started_at: datetime | None
    last_error: str | None
    totals: OrderTotals
    ct_version: int
    created_at: datetime
    updated_at: datetime

    @property
    def ambiguous(self) -> bool:
        """True when a submission started but no Prima reference was recorded."""
        return self.submission_started_at is not None and self.prima_reference is None


@frozen(kw_only=True)
class ExceptionRecord:
    """One entry of the exception queue. ``detail`` is redacted, JSON-able data.

    ``order_id`` names the order a problem is about; ``subject`` names anything else it is about
    (a SKU in a depot, ``"TEE-RED-M@WH1"``, for the stock flow). One exception is open per kind,
    order and subject.
    """

    exception_id: int
    kind: str
    owner: Owner
    order_id: str | None
    detail: dict[str, Any] = field(repr=False)
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    transient: bool
    next_retry_at: datetime | None
    resolved_at: datetime | None
    resolution_note: str | None = field(repr=False)
    resolved_by: str | None = field(default=None, repr=False)
    """Who resolved it (a name or team, as given to ``resolve --by``); None when not said or
    resolved by the sync itself."""
    subject: str | None = None

    @property
    def is_open(self) -> bool:
        """True until the exception is resolved."""
        return self.resolved_at is None


@frozen(kw_only=True)
class ExceptionFilter:
    """Which exceptions to list or replay; ``None`` fields match everything."""

    open_only: bool = True
    owner: Owner | None = None
    kind: str | None = None
    order_id: str | None = None
    subject: str | None = None

    def matches(self, record: ExceptionRecord) -> bool:
        """Whether ``record`` passes this filter."""
        return (
            (not self.open_only or record.is_open)
            and (self.owner is None or record.owner == self.owner)
            and (self.kind is None or record.kind == self.kind)
            and (self.order_id is None or record.order_id == self.order_id)
            and (self.subject is None or record.subject == self.subject)
        )


#: Every open exception: the default filter.
OPEN_EXCEPTIONS = ExceptionFilter()


@frozen(kw_only=True)
class CustomerMapping:
    """A customer key (``customer_key_for_id`` / ``customer_key_for_email``) -> Prima account."""

    key: str
    account_code: str
    updated_at: datetime


@frozen(kw_only=True)
class CursorValue:
    """A named cursor (for example the last ``lastModifiedAt`` polled) and when it moved."""

    name: str
    value: str
    updated_at: datetime


@frozen(kw_only=True)
class StockUpdate:
    """New figures for one (sku, depot); ``None`` leaves the stored figure unchanged."""

    sku: str
    depot: str
    last_ats: int | None = None
    last_pushed: int | None = None


@frozen(kw_only=True)
class StockSnapshot:
    """Last ATS read from Prima and last quantity pushed to commercetools for one (sku, depot)."""

    sku: str
    depot: str
    last_ats: int | None
    last_pushed: int | None
    updated_at: datetime


@frozen(kw_only=True)
class PostingBatch:
    """A batch of postings of one ``kind``; each entry of an order is in at most one batch per
    kind. ``period``, ``currency`` and ``sequence`` are what the batch id is made of (empty for
    batches made before they were recorded); ``journal`` is the JSON of the lines it posts, kept
    when it is closed so that a retry sends exactly the same."""

    batch_id: str
    kind: str
    status: BatchStatus
    created_at: datetime
    closed_at: datetime | None
    posted_at: datetime | None
    prima_reference: str | None
    period: str = ""
    currency: str = ""
    sequence: int = 0
    journal: str | None = field(default=None, repr=False)


@frozen(kw_only=True)
class BatchMember:
    """One entry of an order inside a posting batch, with its amounts (negative for a
    reversal). ``entry`` names it (``sale``, ``charge:<id>``, ``refund:<id>``, ``cancel``; ``""``
    for members recorded before entries were)."""

    order_id: str
    totals: OrderTotals
    entry: str = ""
