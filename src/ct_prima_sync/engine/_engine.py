"""``SyncEngine``: the flows a host application calls on a schedule or per message."""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ..commercetools import CommercetoolsClient, Order
from ..errors import (
    CommercetoolsError,
    ConfigurationError,
    NotFoundError,
    PayloadError,
)
from ..mapping import MappingConfig, PostingPeriod, PrimaListedOrder
from ..prima import PrimaGateway, RequestFlow, for_flow
from ..state import (
    ExceptionFilter,
    ExceptionRecord,
    OrderRecord,
    Owner,
    PostingBatch,
    StateStore,
    installation_secret,
)
from ._adaptive import AimdRate, paced
from ._alerts import alert_owners
from ._batch_leases import BatchLeases
from ._breaker import CircuitBreaker, guarded, record_outage, resolve_outages
from ._budget import client_rate_limit, shared_budget_of
from ._clock import Clock, SystemClock
from ._config import EngineConfig
from ._dispatch_run import DispatchRun
from ._dispatch_summary import DispatchSummary
from ._flow_runs import track_flow_run
from ._golive import RehearsalReport, rehearse
from ._health import WAITING, HealthPolicy, HealthReport, health_report, write_backs_pending
from ._ingest import (
    Readiness,
    readiness,
)
from ._locks import LeaseLock
from ._locks import try_lock as _try_lock
from ._message_order import message_order, record_order_not_found
from ._notify import LoggingNotifier, Notifier
from ._order_batch import Prepared, chunks_to_send
from ._order_flow import Checkpoint, OrderFlow, Outcome
from ._order_ingest import AfterPage, OrderIngest
from ._payloads import IgnoredPayload, OrderPayload, read_payload
from ._polled_drain import DrainRun, Progress, batch_orders, poll_and_work
from ._postings_config import PostingsConfig
from ._postings_run import PostingRun, PostingSummary
from ._problems import ProblemKind
from ._queue import (
    check_kind,
    list_exceptions,
    replay_exception,
    replay_exceptions,
    resolve_finished_exceptions,
)
from ._reconcile_run import ReconciliationReport, reconcile_period
from ._recorded_runs import record_dispatch, record_postings, record_shadow
from ._stock_config import StockIngest
from ._stock_flow import StockFlow
from ._stock_run import run_stock
from ._stock_summary import StockRunStatus, StockRunSummary
from ._summary import RunSummary, SummaryBuilder
from ._timing import Timing, prima_request_timeout
from ._tracing import Span, span, start_span
from ._verify import VerifyReport, verify_unsent_orders

if TYPE_CHECKING:
    from ._build import SettingsSource

__all__ = ["HealthReport", "Progress", "SyncEngine"]


_log = logging.getLogger("ct_prima_sync.engine")

_FINISHED_SWEPT = "exceptions.finishedSweptAt"
#: How often a run looks for exceptions left open on finished orders (it reads every open one).
_SWEEP_SECONDS = 300.0


class SyncEngine:
    """Keeps commercetools orders flowing into Prima exactly once, and Prima's stock flowing back.

    The engine owns nothing but behaviour: the commercetools client, the Prima gateway, the state
    store and the mapping configuration are the host's, and one engine may be called from a cron
    job, a task queue or a web request. Several engines (processes, machines) may share one
    PostgreSQL store; each needs its own ``config.worker_id``.

    ``checkpoint`` is for tests: it is called at every step boundary (``(step, order id)``;
    ``(step, subject)`` in the stock run) and may raise to simulate a crash there.
    """

    def __init__(
        self,
        *,
        commercetools: CommercetoolsClient,
        prima: PrimaGateway,
        store: StateStore,
        mapping: MappingConfig,
        config: EngineConfig | None = None,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        checkpoint: Checkpoint | None = None,
        postings: PostingsConfig | None = None,
    ) -> None:
        self._ct = commercetools
        self._postings = postings
        self._prima = prima
        self._mapping = mapping
        self._checkpoint = checkpoint
        self._store = store
        self._config = config or EngineConfig()
        self._clock = clock or SystemClock()
        self._notifier = notifier or LoggingNotifier()
        self._stop = threading.Event()
        self._breaker = CircuitBreaker(self._config.breaker_threshold)
        self._timing = Timing(
            lease_seconds=self._config.lease_seconds,
            request_timeout=prima_request_timeout(prima, self._config.prima_request_timeout),
        )
        self._misfit: ConfigurationError | None = None
        self._misfit_lock = threading.Lock()
        # The spans of orders prepared and waiting for their batched request's answer.
        self._order_spans: dict[str, Span] = {}
        self._spans_lock = threading.Lock()
        flow_config = self._config.submission_flow
        # A shared budget that adapts paces every worker's requests itself; otherwise the
        # engine paces its own submissions (one process: the memory store, a host's client).
        self._budget = shared_budget_of(prima)
        adapts = self._budget is not None and self._budget.shared_rate is not None
        self._aimd = (
            None
            if flow_config is None or adapts
            else AimdRate(flow_config, rate_limit=client_rate_limit(prima))
        )
        submitting = prima if self._aimd is None else paced(prima, self._aimd, self._clock)
        self._flow = OrderFlow(
            ct=commercetools,
            prima=guarded(
                for_flow(submitting, RequestFlow.ORDERS), lambda: self._breaker.tripped is not None
            ),
            store=store,
            mapping=mapping,
            config=self._config,
            clock=self._clock,
            timing=self._timing,
            key_secret=installation_secret(self._config.customer_key_secret, os.environ),
            checkpoint=checkpoint,
        )
        self._owned: contextlib.ExitStack | None = None
        self._seen: dict[str, Order] = {}
        self._ingest = OrderIngest(
            ct=commercetools,
            store=store,
            mapping=mapping,
            config=self._config,
            clock=self._clock,
            seen=self._seen,
        )
        self._trace_parent: Any = None
        self._stock = StockFlow(
            ct=commercetools,
            prima=for_flow(prima, RequestFlow.STOCK),
            store=store,
            stock=mapping.stock,
            config=self._config.stock,
            clock=self._clock,
            ingest=self._stock_ingest,
            checkpoint=checkpoint,
            should_stop=self._stop.is_set,
        )

    @classmethod
    def from_settings(
        cls,
        source: SettingsSource,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        shop: str | None = None,
    ) -> Self:
        """An engine built from the settings file at ``source`` (a path), from settings already
        parsed (a mapping shaped like the file) or from
        :class:`~ct_prima_sync.settings.Settings`, the way the ``ct-prima-sync`` command builds
        its own: the state store of ``[state]``, a commercetools client of ``[commercetools]``,
        an omlink client of ``[prima]``, ``[mapping]``, ``[engine]`` and ``[alerts]`` (unless
        ``notifier`` is given). Secrets come from ``environ`` (default ``os.environ``). Where
        several shops feed one Prima (``[sources.<name>]``), ``shop`` names the one this engine
        runs: its project, stores, Prima company and order number prefix, over the shared store.

        The engine owns what it opened: use it in a ``with`` block or call :meth:`close`.
        Raises :class:`~ct_prima_sync.errors.SettingsError` listing every problem of the
        settings, and :class:`~ct_prima_sync.errors.ConfigurationError` when a section the
        engine needs is missing.
        """
        from ._build import build_engine  # noqa: PLC0415 (the settings import the engine)

        return build_engine(cls, source, environ=environ, clock=clock, notifier=notifier, shop=shop)

    def own(self, resources: contextlib.ExitStack) -> None:
        """Make ``resources`` (what was opened for this engine) close with :meth:`close`."""
        if self._owned is None:
            self._owned = contextlib.ExitStack()
        self._owned.enter_context(resources)

    def close(self) -> None:
        """Close what the engine opened itself (:meth:`from_settings`: the store and both
        clients); an engine built from parts the host passed in closes nothing. Idempotent."""
        owned, self._owned = self._owned, None
        if owned is not None:
            owned.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def config(self) -> EngineConfig:
        """The engine's configuration."""
        return self._config

    @contextlib.contextmanager
    def try_lock(
        self, name: str = "poll", *, ttl_seconds: float = 300.0
    ) -> Iterator[LeaseLock | None]:
        """For hosts that schedule on several workers: take the store's lease lock ``name``
        (owned by this holder alone, never shared with other engines of the same worker id),
        renewed in the background while the block runs, released on exit. Yields the lock, or
        None at once when another holder has it::

            with engine.try_lock("poll") as lock:
                if lock is None:
                    return  # another worker polls
                engine.sync_orders()

        A holder that stops renewing (the process died) loses the lock ``ttl_seconds`` later;
        ``lock.held`` turns False if a renewal found another holder had taken it.
        """
        with _try_lock(
            self._store,
            f"host:{name}",
            holder=self._config.worker_id,
            ttl_seconds=ttl_seconds,
            clock=self._clock,
        ) as lock:
            yield lock

    def request_stop(self) -> None:
        """Ask the order run in progress (or, if none is, the next one) to stop: orders in hand
        are finished, orders claimed but not started are released at once, and the run returns
        its summary (``stopped`` is ``"requested"``). A dispatch run finishes the order in hand
        and returns likewise; a stock run finishes the chunk in hand (status ``stopped``). Safe
        to call from a signal handler or another thread; the run after that one starts afresh."""
        self._stop.set()

    # -- ingest ------------------------------------------------------------------------------------
    def ingest_order(self, order: Order) -> bool:
        """Put one commercetools order in the ledger if it is eligible; True if it was new.

        Seeing an order again is harmless (duplicates from polling overlap or redelivered messages
        change nothing but the recorded version). An order not yet due (too young, or dated after
        this engine's clock) is not ingested: polling sees it again once it is due. It is held,
        as is an order waiting for payment: the stock flow counts its units as sold until it is
        ingested or seen no longer eligible (docs/stock.md).
        """
        return self._ingest.ingest_one(order) is True

    def poll_orders(self, *, overlap_seconds: float | None = None) -> int:
        """Read orders modified since the stored cursor (with the overlap window, by default the
        configured ``poll_overlap_seconds``) into the ledger; returns how many were new.

        The cursor never passes an order that is not yet due: it is held at the earliest such
        order's modification time, so the next polls read it again until it is due.
        """
        return self._ingest.poll_orders(overlap_seconds)[0]

    def poll_messages(self, *, overlap_seconds: float | None = None) -> int:
        """Read ``OrderCreated`` and ``OrderImported`` messages since the stored cursor (with the
        overlap window) into the ledger; returns how many orders were new. An alternative to
        :meth:`poll_orders` for projects with messages enabled: it sees new orders only. As with
        polling, the cursor never passes the message of an order that is not yet due."""
        return self._ingest.poll_messages(overlap_seconds)[0]

    def handle_message(self, payload: Mapping[str, Any]) -> RunSummary:
        """Take one subscription payload and sync the one order it is about.

        Accepts what a commercetools Subscription delivers, in either format: ``Platform``
        (an order message such as ``OrderCreated``, or a ``ResourceCreated`` /
        ``ResourceUpdated`` change notification) and ``CloudEvents`` (the same in ``data``). An
        order message that carries the order is used as is; otherwise the order is read from
        commercetools. Only that order is worked (the backlog is the scheduled run's job).

        Nothing is dropped silently: a payload about anything else is counted as ``ignored``,
        with ``ignored_reason``, and logged at INFO; an order deleted in commercetools becomes a
        ``CT_ORDER_NOT_FOUND`` exception (owner ecommerce) and a normal return, so the host
        acknowledges the message. Raises :class:`~ct_prima_sync.errors.PayloadError` when
        ``payload`` is not a JSON object at all, and
        :class:`~ct_prima_sync.errors.CommercetoolsError` when commercetools does not answer
        the read of the order: leave the message unacknowledged so the subscription
        redelivers it.
        """
        target = read_payload(payload)
        return self._tracked(lambda: self._handle_message(target))

    def _handle_message(self, target: OrderPayload | IgnoredPayload) -> RunSummary:
        summary = SummaryBuilder(self._clock.now())
        if isinstance(target, IgnoredPayload):
            _log.info("subscription payload ignored: %s", target.reason)
            summary.count("ignored")
            summary.ignored_reason = target.reason
            return self._finish_run(summary)
        try:
            order = message_order(self._ct, target)
        except NotFoundError as error:
            record_order_not_found(self._store, self._mapping, target, error, now=self._clock.now())
            return self._finish_run(summary)
        outcome = self._ingest.ingest_one(order, summary)
        summary.count("ingested", int(outcome is True))
        summary.count("not_yet_due", int(outcome is Readiness.NOT_YET_DUE))
        if isinstance(outcome, Readiness):
            return self._finish_run(summary)
        return self._drain(summary, max_orders=None, only=order.id)

    # -- the order flow ----------------------------------------------------------------------------
    def sync_orders(
        self,
        *,
        max_orders: int | None = None,
        from_messages: bool = False,
        progress: Progress | None = None,
    ) -> RunSummary:
        """One full order run: poll (orders by ``lastModifiedAt``, or the messages API with
        ``from_messages``), then work the backlog (new orders and retries that are due) until it
        is empty or ``max_orders`` have been processed.

        The run stops early when Prima or commercetools stops answering (the circuit breaker,
        ``config.breaker_threshold``; see ``RunSummary.stopped``) or :meth:`request_stop` is
        called. ``progress`` is called from the worker threads as orders finish. Each run is
        recorded in the store as a run of the ``orders`` flow (``health``, metrics).

        Raises :class:`~ct_prima_sync.errors.ConfigurationError` (for example
        :class:`~ct_prima_sync.errors.PrimaSoapMismatchError`) when the settings turn out not to
        fit the systems: no order is to blame, so the orders the run held are given back
        untouched (no exception recorded) for the next run once the settings are fixed.
        """
        return self._tracked(
            lambda: self._sync_orders(
                max_orders=max_orders, from_messages=from_messages, progress=progress
            )
        )

    def _sync_orders(
        self, *, max_orders: int | None, from_messages: bool, progress: Progress | None
    ) -> RunSummary:
        summary = SummaryBuilder(self._clock.now())

        def poll(after_page: AfterPage) -> object:
            if from_messages:
                return self._ingest.poll_messages(summary=summary, after_page=after_page)
            return self._ingest.poll_orders(summary=summary, after_page=after_page)

        return self._drain(summary, max_orders=max_orders, progress=progress, poll=poll)

    def process_backlog(
        self, *, max_orders: int | None = None, progress: Progress | None = None
    ) -> RunSummary:
        """Work the ledger's backlog without polling commercetools first."""
        return self._tracked(
            lambda: self._drain(
                SummaryBuilder(self._clock.now()), max_orders=max_orders, progress=progress
            )
        )

    def _tracked(self, work: Callable[[], RunSummary]) -> RunSummary:
        """Run ``work`` as one recorded run of the ``orders`` flow, in its own span."""
        with (
            track_flow_run(self._store, "orders", clock=self._clock) as run,
            span("ct_prima_sync.run", flow="orders", worker=self._config.worker_id) as run_span,
        ):
            self._trace_parent = run_span.context
            sent = self._submissions_sent()
            try:
                summary = work()
            finally:
                self._trace_parent = None
            rate = self._submission_rate()
            if rate is not None:
                summary = summary.with_submission_rate(
                    rate, submissions=self._submissions_sent() - sent
                )
            run.add(summary.counts())
            run_span.set(**summary.counts(), backlog=summary.backlog, stopped=summary.stopped)
            if summary.stopped is not None:
                reason = (
                    "stopped on request"
                    if summary.stopped == "requested"
                    else f"{summary.stopped}: the run stopped after "
                    f"{self._config.breaker_threshold} orders in a row got no answer "
                    f"(exception #{summary.outage_exception_id})"
                )
                run.fail(reason)
                run_span.error(reason)
            return summary

    def _submission_rate(self) -> float | None:
        """With adaptive flow control, the rate allowed now: every worker's shared rate when
        the budget adapts for all of them, else this engine's own; None without it."""
        if self._aimd is not None:
            return self._aimd.rate
        if self._config.submission_flow is not None and self._budget is not None:
            return self._budget.current_rate
        return None

    def _submissions_sent(self) -> int:
        if self._aimd is not None:
            return self._aimd.sent
        return 0 if self._budget is None else self._budget.submissions()

    def _stopped_by_outage(self, summary: SummaryBuilder, kind: ProblemKind) -> RunSummary:
        outage = record_outage(
            self._store,
            kind,
            failed_orders=self._breaker.streak(kind),
            orders_waiting=self._backlog,
            now=self._clock.now(),
        )
        summary.stopped = kind.value
        summary.outage_exception_id = outage.exception_id
        _log.error("run stopped: %s", outage.detail["message"])
        return self._finish_run(summary)

    def _finish_run(self, summary: SummaryBuilder) -> RunSummary:
        self._stop.clear()
        for record in self._alert(summary.started_at, summary):
            summary.problem(record.kind)
        result = summary.build(
            self._clock.now(),
            backlog=self._backlog(),
            write_backs_pending=write_backs_pending(self._store),
        )
        _log.info("order run finished", extra={"summary": result.as_dict()})
        return result

    def _should_stop(self) -> bool:
        return self._stop.is_set() or self._breaker.tripped is not None or self._misfit is not None

    def _drain(
        self,
        summary: SummaryBuilder,
        *,
        max_orders: int | None,
        progress: Progress | None = None,
        only: str | None = None,
        poll: Callable[[AfterPage], object] | None = None,
    ) -> RunSummary:
        """Work the backlog (or with ``only``, just that order, if it is claimable); with
        ``poll``, after each page it polls too (``_polled_drain``)."""
        self._sweep_finished()
        self._breaker = CircuitBreaker(self._config.breaker_threshold)
        self._misfit = None
        run = DrainRun(summary, max_orders=max_orders, progress=progress, only=only)
        # One worker thread would only add hand-offs: with concurrency 1 the caller's thread works.
        pool = (
            ThreadPoolExecutor(
                max_workers=self._config.concurrency, thread_name_prefix="ct-prima-sync"
            )
            if self._config.concurrency > 1
            else None
        )
        # Requests go from threads of their own, so that the next claim batch is prepared in
        # ``pool`` while this one's requests wait for the request budget.
        senders = (
            ThreadPoolExecutor(
                max_workers=self._config.concurrency, thread_name_prefix="ct-prima-sync-send"
            )
            if pool is not None and self._config.submit_batch_size > 1
            else None
        )
        unanswered: CommercetoolsError | None = None
        try:
            if poll is not None:
                unanswered = poll_and_work(
                    poll,
                    run,
                    work=lambda: self._work_backlog(run, pool, senders),
                    forget=self._seen.clear,
                    stopping=self._should_stop,
                    backlog=self._backlog,
                )
            if unanswered is None and not run.exhausted:
                if progress is not None:
                    run.plan(self._backlog())
                self._work_backlog(run, pool, senders)
            self._flow.write_backs.collect(summary, wait_all=True, retries=only is None)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            if senders is not None:
                senders.shutdown(wait=True)
            self._flow.write_backs.close()
        self._seen.clear()
        misfit = self._take_misfit()
        if misfit is not None:
            self._stop.clear()
            _log.error("order run stopped: %s", misfit, extra={"error_type": type(misfit).__name__})
            raise misfit
        if unanswered is not None:  # the orders' own answers are not the poll's
            self._breaker = CircuitBreaker(self._config.breaker_threshold)
            return self._stopped_by_outage(summary, ProblemKind.CT_UNAVAILABLE)
        tripped = self._breaker.tripped
        for kind in (ProblemKind.PRIMA_UNAVAILABLE, ProblemKind.CT_UNAVAILABLE):
            if kind is not tripped and self._breaker.answered(kind):
                resolve_outages(self._store, kind, now=self._clock.now())
        if tripped is not None:
            return self._stopped_by_outage(summary, tripped)
        if self._stop.is_set():
            summary.stopped = "requested"
        return self._finish_run(summary)

    def _work_backlog(
        self,
        run: DrainRun,
        pool: ThreadPoolExecutor | None,
        senders: ThreadPoolExecutor | None = None,
    ) -> None:
        """Claim and work batches until none is claimable, ``max_orders`` are processed or the
        run stops; each batch's orders not in memory are read in one query (``batch_orders``).
        With ``senders``, a batch's requests are still going while the next batch is claimed
        and prepared: at most two batches are in hand, and all are answered before this
        returns."""
        in_flight: list[Future[None]] = []
        try:
            self._claim_and_work(run, pool, senders, in_flight)
        finally:
            wait(in_flight)
        for sent in in_flight:
            sent.result()

    def _claim_and_work(
        self,
        run: DrainRun,
        pool: ThreadPoolExecutor | None,
        senders: ThreadPoolExecutor | None,
        in_flight: list[Future[None]],
    ) -> None:
        before: BatchLeases | None = None  # the batch whose requests are in ``in_flight``
        while not self._should_stop():
            limit = run.claim_limit(self._config.claim_batch)
            if not limit:
                break
            claimed = self._claim(limit, run.only)
            run.exhausted = not claimed
            if not claimed:
                break
            if before is not None:
                claimed = before.not_held(claimed)
                if not claimed:  # all of them the batch before's: it is answered first
                    for sent in in_flight:
                        sent.result()
                    in_flight.clear()
                    before = None
                    continue
            leases = BatchLeases(
                self._store,
                claimed,
                worker_id=self._config.worker_id,
                timing=self._timing,
                clock=self._clock,
            )
            orders = {} if self._should_stop() else batch_orders(self._ct, claimed, self._seen)
            # The customer map entries of the orders to prepare, read in one query.
            self._flow.read_accounts(
                order
                for record in claimed
                if not record.prima_reference and (order := orders.get(record.order_id))
            )
            if self._config.submit_batch_size > 1:
                sending = self._work_in_requests(
                    claimed, leases, pool, run.tally, orders, senders=senders
                )
                # The senders take requests in order: the batch before went first, and it is
                # answered before another batch is claimed (two in hand at most).
                for sent in in_flight:
                    sent.result()
                in_flight[:] = sending
                before = leases if sending else None
            else:

                def start(
                    record: OrderRecord,
                    leases: BatchLeases = leases,
                    orders: Mapping[str, Order] = orders,
                ) -> Outcome:
                    return run.tally(self._process(leases.start(record), orders))

                outcomes: Iterable[Outcome] = (
                    pool.map(start, claimed) if pool else map(start, claimed)
                )
                for _outcome in outcomes:
                    pass
            # Beside the submissions, never before; a run for one order retries no others.
            self._flow.write_backs.collect(run.summary, retries=run.only is None)
            run.processed += len(claimed)
            self._log_progress(run.summary)
            if run.only is not None:
                break

    def _claim(self, limit: int, only: str | None) -> list[OrderRecord]:
        if only is None:
            return self._store.claim(
                self._config.worker_id,
                lease_seconds=self._config.lease_seconds,
                limit=limit,
                now=self._clock.now(),
            )
        record = self._store.claim_order(
            only,
            self._config.worker_id,
            lease_seconds=self._config.lease_seconds,
            now=self._clock.now(),
        )
        return [record] if record is not None else []

    def _sweep_finished(self) -> None:
        """Close exceptions left open on finished orders, at most every few minutes (a run per
        subscription message must not read the whole queue each time)."""
        now = self._clock.now()
        swept = self._store.get_cursor(_FINISHED_SWEPT)
        if swept and now < datetime.fromisoformat(swept.value) + timedelta(seconds=_SWEEP_SECONDS):
            return
        closed = resolve_finished_exceptions(self._store, now=now)
        if closed:
            _log.info("closed exceptions of finished orders", extra={"resolved": closed})
        self._store.set_cursor(_FINISHED_SWEPT, now.isoformat(), now=now)

    def _take_misfit(self) -> ConfigurationError | None:
        """The configuration error that stopped this run, if one did (and forget it)."""
        with self._misfit_lock:
            misfit, self._misfit = self._misfit, None
        return misfit

    def _work_in_requests(
        self,
        claimed: Sequence[OrderRecord],
        leases: BatchLeases,
        pool: ThreadPoolExecutor | None,
        tally: Callable[[Outcome], Outcome],
        orders: Mapping[str, Order],
        *,
        senders: ThreadPoolExecutor | None = None,
    ) -> list[Future[None]]:
        """Work a claim batch in batched requests: prepare its orders (in the pool), then send
        them up to ``submit_batch_size`` per ``MultiNewOrder``: from ``senders`` if given
        (returns the requests going, for the caller to wait on), else in the pool."""

        def prepare(record: OrderRecord) -> Prepared | None:
            record = leases.prepare(record)
            prepared = self._prepare(record, orders.get(record.order_id))
            if isinstance(prepared, Outcome):
                leases.start(record)  # done with: no longer kept alive
                outcome = self._observed(record, prepared)
                leases.settled(record.order_id)
                tally(outcome)
                return None
            return prepared

        def send(chunk: list[Prepared]) -> None:
            for member in chunk:
                leases.start(member.record)
            outcomes = self._send(chunk)
            # One request: its failures count once towards the circuit breaker.
            self._breaker.observe_request(
                self._observation(member.record, outcome)
                for member, outcome in zip(chunk, outcomes, strict=True)
                if outcome is not Outcome.RELEASED
            )
            for member, outcome in zip(chunk, outcomes, strict=True):
                self._end_span(member.record.order_id, outcome)
                leases.settled(member.record.order_id)
                tally(outcome)

        ready = [p for p in (pool.map if pool else map)(prepare, claimed) if p is not None]
        requests = chunks_to_send(ready, self._config.submit_batch_size)
        if senders is not None:
            return [senders.submit(send, chunk) for chunk in requests]
        for _sent in (pool.map if pool else map)(send, requests):
            pass
        return []

    def _process(self, record: OrderRecord, orders: Mapping[str, Order]) -> Outcome:
        if self._should_stop():
            self._store.release_lease(
                record.order_id, worker_id=self._config.worker_id, now=self._clock.now()
            )
            return Outcome.RELEASED
        outcome = self._traced(
            record, lambda: self._flow.process(record, orders.get(record.order_id))
        )
        return self._observed(record, outcome)

    def _prepare(self, record: OrderRecord, order: Order | None) -> Prepared | Outcome:
        """Prepare one order in its span, which stays open until its request is answered
        (:meth:`_end_span`)."""
        if self._should_stop():
            self._store.release_lease(
                record.order_id, worker_id=self._config.worker_id, now=self._clock.now()
            )
            return Outcome.RELEASED
        order_span = start_span(
            "ct_prima_sync.order",
            parent=self._trace_parent,
            order_number=record.order_number,
            order_id=record.order_id,
            attempt=record.attempts,
        )
        with self._spans_lock:
            self._order_spans[record.order_id] = order_span
        result: Prepared | Outcome
        try:
            result = self._flow.prepare(record, order)
        except ConfigurationError as misfit:  # the flow gave the order back; stop the run
            self._note_misfit(misfit)
            result = Outcome.RELEASED
        except BaseException:
            self._end_span(record.order_id, None)
            raise
        if isinstance(result, Outcome):
            self._end_span(record.order_id, result)
        return result

    def _end_span(self, order_id: str, outcome: Outcome | None) -> None:
        with self._spans_lock:
            order_span = self._order_spans.pop(order_id, None)
        if order_span is not None:
            order_span.set(outcome=None if outcome is None else str(outcome))
            order_span.end()

    def _send(self, chunk: Sequence[Prepared]) -> list[Outcome]:
        """Send one request's orders; every one is given back if the run is stopping."""
        if self._should_stop():
            for member in chunk:
                self._flow.give_back(member.record.order_id)
            return [Outcome.RELEASED] * len(chunk)
        with span(
            "ct_prima_sync.submit_batch", parent=self._trace_parent, orders=len(chunk)
        ) as batch_span:
            try:
                outcomes = self._flow.submit_batch(chunk)
            except ConfigurationError as misfit:  # the flow gave them back; stop the run
                self._note_misfit(misfit)
                return [Outcome.RELEASED] * len(chunk)
            batch_span.set(posted=sum(o is Outcome.POSTED for o in outcomes))
        return outcomes

    def _traced(self, record: OrderRecord, step: Callable[[], Outcome]) -> Outcome:
        """Run one order's ``step`` in its span; a misfit stops the run (the order given back)."""
        with span(
            "ct_prima_sync.order",
            parent=self._trace_parent,
            order_number=record.order_number,
            order_id=record.order_id,
            attempt=record.attempts,
        ) as order_span:
            try:
                result = step()
            except ConfigurationError as misfit:  # the flow gave the order back; stop the run
                self._note_misfit(misfit)
                order_span.set(outcome=str(Outcome.RELEASED))
                return Outcome.RELEASED
            order_span.set(outcome=str(result))
        return result

    def _note_misfit(self, misfit: ConfigurationError) -> None:
        with self._misfit_lock:
            self._misfit = self._misfit or misfit

    def _observed(self, record: OrderRecord, outcome: Outcome) -> Outcome:
        """Tell the circuit breaker how the order's attempt ended."""
        if outcome is Outcome.RELEASED:
            return outcome
        self._breaker.observe(*self._observation(record, outcome))
        return outcome

    def _observation(
        self, record: OrderRecord, outcome: Outcome
    ) -> tuple[str, Outcome, str | None]:
        """What the circuit breaker is told of the order's attempt: its id, outcome and, for a
        retry that was no answer from Prima, the error on record."""
        error = None
        answered = self._flow.took_answer(record.order_id)
        if outcome is Outcome.RETRYING and not answered:
            after = self._store.get_order(record.order_id)
            error = after.last_error if after is not None else None
        return record.order_id, outcome, error

    def _backlog(self) -> int:
        counts = self._store.count_orders_by_status()
        return sum(counts.get(status, 0) for status in WAITING)

    def _log_progress(self, summary: SummaryBuilder) -> None:
        if not _log.isEnabledFor(logging.INFO):  # the backlog count scans the ledger
            return
        done = sum(summary.snapshot(str(o)) for o in Outcome)
        elapsed = (self._clock.now() - summary.started_at).total_seconds()
        rate = done / elapsed if elapsed > 0 else 0.0
        backlog = self._backlog()
        _log.info(
            "progress: %d processed, %d waiting",
            done,
            backlog,
            extra={
                "processed": done,
                "backlog": backlog,
                "rate_per_second": round(rate, 2),
                "eta_seconds": round(backlog / rate, 1) if rate else None,
            },
        )

    # -- after a restore ---------------------------------------------------------------------------
    def verify_against_prima(self, *, older_than_seconds: float | None = None) -> VerifyReport:
        """Ask Prima before anything is sent again, after a state backup was restored.

        First a poll (the restored cursor brings back the orders the backup never saw), then a
        status check of every order without a Prima reference placed at least
        ``older_than_seconds`` ago (default ``config.verify_older_than_seconds``): those Prima
        has are recorded, so the next run only writes their reference back; the rest the next
        run sends. Sends nothing itself. Run it while no sync runs on the same state.
        """
        age = self._config.verify_older_than_seconds
        if older_than_seconds is not None:
            age = older_than_seconds
        placed: dict[str, datetime] = {}
        self._ingest.poll_orders(placed=placed)
        self._seen.clear()
        return verify_unsent_orders(
            store=self._store,
            prima=for_flow(self._prima, RequestFlow.ORDERS),
            worker_id=self._config.worker_id,
            lease_seconds=self._timing.submission_lease_seconds,
            older_than=timedelta(seconds=age),
            now=self._clock.now,
            # The ledger's row is never older than the order it records.
            created_at=lambda record: placed.get(record.order_id, record.created_at),
        )

    # -- going live --------------------------------------------------------------------------------
    def orders_created_between(self, start: datetime, end: datetime) -> Iterator[Order]:
        """commercetools orders created at or after ``start`` and before ``end``, page by page."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ConfigurationError("the replay range needs times with a UTC offset")
        if not start < end:
            raise ConfigurationError("the replay range must start before it ends")
        return self._ct.orders.query(
            "createdAt >= :ctpsFrom and createdAt < :ctpsTo",
            variables={"ctpsFrom": start, "ctpsTo": end},
        )

    def replay_orders(
        self,
        start: datetime,
        end: datetime,
        *,
        max_orders: int | None = None,
        progress: Progress | None = None,
    ) -> RunSummary:
        """A bounded replay: ingest the eligible orders created in ``[start, end)`` (orders the
        ledger has already finished stay as they are) and work the backlog, as one recorded run
        of the ``orders`` flow. Safe to repeat: an order Prima already has is recognised by its
        order number, never sent twice."""

        def work() -> RunSummary:
            summary = SummaryBuilder(self._clock.now())
            try:
                added, not_due = self._ingest.ingest_all(
                    self.orders_created_between(start, end), summary
                )
                summary.count("ingested", added)
                summary.count("not_yet_due", not_due)
            except CommercetoolsError as error:
                if isinstance(error, PayloadError):
                    raise
                _log.warning("commercetools did not answer the replay query: %s", error)
                self._breaker = CircuitBreaker(self._config.breaker_threshold)
                return self._stopped_by_outage(summary, ProblemKind.CT_UNAVAILABLE)
            return self._drain(summary, max_orders=max_orders, progress=progress)

        return self._tracked(work)

    def rehearse(
        self,
        *,
        orders: Iterable[Order] | None = None,
        record: bool = False,
        max_orders: int | None = None,
    ) -> RehearsalReport:
        """A dry run (``record`` False: report only) or a shadow run (``record`` True: keep the
        results in the store for ``compare_with_prima``, as a run of the ``shadow`` flow): every
        order goes through the order flow, and nothing is sent to Prima or written to
        commercetools (see ``engine/_golive.py``). ``orders`` None: what a run would take now;
        else these orders (e.g. :meth:`orders_created_between`)."""

        def go() -> RehearsalReport:
            return rehearse(
                commercetools=self._ct,
                prima=self._prima,
                store=self._store,
                mapping=self._mapping,
                config=self._config,
                clock=self._clock,
                orders=orders,
                record=record,
                max_orders=max_orders,
            )

        if not record:
            return go()
        return record_shadow(go, store=self._store, clock=self._clock)

    # -- the dispatch flow -------------------------------------------------------------------------
    def sync_dispatch(self) -> DispatchSummary:
        """One dispatch run: start following the orders Prima accepted, pass on changes made in
        commercetools since (cancellations, edits, returns), and ask Prima about the orders that
        are due, within ``config.dispatch.schedule``'s budget. Whatever Prima reports despatched
        becomes deliveries with parcels and the shipment state in commercetools, exactly once;
        nothing reaches commercetools before Prima confirms. Safe to call from several workers:
        one runs, the others return a summary with ``skipped`` (docs/dispatch.md)."""
        run = DispatchRun(
            ct=self._ct,
            prima=for_flow(self._prima, RequestFlow.DISPATCH),
            store=self._store,
            mapping=self._mapping,
            config=self._config,
            clock=self._clock,
            checkpoint=self._checkpoint,
            should_stop=self._stop.is_set,
        )
        return record_dispatch(
            run,
            store=self._store,
            clock=self._clock,
            alert=self._alert,
            finished=self._stop.clear,
        )

    # -- finance postings --------------------------------------------------------------------------
    @property
    def postings(self) -> PostingsConfig:
        """The ``[postings]`` configuration (the defaults when the engine was given none)."""
        return self._postings or PostingsConfig()

    def posting_period(self, period: PostingPeriod | str | None = None) -> PostingPeriod:
        """``period`` as a :class:`~ct_prima_sync.mapping.PostingPeriod`; None: yesterday in the
        business's timezone (the daily close)."""
        if isinstance(period, PostingPeriod):
            return period
        if period is not None:
            return PostingPeriod.parse(period)
        today = self._clock.now().astimezone(self.postings.zone).date()
        return PostingPeriod.day(today - timedelta(days=1))

    def post_batches(self, *, period: PostingPeriod | str | None = None) -> PostingSummary:
        """Close a period (default: yesterday, in the business's timezone): batch the money (or,
        in the revenue mode, the sales) of the orders in Prima whose day falls in it or before,
        and post each batch once, to the CSV import file or Prima's journal request
        (docs/finance.md). Closing a period again posts nothing new; an order that arrives
        late goes into the next batch, never into a posted one; cancellations and refunds are
        reversing entries in the period they happen. Recorded as a run of the ``postings``
        flow."""
        chosen = self.posting_period(period)
        run = PostingRun(
            ct=self._ct,
            prima=for_flow(self._prima, RequestFlow.POSTINGS),
            store=self._store,
            mapping=self._mapping,
            config=self.postings,
            clock=self._clock,
            worker_id=self._config.worker_id,
        )
        return record_postings(run, chosen, store=self._store, clock=self._clock)

    def confirm_batch_posted(self, batch_id: str, *, reference: str = "") -> PostingBatch:
        """Record that Prima has a closed batch (finance checked that Prima imported its file
        after a crash left it unrecorded): it is marked posted and never sent again."""
        batch = self._store.mark_batch_posted(
            batch_id, reference=reference or batch_id, now=self._clock.now()
        )
        for record in self._store.list_exceptions(ExceptionFilter(subject=batch_id)):
            self._store.resolve_exception(
                record.exception_id, note="confirmed as posted in Prima", now=self._clock.now()
            )
        return batch

    def reconcile(
        self,
        period: PostingPeriod | str,
        *,
        repair: bool = False,
        prima_orders: Iterable[PrimaListedOrder] | None = None,
    ) -> ReconciliationReport:
        """Reconcile ``period`` (a month, a day or a range of days in the business's timezone)
        per currency across commercetools (orders created in the period, read from
        commercetools itself), the ledger and Prima (each order's status, the posted batches),
        and name every gap, order by order, with its owner (docs/finance.md).

        ``prima_orders``: Prima's own list of the period's orders (a listing request the
        installation has, or :func:`read_prima_export` of Prima's export file), for orders in
        Prima but unknown to commercetools; without it the report says that check did not run.
        ``repair``: orphans (in commercetools and eligible, never in the ledger) are ingested so
        that the next order run sends them; the report lists them."""
        chosen = self.posting_period(period)
        now = self._clock.now()
        return reconcile_period(
            ct=self._ct,
            prima=for_flow(self._prima, RequestFlow.RECONCILE),
            store=self._store,
            mapping=self._mapping,
            config=self.postings,
            period=chosen,
            prima_orders=None if prima_orders is None else list(prima_orders),
            eligible=lambda order: readiness(order, self._config.eligibility, now) is Readiness.DUE,
            repair=self.ingest_order if repair else None,
        )

    # -- the stock flow ----------------------------------------------------------------------------
    def sync_stock(
        self,
        *,
        skus: Iterable[str] | None = None,
        dry_run: bool = False,
        catalogue: bool | None = None,
    ) -> StockRunSummary:
        """One stock run: Prima's available-to-sell becomes commercetools' inventory so that the
        shop shows ATS minus what is sold but not yet in Prima, minus the buffer (docs/stock.md).

        Every inventory entry of the managed supply channels is planned, or with ``skus`` the
        entries of those SKUs (creating missing ones). Prima's whole catalogue is also checked
        for stock commercetools has no entry for when ``catalogue`` is True, or when it is None
        and ``engine.stock.catalogue_every_seconds`` have passed since the last check. With
        ``dry_run`` nothing is written anywhere: the summary tells what would be.

        One run at a time: while another run (any worker, any process sharing the store) holds
        the stock lock, this returns at once with status ``already_running``. Every other run
        but a dry one is recorded as a run of the ``stock`` flow (``health``) and alerts the
        owners of the exceptions it raised. Raises ConfigurationError when a configured supply
        channel does not exist.
        """
        try:
            result = run_stock(
                self._stock,
                store=self._store,
                clock=self._clock,
                config=self._config.stock,
                holder=self._config.worker_id,
                skus=skus,
                dry_run=dry_run,
                catalogue=catalogue,
            )
        finally:
            self._stop.clear()
        if not dry_run and result.status is not StockRunStatus.ALREADY_RUNNING:
            self._alert(result.started_at)
        return result

    def _stock_ingest(self, first: bool) -> int:
        """The stock run's ingest before it plans a chunk: the first poll of a run with the
        engine's overlap, later ones with the stock run's shorter one."""
        settings = self._config.stock
        overlap = None if first else settings.poll_overlap_seconds
        if settings.ingest is StockIngest.MESSAGES:
            added = self.poll_messages(overlap_seconds=overlap)
        else:
            added = self.poll_orders(overlap_seconds=overlap)
        return added + (self._ingest.recheck_held() if first else 0)

    # -- exceptions --------------------------------------------------------------------------------
    def exceptions(
        self,
        *,
        owner: Owner | None = None,
        kind: str | enum.Enum | None = None,
        order_id: str | None = None,
        include_resolved: bool = False,
    ) -> list[ExceptionRecord]:
        """The exception queue, filtered, oldest first. ``kind`` is a kind enum member
        (``ProblemKind``, ``IssueCode``, ``DispatchIssueKind``, ``StockProblemKind``) or its
        string; an unknown kind raises :class:`~ct_prima_sync.errors.UnknownKindError` rather
        than answering with an empty list. ``detail`` of each record is typed per kind in
        :data:`~ct_prima_sync.engine.DETAIL_TYPES`."""
        return list_exceptions(
            self._store,
            owner=owner,
            kind=check_kind(self._store, kind),
            order_id=order_id,
            include_resolved=include_resolved,
        )

    def retry_exceptions(
        self,
        *,
        order_id: str | None = None,
        kind: str | enum.Enum | None = None,
        owner: Owner | None = None,
    ) -> int:
        """Replay the orders behind open exceptions (by order, by kind, by owner, or all) after the
        cause was fixed: they go back to the backlog (or, once in Prima, are asked about on the
        next dispatch run, and a queued write-back retry is due at once) and the next run
        processes them. Returns how many orders moved. ``kind`` as for :meth:`exceptions`."""
        return replay_exceptions(
            self._store,
            now=self._clock.now(),
            order_id=order_id,
            kind=check_kind(self._store, kind),
            owner=owner,
        )

    def retry_exception(self, exception_id: int) -> int:
        """Replay the one open exception ``exception_id`` (as :meth:`retry_exceptions` does for
        many): its order goes back to the backlog, or is asked about on the next dispatch run.
        Returns how many orders moved (0 or 1). Raises
        :class:`~ct_prima_sync.errors.ExceptionNotFoundError` when no open exception has that
        id."""
        return replay_exception(self._store, exception_id, now=self._clock.now())

    def resolve_exception(self, exception_id: int, *, note: str) -> ExceptionRecord:
        """Close an exception with a note saying what was done."""
        return self._store.resolve_exception(exception_id, note=note, now=self._clock.now())

    def _alert(
        self, run_started: datetime, summary: SummaryBuilder | None = None
    ) -> list[ExceptionRecord]:
        """Alert the owners of the exceptions of a run (:func:`alert_owners`); returns the
        exceptions this run touched."""
        return alert_owners(
            self._store,
            self._notifier,
            config=self._config,
            now=self._clock.now(),
            run_started=run_started,
            summary=summary,
        )

    # -- monitoring --------------------------------------------------------------------------------
    def health(self, policy: HealthPolicy | None = None) -> HealthReport:
        """Every flow's health (last runs, staleness, the order ledger's backlog and stalled
        orders), open exceptions by owner and how old they are; see ``HealthPolicy``."""
        return health_report(
            self._store,
            now=self._clock.now(),
            escalate_after_seconds=self._config.retry.escalate_after_seconds,
            cursor_name=self._config.cursor_name,
            policy=policy,
        )
