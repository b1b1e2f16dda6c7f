"""Reply strings in the shapes a real Prima installation gave (public logs of a production
client), the SOAP layer already unwrapped: ISO-8859-1 declaration, attributes in the order Prima
wrote them (alphabetical), ``(E:nnn)`` parts separated by newlines, each with its "DEV MODE Stack
Trace" tail. Only the order numbers, unique ids and SKUs are ours."""

from __future__ import annotations

from typing import Final

DECLARATION: Final = '<?xml version="1.0" encoding="ISO-8859-1"?>'
TRACE_21: Final = (
    " DEV MODE Stack Trace: CreateSalesOrderHeader omlink/om-neworder.p"
    " ProcessMultiNewOrder omlink/om-handler.p"
)
TRACE_194: Final = (
    " DEV MODE Stack Trace: ValidateOrderLines omlink/om-neworder.p"
    " ProcessMultiNewOrder omlink/om-handler.p"
)
TRACE_548: Final = (
    " DEV MODE Stack Trace: PriceBookCheck omlink/om-pricing.p"
    " ProcessMultiNewOrder omlink/om-handler.p"
)

ACCEPTED_WITH_CUSTOMER_CODE: Final = (
    DECLARATION + '<Result Company="1" RequestType="MultiNewOrder">'
    '<Data CustRef="" CustomerCode="0000367612" OrderNumber="WEB-100045" RequestStatus="OK"'
    ' TPGUID="WEB-100045" UniqueID="9c1d2e3f4a5b"/></Result>'
)

E21_DUPLICATE: Final = (
    DECLARATION + '<Result Company="1" RequestType="MultiNewOrder">'
    '<Data CustRef="" CustomerCode="" OrderNumber="WEB-100045" RequestStatus="ERROR"'
    ' TPGUID="WEB-100045" UniqueID="0a1b2c3d4e5f">'
    '<RequestError Error="(E:21) Sales Order Header already exists with Order Number equal to'
    f' WEB-100045{TRACE_21}"/></Data></Result>'
)

E194_AND_E548: Final = (
    DECLARATION + '<Result Company="1" RequestType="MultiNewOrder">'
    '<Data CustRef="" CustomerCode="" OrderNumber="WEB-100046" RequestStatus="ERROR"'
    ' TPGUID="WEB-100046" UniqueID="1a2b3c4d5e6f">'
    '<RequestError Error="(E:194) There were no Valid Order Lines found for Order Number'
    f" WEB-100046{TRACE_194}&#10;(E:194) NO VALID Sales Order Line Details for Matrix Levels"
    f"{TRACE_194}&#10;(E:548) Price obtained from the Price Book has a different VAT Incl Prices"
    f" Value to the Sales Order{TRACE_548}&#10;(E:194) NO VALID Sales Order Header Details for"
    f' Charges{TRACE_194}"/></Data></Result>'
)

SAX_TEXT: Final = (
    "The XML may be Invalid or may contain invalid characters. SAX parser error:"
    " SAX-PARSE-NEXT, Unexpected error. (14586)"
)
WHOLE_REQUEST_SAX_ERROR: Final = (
    DECLARATION + f'<Result Company="1" Error="{SAX_TEXT}" RequestStatus="ERROR"'
    f' RequestType="MultiNewOrder"><RequestError Error="{SAX_TEXT}"/></Result>'
)

MULTI_ATS_SKU_ROWS: Final = (
    DECLARATION + '<Result Company="1" RequestStatus="OK" RequestType="MultiAvailableToSell">'
    '<Data><SKU AvailableDate="" AvailableQuantity="1" MtrxCode1="F" MtrxCode2="050"'
    ' MtrxCode3="" MtrxCode4="" Product="ETOS"/>'
    '<SKU AvailableDate="14/03/2019" AvailableQuantity="0" MtrxCode1="F" MtrxCode2="060"'
    ' MtrxCode3="" MtrxCode4="" Product="ETOS"/></Data></Result>'
)


def catalogue_sku_rows(count: int) -> str:
    """The whole-catalogue ``ProductAvailableToSell`` reply with ``count`` ``sku`` rows."""
    rows = "".join(
        f'<sku AvailableDate="" AvailableQuantity="{n % 7}" MtrxCode1="C{n % 13:02d}"'
        f' MtrxCode2="{n % 5:03d}" MtrxCode3="" MtrxCode4="" Product="P{n // 65:05d}"/>'
        for n in range(count)
    )
    return (
        DECLARATION + '<Result Company="1" RequestStatus="OK"'
        f' RequestType="ProductAvailableToSell"><Data>{rows}</Data></Result>'
    )


ORDER_STATUS_PART_DESPATCHED: Final = (
    DECLARATION + '<Result Company="1" RequestStatus="OK" RequestType="OrderStatus">'
    '<Data OrderNumber="WEB-100045" OrderStatus="Part Despatched"/></Result>'
)

NO_PER_ORDER_RESULTS: Final = (
    DECLARATION + '<Result Company="1" RequestType="MultiNewOrder"></Result>'
)
