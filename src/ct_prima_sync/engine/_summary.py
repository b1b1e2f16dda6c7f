"""What one run did, as a value a host can log, assert on or return from a task."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from attrs import evolve, field, frozen

__all__ = ["RunSummary", "SummaryBuilder"]

#: The counts of a run that add up across runs (the backlog, a level, does not).
_ADDITIVE = (
    "ingested", "posted", "already_in_prima", "excepted", "retrying", "lost_lease", "released",
    "alerts_sent", "alerts_failed", "ignored", "skipped_ineligible", "future_dated",
    "write_backs_done", "write_backs_failed",
)  # fmt: skip


@frozen(kw_only=True)
class RunSummary:
    """Counts and timing of one engine run.

    ``posted``: orders Prima accepted in this run; ``already_in_prima``: orders found in Prima
    after an ambiguous failure and recorded without sending again; ``excepted``: orders moved to
    the exception queue for a person; ``retrying``: orders that failed transiently and will be
    tried again; ``released``: orders claimed but given back unstarted because the run stopped;
    ``not_yet_due``: eligible orders seen but left for later because they are younger than
    ``min_age_seconds`` or dated after the engine's clock (polling reads them again until they
    are due; a host feeding :meth:`SyncEngine.handle_message` must redeliver them or also poll);
    ``backlog``: orders still waiting when the run ended, retries not yet due included (the
    same count as ``health``); ``problems``: exception kinds seen, with counts; ``alerts_sent``
    / ``alerts_failed``: alerts delivered to every channel of their owner, and alerts that did
    not reach one or more (logged; the run goes on). ``stopped`` says why a run ended early:
    ``"PRIMA_UNAVAILABLE"`` or ``"CT_UNAVAILABLE"`` (the circuit breaker tripped;
    ``outage_exception_id`` is the one exception recorded for the outage) or ``"requested"``
    (``SyncEngine.request_stop``, a signal); None when it ran to the end.

    ``ignored``: subscription payloads :meth:`SyncEngine.handle_message` had nothing to do with
    (about another resource, an unknown shape); ``ignored_reason`` says why, for the last one.
    ``skipped_ineligible``: orders seen but left alone because an eligibility rule rules them out;
    ``skipped_rules`` counts them by the rule (``"order_states"``, ``"payment_states"``,
    ``"store_keys"``, as named in the settings). ``future_dated``: orders (counted in
    ``not_yet_due`` too) created after the engine's clock, which means one of the two clocks is
    wrong; each is logged at WARNING.
    (``SyncEngine.request_stop``, a signal); None when it ran to the end. With adaptive flow
    control (``EngineConfig.submission_flow``), ``submission_rate`` is the submission rate it
    allowed when the run ended (with the shared budget of a SQL store, the rate every worker
    shares) and ``submissions`` the requests it let through in the run (the effective rate:
    :attr:`submissions_per_second`); None and 0 without it.

    The commercetools write-back (Prima's reference on the order) runs beside the submissions:
    ``write_backs_done``: orders whose reference this run wrote (or found already written) and
    marked done; ``write_backs_failed``: write-backs that failed and are queued for a retry (the
    orders are in Prima, so they are ``done`` and never in ``backlog``); ``write_backs_pending``:
    orders in Prima whose write-back is still to do when the run ended (queued retries, and
    orders a crashed worker left ``submitted``), the same count as ``health``.
    """

    started_at: datetime
    finished_at: datetime
    ingested: int = 0
    posted: int = 0
    already_in_prima: int = 0
    excepted: int = 0
    retrying: int = 0
    lost_lease: int = 0
    released: int = 0
    not_yet_due: int = 0
    backlog: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    ignored: int = 0
    ignored_reason: str | None = None
    skipped_ineligible: int = 0
    skipped_rules: dict[str, int] = field(factory=dict)
    future_dated: int = 0
    problems: dict[str, int] = field(factory=dict)
    stopped: str | None = None
    outage_exception_id: int | None = None
    submission_rate: float | None = None
    submissions: int = 0
    write_backs_done: int = 0
    write_backs_failed: int = 0
    write_backs_pending: int = 0

    @property
    def seconds(self) -> float:
        """How long the run took (by the engine's clock)."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def processed(self) -> int:
        """Orders that reached an outcome in this run."""
        return self.posted + self.already_in_prima + self.excepted + self.retrying

    @property
    def rate(self) -> float:
        """Orders processed per second (0 for an instant run)."""
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    @property
    def submissions_per_second(self) -> float | None:
        """Order submissions sent to Prima per second of this run, with adaptive flow control
        (None without it, 0 for an instant run)."""
        if self.submission_rate is None:
            return None
        return self.submissions / self.seconds if self.seconds > 0 else 0.0

    def with_submission_rate(self, rate: float, *, submissions: int) -> RunSummary:
        """This summary with adaptive flow control's figures."""
        return evolve(self, submission_rate=rate, submissions=submissions)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds the backlog would take at this run's rate (None when unknown)."""
        return self.backlog / self.rate if self.rate > 0 else None

    def as_dict(self) -> dict[str, object]:
        """A JSON-able form for logs and command output."""
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "ingested": self.ingested,
            "posted": self.posted,
            "already_in_prima": self.already_in_prima,
            "excepted": self.excepted,
            "retrying": self.retrying,
            "lost_lease": self.lost_lease,
            "released": self.released,
            "not_yet_due": self.not_yet_due,
            "backlog": self.backlog,
            "write_backs_done": self.write_backs_done,
            "write_backs_failed": self.write_backs_failed,
            "write_backs_pending": self.write_backs_pending,
            "alerts_sent": self.alerts_sent,
            "alerts_failed": self.alerts_failed,
            "ignored": self.ignored,
            "ignored_reason": self.ignored_reason,
            "skipped_ineligible": self.skipped_ineligible,
            "skipped_rules": dict(sorted(self.skipped_rules.items())),
            "future_dated": self.future_dated,
            "rate_per_second": round(self.rate, 2),
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
            "problems": dict(sorted(self.problems.items())),
            "stopped": self.stopped,
            "outage_exception_id": self.outage_exception_id,
            "submission_rate": None
            if self.submission_rate is None
            else round(self.submission_rate, 2),
            "submissions_per_second": None
            if self.submissions_per_second is None
            else round(self.submissions_per_second, 2),
        }

    def counts(self) -> dict[str, int]:
        """The run's additive counts (what a flow run record adds to the flow's totals)."""
        return {name: getattr(self, name) for name in _ADDITIVE}


class SummaryBuilder:
    """Thread-safe counters the engine's workers add to while a run goes on."""

    def __init__(self, started_at: datetime) -> None:
        self.started_at = started_at
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._problems: Counter[str] = Counter()
        self._rules: Counter[str] = Counter()
        self.ignored_reason: str | None = None
        self.stopped: str | None = None
        self.outage_exception_id: int | None = None

    def count(self, outcome: str, n: int = 1) -> None:
        """Add to one of RunSummary's counters (``posted``, ``excepted``, ...)."""
        with self._lock:
            self._counts[outcome] += n

    def problem(self, kind: str) -> None:
        """Count one problem of ``kind``."""
        with self._lock:
            self._problems[kind] += 1

    def skipped(self, rule: str) -> None:
        """Count one order left alone by the eligibility rule ``rule``."""
        with self._lock:
            self._counts["skipped_ineligible"] += 1
            self._rules[rule] += 1

    def snapshot(self, count: str) -> int:
        """The current value of a counter."""
        with self._lock:
            return self._counts[count]

    def build(
        self, finished_at: datetime, backlog: int, write_backs_pending: int = 0
    ) -> RunSummary:
        """The summary so far."""
        with self._lock:
            return RunSummary(
                started_at=self.started_at,
                finished_at=finished_at,
                **{name: self._counts[name] for name in _ADDITIVE},
                not_yet_due=self._counts["not_yet_due"],
                backlog=backlog,
                write_backs_pending=write_backs_pending,
                problems=dict(self._problems),
                ignored_reason=self.ignored_reason,
                skipped_rules=dict(self._rules),
                stopped=self.stopped,
                outage_exception_id=self.outage_exception_id,
            )
