"""Sales orders' ``MultiNewOrder`` ``Data`` blocks straight to text, from a plan made once per
schema and names (the engine's request path).

:func:`~._orders.write_order` says what an order's block holds, element by element, as
attribute dictionaries that :class:`~._text.TextSink` filters and writes. That costs the work of
every attribute twice over: each value is computed (amounts, rates, dates) even when the schema
leaves it out (:data:`~._messages.UNCONFIRMED_ORDER_FIELDS` without ``extended_orders``), and
each element's dictionary is copied, filtered and renamed before it is written. An
:class:`OrderTextPlan` decides once, for a schema and its names, which attributes each element
keeps and how the wire spells them; writing an order then computes the kept values only and
writes them next to their names, written beforehand.

The text is :func:`~._orders.write_order`'s through :class:`~._text.TextSink`, byte for byte (the
tests hold the two to it, and both to ElementTree's). Whatever the plan does not write as it is
goes the general way instead: an order whose values hold anything to escape or to refuse, or
configured extra attributes (:meth:`OrderTextPlan.data_block` returns None for it); and a whole
schema whose names are not plain or not one to one on the wire, or a decimal context that does
not hold amounts exactly (no plan: :meth:`OrderTextPlan.for_names` returns None).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Final

from .._models import PostalAddress, SalesOrder
from ._messages import UNCONFIRMED_ORDER_FIELDS, OmlinkSchema
from ._orders import _utc
from ._tree import _SPECIAL, Names, _format_minor_units, format_rate

__all__ = ["OrderTextPlan", "date_formatter"]

_Getter = Callable[[Any], "str | None"]
_Fields = tuple[tuple[str, _Getter], ...]

#: Attributes confirmed on some elements but not on these (``ExtTaxVal`` is a line's): as
#: ``_orders._UNCONFIRMED_ON``.
_UNCONFIRMED_ON: Final = {"OrderChargeData": frozenset({"ExtTaxVal"})}
#: Formatting directives written without ``strftime`` (zero-padded numbers; the year only from
#: 1000 on, where ``%Y`` has four digits everywhere).
_DIRECTIVES: Final = {
    "d": "{0.day:02d}",
    "m": "{0.month:02d}",
    "Y": "{0.year:d}",
    "H": "{0.hour:02d}",
    "M": "{0.minute:02d}",
    "S": "{0.second:02d}",
}
_TIME_DIRECTIVES: Final = frozenset("HMS")
_LITERAL: Final = re.compile(r"[ -$&-z|~]*")  # printable ASCII but for % { }


class _Unusual(Exception):  # noqa: N818 (a signal to write the order the general way)
    """A value the plan does not write (more matrix codes or address lines than Prima has)."""


def date_formatter(fmt: str, *, with_time: bool) -> Callable[[date], str]:
    """``value.strftime(fmt)``, or a quicker function writing the same text when ``fmt`` holds
    only ``%d %m %Y`` (and ``%H %M %S`` for date-times, ``with_time``) and plain ASCII."""
    pieces = re.split("(%.)", fmt)
    template: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            directive = piece[1]
            if directive not in _DIRECTIVES or (directive in _TIME_DIRECTIVES and not with_time):
                return lambda value: value.strftime(fmt)
            template.append(_DIRECTIVES[directive])
        elif "%" in piece or not _LITERAL.fullmatch(piece):
            return lambda value: value.strftime(fmt)
        else:
            template.append(piece)
    quick = "".join(template).format

    def formatted(value: date) -> str:
        if value.year < 1000:
            return value.strftime(fmt)
        return quick(value)

    return formatted


_money = _format_minor_units


def _nth(get: Callable[[Any], Sequence[str]], index: int, most: int) -> _Getter:
    """The ``index``-th of a sequence of at most ``most``, None past its end."""
    if index < most - 1:
        return lambda subject: items[index] if len(items := get(subject)) > index else None

    def last(subject: Any) -> str | None:
        items = get(subject)
        if len(items) > most:
            raise _Unusual
        return items[index] if len(items) > index else None

    return last


def _address(lines: Callable[[Any], Sequence[str]]) -> _Fields:
    """``AddrLine1..6`` (of the lines ``lines`` gives; then ``PostCode`` and ``Country``)."""
    return tuple((f"AddrLine{i + 1}", _nth(lines, i, 6)) for i in range(6))


def _data_fields() -> _Fields:
    """The ``Data`` attributes after ``UniqueId`` (``write_order``, ``customer_attrs``)."""
    return (
        ("OrderNumber", lambda o: o.order_number),
        ("TPGUID", lambda o: o.order_number),
        ("ExternalId", lambda o: o.external_id or None),
        ("HoldOrder", lambda o: "Yes" if o.hold else "No"),
        ("HoldOrderNarrative", lambda o: o.hold_narrative or None),
        ("OrderChannel", lambda o: o.order_channel),
        ("VatInclusive", lambda o: "Yes" if o.vat_inclusive else "No"),
        ("OrderType", lambda o: o.order_type or None),
        ("CustomerRef", lambda o: o.customer_reference or None),
        ("Customer", lambda o: o.customer.account_code),
        ("Title", lambda o: o.customer.title or None),
        ("Forename", lambda o: o.customer.forename or None),
        ("Surname", lambda o: o.customer.surname or None),
        ("CompanyName", lambda o: o.customer.company or None),
        ("Email", lambda o: o.customer.email or None),
        ("Telephone", lambda o: o.customer.phone or None),
        ("Mobile", lambda o: o.customer.mobile or None),
        *_address(lambda o: o.customer.address.lines),
        ("PostCode", lambda o: o.customer.address.post_code or None),
        ("Country", lambda o: o.customer.address.country or None),
        ("ReceiveMail", lambda o: "Yes" if o.customer.receive_mail else "No"),
        ("ReceiveEmail", lambda o: "Yes" if o.customer.receive_email else "No"),
        ("ReceiveText", lambda o: "Yes" if o.customer.receive_text else "No"),
        ("ReceivePhone", lambda o: "Yes" if o.customer.receive_phone else "No"),
        ("CustomerExternalId", lambda o: o.customer.external_id or None),
    )


def _header_fields(when: Callable[[datetime], str]) -> _Fields:
    return (
        ("OrderDate", lambda o: when(_utc(o.order_date))),
        ("Currency", lambda o: o.currency),
        ("Carrier", lambda o: o.carrier or None),
        ("CarrServ", lambda o: o.carrier_service or None),
        ("OrderPaid", lambda o: "Yes" if o.order_paid else "No"),
        ("OrderNetValue", lambda o: _money(o.totals.net)),
        ("OrderTaxValue", lambda o: _money(o.totals.tax)),
        ("OrderGrossValue", lambda o: _money(o.totals.gross)),
    )


def _line_fields(day: Callable[[date], str]) -> _Fields:
    return (
        ("OrderLine", lambda line: str(line.line_number)),
        ("Product", lambda line: line.sku.product),
        *((f"MtrxCode{i + 1}", _nth(lambda line: line.sku.matrix, i, 4)) for i in range(4)),
        ("Quantity", lambda line: str(line.quantity)),
        ("Price", lambda line: _money(line.price)),
        ("NetValue", lambda line: _money(line.net)),
        ("ExtTaxVal", lambda line: _money(line.tax)),
        ("GrossValue", lambda line: _money(line.gross)),
        ("Warehouse", lambda line: line.warehouse),
        ("TaxCode", lambda line: line.tax_code),
        ("TaxRate", lambda line: format_rate(line.tax_rate)),
        ("TrDisc", lambda line: _money(line.discount)),
        ("Promotion", lambda line: line.promotion or None),
        ("LineReference", lambda line: line.line_reference or None),
        ("LineNarrative", lambda line: line.narrative or None),
        ("Reserve", lambda line: "Yes" if line.reserve else "No"),
        ("DueDate", lambda line: day(due) if (due := line.due_date) else None),
    )


def _charge_fields() -> _Fields:
    return (
        ("Charge", lambda c: c.charge_code),
        ("ChargeValue", lambda c: _money(c.value)),
        ("NetValue", lambda c: _money(c.net)),
        ("ExtTaxVal", lambda c: _money(c.tax)),
        ("GrossValue", lambda c: _money(c.gross)),
        ("TaxCode", lambda c: c.tax_code),
        ("TaxRate", lambda c: format_rate(c.tax_rate)),
        ("ChargeReference", lambda c: c.reference or None),
    )


def _payment_fields(when: Callable[[datetime], str]) -> _Fields:
    return (
        ("PayMethod", lambda p: p.pay_method),
        ("SubPayMethod", lambda p: p.sub_pay_method or None),
        ("PayProvider", lambda p: p.provider or None),
        ("TranAmount", lambda p: _money(p.amount)),
        ("TransactionID", lambda p: p.transaction_id or None),
        ("PayAuthRef", lambda p: p.auth_reference or None),
        ("AuthDate", lambda p: when(_utc(at)) if (at := p.authorised_at) else None),
    )


def _tax_fields() -> _Fields:
    return (
        ("TaxCode", lambda t: t.tax_code),
        ("TaxRate", lambda t: format_rate(t.rate)),
        ("NetValue", lambda t: _money(t.net)),
        ("ExtTaxVal", lambda t: _money(t.tax)),
    )


def _invoice_fields() -> _Fields:
    """Of an ``(invoice name, address)`` pair."""
    return (
        ("InvoiceName", lambda pair: pair[0] or None),
        *_address(lambda pair: pair[1].lines),
        ("PostCode", lambda pair: pair[1].post_code or None),
        ("Country", lambda pair: pair[1].country or None),
    )


def _delivery_fields() -> _Fields:
    return (
        *_address(lambda address: address.lines),
        ("PostCode", lambda address: address.post_code or None),
        ("Country", lambda address: address.country or None),
    )


#: An element's plan: its start (``<Tag``) and each kept attribute's `` Name="`` and getter.
_Element = tuple[str, tuple[tuple[str, _Getter], ...]]


def _plain(name: object) -> bool:
    return isinstance(name, str) and "{" not in name


class OrderTextPlan:
    """How one schema's orders are written as text; made by :meth:`for_names`."""

    __slots__ = (
        "_charge",
        "_data",
        "_data_end",
        "_delivery",
        "_header",
        "_invoice",
        "_line",
        "_payment",
        "_tax",
        "_unique_id",
    )

    def __init__(self, elements: dict[str, _Element | None], unique_id: str, data_end: str) -> None:
        self._data = elements["Data"]
        self._header = elements["OrderHeaderData"]
        self._invoice = elements["OrderInvoiceData"]
        self._delivery = elements["OrderDeliveryData"]
        self._line = elements["OrderLineData"]
        self._charge = elements["OrderChargeData"]
        self._payment = elements["OrderPaymentData"]
        self._tax = elements["OrderTaxData"]
        self._unique_id = unique_id
        self._data_end = data_end

    @classmethod
    def for_names(cls, schema: OmlinkSchema, names: Names) -> OrderTextPlan | None:
        """The plan for ``schema`` written with ``names``; None when a name is not plain (a
        namespace brace, not a string) or two of an element's names are one on the wire."""
        day = date_formatter(schema.date_format, with_time=False)
        when = date_formatter(schema.datetime_format, with_time=True)
        unique_id: _Fields = (("UniqueId", lambda _: None),)
        layouts: dict[str, _Fields] = {
            "Data": unique_id + _data_fields(),
            "OrderHeaderData": _header_fields(when),
            "OrderInvoiceData": _invoice_fields(),
            "OrderDeliveryData": _delivery_fields(),
            "OrderLineData": _line_fields(day),
            "OrderChargeData": _charge_fields(),
            "OrderPaymentData": _payment_fields(when),
            "OrderTaxData": _tax_fields(),
        }
        renames = names.renames
        elements: dict[str, _Element | None] = {}
        for tag, fields in layouts.items():
            wire_tag = renames.get(tag, tag)
            wires = [renames.get(name, name) for name, _ in fields]
            if not _plain(wire_tag) or not all(_plain(w) for w in wires):
                return None
            if len(set(wires)) != len(wires):  # a dictionary would keep one of them
                return None
            if not schema.extended_orders and tag in UNCONFIRMED_ORDER_FIELDS:
                elements[tag] = None
                continue
            dropped = UNCONFIRMED_ORDER_FIELDS | _UNCONFIRMED_ON.get(tag, frozenset())
            elements[tag] = (
                f"<{wire_tag}",
                tuple(
                    (f' {wire}="', get)
                    for (name, get), wire in zip(fields, wires, strict=True)
                    if schema.extended_orders or name not in dropped
                ),
            )
        data = elements["Data"]
        assert data is not None  # Data and UniqueId are always sent
        data_start, (unique_id_field, *data_rest) = data
        elements["Data"] = (data_start, tuple(data_rest))
        return cls(elements, data_start + unique_id_field[0], f"</{renames.get('Data', 'Data')}>")

    def data_block(self, order: SalesOrder, unique_id: str) -> str | None:
        """The order's ``Data`` block; None when it is to be written the general way (a value
        to escape or refuse, configured extra attributes, more codes or lines than Prima has)."""
        if order.extra_attributes:
            return None
        parts = [self._unique_id, unique_id, '"']
        values = [unique_id]
        try:
            _write(parts, values, self._data, order, ">")
            _write(parts, values, self._header, order)
            if order.invoice_address is not None or order.invoice_name:
                invoice = (order.invoice_name, order.invoice_address or PostalAddress())
                _write(parts, values, self._invoice, invoice)
            if self._delivery is not None and order.delivery_address is not None:
                _write(parts, values, self._delivery, order.delivery_address)
            for line in order.lines:
                _write(parts, values, self._line, line)
            for charge in order.charges:
                _write(parts, values, self._charge, charge)
            for payment in order.payments:
                _write(parts, values, self._payment, payment)
            if self._tax is not None:
                for rate in order.totals.by_rate:
                    _write(parts, values, self._tax, rate)
        except _Unusual:
            return None
        if _SPECIAL.search("".join(values)) is not None:
            return None
        parts.append(self._data_end)
        return "".join(parts)


def _write(
    parts: list[str], values: list[str], element: _Element | None, subject: object, end: str = ""
) -> None:
    """One element's start tag: ``<Tag`` unless ``end`` says otherwise (the block's own start
    is begun already), its kept attributes but the None ones, and `` />`` (or ``end``)."""
    if element is None:
        return
    start, fields = element
    if not end:
        parts.append(start)
    for prefix, get in fields:
        value = get(subject)
        if value is not None:
            parts += (prefix, value, '"')
            values.append(value)
    parts.append(end or " />")
