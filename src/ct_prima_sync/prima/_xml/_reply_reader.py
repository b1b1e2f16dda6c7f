"""Omlink reply strings read into models (the client half of the codec)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from ...errors import PrimaProtocolError, PrimaRejectedError
from .._error_codes import parse_error_codes, short_error_text
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
from ._stream import stream_stock_rows
from ._tree import Node, parse_document

__all__ = ["ReplyReader"]

_T = TypeVar("_T")


def error_text(node: Node) -> str:
    """A refusal's text, in order of preference: a ``RequestError`` child's ``Error`` attribute
    (real installations), the element's own ``Error``, its ``RequestError`` attribute (older
    shapes)."""
    child = node.child("RequestError")
    if child is not None and child.text("Error").strip():
        return child.text("Error")
    if node.text("Error").strip():
        return node.text("Error")
    return node.text("RequestError")


def rejection(node: Node, request_type: str) -> PrimaRejectedError:
    """The :class:`PrimaRejectedError` for a node whose ``RequestStatus`` is ERROR."""
    raw = error_text(node)
    return PrimaRejectedError(
        short_error_text(raw),
        request_type=request_type,
        codes=parse_error_codes(raw),
        raw_error=raw,
    )


class ReplyReader(CodecBase):
    """Reads reply strings into models, in the real installation's shapes and the older ones.

    The root is ``Result`` (real installations), ``Reply``, ``Response`` or ``Request``;
    ``RequestStatus="ERROR"`` on it raises PrimaRejectedError; anything unreadable
    PrimaProtocolError. Only a ``MultiNewOrder`` reply may leave the root's status out (each
    order's outcome is then on its ``Data`` block).
    """

    def reply_root(self, text: str | bytes, request_type: str, *, per_order: bool = False) -> Node:
        """The checked root of a reply; raises on ERROR, malformed, hostile or wrong-root XML.

        ``per_order``: a root without ``RequestStatus`` is accepted (the outcome is per order).
        """
        root = Node(parse_document(text, PrimaProtocolError), self._names, PrimaProtocolError)
        if not any(root.is_named(tag) for tag in REPLY_ROOTS):
            raise PrimaProtocolError(f"reply to {request_type} has an unexpected root element")
        status = root.text("RequestStatus").strip().upper()
        if status == "ERROR":
            raise rejection(root, request_type)
        if status == "" and per_order:
            return root
        if status != "OK":
            raise PrimaProtocolError(f"reply to {request_type} has no RequestStatus OK or ERROR")
        return root

    def _decode(
        self,
        request_type: str,
        text: str | bytes,
        read: Callable[[Node], _T],
        *,
        per_order: bool = False,
    ) -> _T:
        return guard(
            PrimaProtocolError,
            lambda: read(self.reply_root(text, request_type, per_order=per_order)),
        )

    def _submit_result(self, block: Node, root_ok: bool) -> SubmitResult:
        number = block.required("OrderNumber")
        if block.has("RequestStatus"):
            status = block.text("RequestStatus").strip().upper()
            if status not in (SUBMIT_OK, SUBMIT_ERROR):
                raise block.fail("is not OK or ERROR", "RequestStatus")
            outcome = status
        elif block.has("Result"):
            outcome = block.text("Result").strip().upper()
            if outcome not in (SUBMIT_OK, SUBMIT_DUPLICATE, SUBMIT_ERROR):
                raise block.fail("is not OK, DUPLICATE or ERROR", "Result")
        elif root_ok:
            outcome = SUBMIT_OK
        else:
            raise block.fail("is missing: the order's outcome is unknown", "RequestStatus")
        raw = error_text(block) if outcome == SUBMIT_ERROR else ""
        return SubmitResult(
            order_number=number,
            accepted=outcome != SUBMIT_ERROR,
            duplicate=outcome == SUBMIT_DUPLICATE,
            prima_reference=block.text("OrderReference"),
            error=short_error_text(raw) if raw else "",
            raw_error=raw,
            error_codes=parse_error_codes(raw),
            customer_code=block.text("CustomerCode").strip(),
        )

    def decode_submit_reply(
        self, text: str | bytes, order_numbers: Sequence[str]
    ) -> list[SubmitResult]:
        """One result per submitted order number, in that order.

        Each order's outcome is its ``Data`` block's ``RequestStatus`` (real installations, whose
        root then has none) or ``Result`` (older shape: ``OK``/``DUPLICATE``/``ERROR``); a
        refusal's text comes from its ``RequestError`` child's ``Error`` (else ``Data@Error``,
        ``Data@RequestError``), with its ``(E:nnn)`` codes parsed. A root ``RequestStatus="OK"``
        with no ``Data`` at all means every order was accepted (installations that do not report
        per order); a reply that omits some orders, or has neither a root status nor per-order
        results, is a protocol error. ``RequestStatus="ERROR"`` on the root (the whole request
        refused) raises :class:`PrimaRejectedError`.
        """

        def read(root: Node) -> list[SubmitResult]:
            blocks = list(root.children("Data"))
            root_ok = root.text("RequestStatus").strip().upper() == SUBMIT_OK
            if not blocks:
                if root_ok:
                    return [SubmitResult(order_number=n, accepted=True) for n in order_numbers]
                raise root.fail("has neither a RequestStatus nor a result per order")
            by_number: dict[str, SubmitResult] = {}
            for block in blocks:
                result = self._submit_result(block, root_ok)
                by_number[result.order_number] = result
            missing = [n for n in order_numbers if n not in by_number]
            if missing:
                raise PrimaProtocolError(f"the reply has no result for {len(missing)} order(s)")
            return [by_number[n] for n in order_numbers]

        return self._decode(self.schema.request_types.submit_orders, text, read, per_order=True)

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
        """The stock rows of an ATS reply, in the order sent (rows named ``sku`` in any case:
        ``SKU`` and ``sku`` were both seen). Read as the XML is parsed (``_stream``), so a
        whole-catalogue reply costs memory for its rows, not for its tree."""
        names = self.schema.request_types
        request_type = names.ats_skus if skus else names.ats_range

        def not_ok() -> list[StockLevel]:
            self.reply_root(text, request_type)  # raises the rejection or protocol error
            raise PrimaProtocolError(f"reply to {request_type} has no RequestStatus OK")

        return guard(
            PrimaProtocolError,
            lambda: stream_stock_rows(
                text, self._names, self.schema.date_format, REPLY_ROOTS, not_ok
            ),
        )

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
