"""What one dispatch run did, as a value a host can log, assert on or return from a task."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from attrs import field, frozen

__all__ = ["DispatchSummary", "DispatchSummaryBuilder"]


@frozen(kw_only=True)
class DispatchSummary:
    """Counts of one :meth:`~ct_prima_sync.engine.SyncEngine.sync_dispatch` run.

    ``skipped``: another worker was running dispatch (nothing was done). ``taken_on``: orders
    Prima accepted that the run started following. ``reviewed``: followed orders that changed in
    commercetools (cancelled, edited, returned) and were passed on. ``checked``: Prima requests
    made (one per order asked about, within the budget); ``deferred``: due orders left for the
    next run by the budget. ``deliveries``: deliveries added to commercetools; ``partial`` /
    ``shipped`` / ``cancelled``: orders that became part shipped, fully shipped or cancelled in
    this run; ``waiting``: orders asked about with nothing new. ``excepted``: exceptions raised
    (with ``problems`` by kind). ``open``: orders still followed after the run. ``stopped``:
    why the run ended early (``PRIMA_UNAVAILABLE``, ``CT_UNAVAILABLE``, ``LOCK_LOST``,
    ``STATE_ERROR``, or ``requested`` by ``request_stop``), else None.
    """

    started_at: datetime
    finished_at: datetime
    skipped: bool = False
    taken_on: int = 0
    reviewed: int = 0
    checked: int = 0
    deferred: int = 0
    deliveries: int = 0
    partial: int = 0
    shipped: int = 0
    cancelled: int = 0
    waiting: int = 0
    excepted: int = 0
    open: int = 0
    problems: dict[str, int] = field(factory=dict)
    stopped: str | None = None

    @property
    def seconds(self) -> float:
        """How long the run took (by the engine's clock)."""
        return (self.finished_at - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, object]:
        """A JSON-able form for logs and command output."""
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "skipped": self.skipped,
            "taken_on": self.taken_on,
            "reviewed": self.reviewed,
            "checked": self.checked,
            "deferred": self.deferred,
            "deliveries": self.deliveries,
            "partial": self.partial,
            "shipped": self.shipped,
            "cancelled": self.cancelled,
            "waiting": self.waiting,
            "excepted": self.excepted,
            "open": self.open,
            "problems": dict(sorted(self.problems.items())),
            "stopped": self.stopped,
        }


class DispatchSummaryBuilder:
    """Counters a dispatch run adds to (one thread: the run is a singleton)."""

    def __init__(self, started_at: datetime) -> None:
        self.started_at = started_at
        self.counts: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self.stopped: str | None = None

    def count(self, name: str, n: int = 1) -> None:
        """Add to one of DispatchSummary's counters."""
        self.counts[name] += n

    def problem(self, kind: str) -> None:
        """Count one exception of ``kind`` raised in this run."""
        self.problems[kind] += 1
        self.counts["excepted"] += 1

    def build(
        self, finished_at: datetime, *, open_orders: int, skipped: bool = False
    ) -> DispatchSummary:
        """The summary."""
        c = self.counts
        return DispatchSummary(
            started_at=self.started_at,
            finished_at=finished_at,
            skipped=skipped,
            taken_on=c["taken_on"],
            reviewed=c["reviewed"],
            checked=c["checked"],
            deferred=c["deferred"],
            deliveries=c["deliveries"],
            partial=c["partial"],
            shipped=c["shipped"],
            cancelled=c["cancelled"],
            waiting=c["waiting"],
            excepted=c["excepted"],
            open=open_orders,
            problems=dict(self.problems),
            stopped=self.stopped,
        )
