"""One order through the dispatch flow: ask Prima -> assess -> read -> pure plan -> apply ->
raise -> record.

Exactly-once rules (design invariant 5 and the issue's "each delivery exactly once"):

1. commercetools is written only after Prima reported a despatch or a cancellation
   (``plan_dispatch`` decides nothing else), and only what the order in commercetools lacks:
   every delivery carries a deterministic ``deliveryKey`` and a key already on the order is
   never written again. A 409 re-reads the order and plans afresh.
2. The ledger is written last. A crash between the commercetools update and the ledger write
   leaves the order due with its old status, so the next check reads the order again, finds the
   deliveries by key (``DispatchPlan.known``) and records them without writing anything.
3. Exceptions are raised before the ledger write, so a crash can repeat one (one more
   occurrence) but never lose it. Conditions (unknown order or status, stalled, lines that do
   not match) are resolved automatically once a check finds them gone.
4. Prima or commercetools being unavailable stops the run (:class:`RunStopped`); the order stays
   due and is asked about first on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import attrs
from attrs import frozen

from ..commercetools import CommercetoolsClient, Order
from ..errors import (
    CommercetoolsApiError,
    CommercetoolsError,
    ConfigurationError,
    NotFoundError,
    PrimaProtocolError,
    PrimaRejectedError,
    PrimaUnavailableError,
    StateError,
)
from ..mapping import (
    DispatchConfig,
    DispatchIssue,
    DispatchIssueKind,
    DispatchOutcome,
    DispatchPlan,
    MappingConfig,
    OrderReview,
    PlannedDelivery,
    PrimaDespatchReport,
    assess_report,
    next_check_at,
    plan_dispatch,
)
from ..mapping._dispatch_issues import CONDITION_KINDS
from ..prima import OrderStatus, PrimaGateway, PrimaOrderChanges, ReturnLine
from ..state import (
    DeliveryRecord,
    DispatchLine,
    DispatchRecord,
    DispatchState,
    ExceptionFilter,
    Owner,
    ReturnRecord,
    StateStore,
)
from ..state._write_backs import WRITE_BACK_SUBJECT
from ._clock import Clock
from ._details import with_order_number
from ._dispatch_summary import DispatchSummaryBuilder
from ._problems import Problem, ProblemKind, problem_from_error

__all__ = ["FLOW", "DispatchFlow", "RunStopped"]

_log = logging.getLogger("ct_prima_sync.engine.dispatch")

Checkpoint = Callable[[str, str], None]

#: ``detail["flow"]`` of every exception this flow raises: they belong to orders the ledger has
#: as done (in Prima), so sweeps of finished orders' exceptions must leave them to this flow.
FLOW = "dispatch"

#: Kinds a successful check resolves for its order: the pipeline's transient Prima problems.
_TRANSIENT_KINDS = frozenset(
    {ProblemKind.PRIMA_UNAVAILABLE.value, ProblemKind.PRIMA_PROTOCOL.value}
)
#: Kinds a successful plan-and-write resolves: the line match, commercetools write failures.
_WRITE_KINDS = frozenset(
    {
        DispatchIssueKind.DESPATCH_LINES_MISMATCH.value,
        ProblemKind.CT_UNAVAILABLE.value,
        ProblemKind.CT_WRITE_BACK_FAILED.value,
    }
)
#: Conditions a check evaluates from Prima's answer alone; the plan evaluates the line match.
_ASSESSED = frozenset(
    {
        DispatchIssueKind.PRIMA_ORDER_UNKNOWN,
        DispatchIssueKind.DISPATCH_STATUS_UNKNOWN,
        DispatchIssueKind.ORDER_STALLED,
    }
)


class RunStopped(Exception):  # noqa: N818 (a signal to the run, not an error of the caller)
    """Prima or commercetools is unavailable: the run stops; ``reason`` is the problem kind."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@frozen(kw_only=True)
class CheckOutcome:
    """What one check did: Prima requests made and where the order stands."""

    requests: int
    outcome: DispatchOutcome | None
    deliveries: int = 0


def _no_checkpoint(_step: str, _order_id: str) -> None:
    return None


def _number(record: DispatchRecord) -> str:
    return record.order_number or record.order_id


class DispatchFlow:
    """Checks and reviews followed orders; used by one dispatch run at a time."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        prima: PrimaGateway,
        store: StateStore,
        mapping: MappingConfig,
        config: DispatchConfig,
        clock: Clock,
        summary: DispatchSummaryBuilder,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        if (config.cancel_in_prima or config.returns_to_prima) and not isinstance(
            prima, PrimaOrderChanges
        ):
            raise ConfigurationError(
                "dispatch.cancel_in_prima / returns_to_prima need a Prima gateway that can send "
                "cancellations and returns (PrimaOrderChanges); switch them off or configure one"
            )
        self._ct = ct
        self._prima = prima
        self._store = store
        self._mapping = mapping
        self._config = config
        self._clock = clock
        self._summary = summary
        self._checkpoint = checkpoint or _no_checkpoint
        self._requests = 0
        self._stage = "dispatch_check"

    # -- exceptions ------------------------------------------------------------------------------
    def raise_issues(self, order_id: str, issues: Iterable[DispatchIssue]) -> None:
        """Open (or count again) an exception per issue."""
        now = self._clock.now()
        known = self._store.get_order(order_id)
        number = known.order_number if known else None
        for issue in issues:
            self._store.record_exception(
                kind=issue.kind.value,
                owner=Owner(str(issue.owner)),
                detail=with_order_number(
                    {**issue.detail, "message": issue.message, "flow": FLOW}, number
                ),
                now=now,
                order_id=order_id,
                transient=False,
            )
            self._summary.problem(issue.kind.value)
            _log.warning(
                "dispatch needs attention",
                extra={"order_id": order_id, "kind": issue.kind.value, "owner": str(issue.owner)},
            )

    def raise_problem(self, order_id: str, problem: Problem) -> None:
        """Open (or count again) an exception for a pipeline problem."""
        known = self._store.get_order(order_id)
        self._store.record_exception(
            kind=problem.kind,
            owner=problem.owner,
            detail=with_order_number(
                {**problem.detail, "flow": FLOW}, known.order_number if known else None
            ),
            now=self._clock.now(),
            order_id=order_id,
            transient=problem.transient,
        )
        self._summary.problem(problem.kind)

    def _resolve(self, order_id: str, kinds: Iterable[str], note: str) -> None:
        wanted = set(kinds)
        if not wanted:
            return
        now = self._clock.now()
        for record in self._store.list_exceptions(ExceptionFilter(order_id=order_id)):
            # The order's own write-back (Prima's reference) is the write-back pass's to close.
            if record.kind in wanted and record.subject != WRITE_BACK_SUBJECT:
                self._store.resolve_exception(record.exception_id, note=note, now=now)

    # -- asking Prima ----------------------------------------------------------------------------
    def _ask(self, number: str) -> tuple[PrimaDespatchReport, Problem | None]:
        """Prima's report on one order, and a problem to raise (counting the requests made)."""
        self._requests += 1
        if not self._config.despatch_details:
            status = self._prima.order_status(number)
            return (
                PrimaDespatchReport(order_number=number, status=status.status, raw=status.raw),
                None,
            )
        try:
            details = self._prima.despatch_details(number)
        except PrimaRejectedError as refused:
            # Unknown orders are refused too: tell them apart from a refused request type.
            self._requests += 1
            status = self._prima.order_status(number)
            report = PrimaDespatchReport(order_number=number, status=status.status, raw=status.raw)
            if status.status is OrderStatus.UNKNOWN_TO_PRIMA:
                return report, None
            problem = Problem.of(
                ProblemKind.PRIMA_REJECTED,
                order_number=number,
                stage="despatch_details",
                request_error=refused.request_error,
                message="Prima refused the despatch-details request: check the installation's "
                "despatch_details setting; the status alone was used",
            )
            return report, problem
        return (
            PrimaDespatchReport(
                order_number=number,
                status=details.status,
                raw=details.status.value,
                despatches=details.despatches,
            ),
            None,
        )

    # -- one check -------------------------------------------------------------------------------
    def check(self, record: DispatchRecord) -> CheckOutcome:
        """Ask Prima about one due order and pass on what it says (rules in the module doc).

        A problem with this order alone (an unreadable reply, commercetools refusing the update,
        a fault in the sync) is raised and the order asked about again at its next interval; it
        never stops the others. Raises :class:`RunStopped` when a system is unavailable, and a
        :class:`~ct_prima_sync.errors.ConfigurationError` (a request the Prima client is not set
        up to send) as it is."""
        self._requests = 0
        self._stage = "dispatch_check"
        try:
            return self._check(record)
        except (RunStopped, StateError, ConfigurationError):
            raise  # everyone's problem: the run stops (a setting names what to fix)
        except Exception as error:  # one bad order must never stop the others
            self.raise_problem(record.order_id, problem_from_error(error, stage=self._stage))
            now = self._clock.now()
            self._store.save_dispatch(
                attrs.evolve(
                    record,
                    checks=record.checks + 1,
                    last_checked_at=now,
                    next_check_at=next_check_at(
                        accepted_at=record.accepted_at,
                        checked_at=now,
                        schedule=self._config.schedule,
                    ),
                ),
                now=now,
            )
            return CheckOutcome(requests=self._requests, outcome=None)

    def _check(self, record: DispatchRecord) -> CheckOutcome:
        order_id, number = record.order_id, _number(record)
        self._checkpoint("dispatch.due", order_id)
        try:
            report, refused = self._ask(number)
        except PrimaUnavailableError as error:
            # A status read changes nothing in Prima: never "ambiguous", just unavailable.
            self.raise_problem(
                order_id,
                Problem.of(ProblemKind.PRIMA_UNAVAILABLE, stage="dispatch_check", error=str(error)),
            )
            raise RunStopped(ProblemKind.PRIMA_UNAVAILABLE.value) from None
        self._checkpoint("dispatch.asked", order_id)
        now = self._clock.now()
        assessment = assess_report(
            report,
            known_status=record.prima_status,
            known_despatches=frozenset(d.despatch_ref for d in record.deliveries),
            accepted_at=record.accepted_at,
            now=now,
            config=self._config,
        )
        issues = list(assessment.issues)
        evaluated: set[str] = {k.value for k in _ASSESSED} | _TRANSIENT_KINDS
        plan: DispatchPlan | None = None
        if assessment.needs_order:
            try:
                plan = self._plan_and_apply(order_id, report)
            except NotFoundError:
                return self._deleted(record, report)
            issues += plan.issues
            evaluated |= _WRITE_KINDS
        if refused is not None:
            self.raise_problem(order_id, refused)
        elif self._config.despatch_details:
            evaluated.add(ProblemKind.PRIMA_REJECTED.value)
        self.raise_issues(order_id, issues)
        current = {i.kind.value for i in issues}
        finished = plan is not None and plan.finished
        stale = (evaluated - current) | (set(CONDITION_KINDS) if finished else set())
        if plan is not None and plan.outcome is DispatchOutcome.CANCELLED:
            stale.add(DispatchIssueKind.CT_ORDER_CANCELLED.value)
        self._resolve(order_id, stale - current, "resolved automatically: no longer the case")
        updated = self._after_check(record, report, plan, now)
        self._store.save_dispatch(updated, now=now)
        self._checkpoint("dispatch.recorded", order_id)
        return CheckOutcome(
            requests=self._requests,
            outcome=plan.outcome if plan is not None else None,
            deliveries=len(plan.deliveries) if plan is not None else 0,
        )

    def _plan_and_apply(self, order_id: str, report: PrimaDespatchReport) -> DispatchPlan:
        self._stage = "dispatch_read"
        try:
            order = self._ct.orders.get(order_id)
        except NotFoundError:
            raise
        except CommercetoolsError as error:
            self._stop_unless_own(order_id, error)
            raise
        today = self._clock.now().date()

        def plan_for(fresh: Order) -> DispatchPlan:
            return plan_dispatch(
                fresh, report, config=self._config, mapping=self._mapping, today=today
            )

        latest = [plan_for(order)]
        self._checkpoint("dispatch.planned", order_id)

        def reread(fresh: Order) -> Sequence[object]:
            latest.append(plan_for(fresh))
            return latest[-1].actions

        self._stage = "dispatch_write"
        if latest[0].actions:
            try:
                self._ct.orders.apply(
                    order.id,
                    order.version,
                    latest[0].actions,
                    reread=reread,  # type: ignore[arg-type]
                )
            except NotFoundError:
                raise
            except CommercetoolsError as error:
                self._stop_unless_own(order_id, error)
                raise
        self._checkpoint("dispatch.applied", order_id)
        return latest[-1]

    def _stop_unless_own(self, order_id: str, error: CommercetoolsError) -> None:
        """Stop the run when commercetools is unavailable (everyone's problem); a 4xx other
        than 429 is this order's own and is raised by :meth:`check`."""
        own = (
            isinstance(error, CommercetoolsApiError)
            and 400 <= error.status_code < 500
            and error.status_code != 429
        )
        if not own:
            problem = problem_from_error(error, stage=self._stage)
            self.raise_problem(order_id, problem)
            raise RunStopped(problem.kind) from None

    def _deleted(self, record: DispatchRecord, report: PrimaDespatchReport) -> CheckOutcome:
        now = self._clock.now()
        self.raise_issues(
            record.order_id,
            [
                DispatchIssue(
                    kind=DispatchIssueKind.CT_ORDER_DELETED,
                    message=f"the order was deleted in commercetools, but Prima has it (status "
                    f"{report.raw or report.status.value!r}): nobody can be told it shipped; stop "
                    "or handle it in Prima",
                    detail={"order_number": _number(record), "prima_status": report.raw},
                )
            ],
        )
        closed = attrs.evolve(
            record,
            state=DispatchState.CLOSED,
            next_check_at=None,
            finished_at=now,
            last_checked_at=now,
            checks=record.checks + 1,
            prima_status=report.raw or report.status.value,
        )
        self._store.save_dispatch(closed, now=now)
        self._checkpoint("dispatch.recorded", record.order_id)
        return CheckOutcome(requests=self._requests, outcome=None)

    def _after_check(
        self,
        record: DispatchRecord,
        report: PrimaDespatchReport,
        plan: DispatchPlan | None,
        now: datetime,
    ) -> DispatchRecord:
        """The record after a check: status, next check, deliveries and quantities, dates."""
        deliveries = list(record.deliveries)
        lines = record.lines
        state = record.state
        first, last = record.first_despatched_on, record.last_despatched_on
        if plan is not None:
            known = {d.delivery_key for d in deliveries}
            for planned in (*plan.deliveries, *plan.known):
                if planned.delivery_key not in known:
                    deliveries.append(_delivery_record(planned, now))
                    known.add(planned.delivery_key)
            lines = _with_despatched(record.lines, plan.despatched)
            dates = [d.despatched_on for d in deliveries]
            if dates:
                first, last = min(dates), max(dates)
            if plan.outcome in (DispatchOutcome.PARTIAL, DispatchOutcome.SHIPPED):
                first = first or now.date()
                last = last or now.date()
            if plan.outcome is DispatchOutcome.SHIPPED:
                state = DispatchState.SHIPPED
            elif plan.outcome is DispatchOutcome.CANCELLED:
                state = DispatchState.CANCELLED
        finished = state.finished
        return attrs.evolve(
            record,
            state=state,
            checks=record.checks + 1,
            last_checked_at=now,
            prima_status=report.raw or report.status.value,
            next_check_at=None
            if finished
            else next_check_at(
                accepted_at=record.accepted_at, checked_at=now, schedule=self._config.schedule
            ),
            finished_at=now if finished else None,
            deliveries=tuple(deliveries),
            lines=lines,
            first_despatched_on=first,
            last_despatched_on=last,
        )

    # -- changes made in commercetools -----------------------------------------------------------
    def pass_on(self, number: str, order_id: str, review: OrderReview) -> tuple[bool, bool]:
        """Send what the review says Prima takes, raise the rest; returns (cancellation done,
        returns done): False means "try again on the next run" (Prima was unavailable)."""
        issues = list(review.issues)
        changes = self._prima if isinstance(self._prima, PrimaOrderChanges) else None
        cancelled_ok = returns_ok = True
        if review.cancel_in_prima and changes is not None:
            cancelled_ok = self._send(
                order_id,
                "cancel_in_prima",
                lambda: changes.cancel_order(number, reason="cancelled in commercetools"),
                refused=lambda error: DispatchIssue(
                    kind=DispatchIssueKind.CT_ORDER_CANCELLED,
                    message="cancelled in commercetools after it reached Prima, and Prima "
                    f"refused the cancellation ({error}): stop it in the warehouse",
                    detail={"order_number": number, "request_error": error},
                ),
                issues=issues,
            )
        if review.returns_for_prima and changes is not None:
            lines = [
                ReturnLine(
                    line_reference=r.line_id,
                    sku=r.prima_sku,
                    quantity=r.quantity,
                    return_reference=r.return_item_id,
                )
                for r in review.returns_for_prima
            ]
            returns_ok = self._send(
                order_id,
                "returns_to_prima",
                lambda: changes.record_return(number, lines),
                refused=lambda error: DispatchIssue(
                    kind=DispatchIssueKind.CT_RETURN_RECORDED,
                    message=f"returns recorded in commercetools; Prima refused them ({error}): "
                    "book them in Prima",
                    detail={"order_number": number, "request_error": error},
                ),
                issues=issues,
            )
        self.raise_issues(order_id, issues)
        return cancelled_ok, returns_ok

    def _send(
        self,
        order_id: str,
        stage: str,
        send: Callable[[], None],
        *,
        refused: Callable[[str], DispatchIssue],
        issues: list[DispatchIssue],
    ) -> bool:
        """One request to Prima about the shop's changes: False when it must be sent again (no
        readable answer; a repeat is harmless), a refusal added to ``issues`` for a person."""
        try:
            send()
        except (PrimaUnavailableError, PrimaProtocolError) as error:
            self.raise_problem(order_id, problem_from_error(error, stage=stage))
            return False
        except PrimaRejectedError as error:
            issues.append(refused(error.request_error))
        return True


def _delivery_record(planned: PlannedDelivery, now: datetime) -> DeliveryRecord:
    return DeliveryRecord(
        delivery_key=planned.delivery_key,
        despatch_ref=planned.despatch_ref,
        despatched_on=planned.despatched_on,
        items=planned.items,
        written_at=now,
        shipping_key=planned.shipping_key,
        carrier=planned.carrier,
        tracking_ids=planned.tracking_ids,
    )


def _with_despatched(
    lines: Sequence[DispatchLine], despatched: dict[str, int]
) -> tuple[DispatchLine, ...]:
    return tuple(
        attrs.evolve(line, despatched=despatched.get(line.line_id, line.despatched))
        for line in lines
    )


def returns_recorded(review: OrderReview, *, now: datetime, sent: bool) -> list[ReturnRecord]:
    """The ledger's records of a review's new returns (``sent``: passed on as a request)."""
    return [
        ReturnRecord(
            return_item_id=r.return_item_id,
            line_id=r.line_id,
            quantity=r.quantity,
            shipment_state=r.shipment_state,
            payment_state=r.payment_state,
            recorded_at=now,
            return_date=r.return_date,
            passed_on="request" if sent else "exception",
        )
        for r in review.returns
    ]
