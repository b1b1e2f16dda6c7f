"""An order run's drain, and the poll it works page by page.

A run that polls works the backlog after each polled page is in the ledger and its cursor
stored, before it fetches the next page: the orders just ingested are worked while they are in
memory (``seen``), then forgotten, so memory holds about one page and one claim batch however
many orders changed. The run's meaning does not change: one summary (``ingested`` and
``not_yet_due`` add up over the pages), ``max_orders`` counts over the whole run (past it the
poll goes on, ingesting only), a stop request, the circuit breaker or a misfit stops the poll
too (the cursor is stored per page: the next run goes on from there), and an outage of
commercetools during a later page ends the run as one during the first does, after the pages
before it were worked.

A claimed order that is not in memory (an older backlog, another process's poll, an order
changed since it was polled) is read with the rest of its claim batch, one query per
:data:`READ_CHUNK` orders, instead of one read by id each. An order the query does not return
(commercetools no longer has it) or cannot parse is read by id as before, so that it ends as
that read's error does (``CT_ORDER_NOT_FOUND``, ``CT_PAYLOAD_INVALID``); so is every order of a
query commercetools does not answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Final

from ..commercetools import CommercetoolsClient, Order
from ..errors import CommercetoolsError, PayloadError
from ..state import OrderRecord
from ._order_flow import Outcome
from ._order_ingest import AfterPage
from ._summary import SummaryBuilder

__all__ = ["READ_CHUNK", "DrainRun", "batch_orders", "poll_and_work"]

_log = logging.getLogger("ct_prima_sync.engine")

#: Order ids per commercetools query when a claim batch's orders are read.
READ_CHUNK: Final = 100

#: Called as orders finish with (orders done in this run, orders to do).
Progress = Callable[[int, int], None]


class DrainRun:
    """What one order run has worked: its summary, the orders claimed against ``max_orders``,
    and the progress figures (``only``: the run is for that one order)."""

    def __init__(
        self,
        summary: SummaryBuilder,
        *,
        max_orders: int | None,
        progress: Progress | None,
        only: str | None,
    ) -> None:
        self.summary = summary
        self.max_orders = max_orders
        self.progress = progress
        self.only = only
        self.processed = 0
        """Orders claimed so far (each claim batch counts whole)."""
        self.exhausted = False
        """Whether the last claim found nothing to claim."""
        self.total = 0

    def claim_limit(self, batch: int) -> int:
        """How many orders the next claim may take (0: ``max_orders`` is reached)."""
        if self.max_orders is None:
            return batch
        return max(0, min(batch, self.max_orders - self.processed))

    def plan(self, waiting: int) -> None:
        """Set the progress total: the orders done so far and ``waiting`` more, at most
        ``max_orders``."""
        total = self._done() + waiting
        self.total = total if self.max_orders is None else min(total, self.max_orders)

    def tally(self, outcome: Outcome) -> Outcome:
        """Count one order's outcome (and report progress)."""
        self.summary.count(str(outcome))
        if self.progress is not None and outcome is not Outcome.RELEASED:
            self.progress(self._done(), self.total)
        return outcome

    def _done(self) -> int:
        summary = self.summary
        return sum(summary.snapshot(str(o)) for o in Outcome) - summary.snapshot(
            str(Outcome.RELEASED)
        )


def poll_and_work(
    poll: Callable[[AfterPage], object],
    run: DrainRun,
    *,
    work: Callable[[], None],
    forget: Callable[[], None],
    stopping: Callable[[], bool],
    backlog: Callable[[], int],
) -> CommercetoolsError | None:
    """Run ``poll``, working the backlog (``work``) after each page and then forgetting the
    page's orders (``forget``); the poll stops once the run is ``stopping``. Returns the error of
    a poll commercetools did not answer (a :class:`PayloadError` is raised: it is no outage)."""

    def after_page(new: int, not_due: int) -> bool:
        run.summary.count("ingested", new)
        run.summary.count("not_yet_due", not_due)
        if run.claim_limit(1) and not stopping():
            if run.progress is not None:
                run.plan(backlog())
            work()
        forget()
        return not stopping()

    try:
        poll(after_page)
    except CommercetoolsError as error:
        if isinstance(error, PayloadError):
            raise
        _log.warning("commercetools did not answer the poll: %s", error)
        return error
    return None


def batch_orders(
    ct: CommercetoolsClient, claimed: Sequence[OrderRecord], seen: dict[str, Order]
) -> dict[str, Order]:
    """The orders of a claim batch, by id: those in ``seen`` (taken out of it) and, read in one
    query per :data:`READ_CHUNK`, the others an attempt needs (an order already in Prima needs
    none: its write-back reads it if it must). Absent: read by id when worked, as before."""
    orders: dict[str, Order] = {}
    missing: list[str] = []
    for record in claimed:
        order = seen.pop(record.order_id, None)
        if order is not None and (record.prima_reference or order.version >= record.ct_version):
            orders[record.order_id] = order
        elif not record.prima_reference:
            missing.append(record.order_id)
    for start in range(0, len(missing), READ_CHUNK):
        chunk = missing[start : start + READ_CHUNK]
        try:
            for order in ct.orders.query("id in :ids", variables={"ids": chunk}):
                orders[order.id] = order
        except CommercetoolsError as error:  # each order left is read by id, and ends as that read
            _log.warning(
                "commercetools did not answer the read of %d claimed orders: %s", len(chunk), error
            )
    return orders
