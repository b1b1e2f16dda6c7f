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

Each element's writer is one straight-line function, made from its layout below (the library's
names and the expressions of their values: constants of this module) for the kept attributes
only, their wire spelling passed in as values, never as source text.

The text is :func:`~._orders.write_order`'s through :class:`~._text.TextSink`, byte for byte (the
tests hold the two to it, and both to ElementTree's). Whatever the plan does not write as it is
goes the general way instead: an order whose values hold anything to escape or to refuse, or
configured extra attributes (:meth:`OrderTextPlan.data_block` returns None for it); every order
of a schema whose names are not plain or not one to one on the wire (no plan:
:meth:`OrderTextPlan.for_names` returns None); and every order while the decimal context does
not hold amounts exactly (the codec asks :func:`~._tree.money_formatter` for each request).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Final

from .._models import PostalAddress, SalesOrder
from ._messages import UNCONFIRMED_ORDER_FIELDS, OmlinkSchema
from ._orders import _UNCONFIRMED_ON, _utc
from ._tree import _SPECIAL, Names, _format_minor_units, format_rate

__all__ = ["OrderTextPlan", "date_formatter"]

#: An attribute's library name and the expression of its value over ``s``, the element's
#: subject (None leaves the attribute out); with a count, a sequence of at most that many
#: items, named ``<name>1``, ``<name>2``, ...
_Field = tuple[str, str] | tuple[str, str, int]

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


#: Each element's attributes in :func:`~._orders.write_order`'s order (and ``customer_attrs``',
#: ``address_attrs``' and ``sku_attrs``'), with their values as it computes them.
_ADDRESS: Final[tuple[_Field, ...]] = (
    ("AddrLine", "{0}.lines", 6),
    ("PostCode", "{0}.post_code or None"),
    ("Country", "{0}.country or None"),
)
_LAYOUTS: Final[dict[str, tuple[_Field, ...]]] = {
    "Data": (
        ("UniqueId", "uid"),
        ("OrderNumber", "s.order_number"),
        ("TPGUID", "s.order_number"),
        ("ExternalId", "s.external_id or None"),
        ("HoldOrder", "'Yes' if s.hold else 'No'"),
        ("HoldOrderNarrative", "s.hold_narrative or None"),
        ("OrderChannel", "s.order_channel"),
        ("VatInclusive", "'Yes' if s.vat_inclusive else 'No'"),
        ("OrderType", "s.order_type or None"),
        ("CustomerRef", "s.customer_reference or None"),
        ("Customer", "s.customer.account_code"),
        ("Title", "s.customer.title or None"),
        ("Forename", "s.customer.forename or None"),
        ("Surname", "s.customer.surname or None"),
        ("CompanyName", "s.customer.company or None"),
        ("Email", "s.customer.email or None"),
        ("Telephone", "s.customer.phone or None"),
        ("Mobile", "s.customer.mobile or None"),
        *((f[0], f[1].format("s.customer.address"), *f[2:]) for f in _ADDRESS),
        ("ReceiveMail", "'Yes' if s.customer.receive_mail else 'No'"),
        ("ReceiveEmail", "'Yes' if s.customer.receive_email else 'No'"),
        ("ReceiveText", "'Yes' if s.customer.receive_text else 'No'"),
        ("ReceivePhone", "'Yes' if s.customer.receive_phone else 'No'"),
        ("CustomerExternalId", "s.customer.external_id or None"),
    ),
    "OrderHeaderData": (
        ("OrderDate", "when(utc(s.order_date))"),
        ("Currency", "s.currency"),
        ("Carrier", "s.carrier or None"),
        ("CarrServ", "s.carrier_service or None"),
        ("OrderPaid", "'Yes' if s.order_paid else 'No'"),
        ("OrderNetValue", "money(s.totals.net)"),
        ("OrderTaxValue", "money(s.totals.tax)"),
        ("OrderGrossValue", "money(s.totals.gross)"),
    ),
    "OrderInvoiceData": (  # of an (invoice name, address) pair
        ("InvoiceName", "s[0] or None"),
        *((f[0], f[1].format("s[1]"), *f[2:]) for f in _ADDRESS),
    ),
    "OrderDeliveryData": tuple((f[0], f[1].format("s"), *f[2:]) for f in _ADDRESS),
    "OrderLineData": (
        ("OrderLine", "str(s.line_number)"),
        ("Product", "s.sku.product"),
        ("MtrxCode", "s.sku.matrix", 4),
        ("Quantity", "str(s.quantity)"),
        ("Price", "money(s.price)"),
        ("NetValue", "money(s.net)"),
        ("ExtTaxVal", "money(s.tax)"),
        ("GrossValue", "money(s.gross)"),
        ("Warehouse", "s.warehouse"),
        ("TaxCode", "s.tax_code"),
        ("TaxRate", "rate(s.tax_rate)"),
        ("TrDisc", "money(s.discount)"),
        ("Promotion", "s.promotion or None"),
        ("LineReference", "s.line_reference or None"),
        ("LineNarrative", "s.narrative or None"),
        ("Reserve", "'Yes' if s.reserve else 'No'"),
        ("DueDate", "day(s.due_date) if s.due_date else None"),
    ),
    "OrderChargeData": (
        ("Charge", "s.charge_code"),
        ("ChargeValue", "money(s.value)"),
        ("NetValue", "money(s.net)"),
        ("ExtTaxVal", "money(s.tax)"),
        ("GrossValue", "money(s.gross)"),
        ("TaxCode", "s.tax_code"),
        ("TaxRate", "rate(s.tax_rate)"),
        ("ChargeReference", "s.reference or None"),
    ),
    "OrderPaymentData": (
        ("PayMethod", "s.pay_method"),
        ("SubPayMethod", "s.sub_pay_method or None"),
        ("PayProvider", "s.provider or None"),
        ("TranAmount", "money(s.amount)"),
        ("TransactionID", "s.transaction_id or None"),
        ("PayAuthRef", "s.auth_reference or None"),
        ("AuthDate", "when(utc(s.authorised_at)) if s.authorised_at else None"),
    ),
    "OrderTaxData": (
        ("TaxCode", "s.tax_code"),
        ("TaxRate", "rate(s.rate)"),
        ("NetValue", "money(s.net)"),
        ("ExtTaxVal", "money(s.tax)"),
    ),
}

#: Writes an element: ``write(subject, parts, values, unique_id)`` appends its text to
#: ``parts`` and each value written to ``values``.
_Writer = Callable[[object, list[str], list[str], str], None]


def _counted(field: _Field) -> tuple[str, str, int]:
    """A field with its count (0: not a sequence)."""
    return (field[0], field[1], field[2]) if len(field) == 3 else (field[0], field[1], 0)


def _sent(writer: _Writer | None) -> _Writer:
    """The writer of an element sent with or without ``extended_orders``."""
    if writer is None:
        raise ValueError("only OrderDeliveryData and OrderTaxData are left out by default")
    return writer


def _plain(name: object) -> bool:
    return isinstance(name, str) and "{" not in name


def _compile(
    tag: str,
    fields: list[tuple[str, str, int, int]],
    start: str,
    end: str,
    helpers: dict[str, object],
) -> _Writer:
    """The writer of one element: ``fields`` are each kept attribute's `` Name="``, the
    expression of its value and, for an item of a sequence, its place (-1: not one) and how many
    items the sequence may have (more: :class:`_Unusual`)."""
    env: dict[str, object] = {**helpers, "START": start, "END": end, "Unusual": _Unusual}
    code = ["def write(s, parts, values, uid):"]
    if start:
        code.append("    parts.append(START)")
    sequence = ""
    for number, (prefix, expression, place, most) in enumerate(fields):
        env[f"P{number}"] = prefix
        if place < 0:
            code.append(f"    v = {expression}")
        else:
            if expression != sequence:
                sequence = expression
                code.append(f"    items = {expression}")
                code.append(f"    if len(items) > {most:d}:")
                code.append("        raise Unusual")
            code.append(f"    v = items[{place}] if len(items) > {place} else None")
        code += [
            "    if v is not None:",
            f"        parts += (P{number}, v, '\"')",
            "        values.append(v)",
        ]
    code.append("    parts.append(END)")
    exec("\n".join(code), env)  # noqa: S102 (source made of this module's constants only)
    writer: _Writer = env["write"]  # type: ignore[assignment]
    writer.__qualname__ = f"{OrderTextPlan.__qualname__}.write[{tag}]"
    return writer


class OrderTextPlan:
    """How one schema's orders are written as text; made by :meth:`for_names`."""

    __slots__ = ("_charge", "_data", "_delivery", "_end", "_header", "_invoice", "_line",
                 "_payment", "_tax")  # fmt: skip

    def __init__(self, writers: dict[str, _Writer | None], end: str) -> None:
        self._data = _sent(writers["Data"])
        self._header = _sent(writers["OrderHeaderData"])
        self._invoice = _sent(writers["OrderInvoiceData"])
        self._delivery = writers["OrderDeliveryData"]
        self._line = _sent(writers["OrderLineData"])
        self._charge = _sent(writers["OrderChargeData"])
        self._payment = _sent(writers["OrderPaymentData"])
        self._tax = writers["OrderTaxData"]
        self._end = end

    @classmethod
    def for_names(cls, schema: OmlinkSchema, names: Names) -> OrderTextPlan | None:
        """The plan for ``schema`` written with ``names``; None when a name is not plain (a
        namespace brace, not a string) or two of an element's names are one on the wire."""
        helpers: dict[str, object] = {
            "money": _format_minor_units,
            "rate": format_rate,
            "utc": _utc,
            "day": date_formatter(schema.date_format, with_time=False),
            "when": date_formatter(schema.datetime_format, with_time=True),
        }
        renames = names.renames
        writers: dict[str, _Writer | None] = {}
        for tag, layout in _LAYOUTS.items():
            expanded = [
                (f"{name}{place + 1}", expression, place, most)
                if most
                else (name, expression, -1, 0)
                for name, expression, most in (_counted(field) for field in layout)
                for place in range(most or 1)
            ]
            wire_tag = renames.get(tag, tag)
            wires = [renames.get(name, name) for name, _, _, _ in expanded]
            if not _plain(wire_tag) or not all(_plain(wire) for wire in wires):
                return None
            if len(set(wires)) != len(wires):  # a dictionary would keep one of them
                return None
            if not schema.extended_orders and tag in UNCONFIRMED_ORDER_FIELDS:
                writers[tag] = None
                continue
            dropped = UNCONFIRMED_ORDER_FIELDS | _UNCONFIRMED_ON.get(tag, frozenset())
            kept = [
                (f' {wire}="', expression, place, most)
                for (name, expression, place, most), wire in zip(expanded, wires, strict=True)
                if schema.extended_orders or name not in dropped
            ]
            end = ">" if tag == "Data" else " />"  # Data's elements follow
            writers[tag] = _compile(tag, kept, f"<{wire_tag}", end, helpers)
        return cls(writers, f"</{renames.get('Data', 'Data')}>")

    def data_block(self, order: SalesOrder, unique_id: str) -> str | None:
        """The order's ``Data`` block; None when it is to be written the general way (a value
        to escape or refuse, configured extra attributes, more codes or lines than Prima has)."""
        if order.extra_attributes:
            return None
        parts: list[str] = []
        values: list[str] = []
        try:
            self._data(order, parts, values, unique_id)
            self._header(order, parts, values, unique_id)
            if order.invoice_address is not None or order.invoice_name:
                invoice = (order.invoice_name, order.invoice_address or PostalAddress())
                self._invoice(invoice, parts, values, unique_id)
            if self._delivery is not None and order.delivery_address is not None:
                self._delivery(order.delivery_address, parts, values, unique_id)
            for line in order.lines:
                self._line(line, parts, values, unique_id)
            for charge in order.charges:
                self._charge(charge, parts, values, unique_id)
            for payment in order.payments:
                self._payment(payment, parts, values, unique_id)
            if self._tax is not None:
                for rate in order.totals.by_rate:
                    self._tax(rate, parts, values, unique_id)
        except _Unusual:
            return None
        if _SPECIAL.search("".join(values)) is not None:
            return None
        parts.append(self._end)
        return "".join(parts)
