"""A stateful, thread-safe Prima: what the fake and the emulator both serve.

Rules the world keeps (the tests hold it to them):

1. An order number is accepted once. Submitting it again is refused with ``(E:21) Sales Order
   Header already exists ...`` as a real installation answers (with ``legacy_replies``: accepted
   with ``duplicate=True``, the older shape) and allocates nothing more.
2. An order naming an unknown SKU, depot or customer account is rejected (a business error) and
   leaves no trace but the request log.
3. Accepting an order allocates its lines: ATS (on hand minus allocated) falls by the quantities,
   and never below zero unless the world allows backorders (an order that would is rejected).
4. The status lifecycle moves only when the test drives it (:meth:`PrimaWorld.authorise`,
   :meth:`~PrimaWorld.despatch`, ...); despatch takes stock off on hand and allocated, cancel
   releases the allocation.
5. A journal batch id is posted once; a batch whose lines do not sum to zero is rejected.
6. Every request the world receives is logged, faulted or not (:meth:`PrimaWorld.requests`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime

from ...errors import InvalidTransitionError, PrimaRejectedError
from ...prima import (
    CustomerDetails,
    Depot,
    Despatch,
    DespatchDetails,
    DespatchLine,
    JournalBatch,
    JournalPostingResult,
    OrderStatus,
    OrderStatusReport,
    PrimaCustomer,
    ReturnLine,
    SalesOrder,
    SkuCode,
    StockLevel,
    SubmitResult,
)
from ...prima._error_codes import parse_error_codes, short_error_text
from ...prima._xml import parse_order_status
from ._journals import JournalBook
from ._orders import OrderRecord, PrimaOrder, check_transition
from ._requests import PrimaRequestKind, PrimaRequestRecord, RequestLog
from ._stock import StockBook

__all__ = ["PrimaWorld"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


# The "DEV MODE Stack Trace" tail a real installation appends to each (E:nnn) part.
_TRACE = " DEV MODE Stack Trace: {procedure} omlink/neworder.p om/ordhdr.p om/ordval.p"


def _coded(*parts: tuple[str, str]) -> str:
    """A refusal text in the real installation's shape: ``(E:nnn) message`` parts, each with
    its stack-trace tail, separated by newlines."""
    return "\n".join(
        f"({code}) {message}{_TRACE.format(procedure=code.replace(':', ''))}"
        for code, message in parts
    )


def _refused(order_number: str, raw: str) -> SubmitResult:
    return SubmitResult(
        order_number=order_number,
        accepted=False,
        error=short_error_text(raw),
        raw_error=raw,
        error_codes=parse_error_codes(raw),
    )


class PrimaWorld:
    """Customers, products, depots, stock, sales orders and journals of one simulated Prima.

    ``per_depot_stock`` False makes stock queries answer one figure per SKU (``depot=""``), as
    installations that do not report per depot do. ``clock`` dates despatches.

    Orders are answered as a real installation answers them: a duplicate order number is refused
    with ``E:21``, an accepted order carries the account Prima used (``customer_code``) and no
    reference of its own (the order number is the reference). ``legacy_replies`` answers in the
    older shape instead (duplicates accepted with ``duplicate=True``, ``SO``-numbered references),
    and makes the emulator write the older XML. ``price_book_vat_inclusive`` (None: not checked)
    is whether the price book's prices include VAT: an order whose ``VatInclusive`` disagrees is
    refused with ``E:194`` and ``E:548``, as a real installation refuses it.
    """

    def __init__(
        self,
        *,
        allow_backorders: bool = False,
        per_depot_stock: bool = True,
        clock: Callable[[], datetime] = _utc_now,
        legacy_replies: bool = False,
        price_book_vat_inclusive: bool | None = None,
    ) -> None:
        self.per_depot_stock = per_depot_stock
        self.legacy_replies = legacy_replies
        self.price_book_vat_inclusive = price_book_vat_inclusive
        self._clock = clock
        self._lock = threading.RLock()
        self._stock = StockBook(allow_backorders=allow_backorders)
        self._products: dict[SkuCode, str] = {}
        self._depots: dict[str, Depot] = {}
        self._customers: dict[str, PrimaCustomer] = {}
        self._orders: dict[str, OrderRecord] = {}
        self._journals = JournalBook()
        self._log = RequestLog()
        self._counters: dict[str, int] = {}

    @property
    def lock(self) -> threading.RLock:
        """The lock every read and write takes; hold it to make several calls atomic."""
        return self._lock

    def _next(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}{self._counters[prefix]:06d}"

    # -- setting the scene ---------------------------------------------------------------------

    def add_depot(self, code: str, name: str = "") -> Depot:
        """Open a depot (warehouse)."""
        with self._lock:
            depot = Depot(code=code, name=name)
            self._depots[code] = depot
            return depot

    def add_product(self, sku: SkuCode, description: str = "") -> None:
        """Add a SKU (a product code with its matrix codes) to the catalogue."""
        with self._lock:
            self._products[sku] = description

    def set_stock(self, sku: SkuCode, depot: str, on_hand: int) -> None:
        """Set the on-hand stock of a known SKU in a known depot (allocations are kept)."""
        with self._lock:
            self._require_known(sku, depot)
            self._stock.set_on_hand(sku, depot, on_hand)

    def add_customer(
        self, *, account_code: str = "", email: str = "", name: str = "", external_id: str = ""
    ) -> PrimaCustomer:
        """Add an existing customer account (a generated account code when none is given)."""
        with self._lock:
            customer = PrimaCustomer(
                account_code=account_code or self._next("C"),
                email=email,
                name=name,
                external_id=external_id,
            )
            self._customers[customer.account_code] = customer
            return customer

    def _require_known(self, sku: SkuCode, depot: str) -> None:
        if sku not in self._products:
            raise InvalidTransitionError(f"unknown SKU {sku}: add_product first")
        if depot not in self._depots:
            raise InvalidTransitionError(f"unknown depot {depot}: add_depot first")

    # -- reads ------------------------------------------------------------------------------------

    def list_depots(self) -> list[Depot]:
        """Every depot, by code."""
        with self._lock:
            return [self._depots[code] for code in sorted(self._depots)]

    def skus(self) -> list[SkuCode]:
        """Every SKU in the catalogue, ordered by product then matrix codes."""
        with self._lock:
            return sorted(self._products, key=lambda sku: (sku.product, sku.matrix))

    def on_hand(self, sku: SkuCode, depot: str) -> int:
        """Physical stock of a SKU in a depot."""
        with self._lock:
            return self._stock.on_hand(sku, depot)

    def allocated(self, sku: SkuCode, depot: str) -> int:
        """Stock of a SKU in a depot promised to orders not yet despatched."""
        with self._lock:
            return self._stock.allocated(sku, depot)

    def available(self, sku: SkuCode, depot: str) -> int:
        """Available to sell (ATS) of a SKU in a depot: on hand minus allocated."""
        with self._lock:
            return self._stock.available(sku, depot)

    def available_to_sell(self, skus: Sequence[SkuCode]) -> list[StockLevel]:
        """ATS of the given SKUs (unknown SKUs are left out), per depot or summed."""
        with self._lock:
            return self._levels(self._stock.levels([s for s in skus if s in self._products]))

    def catalogue_available_to_sell(
        self, *, product_from: str = "", product_to: str = ""
    ) -> list[StockLevel]:
        """ATS of every SKU whose product code is in the (inclusive, open when empty) range."""
        with self._lock:
            skus = [
                sku
                for sku in self._products
                if (not product_from or sku.product >= product_from)
                and (not product_to or sku.product <= product_to)
            ]
            return self._levels(self._stock.levels(skus))

    def _levels(self, levels: Iterable[StockLevel]) -> list[StockLevel]:
        if self.per_depot_stock:
            return list(levels)
        summed: dict[SkuCode, int] = {}
        for level in levels:
            summed[level.sku] = summed.get(level.sku, 0) + level.available
        return [StockLevel(sku=sku, available=available) for sku, available in summed.items()]

    def find_customer(self, *, account_code: str = "", email: str = "") -> PrimaCustomer | None:
        """The customer with this account code, else the one with this e-mail (any case)."""
        with self._lock:
            if account_code and account_code in self._customers:
                return self._customers[account_code]
            if email:
                folded = email.casefold()
                for customer in self._customers.values():
                    if customer.email and customer.email.casefold() == folded:
                        return customer
            return None

    def create_customer(self, details: CustomerDetails) -> PrimaCustomer:
        """Create a customer account with a generated account code."""
        name = " ".join(part for part in (details.forename, details.surname) if part)
        return self.add_customer(
            email=details.email,
            name=name or details.company,
            external_id=details.external_id,
        )

    def customers(self) -> list[PrimaCustomer]:
        """Every customer account, by account code."""
        with self._lock:
            return [self._customers[code] for code in sorted(self._customers)]

    # -- orders ---------------------------------------------------------------------------------

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        """Accept, de-duplicate or reject each order; one result per order, in order."""
        with self._lock:
            return [self._submit(order) for order in orders]

    def _submit(self, order: SalesOrder) -> SubmitResult:
        number = order.order_number
        existing = self._orders.get(number)
        if existing is not None:
            existing.submissions += 1
            if not self.legacy_replies:
                return _refused(
                    number,
                    _coded(
                        ("E:21", f"Sales Order Header already exists with Order Number equal "
                         f"to {number}")
                    ),
                )  # fmt: skip
            return SubmitResult(
                order_number=number,
                accepted=True,
                prima_reference=existing.prima_reference,
                duplicate=True,
            )
        problems = self._validate(order)
        if problems:
            return SubmitResult(order_number=number, accepted=False, error="; ".join(problems))
        book = self.price_book_vat_inclusive
        if book is not None and book != order.vat_inclusive:
            return _refused(
                number,
                _coded(
                    ("E:194", f"There were no Valid Order Lines found for Order {number}"),
                    ("E:548", "Price obtained from the Price Book has a different VAT Incl "
                     "Prices Value to the Sales Order"),
                ),
            )  # fmt: skip
        account = order.customer.account_code or self._account_for(order.customer)
        for line in order.lines:
            self._stock.allocate(line.sku, line.warehouse, line.quantity)
        record = OrderRecord(
            order=order,
            prima_reference=self._next("SO") if self.legacy_replies else number,
            account_code=account,
            status=OrderStatus.ON_HOLD if order.hold else OrderStatus.OUTSTANDING,
        )
        self._orders[number] = record
        if self.legacy_replies:
            return SubmitResult(
                order_number=number, accepted=True, prima_reference=record.prima_reference
            )
        return SubmitResult(order_number=number, accepted=True, customer_code=account)

    def _validate(self, order: SalesOrder) -> list[str]:
        problems: list[str] = []
        if not order.lines:
            problems.append("the order has no lines")
        account = order.customer.account_code
        if account and account not in self._customers:
            problems.append(f"unknown customer account {account}")
        for line in order.lines:
            if line.sku not in self._products:
                problems.append(f"line {line.line_number}: unknown product {line.sku}")
            if line.warehouse not in self._depots:
                problems.append(f"line {line.line_number}: unknown depot {line.warehouse}")
            if line.quantity <= 0:
                problems.append(f"line {line.line_number}: quantity must be positive")
        if problems:
            return problems
        return self._stock.shortfalls(
            (line.sku, line.warehouse, line.quantity) for line in order.lines
        )

    def _account_for(self, details: CustomerDetails) -> str:
        found = self.find_customer(email=details.email) if details.email else None
        return (found or self.create_customer(details)).account_code

    def order_status(self, order_number: str) -> OrderStatusReport:
        """The order's status; ``UNKNOWN_TO_PRIMA`` when the number never arrived."""
        with self._lock:
            record = self._orders.get(order_number)
            if record is None:
                return OrderStatusReport(
                    order_number=order_number, status=OrderStatus.UNKNOWN_TO_PRIMA
                )
            raw = record.status_text or record.status.value
            return OrderStatusReport(
                order_number=order_number,
                status=parse_order_status(raw),
                raw=raw,
                prima_reference=record.prima_reference,
            )

    def despatch_details(self, order_number: str) -> DespatchDetails:
        """Everything despatched for the order; PrimaRejectedError when the number is unknown."""
        with self._lock:
            record = self._record(order_number, rejected_as="DespatchDetails")
            return DespatchDetails(
                order_number=order_number,
                status=record.status,
                despatches=tuple(record.despatches),
            )

    def order(self, order_number: str) -> PrimaOrder:
        """A snapshot of an order for assertions; PrimaRejectedError when it is unknown."""
        with self._lock:
            return self._record(order_number).snapshot()

    def orders(self) -> list[PrimaOrder]:
        """Snapshots of every accepted order, in the order they were accepted."""
        with self._lock:
            return [record.snapshot() for record in self._orders.values()]

    def _record(self, order_number: str, rejected_as: str = "") -> OrderRecord:
        record = self._orders.get(order_number)
        if record is None:
            raise PrimaRejectedError(f"order {order_number} not found", request_type=rejected_as)
        return record

    # -- the lifecycle, driven by the test -------------------------------------------------------

    def hold(self, order_number: str) -> None:
        """Put an order on hold."""
        self._move(order_number, "hold", OrderStatus.ON_HOLD)

    def release(self, order_number: str) -> None:
        """Release a held order back to outstanding."""
        self._move(order_number, "release", OrderStatus.OUTSTANDING)

    def authorise(self, order_number: str) -> None:
        """Authorise an order (payment and credit checks passed)."""
        self._move(order_number, "authorise", OrderStatus.AUTHORISED)

    def allocate(self, order_number: str) -> None:
        """Mark an order allocated in the warehouse (its stock was reserved on acceptance)."""
        self._move(order_number, "allocate", OrderStatus.ALLOCATED)

    def invoice(self, order_number: str) -> None:
        """Invoice a fully despatched order."""
        self._move(order_number, "invoice", OrderStatus.INVOICED)

    def _move(self, order_number: str, step: str, target: OrderStatus) -> None:
        with self._lock:
            record = self._record(order_number)
            check_transition(step, order_number, record.status)
            record.status = target

    def cancel(self, order_number: str, *, rest: bool = False) -> None:
        """Cancel an order that has not shipped (or, with ``rest``, what a part-despatched
        order has not shipped yet); the allocated stock is released."""
        with self._lock:
            record = self._record(order_number)
            check_transition(
                "cancel the rest of" if rest else "cancel", order_number, record.status
            )
            for line in record.order.lines:
                self._stock.release(line.sku, line.warehouse, record.outstanding(line))
            record.status = OrderStatus.CANCELLED
            record.status_text = ""

    def despatch(
        self,
        order_number: str,
        lines: Mapping[int, int] | None = None,
        *,
        carrier: str = "",
        carrier_service: str = "",
        tracking_numbers: Sequence[str] = (),
        on: date | None = None,
    ) -> Despatch:
        """Ship quantities of an order's lines (``{line_number: quantity}``; None ships the rest).

        The order becomes ``Part Despatched`` or ``Despatched``; stock leaves the depot.
        """
        with self._lock:
            record = self._record(order_number)
            check_transition("despatch", order_number, record.status)
            if lines is None:
                lines = {line.line_number: record.outstanding(line) for line in record.order.lines}
            shipped: list[DespatchLine] = []
            for line_number, quantity in sorted(lines.items()):
                line = record.line(line_number)
                if not 0 <= quantity <= record.outstanding(line):
                    raise InvalidTransitionError(
                        f"cannot despatch {quantity} of line {line_number} of order"
                        f" {order_number}: {record.outstanding(line)} outstanding"
                    )
                if quantity:
                    shipped.append(
                        DespatchLine(line_number=line_number, sku=line.sku, quantity=quantity)
                    )
            if not shipped:
                raise InvalidTransitionError(f"nothing to despatch for order {order_number}")
            for shipped_line in shipped:
                line = record.line(shipped_line.line_number)
                self._stock.ship(line.sku, line.warehouse, shipped_line.quantity)
                record.despatched[line.line_number] = (
                    record.despatched.get(line.line_number, 0) + shipped_line.quantity
                )
            despatch = Despatch(
                despatch_id=self._next("D"),
                despatched_on=on or self._clock().date(),
                lines=tuple(shipped),
                carrier=carrier,
                carrier_service=carrier_service,
                tracking_numbers=tuple(tracking_numbers),
            )
            record.despatches.append(despatch)
            record.status = (
                OrderStatus.DESPATCHED if record.fully_despatched() else OrderStatus.PART_DESPATCHED
            )
            record.status_text = ""
            return despatch

    def report_status_as(self, order_number: str, text: str) -> None:
        """Make ``OrderStatus`` report ``text`` for the order (``"PART DESPATCHED"``, a value
        the library does not know, ...) until the order's status next moves."""
        with self._lock:
            self._record(order_number).status_text = text

    def forget(self, order_number: str) -> None:
        """Remove an order, as an archive or purge in Prima would: Prima no longer knows it."""
        with self._lock:
            self._record(order_number)
            del self._orders[order_number]

    # -- changes sent by the shop (site-specific requests) ----------------------------------------

    def cancel_order(self, order_number: str, *, reason: str = "") -> None:
        """The shop asks to cancel an order: done unless something shipped; asking again for a
        cancelled order changes nothing. PrimaRejectedError when it cannot be cancelled."""
        with self._lock:
            record = self._record(order_number, rejected_as="CancelOrder")
            record.cancellation_requests += 1
            if record.status is OrderStatus.CANCELLED:
                return
            try:
                self.cancel(order_number)
            except InvalidTransitionError:
                raise PrimaRejectedError(
                    f"order {order_number} cannot be cancelled: it is {record.status.value}",
                    request_type="CancelOrder",
                ) from None

    def record_return(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        """The shop reports returned quantities; a return reference already recorded is kept as
        it was. PrimaRejectedError for an unknown order or a return of more than despatched."""
        with self._lock:
            record = self._record(order_number, rejected_as="OrderReturn")
            shipped = sum(record.despatched.values())
            returned = sum(r.quantity for r in record.returns.values())
            fresh = [line for line in lines if line.return_reference not in record.returns]
            if returned + sum(line.quantity for line in fresh) > shipped:
                raise PrimaRejectedError(
                    f"order {order_number}: more returned than despatched",
                    request_type="OrderReturn",
                )
            for line in fresh:
                record.returns[line.return_reference] = line

    # -- journals ---------------------------------------------------------------------------------

    def post_journal(self, batch: JournalBatch) -> JournalPostingResult:
        """Post a balanced batch once; PrimaRejectedError when its lines do not sum to zero."""
        with self._lock:
            return self._journals.post(batch, lambda: self._next("J"))

    def journals(self) -> list[JournalBatch]:
        """Every posted journal batch, in posting order."""
        with self._lock:
            return self._journals.batches()

    # -- the request log -------------------------------------------------------------------------

    def record_request(
        self, kind: PrimaRequestKind, keys: Sequence[str] = (), *, applied: bool, fault: str = ""
    ) -> PrimaRequestRecord:
        """Log a request (the fake and the emulator call this for every request they receive)."""
        return self._log.record(kind, keys, applied=applied, fault=fault)

    def requests(self, kind: PrimaRequestKind | None = None) -> list[PrimaRequestRecord]:
        """Every request received (of one kind when given), in arrival order."""
        return self._log.records(kind)

    def submission_count(self, order_number: str) -> int:
        """How many order submissions that reached Prima's state carried this order number
        (reads the whole request log: to check many orders, use :meth:`submission_counts`)."""
        return self._log.submission_count(order_number)

    def submission_counts(self) -> Counter[str]:
        """How many order submissions that reached Prima's state carried each order number, read
        in one pass over the request log: ``counts[number]`` is :meth:`submission_count` of
        that number (0 for one never submitted), for checking every order of a run at once::

            counts = world.submission_counts()
            assert all(counts[number] == 1 for number in scenario.good)
        """
        return self._log.submission_counts()
