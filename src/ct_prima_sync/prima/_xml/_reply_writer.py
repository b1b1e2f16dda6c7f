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
    ReplyDialect,
)
from ._orders import sku_attrs
from ._tree import format_bool

__all__ = ["ReplyWriter"]

_T = TypeVar("_T")


#: The ``Company`` a real installation's replies name (single-company installations answer 1).
REPLY_COMPANY = "1"


class ReplyWriter(CodecBase):
    """Builds reply strings: OK with Data, or ERROR with the error text.

    In the ``RESULT`` dialect (the default) they have the shapes a real installation gave, with
    its attribute order (alphabetical); in ``LEGACY`` the older documented ones.
    """

    @property
    def _real(self) -> bool:
        return self.dialect is ReplyDialect.RESULT

    def _reply(self, request_type: str) -> ET.Element:
        if self._real:
            return self._root(
                "Result",
                {"Company": REPLY_COMPANY, "RequestStatus": "OK", "RequestType": request_type},
            )
        return self._root(
            "Reply", {"RequestType": request_type, "RequestStatus": "OK", "RequestError": ""}
        )

    def encode_error_reply(self, request_type: str, request_error: str) -> str:
        """A ``RequestStatus="ERROR"`` reply carrying ``request_error`` (the whole request
        refused: ``Result@Error`` and a ``RequestError`` child's ``Error`` in the real shape)."""
        if self._real:
            root = self._root(
                "Result",
                {
                    "Company": REPLY_COMPANY,
                    "Error": request_error,
                    "RequestStatus": "ERROR",
                    "RequestType": request_type,
                },
            )
            self._el(root, "RequestError", {"Error": request_error})
            return self._serialize(root)
        root = self._root(
            "Reply",
            {"RequestType": request_type, "RequestStatus": "ERROR", "RequestError": request_error},
        )
        return self._serialize(root)

    def encode_submit_reply(
        self, results: Sequence[SubmitResult], unique_ids: Sequence[str] = ()
    ) -> str:
        """The ``MultiNewOrder`` reply: one ``Data`` per order with its result.

        Real shape: no status on the root; each ``Data`` carries ``CustRef``, ``CustomerCode``,
        ``OrderNumber``, ``RequestStatus``, ``TPGUID`` and ``UniqueID`` (the send's
        ``unique_ids``, in order), and a refusal a ``RequestError`` child with the text in
        ``Error``.
        """
        if self._real:
            return self._encode_real_submit_reply(results, unique_ids)
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
                    "Error": result.raw_error or result.error or None,
                },
            )
        return self._serialize(root)

    def _encode_real_submit_reply(
        self, results: Sequence[SubmitResult], unique_ids: Sequence[str]
    ) -> str:
        root = self._root(
            "Result",
            {"Company": REPLY_COMPANY, "RequestType": self.schema.request_types.submit_orders},
        )
        for index, result in enumerate(results):
            unique_id = unique_ids[index] if index < len(unique_ids) else ""
            data = self._el(
                root,
                "Data",
                {
                    "CustRef": "",
                    "CustomerCode": result.customer_code,
                    "OrderNumber": result.order_number,
                    "RequestStatus": SUBMIT_OK if result.accepted else SUBMIT_ERROR,
                    "TPGUID": result.order_number,
                    "UniqueID": unique_id,
                },
            )
            if not result.accepted:
                self._el(data, "RequestError", {"Error": result.raw_error or result.error})
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
                "OrderReference": None if self._real else report.prima_reference or None,
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
            date_text = when.strftime(self.schema.date_format) if when else None
            if self._real:
                # As seen: rows named SKU for MultiAvailableToSell, sku for the catalogue; every
                # attribute present (empty when not set), alphabetical.
                matrix = [*level.sku.matrix, "", "", "", ""][:4]
                self._el(
                    data,
                    "SKU" if skus else "sku",
                    {
                        "AvailableDate": date_text or "",
                        "AvailableQuantity": str(level.available),
                        **{f"MtrxCode{i}": code for i, code in enumerate(matrix, start=1)},
                        "Product": level.sku.product,
                        "Warehouse": level.depot or None,
                    },
                )
                continue
            self._el(
                data,
                "sku",
                {
                    **sku_attrs(level.sku),
                    "AvailableQuantity": str(level.available),
                    "AvailableDate": date_text,
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
