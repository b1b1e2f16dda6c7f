"""One order through the pipeline: claim -> map -> customer -> submit -> record -> write back.

Once the reference is recorded the order is in Prima, and its write-back to commercetools is
queued for the write-back pass (``_write_back_pass``), which runs beside the submissions.

Exactly-once rules (design invariant 2), in the order the code meets them:

1. Before anything is sent, ``begin_submission`` is written to the ledger, and the order's lease
   is extended so that the submission can finish inside it (``_timing``). A worker that finds an
   order with a submission started and no Prima reference (a crash, a timeout, a lost reply) asks
   Prima for the order's status first and sends it only if Prima has never heard of it, and only
   once the last submission can no longer be on its way (one Prima request timeout after it
   started): until then "unknown to Prima" proves nothing.
2. Prima de-duplicates on the order number, and the ledger's unique Prima reference is the last
   line: a second submission cannot create a second ledger entry. Recording the reference closes
   the order's open exceptions in the same transaction.
3. Every write to the ledger needs the worker's lease; a worker whose lease was taken over stops
   (``LeaseLostError``) without touching Prima again. The engine keeps a claim batch's leases
   alive while the batch is worked (``_batch_leases``); an order whose lease is half gone when its
   turn comes renews it first.
4. Any error is classified (``_problems``) into the exception queue with an owner; transient ones
   come back after a backoff, permanent ones wait for a fix and a replay. One bad order never stops
   the others: only a crash of the process (a ``BaseException``) leaves the loop.
5. Except a :class:`ConfigurationError` (the settings do not fit the systems, as when Prima's SOAP
   layer refuses the envelope): no order is to blame and every order would meet it, so the order's
   lease is given back untouched (claimable at once, no exception recorded) and the error ends the
   run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from attrs import evolve

from ..commercetools import CommercetoolsClient, Order
from ..errors import ConfigurationError, LeaseLostError, PrimaError, PrimaUnavailableError
from ..mapping import MappingConfig, MappingIssue, map_order
from ..mapping._fingerprint import config_hash
from ..prima import OmlinkClient, OrderStatus, PrimaGateway, SalesOrder, SubmitResult
from ..prima._error_codes import ErrorCodeMeaning, ErrorCodeTable
from ..state import ExceptionFilter, OrderRecord, Owner, StateStore
from ..state import OrderStatus as Ledger
from ._clock import Clock
from ._config import EngineConfig
from ._customer_lock import CustomerLock, CustomerLocks
from ._customers import (
    KnownAccounts,
    account_entry,
    customer_identity,
    known_account,
    order_customer_key,
    resolve_account,
)
from ._details import with_order_number
from ._order_batch import Prepared, submit_chunk
from ._outcome import Outcome
from ._problems import Problem, ProblemKind, problem_from_error, refusal_problem
from ._timing import CUSTOMER_LOCK_MARGIN_SECONDS, Timing
from ._write_back import ReferenceWriter
from ._write_back_pass import WriteBackPass

__all__ = [
    "Checkpoint",
    "OrderFlow",
    "Outcome",
    "Prepared",
    "error_code_table",
    "reference_in_prima",
]

_log = logging.getLogger("ct_prima_sync.engine.orders")

#: Called at every step boundary with (step, order id); tests raise from it to simulate a crash.
Checkpoint = Callable[[str, str], None]


def _no_checkpoint(_step: str, _order_id: str) -> None:
    return None


class _DepotCache:
    """Prima's depot list, read at most once per ``refresh`` seconds."""

    def __init__(self, prima: PrimaGateway, refresh: timedelta) -> None:
        self._prima = prima
        self._refresh = refresh
        self._lock = threading.Lock()
        self._codes: frozenset[str] | None = None
        self._read_at: datetime | None = None

    def codes(self, now: datetime) -> frozenset[str]:
        with self._lock:
            if self._codes is None or self._read_at is None or now - self._read_at >= self._refresh:
                self._codes = frozenset(d.code for d in self._prima.list_depots())
                self._read_at = now
            return self._codes


class OrderFlow:
    """Runs claimed orders through the pipeline; shared by the engine's worker threads."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        prima: PrimaGateway,
        store: StateStore,
        mapping: MappingConfig,
        config: EngineConfig,
        clock: Clock,
        timing: Timing,
        key_secret: str,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self._ct = ct
        self._prima = prima
        self._store = store
        self._mapping = mapping
        # Named in every mapping exception: the checkout guard's verdicts carry the same hash, so
        # an order the guard passed under other rules shows it (docs/checkout.md).
        self._mapping_hash = config_hash(mapping)
        self._config = config
        self._clock = clock
        self._timing = timing
        self._key_secret = key_secret
        self._customer_locks = CustomerLocks(
            store,
            ttl_seconds=timing.customer_lock_seconds,
            clock=clock,
            fresh_seconds=CUSTOMER_LOCK_MARGIN_SECONDS / 2,
        )
        self._checkpoint = checkpoint or _no_checkpoint
        self._depots = _DepotCache(prima, timedelta(seconds=config.depot_refresh_seconds))
        self.write_backs = WriteBackPass(
            ct=ct,
            store=store,
            writer=ReferenceWriter(ct=ct, settings=config.write_back, clock=clock),
            config=config,
            clock=clock,
            checkpoint=self._checkpoint,
        )
        """The write-backs this flow queued; the order run collects them (``_write_back_pass``)."""
        self._codes = error_code_table(prima)
        self._accounts = KnownAccounts(store)
        self._waiting: set[str] = set()
        self._waiting_lock = threading.Lock()

    @property
    def worker(self) -> str:
        """The worker id every ledger write of this flow is made under."""
        return self._config.worker_id

    @property
    def store(self) -> StateStore:
        """The state store."""
        return self._store

    @property
    def prima(self) -> PrimaGateway:
        """The Prima gateway submissions go through."""
        return self._prima

    @property
    def clock(self) -> Clock:
        """The flow's clock."""
        return self._clock

    @property
    def timing(self) -> Timing:
        """Leases and waits that follow from Prima's request timeout."""
        return self._timing

    def checkpoint(self, step: str, order_id: str) -> None:
        """Pass the step boundary ``step`` of ``order_id`` (tests crash there)."""
        self._checkpoint(step, order_id)

    def read_accounts(self, orders: Iterable[Order]) -> None:
        """Read the customer map entries of a claim batch's orders in one query, for their
        :meth:`prepare` (``KnownAccounts``: a hint, the customer's lock re-reads the store).
        A store that fails here costs only the read ahead: each order then reads its own."""
        try:
            self._accounts.read(order_customer_key(o, self._key_secret) for o in orders)
        except Exception as error:  # the orders' own reads meet it, one order at a time
            _log.warning(
                "the batch's customer accounts could not be read ahead",
                extra={"error_type": type(error).__name__},
            )

    def process(self, record: OrderRecord, order: Order | None = None) -> Outcome:
        """Take one claimed order as far as it will go: :meth:`prepare`, then :meth:`send_one`.

        Raises nothing but a :class:`ConfigurationError`, after giving the order back (rule 5).
        """
        prepared = self.prepare(record, order)
        if isinstance(prepared, Outcome):
            return prepared
        return self.send_one(prepared)

    def prepare(self, record: OrderRecord, order: Order | None = None) -> Prepared | Outcome:
        """Everything before the submission of one claimed order: read it, settle an earlier
        ambiguous submission with Prima, map it, resolve its customer. Returns the order ready
        to send, or how its attempt ended (already in Prima, an exception, a retry).

        Raises nothing but a :class:`ConfigurationError`, after giving the order back (rule 5).
        """
        order_id = record.order_id
        stage = "fetch"
        try:
            self._checkpoint("claimed", order_id)
            if self._timing.needs_renewal(record.lease_expires_at, self._clock.now()):
                record = self._store.renew_lease(
                    order_id,
                    worker_id=self.worker,
                    lease_seconds=self._config.lease_seconds,
                    now=self._clock.now(),
                )
            if record.prima_reference:  # in Prima: only the write-back is left, never a resend
                return self._finish(record, order, record.prima_reference, Outcome.POSTED)
            if order is None or order.version < record.ct_version:
                order = self._ct.orders.get(order_id)
            if record.ambiguous:
                stage = "status_check"
                found = self._reference_if_in_prima(order)
                if found is not None:
                    return self._record_and_finish(record, order, found, Outcome.ALREADY_IN_PRIMA)
                if self._may_be_in_flight(record):
                    with self._waiting_lock:  # Prima answered: no sign of an outage
                        self._waiting.add(order_id)
                    return self._fail(
                        record,
                        Problem.of(
                            ProblemKind.PRIMA_AMBIGUOUS,
                            stage=stage,
                            order_number=self._number(order),
                            error="Prima does not know the order yet, but its last submission "
                            "may still be on its way: asking again once it cannot be",
                        ),
                    )
            stage = "map"
            sales_order, problems = self._map(order)
            if sales_order is None:
                return self._except(record, problems)
            # No ledger write for "mapped" and "customer_resolved": a restart begins at claimed
            # whatever was reached, so those commits would buy nothing.
            self._checkpoint("mapped", order_id)
            stage = "customer"
            account = resolve_account(
                order,
                sales_order.customer,
                prima=self._prima,
                store=self._store,
                policy=self._config.customers,
                clock=self._clock,
                record=record,
                locks=self._customer_locks,
                key_secret=self._key_secret,
                accounts=self._accounts,
            )
            if account is None:
                return self._except(
                    record,
                    [
                        Problem.of(
                            ProblemKind.CUSTOMER_UNRESOLVED,
                            order_number=self._number(order),
                            hint="map the customer, or enable customers.prima_matches (or the "
                            "opt-in customers.lookup_by_email / customers.create_missing)",
                        )
                    ],
                )
            sales_order = evolve(
                sales_order, customer=evolve(sales_order.customer, account_code=account)
            )
            self._checkpoint("customer_resolved", order_id)
            return Prepared(record=record, order=order, sales_order=sales_order)
        except Exception as error:  # one bad order must never stop the others
            return self.settle(record, error, stage)

    def send_one(self, prepared: Prepared) -> Outcome:
        """Submit one prepared order in a request of its own (an order whose customer Prima is
        to match goes under the customer's lock).

        Raises nothing but a :class:`ConfigurationError`, after giving the order back (rule 5).
        """
        record, order, sales_order = prepared.record, prepared.order, prepared.sales_order
        try:
            if prepared.matching:
                return self._submit_for_prima_to_match(record, order, sales_order)
            return self._begin_and_submit(record, order, sales_order)
        except Exception as error:  # one bad order must never stop the others
            return self.settle(record, error, "submit")

    def resend(self, prepared: Prepared, sent_before: bool) -> Outcome:
        """Send alone an order whose batched request Prima refused as a whole and whose status
        check found it unknown: its submission begins again (a new start, the lease extended),
        then it goes in a request of its own. ``sent_before``: whether a submission of it began
        before that batch."""
        begun = self._store.begin_submissions(
            [prepared.record.order_id],
            worker_id=self.worker,
            now=self._clock.now(),
            lease_seconds=self._timing.submission_lease_seconds,
            again=True,
        )
        if not begun:
            _log.warning(
                "lease lost; leaving the order to its new worker", extra=_ids(prepared.record)
            )
            return Outcome.LOST_LEASE
        return self._submit(begun[0], prepared.order, prepared.sales_order, sent_before=sent_before)

    def submit_batch(self, members: Sequence[Prepared]) -> list[Outcome]:
        """Submit prepared orders (none of them for Prima to match a customer) in one request,
        exactly once per order (``_order_batch``); one outcome per member, in order.

        Raises nothing but a :class:`ConfigurationError`, after giving back the members not
        settled yet (rule 5).
        """
        return submit_chunk(self, members)

    def settle(self, record: OrderRecord, error: Exception, stage: str) -> Outcome:
        """How an error met at ``stage`` ends the order's attempt (rules 3 to 5): a lost lease
        leaves it alone, a :class:`ConfigurationError` gives it back and is raised again, any
        other error goes to the exception queue (a retry or an exception for its owner)."""
        if isinstance(error, LeaseLostError):
            _log.warning("lease lost; leaving the order to its new worker", extra=_ids(record))
            return Outcome.LOST_LEASE
        if isinstance(error, ConfigurationError):
            self.give_back(record.order_id)
            raise error
        return self._fail(record, problem_from_error(error, stage=stage, table=self._codes))

    def took_answer(self, order_id: str) -> bool:
        """Whether the order's last :meth:`process` was put off only because its previous
        submission may still be on its way, after Prima answered the status check: a retry that
        is no sign of Prima being down (the circuit breaker does not count it). Asking forgets."""
        with self._waiting_lock:
            if order_id in self._waiting:
                self._waiting.discard(order_id)
                return True
            return False

    def give_back(self, order_id: str) -> None:
        """Release this worker's lease on the order, if it still holds it (rule 5)."""
        current = self._store.get_order(order_id)
        if current is None or current.lease_owner != self.worker:
            return
        try:
            self._store.release_lease(order_id, worker_id=self.worker, now=self._clock.now())
        except LeaseLostError:  # expired and taken over meanwhile: the new worker has it
            return

    # -- steps -------------------------------------------------------------------------------------
    def _map(self, order: Order) -> tuple[SalesOrder | None, list[Problem]]:
        # The order's Payments (scope view_payments) only when the mapping reads them.
        payments = (
            self._ct.payments.for_order(order) if self._mapping.payments.read_payments else None
        )
        mapped = map_order(order, self._mapping, payments=payments)
        by_code: dict[str, list[MappingIssue]] = {}
        for issue in mapped.issues:
            by_code.setdefault(str(issue.code), []).append(issue)
        problems = [
            Problem(
                kind=code,
                owner=Owner(str(issues[0].owner)),
                transient=False,
                detail={
                    "order_number": self._number(order),
                    "message": _issue_text(issues[0]),
                    "config_hash": self._mapping_hash,
                    "issues": [
                        {
                            "path": issue.path,
                            "message": issue.message,
                            **({"difference": str(issue.difference)} if issue.difference else {}),
                        }
                        for issue in issues
                    ],
                },
            )
            for code, issues in by_code.items()
        ]
        if mapped.sales_order is None or problems:
            return None, problems
        if not self._config.depots_from_prima:  # the mapping checked [depots] valid
            return mapped.sales_order, []
        unknown = sorted(
            {line.warehouse for line in mapped.sales_order.lines}
            - self._depots.codes(self._clock.now())
        )
        if unknown:
            return None, [
                Problem(
                    kind="UNKNOWN_DEPOT",
                    owner=Owner.OPERATIONS,
                    transient=False,
                    detail={
                        "order_number": self._number(order),
                        "depots": unknown,
                        "message": f"Prima does not know depot(s) {', '.join(unknown)}: add them "
                        "in Prima or change the depot mapping",
                    },
                )
            ]
        return mapped.sales_order, []

    def _may_be_in_flight(self, record: OrderRecord) -> bool:
        """Whether the order's last submission may still reach Prima (see ``_timing``): it ended
        without an answer that may have been applied (``PRIMA_AMBIGUOUS``, the last error on
        record) less than one request timeout ago. A submission Prima answered, or that surely
        never left, cannot; one cut short by a crash comes back only once its lease, at least
        two request timeouts long, has run out."""
        started = record.submission_started_at
        if started is None or record.last_error != ProblemKind.PRIMA_AMBIGUOUS:
            return False
        return self._clock.now() < self._timing.unknown_is_final_at(started)

    def _begin_and_submit(
        self,
        record: OrderRecord,
        order: Order,
        sales_order: SalesOrder,
        lock: CustomerLock | None = None,
        customer_key: str | None = None,
    ) -> Outcome:
        # Whether an earlier submission of this order began is what makes E:21 "already there".
        sent_before = record.submission_started_at is not None
        record = self._store.begin_submission(
            record.order_id,
            worker_id=self.worker,
            now=self._clock.now(),
            lease_seconds=self._timing.submission_lease_seconds,
        )
        return self._submit(
            record,
            order,
            sales_order,
            sent_before=sent_before,
            lock=lock,
            customer_key=customer_key,
        )

    def _submit_for_prima_to_match(
        self, record: OrderRecord, order: Order, sales_order: SalesOrder
    ) -> Outcome:
        """Send an order with ``Customer=""`` under the customer's lock, and remember the
        account Prima answers, so that Prima never makes two accounts for one new customer:
        the next order of the customer waits for the lock, then finds the account stored."""
        key, lock_name = customer_identity(order, sales_order.customer, self._key_secret)
        if lock_name is None:  # nothing to match on, nothing to remember
            return self._begin_and_submit(record, order, sales_order)
        with self._customer_locks.hold(lock_name, record) as lock:
            known = known_account(self._store, key, self._config.customers.company)
            if known is not None:
                sales_order = evolve(
                    sales_order, customer=evolve(sales_order.customer, account_code=known)
                )
            return self._begin_and_submit(record, order, sales_order, lock=lock, customer_key=key)

    def _submit(
        self,
        record: OrderRecord,
        order: Order,
        sales_order: SalesOrder,
        *,
        sent_before: bool,
        lock: CustomerLock | None = None,
        customer_key: str | None = None,
    ) -> Outcome:
        """Send a submission that ``begin_submission`` has recorded."""
        self._checkpoint("submitting", record.order_id)
        if lock is not None:
            lock.renew()
        try:
            (result,) = self._prima.submit_orders([sales_order])
        except PrimaUnavailableError as error:
            if not error.may_have_been_applied:
                raise
            return self.ask_after_unanswered(record, order, error)
        self._checkpoint("submitted", record.order_id)
        answer = self.answered(record, order, sales_order, result, sent_before=sent_before)
        if isinstance(answer, Outcome):
            return answer
        customer = None
        if not sales_order.customer.account_code and result.customer_code and customer_key:
            # The account Prima made or matched: remembered with the reference, one transaction.
            customer = account_entry(
                customer_key, result.customer_code, company=self._config.customers.company
            )
        return self._record_and_finish(
            record, order, answer, Outcome.POSTED, customer=customer, lock=lock
        )

    def ask_after_unanswered(
        self, record: OrderRecord, order: Order, error: PrimaUnavailableError
    ) -> Outcome:
        """A submission of the order may have been applied but got no answer: ask Prima. Found:
        recorded and finished; unknown, or the question unanswered: ``error`` is raised again
        (the order is ambiguous until a later status check settles it)."""
        try:
            found = self._reference_if_in_prima(order)
        except PrimaError:
            raise error from None  # still ambiguous: the status check did not settle it
        if found is None:
            raise error
        return self._record_and_finish(record, order, found, Outcome.ALREADY_IN_PRIMA)

    def answered(
        self,
        record: OrderRecord,
        order: Order,
        sales_order: SalesOrder,
        result: SubmitResult,
        *,
        sent_before: bool,
    ) -> Outcome | str:
        """Prima's answer for one order of a submission: the outcome when it settles the order
        (the number exists, a refusal), else the Prima reference to record."""
        duplicate = result.duplicate or (
            not result.accepted
            and self._codes.decide(result.error_codes) is ErrorCodeMeaning.DUPLICATE_ORDER_NUMBER
        )
        if duplicate:
            return self._order_number_exists(record, order, result, sent_before=sent_before)
        if not result.accepted:
            return self._except(
                record,
                [
                    refusal_problem(
                        result.error_codes,
                        result.error,
                        table=self._codes,
                        raw_text=result.raw_error,
                        order_number=self._number(order),
                    )
                ],
            )
        return result.prima_reference or sales_order.order_number

    def _number(self, order: Order) -> str | None:
        """The order's number as Prima (and the ledger) know it, with the source's prefix."""
        if not order.order_number:
            return None
        return self._mapping.prima_order_number(order.order_number)

    def _order_number_exists(
        self, record: OrderRecord, order: Order, result: SubmitResult, *, sent_before: bool
    ) -> Outcome:
        """Prima says the order number exists (``E:21``, or the older ``DUPLICATE``). That is
        this order only if an earlier submission of it began and Prima's status check finds it;
        otherwise another shop, project or a renumbering may own the number, and nothing is
        marked done."""
        if sent_before:
            found = self._reference_if_in_prima(order)
            if found is not None:
                reference = result.prima_reference or found
                return self._record_and_finish(record, order, reference, Outcome.ALREADY_IN_PRIMA)
        why = (
            "Prima has the order number but its status check does not find the order"
            if sent_before
            else "this order was never sent before"
        )
        problem = refusal_problem(
            result.error_codes,
            result.error or "the order number already exists in Prima",
            table=self._codes,
            raw_text=result.raw_error,
            order_number=self._number(order),
            why=why,
        )
        if problem.kind != ProblemKind.ORDER_NUMBER_COLLISION:  # the older DUPLICATE shape
            problem = Problem.of(ProblemKind.ORDER_NUMBER_COLLISION, **problem.detail)
        return self._except(record, [problem])

    def _reference_if_in_prima(self, order: Order) -> str | None:
        number = self._mapping.prima_order_number(order.order_number or order.id)
        return reference_in_prima(self._prima, number)

    def _record_and_finish(
        self,
        record: OrderRecord,
        order: Order,
        reference: str,
        outcome: Outcome,
        *,
        customer: tuple[str, str] | None = None,
        lock: CustomerLock | None = None,
    ) -> Outcome:
        """Record the reference (with ``customer``, the customer map entry of the account
        Prima answered, and the release of the customer's ``lock`` in the same transaction),
        then :meth:`_finish`. Should the recording be refused, the account is remembered on its
        own all the same (Prima has it), and the lock is released as the block holding it
        ends."""
        unlock = lock.held_as if lock is not None else None
        try:
            record = self._store.record_prima_reference(
                record.order_id,
                worker_id=self.worker,
                reference=reference,
                now=self._clock.now(),
                customer=customer,
                unlock=unlock,
            )
        except Exception:
            if customer is not None:
                self._remember_alone(customer)
            raise
        if lock is not None and unlock is not None:
            lock.given_back()
        if customer is not None:
            self._accounts.put(*customer, now=self._clock.now())
        self._checkpoint("recorded", record.order_id)
        return self._finish(record, order, reference, outcome)

    def _remember_alone(self, customer: tuple[str, str]) -> None:
        """Put a customer map entry whose recording with a reference was refused; a failure
        here is logged, the recording's own error is what the order meets."""
        try:
            self._store.put_customer(*customer, now=self._clock.now())
            self._accounts.put(*customer, now=self._clock.now())
        except Exception as error:  # the store refused twice: the recording's error is raised
            _log.warning(
                "the customer's Prima account could not be remembered",
                extra={"error_type": type(error).__name__},
            )

    def _finish(
        self, record: OrderRecord, order: Order | None, reference: str, outcome: Outcome
    ) -> Outcome:
        """The order is in Prima: queue its write-back to commercetools (``_write_back_pass``)
        and go on. The pass marks it ``done`` once written; a failed write-back is retried
        through the ledger and never makes the order look unposted."""
        if order is not None and order.version < record.ct_version:
            order = None  # the pass reads the order again
        self.write_backs.queue(
            record.order_id,
            record.order_number,
            order,
            reference,
            lease_expires_at=record.lease_expires_at,
        )
        _log.info("order in Prima", extra={**_ids(record), "outcome": str(outcome)})
        return outcome

    # -- outcomes ----------------------------------------------------------------------------------
    def _except(self, record: OrderRecord, problems: Iterable[Problem]) -> Outcome:
        now = self._clock.now()
        kinds: list[str] = []
        problems = list(problems)
        for stale in self._store.list_exceptions(_open_for(record.order_id)):
            if stale.transient:  # retrying is over: a person has to act now
                self._store.resolve_exception(
                    stale.exception_id,
                    note=f"superseded by {', '.join(p.kind for p in problems)}",
                    now=now,
                )
        for problem in problems:
            self._store.record_exception(
                kind=problem.kind,
                owner=problem.owner,
                detail=with_order_number(problem.detail, record.order_number),
                now=now,
                order_id=record.order_id,
                transient=False,
            )
            kinds.append(problem.kind)
        self._store.transition(
            record.order_id,
            worker_id=self.worker,
            to=Ledger.EXCEPTED,
            now=now,
            error=", ".join(kinds),
        )
        _log.warning("order needs attention", extra={**_ids(record), "kinds": kinds})
        return Outcome.EXCEPTED

    def _fail(self, record: OrderRecord, problem: Problem) -> Outcome:
        if not problem.transient:
            try:
                return self._except(record, [problem])
            except LeaseLostError:
                return Outcome.LOST_LEASE
        now = self._clock.now()
        retry_at = now + timedelta(seconds=self._config.retry.delay(record.attempts))
        started = record.submission_started_at
        if problem.kind == ProblemKind.PRIMA_AMBIGUOUS and started is None:
            # The submission began after ``record`` was read: the ledger has its start.
            current = self._store.get_order(record.order_id)
            started = current.submission_started_at if current is not None else None
        if problem.kind == ProblemKind.PRIMA_AMBIGUOUS and started is not None:
            # Asking Prima again is pointless while the submission may still be on its way.
            retry_at = max(retry_at, self._timing.unknown_is_final_at(started))
        try:
            self._store.record_exception(
                kind=problem.kind,
                owner=problem.owner,
                detail=with_order_number(problem.detail, record.order_number),
                now=now,
                order_id=record.order_id,
                transient=True,
                next_retry_at=retry_at,
            )
            self._store.transition(
                record.order_id,
                worker_id=self.worker,
                to=Ledger.FAILED,
                now=now,
                error=problem.kind,
                retry_at=retry_at,
            )
        except LeaseLostError:
            return Outcome.LOST_LEASE
        _log.info(
            "order will be retried",
            extra={**_ids(record), "kind": problem.kind, "retry_at": retry_at.isoformat()},
        )
        return Outcome.RETRYING


def error_code_table(prima: PrimaGateway) -> ErrorCodeTable:
    """The error-code table of an :class:`~ct_prima_sync.prima.OmlinkClient` (looked through
    wrapping gateways, as :func:`~._timing.prima_request_timeout` does); the default table for
    other gateways."""
    while isinstance(getattr(prima, "wrapped", None), PrimaGateway):
        prima = prima.wrapped  # type: ignore[attr-defined]
    if isinstance(prima, OmlinkClient):
        return prima.config.schema.error_codes
    return ErrorCodeTable()


def reference_in_prima(prima: PrimaGateway, order_number: str) -> str | None:
    """Prima's reference for the order, or None when Prima does not know it."""
    report = prima.order_status(order_number)
    if report.status is OrderStatus.UNKNOWN_TO_PRIMA:
        return None
    return report.prima_reference or order_number


def _ids(record: OrderRecord) -> dict[str, object]:
    return {"order_id": record.order_id, "order_number": record.order_number}


def _issue_text(issue: MappingIssue) -> str:
    if issue.difference is None:
        return issue.message
    if issue.code == "TOTALS_MISMATCH":
        return f"{issue.message} (mapped minus commercetools: {issue.difference})"
    return f"{issue.message} (difference: {issue.difference})"


def _open_for(order_id: str) -> ExceptionFilter:
    return ExceptionFilter(order_id=order_id)
