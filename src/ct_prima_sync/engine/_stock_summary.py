"""What one stock run did: counts, why entries changed, the problems seen, and how it ended."""

from __future__ import annotations

import enum
from collections import Counter
from datetime import datetime

from attrs import field, frozen

from ._summary import SummaryBuilder

__all__ = ["ChangeReason", "StockRunStatus", "StockRunSummary", "StockSummaryBuilder"]


class StockRunStatus(enum.StrEnum):
    """How a stock run ended."""

    COMPLETED = "completed"
    """Every chunk was read, planned and pushed (writes that failed are counted in ``failed``)."""
    ALREADY_RUNNING = "already_running"
    """Another stock run holds the lock: this one did nothing."""
    INCOMPLETE = "incomplete"
    """A read failed (``outage`` names the system that did not answer, if that was it): the
    chunks before it were pushed, the rest waits for the next run; ``error`` says what failed."""
    LOCK_LOST = "lock_lost"
    """The run's lock expired and another run took it over: this one stopped."""
    STOPPED = "stopped"
    """``SyncEngine.request_stop`` was called (a signal): the chunks before were pushed, the rest
    waits for the next run."""


class ChangeReason(enum.StrEnum):
    """Why an entry was written, as ``StockRunSummary.reasons`` counts them."""

    CREATED = "created"
    """commercetools had no entry for stock Prima reports."""
    NOT_IN_PRIMA = "not_in_prima"
    """Prima reports nothing for the entry: set so the shop shows 0."""
    DRIFT = "drift"
    """Someone else changed the entry since the last run: Prima's figure is put back."""
    FIRST_SYNC = "first_sync"
    """The first time the run sees this SKU in this depot."""
    ATS_CHANGED = "ats_changed"
    """Prima's available-to-sell moved since the last run."""
    SOLD = "sold"
    """Prima's figure is the same: orders (pending) or reservations moved."""


@frozen(kw_only=True)
class StockRunSummary:
    """Counts and timing of one stock run.

    ``read``: inventory entries read; ``ingested``: orders new to the ledger that the run's
    polls found (counted as pending from then on); ``ats_rows``: rows Prima reported;
    ``planned``: writes the plan wanted; ``created`` / ``updated``: writes commercetools
    accepted; ``unchanged``: entries already right (including planned writes a fresh read after
    a conflict showed were no longer needed); ``failed``: writes that failed after retries (each
    has a STOCK_WRITE_FAILED exception). ``reasons`` counts planned writes by
    :class:`ChangeReason`; ``problems`` counts the exception kinds seen. ``dry_run`` runs
    planned and wrote nothing.
    ``catalogue_rows`` is set when the run also checked Prima's whole catalogue.
    """

    started_at: datetime
    finished_at: datetime
    status: StockRunStatus = StockRunStatus.COMPLETED
    dry_run: bool = False
    read: int = 0
    ingested: int = 0
    ats_rows: int = 0
    planned: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(factory=dict)
    problems: dict[str, int] = field(factory=dict)
    catalogue_rows: int | None = None
    error: str | None = None
    outage: str | None = None
    """``PRIMA_UNAVAILABLE`` / ``CT_UNAVAILABLE`` when the run stopped because that system did
    not answer."""

    @property
    def seconds(self) -> float:
        """How long the run took (by the engine's clock)."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def rate(self) -> float:
        """Inventory entries read per second (0 for an instant run)."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when the run completed (or another one was running) and no write failed."""
        return (
            self.status in (StockRunStatus.COMPLETED, StockRunStatus.ALREADY_RUNNING)
            and not self.failed
        )

    def as_dict(self) -> dict[str, object]:
        """A JSON-able form for logs and command output."""
        return {
            "status": str(self.status),
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "read": self.read,
            "ingested": self.ingested,
            "ats_rows": self.ats_rows,
            "planned": self.planned,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "rate_per_second": round(self.rate, 2),
            "reasons": dict(sorted(self.reasons.items())),
            "problems": dict(sorted(self.problems.items())),
            "catalogue_rows": self.catalogue_rows,
            "error": self.error,
            "outage": self.outage,
        }


class StockSummaryBuilder(SummaryBuilder):
    """Thread-safe counters the stock run's writers add to (``count``, ``problem``, and why each
    write was planned: ``reason``), and how the run ended."""

    def __init__(self, started_at: datetime, *, dry_run: bool) -> None:
        super().__init__(started_at)
        self.dry_run = dry_run
        self.status = StockRunStatus.COMPLETED
        self.error: str | None = None
        self.catalogue_rows: int | None = None
        self.outage: str | None = None
        self._reasons: Counter[str] = Counter()

    def reason(self, reason: ChangeReason) -> None:
        """Count one planned write by why it was planned."""
        with self._lock:
            self._reasons[str(reason)] += 1

    def build_stock(self, finished_at: datetime) -> StockRunSummary:
        """The summary so far."""
        with self._lock:
            c = self._counts
            return StockRunSummary(
                started_at=self.started_at,
                finished_at=finished_at,
                status=self.status,
                dry_run=self.dry_run,
                read=c["read"],
                ingested=c["ingested"],
                ats_rows=c["ats_rows"],
                planned=c["planned"],
                created=c["created"],
                updated=c["updated"],
                unchanged=c["unchanged"],
                failed=c["failed"],
                reasons=dict(self._reasons),
                problems=dict(self._problems),
                catalogue_rows=self.catalogue_rows,
                error=self.error,
                outage=self.outage,
            )
