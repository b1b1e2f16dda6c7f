"""The stock run's exceptions: one per SKU problem, owned by operations, deduplicated across runs
and resolved automatically when a later run finds the problem gone.

Subjects: ``"<sku>@<depot>"`` for a SKU in a depot, the Prima code (``"TEE1001/BLK/M"``) for a
Prima SKU no commercetools SKU maps to, the depot code for a depot, ``"stock-run"`` for the run.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from ..errors import StateError
from ..state import ExceptionFilter, Owner, StateStore
from ._clock import Clock
from ._problems import Problem, ProblemKind
from ._stock_summary import StockSummaryBuilder

__all__ = ["RUN_SUBJECT", "StockProblemKind", "StockProblems", "record_outage", "subject_of"]

_log = logging.getLogger("ct_prima_sync.engine.stock")

#: The subject of the run's own problem (a read that failed).
RUN_SUBJECT: Final = "stock-run"


class StockProblemKind(enum.StrEnum):
    """Exception kinds the stock run raises; every one is owned by operations."""

    NOT_IN_PRIMA = "STOCK_NOT_IN_PRIMA"
    """commercetools has an entry Prima reports no stock for (set to 0 unless configured not
    to): a discontinued product, a SKU the codec has no Prima code for, or a depot Prima does not
    report."""
    NOT_IN_COMMERCETOOLS = "STOCK_NOT_IN_COMMERCETOOLS"
    """Prima reports stock commercetools has no entry for (and the run did not create one), or a
    Prima SKU no commercetools SKU maps to."""
    DEPOT_UNPUBLISHED = "STOCK_DEPOT_UNPUBLISHED"
    """Prima reports stock in a depot no supply channel receives (``depots.stock_channels``)."""
    DRIFT = "STOCK_DRIFT"
    """An entry's quantityOnStock differs from the last figure the run pushed by more than the
    tolerance: someone else writes stock."""
    WRITE_FAILED = "STOCK_WRITE_FAILED"
    """A write failed after its retries (409s, errors); the next run tries again."""
    RUN_FAILED = "STOCK_RUN_FAILED"
    """A read failed for a reason other than a system not answering (a refusal, an unreadable
    reply) and the run stopped early. An outage is the system's own PRIMA_UNAVAILABLE /
    CT_UNAVAILABLE exception instead."""


_TRANSIENT: Final = frozenset({StockProblemKind.WRITE_FAILED, StockProblemKind.RUN_FAILED})


def record_outage(
    store: StateStore, kind: ProblemKind, *, detail: dict[str, Any], now: datetime
) -> None:
    """Count the stock run into the one open outage exception of ``kind``'s system (keeping the
    facts the order run wrote there), or open it with ``detail``."""
    open_outage = [
        record
        for record in store.list_exceptions(ExceptionFilter(kind=kind.value))
        if record.order_id is None and record.subject is None
    ]
    rule = Problem.of(kind)
    store.record_exception(
        kind=kind.value,
        owner=rule.owner,
        detail=open_outage[0].detail if open_outage else detail,
        now=now,
        transient=True,
    )


def subject_of(sku: str, depot: str) -> str:
    """The exception subject for a SKU in a depot."""
    return f"{sku}@{depot}"


class StockProblems:
    """Records the problems one run finds and resolves the ones it finds gone.

    The open stock exceptions are read once when the run starts; a problem is *gone* when the run
    covered its subject (read the entry, asked Prima about the SKU, finished a full run) and did
    not find it again. With ``record`` False (a dry run) nothing is written, only counted.
    """

    def __init__(
        self,
        store: StateStore,
        clock: Clock,
        summary: StockSummaryBuilder,
        *,
        record: bool,
    ) -> None:
        self._store = store
        self._clock = clock
        self._summary = summary
        self._record = record
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], int] = {}
        if record:
            for kind in StockProblemKind:
                for item in store.list_exceptions(ExceptionFilter(kind=str(kind))):
                    if item.subject is not None and item.order_id is None:
                        self._open[(item.kind, item.subject)] = item.exception_id
        self._found: set[tuple[str, str]] = set()

    def found(self, kind: StockProblemKind, subject: str, **detail: Any) -> None:
        """One problem of ``kind`` about ``subject``: counted, and recorded (or counted again)."""
        key = (str(kind), subject)
        with self._lock:
            if key in self._found:
                return
            self._found.add(key)
        self._summary.problem(str(kind))
        if not self._record:
            return
        record = self._store.record_exception(
            kind=str(kind),
            owner=Owner.OPERATIONS,
            detail={"subject": subject, **detail},
            now=self._clock.now(),
            subject=subject,
            transient=kind in _TRANSIENT,
        )
        with self._lock:
            self._open[key] = record.exception_id
        _log.info("stock problem", extra={"kind": str(kind), "subject": subject})

    def watching(self, *kinds: StockProblemKind) -> bool:
        """Whether an exception of one of ``kinds`` is open (else :meth:`covered` can be
        skipped: there is nothing to resolve)."""
        wanted = {str(k) for k in kinds}
        with self._lock:
            return any(kind in wanted for kind, _ in self._open)

    def covered(self, kinds: Iterable[StockProblemKind], subjects: Iterable[str]) -> None:
        """The run looked at ``subjects`` for ``kinds``: resolve what it did not find again."""
        wanted = {str(k) for k in kinds}
        with self._lock:
            if not self._open:
                return
            look = set(subjects)
            gone = [
                (key, exception_id)
                for key, exception_id in self._open.items()
                if key[0] in wanted and key[1] in look and key not in self._found
            ]
        self._resolve(gone)

    def covered_all(self, kinds: Iterable[StockProblemKind]) -> None:
        """A complete run looked at every subject of ``kinds``: resolve what it did not find."""
        wanted = {str(k) for k in kinds}
        with self._lock:
            gone = [
                (key, exception_id)
                for key, exception_id in self._open.items()
                if key[0] in wanted and key not in self._found
            ]
        self._resolve(gone)

    def _resolve(self, gone: list[tuple[tuple[str, str], int]]) -> None:
        now = self._clock.now()
        for key, exception_id in gone:
            try:
                self._store.resolve_exception(
                    exception_id,
                    note="resolved automatically: the stock run found it fixed",
                    now=now,
                )
            except StateError:  # someone resolved it meanwhile
                _log.debug("stock exception already resolved", extra={"id": exception_id})
            with self._lock:
                self._open.pop(key, None)
