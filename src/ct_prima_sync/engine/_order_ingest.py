"""Orders into the ledger: polls of orders and of messages, single orders, replays and the held
orders read again, each order taken as due, held back (not yet due, waiting for payment) or
out of scope.

The polled orders are remembered (up to :data:`SEEN_LIMIT`) for the order run that follows, so
that it need not read them again; the engine owns that memory and clears it after each run. An
order run works each page as soon as it is in the ledger (``after_page``), then forgets it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..commercetools import CommercetoolsClient, Message, Order
from ..commercetools._query import chunked
from ..errors import DuplicateRecordError
from ..mapping import MappingConfig
from ..state import NewOrder, StateStore
from ._clock import Clock
from ._config import EngineConfig
from ._held_recheck import read_orders, stale_held
from ._ingest import (
    HOLDS,
    Readiness,
    cursor_start,
    held_order,
    hold_cursor,
    ineligible_rule,
    is_future_dated,
    new_order,
    readiness,
)
from ._summary import SummaryBuilder

__all__ = ["INGEST_PAGE", "SEEN_LIMIT", "AfterPage", "OrderIngest"]

_log = logging.getLogger("ct_prima_sync.engine")

#: Orders per polled page, and per ledger transaction when a poll brings many. Not
#: commercetools' 500: a page is parsed whole and kept until it is worked, and the garbage
#: collector's full passes scan whatever is kept (docs/engine.md, "Engine CPU per order").
INGEST_PAGE = 100

#: Polled orders kept for the run that follows (the rest are read with their claim batch when
#: worked, one query per batch; an order run works each page before the next and keeps one).
SEEN_LIMIT = INGEST_PAGE

#: Called after each polled page is in the ledger and its cursor stored, with the page's (new
#: orders, orders not yet due); the poll goes on to the next page only if it returns True.
AfterPage = Callable[[int, int], bool]

_MESSAGES_CURSOR = "messages.createdAt"
_DEFAULT_CURSOR = EngineConfig().cursor_name


class OrderIngest:
    """Takes commercetools orders into the engine's ledger; ``seen`` is the engine's memory of
    the orders polled for the run that follows."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        store: StateStore,
        mapping: MappingConfig,
        config: EngineConfig,
        clock: Clock,
        seen: dict[str, Order],
    ) -> None:
        self._ct = ct
        self._store = store
        self._mapping = mapping
        self._config = config
        self._clock = clock
        self._seen = seen

    def ingest_one(self, order: Order, summary: SummaryBuilder | None = None) -> Readiness | bool:
        """True or False as :meth:`SyncEngine.ingest_order` answers for a due order; the
        readiness of one that is not due (counted in ``summary``)."""
        ready = readiness(order, self._config.eligibility, self._clock.now())
        if ready is not Readiness.DUE:
            self._hold([(order, ready)])
            self._note_not_due(order, ready, summary)
            return ready
        self._remember(order)
        return self._store.ingest(self._new_order(order), now=self._clock.now())

    @property
    def _messages_cursor(self) -> str:
        """The messages poll's cursor: one per order cursor, so that engines of several sources
        sharing a store keep theirs apart."""
        name = self._config.cursor_name
        return _MESSAGES_CURSOR if name == _DEFAULT_CURSOR else f"{_MESSAGES_CURSOR}/{name}"

    def _new_order(self, order: Order) -> NewOrder:
        return new_order(order, self._mapping.depots, prefix=self._mapping.order_number_prefix)

    def _note_not_due(self, order: Order, ready: Readiness, summary: SummaryBuilder | None) -> None:
        """Leave a trace of an order seen and not ingested: the rule that rules it out, or, for
        one dated after the engine's clock, a warning (a clock is wrong)."""
        now = self._clock.now()
        if ready is Readiness.INELIGIBLE:
            rule = ineligible_rule(order, self._config.eligibility) or "unknown"
            if summary is not None:
                summary.skipped(rule)
        elif ready is Readiness.AWAITING_PAYMENT:
            # Held (its lines count as pending stock) until a payment changes it.
            if summary is not None:
                summary.skipped("payment_states")
        elif is_future_dated(order, now):
            _log.warning(
                "order %s was created after this engine's clock (by %.0f s): one of the clocks "
                "is wrong; the order waits until the engine's clock passes its creation time",
                order.id,
                (order.created_at - now).total_seconds(),
                extra={"order_id": order.id},
            )
            if summary is not None:
                summary.count("future_dated")

    def _hold(self, seen: Sequence[tuple[Order, Readiness]], *, checked: bool = False) -> None:
        """Keep the lines of the orders held back (not yet due, waiting for payment) for the
        stock flow's pending figure, and stop counting those seen out of scope (cancelled, another
        store's). Due orders leave the held ones as the ledger ingests them. ``checked``: the
        orders were just read again by id (``recheck_held``)."""
        now = self._clock.now()
        held = [
            held_order(order, HOLDS[ready], self._mapping.depots)
            for order, ready in seen
            if ready in HOLDS
        ]
        gone = [order.id for order, ready in seen if ready is Readiness.INELIGIBLE]
        if held:
            self._store.hold_orders(held, now=now, checked=checked)
        if gone:
            self._store.release_held(gone)

    def poll_orders(
        self,
        overlap_seconds: float | None = None,
        summary: SummaryBuilder | None = None,
        *,
        placed: dict[str, datetime] | None = None,
        after_page: AfterPage | None = None,
    ) -> tuple[int, int]:
        """(new orders, orders not yet due); the others not ingested are counted in
        ``summary``, and the creation time of each due order goes into ``placed`` if given.
        ``after_page`` is called after each page (:data:`AfterPage`).

        Page by page, oldest modification first: each page is written to the ledger in a
        transaction of its own, then the cursor is stored up to that page (held back to the
        earliest order not yet due). A poll that stops after any page (a crash, an outage)
        leaves a cursor from which the next poll reads again every order not yet in the ledger,
        and memory holds one page however many orders changed."""
        now = self._clock.now()
        name = self._config.cursor_name
        cursor = cursor_start(self._store, name, initial=self._config.initial_cursor, now=now)
        overlap = self._config.poll_overlap_seconds if overlap_seconds is None else overlap_seconds
        seen = added = not_due = 0
        held: datetime | None = None  # the earliest modification of an order not yet due
        for page in self._ct.orders.poll_modified_pages(
            cursor,
            overlap=timedelta(seconds=overlap),
            page_size=INGEST_PAGE,
            **self._until_now(after_page),
        ):
            before = not_due
            new, waiting = self.ingest_polled(page.items, summary, placed=placed)
            seen += len(page.items)
            added += new
            not_due += len(waiting)
            for order in waiting:
                at = order.last_modified_at
                held = at if held is None else min(held, at)
            cursor_at = hold_cursor(page.cursor, () if held is None else (held,))
            self._store.set_cursor(name, cursor_at.isoformat(), now=now)
            del page, waiting  # not held while the next page is fetched
            if after_page is not None and not after_page(new, not_due - before):
                break
        _log.info("polled orders", extra={"seen": seen, "new": added, "not_yet_due": not_due})
        return added, not_due

    def _until_now(self, after_page: AfterPage | None) -> dict[str, Any]:
        """For a poll whose pages are worked as they come (``after_page``): the orders modified
        up to the latest modification when it starts, in commercetools' time. The run's own
        write-backs modify the orders it works: read in the same poll they would be read twice,
        so they are left to the next poll (the cursor never passes them), as new changes are."""
        if after_page is None:
            return {}
        until = self._ct.orders.last_modified_at()
        if until is None:
            return {}
        return {"where": "lastModifiedAt <= :pollUntil", "variables": {"pollUntil": until}}

    def _remember(self, order: Order) -> None:
        """Keep a polled order for the run that follows, so that it need not be read again, up
        to a bound: beyond it the run reads the order with its claim batch (memory stays flat)."""
        if len(self._seen) < SEEN_LIMIT or order.id in self._seen:
            self._seen[order.id] = order

    def ingest_polled(
        self,
        orders: Sequence[Order],
        summary: SummaryBuilder | None = None,
        *,
        checked: bool = False,
        placed: dict[str, datetime] | None = None,
    ) -> tuple[int, list[Order]]:
        """Ingest a poll's eligible orders one page per transaction (one per order costs a
        commit each); a page with a clash falls back to one order at a time, as ``ingest_order``
        would have met it. The orders held back are kept for the stock flow (``_hold``).
        Returns how many were new and the orders not yet due."""
        now = self._clock.now()
        rules = self._config.eligibility
        eligible: list[Order] = []
        waiting: list[Order] = []
        others: list[tuple[Order, Readiness]] = []
        for order in orders:
            ready = readiness(order, rules, now)
            if ready is Readiness.DUE:
                eligible.append(order)
                continue
            if ready is Readiness.NOT_YET_DUE:
                waiting.append(order)
            others.append((order, ready))
            self._note_not_due(order, ready, summary)
        added = 0
        for start in range(0, len(eligible), INGEST_PAGE):
            page = eligible[start : start + INGEST_PAGE]
            for order in page:
                self._remember(order)
                if placed is not None:
                    placed[order.id] = order.created_at
            try:
                added += self._store.ingest_many([self._new_order(o) for o in page], now=now)
            except DuplicateRecordError:
                added += sum(self._store.ingest(self._new_order(o), now=now) for o in page)
        self._hold(others, checked=checked)
        return added, waiting

    def ingest_all(self, orders: Iterable[Order], summary: SummaryBuilder) -> tuple[int, int]:
        """Ingest ``orders`` (a replay's query) a page at a time: (new orders, orders not yet
        due)."""
        added = not_due = 0
        for page in chunked(orders, INGEST_PAGE):
            new, waiting = self.ingest_polled(page, summary)
            added += new
            not_due += len(waiting)
        return added, not_due

    def poll_messages(
        self,
        overlap_seconds: float | None = None,
        summary: SummaryBuilder | None = None,
        *,
        after_page: AfterPage | None = None,
    ) -> tuple[int, int]:
        """(new orders, orders not yet due); the others not ingested are counted in
        ``summary``; ``after_page`` is called after each page (:data:`AfterPage`).

        Page by page, oldest message first (``createdAt``, then id), as :meth:`poll_orders`
        does: each page's orders (read by id when the message does not carry the order) are
        written to the ledger in a transaction, then the messages cursor is stored up to that
        page (held back to the earliest message of an order not yet due). A poll that stops
        after any page resumes from the last page that is in the ledger, and memory holds one
        page however many messages came."""
        now = self._clock.now()
        cursor = cursor_start(
            self._store, self._messages_cursor, initial=self._config.initial_cursor, now=now
        )
        overlap = timedelta(
            seconds=self._config.poll_overlap_seconds
            if overlap_seconds is None
            else overlap_seconds
        )
        held: datetime | None = None  # the earliest message of an order not yet due
        seen = added = not_due = 0
        for page in self._ct.messages.poll_created_pages(
            cursor,
            types=("OrderCreated", "OrderImported"),
            overlap=overlap,
            page_size=INGEST_PAGE,
        ):
            before = not_due
            orders = self._message_orders(page.items)
            new, waiting = self.ingest_polled([order for order, _ in orders.values()], summary)
            seen += len(orders)
            added += new
            not_due += len(waiting)
            for order in waiting:
                at = orders[order.id][1]
                held = at if held is None else min(held, at)
            cursor_at = hold_cursor(page.cursor, () if held is None else (held,))
            self._store.set_cursor(self._messages_cursor, cursor_at.isoformat(), now=now)
            del page, orders, waiting  # not held while the next page is fetched
            if after_page is not None and not after_page(new, not_due - before):
                break
        _log.info(
            "polled order messages", extra={"seen": seen, "new": added, "not_yet_due": not_due}
        )
        return added, not_due

    def _message_orders(self, messages: Iterable[Message]) -> dict[str, tuple[Order, datetime]]:
        """The orders one page of messages is about (read by id when a message does not carry
        its order), each with its earliest message's time; the latest version of each."""
        found: dict[str, tuple[Order, datetime]] = {}
        for message in messages:
            order_id = message.resource.id
            if message.resource.type_id != "order" or not order_id:
                continue
            known = found.get(order_id)
            order = message.order or (known[0] if known else self._ct.orders.get(order_id))
            if known is not None:
                newer = order if order.version > known[0].version else known[0]
                found[order_id] = (newer, min(known[1], message.created_at))
            else:
                found[order_id] = (order, message.created_at)
        return found

    def recheck_held(self) -> int:
        """Read again the held orders no ingest has seen for ``held_recheck_seconds`` and take
        each as an ingest would; release those commercetools no longer has. Returns how many
        entered the ledger."""
        now = self._clock.now()
        stale = stale_held(
            self._store, now=now, every_seconds=self._config.stock.held_recheck_seconds
        )
        if not stale:
            return 0
        found = read_orders(self._ct, stale)
        gone = [order_id for order_id in stale if order_id not in found]
        if gone:
            self._store.release_held(gone)
        added, waiting = self.ingest_polled(list(found.values()), checked=True)
        _log.info(
            "held orders read again",
            extra={
                "read": len(stale),
                "gone": len(gone),
                "new": added,
                "not_yet_due": len(waiting),
            },
        )
        return added
