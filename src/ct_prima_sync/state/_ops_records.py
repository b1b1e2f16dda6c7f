"""Records for running the sync rather than syncing: each flow's run history, what a shadow run
would have sent, and what a retention purge or an erasure request removed.

Frozen attrs classes like the rest of the state records; times are UTC. Personal data (the
payload a shadow run would have sent, a customer's key) is excluded from ``repr``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from attrs import field, frozen

from ._records import OrderTotals

__all__ = ["FlowRunRecord", "PurgeCounts", "ShadowRecord", "ShadowVerdict"]


@frozen(kw_only=True)
class FlowRunRecord:
    """What the store remembers of one flow's runs (``orders``, ``stock``, ...).

    ``last_*`` describe the latest run to start, succeed, fail and finish; ``last_counts`` the
    counts of the latest finished run; ``runs``, ``failures``, ``total_seconds`` and ``totals``
    add up every finished run (cumulative counters for metrics, whichever process ran them).
    ``consecutive_failures`` is reset by a success.
    """

    flow: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_succeeded_at: datetime | None
    last_failed_at: datetime | None
    last_failure: str | None
    last_duration_seconds: float | None
    last_counts: dict[str, int]
    runs: int
    failures: int
    consecutive_failures: int
    total_seconds: float
    totals: dict[str, int]

    @property
    def running(self) -> bool:
        """True while a run has started and not finished (or died without finishing)."""
        return self.last_started_at is not None and (
            self.last_finished_at is None or self.last_started_at > self.last_finished_at
        )


class ShadowVerdict(enum.StrEnum):
    """What the library did, or would have done, with one order during a go-live.

    ``would_send``: mapped and validated, would be sent (shadow). ``would_except``: would wait in
    the exception queue (``kinds`` says why). ``not_checked``: a transient problem (Prima or
    commercetools did not answer) kept the order from being judged. ``sent_held``: sent with
    ``HoldOrder=Yes`` (hold mode): Prima holds it until someone releases it.
    """

    WOULD_SEND = "would_send"
    WOULD_EXCEPT = "would_except"
    NOT_CHECKED = "not_checked"
    SENT_HELD = "sent_held"


@frozen(kw_only=True)
class ShadowRecord:
    """One order as a shadow (or hold-mode) run judged it.

    ``totals`` are the mapped totals that would be (or were) sent; ``new_customer`` is True when
    the order's customer would be created in Prima. ``payload`` is the sales order that would be
    sent, as JSON-able data: it holds personal data and is purged after the retention period
    (``purged_at``), while the order number, verdict and amounts stay. ``customer_key`` is the
    customer map key of the order's customer, so that an erasure request finds the payload.
    """

    order_id: str
    order_number: str | None
    mode: str
    verdict: ShadowVerdict
    kinds: tuple[str, ...] = ()
    totals: OrderTotals | None = None
    lines: int = 0
    new_customer: bool = False
    customer_key: str | None = field(default=None, repr=False)
    payload: dict[str, Any] | None = field(default=None, repr=False)
    recorded_at: datetime
    purged_at: datetime | None = None


@frozen(kw_only=True)
class PurgeCounts:
    """What one purge or erasure removed: payload copies, exception texts, customer map entries."""

    payloads: int = 0
    exceptions: int = 0
    customers: int = 0

    def __add__(self, other: PurgeCounts) -> PurgeCounts:
        return PurgeCounts(
            payloads=self.payloads + other.payloads,
            exceptions=self.exceptions + other.exceptions,
            customers=self.customers + other.customers,
        )

    @property
    def total(self) -> int:
        """Everything removed."""
        return self.payloads + self.exceptions + self.customers

    def as_dict(self) -> dict[str, int]:
        """A JSON-able form."""
        return {
            "payloads": self.payloads,
            "exceptions": self.exceptions,
            "customers": self.customers,
        }
