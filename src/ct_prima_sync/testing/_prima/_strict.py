"""What a strict emulator accepts: the request types and attributes public sources confirm.

A real installation knows its own schema and nothing else; the emulator in strict mode refuses,
with an ERROR reply, every request type and attribute no public source shows, so a test proves
that the library's default configuration sends only what Prima is known to take. The customer's
contact fields (``Title``, ``Forename``, ``Surname``, ``CompanyName``, ``Email``, ``Telephone``,
``Mobile``, ``InvoiceName``) are described by the sources without their exact names; they are
accepted under the library's default names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ...errors import PayloadError
from ...prima._xml import OmlinkSchema
from ...prima._xml._tree import Names, local_name, parse_document

__all__ = ["CONFIRMED_ATTRIBUTES", "CONFIRMED_REQUEST_TYPES", "unconfirmed_parts"]

_ADDRESS: Final = (*(f"AddrLine{i}" for i in range(1, 7)), "PostCode", "Country")
_CONTACT: Final = ("Title", "Forename", "Surname", "CompanyName", "Email", "Telephone", "Mobile")
_MATRIX: Final = tuple(f"MtrxCode{i}" for i in range(1, 5))

#: Element name -> attributes confirmed on it, per request type (library default names).
CONFIRMED_ATTRIBUTES: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    "submit_orders": {
        "Data": frozenset(
            {
                "UniqueId", "OrderNumber", "TPGUID", "HoldOrder", "HoldOrderNarrative",
                "OrderChannel", "VatInclusive", "Customer", "CustomerRef", "DelivAddrNo",
                "InvcAddrNo", "OrderType", "PaymentTerms", "ReceiveMail", "ReceiveEmail",
                "ReceiveText", "ReceivePhone", "ReceiveMobile", *_CONTACT, *_ADDRESS,
            }
        ),
        "OrderHeaderData": frozenset(
            {
                "OrderDate", "Currency", "Carrier", "CarrServ", "B2B", "Brand", "Season",
                "OrderCategory", "SpecialInstructions", "ShippingInstructions", "OrderPaid",
                "SourceMedia",
            }
        ),
        "OrderInvoiceData": frozenset({"InvoiceName", "Email", "Telephone", *_ADDRESS}),
        "OrderLineData": frozenset(
            {
                "OrderLine", "Product", *_MATRIX, "Quantity", "Price", "Warehouse", "Reserve",
                "DueDate", "ExtTaxVal", "TrDisc", "Promotion", "PromotionValue",
                "LineReference", "LineNarrative",
            }
        ),
        "OrderChargeData": frozenset({"Charge", "ChargeValue"}),
        "OrderPaymentData": frozenset(
            {
                "PayMethod", "SubPayMethod", "PayProvider", "TranAmount", "TransactionID",
                "PayAuthRef", "AuthDate",
            }
        ),
    },
    "order_status": {"Data": frozenset({"OrderNumber"})},
    "ats_range": {"Data": frozenset({"ProductFrom", "ProductTo"})},
    "ats_skus": {"Data": frozenset(), "sku": frozenset({"Product", *_MATRIX})},
}  # fmt: skip

#: The request types public sources confirm (``RequestTypeNames`` field names).
CONFIRMED_REQUEST_TYPES: Final = frozenset(CONFIRMED_ATTRIBUTES)


def unconfirmed_parts(
    text: str, schema: OmlinkSchema, opted_in: frozenset[str] = frozenset()
) -> list[str]:
    """What in the request ``text`` no public source confirms: its request type if that is not
    one of the four documented ones (nor one of ``opted_in``, ``RequestTypeNames`` field names
    such as ``"despatch_details"`` that a configuration opted in to), else every element and
    attribute it should not carry (``"OrderLineData@NetValue"``, ``"OrderTaxData"``); empty when
    all is confirmed."""
    names = Names(schema.attribute_names)
    try:
        root = parse_document(text, PayloadError)
    except PayloadError:
        return []  # not readable at all: the codec's own refusal answers it
    attrs = {local_name(k): v for k, v in root.attrib.items()}
    request_type = next((v for k, v in attrs.items() if k == "requesttype"), "")
    kinds = {getattr(schema.request_types, kind).lower(): kind for kind in CONFIRMED_REQUEST_TYPES}
    kind = kinds.get(request_type.lower())
    opted = {getattr(schema.request_types, name).lower() for name in opted_in}
    if kind is None and request_type.lower() in opted:
        return []
    if kind is None:
        return [f"RequestType {request_type}"]
    allowed = {
        names.wire(tag).lower(): (tag, {names.wire(a).lower() for a in confirmed})
        for tag, confirmed in CONFIRMED_ATTRIBUTES[kind].items()
    }
    found: set[str] = set()
    for element in root.iter():
        if element is root:
            continue
        entry = allowed.get(local_name(element.tag))
        if entry is None:
            found.add(element.tag.rpartition("}")[2] if isinstance(element.tag, str) else "?")
            continue
        tag, confirmed = entry
        found.update(
            f"{tag}@{name.rpartition('}')[2]}"
            for name in element.attrib
            if local_name(name) not in confirmed
        )
    return sorted(found)
