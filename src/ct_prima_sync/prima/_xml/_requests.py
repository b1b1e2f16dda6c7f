"""Omlink request strings: built by the client, read back by the emulator."""

from __future__ import annotations

from typing import TypeVar

from ...errors import PayloadError
from .._models import (
    JournalBatch,
    JournalLine,
)
from .._order_changes import ReturnLine
from ._base import (
    CodecBase,
    guard,
)
from ._messages import (
    AtsRangeRequest,
    AtsSkusRequest,
    CancelOrderRequest,
    CustomerCreateRequest,
    CustomerFindRequest,
    DepotListRequest,
    DespatchDetailsRequest,
    OmlinkRequest,
    OmlinkSchema,
    OrderReturnRequest,
    OrderStatusRequest,
    PostJournalRequest,
    SubmitOrdersRequest,
)
from ._order_text import OrderTextPlan
from ._orders import customer_attrs, read_customer, read_order, read_sku, sku_attrs, write_order
from ._text import ElementSink, NotPlain, TextSink, TreeSink
from ._tree import (
    Names,
    Node,
    _format_minor_units,
    format_money,
    money_formatter,
    parse_document,
)

__all__ = ["RequestCodec"]

_T = TypeVar("_T")


class RequestCodec(CodecBase):
    """Builds request strings (client) and reads them into typed requests (server)."""

    _plan_cache: tuple[OmlinkSchema, Names, OrderTextPlan | None] | None = None

    # -- client side: requests ------------------------------------------------------------------

    def encode_request(self, request: OmlinkRequest) -> str:
        """The request XML string for ``request``.

        Written straight to text (:class:`~._text.TextSink`); names that are not plain (a
        renamed element or attribute with a namespace) through an ElementTree tree instead.
        """
        try:
            if type(request) is SubmitOrdersRequest and request.orders:
                return self._write_orders(request)
            return self.write_request(TextSink(self._names), request)
        except NotPlain:
            return self.write_request(TreeSink(self._names), request)

    def _order_text_plan(self) -> OrderTextPlan | None:
        """The plan for this codec's schema and names (made once; again if either is replaced)."""
        cached = self._plan_cache
        if cached is None or cached[0] is not self.schema or cached[1] is not self._names:
            plan = OrderTextPlan.for_names(self.schema, self._names)
            cached = self._plan_cache = (self.schema, self._names, plan)
        return cached[2]

    def _write_orders(self, request: SubmitOrdersRequest) -> str:
        """A ``MultiNewOrder`` string, each order from the plan (:mod:`._order_text`) unless it
        has none for the order: then through :func:`write_order`, as :meth:`write_request`."""
        plan = self._order_text_plan()
        if plan is None or money_formatter() is not _format_minor_units:
            return self.write_request(TextSink(self._names), request)
        orders, ids = request.orders, request.unique_ids
        if len(orders) != len(ids):
            raise PayloadError("one unique id per order is needed", path="unique_ids")
        sink = TextSink(self._names)
        sink.start("Request", {"RequestType": self.request_type_of(request)})
        for order, unique_id in zip(orders, ids, strict=True):
            text = plan.data_block(order, unique_id)
            if text is None:
                write_order(sink, order, unique_id, self.schema)
            else:
                sink.written(text)
        sink.end()
        return sink.document(self.encoding)

    def write_request(self, sink: ElementSink, request: OmlinkRequest) -> str:
        """Write ``request`` to ``sink``; the document it makes."""
        sink.start("Request", {"RequestType": self.request_type_of(request)})
        match request:
            case SubmitOrdersRequest(orders=orders, unique_ids=ids):
                if len(orders) != len(ids):
                    raise PayloadError("one unique id per order is needed", path="unique_ids")
                for order, unique_id in zip(orders, ids, strict=True):
                    write_order(sink, order, unique_id, self.schema)
            case OrderStatusRequest(order_number=number):
                sink.empty("Data", {"OrderNumber": number})
            case AtsRangeRequest(product_from=low, product_to=high, max_rows=rows):
                attrs: dict[str, str | None] = {"ProductFrom": low, "ProductTo": high}
                if rows and self.schema.ats_max_rows_attribute:
                    attrs[self.schema.ats_max_rows_attribute] = str(rows)
                sink.empty("Data", attrs)
            case AtsSkusRequest(skus=skus):
                sink.start("Data", {})
                for sku in skus:
                    sink.empty("sku", sku_attrs(sku))
                sink.end()
            case CustomerFindRequest(account_code=code, email=email):
                sink.empty("Data", {"Customer": code, "Email": email})
            case CustomerCreateRequest(details=details):
                sink.empty("Data", customer_attrs(details))
            case DespatchDetailsRequest(order_number=number):
                sink.empty("Data", {"OrderNumber": number})
            case DepotListRequest():
                sink.empty("Data", {})
            case PostJournalRequest(batch=batch):
                self._write_journal(sink, batch)
            case CancelOrderRequest(order_number=number, reason=reason):
                sink.empty("Data", {"OrderNumber": number, "Reason": reason or None})
            case OrderReturnRequest(order_number=number, lines=lines):
                sink.start("Data", {"OrderNumber": number})
                for line in lines:
                    sink.empty(
                        "ReturnLine",
                        {
                            "LineReference": line.line_reference,
                            **(sku_attrs(line.sku) if line.sku is not None else {}),
                            "Quantity": str(line.quantity),
                            "ReturnReference": line.return_reference,
                        },
                    )
                sink.end()
        sink.end()
        return sink.document(self.encoding)

    def _write_journal(self, sink: ElementSink, batch: JournalBatch) -> None:
        sink.start(
            "Data",
            {
                "BatchId": batch.batch_id,
                "PostingDate": batch.posting_date.strftime(self.schema.date_format),
                "Currency": batch.currency,
                "Description": batch.description or None,
            },
        )
        for line in batch.lines:
            sink.empty(
                "JournalLine",
                {
                    "Account": line.account,
                    "Amount": format_money(line.amount),
                    "Description": line.description or None,
                    "Reference": line.reference or None,
                    "TaxCode": line.tax_code or None,
                },
            )
        sink.end()

    # -- server side: requests ------------------------------------------------------------------

    def decode_request(self, text: str | bytes) -> OmlinkRequest:
        """A request string as a typed request; :class:`PayloadError` when it is not one."""
        return guard(PayloadError, lambda: self._decode_request(text))

    def _decode_request(self, text: str | bytes) -> OmlinkRequest:
        root = Node(parse_document(text, PayloadError), self._names, PayloadError)
        if not root.is_named("Request"):
            raise root.fail("is not an omlink Request")
        kind = root.required("RequestType").lower()
        names = self.schema.request_types
        data = root.child("Data")
        if kind == names.submit_orders.lower():
            pairs = [read_order(n, self.schema) for n in root.children("Data")]
            if not pairs:
                raise root.fail("has no Data block")
            return SubmitOrdersRequest(
                orders=tuple(o for o, _ in pairs), unique_ids=tuple(u for _, u in pairs)
            )
        if data is None:
            raise root.fail("has no Data element")
        if kind == names.order_status.lower():
            return OrderStatusRequest(order_number=data.required("OrderNumber"))
        if kind == names.ats_range.lower():
            rows_attr = self.schema.ats_max_rows_attribute
            return AtsRangeRequest(
                product_from=data.text("ProductFrom"),
                product_to=data.text("ProductTo"),
                max_rows=data.integer(rows_attr, default=0) if rows_attr else 0,
            )
        if kind == names.ats_skus.lower():
            return AtsSkusRequest(skus=tuple(read_sku(n) for n in data.children("sku")))
        if kind == names.customer_find.lower():
            return CustomerFindRequest(account_code=data.text("Customer"), email=data.text("Email"))
        if kind == names.customer_create.lower():
            return CustomerCreateRequest(details=read_customer(data))
        if kind == names.despatch_details.lower():
            return DespatchDetailsRequest(order_number=data.required("OrderNumber"))
        if kind == names.depot_list.lower():
            return DepotListRequest()
        if kind == names.post_journal.lower():
            return PostJournalRequest(batch=self._read_journal(data))
        if kind == names.cancel_order.lower():
            return CancelOrderRequest(
                order_number=data.required("OrderNumber"), reason=data.text("Reason")
            )
        if kind == names.order_return.lower():
            return OrderReturnRequest(
                order_number=data.required("OrderNumber"),
                lines=tuple(
                    ReturnLine(
                        line_reference=n.text("LineReference"),
                        sku=read_sku(n) if n.text("Product") else None,
                        quantity=n.integer("Quantity"),
                        return_reference=n.required("ReturnReference"),
                    )
                    for n in data.children("ReturnLine")
                ),
            )
        raise root.fail("is not a request type this installation knows", "RequestType")

    def _read_journal(self, data: Node) -> JournalBatch:
        currency = data.required("Currency").upper()
        posting_date = data.date("PostingDate", self.schema.date_format)
        if posting_date is None:
            raise data.fail("is missing or empty", "PostingDate")
        return JournalBatch(
            batch_id=data.required("BatchId"),
            posting_date=posting_date,
            currency=currency,
            description=data.text("Description"),
            lines=tuple(
                JournalLine(
                    account=n.required("Account"),
                    amount=n.money("Amount", currency, default_zero=False),
                    description=n.text("Description"),
                    reference=n.text("Reference"),
                    tax_code=n.text("TaxCode"),
                )
                for n in data.children("JournalLine")
            ),
        )
