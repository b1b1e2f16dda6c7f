"""Omlink reply strings read into models (the client half of the codec)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from ...errors import PrimaProtocolError, PrimaRejectedError
from .._models import (
    Depot,
    Despatch,
    DespatchDetails,
    DespatchLine,
    JournalPostingResult,
    OrderStatusReport,
    PrimaCustomer,
    StockLevel,
    SubmitResult,
)
from ._base import (
    REPLY_ROOTS,
    SUBMIT_DUPLICATE,
    SUBMIT_ERROR,
    SUBMIT_OK,
    CodecBase,
    guard,
    parse_order_status,
)
from ._orders import read_sku
from ._tree import Node, parse_document

__all__ = ["ReplyReader"]

_T = TypeVar("_T")


class ReplyReader(CodecBase):
    """Reads reply strings into models.

    ``RequestStatus="ERROR"`` raises PrimaRejectedError; anything unreadable PrimaProtocolError.
    """

    def reply_root(self, text: str | bytes, request_type: str) -> Node:
        """The checked root of a reply; raises on ERROR, malformed, hostile or wrong-root XML."""
        root = Node(parse_document(text, PrimaProtocolError), self._names, PrimaProtocolError)
        if not any(root.is_named(tag) for tag in REPLY_ROOTS):
            raise PrimaProtocolError(f"reply to {request_type} has an unexpected root element")
        status = root.text("RequestStatus").strip().upper()
        if status == "ERROR":
            raise PrimaRejectedError(root.text("RequestError"), request_type=request_type)
        if status != "OK":
            raise PrimaProtocolError(f"reply to {request_type} has no RequestStatus OK or ERROR")
        return root

    def _decode(self, request_type: str, text: str | bytes, read: Callable[[Node], _T]) -> _T:
        return guard(PrimaProtocolError, lambda: read(self.reply_root(text, request_type)))

    def decode_submit_reply(
        self, text: str | bytes, order_numbers: Sequence[str]
    ) -> list[SubmitResult]:
        """One result per submitted order number, in that order.

        A reply with no ``Data`` at all means every order was accepted (installations that do
        not report per order); a reply that omits some orders is a protocol error.
        """

        def read(root: Node) -> list[SubmitResult]:
            blocks = list(root.children("Data"))
            if not blocks:
                return [SubmitResult(order_number=n, accepted=True) for n in order_numbers]
            by_number: dict[str, SubmitResult] = {}
            for block in blocks:
                number = block.required("OrderNumber")
                outcome = block.text("Result", SUBMIT_OK).strip().upper()
                if outcome not in (SUBMIT_OK, SUBMIT_DUPLICATE, SUBMIT_ERROR):
                    raise block.fail("is not OK, DUPLICATE or ERROR", "Result")
                by_number[number] = SubmitResult(
                    order_number=number,
                    accepted=outcome != SUBMIT_ERROR,
                    duplicate=outcome == SUBMIT_DUPLICATE,
                    prima_reference=block.text("OrderReference"),
                    error=block.text("Error"),
                )
            missing = [n for n in order_numbers if n not in by_number]
            if missing:
                raise PrimaProtocolError(f"the reply has no result for {len(missing)} order(s)")
            return [by_number[n] for n in order_numbers]

        return self._decode(self.schema.request_types.submit_orders, text, read)

    def decode_order_status_reply(self, text: str | bytes) -> OrderStatusReport:
        """The status report (an ERROR reply raises; the client decides what it means)."""

        def read(root: Node) -> OrderStatusReport:
            data = root.child("Data")
            if data is None:
                raise root.fail("has no Data element")
            raw = data.required("OrderStatus")
            return OrderStatusReport(
                order_number=data.text("OrderNumber"),
                status=parse_order_status(raw),
                raw=raw,
                prima_reference=data.text("OrderReference"),
            )

        return self._decode(self.schema.request_types.order_status, text, read)

    def decode_ats_reply(self, text: str | bytes, *, skus: bool = False) -> list[StockLevel]:
        """The stock rows of an ATS reply, in the order sent."""
        names = self.schema.request_types

        def read(root: Node) -> list[StockLevel]:
            return [
                StockLevel(
                    sku=read_sku(row),
                    available=row.integer("AvailableQuantity"),
                    depot=row.text("Warehouse"),
                    available_date=row.date("AvailableDate", self.schema.date_format),
                )
                for data in root.children("Data")
                for row in data.children("sku")
            ]

        return self._decode(names.ats_skus if skus else names.ats_range, text, read)

    def _read_customer(self, node: Node) -> PrimaCustomer:
        return PrimaCustomer(
            account_code=node.required("Customer"),
            email=node.text("Email"),
            name=node.text("Name"),
            external_id=node.text("CustomerExternalId"),
        )

    def decode_customer_find_reply(self, text: str | bytes) -> PrimaCustomer | None:
        """The customer found, or None."""

        def read(root: Node) -> PrimaCustomer | None:
            data = root.child("Data")
            found = data.child("CustomerData") if data is not None else None
            return self._read_customer(found) if found is not None else None

        return self._decode(self.schema.request_types.customer_find, text, read)

    def decode_customer_create_reply(self, text: str | bytes) -> PrimaCustomer:
        """The created customer."""

        def read(root: Node) -> PrimaCustomer:
            data = root.child("Data")
            found = data.child("CustomerData") if data is not None else None
            if found is None:
                raise root.fail("has no Data/CustomerData")
            return self._read_customer(found)

        return self._decode(self.schema.request_types.customer_create, text, read)

    def decode_despatch_reply(self, text: str | bytes) -> DespatchDetails:
        """The despatch details."""
        fmt = self.schema.date_format

        def read(root: Node) -> DespatchDetails:
            data = root.child("Data")
            if data is None:
                raise root.fail("has no Data element")
            despatches = []
            for block in data.children("Despatch"):
                when = block.date("DespatchDate", fmt)
                if when is None:
                    raise block.fail("is missing or empty", "DespatchDate")
                despatches.append(
                    Despatch(
                        despatch_id=block.required("DespatchId"),
                        despatched_on=when,
                        carrier=block.text("Carrier"),
                        carrier_service=block.text("CarrServ"),
                        lines=tuple(
                            DespatchLine(
                                line_number=n.integer("OrderLine"),
                                sku=read_sku(n),
                                quantity=n.integer("Quantity"),
                            )
                            for n in block.children("DespatchLine")
                        ),
                        tracking_numbers=tuple(
                            n.required("TrackingNumber") for n in block.children("Tracking")
                        ),
                    )
                )
            return DespatchDetails(
                order_number=data.required("OrderNumber"),
                status=parse_order_status(data.required("OrderStatus")),
                despatches=tuple(despatches),
            )

        return self._decode(self.schema.request_types.despatch_details, text, read)

    def decode_ack_reply(self, text: str | bytes, request_type: str) -> None:
        """Check the reply to a request that only needs an OK (ERROR raises)."""
        self._decode(request_type, text, lambda _root: None)

    def decode_depot_list_reply(self, text: str | bytes) -> list[Depot]:
        """The depots."""

        def read(root: Node) -> list[Depot]:
            data = root.child("Data")
            if data is None:
                return []
            return [
                Depot(code=n.required("Warehouse"), name=n.text("DepotName"))
                for n in data.children("Depot")
            ]

        return self._decode(self.schema.request_types.depot_list, text, read)

    def decode_journal_reply(self, text: str | bytes) -> JournalPostingResult:
        """The journal-posting result."""

        def read(root: Node) -> JournalPostingResult:
            data = root.child("Data")
            if data is None:
                raise root.fail("has no Data element")
            return JournalPostingResult(
                batch_id=data.required("BatchId"),
                prima_reference=data.text("JournalReference"),
                duplicate=data.boolean("Duplicate"),
            )

        return self._decode(self.schema.request_types.post_journal, text, read)
