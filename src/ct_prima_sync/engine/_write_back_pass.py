"""The write-back pass: Prima's reference back on the commercetools orders, beside the submissions.

Once the reference is recorded the order is in Prima; what is left is commercetools' side
(:class:`~._write_back.ReferenceWriter`). The order flow queues that write here and goes on with
the next order at once: a small pool of its own (``WriteBack.concurrency`` threads) writes while
the run keeps submitting. The run collects what the pool finished after each claim batch and at
its end:

- written back: the orders are marked ``done`` together, in one transaction
  (``StateStore.finish_write_backs``), which also closes their ``CT_WRITE_BACK_FAILED``
  exceptions;
- failed: the order is ``done`` all the same (it is in Prima, and every flow, health and finance
  see it so) with its write-back queued in the ledger for a retry after a backoff
  (``StateStore.defer_write_back``), and a ``CT_WRITE_BACK_FAILED`` exception owned by ecommerce
  says so. A retry only writes to commercetools: the order is never sent to Prima again.

With ``WriteBack.batch_size`` above 1 the queued write-backs go to the pool in groups of that
many (the group still filling is sent at every collection, so no order waits longer than it
would alone): one commercetools GraphQL request writes the whole group, an ``updateOrder`` per
order against its own version. An order whose update did not apply goes the one-order way
(:meth:`ReferenceWriter.write`, ``POST /orders/{id}``) in the same job: after a conflict it is
read again first; after an error or a request without an answer it is written with its version,
so an update the request did apply meets a 409, is read again and is found to need nothing. The
outcome per order is the one-order way's; nothing is ever written twice.

Each run also takes the queued retries that are due (``StateStore.claim_write_backs``), reads the
orders again and writes what is missing. A crash before an order's write-back was recorded
leaves it ``submitted``: the next run claims it once its lease runs out and queues its write-back
here again. :meth:`ReferenceWriter.actions` decides from the order as commercetools shows it, so
an order that already carries the reference gets no second write, whatever was repeated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

from attrs import frozen

from ..commercetools import (
    CommercetoolsClient,
    Order,
    OrderUpdateConflict,
    OrderUpdated,
    OrderUpdateFailed,
)
from ..state import Owner, StateStore
from ..state._write_backs import WRITE_BACK_SUBJECT
from ._clock import Clock
from ._config import EngineConfig
from ._details import with_order_number
from ._problems import ProblemKind, problem_from_error
from ._summary import SummaryBuilder
from ._write_back import ReferenceWriter

__all__ = ["WriteBackPass"]

_log = logging.getLogger("ct_prima_sync.engine.write_back")

#: The stage named in a write-back's exception.
STAGE = "write_back"


@frozen
class _Written:
    """What one write-back job came to (``error`` None: written)."""

    order_id: str
    order_number: str | None
    reference: str
    error: Exception | None


@frozen
class _Queued:
    """One order's write-back waiting for its group (``order`` None: read it again first)."""

    order_id: str
    order_number: str | None
    order: Order | None
    reference: str
    lease_expires_at: datetime | None


class WriteBackPass:
    """The queued write-backs of one engine; :meth:`queue` is called from the order flow's worker
    threads, everything else from the thread that runs the order run."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        store: StateStore,
        writer: ReferenceWriter,
        config: EngineConfig,
        clock: Clock,
        checkpoint: Callable[[str, str], None],
    ) -> None:
        self._ct = ct
        self._store = store
        self._writer = writer
        self._config = config
        self._clock = clock
        self._checkpoint = checkpoint
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._running: list[Future[list[_Written]]] = []
        # When the first lease of each job's orders runs out (none: queued retries, leased by
        # their due time): the run waits for a write-back before its order could be claimed again.
        self._leases: dict[int, datetime] = {}
        self._sizes: dict[int, int] = {}  # orders per job
        self._filling: list[_Queued] = []  # the group not yet sent (batch_size above 1)
        self._retries: list[Future[list[_Written]]] = []  # queued retries started
        self._asked = False  # whether this run asked for due retries yet
        self._more_due = False  # whether more queued retries may be due

    @property
    def _most_in_flight(self) -> int:
        """Write-backs in flight before the run waits for some (each holds its order)."""
        return max(2 * self._config.claim_batch, 2 * self._config.write_back.concurrency)

    def queue(
        self,
        order_id: str,
        order_number: str | None,
        order: Order | None,
        reference: str,
        *,
        lease_expires_at: datetime | None,
    ) -> None:
        """Write ``reference`` to ``order`` (None: read it again first) in the pool; the order's
        ledger row is finished when the run collects it, at the latest before its lease
        (``lease_expires_at``) is about to run out. With ``batch_size`` above 1 the order joins
        the group being filled, sent when full or at the next :meth:`collect`."""
        queued = _Queued(order_id, order_number, order, reference, lease_expires_at)
        with self._lock:
            self._filling.append(queued)
            if len(self._filling) < self._config.write_back.batch_size:
                return
            group, self._filling = self._filling, []
        self._submit_group(group)

    def collect(
        self, summary: SummaryBuilder, *, wait_all: bool = False, retries: bool = True
    ) -> None:
        """Record what the pool has finished (everything, waiting, with ``wait_all``), and, with
        ``retries``, start the queued retries that are due: asked at the run's first
        collection, and again while the queue hands out full batches (an empty queue costs one
        statement per run). Re-raises what a job met that is not an :class:`Exception` (a
        crash)."""
        if not self._asked:
            self._asked = True
            self._more_due = retries
        self._send_filling()
        self._start_due_retries()
        while True:
            self._send_filling()
            finished = self._take_finished(wait_all=wait_all)
            if finished:
                self._record(finished, summary)
            if not wait_all:
                return
            with self._lock:
                idle = not self._running
            if idle and not self._start_due_retries():
                return

    def close(self) -> None:
        """End of a run: wait for the jobs still running (a run that ends by an error) and stop
        the pool; what they wrote is recorded by no one, so their orders stay queued for the
        next run."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._running = []
            self._leases = {}
            self._sizes = {}
            self._filling = []  # never sent: still submitted in the ledger, for the next run
            self._retries = []
            self._asked = self._more_due = False  # the next run asks again
        if pool is not None:
            pool.shutdown(wait=True)

    # -- jobs ------------------------------------------------------------------------------------
    def _send_filling(self) -> None:
        """Send the group still filling, however few orders it has."""
        with self._lock:
            group, self._filling = self._filling, []
        if group:
            self._submit_group(group)

    def _submit_group(self, group: list[_Queued], *, retry: bool = False) -> None:
        leases = [q.lease_expires_at for q in group if q.lease_expires_at is not None]
        self._submit(
            lambda: self._write_group(group),
            retry=retry,
            lease_expires_at=min(leases) if leases else None,
            size=len(group),
        )

    def _submit(
        self,
        job: Callable[[], list[_Written]],
        *,
        retry: bool = False,
        lease_expires_at: datetime | None = None,
        size: int = 1,
    ) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._config.write_back.concurrency,
                    thread_name_prefix="ct-prima-sync-write-back",
                )
            future = self._pool.submit(job)
            self._running.append(future)
            self._sizes[id(future)] = size
            if lease_expires_at is not None:
                self._leases[id(future)] = lease_expires_at
            if retry:
                self._retries.append(future)

    def _write(
        self, order_id: str, order_number: str | None, order: Order | None, reference: str
    ) -> _Written:
        try:
            if order is None:
                order = self._ct.orders.get(order_id)
            self._writer.write(order, reference)
        except Exception as error:  # recorded by the run; one order never stops the others
            return _Written(order_id, order_number, reference, error)
        self._checkpoint("written_back", order_id)
        return _Written(order_id, order_number, reference, None)

    def _write_group(self, group: list[_Queued]) -> list[_Written]:
        """One GraphQL request for the group's orders; the one-order way for each order it did
        not write (read again first after a conflict). With ``batch_size`` 1, the one-order way
        only."""
        if self._config.write_back.batch_size == 1:
            return [self._write(q.order_id, q.order_number, q.order, q.reference) for q in group]
        written: dict[int, _Written] = {}
        ready: list[tuple[int, Order]] = []
        for index, queued in enumerate(group):
            if queued.order is not None:
                ready.append((index, queued.order))
                continue
            try:
                ready.append((index, self._ct.orders.get(queued.order_id)))
            except Exception as error:  # recorded by the run, as the one-order way does
                written[index] = _Written(
                    queued.order_id, queued.order_number, queued.reference, error
                )
        try:
            outcomes = self._writer.write_many([(o, group[i].reference) for i, o in ready])
        except Exception:  # e.g. the channel could not be read: each order read again, alone
            _log.info("grouped write-back not sent; each order is read again and written alone")
            outcomes = [OrderUpdateConflict(o.id, None) for _, o in ready]
        again_ones = [o for o in outcomes if isinstance(o, OrderUpdateConflict | OrderUpdateFailed)]
        if again_ones:
            codes = sorted(
                {
                    "ConcurrentModification"
                    if isinstance(o, OrderUpdateConflict)
                    else o.code or "-"
                    for o in again_ones
                }
            )
            _log.info(
                "grouped write-back: %d of %d orders go the one-order way (%s)",
                len(again_ones),
                len(outcomes),
                ", ".join(codes),
                extra={"codes": codes},
            )
        for (index, order), outcome in zip(ready, outcomes, strict=True):
            queued = group[index]
            if outcome is None or isinstance(outcome, OrderUpdated):
                self._checkpoint("written_back", queued.order_id)
                written[index] = _Written(
                    queued.order_id, queued.order_number, queued.reference, None
                )
            else:  # read again after a conflict; else its version tells whether it applied
                again = None if isinstance(outcome, OrderUpdateConflict) else order
                written[index] = self._write(
                    queued.order_id, queued.order_number, again, queued.reference
                )
        return [written[index] for index in range(len(group))]

    def _start_due_retries(self) -> bool:
        """Take queued retries that are due, unless some are in flight; whether any started."""
        with self._lock:
            self._retries = [f for f in self._retries if not f.done()]
            if self._retries or not self._more_due:
                return False
        due = self._store.claim_write_backs(
            lease_seconds=self._config.lease_seconds,
            limit=self._config.claim_batch,
            now=self._clock.now(),
        )
        self._more_due = len(due) == self._config.claim_batch
        size = self._config.write_back.batch_size
        queued = [
            _Queued(item.order_id, item.order_number, None, item.prima_reference, None)
            for item in due
        ]
        for start in range(0, len(queued), size):
            self._submit_group(queued[start : start + size], retry=True)
        return bool(due)

    def _take_finished(self, *, wait_all: bool) -> list[_Written]:
        with self._lock:
            running = list(self._running)
            leases = dict(self._leases)
            sizes = dict(self._sizes)

        def orders(futures: list[Future[list[_Written]]]) -> int:
            return sum(sizes.get(id(f), 1) for f in futures)

        if wait_all:
            wait(running)
        else:
            # An order whose lease is about to run out would be claimed again: wait for its
            # write-back (only when the write-backs fall far behind the submissions).
            soon = self._clock.now() + timedelta(seconds=self._config.lease_seconds / 10)
            wait([f for f in running if id(f) in leases and leases[id(f)] <= soon])
            if orders(running) > self._most_in_flight:  # far behind: let the submissions wait
                pending = [f for f in running if not f.done()]
                while orders(pending) > self._most_in_flight // 2:
                    wait(pending, return_when=FIRST_COMPLETED)
                    pending = [f for f in pending if not f.done()]
        done = [f for f in running if f.done()]
        with self._lock:
            taken = set(map(id, done))
            self._running = [f for f in self._running if id(f) not in taken]
            for key in taken:
                self._leases.pop(key, None)
                self._sizes.pop(key, None)
        return [w for f in done for w in f.result()]  # a crash in a job surfaces here

    # -- the ledger --------------------------------------------------------------------------------
    def _record(self, finished: list[_Written], summary: SummaryBuilder) -> None:
        written = [w for w in finished if w.error is None]
        if written:
            done = self._store.finish_write_backs(
                [w.order_id for w in written],
                worker_id=self._config.worker_id,
                now=self._clock.now(),
            )
            summary.count("write_backs_done", len(done))
            for order_id in done:
                self._checkpoint("done", order_id)
        for failed in finished:
            if failed.error is not None:
                self._defer(failed, failed.error, summary)

    def _defer(self, failed: _Written, error: Exception, summary: SummaryBuilder) -> None:
        now = self._clock.now()
        current = self._store.get_write_back(failed.order_id)
        attempts = (current.attempts if current is not None else 0) + 1
        retry_at = now + timedelta(seconds=self._config.retry.delay(attempts))
        counted = self._store.defer_write_back(
            failed.order_id, worker_id=self._config.worker_id, retry_at=retry_at, now=now
        )
        if counted is None:  # another worker has the order now, and its write-back
            return
        problem = problem_from_error(error, stage=STAGE)
        detail = {
            **problem.detail,
            "prima_reference": failed.reference,
            "attempts": counted,
            "original_kind": problem.kind,
            "message": "Prima has the order, but its reference could not be written to the "
            "commercetools order; the sync retries it (nothing is sent to Prima again). If it "
            "keeps failing, check the commercetools order and the [engine.write_back] settings",
        }
        if problem.kind == ProblemKind.CT_WRITE_BACK_FAILED:
            detail.pop("original_kind")
        self._store.record_exception(
            kind=ProblemKind.CT_WRITE_BACK_FAILED,
            owner=Owner.ECOMMERCE,
            detail=with_order_number(detail, failed.order_number),
            now=now,
            order_id=failed.order_id,
            transient=True,
            next_retry_at=retry_at,
            subject=WRITE_BACK_SUBJECT,
        )
        summary.count("write_backs_failed")
        summary.problem(ProblemKind.CT_WRITE_BACK_FAILED)
        _log.warning(
            "write-back failed; retried later",
            extra={
                "order_id": failed.order_id,
                "order_number": failed.order_number,
                "attempts": counted,
                "retry_at": retry_at.isoformat(),
            },
        )
