"""Omlink reply strings as the emulator builds them (the server half of the codec)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TypeVar

from .._models import (
    Depot,
    DespatchDetails,
    JournalPostingResult,
    OrderStatusReport,
    PrimaCustomer,
    StockLevel,
    SubmitResult,
)
from ._base import (
    SUBMIT_DUPLICATE,
    SUBMIT_ERROR,
    SUBMIT_OK,
    CodecBase,
)
from ._orders import sku_attrs
from ._tree import format_bool

__all__ = ["ReplyWriter"]

_T = TypeVar("_T")


class ReplyWriter(CodecBase):
    """Builds reply strings: OK with Data, or ERROR with RequestError."""

    def _reply(self, request_type: str) -> ET.Element:
        return self._root(
            "Reply", {"RequestType": request_type, "RequestStatus": "OK", "RequestError": ""}
        )

    def encode_error_reply(self, request_type: str, request_error: str) -> str:
        """A ``RequestStatus="ERROR"`` reply carrying ``request_error``."""
        root = self._root(
            "Reply",
            {"RequestType": request_type, "RequestStatus": "ERROR", "RequestError": request_error},
        )
        return self._serialize(root)

    def encode_submit_reply(self, results: Sequence[SubmitResult]) -> str:
        """The ``MultiNewOrder`` reply: one ``Data`` per order with its result."""
        root = self._reply(self.schema.request_types.submit_orders)
        for result in results:
            outcome = SUBMIT_ERROR
            if result.accepted:
                outcome = SUBMIT_DUPLICATE if result.duplicate else SUBMIT_OK
            self._el(
                root,
                "Data",
                {
                    "OrderNumber": result.order_number,
                    "Result": outcome,
                    "OrderReference": result.prima_reference or None,
                    "Error": result.error or None,
                },
            )
        return self._serialize(root)

    def encode_order_status_reply(self, report: OrderStatusReport) -> str:
        """The ``OrderStatus`` reply (an ERROR reply stands for an unknown order)."""
        if not report.status.known_to_prima:
            return self.encode_error_reply(
                self.schema.request_types.order_status, "Order not found"
            )
        root = self._reply(self.schema.request_types.order_status)
        self._el(
            root,
            "Data",
            {
                "OrderNumber": report.order_number,
                "OrderStatus": report.raw or report.status.value,
                "OrderReference": report.prima_reference or None,
            },
        )
        return self._serialize(root)

    def encode_ats_reply(self, levels: Sequence[StockLevel], *, skus: bool = False) -> str:
        """The reply to ``ProductAvailableToSell`` (or ``MultiAvailableToSell`` with ``skus``)."""
        names = self.schema.request_types
        root = self._reply(names.ats_skus if skus else names.ats_range)
        data = self._el(root, "Data", {})
        for level in levels:
            when = level.available_date
            self._el(
                data,
                "sku",
                {
                    **sku_attrs(level.sku),
                    "AvailableQuantity": str(level.available),
                    "AvailableDate": when.strftime(self.schema.date_format) if when else None,
                    "Warehouse": level.depot or None,
                },
            )
        return self._serialize(root)

    def _customer(self, parent: ET.Element, customer: PrimaCustomer) -> None:
        self._el(
            parent,
            "CustomerData",
            {
                "Customer": customer.account_code,
                "Email": customer.email or None,
                "Name": customer.name or None,
                "CustomerExternalId": customer.external_id or None,
            },
        )

    def encode_customer_find_reply(self, customer: PrimaCustomer | None) -> str:
        """The customer-find reply: one ``CustomerData`` or none."""
        root = self._reply(self.schema.request_types.customer_find)
        data = self._el(root, "Data", {})
        if customer is not None:
            self._customer(data, customer)
        return self._serialize(root)

    def encode_customer_create_reply(self, customer: PrimaCustomer) -> str:
        """The customer-create reply with the new account."""
        root = self._reply(self.schema.request_types.customer_create)
        self._customer(self._el(root, "Data", {}), customer)
        return self._serialize(root)

    def encode_despatch_reply(self, details: DespatchDetails) -> str:
        """The despatch-details reply."""
        root = self._reply(self.schema.request_types.despatch_details)
        data = self._el(
            root,
            "Data",
            {"OrderNumber": details.order_number, "OrderStatus": details.status.value},
        )
        for despatch in details.despatches:
            block = self._el(
                data,
                "Despatch",
                {
                    "DespatchId": despatch.despatch_id,
                    "DespatchDate": despatch.despatched_on.strftime(self.schema.date_format),
                    "Carrier": despatch.carrier or None,
                    "CarrServ": despatch.carrier_service or None,
                },
            )
            for line in despatch.lines:
                self._el(
                    block,
                    "DespatchLine",
                    {
                        "OrderLine": str(line.line_number),
                        **sku_attrs(line.sku),
                        "Quantity": str(line.quantity),
                    },
                )
            for number in despatch.tracking_numbers:
                self._el(block, "Tracking", {"TrackingNumber": number})
        return self._serialize(root)

    def encode_ack_reply(self, request_type: str, order_number: str) -> str:
        """The reply to a request that only needs an OK (a cancellation, a return)."""
        root = self._reply(request_type)
        self._el(root, "Data", {"OrderNumber": order_number})
        return self._serialize(root)

    def encode_depot_list_reply(self, depots: Sequence[Depot]) -> str:
        """The depot-list reply."""
        root = self._reply(self.schema.request_types.depot_list)
        data = self._el(root, "Data", {})
        for depot in depots:
            self._el(data, "Depot", {"Warehouse": depot.code, "DepotName": depot.name or None})
        return self._serialize(root)

    def encode_journal_reply(self, result: JournalPostingResult) -> str:
        """The journal-posting reply."""
        root = self._reply(self.schema.request_types.post_journal)
        self._el(
            root,
            "Data",
            {
                "BatchId": result.batch_id,
                "JournalReference": result.prima_reference or None,
                "Duplicate": format_bool(result.duplicate),
            },
        )
        return self._serialize(root)
