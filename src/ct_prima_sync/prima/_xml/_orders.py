"""Sales orders as ``MultiNewOrder`` ``Data`` blocks, in both directions.

Documented attribute names are used where Prima's public examples show them (``OrderNumber``,
``TPGUID``, ``OrderLineData@Price``, ...), and by default only those (plus the customer's contact
fields, which the public sources describe without naming). With ``OmlinkSchema.extended_orders``
the library also sends each line's and charge's net, tax and gross, its tax code and rate, the
order's totals, the delivery address and the external ids, so Prima (and the reconciliation) can
check them; those names (``NetValue``, ``GrossValue``, ``TaxCode``, ``TaxRate``, ``OrderTaxData``,
``OrderDeliveryData``, ...) are defaults an installation can rename.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from ...money import Money
from .._models import (
    CustomerDetails,
    PostalAddress,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
    SalesOrderPayment,
    SalesOrderTotals,
    SkuCode,
    TaxTotal,
)
from ._messages import UNCONFIRMED_ORDER_FIELDS, OmlinkSchema
from ._text import ElementSink
from ._tree import Node, format_bool, format_rate, money_formatter

__all__ = [
    "address_attrs",
    "customer_attrs",
    "read_address",
    "read_customer",
    "read_order",
    "read_sku",
    "sku_attrs",
    "write_order",
]

_DATA_KNOWN = frozenset(
    name
    for name in (
        "UniqueId", "OrderNumber", "TPGUID", "ExternalId", "HoldOrder", "HoldOrderNarrative",
        "OrderChannel", "VatInclusive", "OrderType", "CustomerRef", "Customer", "Title",
        "Forename", "Surname", "CompanyName", "Email", "Telephone", "Mobile", "PostCode",
        "Country", "ReceiveMail", "ReceiveEmail", "ReceiveText", "ReceivePhone",
        "CustomerExternalId", *(f"AddrLine{i}" for i in range(1, 7)),
    )
)  # fmt: skip


#: Attributes confirmed on some elements but not on these (``ExtTaxVal`` is a line's).
_UNCONFIRMED_ON = {"OrderChargeData": frozenset({"ExtTaxVal"})}
#: What is left out of these elements without ``extended_orders`` (of others: the fields).
_DROPPED_ON = {tag: UNCONFIRMED_ORDER_FIELDS | more for tag, more in _UNCONFIRMED_ON.items()}


def _opt(value: str) -> str | None:
    return value or None


def _order_element(
    sink: ElementSink, tag: str, attrs: dict[str, str | None], schema: OmlinkSchema
) -> None:
    """An element of an order; what no public source confirms only with ``extended_orders``."""
    if schema.extended_orders:
        sink.empty(tag, attrs)
        return
    if tag in UNCONFIRMED_ORDER_FIELDS:
        return
    dropped = _DROPPED_ON.get(tag, UNCONFIRMED_ORDER_FIELDS)
    sink.empty(tag, {k: v for k, v in attrs.items() if k not in dropped})


def sku_attrs(sku: SkuCode) -> dict[str, str | None]:
    """``Product`` and ``MtrxCode1..4`` of a SKU."""
    attrs: dict[str, str | None] = {"Product": sku.product}
    for index, code in enumerate(sku.matrix, start=1):
        attrs[f"MtrxCode{index}"] = code
    return attrs


def read_sku(node: Node) -> SkuCode:
    """A SKU from ``Product`` and ``MtrxCode1..4`` (trailing empty codes dropped)."""
    matrix = [node.text(f"MtrxCode{i}") for i in range(1, 5)]
    while matrix and not matrix[-1]:
        matrix.pop()
    return SkuCode(product=node.required("Product"), matrix=tuple(matrix))


def address_attrs(address: PostalAddress) -> dict[str, str | None]:
    """``AddrLine1..6``, ``PostCode`` and ``Country``."""
    attrs: dict[str, str | None] = {}
    for index, line in enumerate(address.lines, start=1):
        attrs[f"AddrLine{index}"] = line
    attrs["PostCode"] = _opt(address.post_code)
    attrs["Country"] = _opt(address.country)
    return attrs


def read_address(node: Node) -> PostalAddress:
    """An address from ``AddrLine1..6``, ``PostCode`` and ``Country``."""
    lines = [node.text(f"AddrLine{i}") for i in range(1, 7)]
    while lines and not lines[-1]:
        lines.pop()
    return PostalAddress(
        lines=tuple(lines), post_code=node.text("PostCode"), country=node.text("Country")
    )


def customer_attrs(customer: CustomerDetails) -> dict[str, str | None]:
    """The customer's fields as ``Data`` attributes."""
    return {
        "Customer": customer.account_code,
        "Title": _opt(customer.title),
        "Forename": _opt(customer.forename),
        "Surname": _opt(customer.surname),
        "CompanyName": _opt(customer.company),
        "Email": _opt(customer.email),
        "Telephone": _opt(customer.phone),
        "Mobile": _opt(customer.mobile),
        **address_attrs(customer.address),
        "ReceiveMail": format_bool(customer.receive_mail),
        "ReceiveEmail": format_bool(customer.receive_email),
        "ReceiveText": format_bool(customer.receive_text),
        "ReceivePhone": format_bool(customer.receive_phone),
        "CustomerExternalId": _opt(customer.external_id),
    }


def read_customer(node: Node) -> CustomerDetails:
    """Customer details from ``Data`` attributes."""
    return CustomerDetails(
        account_code=node.text("Customer"),
        title=node.text("Title"),
        forename=node.text("Forename"),
        surname=node.text("Surname"),
        company=node.text("CompanyName"),
        email=node.text("Email"),
        phone=node.text("Telephone"),
        mobile=node.text("Mobile"),
        address=read_address(node),
        receive_mail=node.boolean("ReceiveMail"),
        receive_email=node.boolean("ReceiveEmail"),
        receive_text=node.boolean("ReceiveText"),
        receive_phone=node.boolean("ReceivePhone"),
        external_id=node.text("CustomerExternalId"),
    )


def _line(
    sink: ElementSink, line: SalesOrderLine, schema: OmlinkSchema, money: Callable[[Money], str]
) -> None:
    _order_element(
        sink,
        "OrderLineData",
        {
            "OrderLine": str(line.line_number),
            **sku_attrs(line.sku),
            "Quantity": str(line.quantity),
            "Price": money(line.price),
            "NetValue": money(line.net),
            "ExtTaxVal": money(line.tax),
            "GrossValue": money(line.gross),
            "Warehouse": line.warehouse,
            "TaxCode": line.tax_code,
            "TaxRate": format_rate(line.tax_rate),
            "TrDisc": money(line.discount),
            "Promotion": _opt(line.promotion),
            "LineReference": _opt(line.line_reference),
            "LineNarrative": _opt(line.narrative),
            "Reserve": format_bool(line.reserve),
            "DueDate": line.due_date.strftime(schema.date_format) if line.due_date else None,
        },
        schema,
    )


def _read_line(node: Node, currency: str, schema: OmlinkSchema) -> SalesOrderLine:
    return SalesOrderLine(
        line_number=node.integer("OrderLine"),
        sku=read_sku(node),
        quantity=node.integer("Quantity"),
        price=node.money("Price", currency, default_zero=False),
        net=node.money("NetValue", currency),
        tax=node.money("ExtTaxVal", currency),
        gross=node.money("GrossValue", currency),
        warehouse=node.text("Warehouse"),
        tax_code=node.text("TaxCode"),
        tax_rate=node.decimal("TaxRate", Decimal(0)),
        discount=node.money("TrDisc", currency),
        promotion=node.text("Promotion"),
        line_reference=node.text("LineReference"),
        narrative=node.text("LineNarrative"),
        reserve=node.boolean("Reserve", default=True),
        due_date=node.date("DueDate", schema.date_format),
    )


def _charge_attrs(charge: SalesOrderCharge, money: Callable[[Money], str]) -> dict[str, str | None]:
    return {
        "Charge": charge.charge_code,
        "ChargeValue": money(charge.value),
        "NetValue": money(charge.net),
        "ExtTaxVal": money(charge.tax),
        "GrossValue": money(charge.gross),
        "TaxCode": charge.tax_code,
        "TaxRate": format_rate(charge.tax_rate),
        "ChargeReference": _opt(charge.reference),
    }


def _read_charge(node: Node, currency: str) -> SalesOrderCharge:
    return SalesOrderCharge(
        charge_code=node.required("Charge"),
        value=node.money("ChargeValue", currency, default_zero=False),
        net=node.money("NetValue", currency),
        tax=node.money("ExtTaxVal", currency),
        gross=node.money("GrossValue", currency),
        tax_code=node.text("TaxCode"),
        tax_rate=node.decimal("TaxRate", Decimal(0)),
        reference=node.text("ChargeReference"),
    )


def _payment_attrs(
    payment: SalesOrderPayment, schema: OmlinkSchema, money: Callable[[Money], str]
) -> dict[str, str | None]:
    when = payment.authorised_at
    return {
        "PayMethod": payment.pay_method,
        "SubPayMethod": _opt(payment.sub_pay_method),
        "PayProvider": _opt(payment.provider),
        "TranAmount": money(payment.amount),
        "TransactionID": _opt(payment.transaction_id),
        "PayAuthRef": _opt(payment.auth_reference),
        "AuthDate": _utc(when).strftime(schema.datetime_format) if when else None,
    }


def _read_payment(node: Node, currency: str, schema: OmlinkSchema) -> SalesOrderPayment:
    return SalesOrderPayment(
        pay_method=node.required("PayMethod"),
        amount=node.money("TranAmount", currency, default_zero=False),
        sub_pay_method=node.text("SubPayMethod"),
        provider=node.text("PayProvider"),
        transaction_id=node.text("TransactionID"),
        auth_reference=node.text("PayAuthRef"),
        authorised_at=node.datetime("AuthDate", schema.datetime_format),
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def write_order(sink: ElementSink, order: SalesOrder, unique_id: str, schema: OmlinkSchema) -> None:
    """Write the order's ``Data`` block to ``sink`` (inside a ``Request``)."""
    data_attrs: dict[str, str | None] = {
        "UniqueId": unique_id,
        "OrderNumber": order.order_number,
        "TPGUID": order.order_number,
        "ExternalId": _opt(order.external_id),
        "HoldOrder": format_bool(order.hold),
        "HoldOrderNarrative": _opt(order.hold_narrative),
        "OrderChannel": order.order_channel,
        "VatInclusive": format_bool(order.vat_inclusive),
        "OrderType": _opt(order.order_type),
        "CustomerRef": _opt(order.customer_reference),
        **customer_attrs(order.customer),
    }
    if not schema.extended_orders:
        data_attrs = {k: v for k, v in data_attrs.items() if k not in UNCONFIRMED_ORDER_FIELDS}
    for key, value in order.extra_attributes.items():  # configured: always sent
        data_attrs.setdefault(key, value)
    sink.start("Data", data_attrs)
    money = money_formatter()
    when = _utc(order.order_date)
    totals = order.totals
    _order_element(
        sink,
        "OrderHeaderData",
        {
            "OrderDate": when.strftime(schema.datetime_format),
            "Currency": order.currency,
            "Carrier": _opt(order.carrier),
            "CarrServ": _opt(order.carrier_service),
            "OrderPaid": format_bool(order.order_paid),
            "OrderNetValue": money(totals.net),
            "OrderTaxValue": money(totals.tax),
            "OrderGrossValue": money(totals.gross),
        },
        schema,
    )
    if order.invoice_address is not None or order.invoice_name:
        invoice = order.invoice_address or PostalAddress()
        _order_element(
            sink,
            "OrderInvoiceData",
            {"InvoiceName": _opt(order.invoice_name), **address_attrs(invoice)},
            schema,
        )
    if order.delivery_address is not None:
        _order_element(sink, "OrderDeliveryData", address_attrs(order.delivery_address), schema)
    for line in order.lines:
        _line(sink, line, schema, money)
    for charge in order.charges:
        _order_element(sink, "OrderChargeData", _charge_attrs(charge, money), schema)
    for payment in order.payments:
        _order_element(sink, "OrderPaymentData", _payment_attrs(payment, schema, money), schema)
    for rate in totals.by_rate:
        _order_element(
            sink,
            "OrderTaxData",
            {
                "TaxCode": rate.tax_code,
                "TaxRate": format_rate(rate.rate),
                "NetValue": money(rate.net),
                "ExtTaxVal": money(rate.tax),
            },
            schema,
        )
    sink.end()


def read_order(data: Node, schema: OmlinkSchema) -> tuple[SalesOrder, str]:
    """A ``Data`` block back into a sales order, with the block's ``UniqueId``."""
    header = data.child("OrderHeaderData")
    if header is None:
        raise data.fail("has no OrderHeaderData")
    currency = header.required("Currency").upper()
    order_date = header.datetime("OrderDate", schema.datetime_format)
    if order_date is None:
        raise header.fail("is missing or empty", "OrderDate")
    invoice = data.child("OrderInvoiceData")
    delivery = data.child("OrderDeliveryData")
    rename_back = {schema.attribute_names.get(k, k).lower() for k in _DATA_KNOWN}
    extra = {k: v for k, v in data.attributes().items() if k.lower() not in rename_back}
    order = SalesOrder(
        order_number=data.required("OrderNumber"),
        external_id=data.text("ExternalId"),
        order_date=order_date,
        currency=currency,
        vat_inclusive=data.boolean("VatInclusive"),
        order_channel=data.text("OrderChannel"),
        customer=read_customer(data),
        lines=tuple(_read_line(n, currency, schema) for n in data.children("OrderLineData")),
        totals=SalesOrderTotals(
            net=header.money("OrderNetValue", currency),
            tax=header.money("OrderTaxValue", currency),
            gross=header.money("OrderGrossValue", currency),
            by_rate=tuple(
                TaxTotal(
                    tax_code=n.text("TaxCode"),
                    rate=n.decimal("TaxRate", Decimal(0)),
                    net=n.money("NetValue", currency),
                    tax=n.money("ExtTaxVal", currency),
                )
                for n in data.children("OrderTaxData")
            ),
        ),
        charges=tuple(_read_charge(n, currency) for n in data.children("OrderChargeData")),
        payments=tuple(
            _read_payment(n, currency, schema) for n in data.children("OrderPaymentData")
        ),
        delivery_address=read_address(delivery) if delivery is not None else None,
        invoice_address=read_address(invoice) if invoice is not None else None,
        invoice_name=invoice.text("InvoiceName") if invoice is not None else "",
        carrier=header.text("Carrier"),
        carrier_service=header.text("CarrServ"),
        order_type=data.text("OrderType"),
        hold=data.boolean("HoldOrder"),
        hold_narrative=data.text("HoldOrderNarrative"),
        customer_reference=data.text("CustomerRef"),
        order_paid=header.boolean("OrderPaid"),
        extra_attributes=extra,
    )
    return order, data.text("UniqueId")
