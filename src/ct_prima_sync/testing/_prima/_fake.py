"""FakePrima: the PrimaGateway in memory over a PrimaWorld, with protocol-level faults."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from ...errors import ConfigurationError, PayloadError, PrimaRejectedError
from ...prima import (
    CustomerDetails,
    Depot,
    DespatchDetails,
    JournalBatch,
    JournalPostingResult,
    OrderStatusReport,
    PrimaCustomer,
    ReturnLine,
    SalesOrder,
    SkuCode,
    StockLevel,
    SubmitResult,
)
from ._driving import ScenarioDriver
from ._faults import PrimaFault, PrimaFaultKind, PrimaFaultPlan
from ._requests import PrimaRequestKind
from ._world import PrimaWorld

__all__ = ["FakePrima"]

_T = TypeVar("_T")
_CONFIRMED = frozenset(
    {"MultiNewOrder", "OrderStatus", "ProductAvailableToSell", "MultiAvailableToSell"}
)


class FakePrima(ScenarioDriver):
    """A Prima in memory that behaves like the omlink client against a real Prima.

    It implements :class:`~ct_prima_sync.prima.PrimaGateway` over a :class:`PrimaWorld` (share one
    world with a :class:`PrimaEmulator` to see the same state) and raises what the client would:
    :class:`~ct_prima_sync.errors.PrimaUnavailableError` for lost, refused or rate-limited
    requests (with ``may_have_been_applied``), :class:`~ct_prima_sync.errors.PrimaRejectedError`
    for ERROR replies, :class:`~ct_prima_sync.errors.PrimaProtocolError` for malformed or hostile
    replies. It also takes the shop's cancellations and returns
    (:class:`~ct_prima_sync.prima.PrimaOrderChanges`, site-specific requests). Faults come from
    ``faults``; latency goes through ``sleep`` (inject a recorder in tests so nothing waits).
    ``strict`` refuses, as an installation that does not have them would, the request types no
    public source confirms (customer find and create, depot list, despatch details, journals,
    cancellations, returns), listing them in :attr:`refused`.
    """

    def __init__(
        self,
        world: PrimaWorld | None = None,
        *,
        faults: PrimaFaultPlan | None = None,
        sleep: Callable[[float], None] = time.sleep,
        strict: bool = False,
    ) -> None:
        self.world = world if world is not None else PrimaWorld()
        self.faults = faults if faults is not None else PrimaFaultPlan()
        self._sleep = sleep
        self.strict = strict
        self.refused: list[str] = []

    def _call(
        self,
        kind: PrimaRequestKind,
        keys: Sequence[str],
        request_type: str,
        apply: Callable[[], _T],
    ) -> _T:
        if self.strict and request_type not in _CONFIRMED:
            self.refused.append(request_type)
            raise PrimaRejectedError(
                f"RequestType {request_type} is not known to this installation",
                request_type=request_type,
            )
        fault = self.faults.next_fault(kind)
        if fault is None:
            self.world.record_request(kind, keys, applied=True)
            return apply()
        if fault.delay:
            self._sleep(fault.delay)
        self.world.record_request(kind, keys, applied=fault.applies_request, fault=fault.kind.value)
        if not fault.applies_request:
            raise self._error(fault, request_type, kind.is_write)
        result = apply()
        if fault.kind is PrimaFaultKind.LATENCY:
            return result
        raise self._error(fault, request_type, kind.is_write)

    @staticmethod
    def _error(fault: PrimaFault, request_type: str, write: bool) -> Exception:
        error = fault.as_gateway_error(request_type, write=write)
        if error is None:
            raise ConfigurationError(f"a {fault.kind.value} fault cannot skip the request")
        return error

    # -- PrimaGateway ---------------------------------------------------------------------------

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        """Submit orders; a known order number comes back ``accepted`` and ``duplicate``."""
        if not orders:
            return []
        numbers = [order.order_number for order in orders]
        return self._call(
            PrimaRequestKind.SUBMIT_ORDERS,
            numbers,
            "MultiNewOrder",
            lambda: self.world.submit_orders(orders),
        )

    def order_status(self, order_number: str) -> OrderStatusReport:
        """The order's status; ``UNKNOWN_TO_PRIMA`` when Prima never received it."""
        return self._call(
            PrimaRequestKind.ORDER_STATUS,
            [order_number],
            "OrderStatus",
            lambda: self.world.order_status(order_number),
        )

    def despatch_details(self, order_number: str) -> DespatchDetails:
        """What has been despatched for an order (PrimaRejectedError when it is unknown)."""
        return self._call(
            PrimaRequestKind.DESPATCH_DETAILS,
            [order_number],
            "DespatchDetails",
            lambda: self.world.despatch_details(order_number),
        )

    def available_to_sell(self, skus: Sequence[SkuCode]) -> list[StockLevel]:
        """ATS of the given SKUs (unknown SKUs are left out)."""
        return self._call(
            PrimaRequestKind.AVAILABLE_TO_SELL,
            [str(sku) for sku in skus],
            "MultiAvailableToSell",
            lambda: self.world.available_to_sell(skus),
        )

    def iter_available_to_sell(self, *, chunk_size: int = 500) -> Iterator[StockLevel]:
        """ATS of the whole catalogue, one request per chunk of at most ``chunk_size`` rows."""
        if chunk_size < 1:
            raise ConfigurationError("chunk_size must be at least 1")
        start = 0
        while True:
            rows = self._chunk(start, chunk_size)
            yield from rows
            if len(rows) < chunk_size:
                return
            start += chunk_size

    def _chunk(self, start: int, size: int) -> list[StockLevel]:
        return self._call(
            PrimaRequestKind.CATALOGUE_AVAILABLE_TO_SELL,
            [str(start)],
            "ProductAvailableToSell",
            lambda: self.world.catalogue_available_to_sell()[start : start + size],
        )

    def find_customer(self, *, account_code: str = "", email: str = "") -> PrimaCustomer | None:
        """The customer with this account code, else with this e-mail; None if neither."""
        if not account_code and not email:
            raise PayloadError("find_customer needs an account code or an e-mail address")
        return self._call(
            PrimaRequestKind.FIND_CUSTOMER,
            [account_code] if account_code else [],
            "CustomerFind",
            lambda: self.world.find_customer(account_code=account_code, email=email),
        )

    def create_customer(self, details: CustomerDetails) -> PrimaCustomer:
        """Create a customer account with a generated account code."""
        return self._call(
            PrimaRequestKind.CREATE_CUSTOMER,
            [details.external_id] if details.external_id else [],
            "CustomerCreate",
            lambda: self.world.create_customer(details),
        )

    def list_depots(self) -> list[Depot]:
        """Every depot."""
        return self._call(PrimaRequestKind.LIST_DEPOTS, [], "DepotList", self.world.list_depots)

    # -- PrimaOrderChanges (site-specific requests) ----------------------------------------------

    def cancel_order(self, order_number: str, *, reason: str = "") -> None:
        """Cancel an order the shop cancelled (PrimaRejectedError once something shipped)."""
        self._call(
            PrimaRequestKind.CANCEL_ORDER,
            [order_number],
            "CancelOrder",
            lambda: self.world.cancel_order(order_number, reason=reason),
        )

    def record_return(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        """Record returned quantities the shop reported (a known return reference again: kept)."""
        self._call(
            PrimaRequestKind.RECORD_RETURN,
            [order_number, *(line.return_reference for line in lines)],
            "OrderReturn",
            lambda: self.world.record_return(order_number, lines),
        )

    def post_journal(self, batch: JournalBatch) -> JournalPostingResult:
        """Post a journal batch; the same batch id again changes nothing."""
        return self._call(
            PrimaRequestKind.POST_JOURNAL,
            [batch.batch_id],
            "PostJournal",
            lambda: self.world.post_journal(batch),
        )
