"""The boundary the engine depends on: anything that can do these things is a Prima."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from ._models import (
    CustomerDetails,
    Depot,
    DespatchDetails,
    JournalBatch,
    JournalPostingResult,
    OrderStatusReport,
    PrimaCustomer,
    SalesOrder,
    SkuCode,
    StockLevel,
    SubmitResult,
)

__all__ = ["PrimaGateway"]


@runtime_checkable
class PrimaGateway(Protocol):
    """What the sync engine needs from Prima.

    Implementations: :class:`~ct_prima_sync.prima.OmlinkClient` (Prima's omlink web service),
    :class:`~ct_prima_sync.testing.FakePrima` (in memory). A host with a different Prima interface
    can write a third; the engine depends on nothing else.

    Errors: :class:`~ct_prima_sync.errors.PrimaUnavailableError` (no usable answer; its
    ``may_have_been_applied`` says whether a write may have taken effect),
    :class:`~ct_prima_sync.errors.PrimaRejectedError` (a business rejection),
    :class:`~ct_prima_sync.errors.PrimaProtocolError` (a reply of the wrong shape).
    """

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        """Submit sales orders in one request; one result per order, in the same order.

        An order whose number Prima already holds comes back ``accepted`` and ``duplicate``.
        A request-level failure raises; it is never re-sent blindly: after a
        PrimaUnavailableError with ``may_have_been_applied`` the caller checks
        :meth:`order_status` first.
        """
        ...

    def order_status(self, order_number: str) -> OrderStatusReport:
        """The status of an order; ``OrderStatus.UNKNOWN_TO_PRIMA`` if Prima never received it."""
        ...

    def despatch_details(self, order_number: str) -> DespatchDetails:
        """What has been despatched for an order: lines, quantities, carrier, tracking, date."""
        ...

    def available_to_sell(self, skus: Sequence[SkuCode]) -> list[StockLevel]:
        """Available-to-sell stock for the given SKUs (per depot where Prima reports per depot)."""
        ...

    def iter_available_to_sell(self, *, chunk_size: int = 500) -> Iterator[StockLevel]:
        """Available-to-sell stock for the whole catalogue, fetched in bounded chunks."""
        ...

    def find_customer(self, *, account_code: str = "", email: str = "") -> PrimaCustomer | None:
        """The customer with this account code, else the one with this e-mail; None if neither."""
        ...

    def create_customer(self, details: CustomerDetails) -> PrimaCustomer:
        """Create a customer account and return it with its new account code."""
        ...

    def list_depots(self) -> list[Depot]:
        """Every depot (warehouse) Prima knows, for validating order lines."""
        ...

    def post_journal(self, batch: JournalBatch) -> JournalPostingResult:
        """Post a financial journal batch; posting the same ``batch_id`` again changes nothing."""
        ...
