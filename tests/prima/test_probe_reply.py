"""The anatomy of a reply string as the probe reports it, for the real shapes and the older ones."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ct_prima_sync.errors import PrimaProtocolError
from ct_prima_sync.prima._probe import describe_reply, unknown_order_marker

# Reply strings as a real installation gave them (public logs of a production client, 2019).
REAL_SUBMIT_OK = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><Result Company="1" RequestType="MultiNewOrder">'
    '<Data CustRef="" CustomerCode="0000367612" OrderNumber="N" RequestStatus="OK" TPGUID="N" '
    'UniqueID="U"/></Result>'
)
REAL_SUBMIT_REFUSED = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><Result Company="1" RequestType="MultiNewOrder">'
    '<Data CustRef="" OrderNumber="N" RequestStatus="ERROR" TPGUID="N" UniqueID="U">'
    '<RequestError Error="(E:21) Sales Order Header already exists with Order Number equal to N'
    '&#10;DEV MODE Stack Trace: omlink.p line 12"/></Data></Result>'
)
REAL_WHOLE_REQUEST_REFUSED = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><Result Company="1" Error="The XML may be '
    "Invalid or may contain invalid characters. SAX parser error: SAX-PARSE-NEXT, Unexpected "
    'error. (14586)" RequestStatus="ERROR" RequestType="MultiNewOrder"><RequestError Error="The '
    'XML may be Invalid"/></Result>'
)
REAL_ATS = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><Result Company="1" RequestStatus="OK" '
    'RequestType="MultiAvailableToSell"><Data><SKU AvailableDate="" AvailableQuantity="1" '
    'MtrxCode1="F" MtrxCode2="050" MtrxCode3="" MtrxCode4="" Product="ETOS"/><SKU '
    'AvailableDate="01/12/2019" AvailableQuantity="0" MtrxCode1="F" MtrxCode2="060" MtrxCode3="" '
    'MtrxCode4="" Product="ETOS"/></Data></Result>'
)
LEGACY_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><Reply RequestType="OrderStatus" '
    'RequestStatus="ERROR" RequestError="Order not found"/>'
)


def test_a_per_order_outcome_is_found_on_the_data_block() -> None:
    shape = describe_reply(REAL_SUBMIT_OK)
    assert (shape.root, shape.company) == ("Result", "1")
    assert (shape.status, shape.status_at) == ("OK", "Result/Data@RequestStatus")
    assert shape.declared_encoding == "ISO-8859-1"
    assert shape.error == ""


def test_a_refused_order_shows_its_error_child_without_the_stack_trace() -> None:
    shape = describe_reply(REAL_SUBMIT_REFUSED)
    assert (shape.status, shape.status_at) == ("ERROR", "Result/Data@RequestStatus")
    assert shape.error_at == "Result/Data/RequestError@Error"
    assert shape.error == "(E:21) Sales Order Header already exists with Order Number equal to N"


def test_a_whole_request_refusal_has_its_status_and_text_on_the_root() -> None:
    shape = describe_reply(REAL_WHOLE_REQUEST_REFUSED)
    assert (shape.status, shape.status_at) == ("ERROR", "Result@RequestStatus")
    assert shape.error_at == "Result@Error"
    assert shape.error.startswith("The XML may be Invalid or may contain invalid characters")


def test_stock_rows_are_counted_with_their_element_name_and_attributes() -> None:
    shape = describe_reply(REAL_ATS)
    assert (shape.row_element, shape.rows, shape.data_blocks) == ("SKU", 2, 1)
    assert "AvailableQuantity" in shape.row_attributes
    assert "Warehouse" not in shape.row_attributes


def test_the_older_shape_is_described_as_well() -> None:
    shape = describe_reply(LEGACY_ERROR)
    assert (shape.root, shape.status_at, shape.error_at) == (
        "Reply",
        "Reply@RequestStatus",
        "Reply@RequestError",
    )
    assert (shape.error, shape.declared_encoding) == ("Order not found", "UTF-8")


def test_a_reply_that_is_not_xml_is_a_protocol_error() -> None:
    with pytest.raises(PrimaProtocolError):
        describe_reply("Order not found")


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("Order not found", "Order not found"),
        ("Order CTPSPROBE1 not found", "not found"),
        (
            "(E:3) No Sales Order Header with Order Number equal to CTPSPROBE1",
            "(E:3) No Sales Order Header with Order Number equal to",
        ),
        ("Unknown order (CTPSPROBE1)", "Unknown order"),
        ("CTPSPROBE1", ""),
        ("(E:9) Unknown order 'CTPSPROBE1'\nDEV MODE Stack Trace: x.p", "(E:9) Unknown order"),
    ],
)
def test_the_unknown_order_text_loses_the_number_asked_for(text: str, marker: str) -> None:
    assert unknown_order_marker(text, "CTPSPROBE1") == marker


_WORDS = st.text(alphabet=string.ascii_letters + " ():'=-", min_size=0, max_size=30)


@given(before=_WORDS, after=_WORDS, other=st.from_regex(r"[0-9A-Z]{1,12}", fullmatch=True))
@example(before="Order ", after=" not found", other="12345")
def test_the_marker_from_one_unknown_number_matches_the_text_for_any_other(
    before: str, after: str, other: str
) -> None:
    """Whatever Prima writes around the number, the marker found with the probe's impossible
    number is in the text Prima writes for any other unknown number, as the client checks it."""
    probe = "CTPSPROBE0A1B2C3D"
    marker = unknown_order_marker(f"{before}{probe}{after}", probe)
    if marker:
        assert marker.lower() in f"{before}{other}{after}".lower()
