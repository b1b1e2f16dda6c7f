"""One dispatch run: take on newly accepted orders, review changes made in commercetools, ask
Prima about the orders that are due, within the budget.

The run is a singleton (a :class:`~ct_prima_sync.engine.LeaseLock` named ``dispatch``): a second
worker finds the lock held and returns a skipped summary, so concurrent schedulers never act on
one order twice. The lock is renewed between phases and batches; a run that lost it stops, and a
run asked to stop (``SyncEngine.request_stop``) finishes the order in hand and returns.

1. **Take on.** Ledger orders with a Prima reference and no despatch record get one (at most
   ``take_on_per_run`` a run, 50 at a time), with the order's shippable lines as commercetools
   shows them. An order already changed since it was ingested, cancelled or deleted is reported
   at once.
2. **Review.** Orders modified in commercetools since the previous run (a query paged by
   ``lastModifiedAt``, with the engine's overlap window) are compared with their record:
   cancellations, edits and returns are passed on (``_dispatch_flow.DispatchFlow.pass_on``); the
   cursor is stored after each page.
3. **Check.** The due orders, most overdue first, up to ``max_checks_per_run`` Prima requests
   (``mapping.plan_checks``), read from the store a batch at a time; each is one
   ``DispatchFlow.check``.

Memory holds one page or batch of orders whatever the number followed or changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import attrs

from ..commercetools import CommercetoolsClient, Order
from ..errors import CommercetoolsError, StateError
from ..mapping import (
    DispatchIssue,
    DispatchIssueKind,
    DispatchOutcome,
    MappingConfig,
    ShippableLine,
    plan_checks,
    review_order,
)
from ..prima import PrimaGateway
from ..state import (
    DispatchLine,
    DispatchRecord,
    DispatchState,
    OrderRecord,
    StateStore,
    new_dispatch_record,
)
from ._clock import Clock
from ._config import EngineConfig
from ._dispatch_flow import CheckOutcome, Checkpoint, DispatchFlow, RunStopped, returns_recorded
from ._dispatch_summary import DispatchSummary, DispatchSummaryBuilder
from ._ingest import cursor_start
from ._locks import LeaseLock, LockLostError

__all__ = ["DISPATCH_CURSOR", "DISPATCH_LOCK", "DispatchRun"]

_log = logging.getLogger("ct_prima_sync.engine.dispatch")

DISPATCH_LOCK = "dispatch"
DISPATCH_CURSOR = "dispatch.lastModifiedAt"
#: Orders taken on per page: read by id in one commercetools query, followed in one transaction.
_READ_PAGE = 50
#: Changed orders reviewed per page of the commercetools query.
_REVIEW_PAGE = 500


def _baseline(
    lines: Sequence[ShippableLine], old: Sequence[DispatchLine]
) -> tuple[DispatchLine, ...]:
    despatched = {line.line_id: line.despatched for line in old}
    return tuple(
        DispatchLine(
            line_id=line.line_id,
            sku=line.sku,
            ordered=line.ordered,
            despatched=despatched.get(line.line_id, 0),
            custom=line.custom,
        )
        for line in lines
    )


def _known(record: DispatchRecord) -> list[tuple[str, str, int]]:
    return [(line.line_id, line.sku, line.ordered) for line in record.lines]


class DispatchRun:
    """Runs the dispatch flow once (see the module docstring)."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        prima: PrimaGateway,
        store: StateStore,
        mapping: MappingConfig,
        config: EngineConfig,
        clock: Clock,
        checkpoint: Checkpoint | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self._ct = ct
        self._prima = prima
        self._store = store
        self._mapping = mapping
        self._engine = config
        self._config = config.dispatch
        self._clock = clock
        self._checkpoint = checkpoint
        self._should_stop = should_stop

    def run(self) -> DispatchSummary:
        """Take on, review, check; returns what happened."""
        summary = DispatchSummaryBuilder(self._clock.now())
        lock = LeaseLock(
            self._store,
            DISPATCH_LOCK,
            holder=self._engine.worker_id,
            ttl_seconds=self._config.lock_seconds,
            clock=self._clock,
        )
        flow = DispatchFlow(  # refuses settings the gateway cannot serve, before the lock
            ct=self._ct,
            prima=self._prima,
            store=self._store,
            mapping=self._mapping,
            config=self._config,
            clock=self._clock,
            summary=summary,
            checkpoint=self._checkpoint,
        )
        if not lock.acquire():
            _log.info("dispatch is running elsewhere; skipped")
            return summary.build(self._clock.now(), open_orders=self._open(), skipped=True)
        try:
            for phase in (self._take_on, self._review, self._check):
                if self._should_stop():
                    summary.stopped = "requested"
                    break
                lock.renew()
                phase(flow, summary, lock)
        except RunStopped as stop:
            summary.stopped = stop.reason
            _log.warning("dispatch run stopped early", extra={"reason": stop.reason})
        except CommercetoolsError as error:
            summary.stopped = "CT_UNAVAILABLE"
            _log.warning(
                "dispatch run stopped: commercetools did not answer",
                extra={"error": type(error).__name__, "correlation_id": error.correlation_id},
            )
        except LockLostError:
            summary.stopped = "LOCK_LOST"
            _log.warning("dispatch run stopped: another worker took the dispatch lock over")
        except StateError as error:
            # The state store failed, or another run changed an order's progress meanwhile.
            summary.stopped = "STATE_ERROR"
            _log.warning("dispatch run stopped: %s", error)
        finally:
            lock.release()
        result = summary.build(self._clock.now(), open_orders=self._open())
        _log.info("dispatch run finished", extra={"summary": result.as_dict()})
        return result

    def _open(self) -> int:
        return self._store.count_dispatch_by_state()[DispatchState.OPEN]

    # -- 1. take on ------------------------------------------------------------------------------
    def _accepted_at(self, order: OrderRecord) -> datetime:
        return order.submission_started_at or order.updated_at

    def _read_orders(self, order_ids: Sequence[str]) -> dict[str, Order]:
        found: dict[str, Order] = {}
        for start in range(0, len(order_ids), _READ_PAGE):
            page = list(order_ids[start : start + _READ_PAGE])
            for order in self._ct.orders.query("id in :ids", variables={"ids": page}):
                found[order.id] = order
        return found

    def _take_on(
        self, flow: DispatchFlow, summary: DispatchSummaryBuilder, lock: LeaseLock
    ) -> None:
        """Up to ``take_on_per_run`` orders, a page at a time: each page's orders are read from
        commercetools and followed in one transaction before the next page is read."""
        left = self._config.take_on_per_run
        while left > 0:
            pending = self._store.untracked_orders(limit=min(left, _READ_PAGE))
            if not pending:
                return
            if left < self._config.take_on_per_run:
                lock.renew()
            self._take_on_page(flow, summary, pending)
            left -= len(pending)

    def _take_on_page(
        self, flow: DispatchFlow, summary: DispatchSummaryBuilder, pending: list[OrderRecord]
    ) -> None:
        now = self._clock.now()
        since = self._config.follow_since
        old = [p for p in pending if since is not None and self._accepted_at(p) < since]
        fresh = [p for p in pending if p not in old]
        records = [new_dispatch_record(p, now=now, state=DispatchState.CLOSED) for p in old]
        orders = self._read_orders([p.order_id for p in fresh])
        for pending_order in fresh:
            records.append(
                self._take_on_one(flow, pending_order, orders.get(pending_order.order_id))
            )
            self._checkpoint_at("dispatch.taken_on", pending_order.order_id)
        added = self._store.follow_for_dispatch(records, now=now)
        summary.count("taken_on", added - len(old))

    def _take_on_one(
        self, flow: DispatchFlow, pending: OrderRecord, order: Order | None
    ) -> DispatchRecord:
        now = self._clock.now()
        number = pending.order_number or pending.order_id
        if order is None:
            flow.raise_issues(
                pending.order_id,
                [
                    DispatchIssue(
                        kind=DispatchIssueKind.CT_ORDER_DELETED,
                        message="deleted in commercetools after it reached Prima: stop it in "
                        "the warehouse and cancel it in Prima",
                        detail={"order_number": number},
                    )
                ],
            )
            return new_dispatch_record(pending, now=now, state=DispatchState.CLOSED)
        review = review_order(
            order,
            known_lines=None,
            known_order_state="",
            known_returns=frozenset(),
            known_gross=pending.totals.gross,
            mapping=self._mapping,
            config=self._config,
        )
        cancelled_ok, returns_ok = flow.pass_on(number, pending.order_id, review)
        record = new_dispatch_record(
            pending,
            now=now,
            lines=_baseline(review.lines, ()),
            ct_order_state=review.order_state if cancelled_ok else "",
            accepted_at=self._accepted_at(pending),
        )
        sent = bool(review.returns_for_prima)
        return attrs.evolve(
            record,
            returns=tuple(returns_recorded(review, now=now, sent=sent)) if returns_ok else (),
        )

    def _checkpoint_at(self, step: str, order_id: str) -> None:
        if self._checkpoint is not None:
            self._checkpoint(step, order_id)

    # -- 2. review changes made in commercetools -------------------------------------------------
    def _review(self, flow: DispatchFlow, summary: DispatchSummaryBuilder, lock: LeaseLock) -> None:
        """The orders changed since the previous run, a page at a time, oldest change first;
        the cursor is stored after each page, so a run stopped midway resumes from there."""
        if not self._config.watch_commercetools:
            return
        now = self._clock.now()
        cursor = cursor_start(
            self._store, DISPATCH_CURSOR, initial=self._engine.initial_cursor, now=now
        )
        pages = self._ct.orders.poll_modified_pages(
            cursor,
            overlap=timedelta(seconds=self._engine.poll_overlap_seconds),
            page_size=_REVIEW_PAGE,
        )
        for number, page in enumerate(pages):
            if number:
                lock.renew()
            latest: dict[str, Order] = {}
            for order in page.items:
                if order.id not in latest or order.version > latest[order.id].version:
                    latest[order.id] = order
            records = self._store.get_dispatches(latest)
            for order_id, order in latest.items():
                record = records.get(order_id)
                if record is None or record.state in (
                    DispatchState.CANCELLED,
                    DispatchState.CLOSED,
                ):
                    continue
                if self._review_one(flow, record, order):
                    summary.count("reviewed")
            self._store.set_cursor(DISPATCH_CURSOR, page.cursor.isoformat(), now=now)
            del page, latest, records  # not held while the next page is fetched

    def _review_one(self, flow: DispatchFlow, record: DispatchRecord, order: Order) -> bool:
        following = record.state is DispatchState.OPEN
        review = review_order(
            order,
            known_lines=_known(record),
            known_order_state=record.ct_order_state,
            known_returns=frozenset(r.return_item_id for r in record.returns),
            mapping=self._mapping,
            config=self._config,
            watch_changes=following,
        )
        baseline = _baseline(review.lines, record.lines) if following else record.lines
        state = review.order_state if following else record.ct_order_state
        news = review.cancelled or bool(review.changes) or bool(review.returns)
        if not news and baseline == record.lines and state == record.ct_order_state:
            return False
        now = self._clock.now()
        cancelled_ok, returns_ok = (True, True)
        if news:
            cancelled_ok, returns_ok = flow.pass_on(
                record.order_number or record.order_id, record.order_id, review
            )
        sent = bool(review.returns_for_prima)
        updated = attrs.evolve(
            record,
            lines=baseline,
            ct_order_state=state if cancelled_ok else record.ct_order_state,
            returns=record.returns
            + (tuple(returns_recorded(review, now=now, sent=sent)) if returns_ok else ()),
        )
        if review.cancel_in_prima and cancelled_ok and updated.next_check_at is not None:
            updated = attrs.evolve(updated, next_check_at=min(updated.next_check_at, now))
        self._store.save_dispatch(updated, now=now)
        self._checkpoint_at("dispatch.reviewed", record.order_id)
        return news

    # -- 3. ask Prima about the due orders -------------------------------------------------------
    def _check(self, flow: DispatchFlow, summary: DispatchSummaryBuilder, lock: LeaseLock) -> None:
        """The due orders, most overdue first, a batch at a time from the store (``after`` the
        previous batch's last), until the run's budget of Prima requests is spent."""
        now = self._clock.now()
        schedule = self._config.schedule
        budget = schedule.max_checks_per_run
        due_now = self._store.count_due_dispatch(now=now)
        chosen = min(due_now, budget)  # the orders this run asks about, budget permitting
        summary.count("deferred", due_now - chosen)
        used = asked = 0
        after: tuple[datetime, datetime, str] | None = None
        # Orders asked about in this run: one due again at once (a schedule interval of 0) and
        # paged again after its new due time is not asked twice. At most ``chosen`` ids.
        done: set[str] = set()
        while asked < chosen:
            due = self._store.due_dispatch(
                now=now, limit=min(schedule.batch_size, chosen - asked), after=after
            )
            if not due:
                return
            if after is not None:
                lock.renew()
            last = due[-1]
            assert last.next_check_at is not None  # due records have one
            after = (last.next_check_at, last.accepted_at, last.order_id)
            plan = plan_checks(
                [r for r in due if r.order_id not in done], now=now, schedule=schedule
            )
            by_id = {record.order_id: record for record in due}
            for order_id in plan.order_ids:
                if self._should_stop():
                    summary.stopped = "requested"
                    return
                if used >= budget:
                    summary.count("deferred", chosen - asked)
                    return
                asked += 1
                done.add(order_id)
                outcome = flow.check(by_id[order_id])
                used += outcome.requests
                self._count(summary, outcome)
            del due, by_id, plan  # not held while the next batch is read

    @staticmethod
    def _count(summary: DispatchSummaryBuilder, outcome: CheckOutcome) -> None:
        summary.count("checked", outcome.requests)
        summary.count("deliveries", outcome.deliveries)
        if outcome.outcome is DispatchOutcome.SHIPPED:
            summary.count("shipped")
        elif outcome.outcome is DispatchOutcome.PARTIAL:
            summary.count("partial")
        elif outcome.outcome is DispatchOutcome.CANCELLED:
            summary.count("cancelled")
        else:
            summary.count("waiting")
