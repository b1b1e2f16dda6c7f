"""Several prepared orders in one ``MultiNewOrder``: one request, one rate-limit token.

Exactly once holds per order, as for an order sent alone (``_order_flow``, rule 1 to 3):

1. Every member's submission begins in ONE ledger transaction before the request
   (``StateStore.begin_submissions``); a member whose lease was lost meanwhile is left out of the
   request (its new worker has it).
2. No answer that may have been applied (``PrimaUnavailableError.may_have_been_applied``) makes
   every member ambiguous: each is asked about (``OrderStatus``) before anything is sent again;
   found, it is recorded; unknown, it waits as an ambiguous order sent alone would. Once one
   status check goes unanswered the others are not asked: Prima is not answering.
3. Prima's answer reports per order: a refusal (or ``E:21``, judged per member by whether an
   earlier submission of that member began) settles that member only, never its batch-mates.
4. Prima refusing the whole request (``RequestStatus="ERROR"`` on the root, as for XML it cannot
   parse) applied nothing: each member is asked about, and the unknown ones are sent again one
   per request, their submissions begun again (``again``), so the one bad order gets its own
   refusal and its own exception.
5. The accepted members' Prima references are recorded in ONE transaction
   (``StateStore.record_prima_references``; the unique reference is still the last line), then
   each member takes the per-order finish step (write-back, done). Should that transaction be
   refused (a reference already recorded for another order), each member is recorded on its own.

Orders sent with ``Customer=""`` for Prima to match never come here: they go one at a time under
the customer's lock (``OrderFlow.send_one``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from attrs import evolve, frozen

from ..commercetools import Order
from ..errors import ConfigurationError, PrimaError, PrimaRejectedError, PrimaUnavailableError
from ..prima import SalesOrder, SubmitResult
from ..state import OrderRecord
from ._outcome import Outcome

if TYPE_CHECKING:
    from ._order_flow import OrderFlow

__all__ = ["Prepared", "chunks_to_send", "submit_chunk"]

_log = logging.getLogger("ct_prima_sync.engine.orders")


@frozen(kw_only=True)
class Prepared:
    """A claimed order ready to send: its ledger record, the commercetools order and the sales
    order with its customer resolved."""

    record: OrderRecord
    order: Order
    sales_order: SalesOrder

    @property
    def matching(self) -> bool:
        """Whether the order goes with ``Customer=""`` for Prima to match (sent alone)."""
        return not self.sales_order.customer.account_code


def chunks_to_send(prepared: Sequence[Prepared], size: int) -> list[list[Prepared]]:
    """The requests a claim batch's prepared orders go in: up to ``size`` orders each, in the
    order given, except that an order for Prima to match a customer goes alone."""
    alone = [[p] for p in prepared if p.matching]
    rest = [p for p in prepared if not p.matching]
    return [rest[i : i + size] for i in range(0, len(rest), size)] + alone


def submit_chunk(flow: OrderFlow, members: Sequence[Prepared]) -> list[Outcome]:
    """Send ``members`` in one request (see the module docstring); one outcome per member.

    Raises nothing but a :class:`ConfigurationError`, after giving back every member not settled
    yet (``OrderFlow`` rule 5).
    """
    if len(members) == 1 or any(m.matching for m in members):
        return [flow.send_one(m) for m in members]
    return _Chunk(flow, members).send()


class _Chunk:
    """One request's members and what became of each."""

    def __init__(self, flow: OrderFlow, members: Sequence[Prepared]) -> None:
        self._flow = flow
        self._members = list(members)
        self._outcomes: dict[str, Outcome] = {}
        # Whether an earlier submission of the member began is what makes E:21 "already there".
        self._sent_before = {
            m.record.order_id: m.record.submission_started_at is not None for m in members
        }

    def send(self) -> list[Outcome]:
        try:
            self._send()
        except ConfigurationError:
            for member in self._members:
                if member.record.order_id not in self._outcomes:
                    self._flow.give_back(member.record.order_id)
            raise
        return [self._outcomes.get(m.record.order_id, Outcome.LOST_LEASE) for m in self._members]

    def _settled(self, member: Prepared, stage: str, work: Callable[[], Outcome]) -> None:
        """Run one member's step; an error settles only that member."""
        try:
            outcome = work()
        except Exception as error:  # one bad order must never stop the others
            outcome = self._flow.settle(member.record, error, stage)
        self._outcomes[member.record.order_id] = outcome

    def _send(self) -> None:
        flow = self._flow
        try:
            begun = flow.store.begin_submissions(
                [m.record.order_id for m in self._members],
                worker_id=flow.worker,
                now=flow.clock.now(),
                lease_seconds=flow.timing.submission_lease_seconds,
            )
        except Exception:  # the store refused the batch: each order on its own, as before
            _log.warning("a batch could not begin; sending its orders one at a time")
            for member in self._members:
                self._outcomes[member.record.order_id] = flow.send_one(member)
            return
        records = {r.order_id: r for r in begun}
        for member in self._members:
            if member.record.order_id not in records:
                _log.warning("lease lost; leaving the order to its new worker", extra=_ids(member))
        live = [
            evolve(m, record=records[m.record.order_id])
            for m in self._members
            if m.record.order_id in records
        ]
        for member in live:
            flow.checkpoint("submitting", member.record.order_id)
        try:
            results = flow.prima.submit_orders([m.sales_order for m in live])
        except PrimaRejectedError as error:
            _log.warning(
                "Prima refused a whole batch; asking about each order and sending the unknown "
                "ones alone",
                extra={"orders": len(live), "error_type": type(error).__name__},
            )
            self._isolate(live)
            return
        except PrimaUnavailableError as error:
            if error.may_have_been_applied:
                self._ask_each(live, error)
            else:
                for member in live:
                    self._settled(member, "submit", _raiser(error))
            return
        except ConfigurationError:
            raise
        except Exception as error:  # as for an order sent alone
            for member in live:
                self._settled(member, "submit", _raiser(error))
            return
        if len(results) != len(live):  # not an answer for each: as good as none at all
            self._ask_each(
                live,
                PrimaUnavailableError(
                    f"Prima answered {len(results)} results for {len(live)} orders",
                    may_have_been_applied=True,
                ),
            )
            return
        self._answered(live, results)

    def _ask_each(self, live: Sequence[Prepared], error: PrimaUnavailableError) -> None:
        """No answer, maybe applied: every member is ambiguous until Prima's status check
        finds it (recorded) or not (it waits); once Prima does not answer, nobody is asked."""
        flow = self._flow
        answering = True
        for member in live:
            if not answering:
                self._settled(member, "submit", _raiser(error))
                continue
            try:
                found = flow._reference_if_in_prima(member.order)
            except PrimaError:
                answering = False
                self._settled(member, "submit", _raiser(error))
                continue
            if found is None:
                self._settled(member, "submit", _raiser(error))
            else:
                self._record_found(member, found)

    def _isolate(self, live: Sequence[Prepared]) -> None:
        """Prima refused the whole request (nothing of it applied): ask about each member, and
        send the unknown ones one per request, so that the bad one meets its refusal alone."""
        flow = self._flow
        answering: PrimaError | None = None
        for member in live:
            if answering is not None:
                self._settled(member, "status_check", _raiser(answering))
                continue
            try:
                found = flow._reference_if_in_prima(member.order)
            except PrimaError as error:
                answering = error
                self._settled(member, "status_check", _raiser(error))
                continue
            if found is not None:
                self._record_found(member, found)
            else:
                sent_before = self._sent_before[member.record.order_id]
                self._settled(member, "submit", partial(flow.resend, member, sent_before))

    def _record_found(self, member: Prepared, reference: str) -> None:
        flow = self._flow
        self._settled(
            member,
            "write_back",
            lambda: flow._record_and_finish(
                member.record, member.order, reference, Outcome.ALREADY_IN_PRIMA
            ),
        )

    def _answered(self, live: Sequence[Prepared], results: Sequence[SubmitResult]) -> None:
        flow = self._flow
        accepted: list[tuple[Prepared, str]] = []
        for member, result in zip(live, results, strict=True):
            order_id = member.record.order_id
            flow.checkpoint("submitted", order_id)
            try:
                answer = flow.answered(
                    member.record,
                    member.order,
                    member.sales_order,
                    result,
                    sent_before=self._sent_before[order_id],
                )
            except Exception as error:  # one bad order must never stop the others
                self._outcomes[order_id] = flow.settle(member.record, error, "submit")
                continue
            if isinstance(answer, Outcome):  # a StrEnum: tell it from a reference first
                self._outcomes[order_id] = answer
            else:
                accepted.append((member, answer))
        if not accepted:
            return
        try:
            recorded = flow.store.record_prima_references(
                [(m.record.order_id, reference) for m, reference in accepted],
                worker_id=flow.worker,
                now=flow.clock.now(),
            )
        except Exception:  # e.g. one reference held by another order: each on its own
            for member, reference in accepted:
                self._settled(
                    member,
                    "write_back",
                    partial(
                        flow._record_and_finish,
                        member.record,
                        member.order,
                        reference,
                        Outcome.POSTED,
                    ),
                )
            return
        records = {r.order_id: r for r in recorded}
        for member, reference in accepted:
            record = records.get(member.record.order_id)
            if record is None:
                _log.warning("lease lost; leaving the order to its new worker", extra=_ids(member))
                continue
            flow.checkpoint("recorded", record.order_id)
            self._settled(
                member,
                "write_back",
                partial(flow._finish, record, member.order, reference, Outcome.POSTED),
            )


def _raiser(error: Exception) -> Callable[[], Outcome]:
    def raise_it() -> Outcome:
        raise error

    return raise_it


def _ids(member: Prepared) -> dict[str, object]:
    return {"order_id": member.record.order_id, "order_number": member.record.order_number}
